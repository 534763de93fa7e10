import { z } from 'zod';
import { LANGUAGES } from '../i18n';
import { ROLES } from '../permissions';
import { AutoRecoverySchema } from './broadcasts';
import { cleanText, TimestampSchema } from './common';

export const RoleSchema = z.enum(ROLES);
export const LanguageSchema = z.enum(LANGUAGES);

export const MeSchema = z.object({
  workspace: z.object({
    id: z.number().int(),
    name: z.string(),
    language: LanguageSchema,
    defaultCountry: z.string().meta({ description: 'ISO 3166 country used to read phone numbers without +.' }),
    autoRecovery: z.number().int().meta({ description: 'Automatic re-sends new broadcasts get by default.' }),
  }),
  role: RoleSchema,
  tokenName: z.string(),
});
export type Me = z.infer<typeof MeSchema>;

export const WorkspaceSettingsSchema = z.object({
  autoRecovery: AutoRecoverySchema.optional(),
});

export const TokenCreateSchema = z.object({
  name: cleanText().trim().min(1).max(100).meta({ example: 'Extension of Ana' }),
  role: RoleSchema,
});

export const TokenSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  role: RoleSchema,
  prefix: z.string().meta({ description: 'The first characters, to recognise a token without revealing it.' }),
  createdAt: TimestampSchema,
  lastUsedAt: TimestampSchema.nullable(),
});
export const TokenListSchema = z.object({ data: z.array(TokenSchema) });
export const TokenCreatedSchema = TokenSchema.extend({
  token: z.string().meta({ description: 'Shown once. Only a hash is stored.' }),
});
