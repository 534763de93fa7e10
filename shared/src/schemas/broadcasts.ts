import { z } from 'zod';
import { MAX_MESSAGES_PER_SECOND, MIN_MESSAGES_PER_SECOND } from '../channels';
import { FAILURE_REASONS } from '../failure-reasons';
import { CostEstimateSchema, TEMPLATE_CATEGORIES } from '../prices';
import { PauseSchema } from '../quality-guard';
import { isTimeZone } from '../time';
import {
  cleanText,
  IdSchema,
  IdTextSchema,
  messageText,
  PageQuerySchema,
  pageOf,
  queryInt,
  TimestampSchema,
} from './common';

/** WhatsApp template: name, language and body parameters, as Meta's Cloud API takes them. */
export const WhatsAppTemplateSchema = z.object({
  name: cleanText().min(1).max(512),
  language: cleanText().min(2).max(15).meta({ example: 'es_AR' }),
  // Meta refuses line breaks and tabs in template parameters (132018), so they are plain text here.
  parameters: z.array(cleanText().max(1024)).max(20).default([]),
  category: z
    .enum(TEMPLATE_CATEGORIES)
    .optional()
    .meta({ description: "Meta's category of the template, what it is billed by; default marketing." }),
});

export const MESSENGER_TAGS = [
  'CONFIRMED_EVENT_UPDATE',
  'POST_PURCHASE_UPDATE',
  'ACCOUNT_UPDATE',
  'HUMAN_AGENT',
] as const;

/** What a broadcast sends. Text is always there: it is the preview and the SMS/Telegram body. */
export const BroadcastContentSchema = z
  .object({
    text: messageText().trim().min(1).max(4096),
    template: WhatsAppTemplateSchema.optional().meta({ description: 'WhatsApp only: needed outside the 24 h window.' }),
    messengerTag: z
      .enum(MESSENGER_TAGS)
      .optional()
      .meta({ description: 'Messenger only: needed outside the 24 h window.' }),
  })
  .meta({ example: { text: '¡Black Friday! 30% de descuento hoy.' } });
export type BroadcastContent = z.infer<typeof BroadcastContentSchema>;

export const BROADCAST_STATUSES = [
  'draft',
  'scheduled',
  'sending',
  /** Held by the quality guard or a signal from Meta until a manager resumes or cancels it. */
  'paused',
  'completed',
  'partially_failed',
  'failed',
  'cancelled',
] as const;
export const RECIPIENT_STATES = [
  'queued',
  'sending',
  'sent',
  'delivered',
  'failed',
  'uncertain',
  'excluded',
  'cancelled',
] as const;

const sendRate = z.number().min(MIN_MESSAGES_PER_SECOND).max(MAX_MESSAGES_PER_SECOND).nullable().meta({
  description: "Messages per second for this broadcast, at least 0.01; the channel's own limit still applies.",
  example: 20,
});

const broadcastName = cleanText().trim().min(1).max(200);

/** The most automatic re-sends a broadcast may ask for; 2 is what most need. */
export const MAX_AUTO_RECOVERY = 5;
export const AutoRecoverySchema = z.number().int().min(0).max(MAX_AUTO_RECOVERY).meta({
  description:
    "How many re-sends Rebound schedules by itself, each at the recovery policy's earliest useful time and never for reasons a re-send cannot help (0: none; 2 is usual). Default: the workspace's.",
  example: 2,
});

export const BroadcastCreateSchema = z.object({
  name: broadcastName.meta({ example: 'Black Friday' }),
  channelId: IdSchema,
  segmentId: IdSchema,
  content: BroadcastContentSchema,
  sendRate: sendRate.optional(),
  autoRecovery: AutoRecoverySchema.optional(),
});

export const BroadcastUpdateSchema = z.object({
  name: broadcastName.optional(),
  channelId: IdSchema.optional(),
  segmentId: IdSchema.optional(),
  content: BroadcastContentSchema.optional(),
  sendRate: sendRate.optional(),
  autoRecovery: AutoRecoverySchema.optional(),
});

