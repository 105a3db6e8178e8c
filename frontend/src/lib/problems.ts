// What went wrong, as one of the service's stable error codes (docs/errors.md) or one of the
// front end's own (no answer at all, a stream cut short, an answer off the contract). The UI
// words each in the reader's language with what to do (`Strings.problems`); the service's own
// line is English and for the log, so it is never shown.

import { ApiError, type ApiErrorKind } from './api';
import type { Strings } from './i18n';

export const SERVICE_CODES = [
  'invalid_request',
  'not_found',
  'method_not_allowed',
  'http_error',
  'request_too_large',
  'request_timeout',
  'internal',
  'database_busy',
  'query_timeout',
  'model_unavailable',
  'model_refused',
  'model_bad_answer',
] as const;

export type ServiceCode = (typeof SERVICE_CODES)[number];
export type Problem = ServiceCode | 'unreachable' | 'broken' | 'protocol' | 'unknown';

/** The problem a code names; a code this front end does not know yet is 'unknown'. */
export function problemOf(code: unknown): Problem {
  return typeof code === 'string' && (SERVICE_CODES as readonly string[]).includes(code) ? (code as ServiceCode) : 'unknown';
}

/** Each distinct problem among `problems`, first seen first, with how many times it came. */
export function tally(problems: Problem[]): Array<{ problem: Problem; count: number }> {
  const counts = new Map<Problem, number>();
  for (const problem of problems) counts.set(problem, (counts.get(problem) ?? 0) + 1);
  return [...counts].map(([problem, count]) => ({ problem, count }));
}

const BY_KIND: Record<ApiErrorKind, Problem> = {
  unreachable: 'unreachable',
  validation: 'invalid_request',
  not_found: 'not_found',
  http: 'http_error',
  protocol: 'protocol',
  broken: 'broken',
};

/** The problem behind a failure: the service's code when it gave one, else how it failed. */
export function problemOfFailure(kind: ApiErrorKind | 'server' | undefined, code: string | null | undefined): Problem {
  if (code) return problemOf(code);
  return kind && kind !== 'server' ? BY_KIND[kind] : 'unknown';
}

export function problemOfError(error: unknown): Problem {
  return error instanceof ApiError ? problemOfFailure(error.kind, error.code) : 'protocol';
}

/** The problem in the reader's words: what happened, then what to do. */
export function describe(t: Strings, problem: Problem): string {
  const [what, todo] = t.problems[problem];
  return `${what} ${todo}`;
}
