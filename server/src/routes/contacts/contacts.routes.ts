import { createRoute } from '@hono/zod-openapi';
import {
  ContactCreateSchema,
  ContactDetailSchema,
  ContactPageSchema,
  ContactRefParamSchema,
  ContactSchema,
  ContactSearchQuerySchema,
  ContactUpdateSchema,
  DuplicatesSchema,
  MergeBodySchema,
  OptOutRemoveBodySchema,
  OptOutRemoveParamSchema,
  TagsBodySchema,
} from '@rebound/shared';
import { requirePermission } from '../../lib/auth';
import { heavyOperation, heavyResponses } from '../../lib/heavy';
import { bearer, conflictResponse, errorResponses, jsonBody, jsonContent, notFoundResponse } from '../../lib/openapi';

const tags = ['Contacts'];

export const listContacts = createRoute({
  method: 'get',
  path: '/contacts',
  tags,
  summary: 'List and search contacts, newest first',
  description:
    'A heavy operation: a token may run 4 at once and a workspace 8 (configurable); beyond that, 429 with Retry-After.',
  security: bearer,
  middleware: [requirePermission('contacts:read'), heavyOperation] as const,
  request: { query: ContactSearchQuerySchema },
  responses: { 200: jsonContent(ContactPageSchema, 'A page of contacts.'), ...errorResponses, ...heavyResponses },
});

export const createContact = createRoute({
  method: 'post',
  path: '/contacts',
  tags,
  summary: 'Create a contact',
  security: bearer,
  middleware: [requirePermission('contacts:write')] as const,
  request: { body: jsonBody(ContactCreateSchema) },
  responses: {
    201: jsonContent(ContactSchema, 'The new contact.'),
    ...errorResponses,
    ...notFoundResponse,
    ...conflictResponse,
  },
});

export const findDuplicates = createRoute({
  method: 'get',
  path: '/contacts/duplicates',
  tags,
  summary: 'Contacts that share a normalized phone or e-mail',
  description:
    'A heavy operation (it reads every contact of the workspace): a token may run 4 at once and a workspace 8 (configurable); beyond that, 429 with Retry-After.',
  security: bearer,
  middleware: [requirePermission('contacts:read'), heavyOperation] as const,
  responses: { 200: jsonContent(DuplicatesSchema, 'Groups of duplicates.'), ...errorResponses, ...heavyResponses },
});

export const mergeContacts = createRoute({
  method: 'post',
  path: '/contacts/merge',
  tags,
  summary: 'Merge one contact into another',
  description:
    'Tags, channel identifiers, custom fields and missing details move to `keep`; `merge` is removed. While a re-send of the workspace is being written (seconds), the merge waits for it; 409 `contact_merge_resend_planning` after 15 s.',
  security: bearer,
  middleware: [requirePermission('contacts:merge')] as const,
  request: { body: jsonBody(MergeBodySchema) },
  responses: {
    200: jsonContent(ContactSchema, 'The kept contact after the merge.'),
    ...errorResponses,
    ...notFoundResponse,
    ...conflictResponse,
  },
});

export const getContact = createRoute({
  method: 'get',
  path: '/contacts/{ref}',
  tags,
  summary: 'Get a contact by ID, phone:<number> or email:<address>',
  description: 'With `optOuts`: the channels on which the contact opted out (when, and what said so).',
  security: bearer,
  middleware: [requirePermission('contacts:read')] as const,
  request: { params: ContactRefParamSchema },
  responses: {
    200: jsonContent(ContactDetailSchema, 'The contact and its opt-outs.'),
    ...errorResponses,
    ...notFoundResponse,
  },
});

export const updateContact = createRoute({
  method: 'patch',
  path: '/contacts/{ref}',
  tags,
  summary: 'Update a contact',
  description: 'Only the fields sent change; null clears a field.',
  security: bearer,
  middleware: [requirePermission('contacts:write')] as const,
  request: { params: ContactRefParamSchema, body: jsonBody(ContactUpdateSchema) },
  responses: {
    200: jsonContent(ContactSchema, 'The updated contact.'),
    ...errorResponses,
    ...notFoundResponse,
    ...conflictResponse,
  },
});

export const addTags = createRoute({
  method: 'post',
  path: '/contacts/{ref}/tags',
  tags,
  summary: 'Add tags to a contact',
  description: 'Tags that do not exist yet are created. Adding a tag the contact has changes nothing.',
  security: bearer,
  middleware: [requirePermission('contacts:tag')] as const,
  request: { params: ContactRefParamSchema, body: jsonBody(TagsBodySchema) },
  responses: { 200: jsonContent(ContactSchema, 'The contact with its tags.'), ...errorResponses, ...notFoundResponse },
});

export const removeTags = createRoute({
  method: 'delete',
  path: '/contacts/{ref}/tags',
  tags,
  summary: 'Remove tags from a contact',
  security: bearer,
  middleware: [requirePermission('contacts:tag')] as const,
  request: { params: ContactRefParamSchema, body: jsonBody(TagsBodySchema) },
  responses: { 200: jsonContent(ContactSchema, 'The contact with its tags.'), ...errorResponses, ...notFoundResponse },
});

export const removeOptOut = createRoute({
  method: 'delete',
  path: '/contacts/{ref}/opt-outs/{channelId}',
  tags,
  summary: "Remove a contact's opt-out on a channel (managers, with a note)",
  description:
    'For when the contact agreed to get messages again. The note is required and kept, with who removed the ' +
    'opt-out and what it was, in a `contact.opt_out_removed` event. 404 when the contact has no opt-out there.',
  security: bearer,
  // Managers, like merging: it changes who may be messaged, not only the contact's data.
  middleware: [requirePermission('contacts:merge')] as const,
  request: { params: OptOutRemoveParamSchema, body: jsonBody(OptOutRemoveBodySchema) },
  responses: {
    200: jsonContent(ContactDetailSchema, 'The contact and its remaining opt-outs.'),
    ...errorResponses,
    ...notFoundResponse,
  },
});