/** A broadcast's lineage: what its first send reached, what each re-send recovered, and who is left. */
export const RecoverySchema = z
  .object({
    firstSend: z.object({
      reached: z.number().int(),
      failed: z.number().int(),
      unconfirmed: z.number().int().meta({ description: 'Sent with no answer yet: they may or may not have it.' }),
    }),
    attempts: z.array(
      z.object({
        attempt: z.number().int().meta({ description: '1 for the re-sends of the first send, 2 for theirs…' }),
        broadcastIds: z.array(z.number().int()),
        recovered: z.number().int().meta({ description: 'Reached by these re-sends.' }),
        failed: z.number().int(),
        pending: z.number().int().meta({ description: 'Still to go (scheduled or queued).' }),
        unconfirmed: z.number().int().meta({ description: 'Sent with no answer yet: they may or may not have it.' }),
      }),
    ),
    left: z.object({
      total: z.number().int(),
      byReason: z.record(z.string(), z.number().int()).meta({
        description:
          'Failed, left out before sending (not duplicates) or unconfirmed anywhere in the lineage and held by no re-send, by their reason now (unconfirmed: `uncertain`).',
      }),
    }),
    automatic: z.object({
      attempts: z.number().int().meta({ description: 'Re-sends Rebound schedules by itself (autoRecovery).' }),
      nextAt: TimestampSchema.nullable().meta({ description: 'When Rebound looks at the failures again.' }),
    }),
  })
  .meta({ description: 'Only in GET /broadcasts/{id}, for a broadcast re-sent at least once or with autoRecovery.' });
export type Recovery = z.infer<typeof RecoverySchema>;

export const ScheduleBodySchema = z.object({
  at: z.iso.datetime({ offset: true }).optional().meta({ description: 'When to send; empty means now.' }),
});

export const ReconciliationSchema = z
  .object({
    target: z.number().int(),
    entered: z.number().int(),
    left: z.number().int(),
    duplicates: z.number().int(),
    invalidIdentifiers: z.number().int(),
    noIdentifier: z.number().int(),
    completed: z.number().int(),
  })
  .meta({ description: 'target + entered - left - duplicates - invalidIdentifiers - noIdentifier = completed' });

