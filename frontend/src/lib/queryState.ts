// The state of one query, built from its events: a pure reducer, so every transition is
// testable without a network or a DOM.

import type { ApiErrorKind } from './api';
import type {
  Confidence,
  ExpertResponse,
  Moderator,
  MultiExpertQueryResponse,
  ProgressEvent,
  QueryRequest,
} from './types';

export type ExpertStatus = 'waiting' | 'running' | 'done' | 'failed' | 'stopped';

/** What a phase found so far, as its `progress` event said. */
export interface Facts {
  high?: number;
  medium?: number;
  analyzed?: number;
  kept?: number;
  linked?: number;
  cited?: number;
  confidence?: Confidence;
  groups?: number;
  translated?: boolean;
  synthesis?: boolean;
}

export interface ExpertRun {
  id: string;
  name: string;
  status: ExpertStatus;
  /** The phase the expert is in (or was in when it stopped). */
  phase: string | null;
  /** Phases entered, in order. */
  phases: string[];
  facts: Facts;
  /** The service's line on why it failed (for the record; the UI words `errorCode`). */
  error?: string;
  /** The service's error code (docs/errors.md). */
  errorCode?: string;
  response?: ExpertResponse;
}

export type QueryStatus = 'idle' | 'running' | 'complete' | 'failed' | 'cancelled' | 'broken';

export interface QueryState {
  status: QueryStatus;
  request: QueryRequest | null;
  experts: ExpertRun[];
  /** The moderator's synthesis, once its event came (none when fewer than two answered). */
  moderator?: Moderator;
  model?: string;
  requestId?: string;
  totalMs?: number;
  /** When the query was asked (ms since the epoch), for the running time. */
  startedAt?: number;
  /** Why the query failed or broke, in the server's words when it gave any. */
  message?: string;
  errorKind?: ApiErrorKind | 'server';
  errorStatus?: number | null;
  /** The service's error code (docs/errors.md), when it gave one. */
  errorCode?: string;
}

export type QueryAction =
  | { type: 'begin'; request: QueryRequest; experts: Array<{ id: string; name: string }>; at?: number }
  | { type: 'event'; event: ProgressEvent }
  | { type: 'cancelled' }
  | { type: 'broken'; message: string }
  | { type: 'failed'; kind: ApiErrorKind; message: string; status: number | null; code?: string | null }
  | { type: 'restore'; state: QueryState }
  | { type: 'reset' };

export const initialQueryState: QueryState = { status: 'idle', request: null, experts: [] };

function newRun(id: string, name?: string): ExpertRun {
  return { id, name: name ?? id, status: 'waiting', phase: null, phases: [], facts: {} };
}

const count = (value: unknown): number | undefined =>
  typeof value === 'number' ? value : Array.isArray(value) ? value.length : undefined;

function facts(phase: string | null, data: Record<string, unknown>, previous: Facts): Facts {
  const next = { ...previous };
  switch (phase) {
    case 'map':
      next.high = count(data.high);
      next.medium = count(data.medium);
      next.analyzed = count(data.analyzed);
      break;
    case 'medium_scoring':
      next.kept = count(data.kept);
      break;
    case 'resolve':
      next.linked = count(data.linked);
      break;
    case 'reduce':
      next.cited = count(data.main_sources);
      if (data.confidence === 'HIGH' || data.confidence === 'MEDIUM' || data.confidence === 'LOW') {
        next.confidence = data.confidence;
      }
      break;
    case 'language_validation':
      next.translated = true;
      break;
    case 'comment_groups':
      next.groups = count(data.groups);
      break;
    case 'comment_synthesis':
      next.synthesis = true;
      break;
    default:
      break;
  }
  return next;
}

function update(state: QueryState, id: string, change: (run: ExpertRun) => ExpertRun): QueryState {
  const known = state.experts.some((run) => run.id === id);
  const experts = known ? state.experts : [...state.experts, newRun(id)];
  return { ...state, experts: experts.map((run) => (run.id === id ? change(run) : run)) };
}

function answered(run: ExpertRun, response: ExpertResponse): ExpertRun {
  return {
    ...run,
    name: response.expert_name || run.name,
    status: 'done',
    response,
    error: undefined,
  };
}

/** Experts still at work when the query ended early: they stop where they were. */
function stopRemaining(experts: ExpertRun[]): ExpertRun[] {
  return experts.map((run) =>
    run.status === 'waiting' || run.status === 'running' ? { ...run, status: 'stopped' } : run,
  );
}

