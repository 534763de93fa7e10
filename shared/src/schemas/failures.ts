import { z } from 'zod';
import { FAILURE_REASONS } from '../failure-reasons';
import { cleanText, IdTextSchema, queryInt, TimestampSchema } from './common';
import { schemaMessages } from './messages';

/**
 * The kinds of row in the log: failed at the provider (or by Rebound before sending), left out before
 * sending, or unconfirmed (the request may have reached the provider and nothing says whether it arrived).
 */
export const FAILURE_SUBTYPES = ['failed', 'excluded', 'unconfirmed'] as const;
export type FailureSubtype = (typeof FAILURE_SUBTYPES)[number];

/** A calendar day (the whole day in the workspace's time zone) or an exact time with its offset. */
const dayOrTime = z
  .union([z.iso.date(), z.iso.datetime({ offset: true })], { error: schemaMessages.dayOrTime.en })
  // A day past 9998 has no next day to end on (to=9999-12-31 was a 500), and years before 1970 hold no failure.
  .refine((value) => {
    const year = Number(value.slice(0, 4));
    return year >= 1970 && year <= 9998;
  }, schemaMessages.dayInRange.en);

const broadcastIds = z
  .union([IdTextSchema, z.array(IdTextSchema).max(100)])
  .transform((value) => (Array.isArray(value) ? value : [value]))
  .meta({ description: 'One or several broadcasts (repeat the parameter).' });

/** Filters shared by the log, the summary and the CSV export. */
export const FailureFiltersSchema = z.object({
  broadcastId: broadcastIds.optional(),
  from: dayOrTime.optional().meta({
    description:
      "Failures at or after this time; a day alone (2026-12-01) starts at midnight in the workspace's time zone.",
  }),
  to: dayOrTime.optional().meta({
    description:
      "Failures before this time; a day alone (2026-12-01) includes that whole day in the workspace's time zone.",
  }),
  channelId: IdTextSchema.optional(),
  contactId: IdTextSchema.optional().meta({ description: "One contact's failed messages (a contact page)." }),
  reason: z.enum(FAILURE_REASONS).optional(),
  subtype: z
    .enum(FAILURE_SUBTYPES)
    .optional()
    .meta({ description: 'unconfirmed: sent, but no answer or delivery report says whether it arrived.' }),
  q: cleanText()
    .trim()
    .min(1)
    .max(200)
    .optional()
    .meta({ description: 'Contact name, identifier or provider message.' }),
});
export type FailureFilters = z.infer<typeof FailureFiltersSchema>;

export const FailedMessagesQuerySchema = FailureFiltersSchema.extend({
  cursor: cleanText().max(200).optional(),
  limit: queryInt(1, 500, 50),
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
  content: z
    .string()
    .meta({ description: 'What was sent: the text, or the template as name [language] (parameters).' }),
  template: z
    .object({ name: z.string(), language: z.string(), parameters: z.array(z.string()) })
    .nullable()
    .meta({ description: 'The WhatsApp template sent, when the message went out as one.' }),
  channel: z.object({ id: z.number().int(), type: z.string(), name: z.string() }),
  type: z.literal('broadcast'),
  subtype: z.enum(FAILURE_SUBTYPES).meta({
    description:
      'failed: not delivered; excluded: left out before sending; unconfirmed: the request may have reached the provider, but no answer or delivery report says so.',
  }),
  providerCode: z
    .string()
    .nullable()
    .meta({ description: "The provider's own code; null when Rebound decided the failure itself." }),
  providerMessage: z
    .string()
    .nullable()
    .meta({ description: "The provider's words as it wrote them; null when there are none (see reason)." }),
  reason: z.object({
    code: z.enum(FAILURE_REASONS),
    title: z.string(),
    explanation: z.string(),
    action: z.string(),
    resend: z.enum(['now', 'later', 'never']),
  }),
  retryAfter: TimestampSchema.nullable().meta({
    description:
      'When a re-send could succeed (quota frees, provider wait); for an unconfirmed message, when its wait for a delivery report ends.',
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
  unconfirmed: z.number().int().meta({
    description:
      'Of total, how many are unconfirmed: sent, but no answer or delivery report says whether they arrived.',
  }),
});
export type FailureSummary = z.infer<typeof FailureSummarySchema>;
