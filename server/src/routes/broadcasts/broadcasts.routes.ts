import { createRoute } from '@hono/zod-openapi';
import {
  AttentionListSchema,
  AttentionQuerySchema,
  BroadcastCreateSchema,
  BroadcastListQuerySchema,
  BroadcastPageSchema,
  BroadcastSchema,
  BroadcastUpdateSchema,
  IdParamSchema,
  PreflightSchema,
  ResendBodySchema,
  ResendCancelBodySchema,
  ResendCancelResultSchema,
  ResendResultSchema,
  ScheduleBodySchema,
} from '@rebound/shared';
import { requirePermission } from '../../lib/auth';
import { heavyOperation, heavyResponses } from '../../lib/heavy';
import { bearer, conflictResponse, errorResponses, jsonBody, jsonContent, notFoundResponse } from '../../lib/openapi';

const tags = ['Broadcasts'];

export const listBroadcasts = createRoute({
  method: 'get',
  path: '/broadcasts',
  tags,
  summary: 'List broadcasts, newest first, with counts by recipient state',
  security: bearer,
  middleware: [requirePermission('broadcasts:read')] as const,
  request: { query: BroadcastListQuerySchema },
  responses: { 200: jsonContent(BroadcastPageSchema, 'A page of broadcasts.'), ...errorResponses },
});

export const attention = createRoute({
  method: 'get',
  path: '/broadcasts/attention',
  tags,
  summary: 'Broadcasts that need an agent: failed, partly failed or paused, and not re-sent yet',
  description:
    'Newest first, with their failed and unconfirmed counts and failures by reason. A failed, partly failed or paused broadcast leaves the list as soon as a re-send of it exists (one cancelled before it began does not count). A finished broadcast with unconfirmed recipients (no answer, or a final "unknown" report) that no re-send took is on the list once their wait for a delivery report is over: UNCONFIRMED_AFTER_HOURS after it finished, or after the latest of them became unconfirmed when that came later (its `unconfirmedWaitEndsAt`). A finished broadcast a delivery report brought a failure its one-click re-send takes after it was re-sent (its `lateFailedAt`) is back on the list until the next re-send of it is written. What the extension’s badge shows. Open to agents.',
  security: bearer,
  middleware: [requirePermission('broadcasts:read')] as const,
  request: { query: AttentionQuerySchema },
  responses: { 200: jsonContent(AttentionListSchema, 'What needs attention.'), ...errorResponses },
});

export const createBroadcast = createRoute({
  method: 'post',
  path: '/broadcasts',
  tags,
  summary: 'Create a broadcast (draft)',
  description: 'Channels that cannot broadcast (Instagram, website chat, WeChat, e-mail) are refused here.',
  security: bearer,
  middleware: [requirePermission('broadcasts:write')] as const,
  request: { body: jsonBody(BroadcastCreateSchema) },
  responses: { 201: jsonContent(BroadcastSchema, 'The draft.'), ...errorResponses, ...notFoundResponse },
});

export const getBroadcast = createRoute({
  method: 'get',
  path: '/broadcasts/{id}',
  tags,
  summary: 'A broadcast with its status, error, target against completed and counts',
  security: bearer,
  middleware: [requirePermission('broadcasts:read')] as const,
  request: { params: IdParamSchema },
  responses: { 200: jsonContent(BroadcastSchema, 'The broadcast.'), ...errorResponses, ...notFoundResponse },
});

export const updateBroadcast = createRoute({
  method: 'patch',
  path: '/broadcasts/{id}',
  tags,
  summary: 'Change a draft or scheduled broadcast',
  security: bearer,
  middleware: [requirePermission('broadcasts:write')] as const,
  request: { params: IdParamSchema, body: jsonBody(BroadcastUpdateSchema) },
  responses: {
    200: jsonContent(BroadcastSchema, 'The broadcast.'),
    ...errorResponses,
    ...notFoundResponse,
    ...conflictResponse,
  },
});

export const scheduleBroadcast = createRoute({
  method: 'post',
  path: '/broadcasts/{id}/schedule',
  tags,
  summary: 'Schedule a broadcast now or at a time',
  description: 'Records the segment size as the target; the audience itself is resolved when it starts.',
  security: bearer,
  middleware: [requirePermission('broadcasts:write')] as const,
  request: {
    params: IdParamSchema,
    body: { content: { 'application/json': { schema: ScheduleBodySchema } }, required: false },
  },
  responses: {
    200: jsonContent(BroadcastSchema, 'Scheduled.'),
    ...errorResponses,
    ...notFoundResponse,
    ...conflictResponse,
  },
});

