import type { ApiErrorCode, ResourceName } from '@rebound/shared';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/**
 * A failure the client can act on. The message is rendered at the edge, in the request's language,
 * from the code and params, so services never deal with languages.
 */
export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: ApiErrorCode,
    readonly params: Record<string, string | number> = {},
    readonly details?: unknown,
  ) {
    super(code);
    this.name = 'ApiError';
  }
}

/** 404 that reads the same whether the thing never existed or belongs to another workspace. */
export function notFound(resource: ResourceName, details?: unknown): ApiError {
  return new ApiError(404, 'not_found', { resource }, details);
}
