import { z } from 'zod';
import { CHANNEL_TYPES } from '../channels';
import { OPT_OUT_SOURCES } from '../opt-outs';
import {
  CONTROL_CHARACTERS,
  cleanText,
  IdSchema,
  IdTextSchema,
  messageText,
  PageQuerySchema,
  pageOf,
  TimestampSchema,
  withoutControlCharacters,
} from './common';
import { schemaMessages } from './messages';

const name = cleanText().trim().min(1).max(100);
/** Spaces around an address are a copy-paste accident, not an error; control characters are refused, not trimmed. */
const email = z.preprocess(
  (value) => (typeof value === 'string' && !CONTROL_CHARACTERS.test(value) ? value.trim() : value),
  withoutControlCharacters(z.email().max(254)),
);
const tagName = cleanText().trim().min(1, schemaMessages.tagEmpty.en).max(100);
const phone = cleanText().trim().min(1).max(40);
const language = cleanText().trim().min(2).max(10);

/** Custom field keys become JSON paths in segment filters, so they stay plain: letters, digits, _ - and spaces. */
export const CustomFieldKeySchema = z.string().regex(/^[\p{L}\p{N}_\- ]{1,64}$/u, schemaMessages.customKey.en);

export const CustomFieldsSchema = z
  .record(
    CustomFieldKeySchema,
    z.union([
      // As the import keeps them: a multi-line address or note from a CRM comes back in a PATCH unchanged.
      messageText().max(2000),
      z.number().min(-Number.MAX_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER),
      z.boolean(),
      z.null(),
    ]),
  )
  .refine((fields) => Object.keys(fields).length <= 100, schemaMessages.tooManyCustomFields.en)
  .meta({ description: 'Custom fields; values are stored as text. null removes a field.', example: { plan: 'pro' } });

export const ChannelIdentifierSchema = z.object({
  channelId: IdSchema,
  identifier: cleanText().trim().min(1).max(200).meta({ example: '6789012345' }),
});

export const ContactCreateSchema = z
  .object({
    firstName: name.optional(),
    lastName: name.optional(),
    phone: phone.optional().meta({ example: '+54 9 11 5555-1234' }),
    email: email.optional(),
    language: language.optional(),
    customFields: CustomFieldsSchema.optional(),
    identifiers: z.array(ChannelIdentifierSchema).max(20).optional(),
    tags: z.array(tagName).max(50).optional(),
  })
  .meta({
    description:
      'A new contact. The phone is normalized to E.164 with the workspace country; a number that does not parse is kept and flagged invalid.',
  });
export type ContactCreate = z.infer<typeof ContactCreateSchema>;

export const ContactUpdateSchema = z.object({
  firstName: name.nullable().optional(),
  lastName: name.nullable().optional(),
  phone: phone.nullable().optional(),
  email: email.nullable().optional(),
  language: language.nullable().optional(),
  customFields: CustomFieldsSchema.optional(),
  identifiers: z.array(ChannelIdentifierSchema).max(20).optional(),
});
export type ContactUpdate = z.infer<typeof ContactUpdateSchema>;

export const PHONE_PROBLEMS = [
  'not_a_number',
  'too_short',
  'too_long',
  'invalid_country',
  'invalid_number',
  'ambiguous',
] as const;
export type PhoneProblem = (typeof PHONE_PROBLEMS)[number];

export const ContactSchema = z.object({
  id: z.number().int(),
  firstName: z.string().nullable(),
  lastName: z.string().nullable(),
  phone: z.string().nullable().meta({ description: 'E.164 when valid, otherwise exactly as given.' }),
  phoneValid: z.boolean().nullable().meta({ description: 'null when the contact has no phone.' }),
  phoneProblem: z.enum(PHONE_PROBLEMS).nullable(),
  email: z.string().nullable(),
  language: z.string().nullable(),
  customFields: z.record(z.string(), z.string()),
  identifiers: z.array(z.object({ channelId: z.number().int(), identifier: z.string() })),
  tags: z.array(z.string()),
  createdAt: TimestampSchema,
  updatedAt: TimestampSchema,
});
export type Contact = z.infer<typeof ContactSchema>;

