// The service's HTTP API: the experts, one post, and the query's event stream.
// Every failure becomes an `ApiError` whose `kind` the UI puts into words.

import { parseEvent } from './events';
import type { Lang } from './i18n';
import { readSse, SseParser } from './sse';
import type { Expert, Post, ProgressEvent, QueryRequest } from './types';

export type ApiErrorKind =
  | 'unreachable' // no answer at all: the service is down, or the network
  | 'validation' // 422: the request was refused, with a reason per field
  | 'not_found' // 404
  | 'http' // any other error status
  | 'protocol' // an answer that is not what the contract says
  | 'broken'; // the event stream ended before its last event

export interface FieldError {
  /** The request field the reason is about ("query", "expert_filter", ...) or "" for the whole. */
  field: string;
  message: string;
}

export class ApiError extends Error {
  readonly kind: ApiErrorKind;
  readonly status: number | null;
  readonly fields: FieldError[];
  /** The service's error code (docs/errors.md) when its answer carried one. */
  readonly code: string | null;

  constructor(
    kind: ApiErrorKind,
    message: string,
    status: number | null = null,
    fields: FieldError[] = [],
    code: string | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
    this.kind = kind;
    this.status = status;
    this.fields = fields;
    this.code = code;
  }
}

export function isAbort(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    'name' in error &&
    (error as { name: unknown }).name === 'AbortError'
  );
}

/** Where the API lives: the page's own origin (the service serves the built front end). */
export const API_BASE = '';

/** FastAPI's 422 body, `{"detail": [{"loc": ["body", "query"], "msg": "..."}]}`, as reasons. */
export function fieldErrors(body: unknown): FieldError[] {
  if (typeof body !== 'object' || body === null || !('detail' in body)) return [];
  const detail = (body as { detail: unknown }).detail;
  if (typeof detail === 'string') return [{ field: '', message: detail }];
  if (!Array.isArray(detail)) return [];
  return detail.map((item: unknown): FieldError => {
    const entry = (item ?? {}) as { loc?: unknown; msg?: unknown };
    const loc = Array.isArray(entry.loc) ? entry.loc : [];
    const field = loc[0] === 'body' && typeof loc[1] === 'string' ? loc[1] : '';
    const raw = typeof entry.msg === 'string' ? entry.msg : 'invalid';
    // pydantic prefixes a validator's own words with "Value error, ".
    return { field, message: raw.replace(/^Value error, /, '') };
  });
}

async function readJson(response: Response): Promise<unknown> {
  try {
    return await response.json();
  } catch {
    return null;
  }
}

/** The `code` of the service's error body, `{"detail": ..., "code": ...}`. */
export function errorCode(body: unknown): string | null {
  if (typeof body !== 'object' || body === null || !('code' in body)) return null;
  const code = (body as { code: unknown }).code;
  return typeof code === 'string' ? code : null;
}

async function failure(response: Response): Promise<ApiError> {
  const body = await readJson(response);
  const fields = fieldErrors(body);
  const code = errorCode(body);
  const summary = fields.map((f) => f.message).join('; ') || response.statusText || `HTTP ${response.status}`;
  if (response.status === 422) return new ApiError('validation', summary, 422, fields, code);
  if (response.status === 404) return new ApiError('not_found', summary, 404, fields, code);
  // A proxy in front of a stopped service answers 502-504 without the service's code: the
  // service is not there.
  if ([502, 503, 504].includes(response.status) && code === null) {
    return new ApiError('unreachable', summary, response.status);
  }
  return new ApiError('http', summary, response.status, fields, code);
}

async function send(path: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(`${API_BASE}${path}`, init);
  } catch (error) {
    if (isAbort(error)) throw error;
    throw new ApiError('unreachable', error instanceof Error ? error.message : String(error));
  }
}

async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  const response = await send(path, { headers: { accept: 'application/json' }, signal });
  if (!response.ok) throw await failure(response);
  const body = await readJson(response);
  if (body === null) throw new ApiError('protocol', 'the answer is not JSON', response.status);
  return body as T;
}

export function fetchExperts(signal?: AbortSignal): Promise<Expert[]> {
  return getJson<Expert[]>('/api/v1/experts', signal);
}

/**
 * One post. With `language`, its text comes in that language when the service can translate
 * it, and `post.translation` says whether it did (with the original) or why not; with
 * `translateComments` too, each comment's text and `translation` likewise.
 */
export function fetchPost(
  expertId: string,
  postId: number,
  signal?: AbortSignal,
  language?: Lang,
  translateComments = false,
): Promise<Post> {
  const query = new URLSearchParams({ expert_id: expertId });
  if (language) query.set('language', language);
  if (language && translateComments) query.set('translate_comments', 'true');
  return getJson<Post>(`/api/v1/posts/${encodeURIComponent(String(postId))}?${query}`, signal);
}

export interface StreamOptions {
  signal?: AbortSignal;
  onEvent: (event: ProgressEvent) => void;
}

/**
 * POST the question and hand every event to `onEvent` as it arrives. Resolves once the last
 * event (`complete` or `error`) has arrived; rejects with an `ApiError` (`broken` when the
 * stream ends or fails before it, `protocol` at an event that is none of the schema's), or
 * with the AbortError when `signal` aborts, which closes the connection and makes the service
 * stop the work.
 */
export async function streamQuery(request: QueryRequest, options: StreamOptions): Promise<void> {
  const response = await send('/api/v1/query', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({ ...request, stream_progress: true }),
    signal: options.signal,
  });
  if (!response.ok) throw await failure(response);
  if (!response.body) throw new ApiError('protocol', 'the answer has no body', response.status);
  const type = response.headers.get('content-type') ?? '';
  if (!type.includes('text/event-stream')) {
    throw new ApiError('protocol', `expected an event stream, got ${type || 'no content type'}`);
  }
  const parser = new SseParser();
  try {
    for await (const message of readSse(response.body, parser)) {
      const parsed = parseEvent(message.data);
      // An event this page does not know is a contract broken, not one to guess at.
      if (!parsed.ok) {
        throw new ApiError('protocol', `the service sent an event this page does not read: ${parsed.problem}`);
      }
      const event = parsed.event;
      options.onEvent(event);
      if (event.event_type === 'complete' || event.event_type === 'error') return;
    }
  } catch (error) {
    if (isAbort(error) || options.signal?.aborted) throw error;
    if (error instanceof ApiError) throw error;
    throw new ApiError('broken', error instanceof Error ? error.message : String(error));
  }
  if (options.signal?.aborted) throw new DOMException('The query was cancelled', 'AbortError');
  throw new ApiError('broken', 'the stream ended before the answer was complete');
}