export const cancelBroadcast = createRoute({
  method: 'post',
  path: '/broadcasts/{id}/cancel',
  tags,
  summary: 'Cancel a broadcast; recipients not yet sent are cancelled',
  security: bearer,
  middleware: [requirePermission('broadcasts:write')] as const,
  request: { params: IdParamSchema },
  responses: {
    200: jsonContent(BroadcastSchema, 'Cancelled.'),
    ...errorResponses,
    ...notFoundResponse,
    ...conflictResponse,
  },
});

export const resumeBroadcast = createRoute({
  method: 'post',
  path: '/broadcasts/{id}/resume',
  tags,
  summary: 'Resume a paused broadcast',
  description:
    'A broadcast the quality guard or Meta paused goes on from the recipients still queued (nobody is sent twice), or goes back to scheduled if it had not started. Managers and owners.',
  security: bearer,
  middleware: [requirePermission('broadcasts:write')] as const,
  request: { params: IdParamSchema },
  responses: {
    200: jsonContent(BroadcastSchema, 'Resumed.'),
    ...errorResponses,
    ...notFoundResponse,
    ...conflictResponse,
  },
});

export const preflight = createRoute({
  method: 'get',
  path: '/broadcasts/{id}/preflight',
  tags,
  summary: 'What would happen if it went out now',
  description:
    'Recipients that will be sent, left out and why, whether the 24 h quota fits and when the rest would, rate warnings. Before it starts: a broadcast sending or paused answers 409 preflight_started. A heavy operation (it reads the whole audience): a token may run 4 at once and a workspace 8 (configurable); beyond that, 429 with Retry-After.',
  security: bearer,
  middleware: [requirePermission('broadcasts:read'), heavyOperation] as const,
  request: { params: IdParamSchema },
  responses: {
    200: jsonContent(PreflightSchema, 'The pre-flight.'),
    ...errorResponses,
    ...notFoundResponse,
    ...conflictResponse,
    ...heavyResponses,
  },
});

export const cancelResend = createRoute({
  method: 'post',
  path: '/broadcasts/{id}/resend/cancel',
  tags,
  summary: "Cancel this broadcast's scheduled re-send",
  description:
    "Cancels the re-sends of this broadcast named in `resendIds` (the parts of the plan a re-send's answer listed) that have not started yet, or, without a body, every one that has not started; their failed recipients can then be re-sent at another time. A part already sending is left as it is (409 when nothing was cancelled). Open to agents, who make re-sends; other broadcasts need a manager (POST /broadcasts/{id}/cancel).",
  security: bearer,
  middleware: [requirePermission('failures:resend')] as const,
  request: {
    params: IdParamSchema,
    body: { content: { 'application/json': { schema: ResendCancelBodySchema } }, required: false },
  },
  responses: {
    200: jsonContent(ResendCancelResultSchema, 'The re-sends cancelled.'),
    ...errorResponses,
    ...notFoundResponse,
    ...conflictResponse,
  },
});

export const resend = createRoute({
  method: 'post',
  path: '/broadcasts/{id}/resend',
  tags,
  summary: 'Tag the failed recipients and re-send to them',
  description:
    'Tags the contacts whose messages failed (by default only reasons a re-send can help), creates or reuses the segment "contact tag has any of <tag>", creates the re-send linked to this broadcast and schedules it: now, at a time, or when the channel\'s rolling quota has room. Calling it again changes nothing. Open to agents; other content (`content`) needs a manager, as writing a broadcast does. A preview (`dryRun`) is a heavy operation (it reads every failure of the broadcast, on a heavy thread): a token may run 4 at once and a workspace 8 (configurable); beyond that, 429 with Retry-After. The re-send itself is never refused for that.',
  security: bearer,
  middleware: [requirePermission('failures:resend')] as const,
  request: {
    params: IdParamSchema,
    body: { content: { 'application/json': { schema: ResendBodySchema } }, required: false },
  },
  responses: {
    200: jsonContent(ResendResultSchema, 'What was done.'),
    ...errorResponses,
    ...notFoundResponse,
    ...conflictResponse,
    ...heavyResponses,
  },
});
