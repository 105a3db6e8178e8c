import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { App } from './App';
import { answer, event, experts, frame, jsonResponse, moderator, sseResponse } from './test/fixtures';

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

  it('says in the reader’s language that no expert answered, and why', async () => {
    serve(() =>
      sseResponse([
        frame(event('start', null, { experts: ['ai_architect', 'selfhost_ops'], request_id: 'r1' })),
        frame(event('expert_error', null, { expert_id: 'ai_architect', error: 'the model API did not answer; try again later', code: 'model_unavailable' })),
        frame(event('expert_error', null, { expert_id: 'selfhost_ops', error: 'the model API did not answer; try again later', code: 'model_unavailable' })),
        frame(
          event('complete', null, {
            response: {
              expert_responses: [],
              errors: ['ai_architect', 'selfhost_ops'].map((id) => ({ expert_id: id, error: 'the model API did not answer; try again later', code: 'model_unavailable' })),
              total_processing_time_ms: 900,
            },
          }),
        ),
      ]),
    );
    render(<App />);
    await screen.findAllByRole('checkbox', { name: /posts/ });
    await ask('Как делать бэкапы SQLite?');
    const status = await waitFor(() => {
      const el = document.querySelector('[data-query-status="complete"]') as HTMLElement;
      expect(el).toBeTruthy();
      return el;
    });
    expect(status).toHaveTextContent('Ни один из 2 экспертов не ответил: Языковая модель не отвечает (2). Повторите через несколько минут.');
    expect(document.body).not.toHaveTextContent(/model API|Готово/);
    expect(screen.getAllByText('Языковая модель не отвечает. Повторите через несколько минут.')).toHaveLength(2);
  });

  it('brings the status and progress into sight once the server takes the question, not on a refusal', async () => {
    const scrolled = vi.fn();
    // jsdom lays nothing out: the status line is put below the fold, as on a phone.
    vi.spyOn(HTMLElement.prototype, 'getBoundingClientRect').mockReturnValue(new DOMRect(0, 2000, 390, 44));
    Element.prototype.scrollIntoView = scrolled;
    serve(
      () => jsonResponse({ detail: [{ loc: ['body', 'query'], msg: 'too short' }], code: 'invalid_request' }, 422),
      () =>
        sseResponse([
          frame(event('start', null, { experts: ['selfhost_ops'], request_id: 'r2' })),
          frame(event('expert_complete', 'assembly', { expert_id: 'selfhost_ops', response: answer })),
          frame(event('complete', null, { response: { expert_responses: [answer], errors: [], total_processing_time_ms: 1000 } })),
        ]),
    );
    try {
      render(<App />);
      await screen.findAllByRole('checkbox', { name: /posts/ });
      await ask('ab');
      await waitFor(() => expect(screen.getByRole('textbox')).toHaveAttribute('aria-invalid', 'true'));
      expect(scrolled).not.toHaveBeenCalled();
      await ask('How to back up SQLite?');
      await screen.findByText(/1 of 1 answered/);
      expect(scrolled).toHaveBeenCalledTimes(1);
      expect(scrolled.mock.contexts[0]).toBe(document.getElementById('query-status'));
    } finally {
      vi.restoreAllMocks();
      delete (Element.prototype as Partial<Element>).scrollIntoView;
    }
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

  it('asks for the moderator and shows its synthesis above the expert cards', async () => {
    const other = { ...answer, expert_id: 'ai_architect', expert_name: 'Архитектор ИИ', main_sources: [42] };
    const fetch = serve(() =>
      sseResponse([
        frame(event('start', null, { experts: ['ai_architect', 'selfhost_ops'], model: 'openrouter' })),
        frame(event('expert_complete', 'assembly', { expert_id: 'selfhost_ops', response: answer })),
        frame(event('expert_complete', 'assembly', { expert_id: 'ai_architect', response: other })),
        frame(event('moderator', null, moderator)),
        frame(event('complete', null, { response: { expert_responses: [other, answer], moderator } })),
      ]),
    );
    render(<App />);
    await screen.findAllByRole('checkbox', { name: /posts/ });
    await ask('How to back up SQLite?');
    const region = await screen.findByRole('region', { name: 'Moderator: the answers side by side' });
    const sent = JSON.parse(String(fetch.mock.calls.find(([url]) => url === '/api/v1/query')![1]!.body));
    expect(sent.moderator).toBe(true);
    const firstCard = document.querySelector('[data-answer-card]')!;
    expect(region.compareDocumentPosition(firstCard) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
    expect(within(region).getByRole('button', { name: 'Open post 42 of “Архитектор ИИ”' })).toBeInTheDocument();
  });
});