export const ContactPageSchema = pageOf(ContactSchema);

export const ContactOptOutSchema = z
  .object({
    channelId: z.number().int(),
    channelName: z.string(),
    channelType: z.enum(CHANNEL_TYPES),
    identifier: z.string().meta({ description: "The contact's address on the channel that opted out." }),
    at: TimestampSchema.meta({ description: 'When the contact opted out (the first signal, if several came).' }),
    source: z
      .enum(OPT_OUT_SOURCES)
      .nullable()
      .meta({
        description:
          'What said so: provider_code (a send failed with an opt-out code), webhook (the provider reported it), ' +
          'inbound_word (the contact wrote STOP, BAJA…), manual, import. null for opt-outs recorded before sources were kept.',
      }),
    detail: z.string().nullable().meta({ description: 'The code or word itself.', example: 'user_preferences: stop' }),
    marketingOnly: z.boolean().meta({
      description:
        'Stopped marketing messages only (WhatsApp\'s "Offers and announcements"): utility and authentication templates still reach them.',
    }),
  })
  .meta({
    description: 'A channel on which the contact opted out or blocked the business: Rebound sends nothing there.',
  });
export type ContactOptOut = z.infer<typeof ContactOptOutSchema>;

/** One contact as its page shows it: the contact and the channels it opted out of. */
export const ContactDetailSchema = ContactSchema.extend({
  optOuts: z.array(ContactOptOutSchema).meta({ description: 'Channels on which the contact opted out, oldest first.' }),
});
export type ContactDetail = z.infer<typeof ContactDetailSchema>;

export const OptOutRemoveBodySchema = z.object({
  note: messageText().trim().min(1, schemaMessages.optOutNote.en).max(1000).meta({
    description: 'Why the opt-out is removed; kept in the audit event.',
    example: 'El cliente pidió por teléfono volver a recibir promociones (ticket 4411).',
  }),
});
export type OptOutRemoveBody = z.infer<typeof OptOutRemoveBodySchema>;

export const ContactSearchQuerySchema = PageQuerySchema.extend({
  q: cleanText().trim().max(200).optional().meta({
    description:
      'Part of a name, an e-mail or a phone (digits, spaces and punctuation ignored), at least 3 characters; accents and case do not matter.',
  }),
  tag: cleanText().trim().max(100).optional().meta({ description: 'Only contacts with this tag.' }),
});

/** A contact ID (digits only, as every path ID: see ID_PATTERN), phone:<number> or email:<address>. */
const CONTACT_REF = /^([1-9][0-9]{0,15}|phone:.+|email:.+)$/;

export const ContactRefParamSchema = z.object({
  ref: cleanText()
    .max(300)
    .regex(CONTACT_REF, schemaMessages.contactRef.en)
    .meta({ param: { name: 'ref', in: 'path' }, example: 'phone:+5491155551234' }),
});

export const TagsBodySchema = z.object({
  tags: z
    .array(tagName)
    .min(1)
    .max(50)
    .meta({ example: ['vip'] }),
});

export const DuplicateGroupSchema = z.object({
  by: z.enum(['phone', 'email']),
  value: z.string(),
  contactIds: z.array(z.number().int()),
});
export const DuplicatesSchema = z.object({ data: z.array(DuplicateGroupSchema) });

const contactRef = z.union([IdSchema, cleanText().max(300).regex(CONTACT_REF, schemaMessages.contactRef.en)]);
export const MergeBodySchema = z.object({
  keep: contactRef.meta({ description: 'The contact that stays.', example: 12 }),
  merge: contactRef.meta({ description: 'The contact merged into it and then removed.', example: 34 }),
});

/** DELETE /contacts/{ref}/opt-outs/{channelId}: the contact and the channel whose opt-out is removed. */
export const OptOutRemoveParamSchema = ContactRefParamSchema.extend({
  channelId: IdTextSchema.meta({ param: { name: 'channelId', in: 'path' }, example: 3 }),
});
