import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { App } from './App';
import { answer, event, experts, frame, jsonResponse, sseResponse } from './test/fixtures';

afterEach(() => vi.unstubAllGlobals());

type Handler = (init: RequestInit) => Response | Promise<Response>;

/** A fetch that answers the experts list, and the query with the handlers in turn. */
function serve(...queries: Handler[]) {
  const fetch = vi.fn(async (url: string, init: RequestInit = {}) => {
    if (url === '/api/v1/experts') return jsonResponse(experts);
    if (url === '/api/v1/query') {
      const next = queries.shift();
      if (!next) throw new Error('no more query answers scripted');
      return next(init);
    }
    throw new Error(`unexpected ${url}`);
  });
  vi.stubGlobal('fetch', fetch);
  return fetch;
}

async function ask(question: string) {
  const box = screen.getByRole('textbox');
  await userEvent.clear(box);
  await userEvent.type(box, question);
  await userEvent.click(screen.getByRole('button', { name: /^(Ask|Спросить)$/ }));
}

describe('App', () => {
  it('follows the question’s language', async () => {
    serve();
    render(<App />);
    expect(screen.getByRole('heading', { level: 1 })).toHaveTextContent('Experts Panel');
    await userEvent.type(screen.getByRole('textbox'), 'Как');
    expect(screen.getByRole('heading', { level: 1 })).toHaveTextContent('Панель экспертов');
    expect(screen.getByRole('button', { name: 'Спросить' })).toBeInTheDocument();
    expect(document.documentElement.lang).toBe('ru');
  });

  it('sends a too-short question and shows the server’s reason beside the field', async () => {
    const fetch = serve(() =>
      jsonResponse(
        { detail: [{ type: 'string_too_short', loc: ['body', 'query'], msg: 'String should have at least 3 characters', input: 'ab' }] },
        422,
      ),
    );
    render(<App />);
    await screen.findAllByRole('checkbox', { name: /posts/ });
    await ask('ab');
    const box = screen.getByRole('textbox');
    await waitFor(() => expect(box).toHaveAccessibleDescription(/The server refused it: String should have at least 3 characters/));
    expect(box).toHaveAttribute('aria-invalid', 'true');
    expect(fetch).toHaveBeenCalledWith('/api/v1/query', expect.objectContaining({ method: 'POST' }));
    // Editing the question clears the stale reason.
    await userEvent.type(box, 'c');
    expect(box).not.toHaveAttribute('aria-invalid');
  });

  it('keeps what arrived when the stream breaks, and Retry asks again', async () => {
    serve(
      () =>
        sseResponse(
          [
            frame(event('start', null, { experts: ['ai_architect', 'selfhost_ops'], model: 'embedded' })),
            frame(event('phase_start', 'map', { expert_id: 'ai_architect' })),
            frame(event('expert_complete', 'assembly', { expert_id: 'selfhost_ops', response: answer })),
          ],
          new TypeError('network error'),
        ),
      () =>
        sseResponse([
          frame(event('start', null, { experts: ['selfhost_ops'] })),
          frame(event('expert_complete', 'assembly', { expert_id: 'selfhost_ops', response: answer })),
          frame(event('complete', null, { response: { expert_responses: [answer], errors: [], total_processing_time_ms: 3200 } })),
        ]),
    );
    render(<App />);
    await screen.findAllByRole('checkbox', { name: /posts/ });
    await ask('How to back up SQLite?');
    const alert = await screen.findByText(/The connection broke before the answer was complete/);
    expect(alert).toBeInTheDocument();
    const answered = screen.getByRole('article', { name: 'Самохост и эксплуатация' });
    expect(answered).toHaveTextContent('Бэкапы SQLite, версия 2');
    const stopped = screen.getByRole('article', { name: 'Архитектор ИИ' });
    expect(stopped).toHaveTextContent('Stopped before the answer.');
    await userEvent.click(screen.getByRole('button', { name: 'Retry' }));
    expect(await screen.findByText(/Done in 3.2 s: 1 of 1 answered/)).toBeInTheDocument();
  });

  it('cancels: the fetch is aborted and the page says so', async () => {
    let signal: AbortSignal | undefined;
    serve((init) => {
      signal = init.signal ?? undefined;
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(frame(event('start', null, { experts: ['ai_architect'] }))));
          controller.enqueue(new TextEncoder().encode(frame(event('phase_start', 'map', { expert_id: 'ai_architect' }))));
          signal?.addEventListener('abort', () => controller.error(new DOMException('aborted', 'AbortError')));
        },
      });
      return new Response(body, { headers: { 'content-type': 'text/event-stream' } });
    });
    render(<App />);
    await screen.findAllByRole('checkbox', { name: /posts/ });
    await ask('What is RAG?');
    const row = await waitFor(() => {
      const el = document.querySelector('[data-expert-row="ai_architect"]');
      expect(el).toHaveAttribute('data-phase', 'map');
      return el as HTMLElement;
    });
    const cancel = screen.getByRole('button', { name: 'Cancel' });
    await waitFor(() => expect(cancel).toHaveFocus()); // focus moved from Ask, which turned off
    await userEvent.click(cancel);
    expect(signal?.aborted).toBe(true);
    expect(await screen.findByText('Cancelled: the server stopped working on the question.')).toBeInTheDocument();
    expect(row).toHaveAttribute('data-status', 'stopped');
    expect(within(row).getByText('Stopped')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Ask' })).toBeEnabled();
  });

  it('says so in words when the server cannot be reached', async () => {
    vi.stubGlobal('fetch', vi.fn().mockRejectedValue(new TypeError('Failed to fetch')));
    render(<App />);
    expect(await screen.findByText(/The server cannot be reached/)).toBeInTheDocument();
    await ask('How to back up SQLite?');
    await waitFor(() => expect(screen.getAllByText(/The server cannot be reached/)).toHaveLength(2));
    expect(screen.getAllByRole('button', { name: 'Retry' }).length).toBeGreaterThanOrEqual(2);
  });
});
