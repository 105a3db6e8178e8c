import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { jsonResponse, moderator, post } from '../test/fixtures';
import { renderPage } from '../test/render';
import { Markdown } from './Markdown';
import { ModeratorCard } from './ModeratorCard';

afterEach(() => vi.unstubAllGlobals());

const names = { selfhost_ops: 'Самохост и эксплуатация', ai_architect: 'Архитектор ИИ' };

function card(): HTMLElement {
  return screen.getByRole('region', { name: 'Moderator: the answers side by side' });
}

describe('ModeratorCard', () => {
  it('shows the synthesis, each citation a button naming its expert', () => {
    renderPage(<ModeratorCard moderator={moderator} pending={false} />, { names });
    const region = card();
    expect(within(region).getByText('Согласны').tagName).toBe('STRONG');
    const buttons = within(region).getAllByRole('button');
    expect(buttons.map((b) => [b.dataset.expertId, b.dataset.postId])).toEqual([
      ['selfhost_ops', '14'],
      ['ai_architect', '42'],
      ['selfhost_ops', '30'],
    ]);
    expect(buttons[1]).toHaveAccessibleName('Open post 42 of “Архитектор ИИ”');
    expect(region).not.toHaveTextContent('[post:');
  });

  it('opens the cited post of the expert the citation names', async () => {
    const fetch = vi.fn().mockResolvedValue(jsonResponse(post));
    vi.stubGlobal('fetch', fetch);
    renderPage(<ModeratorCard moderator={moderator} pending={false} />, { names });
    await userEvent.click(within(card()).getByRole('button', { name: /Open post 30 of/ }));
    const dialog = await screen.findByRole('dialog', { name: 'Post 30' });
    expect(fetch).toHaveBeenCalledWith('/api/v1/posts/30?expert_id=selfhost_ops&language=en', expect.anything());
    await waitFor(() => expect(dialog).toHaveTextContent('Бэкапы SQLite, версия 2'));
  });

  it('opens no post for a citation that names no expert', () => {
    const bare = { ...moderator, synthesis: 'Both agree [post:14].' };
    renderPage(<ModeratorCard moderator={bare} pending={false} />, { names });
    expect(within(card()).queryByRole('button')).toBeNull();
    expect(card()).toHaveTextContent('Both agree 14.');
  });

  it('lets no expert’s own text open another expert’s post', () => {
    renderPage(<Markdown expertId="selfhost_ops">{'See [post:ai_architect/42] and [post:30].'}</Markdown>, { names });
    const buttons = screen.getAllByRole('button');
    expect(buttons.map((b) => [b.dataset.expertId, b.dataset.postId])).toEqual([['selfhost_ops', '30']]);
  });

  it('says when the moderator failed, with its notice, and says it is coming while it runs', () => {
    const failed = { ...moderator, synthesis: null, notices: ['The experts’ answers could not be compared: the model API refused the request.'] };
    const { rerender } = renderPage(<ModeratorCard pending />, { names });
    expect(card()).toHaveTextContent('once at least two experts have answered');
    expect(card()).toHaveAttribute('aria-busy', 'true');
    rerender(<ModeratorCard moderator={failed} pending={false} />);
    expect(card()).toHaveTextContent('The moderator could not compare the answers.');
    expect(card()).toHaveTextContent('the model API refused the request');
    expect(card().dataset.moderator).toBe('failed');
  });

  it('is absent when not asked for, or once a query ends without it', () => {
    renderPage(<ModeratorCard pending={false} />, { names });
    expect(screen.queryByRole('region')).toBeNull();
  });
});
