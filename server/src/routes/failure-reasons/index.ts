import { createRoute, z } from '@hono/zod-openapi';
import { describeFailure, FAILURE_REASONS } from '@rebound/shared';
import { createRouter } from '../../lib/create-app';
import { bearer, errorResponses, jsonContent } from '../../lib/openapi';

const FailureReasonSchema = z.object({
  code: z.enum(FAILURE_REASONS),
  title: z.string(),
  explanation: z.string(),
  action: z.string(),
  resend: z.enum(['now', 'later', 'never']).meta({ description: 'Whether re-sending the same message can help.' }),
});

const listReasons = createRoute({
  method: 'get',
  path: '/failure-reasons',
  tags: ['Failures'],
  summary: 'The failure catalog in the language of Accept-Language',
  security: bearer,
  responses: { 200: jsonContent(z.object({ data: z.array(FailureReasonSchema) }), 'Every reason.'), ...errorResponses },
});

export const failureReasonsRouter = createRouter().openapi(listReasons, (c) =>
  c.json({ data: FAILURE_REASONS.map((reason) => describeFailure(reason, c.get('language'))) }, 200),
);
