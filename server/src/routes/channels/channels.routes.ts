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
import { bearer, conflictResponse, errorResponses, jsonBody, jsonContent, notFoundResponse } from '../../lib/openapi';

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
  description:
    'Limits default to the channel table for the type (WhatsApp: 1,000 unique recipients a day, 80 msg/s). ' +
    'A `baseUrl` that leads to a loopback, private, link-local, CGNAT or cloud metadata address is refused ' +
    '(422 `channel_base_url_internal`) unless the operator allowed its host in PROVIDER_URL_ALLOWLIST. ' +
    'A workspace keeps at most 200 channels (409 `channel_limit_reached`).',
  security: bearer,
  middleware: [requirePermission('channels:write')] as const,
  request: { body: jsonBody(ChannelCreateSchema) },
  responses: { 201: jsonContent(ChannelSchema, 'The new channel.'), ...errorResponses, ...conflictResponse },
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
  description:
    'Credentials merge key by key. Only the owner may change `baseUrl` (403 `channel_owner_only`): a new ' +
    'base URL forgets the stored credentials except those sent in the same request, and is checked like ' +
    'at creation (422 `channel_base_url_internal`).',
  security: bearer,
  middleware: [requirePermission('channels:write')] as const,
  request: { params: IdParamSchema, body: jsonBody(ChannelUpdateSchema) },
  responses: {
    200: jsonContent(ChannelSchema, 'The updated channel.'),
    ...errorResponses,
    ...notFoundResponse,
    // Another edit of the same channel landed first (`channel_changed`): read it again, then edit.
    ...conflictResponse,
  },
});

export const deleteChannel = createRoute({
  method: 'delete',
  path: '/channels/{id}',
  tags,
  summary: 'Disconnect a channel',
  description:
    'Refused (409 channel_in_use) while a broadcast on it is scheduled, sending or paused. Its delivery reports are still taken for 7 days.',
  security: bearer,
  middleware: [requirePermission('channels:write')] as const,
  request: { params: IdParamSchema },
  responses: {
    200: jsonContent(OkSchema, 'Disconnected.'),
    ...errorResponses,
    ...notFoundResponse,
    ...conflictResponse,
  },
});

export const resumeChannel = createRoute({
  method: 'post',
  path: '/channels/{id}/resume',
  tags,
  summary: "Resume the channel's number after a pause for its own sake",
  description:
    "A manager's answer to `hold` (the quality guard's channel window, or Meta's flag): new broadcasts and re-sends may start on the number again. Its broadcasts paused for it stay paused: each is resumed on its own (POST /broadcasts/{id}/resume, which lifts the hold too). Nothing held: the channel as it is.",
  security: bearer,
  middleware: [requirePermission('channels:write')] as const,
  request: { params: IdParamSchema },
  responses: {
    200: jsonContent(ChannelSchema, 'The channel, no longer held.'),
    ...errorResponses,
    ...notFoundResponse,
  },
});