export const BroadcastSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  channelId: z.number().int(),
  segmentId: z.number().int().nullable(),
  content: BroadcastContentSchema,
  sendRate: z.number().nullable(),
  status: z.enum(BROADCAST_STATUSES),
  error: z.object({ code: z.string(), message: z.string(), reason: z.enum(FAILURE_REASONS).optional() }).nullable(),
  pause: PauseSchema.extend({
    message: z.string().meta({ description: 'Why it paused, in the language of the request.' }),
  })
    .nullable()
    .meta({ description: 'Why it is paused; null unless paused.' }),
  scheduledAt: TimestampSchema.nullable(),
  startedAt: TimestampSchema.nullable(),
  finishedAt: TimestampSchema.nullable(),
  unconfirmedWaitEndsAt: TimestampSchema.nullable().meta({
    description:
      'When the wait for the delivery reports of its unconfirmed recipients (no answer, or a final "unknown" report) ends: UNCONFIRMED_AFTER_HOURS after it finished, or after the latest of them became unconfirmed when that came later (a late receipt). From then on a re-send of them can be asked for (`includeUnconfirmed`), at the risk of a second copy. Null when it has none, has not finished, or its re-sends took them all.',
  }),
  unconfirmedLeft: z.number().int().min(0).meta({
    description:
      'Its unconfirmed recipients (no answer, or a final "unknown" report) that no re-send took: those still waiting for an agent once `unconfirmedWaitEndsAt` has passed. All of them while it has no re-send; 0 when its re-sends took them all.',
  }),
  lateFailedAt: TimestampSchema.nullable().meta({
    description:
      'When a delivery report last brought a failure its one-click re-send takes after it finished (WhatsApp 131049 by webhook, an SMS receipt) and no re-send of it was written since: it needs an agent again, even with an earlier re-send, which was planned before it. Null otherwise.',
  }),
  targetCount: z.number().int().nullable().meta({ description: 'Contacts in the segment when it was scheduled.' }),
  completedCount: z.number().int().nullable().meta({ description: 'Recipients it went to (after exclusions).' }),
  counts: z.record(z.enum(RECIPIENT_STATES), z.number().int()).meta({
    description:
      'Its recipients by state. `failed` includes final "unknown" receipts (`failedByReason.uncertain`), which may have arrived: with `uncertain` (no answer) they are its unconfirmed recipients, and no failure to its status.',
  }),
  funnel: z
    .object({
      sent: z.number().int().meta({ description: 'Taken by the provider: sent, delivered or read.' }),
      delivered: z
        .number()
        .int()
        .nullable()
        .meta({ description: "Reported delivered (read ones included); null: the channel's reports never say." }),
      read: z
        .number()
        .int()
        .nullable()
        .meta({ description: "Reported read (WhatsApp, Messenger); null: the channel's reports never say." }),
      failed: z.number().int().meta({ description: 'Failed, final "unknown" receipts included (as `counts.failed`).' }),
    })
    .meta({ description: 'The delivery funnel from the providers’ reports: sent → delivered → read, and failed.' }),
  failedByReason: z.record(z.string(), z.number().int()),
  reconciliation: ReconciliationSchema.nullable(),
  resendOfId: z.number().int().nullable(),
  autoRecovery: z.number().int(),
  recovery: RecoverySchema.nullable(),
  cost: z
    .object({
      currency: z.string(),
      soFar: z.number().meta({ description: 'Billed so far: WhatsApp templates delivered, SMS segments sent.' }),
      billed: z.number().int().meta({
        description:
          'Messages billed so far (on WhatsApp, templates delivered: a failed message or a free reply inside an open window costs nothing).',
      }),
      approximate: z
        .boolean()
        .meta({ description: 'true when its recipients span several countries: their mix at the start is applied.' }),
      unpricedCountries: z.array(z.string()),
    })
    .nullable()
    .meta({ description: 'null before it starts.' }),
  channelLimits: z
    .object({
      dailyQuota: z.number().int().nullable(),
      quotaUsed: z.number().int(),
      quotaRemaining: z.number().int().nullable(),
      capacityFreesAt: TimestampSchema.nullable(),
      messagesPerSecond: z.number(),
      portfolio: z
        .object({ id: z.number().int(), name: z.string() })
        .nullable()
        .meta({ description: 'The WhatsApp business portfolio whose shared limit this is; null: the number’s own.' }),
      hold: PauseSchema.extend({ message: z.string() }).nullable().meta({
        description:
          "The channel's number held for its own sake (see the channel's `hold`), with why and what to do; null: not held.",
      }),
    })
    .meta({ description: "The channel's limits and their use right now." }),
  createdAt: TimestampSchema,
  updatedAt: TimestampSchema,
});
export type Broadcast = z.infer<typeof BroadcastSchema>;

