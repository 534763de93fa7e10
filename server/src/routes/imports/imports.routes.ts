import { createRoute, z } from '@hono/zod-openapi';
import {
  ErrorBodySchema,
  IMPORT_LIMITS,
  ImportFormSchema,
  ImportIdParamSchema,
  ImportRejectedCsvQuerySchema,
  ImportSchema,
} from '@rebound/shared';
import { bodyLimit } from 'hono/body-limit';
import { fileTooLarge } from '../../csv/import-parse';
import { requirePermission } from '../../lib/auth';
import { heavyOperation } from '../../lib/heavy';
import { bearer, busyResponse, errorResponses, jsonContent, notFoundResponse } from '../../lib/openapi';

const tags = ['Imports'];

/** Room for the other form fields and the multipart boundaries around a file at the limit. */
export const IMPORT_BODY_LIMIT_BYTES = IMPORT_LIMITS.maxBytes + 1024 * 1024;

/**
 * The upload's own limit: 20 MB of CSV, refused with import_file_too_large before the body is read.
 * (The app-wide JSON body limit must let this path through; see create-app.ts.)
 */
export const importBodyLimit = bodyLimit({
  maxSize: IMPORT_BODY_LIMIT_BYTES,
  onError: () => {
    throw fileTooLarge();
  },
});

export const importContacts = createRoute({
  method: 'post',
  path: '/imports/contacts',
  tags,
  summary: 'Import contacts from a CSV file',
  description:
    'multipart/form-data with `file` (CSV: UTF-8 with or without BOM, or Windows-1252; comma, semicolon or tab; ' +
    'under 20 MB; 1 to 200,000 rows). Columns are recognised in English or Spanish (Contact ID / ID de contacto, ' +
    'First Name / Nombre, Phone / Teléfono, Email / Correo electrónico, Language / Idioma); other columns become ' +
    "custom fields, except the failed-messages export's own columns, which are ignored, so that export imports as " +
    'it is. The manual recovery path: `mode=update`, `identifier=contactId`, `tags=failed broadcast 110122`. ' +
    'All or nothing by default: one rejected row and nothing is written (status failed, rejected rows listed). ' +
    'One import runs at a time per workspace. When none is running, this one runs to the end before the ' +
    'answer (201; GET /imports/{id} shows its progress meanwhile). Otherwise the answer is 202 with the import ' +
    '`queued` and its `queuePosition`: it runs when its turn comes, and GET /imports/{id} follows it. ' +
    'At most 10 wait per workspace: past that, 429 `too_many_queued_imports` with Retry-After, before the upload is stored (or right after, its file removed and nothing recorded, when uploads sent together filled the queue meanwhile).',
  security: bearer,
  middleware: [requirePermission('contacts:write'), heavyOperation, importBodyLimit] as const,
  request: {
    body: { content: { 'multipart/form-data': { schema: ImportFormSchema } }, required: true },
  },
  responses: {
    201: jsonContent(
      ImportSchema,
      'The import, finished: completed, or failed with nothing written (see rejectedRows and error).',
    ),
    202: jsonContent(
      ImportSchema,
      "The import, queued behind the workspace's running import: follow it with GET /imports/{id}.",
    ),
    413: jsonContent(ErrorBodySchema, 'The file is over 20 MB.'),
    ...errorResponses,
    // Too many heavy operations at once, or the workspace's queue of imports is full.
    ...busyResponse,
  },
});

export const getImport = createRoute({
  method: 'get',
  path: '/imports/{id}',
  tags,
  summary: 'An import: status, progress and result',
  security: bearer,
  middleware: [requirePermission('contacts:read')] as const,
  request: { params: ImportIdParamSchema },
  responses: { 200: jsonContent(ImportSchema, 'The import.'), ...errorResponses, ...notFoundResponse },
});

export const getRejectedCsv = createRoute({
  method: 'get',
  path: '/imports/{id}/rejected.csv',
  tags,
  summary: "An import's rejected rows with their reasons, as CSV",
  description:
    "Columns Row, Identifier, Reason Code, Reason (in Spanish with Accept-Language: es). The first 1,000 rejected rows, by row; the import's `rejected` is the exact count. A cell echoed is cut at 100 characters.",
  security: bearer,
  middleware: [requirePermission('contacts:read')] as const,
  request: { params: ImportIdParamSchema, query: ImportRejectedCsvQuerySchema },
  responses: {
    200: { content: { 'text/csv': { schema: z.string() } }, description: 'The rejected rows.' },
    ...errorResponses,
    ...notFoundResponse,
  },
});
