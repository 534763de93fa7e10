import { createRoute } from '@hono/zod-openapi';
import {
  ChannelCreateSchema,
  ChannelListSchema,
  ChannelSchema,
  ChannelUpdateSchema,
  IdParamSchema,
  OkSchema,
} from '@rebound/shared';
import { requirePermission } from '../../lib/auth';
import { bearer, errorResponses, jsonBody, jsonContent, notFoundResponse } from '../../lib/openapi';

const tags = ['Channels'];

export const listChannels = createRoute({
  method: 'get',
  path: '/channels',
  tags,
  summary: 'List channels with their limits',
  security: bearer,
  middleware: [requirePermission('channels:read')] as const,
  responses: { 200: jsonContent(ChannelListSchema, 'The channels.'), ...errorResponses },
});

export const createChannel = createRoute({
  method: 'post',
  path: '/channels',
  tags,
  summary: 'Connect a channel',
  description: 'Limits default to the channel table for the type (WhatsApp: 1,000 unique recipients a day, 80 msg/s).',
  security: bearer,
  middleware: [requirePermission('channels:write')] as const,
  request: { body: jsonBody(ChannelCreateSchema) },
  responses: { 201: jsonContent(ChannelSchema, 'The new channel.'), ...errorResponses },
});

export const getChannel = createRoute({
  method: 'get',
  path: '/channels/{id}',
  tags,
  summary: 'Get a channel',
  security: bearer,
  middleware: [requirePermission('channels:read')] as const,
  request: { params: IdParamSchema },
  responses: { 200: jsonContent(ChannelSchema, 'The channel.'), ...errorResponses, ...notFoundResponse },
});

export const updateChannel = createRoute({
  method: 'patch',
  path: '/channels/{id}',
  tags,
  summary: 'Change a channel: name, limits, credentials, base URL',
  security: bearer,
  middleware: [requirePermission('channels:write')] as const,
  request: { params: IdParamSchema, body: jsonBody(ChannelUpdateSchema) },
  responses: { 200: jsonContent(ChannelSchema, 'The updated channel.'), ...errorResponses, ...notFoundResponse },
});

export const deleteChannel = createRoute({
  method: 'delete',
  path: '/channels/{id}',
  tags,
  summary: 'Disconnect a channel',
  security: bearer,
  middleware: [requirePermission('channels:write')] as const,
  request: { params: IdParamSchema },
  responses: { 200: jsonContent(OkSchema, 'Disconnected.'), ...errorResponses, ...notFoundResponse },
});