export const ResendBodySchema = z.object({
  tag: cleanText().trim().min(1).max(100).optional().meta({
    description:
      'Labels the re-sent contacts; it never selects anyone. Default: "transmisión fallida 25 nov 2026 (#id)" in the workspace language, the day in its time zone. When other contacts already carry it, a unique variant is used and the answer says so.',
  }),
  reasons: z
    .array(z.enum(FAILURE_REASONS))
    .min(1)
    .max(FAILURE_REASONS.length)
    .optional()
    .meta({ description: 'Failure reasons to include; default: those a re-send can help (now or later).' }),
  when: z
    .union([z.enum(['auto', 'now', 'capacity', 'at']), z.iso.datetime({ offset: true })])
    .optional()
    .meta({
      description:
        "auto (default): each reason at its earliest useful time (quota: when capacity frees; WhatsApp 131049: 24 h after the failure; unreachable handsets: 2 h; throttling: minutes), as linked re-sends. now: everything now (refused with 409 for reasons whose advice says wait, unless force). at: at the time in `at`. A time may also be given here directly. 'capacity' is read as auto.",
    }),
  at: z.iso.datetime({ offset: true }).optional().meta({ description: 'With when: "at": the re-send time (future).' }),
  force: z
    .boolean()
    .optional()
    .meta({ description: 'Send at the chosen time even where the reason says a re-send cannot help yet.' }),
  includeUnconfirmed: z.boolean().optional().meta({
    description:
      'Also re-send unconfirmed recipients (the request may have reached the provider) once the delivery-report window has passed. They may get the message twice.',
  }),
  content: BroadcastContentSchema.optional().meta({
    description:
      "Other content for the re-send, checked as a new broadcast's (for example a utility template, where the advice for WhatsApp 131049 suggests one); its timing follows it (a template may go outside the 24 h window). Default: the broadcast's own. A manager's: an agent re-sends what was written.",
  }),
  channelId: IdSchema.optional().meta({
    description:
      "Another channel of the workspace to re-send on, for contacts this one cannot reach (not on WhatsApp, a chat the bot does not know, a closed window: those are the default reasons then). Each contact's identifier on that channel is used; SMS gets the plain text. Default: the broadcast's channel.",
  }),
  tagOnly: z.boolean().optional().meta({ description: 'Only tag the contacts; no segment, no broadcast.' }),
  timeZone: z
    .string()
    .max(64)
    .refine(isTimeZone, 'Not a time zone: use an IANA name such as America/Bogota.')
    .optional()
    .meta({
      description:
        "The reader's IANA time zone (America/Bogota): the answer says its times in it (the plan, its warnings, a time refused). Default: the workspace's. The tag's date stays the workspace's.",
      example: 'America/Bogota',
    }),
  dryRun: z.boolean().optional().meta({
    description:
      'Only say what this re-send would do (who, when, why, warnings) and write nothing: the extension shows it before the agent confirms.',
  }),
});

export const ResendPlanPartSchema = z.object({
  broadcastId: z.number().int().nullable(),
  at: TimestampSchema,
  count: z.number().int(),
  byReason: z.record(z.string(), z.number().int()),
  /** "now", "2 h after the failure", "when the quota frees", "day 2 of 3" */
  why: z.string(),
});

export const ResendCancelBodySchema = z.object({
  resendIds: z.array(IdSchema).min(1).max(100).optional().meta({
    description:
      "Only these re-sends (the parts of the plan a re-send's answer listed); without it, every re-send of the broadcast that has not started, other agents' and Rebound's own included.",
  }),
});
export type ResendCancelBody = z.input<typeof ResendCancelBodySchema>;

export const ResendCancelResultSchema = z.object({
  cancelled: z.array(z.number().int()).meta({ description: 'The re-sends cancelled (the scheduled parts asked for).' }),
});

export const ResendResultSchema = z.object({
  tag: z.string(),
  tagged: z.number().int().meta({ description: 'Contacts that carry the tag for this broadcast.' }),
  newlyTagged: z.number().int(),
  skipped: z.record(z.string(), z.number().int()).meta({ description: 'Failed messages left out, by reason.' }),
  segmentId: z.number().int().nullable(),
  broadcastId: z.number().int().nullable().meta({ description: 'The first (earliest) re-send of the plan.' }),
  scheduledAt: TimestampSchema.nullable(),
  reused: z.boolean().meta({ description: 'True when an earlier call already created the re-send.' }),
  recipients: z.number().int().meta({ description: 'Failed messages this re-send reaches, exactly.' }),
  plan: z.array(ResendPlanPartSchema).meta({ description: 'One linked re-send per time, earliest first.' }),
  summary: z.string().meta({ example: '3 ahora, 500 mañana 10:21, 12 el jue 3 dic 09:00' }),
  warnings: z.array(z.object({ code: z.string(), message: z.string() })),
  channel: z
    .object({
      id: z.number().int(),
      name: z.string(),
      type: z.string(),
      reachable: z.number().int().meta({ description: 'Of the recipients, those with an identifier on it.' }),
      unreachable: z
        .number()
        .int()
        .meta({ description: 'Those without one (or an invalid one): left out when it goes.' }),
      allowedNow: z.number().int().meta({ description: 'How many of the reachable its daily limit lets through now.' }),
      sms: z
        .object({ encoding: z.enum(['GSM-7', 'UCS-2']), segments: z.number().int() })
        .nullable()
        .meta({ description: 'On SMS: the encoding and segments each message takes (what it is billed by).' }),
    })
    .optional()
    .meta({ description: 'With channelId: what that channel can do with these recipients.' }),
  cost: CostEstimateSchema.optional().meta({
    description: 'What the re-send would cost (its recipients, on its channel); absent when it reuses an earlier one.',
  }),
});
export type ResendBody = z.input<typeof ResendBodySchema>;
export type ResendResult = z.infer<typeof ResendResultSchema>;

