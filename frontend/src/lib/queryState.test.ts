import { describe, expect, it } from 'vitest';
import { answer, event, moderator } from '../test/fixtures';
import { initialQueryState, queryReducer, type QueryAction, type QueryState } from './queryState';

const begin: QueryAction = {
  type: 'begin',
  request: { query: 'Как делать бэкапы?' },
  experts: [
    { id: 'ai_architect', name: 'Архитектор ИИ' },
    { id: 'selfhost_ops', name: 'Самохост и эксплуатация' },
  ],
};

function run(...actions: QueryAction[]): QueryState {
  return actions.reduce(queryReducer, initialQueryState);
}

const ev = (...args: Parameters<typeof event>): QueryAction => ({ type: 'event', event: event(...args) });

describe('queryReducer', () => {
  it('follows each expert through its phases and keeps what they found', () => {
    const state = run(
      begin,
      ev('start', null, { experts: ['ai_architect', 'selfhost_ops'], model: 'embedded', request_id: 'r1' }),
      ev('phase_start', 'map', { expert_id: 'selfhost_ops' }),
      ev('progress', 'map', { expert_id: 'selfhost_ops', high: 7, medium: 8, analyzed: 36 }),
      ev('phase_start', 'medium_scoring', { expert_id: 'selfhost_ops' }),
    );
    const [waiting, working] = state.experts;
    expect(waiting).toMatchObject({ id: 'ai_architect', status: 'waiting', phase: null });
    expect(working).toMatchObject({
      status: 'running',
      phase: 'medium_scoring',
      phases: ['map', 'medium_scoring'],
      facts: { high: 7, medium: 8, analyzed: 36 },
    });
    expect(state.model).toBe('embedded');
  });

  it('marks a failed expert while the others go on to answer', () => {
    const state = run(
      begin,
      ev('phase_start', 'map', { expert_id: 'ai_architect' }),
      ev('expert_error', null, { expert_id: 'ai_architect', error: 'context too long' }),
      ev('expert_complete', 'assembly', { expert_id: 'selfhost_ops', response: answer }),
      ev('complete', null, { response: { expert_responses: [answer], errors: [{ expert_id: 'ai_architect', error: 'context too long' }], total_processing_time_ms: 3300 } }),
    );
    expect(state.status).toBe('complete');
    expect(state.totalMs).toBe(3300);
    expect(state.experts.map((e) => e.status)).toEqual(['failed', 'done']);
    expect(state.experts[0]!.error).toBe('context too long');
    expect(state.experts[1]!.response).toBe(answer);
  });

  it('keeps each failure’s code, from the events and from the final response', () => {
    const state = run(
      { ...begin, at: 1000 },
      ev('expert_error', null, { expert_id: 'ai_architect', error: 'the model API did not answer', code: 'model_unavailable' }),
      ev('complete', null, {
        response: { expert_responses: [], errors: [{ expert_id: 'selfhost_ops', error: 'the service failed', code: 'internal' }], total_processing_time_ms: 10 },
      }),
    );
    expect(state.startedAt).toBe(1000);
    expect(state.experts.map((e) => [e.status, e.errorCode])).toEqual([
      ['failed', 'model_unavailable'],
      ['failed', 'internal'],
    ]);
  });

  it('keeps the code of a query that failed whole', () => {
    const state = run(begin, ev('error', null, { code: 'query_timeout', request_id: 'r1' }, 'the query took too long'));
    expect(state).toMatchObject({ status: 'failed', errorKind: 'server', errorCode: 'query_timeout' });
    const refused = run(begin, { type: 'failed', kind: 'http', message: 'busy', status: 503, code: 'database_busy' });
    expect(refused.errorCode).toBe('database_busy');
  });

  it('keeps what arrived when the stream breaks, and stops the rest', () => {
    const state = run(
      begin,
      ev('expert_complete', 'assembly', { expert_id: 'selfhost_ops', response: answer }),
      ev('phase_start', 'reduce', { expert_id: 'ai_architect' }),
      { type: 'broken', message: 'the stream ended' },
    );
    expect(state.status).toBe('broken');
    expect(state.experts.map((e) => [e.status, e.phase])).toEqual([
      ['stopped', 'reduce'],
      ['done', null],
    ]);
  });

  it('ignores events that arrive after a cancel', () => {
    const cancelled = run(begin, { type: 'cancelled' });
    expect(cancelled.status).toBe('cancelled');
    expect(queryReducer(cancelled, ev('phase_start', 'map', { expert_id: 'ai_architect' }))).toBe(cancelled);
  });

  it('shows no expert rows when the service never answered', () => {
    const state = run(begin, { type: 'failed', kind: 'unreachable', message: 'Failed to fetch', status: null });
    expect(state).toMatchObject({ status: 'failed', errorKind: 'unreachable', experts: [] });
  });

  it('takes the server’s error event as the end of the query', () => {
    const state = run(begin, ev('error', null, {}, 'the query took longer than 300 s and was stopped'));
    expect(state).toMatchObject({ status: 'failed', errorKind: 'server', message: 'the query took longer than 300 s and was stopped' });
  });

  it('keeps the moderator’s synthesis from its event, or from the complete response', () => {
    const streamed = run(begin, ev('moderator', null, moderator), ev('complete', null, { response: { moderator: null } }));
    expect(streamed.moderator).toEqual(moderator);
    const answered = run(begin, ev('complete', null, { response: { moderator } }));
    expect(answered.moderator).toEqual(moderator);
    expect(run(begin, ev('complete', null, {})).moderator).toBeUndefined();
    // A new question starts without the last one's.
    expect(queryReducer(streamed, begin).moderator).toBeUndefined();
  });
});
