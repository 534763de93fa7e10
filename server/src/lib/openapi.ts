import { ErrorBodySchema } from '@rebound/shared';
import type { z } from 'zod';

export const jsonContent = <T extends z.ZodType>(schema: T, description: string) => ({
  content: { 'application/json': { schema } },
  description,
});

export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  content: { 'application/json': { schema } },
  required: true,
});

const error = (description: string) => jsonContent(ErrorBodySchema, description);

/** The error answers every authenticated route can give. */
export const errorResponses = {
  401: error('Missing, unknown or revoked token.'),
  403: error("The token's role may not do this."),
  422: error('Invalid input; details lists each field path and what is wrong.'),
} as const;

export const notFoundResponse = { 404: error('Not found in this workspace.') } as const;
export const conflictResponse = { 409: error('Conflicts with existing data.') } as const;

export const bearer = [{ Bearer: [] }];
