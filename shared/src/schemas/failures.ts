import { z } from 'zod';
import { FAILURE_REASONS } from '../failure-reasons';
import { IdSchema, TimestampSchema } from './common';

const broadcastIds = z
  .union([IdSchema, z.array(IdSchema).max(100)])
  .transform((value) => (Array.isArray(value) ? value : [value]))
  .meta({ description: 'One or several broadcasts (repeat the parameter).' });

/** Filters shared by the log, the summary and the CSV export. */
export const FailureFiltersSchema = z.object({
  broadcastId: broadcastIds.optional(),
  from: z.iso.datetime({ offset: true }).optional().meta({ description: 'Failures at or after this time.' }),
  to: z.iso.datetime({ offset: true }).optional().meta({ description: 'Failures before this time.' }),
  channelId: IdSchema.optional(),
  contactId: IdSchema.optional().meta({ description: "One contact's failed messages (a contact page)." }),
  reason: z.enum(FAILURE_REASONS).optional(),
  q: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .optional()
    .meta({ description: 'Contact name, identifier or provider message.' }),
});
export type FailureFilters = z.infer<typeof FailureFiltersSchema>;

export const FailedMessagesQuerySchema = FailureFiltersSchema.extend({
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

export const FailedMessageSchema = z.object({
  messageId: z.number().int(),
  failedAt: TimestampSchema.meta({ description: 'Date time of the failure (or of the exclusion).' }),
  sender: z.object({ id: z.number().int(), type: z.literal('broadcast'), name: z.string() }),
  contact: z.object({
    id: z.number().int().nullable(),
    name: z.string().nullable(),
    identifier: z.string().nullable(),
  }),
  contentType: z.enum(['text', 'template']),
  content: z.string(),
  channel: z.object({ id: z.number().int(), type: z.string(), name: z.string() }),
  type: z.literal('broadcast'),
  subtype: z.enum(['failed', 'excluded']).meta({ description: 'excluded: left out before sending.' }),
  providerCode: z.string().nullable(),
  providerMessage: z.string().nullable(),
  reason: z.object({
    code: z.enum(FAILURE_REASONS),
    title: z.string(),
    explanation: z.string(),
    action: z.string(),
    resend: z.enum(['now', 'later', 'never']),
  }),
  retryAfter: TimestampSchema.nullable().meta({
    description: 'When a re-send could succeed (quota frees, provider wait).',
  }),
});
export type FailedMessage = z.infer<typeof FailedMessageSchema>;

export const FailedMessagePageSchema = z.object({
  data: z.array(FailedMessageSchema),
  nextCursor: z.string().nullable(),
});

export const FailureSummarySchema = z.object({
  total: z.number().int(),
  byReason: z.record(z.string(), z.number().int()),
  byChannel: z.array(
    z.object({ channelId: z.number().int(), name: z.string(), type: z.string(), count: z.number().int() }),
  ),
  retryable: z.object({ now: z.number().int(), later: z.number().int(), never: z.number().int() }),
});
export type FailureSummary = z.infer<typeof FailureSummarySchema>;
