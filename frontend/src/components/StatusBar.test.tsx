import { act, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ExpertRun, QueryState } from '../lib/queryState';
import { answer } from '../test/fixtures';
import { renderPage } from '../test/render';
import { StatusBar } from './StatusBar';

afterEach(() => vi.useRealTimers());

function expert(id: string, status: ExpertRun['status'], errorCode?: string): ExpertRun {
  return {
    id,
    name: id,
    status,
    phase: 'map',
    phases: ['map'],
    facts: {},
    ...(status === 'done' ? { response: answer } : {}),
    ...(errorCode ? { error: 'the service’s own English line', errorCode } : {}),
  };
}

const request = { query: 'Как делать бэкапы SQLite?' };

function bar(): HTMLElement {
  return document.querySelector('[data-query-status]')!;
}

describe('StatusBar', () => {
  it('says that nobody answered, and why, when every expert failed', () => {
    const state: QueryState = {
      status: 'complete',
      request,
      totalMs: 4200,
      experts: ['a', 'b', 'c'].map((id) => expert(id, 'failed', 'model_unavailable')),
    };
    renderPage(<StatusBar state={state} onRetry={() => undefined} />, { lang: 'ru' });
    const alert = screen.getByRole('alert');
    expect(alert).toHaveTextContent(
      'Ни один из 3 экспертов не ответил: Языковая модель не отвечает (3). Повторите через несколько минут.',
    );
    expect(bar()).not.toHaveTextContent('Готово');
    expect(bar()).not.toHaveTextContent('model API');
    expect(within(bar()).getByRole('button', { name: 'Повторить' })).toBeInTheDocument();
  });

  it('says how many answered and why the others did not', () => {
    const state: QueryState = {
      status: 'complete',
      request,
      totalMs: 3300,
      experts: [expert('a', 'done'), expert('b', 'failed', 'model_refused'), expert('c', 'failed', 'internal'), expert('d', 'done')],
    };
    renderPage(<StatusBar state={state} onRetry={() => undefined} />, { lang: 'ru' });
    expect(screen.getByRole('status')).toHaveTextContent(
      'Готово за 3,3 с: ответили 2 из 4. Не ответили 2 эксперта: Языковая модель отклонила запрос. Внутренняя ошибка сервиса.',
    );
  });

  it('words a query that failed whole by its code', () => {
    const state: QueryState = { status: 'failed', request, experts: [], errorKind: 'server', errorCode: 'query_timeout', message: 'the query took too long and was stopped' };
    renderPage(<StatusBar state={state} onRetry={() => undefined} />, { lang: 'ru' });
    expect(screen.getByRole('alert')).toHaveTextContent('Ответ готовился слишком долго и был остановлен. Повторите или выберите меньше экспертов.');
  });

  it('shows how many have answered and the running time, second by second', () => {
    vi.useFakeTimers();
    let now = 10_000;
    const state: QueryState = { status: 'running', request, startedAt: 10_000, experts: [expert('a', 'done'), expert('b', 'running'), expert('c', 'waiting')] };
    renderPage(<StatusBar state={state} onRetry={() => undefined} now={() => now} />, { lang: 'ru' });
    expect(screen.getByRole('status')).toHaveTextContent('Эксперты отвечают: 1 из 3 · 0 с');
    now = 12_400;
    act(() => vi.advanceTimersByTime(1000));
    expect(screen.getByRole('status')).toHaveTextContent('Эксперты отвечают: 1 из 3 · 2 с');
  });
});
