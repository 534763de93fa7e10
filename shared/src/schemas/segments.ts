import { z } from 'zod';
import { cleanText, IdSchema, queryInt, TimestampSchema } from './common';
import { CustomFieldKeySchema } from './contacts';
import { schemaMessages } from './messages';

export const STANDARD_FIELDS = ['firstName', 'lastName', 'phone', 'email', 'language'] as const;
export const MAX_SEGMENTS_PER_WORKSPACE = 500;

const tagList = z.array(cleanText().trim().min(1).max(100)).min(1).max(50);

export const TagConditionSchema = z.object({
  type: z.literal('tag'),
  operator: z.enum(['hasAnyOf', 'hasAllOf', 'hasNoneOf']),
  tags: tagList,
});

/** A standard field by name, or a custom field as "custom.<key>". */
export const FieldRefSchema = z.union([
  z.enum(STANDARD_FIELDS),
  z
    .templateLiteral(['custom.', z.string()])
    .refine(
      (ref) => CustomFieldKeySchema.safeParse(ref.slice('custom.'.length)).success,
      schemaMessages.customFieldRef.en,
    ),
]);

export const FieldConditionSchema = z.discriminatedUnion('operator', [
  z.object({
    type: z.literal('field'),
    field: FieldRefSchema,
    operator: z.enum(['is', 'isNot', 'contains']),
    value: cleanText().min(1).max(500),
  }),
  z.object({ type: z.literal('field'), field: FieldRefSchema, operator: z.enum(['exists', 'notExists']) }),
]);

export const ChannelConditionSchema = z.object({
  type: z.literal('channel'),
  operator: z.enum(['hasIdentifier', 'hasNoIdentifier']).default('hasIdentifier'),
  channelId: IdSchema,
});

// Discriminated by type, so a refusal names the field inside the condition, not the whole condition.
export const SegmentConditionSchema = z.discriminatedUnion('type', [
  TagConditionSchema,
  FieldConditionSchema,
  ChannelConditionSchema,
]);
export type SegmentCondition = z.infer<typeof SegmentConditionSchema>;
export type SegmentConditionInput = z.input<typeof SegmentConditionSchema>;

export const SegmentGroupSchema = z.object({
  match: z.enum(['all', 'any']).default('all').meta({ description: 'all = AND, any = OR between conditions.' }),
  conditions: z.array(SegmentConditionSchema).min(1).max(20),
});

export const SegmentFilterSchema = z
  .object({
    match: z.enum(['all', 'any']).default('all').meta({ description: 'all = AND, any = OR between groups.' }),
    groups: z.array(SegmentGroupSchema).max(20),
  })
  .meta({
    description: 'Evaluated each time the segment is used. No groups means every contact.',
    example: {
      match: 'all',
      groups: [{ match: 'all', conditions: [{ type: 'tag', operator: 'hasAnyOf', tags: ['vip'] }] }],
    },
  });
export type SegmentFilter = z.infer<typeof SegmentFilterSchema>;
/** What a client may send: `match` defaults to all. */
export type SegmentFilterInput = z.input<typeof SegmentFilterSchema>;

const segmentName = cleanText().trim().min(1).max(100);

export const SegmentCreateSchema = z.object({ name: segmentName, filter: SegmentFilterSchema });
export const SegmentUpdateSchema = z.object({ name: segmentName.optional(), filter: SegmentFilterSchema.optional() });

export const SegmentSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  filter: SegmentFilterSchema,
  createdAt: TimestampSchema,
  updatedAt: TimestampSchema,
});
export type Segment = z.infer<typeof SegmentSchema>;
export const SegmentListSchema = z.object({ data: z.array(SegmentSchema) });

export const SegmentPreviewQuerySchema = z.object({
  sample: queryInt(0, 50, 10),
});

export const ContactSummarySchema = z.object({
  id: z.number().int(),
  firstName: z.string().nullable(),
  lastName: z.string().nullable(),
  phone: z.string().nullable(),
  email: z.string().nullable(),
});

export const SegmentPreviewSchema = z.object({
  count: z.number().int(),
  sample: z.array(ContactSummarySchema),
});
