// Running one query at a time: the stream, its cancellation, and what each outcome leaves.

import { useCallback, useEffect, useReducer, useRef } from 'react';
import { ApiError, isAbort, streamQuery, type FieldError } from './api';
import { initialQueryState, queryReducer, type QueryState } from './queryState';
import type { QueryRequest } from './types';

export interface QueryRunner {
  state: QueryState;
  /** Ask; resolves to the server's reasons per field when it refused the request (422). */
  ask: (request: QueryRequest, experts: Array<{ id: string; name: string }>) => Promise<FieldError[]>;
  /** Abort the request: the connection closes and the service stops the work. */
  cancel: () => void;
}

export function useQuery(stream: typeof streamQuery = streamQuery): QueryRunner {
  const [state, dispatch] = useReducer(queryReducer, initialQueryState);
  const current = useRef<AbortController | null>(null);
  const latest = useRef(state);
  latest.current = state;

  const ask = useCallback<QueryRunner['ask']>(
    async (request, experts) => {
      current.current?.abort();
      const controller = new AbortController();
      current.current = controller;
      const previous = latest.current;
      dispatch({ type: 'begin', request, experts, at: Date.now() });
      try {
        await stream(request, {
          signal: controller.signal,
          onEvent: (event) => dispatch({ type: 'event', event }),
        });
        return [];
      } catch (error) {
        if (isAbort(error) || controller.signal.aborted) {
          if (current.current === controller) dispatch({ type: 'cancelled' });
          return [];
        }
        if (error instanceof ApiError && error.kind === 'validation') {
          // Refused before anything ran: the previous answers stay; the reasons go to the form.
          dispatch({ type: 'restore', state: previous });
          return error.fields.length ? error.fields : [{ field: '', message: error.message }];
        }
        if (error instanceof ApiError && error.kind === 'broken') {
          dispatch({ type: 'broken', message: error.message });
          return [];
        }
        const kind = error instanceof ApiError ? error.kind : 'protocol';
        const status = error instanceof ApiError ? error.status : null;
        const code = error instanceof ApiError ? error.code : null;
        dispatch({ type: 'failed', kind, status, code, message: error instanceof Error ? error.message : String(error) });
        return [];
      } finally {
        if (current.current === controller) current.current = null;
      }
    },
    [stream],
  );

  const cancel = useCallback(() => current.current?.abort(), []);

  // Leaving the page mid-query hangs up too.
  useEffect(() => () => current.current?.abort(), []);

  return { state, ask, cancel };
}
