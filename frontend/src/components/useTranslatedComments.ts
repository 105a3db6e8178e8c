// A post's comments in the page's language, on the reader's request: the post is asked for
// again with its comments translated (one model call a comment, so not by default), and the
// reader can go back to the originals and forth.

import { useCallback, useEffect, useRef, useState } from 'react';
import { fetchPost, isAbort } from '../lib/api';
import type { Post, PostComment, PostTranslation } from '../lib/types';

export type CommentsView =
  | { state: 'original' }
  | { state: 'loading' }
  | { state: 'failed' }
  | { state: 'translated'; comments: PostComment[]; showingOriginals: boolean };

/** Why translating would not help: the service said so for the post itself. */
const HOPELESS: readonly (PostTranslation['reason'] | undefined)[] = ['no_key', 'budget_spent'];

export function useTranslatedComments(post: Post, load: typeof fetchPost) {
  const [view, setView] = useState<CommentsView>({ state: 'original' });
  const running = useRef<AbortController | null>(null);
  useEffect(() => () => running.current?.abort(), []);

  const language = post.translation?.language;
  const offered = language !== undefined && post.comments.length > 0 && !HOPELESS.includes(post.translation?.reason);

  const translate = useCallback(() => {
    if (!language) return;
    running.current?.abort();
    const controller = new AbortController();
    running.current = controller;
    setView({ state: 'loading' });
    load(post.expert_id, post.telegram_message_id, controller.signal, language, true).then(
      (got) => setView({ state: 'translated', comments: got.comments, showingOriginals: false }),
      (error: unknown) => {
        if (!isAbort(error)) setView({ state: 'failed' });
      },
    );
  }, [language, load, post.expert_id, post.telegram_message_id]);

  const toggle = useCallback(() => {
    setView((current) => (current.state === 'translated' ? { ...current, showingOriginals: !current.showingOriginals } : current));
  }, []);

  const shown = view.state === 'translated' && !view.showingOriginals ? view.comments : post.comments;
  // A comment the service could not translate says why (the first such reason is enough).
  const untranslated =
    view.state === 'translated'
      ? view.comments.map((c) => c.translation?.reason).find((r) => r === 'no_key' || r === 'budget_spent' || r === 'model_failed')
      : undefined;
  return { offered, view, shown, untranslated, translate, toggle };
}
