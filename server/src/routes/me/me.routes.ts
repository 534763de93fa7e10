import { createRoute } from '@hono/zod-openapi';
import {
  IdParamSchema,
  MeSchema,
  OkSchema,
  TokenCreatedSchema,
  TokenCreateSchema,
  TokenListSchema,
  WorkspaceSettingsSchema,
} from '@rebound/shared';
import { requirePermission } from '../../lib/auth';
import { bearer, errorResponses, jsonBody, jsonContent, notFoundResponse } from '../../lib/openapi';

export const getMe = createRoute({
  method: 'get',
  path: '/me',
  tags: ['Workspace'],
  summary: "The token's workspace and role",
  security: bearer,
  responses: { 200: jsonContent(MeSchema, 'Who this token is.'), ...errorResponses },
});

export const updateWorkspace = createRoute({
  method: 'patch',
  path: '/me/workspace',
  tags: ['Workspace'],
  summary: "Change the workspace's settings (managers and owners)",
  description: 'autoRecovery: the automatic re-sends new broadcasts get unless they say otherwise.',
  security: bearer,
  middleware: [requirePermission('broadcasts:write')] as const,
  request: { body: jsonBody(WorkspaceSettingsSchema) },
  responses: { 200: jsonContent(MeSchema, 'Who this token is, with the new settings.'), ...errorResponses },
});

export const listTokens = createRoute({
  method: 'get',
  path: '/tokens',
  tags: ['Workspace'],
  summary: 'List API tokens (owners only)',
  security: bearer,
  middleware: [requirePermission('tokens:manage')] as const,
  responses: { 200: jsonContent(TokenListSchema, 'Live tokens, without their secret.'), ...errorResponses },
});

export const createToken = createRoute({
  method: 'post',
  path: '/tokens',
  tags: ['Workspace'],
  summary: 'Create an API token (owners only)',
  description: 'The token is in this answer only; Rebound keeps a hash.',
  security: bearer,
  middleware: [requirePermission('tokens:manage')] as const,
  request: { body: jsonBody(TokenCreateSchema) },
  responses: { 201: jsonContent(TokenCreatedSchema, 'The token, shown once.'), ...errorResponses },
});

export const revokeToken = createRoute({
  method: 'delete',
  path: '/tokens/{id}',
  tags: ['Workspace'],
  summary: 'Revoke an API token (owners only)',
  security: bearer,
  middleware: [requirePermission('tokens:manage')] as const,
  request: { params: IdParamSchema },
  responses: { 200: jsonContent(OkSchema, 'Revoked.'), ...errorResponses, ...notFoundResponse },
});
