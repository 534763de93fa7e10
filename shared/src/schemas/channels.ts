import { z } from 'zod';
import {
  CHANNEL_TYPES,
  type ChannelType,
  channelCapabilities,
  MAX_MESSAGES_PER_SECOND,
  MIN_MESSAGES_PER_SECOND,
} from '../channels';
import { PriceTableSchema } from '../prices';
import { GuardSettingsSchema, PauseSchema } from '../quality-guard';
import { cleanText, IdSchema, TimestampSchema, withoutControlCharacters } from './common';
import { schemaMessages } from './messages';

export const ChannelTypeSchema = z.enum(CHANNEL_TYPES);

/** Messages per second: at least MIN_MESSAGES_PER_SECOND, at most the highest ceiling of any channel type. */
export const MessagesPerSecondSchema = z.number().min(MIN_MESSAGES_PER_SECOND).max(MAX_MESSAGES_PER_SECOND);

export const ChannelLimitsSchema = z.object({
  dailyQuota: z
    .number()
    .int()
    .positive()
    .max(100_000_000)
    .nullable()
    .meta({ description: 'Unique recipients per rolling 24 h; null means unlimited.', example: 1000 }),
  messagesPerSecond: MessagesPerSecondSchema.meta({
    description: "At least 0.01; at most the channel type's ceiling (10,000 for a provider).",
    example: 80,
  }),
  pairRatePerRecipientSeconds: z
    .number()
    .int()
    .positive()
    .max(86_400)
    .nullable()
    .meta({ description: 'Minimum seconds between two messages to one recipient; null for none.', example: 6 }),
});

/**
 * A rate above the type's own ceiling, as a too_big issue at limits.messagesPerSecond. The create body
 * carries the type; a change of limits alone is checked against the stored type with the same function.
 */
export function checkRateCeiling(
  type: ChannelType,
  messagesPerSecond: number | undefined,
  ctx: z.RefinementCtx,
  path: PropertyKey[] = ['limits', 'messagesPerSecond'],
) {
  const maximum = channelCapabilities[type].maxMessagesPerSecond;
  if (messagesPerSecond === undefined || messagesPerSecond <= maximum) return;
  ctx.addIssue({ code: 'too_big', origin: 'number', maximum, inclusive: true, input: messagesPerSecond, path });
}

/** At most 20 keys: checked on a patch, and again on what it merges into (services/channels.ts). */
export const CredentialsSchema = z
  .record(
    cleanText().min(1).max(64),
    // Sent in HTTP headers (a bearer token, an access key): a zero-width space pasted with one made every
    // send fail before leaving, recorded as unconfirmed. Spaces around a pasted value go.
    cleanText()
      .max(4000)
      .trim()
      .regex(/^[\x20-\x7e]*$/, schemaMessages.credentialCharacters.en),
  )
  .refine((entries) => Object.keys(entries).length <= 20, schemaMessages.tooManyCredentials.en)
  .meta({ description: 'Provider credentials. Write-only: answers list only which keys are set.' });

const baseUrl = withoutControlCharacters(z.url({ protocol: /^https?$/ }).max(500)).meta({
  description: "The provider API's base URL; leave empty for the provider's real API.",
});

const channelName = cleanText().trim().min(1).max(100);

/**
 * Channels a workspace keeps connected at once: far past any business's numbers and pages, and a bound on
 * what listing them costs (each shows its limit use, read per channel).
 */
export const MAX_CHANNELS_PER_WORKSPACE = 200;

export const ChannelCreateSchema = z
  .object({
    type: ChannelTypeSchema,
    name: channelName,
    limits: ChannelLimitsSchema.partial()
      .optional()
      .meta({ description: 'Defaults come from the channel table for the type.' }),
    credentials: CredentialsSchema.optional(),
    baseUrl: baseUrl.nullable().optional(),
    guard: GuardSettingsSchema.partial().optional().meta({ description: 'Defaults: 3 % and 20 of the last 200.' }),
    prices: PriceTableSchema.partial().optional(),
  })
  .superRefine((channel, ctx) => checkRateCeiling(channel.type, channel.limits?.messagesPerSecond, ctx));
export type ChannelCreate = z.infer<typeof ChannelCreateSchema>;

export const ChannelUpdateSchema = z.object({
  // Refused rather than dropped: a 200 that silently kept the old type read as done.
  type: z
    .unknown()
    .optional()
    .refine((value) => value === undefined, schemaMessages.channelTypeFixed.en)
    .meta({ description: 'A channel keeps its type: sent, the change is refused.' }),
  name: channelName.optional(),
  limits: ChannelLimitsSchema.partial().optional(),
  credentials: CredentialsSchema.optional(),
  baseUrl: baseUrl.nullable().optional(),
  guard: GuardSettingsSchema.partial().optional().meta({ description: 'Only the settings given change.' }),
  fallbackChannelId: IdSchema.nullable().optional().meta({
    description:
      'Another channel of the workspace where automatic recovery re-sends the contacts this one cannot reach (WhatsApp → SMS); null: none.',
  }),
  prices: PriceTableSchema.partial()
    .optional()
    .meta({ description: 'Countries given replace those countries; the rest keep their price.' }),
});
export type ChannelUpdate = z.infer<typeof ChannelUpdateSchema>;

export const ChannelSchema = z.object({
  id: z.number().int().meta({ description: 'The channel ID shown in exports.' }),
  type: ChannelTypeSchema,
  name: z.string(),
  canBroadcast: z.boolean(),
  limits: ChannelLimitsSchema,
  credentialsSet: z.array(z.string()),
  credentialsMissing: z.array(z.string()),
  baseUrl: z.string().nullable(),
  portfolioId: z
    .number()
    .int()
    .nullable()
    .meta({ description: 'The WhatsApp business portfolio whose limit this number shares (see /portfolios).' }),
  guard: GuardSettingsSchema,
  fallbackChannelId: z.number().int().nullable(),
  hold: PauseSchema.nullable().meta({
    description:
      "The number paused for its own sake (the quality guard's channel window, or Meta's flag): no new broadcast or re-send starts on it until a manager resumes one of its broadcasts paused for it, or the channel (POST /channels/{id}/resume). null: not held.",
  }),
  prices: PriceTableSchema.meta({ description: 'What this channel is billed at (its own figures over the defaults).' }),
  usage: z
    .object({
      quotaUsed: z.number().int().meta({ description: 'Unique recipients counted in the rolling 24 h window.' }),
      quotaRemaining: z.number().int().nullable().meta({ description: 'null when the channel has no daily limit.' }),
      capacityFreesAt: TimestampSchema.nullable().meta({
        description: 'When the oldest counted recipient leaves the window.',
      }),
    })
    .meta({ description: 'The channel limit use right now.' }),
  createdAt: TimestampSchema,
  updatedAt: TimestampSchema,
});
export type Channel = z.infer<typeof ChannelSchema>;
export const ChannelListSchema = z.object({ data: z.array(ChannelSchema) });
