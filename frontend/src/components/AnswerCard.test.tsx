import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ExpertRun } from '../lib/queryState';
import { answer, jsonResponse, post } from '../test/fixtures';
import { renderPage } from '../test/render';
import { AnswerCard } from './AnswerCard';

afterEach(() => vi.unstubAllGlobals());

const done: ExpertRun = {
  id: 'selfhost_ops',
  name: 'Самохост и эксплуатация',
  status: 'done',
  phase: 'assembly',
  phases: [],
  facts: {},
  response: answer,
};

function card(): HTMLElement {
  return screen.getByRole('article', { name: 'Самохост и эксплуатация' });
}

describe('AnswerCard', () => {
  it('shows the answer as safe Markdown with confidence, sources, time and notices', () => {
    renderPage(<AnswerCard run={done} channelUrl="https://t.me/selfhost_ops_demo" />);
    const article = card();
    expect(within(article).getByText('2025-01-13').tagName).toBe('STRONG');
    const value = (term: string) => within(article).getByText(term, { selector: 'dt' }).nextElementSibling;
    expect(value('Confidence')).toHaveTextContent('high');
    expect(value('Sources')).toHaveTextContent('2');
    expect(value('Time')).toHaveTextContent('3.1 s');
    expect(value('Posts read')).toHaveTextContent('36');
    expect(article).toHaveTextContent('встроенная модель не умеет переводить');
    // Raw HTML stays text; a javascript: link loses its target.
    expect(article.querySelector('script, b')).toBeNull();
    expect(article).toHaveTextContent('Inline <b>html</b> stays text, <script>alert(1)</script>');
    const link = within(article).getByText('link');
    expect(link.getAttribute('href') ?? '').not.toMatch(/javascript/i);
    expect(within(article).getByRole('link', { name: 'Telegram channel' })).toHaveAttribute('href', 'https://t.me/selfhost_ops_demo');
  });

  it('shows the comment insights and the comment groups, citations included', async () => {
    renderPage(<AnswerCard run={done} />);
    const article = card();
    const insights = within(article).getByRole('region', { name: 'What the comments add' });
    expect(insights).toHaveTextContent('Что добавляет сообщество');
    expect(within(insights).getByRole('button', { name: 'Open post 30' })).toBeInTheDocument();
    await userEvent.click(within(article).getByText('Comments under the sources (1)'));
    const group = article.querySelector('[data-group-kind="community"]') as HTMLElement;
    expect(group).toHaveTextContent('The community');
    expect(group).toHaveTextContent('Елена Кузнецова');
  });

  it('opens the cited post, and Escape closes it and returns focus to the citation', async () => {
    const fetch = vi.fn().mockResolvedValue(jsonResponse(post));
    vi.stubGlobal('fetch', fetch);
    renderPage(<AnswerCard run={done} />, { names: { selfhost_ops: 'Самохост и эксплуатация' } });
    const citation = within(card()).getAllByRole('button', { name: 'Open post 30' })[0]!;
    await userEvent.click(citation);
    const dialog = await screen.findByRole('dialog', { name: 'Post 30' });
    expect(fetch).toHaveBeenCalledWith('/api/v1/posts/30?expert_id=selfhost_ops&language=en', expect.anything());
    await waitFor(() => expect(dialog).toHaveTextContent('Бэкапы SQLite, версия 2'));
    expect(dialog).toHaveTextContent('1,234 views');
    expect(dialog).toHaveTextContent('edited');
    expect(dialog.querySelector('time[datetime="2025-01-13T10:00:00Z"]')).toHaveTextContent(/Jan 2025/);
    expect(within(dialog).getByRole('link', { name: /Open in Telegram/ })).toHaveAttribute('href', 'https://t.me/selfhost_ops_demo/30');
    expect(dialog).toHaveTextContent('Comments (2)');
    expect(dialog).toHaveTextContent('Ваш комментарий тоже помог');
    expect(dialog).toHaveTextContent('channel author');
    expect(within(dialog).getByRole('button', { name: 'Close' })).toHaveFocus();
    await userEvent.keyboard('{Escape}');
    expect(screen.queryByRole('dialog')).toBeNull();
    await waitFor(() => expect(citation).toHaveFocus());
  });

  it('keeps the keyboard focus on a citation while the page re-renders around it', () => {
    const { rerender } = renderPage(<AnswerCard run={done} />);
    const citation = within(card()).getAllByRole('button', { name: 'Open post 30' })[0]!;
    citation.focus();
    rerender(<AnswerCard run={{ ...done, facts: { cited: 2 } }} />);
    expect(citation).toBeInTheDocument();
    expect(citation).toHaveFocus();
  });

  it('says when the post cannot be found', async () => {
    vi.stubGlobal('fetch', vi.fn().mockResolvedValue(jsonResponse({ detail: "expert 'selfhost_ops' has no post 20" }, 404)));
    renderPage(<AnswerCard run={done} />);
    await userEvent.click(within(card()).getAllByRole('button', { name: 'Open post 20' })[0]!);
    expect(await screen.findByText('There is no such post.')).toBeInTheDocument();
  });

  it('holds its place before the answer, and shows a failure in words', () => {
    const { rerender } = renderPage(<AnswerCard run={{ ...done, status: 'running', response: undefined }} />);
    expect(card()).toHaveAttribute('aria-busy', 'true');
    expect(card()).toHaveTextContent('Waiting for the answer…');
    const failed = { ...done, status: 'failed' as const, response: undefined, error: 'the model API refused the request', errorCode: 'model_refused' };
    rerender(<AnswerCard run={failed} />);
    expect(within(card()).getByRole('alert')).toHaveTextContent(
      'This expert could not answer:The language model refused the request. Tell the administrator: the API key may be wrong.',
    );
  });

  it('words a failure by its code in the reader’s language, never in the service’s English', () => {
    const failed = { ...done, status: 'failed' as const, response: undefined, error: 'the model API did not answer; try again later', errorCode: 'model_unavailable' };
    renderPage(<AnswerCard run={failed} />, { lang: 'ru' });
    const alert = within(card()).getByRole('alert');
    expect(alert).toHaveTextContent('Этот эксперт не смог ответить:Языковая модель не отвечает. Повторите через несколько минут.');
    expect(alert).not.toHaveTextContent('model API');
  });

  it('says something went wrong, with what to do, for a code it does not know', () => {
    renderPage(<AnswerCard run={{ ...done, status: 'failed', response: undefined, error: 'x', errorCode: 'brand_new' }} />, { lang: 'ru' });
    expect(within(card()).getByRole('alert')).toHaveTextContent('Что-то пошло не так. Повторите позже.');
  });
});
