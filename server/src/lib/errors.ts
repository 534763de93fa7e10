import {
  type ApiErrorCode,
  type DetailMessage,
  detailMessage,
  type Language,
  type ResourceName,
} from '@rebound/shared';
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

/** A detail's text named by its key, rendered in the request's language at the edge (renderDetails). */
interface NamedDetail {
  detail: DetailMessage;
  params: Record<string, string | number>;
}

/** One field's detail for an ApiError, its text from shared `detailMessages`. */
export function fieldIssue(
  path: string,
  detail: DetailMessage,
  params: Record<string, string | number> = {},
): { path: string; message: NamedDetail } {
  return { path, message: { detail, params } };
}

/** An error's details as the reader gets them: each named text (fieldIssue) in `language`. */
export function renderDetails(details: unknown, language: Language): unknown {
  if (!Array.isArray(details)) return details;
  return details.map((item) => {
    const message = (item as { message?: unknown } | null)?.message;
    if (message === null || typeof message !== 'object' || !('detail' in message)) return item;
    const { detail, params } = message as NamedDetail;
    return { ...(item as object), message: detailMessage(detail, language, params) };
  });
}