export const BroadcastListQuerySchema = PageQuerySchema.extend({
  status: z.enum(BROADCAST_STATUSES).optional(),
  resendOfId: z
    .union([IdTextSchema, z.array(IdTextSchema).max(100)])
    .transform((value) => (Array.isArray(value) ? value : [value]))
    .optional()
    .meta({ description: 'Only the re-sends of these broadcasts (repeat the parameter).' }),
  id: z
    .union([IdTextSchema, z.array(IdTextSchema).max(100)])
    .transform((value) => (Array.isArray(value) ? value : [value]))
    .optional()
    .meta({
      description:
        'Only these broadcasts (repeat the parameter). The extension uses it for the broadcasts a helpdesk page links to.',
    }),
  name: z
    .union([broadcastName, z.array(broadcastName).max(100)])
    .transform((value) => (Array.isArray(value) ? value : [value]))
    .optional()
    .meta({
      description:
        'Only broadcasts with exactly one of these names (repeat the parameter). The extension uses it to find the broadcasts named on a helpdesk page.',
    }),
});
export const BroadcastPageSchema = pageOf(BroadcastSchema);

export const PreflightWarningSchema = z.object({
  code: z.string().meta({ example: 'quota_overflow' }),
  message: z.string(),
});

export const PreflightSchema = z.object({
  willSend: z.number().int(),
  excluded: z.object({
    duplicate: z.number().int(),
    invalid_identifier: z.number().int(),
    no_identifier: z.number().int(),
  }),
  outsideWindow: z.number().int(),
  optedOut: z.number().int(),
  quota: z.object({
    limit: z.number().int().nullable(),
    used: z.number().int(),
    remaining: z.number().int().nullable(),
    needed: z.number().int(),
    fits: z.boolean(),
    overflow: z
      .number()
      .int()
      .meta({ description: 'Recipients that would fail with "daily limit reached" if sent now.' }),
    capacityFreesAt: TimestampSchema.nullable(),
    allFitAt: TimestampSchema.nullable().meta({ description: 'When the rolling window has room for all of them.' }),
  }),
  rate: z.object({
    channel: z.number(),
    requested: z.number().nullable(),
    effective: z.number(),
    estimatedSeconds: z.number(),
  }),
  warnings: z.array(PreflightWarningSchema),
  cost: CostEstimateSchema.meta({ description: 'What sending to everyone it will go to would cost.' }),
});
export type Preflight = z.infer<typeof PreflightSchema>;

export const AttentionQuerySchema = z.object({
  limit: queryInt(1, 100, 100).meta({ description: 'At most this many, newest first.' }),
});

/** A broadcast that needs an agent, with what a list or a badge shows of it. */
export const AttentionItemSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  status: z.enum(BROADCAST_STATUSES),
  channelId: z.number().int(),
  finishedAt: TimestampSchema.nullable(),
  failed: z.number().int().meta({ description: 'Recipients that failed.' }),
  uncertain: z.number().int().meta({ description: 'Recipients the provider may or may not have reached.' }),
  failedByReason: z.record(z.string(), z.number().int()),
  resendOfId: z.number().int().nullable().meta({
    description:
      'Its re-send state: set when it is itself a re-send (of that broadcast). A broadcast leaves this list as soon as a re-send of it exists, unless that re-send left some of its unconfirmed recipients and their wait for a delivery report is over.',
  }),
});
export type AttentionItem = z.infer<typeof AttentionItemSchema>;

export const AttentionListSchema = z.object({
  data: z.array(AttentionItemSchema),
  hasMore: z.boolean().meta({ description: 'More broadcasts need attention than `limit`.' }),
});
export type AttentionList = z.infer<typeof AttentionListSchema>;
