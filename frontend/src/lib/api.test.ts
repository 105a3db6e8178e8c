import { afterEach, describe, expect, it, vi } from 'vitest';
import { event, frame, jsonResponse, post, sseResponse } from '../test/fixtures';
import { ApiError, fetchPost, fieldErrors, streamQuery } from './api';
import type { ProgressEvent } from './types';

afterEach(() => vi.unstubAllGlobals());

describe('fieldErrors', () => {
  it('reads FastAPI 422 bodies into a reason per field', () => {
    expect(
      fieldErrors({
        detail: [
          { type: 'string_too_short', loc: ['body', 'query'], msg: 'String should have at least 3 characters' },
          { type: 'value_error', loc: ['body', 'expert_filter'], msg: 'Value error, name at least one expert' },
        ],
      }),
    ).toEqual([
      { field: 'query', message: 'String should have at least 3 characters' },
      { field: 'expert_filter', message: 'name at least one expert' },
    ]);
    expect(fieldErrors({ detail: 'expert x has no post 9' })).toEqual([{ field: '', message: 'expert x has no post 9' }]);
    expect(fieldErrors('nonsense')).toEqual([]);
  });
});

describe('fetchPost', () => {
  it('asks for the post in a language only when given one', async () => {
    const fetch = vi.fn().mockImplementation(() => Promise.resolve(jsonResponse(post)));
    vi.stubGlobal('fetch', fetch);
    await fetchPost('selfhost_ops', 30, undefined, 'en');
    await fetchPost('selfhost_ops', 30);
    expect(fetch.mock.calls.map((call) => call[0])).toEqual([
      '/api/v1/posts/30?expert_id=selfhost_ops&language=en',
      '/api/v1/posts/30?expert_id=selfhost_ops',
    ]);
  });
});

describe('streamQuery', () => {
  it('posts the question and hands over every event up to complete', async () => {
    const fetch = vi.fn().mockResolvedValue(
      sseResponse([
        frame(event('start', null, { experts: ['a'] })) + ': ping\r\n\r\n',
        frame(event('phase_start', 'map', { expert_id: 'a' })),
        frame(event('complete', null, { response: {} })),
      ]),
    );
    vi.stubGlobal('fetch', fetch);
    const seen: ProgressEvent[] = [];
    await streamQuery({ query: 'Как?' }, { onEvent: (e) => seen.push(e) });
    expect(seen.map((e) => e.event_type)).toEqual(['start', 'phase_start', 'complete']);
    const [url, init] = fetch.mock.calls[0]!;
    expect(url).toBe('/api/v1/query');
    expect(init.method).toBe('POST');
    expect(JSON.parse(init.body)).toEqual({ query: 'Как?', stream_progress: true });
  });

  it('rejects as broken when the stream ends before complete, after handing over what came', async () => {
    vi.stubGlobal('fetch', vi.fn().mockResolvedValue(sseResponse([frame(event('start', null, {}))])));
    const seen: string[] = [];
    const failure = streamQuery({ query: 'abc' }, { onEvent: (e) => seen.push(e.event_type) });
    await expect(failure).rejects.toMatchObject({ kind: 'broken' });
    expect(seen).toEqual(['start']);
  });

  it('rejects as a protocol error at an event the contract does not know, after handing over what came', async () => {
    const unknown = { ...event('phase_start', 'map', { expert_id: 'a' }), event_type: 'phase_begin' };
    vi.stubGlobal('fetch', vi.fn().mockResolvedValue(sseResponse([frame(event('start', null, {})), `data: ${JSON.stringify(unknown)}\r\n\r\n`])));
    const seen: string[] = [];
    const failure = streamQuery({ query: 'abc' }, { onEvent: (e) => seen.push(e.event_type) });
    await expect(failure).rejects.toMatchObject({ kind: 'protocol', message: expect.stringContaining('unknown event_type "phase_begin"') });
    expect(seen).toEqual(['start']);
  });

  it('rejects as broken when the connection fails mid-way', async () => {
    vi.stubGlobal('fetch', vi.fn().mockResolvedValue(sseResponse([frame(event('start', null, {}))], new TypeError('network error'))));
    await expect(streamQuery({ query: 'abc' }, { onEvent: () => undefined })).rejects.toMatchObject({ kind: 'broken' });
  });

  it('rejects with the reasons per field on 422', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn().mockResolvedValue(
        jsonResponse({ detail: [{ loc: ['body', 'query'], msg: 'String should have at least 3 characters' }] }, 422),
      ),
    );
    const error = await streamQuery({ query: 'ab' }, { onEvent: () => undefined }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ kind: 'validation', status: 422, fields: [{ field: 'query', message: 'String should have at least 3 characters' }] });
  });

  it('keeps the service’s error code, and tells a busy service from a missing one', async () => {
    vi.stubGlobal('fetch', vi.fn().mockResolvedValue(jsonResponse({ detail: 'the database is busy', code: 'database_busy' }, 503)));
    await expect(streamQuery({ query: 'abc' }, { onEvent: () => undefined })).rejects.toMatchObject({ kind: 'http', status: 503, code: 'database_busy' });
    // A proxy's 502 in front of a stopped service carries no code: the service is not there.
    vi.stubGlobal('fetch', vi.fn().mockResolvedValue(new Response('<html>Bad Gateway</html>', { status: 502 })));
    await expect(streamQuery({ query: 'abc' }, { onEvent: () => undefined })).rejects.toMatchObject({ kind: 'unreachable', code: null });
  });

  it('says unreachable when fetch itself fails', async () => {
    vi.stubGlobal('fetch', vi.fn().mockRejectedValue(new TypeError('Failed to fetch')));
    await expect(streamQuery({ query: 'abc' }, { onEvent: () => undefined })).rejects.toMatchObject({ kind: 'unreachable' });
  });

  it('passes the AbortError on when cancelled', async () => {
    const controller = new AbortController();
    vi.stubGlobal(
      'fetch',
      vi.fn((_url: string, init: RequestInit) => {
        return new Promise((_resolve, reject) => {
          init.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
        });
      }),
    );
    const pending = streamQuery({ query: 'abc' }, { signal: controller.signal, onEvent: () => undefined });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
  });
});
