import { describe, expect, it } from 'vitest';
import { answer, event, moderator } from '../test/fixtures';
import schemas from './api-stream.json';
import { parseEvent } from './events';
import { PHASES } from './types';

const json = (value: unknown) => JSON.stringify(value);
const problem = (value: unknown) => {
  const parsed = parseEvent(typeof value === 'string' ? value : json(value));
  return parsed.ok ? null : parsed.problem;
};

describe('parseEvent', () => {
  it('takes every event type the service sends, whole', () => {
    const events = [
      event('start', null, { experts: ['selfhost_ops'] }),
      event('progress', null, { queued: true }),
      event('phase_start', 'map', { expert_id: 'selfhost_ops' }),
      event('progress', 'map', { expert_id: 'selfhost_ops', high: 2, medium: 1, analyzed: 36 }),
      event('progress', 'comment_groups', { expert_id: 'selfhost_ops', groups: [{ post: 30, kind: 'community' }] }),
      event('expert_complete', 'assembly', { expert_id: 'selfhost_ops', response: answer }),
      event('expert_error', null, { expert_id: 'ai_architect', error: 'the model API did not answer', code: 'model_unavailable' }),
      event('moderator', null, moderator),
      event('error', null, { code: 'query_timeout' }),
      event('complete', null, { response: { expert_responses: [answer], moderator } }),
    ];
    for (const sent of events) {
      expect(parseEvent(json(sent))).toEqual({ ok: true, event: sent });
    }
  });

  it('reports an unknown event type instead of guessing', () => {
    expect(problem({ ...event('start', null, {}), event_type: 'heartbeat' })).toBe('event: unknown event_type "heartbeat"');
    expect(problem({ phase: null, data: {} })).toBe('event: unknown event_type undefined');
  });

  it('reports a malformed event, saying where', () => {
    const start = event('start', null, { experts: ['a'] });
    expect(problem('{"event_type": "start"')).toMatch(/^not JSON/);
    expect(problem([start])).toBe('event: array where an object belongs');
    expect(problem({ ...start, message: undefined })).toBe('event(start): message is missing');
    expect(problem({ ...start, data: { ...start.data, experts: [1] } })).toBe('event(start).data.experts[0]: integer where string belongs');
    expect(problem({ ...start, data: { ...start.data, extra: 1 } })).toBe('event(start).data: extra is not one of its fields');
    expect(problem({ ...start, status: 'error' })).toBe('event(start).status: "error" is not "ok"');
    expect(problem(event('phase_start', 'drafting', { expert_id: 'a' }))).toMatch(/^event\(phase_start\)\.phase: "drafting" is not one of "map"/);
    expect(problem(event('progress', 'map', { expert_id: 'a', high: 'two' }))).toBe('event(progress).data.high: "two" is none of what it may be');
    const broken = { ...answer, confidence: 'SURE' };
    expect(problem(event('expert_complete', 'assembly', { expert_id: 'a', response: broken }))).toMatch(
      /^event\(expert_complete\)\.data\.response\.confidence: "SURE" is not one of/,
    );
  });
});

describe('PHASES', () => {
  it('lists the phases of the schema, in the order the service runs them', () => {
    expect([...PHASES]).toEqual(schemas.PhaseStartEvent.properties.phase.enum);
  });
});
