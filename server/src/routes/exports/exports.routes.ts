import { createRoute, z } from '@hono/zod-openapi';
import { ContactExportQuerySchema, FailedExportQuerySchema } from '@rebound/shared';
import { requirePermission } from '../../lib/auth';
import { heavyDownload, heavyResponses } from '../../lib/heavy';
import { bearer, errorResponses } from '../../lib/openapi';

const tags = ['Exports'];

const csvContent = (description: string) => ({
  content: { 'text/csv': { schema: z.string().meta({ format: 'binary' }) } },
  description,
});

export const exportFailedMessages = createRoute({
  method: 'get',
  path: '/exports/failed-messages.csv',
  tags,
  summary: 'The failed-message log as a CSV file, newest first',
  description:
    'The reference columns in their order (Date Time, Sender ID, Sender Type, Contact ID, Message ID, Content Type, ' +
    'Content, Channel ID, Type, Subtype, Error), then Reason Code, Reason, Resend, Provider Code, Broadcast, ' +
    'Contact Name, Identifier and Resend After (when a re-send may go; for unconfirmed messages, once their wait ' +
    'for a delivery report is over). Headers and every word Rebound writes in Spanish with `Accept-Language: es` ' +
    "(Subtype: fallido, excluido, sin confirmar); Error is the provider's own words when it gave some, else the " +
    'reason; Provider Code is empty when Rebound decided the failure. The same filters as the log (`from`/`to` may ' +
    "be days: whole days in the workspace's time zone); `bom=true` for Excel. Cells that a spreadsheet would run " +
    'as a formula start with a single quote. Streamed. A download: 2 at once per token, 4 per workspace, counted apart from searches; one whose reader reads nothing for 60 s is ended.',
  security: bearer,
  middleware: [requirePermission('failures:read'), heavyDownload] as const,
  request: { query: FailedExportQuerySchema },
  responses: { 200: csvContent('The CSV file (UTF-8).'), ...errorResponses, ...heavyResponses },
});

export const exportContacts = createRoute({
  method: 'get',
  path: '/exports/contacts.csv',
  tags,
  summary: 'Contacts as a CSV file, in id order',
  description:
    'Contact ID, First Name, Last Name, Phone, Email, Language, Tags (joined with ", "), then one column per custom ' +
    'field key. Headers in Spanish with `Accept-Language: es` (custom field keys stay as they are). Filter by `tag`; ' +
    '`bom=true` for Excel. Cells that a spreadsheet would run as a formula start with a single quote. Streamed. ' +
    'At most as many custom field columns as a workspace may have keys (200 by default). A download: 2 at once per ' +
    'token, 4 per workspace, counted apart from searches; one whose reader reads nothing for 60 s is ended.',
  security: bearer,
  middleware: [requirePermission('contacts:read'), heavyDownload] as const,
  request: { query: ContactExportQuerySchema },
  responses: { 200: csvContent('The CSV file (UTF-8).'), ...errorResponses, ...heavyResponses },
});
