import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import type { Post } from '../lib/types';
import { post } from '../test/fixtures';
import { renderPage } from '../test/render';
import { PostDialog } from './PostDialog';

const ORIGINAL = post.text;
const TRANSLATED = 'SQLite backups, version 2: forget cp\n\nUse `.backup`.';

const translated: Post = {
  ...post,
  text: TRANSLATED,
  translation: {
    language: 'en',
    source_language: 'ru',
    status: 'translated',
    reason: null,
    model: 'google/gemini-2.5-flash-lite',
    original_text: ORIGINAL,
  },
};

function open(answer: Post, lang: 'en' | 'ru' = 'en') {
  const load = vi.fn(() => Promise.resolve(answer));
  renderPage(<PostDialog expertId="selfhost_ops" postId={30} expertName="Самохост" onClose={() => undefined} load={load} />, { lang });
  return load;
}

describe('PostDialog in the page’s language', () => {
  it('asks for the post in the page’s language', async () => {
    const load = open(translated);
    await screen.findByText(/SQLite backups, version 2/);
    expect(load).toHaveBeenCalledWith('selfhost_ops', 30, expect.any(AbortSignal), 'en');
  });

  it('shows the translation, says so, and toggles to the original and back', async () => {
    const user = userEvent.setup();
    open(translated);
    const dialog = await screen.findByRole('dialog');
    await within(dialog).findByText(/SQLite backups, version 2/);
    expect(dialog).toHaveTextContent('Machine translation from Russian.');
    expect(dialog).not.toHaveTextContent('забудьте про cp');

    await user.click(within(dialog).getByRole('button', { name: 'Show the original' }));

    expect(dialog).toHaveTextContent('Бэкапы SQLite, версия 2: забудьте про cp');
    expect(dialog).not.toHaveTextContent('SQLite backups, version 2');
    expect(dialog).toHaveTextContent('The original (Russian).');
    expect(dialog.querySelector('[data-translation-view]')?.getAttribute('data-translation-view')).toBe('original');

    await user.click(within(dialog).getByRole('button', { name: 'Show the translation' }));

    expect(dialog).toHaveTextContent('SQLite backups, version 2');
    expect(dialog).toHaveTextContent('Machine translation from Russian.');
  });

  it('speaks the page’s language in the note', async () => {
    open({ ...translated, text: 'Перевод', translation: { ...translated.translation!, language: 'ru', source_language: 'en', original_text: 'The original' } }, 'ru');
    const dialog = await screen.findByRole('dialog');
    await within(dialog).findByText('Перевод');
    expect(dialog).toHaveTextContent('Машинный перевод. Язык оригинала: английский.');
    expect(within(dialog).getByRole('button', { name: 'Показать оригинал' })).toBeVisible();
  });

  it('says why a post in another language is shown untranslated, with no toggle', async () => {
    open({
      ...post,
      translation: { language: 'en', source_language: 'ru', status: 'original', reason: 'no_key', model: null, original_text: null },
    });
    const dialog = await screen.findByRole('dialog');
    await within(dialog).findByText(/забудьте про cp/);
    expect(dialog).toHaveTextContent('The original (Russian).');
    expect(dialog).toHaveTextContent('Not translated: no model API key is set');
    expect(within(dialog).queryByRole('button', { name: /original|translation/ })).toBeNull();
  });

  it('adds nothing to a post already in the page’s language', async () => {
    open({
      ...post,
      translation: { language: 'ru', source_language: 'ru', status: 'original', reason: 'same_language', model: null, original_text: null },
    }, 'ru');
    const dialog = await screen.findByRole('dialog');
    await within(dialog).findByText(/забудьте про cp/);
    expect(dialog.querySelector('[data-translation-view]')).toBeNull();
  });
});
