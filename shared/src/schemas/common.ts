import { z } from 'zod';

export const ErrorBodySchema = z
  .object({
    error: z.object({
      code: z.string().meta({ example: 'validation_failed' }),
      message: z.string().meta({ example: 'The data sent is not valid. Fix the fields listed in "details".' }),
      details: z.unknown().optional(),
    }),
  })
  .meta({ description: 'The one error shape of every endpoint; the message follows Accept-Language (es or en).' });
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

/** One entry of a 422's details: where the problem is and what is wrong. */
export const FieldIssueSchema = z.object({ path: z.string(), message: z.string() });
export type FieldIssue = z.infer<typeof FieldIssueSchema>;

export const IdSchema = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);

export const IdParamSchema = z.object({
  id: IdSchema.meta({ param: { name: 'id', in: 'path' }, example: 42 }),
});

export const TimestampSchema = z.iso.datetime().meta({ example: '2026-11-25T14:05:00.000Z' });

export const PageQuerySchema = z.object({
  cursor: z.string().max(200).optional().meta({ description: 'The nextCursor of the previous page.' }),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({
    data: z.array(item),
    nextCursor: z
      .string()
      .nullable()
      .meta({ description: 'Pass as cursor to get the next page; null on the last page.' }),
  });
}

export const OkSchema = z.object({ ok: z.literal(true) });
