import { createRoute } from '@hono/zod-openapi';
import {
  IdParamSchema,
  OkSchema,
  PortfolioCreateSchema,
  PortfolioListSchema,
  PortfolioSchema,
  PortfolioUpdateSchema,
} from '@rebound/shared';
import { requirePermission } from '../../lib/auth';
import { bearer, conflictResponse, errorResponses, jsonBody, jsonContent, notFoundResponse } from '../../lib/openapi';

const tags = ['Channels'];
const shared =
  "Since October 2025 Meta sets WhatsApp's messaging limit on the business portfolio, shared by all its " +
  'numbers (tiers 250, 2,000, 10,000, 100,000, unlimited). A number in a portfolio spends the portfolio’s ' +
  'rolling 24 h limit instead of its own: the engine, the pre-flight and the broadcast detail read it.';

export const listPortfolios = createRoute({
  method: 'get',
  path: '/portfolios',
  tags,
  summary: 'List WhatsApp business portfolios with their shared limit and its use',
  description: shared,
  security: bearer,
  middleware: [requirePermission('channels:read')] as const,
  responses: { 200: jsonContent(PortfolioListSchema, 'The portfolios.'), ...errorResponses },
});

export const createPortfolio = createRoute({
  method: 'post',
  path: '/portfolios',
  tags,
  summary: 'Create a business portfolio (default tier 250) and put numbers in it',
  description: `${shared} Only WhatsApp channels may join (422 \`portfolio_channel_not_whatsapp\`).`,
  security: bearer,
  middleware: [requirePermission('channels:write')] as const,
  request: { body: jsonBody(PortfolioCreateSchema) },
  // 404: a channel it names is not one of this workspace's.
  responses: {
    201: jsonContent(PortfolioSchema, 'The new portfolio.'),
    ...errorResponses,
    ...notFoundResponse,
    // A workspace keeps at most 200 (`portfolio_limit_reached`).
    ...conflictResponse,
  },
});

export const getPortfolio = createRoute({
  method: 'get',
  path: '/portfolios/{id}',
  tags,
  summary: 'Get a portfolio',
  security: bearer,
  middleware: [requirePermission('channels:read')] as const,
  request: { params: IdParamSchema },
  responses: { 200: jsonContent(PortfolioSchema, 'The portfolio.'), ...errorResponses, ...notFoundResponse },
});

export const updatePortfolio = createRoute({
  method: 'patch',
  path: '/portfolios/{id}',
  tags,
  summary: 'Change a portfolio: name, tier or limit, its numbers',
  description: '`channelIds` replaces the list; a number leaves any other portfolio it was in.',
  security: bearer,
  middleware: [requirePermission('channels:write')] as const,
  request: { params: IdParamSchema, body: jsonBody(PortfolioUpdateSchema) },
  responses: { 200: jsonContent(PortfolioSchema, 'The portfolio.'), ...errorResponses, ...notFoundResponse },
});

export const deletePortfolio = createRoute({
  method: 'delete',
  path: '/portfolios/{id}',
  tags,
  summary: 'Delete a portfolio: its numbers go back to their own limits',
  security: bearer,
  middleware: [requirePermission('channels:write')] as const,
  request: { params: IdParamSchema },
  responses: { 200: jsonContent(OkSchema, 'Deleted.'), ...errorResponses, ...notFoundResponse },
});
