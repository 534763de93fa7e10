import { z } from 'zod';
import { CHANNEL_TYPES } from '../channels';
import { TimestampSchema } from './common';

export const ChannelTypeSchema = z.enum(CHANNEL_TYPES);

export const ChannelLimitsSchema = z.object({
  dailyQuota: z
    .number()
    .int()
    .positive()
    .nullable()
    .meta({ description: 'Unique recipients per rolling 24 h; null means unlimited.', example: 1000 }),
  messagesPerSecond: z.number().positive().max(1_000_000).meta({ example: 80 }),
  pairRatePerRecipientSeconds: z
    .number()
    .positive()
    .max(86_400)
    .nullable()
    .meta({ description: 'Minimum seconds between two messages to one recipient; null for none.', example: 6 }),
});

const credentials = z
  .record(z.string().min(1).max(64), z.string().max(4000))
  .meta({ description: 'Provider credentials. Write-only: answers list only which keys are set.' });

const baseUrl = z
  .url({ protocol: /^https?$/ })
  .max(500)
  .meta({ description: "The provider API's base URL; leave empty for the provider's real API." });

export const ChannelCreateSchema = z.object({
  type: ChannelTypeSchema,
  name: z.string().trim().min(1).max(100),
  limits: ChannelLimitsSchema.partial()
    .optional()
    .meta({ description: 'Defaults come from the channel table for the type.' }),
  credentials: credentials.optional(),
  baseUrl: baseUrl.nullable().optional(),
});
export type ChannelCreate = z.infer<typeof ChannelCreateSchema>;

export const ChannelUpdateSchema = z.object({
  name: z.string().trim().min(1).max(100).optional(),
  limits: ChannelLimitsSchema.partial().optional(),
  credentials: credentials.optional(),
  baseUrl: baseUrl.nullable().optional(),
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
