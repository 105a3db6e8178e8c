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

  it('translates the comments on request, and toggles them to the originals and back', async () => {
    const user = userEvent.setup();
    const withComments: Post = {
      ...translated,
      comments: translated.comments.map((c) => ({
        ...c,
        text: `EN: ${c.text}`,
        translation: { language: 'en', source_language: 'ru', status: 'translated', reason: null, model: 'm', original_text: c.text },
      })),
    };
    const load = vi.fn((...args: unknown[]) => Promise.resolve(args[4] ? withComments : translated));
    renderPage(<PostDialog expertId="selfhost_ops" postId={30} expertName="Самохост" onClose={() => undefined} load={load} />);
    const dialog = await screen.findByRole('dialog');
    await within(dialog).findByText('Ура, .backup — правильный выбор.');

    await user.click(within(dialog).getByRole('button', { name: 'Translate the comments' }));

    await within(dialog).findByText('EN: Ура, .backup — правильный выбор.');
    expect(load).toHaveBeenLastCalledWith('selfhost_ops', 30, expect.any(AbortSignal), 'en', true);
    expect(dialog).toHaveTextContent('Comments: machine translation.');
    expect(dialog).toHaveTextContent('SQLite backups, version 2'); // the post stays as it was

    await user.click(within(dialog).getByRole('button', { name: 'Show the originals' }));

    expect(within(dialog).getByText('Ура, .backup — правильный выбор.')).toBeVisible();
    expect(within(dialog).queryByText(/^EN: /)).toBeNull();
    await user.click(within(dialog).getByRole('button', { name: 'Show the translation' }));
    expect(within(dialog).getByText('EN: Ваш комментарий тоже помог, спасибо.')).toBeVisible();
  });

  it('offers no comment translation when the service cannot translate', async () => {
    open({
      ...post,
      translation: { language: 'en', source_language: 'ru', status: 'original', reason: 'budget_spent', model: null, original_text: null },
    });
    const dialog = await screen.findByRole('dialog');
    await within(dialog).findByText(/забудьте про cp/);
    expect(dialog).toHaveTextContent('Not translated: today’s token budget is spent.');
    expect(within(dialog).queryByRole('button', { name: 'Translate the comments' })).toBeNull();
  });
});