function onEvent(state: QueryState, event: ProgressEvent): QueryState {
  // Read loosely, key by key: the event was checked against its schema on arrival (events.ts).
  const data: Record<string, unknown> = event.data;
  const expertId = typeof data.expert_id === 'string' ? data.expert_id : null;
  switch (event.event_type) {
    case 'start': {
      const ids = Array.isArray(data.experts) ? data.experts.filter((x): x is string => typeof x === 'string') : [];
      const byId = new Map(state.experts.map((run) => [run.id, run]));
      const experts = ids.length ? ids.map((id) => byId.get(id) ?? newRun(id)) : state.experts;
      return {
        ...state,
        experts,
        model: typeof data.model === 'string' ? data.model : undefined,
        requestId: typeof data.request_id === 'string' ? data.request_id : undefined,
      };
    }
    case 'phase_start':
      if (!expertId || !event.phase) return state;
      return update(state, expertId, (run) => ({
        ...run,
        status: run.status === 'waiting' ? 'running' : run.status,
        phase: event.phase,
        phases: run.phases.includes(event.phase!) ? run.phases : [...run.phases, event.phase!],
      }));
    case 'progress':
      if (!expertId) return state;
      return update(state, expertId, (run) => ({ ...run, facts: facts(event.phase, data, run.facts) }));
    case 'expert_complete': {
      const response = data.response as ExpertResponse | undefined;
      if (!expertId || !response) return state;
      return update(state, expertId, (run) => answered(run, response));
    }
    case 'expert_error':
      if (!expertId) return state;
      return update(state, expertId, (run) => ({
        ...run,
        status: 'failed',
        error: typeof data.error === 'string' && data.error ? data.error : event.message,
        errorCode: typeof data.code === 'string' ? data.code : undefined,
      }));
    case 'moderator':
      return { ...state, moderator: event.data };
    case 'error':
      return {
        ...state,
        status: 'failed',
        errorKind: 'server',
        message: event.message,
        errorCode: typeof data.code === 'string' ? data.code : undefined,
        experts: stopRemaining(state.experts),
      };
    case 'complete': {
      const result = data.response as MultiExpertQueryResponse | undefined;
      let next: QueryState = state;
      for (const response of result?.expert_responses ?? []) {
        next = update(next, response.expert_id, (run) => (run.response ? run : answered(run, response)));
      }
      for (const failure of result?.errors ?? []) {
        if (!failure.expert_id) continue;
        next = update(next, failure.expert_id, (run) =>
          run.status === 'failed'
            ? run
            : { ...run, status: 'failed', error: failure.error ?? '', errorCode: failure.code ?? undefined },
        );
      }
      const moderator = next.moderator ?? result?.moderator ?? undefined;
      return {
        ...next,
        moderator,
        status: 'complete',
        totalMs: result?.total_processing_time_ms,
        experts: stopRemaining(next.experts),
      };
    }
    default:
      return state;
  }
}

export function queryReducer(state: QueryState, action: QueryAction): QueryState {
  switch (action.type) {
    case 'begin':
      return {
        status: 'running',
        request: action.request,
        experts: action.experts.map((e) => newRun(e.id, e.name)),
        startedAt: action.at,
      };
    case 'event':
      // Events after the end (a late one, racing a cancel) change nothing.
      if (state.status !== 'running') return state;
      return onEvent(state, action.event);
    case 'cancelled':
      if (state.status !== 'running') return state;
      return { ...state, status: 'cancelled', experts: stopRemaining(state.experts) };
    case 'broken':
      if (state.status !== 'running') return state;
      return {
        ...state,
        status: 'broken',
        errorKind: 'broken',
        message: action.message,
        experts: stopRemaining(state.experts),
      };
    case 'failed': {
      // Nothing started (the service never answered): no expert rows, only the reason.
      const started = state.requestId !== undefined || state.experts.some((run) => run.status !== 'waiting');
      return {
        ...state,
        status: 'failed',
        errorKind: action.kind,
        errorStatus: action.status,
        message: action.message,
        errorCode: action.code ?? undefined,
        experts: started ? stopRemaining(state.experts) : [],
      };
    }
    case 'restore':
      return action.state;
    case 'reset':
      return initialQueryState;
    default:
      return state;
  }
}
