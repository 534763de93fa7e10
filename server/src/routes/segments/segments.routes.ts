import { createRoute } from '@hono/zod-openapi';
import {
  IdParamSchema,
  OkSchema,
  SegmentCreateSchema,
  SegmentListSchema,
  SegmentPreviewQuerySchema,
  SegmentPreviewSchema,
  SegmentSchema,
  SegmentUpdateSchema,
} from '@rebound/shared';
import { requirePermission } from '../../lib/auth';
import { heavyOperation, heavyResponses } from '../../lib/heavy';
import { bearer, conflictResponse, errorResponses, jsonBody, jsonContent, notFoundResponse } from '../../lib/openapi';

const tags = ['Segments'];

export const listSegments = createRoute({
  method: 'get',
  path: '/segments',
  tags,
  summary: 'List segments',
  security: bearer,
  middleware: [requirePermission('segments:read')] as const,
  responses: { 200: jsonContent(SegmentListSchema, 'The segments.'), ...errorResponses },
});

export const createSegment = createRoute({
  method: 'post',
  path: '/segments',
  tags,
  summary: 'Create a segment',
  description: 'Names are unique in a workspace (ignoring case); a workspace holds at most 500 segments.',
  security: bearer,
  middleware: [requirePermission('segments:write')] as const,
  request: { body: jsonBody(SegmentCreateSchema) },
  responses: { 201: jsonContent(SegmentSchema, 'The new segment.'), ...errorResponses, ...conflictResponse },
});

export const getSegment = createRoute({
  method: 'get',
  path: '/segments/{id}',
  tags,
  summary: 'Get a segment',
  security: bearer,
  middleware: [requirePermission('segments:read')] as const,
  request: { params: IdParamSchema },
  responses: { 200: jsonContent(SegmentSchema, 'The segment.'), ...errorResponses, ...notFoundResponse },
});

export const updateSegment = createRoute({
  method: 'patch',
  path: '/segments/{id}',
  tags,
  summary: 'Rename a segment or change its filter',
  security: bearer,
  middleware: [requirePermission('segments:write')] as const,
  request: { params: IdParamSchema, body: jsonBody(SegmentUpdateSchema) },
  responses: {
    200: jsonContent(SegmentSchema, 'The segment.'),
    ...errorResponses,
    ...notFoundResponse,
    ...conflictResponse,
  },
});

export const deleteSegment = createRoute({
  method: 'delete',
  path: '/segments/{id}',
  tags,
  summary: 'Delete a segment',
  security: bearer,
  middleware: [requirePermission('segments:write')] as const,
  request: { params: IdParamSchema },
  responses: { 200: jsonContent(OkSchema, 'Deleted.'), ...errorResponses, ...notFoundResponse },
});

export const previewSegment = createRoute({
  method: 'get',
  path: '/segments/{id}/preview',
  tags,
  summary: 'How many contacts the segment holds now, and a sample',
  description:
    'A heavy operation: a token may run 4 at once and a workspace 8 (configurable); beyond that, 429 with Retry-After.',
  security: bearer,
  middleware: [requirePermission('segments:read'), heavyOperation] as const,
  request: { params: IdParamSchema, query: SegmentPreviewQuerySchema },
  responses: {
    200: jsonContent(SegmentPreviewSchema, 'Count and sample.'),
    ...errorResponses,
    ...notFoundResponse,
    ...heavyResponses,
  },
});
