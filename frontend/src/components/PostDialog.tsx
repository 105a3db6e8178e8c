// One post in a modal dialog: its text, date, views, its t.me link, the posts it links
// with, and its comments. The post is asked for in the page's language: a translation comes
// with a note and a button to the original. Escape, the close button or a click outside
// closes it; Tab stays inside while it is open.

import { useEffect, useRef, useState, type KeyboardEvent, type ReactElement } from 'react';
import { createPortal } from 'react-dom';
import { ApiError, fetchPost, isAbort } from '../lib/api';
import { formatDateTime } from '../lib/format';
import { useStrings } from '../lib/i18n';
import { describe, problemOfError } from '../lib/problems';
import type { Post, PostComment } from '../lib/types';
import { CitationButton } from './CitationButton';
import { Comment } from './Comment';
import { Markdown } from './Markdown';
import styles from './PostDialog.module.css';
import { CommentsTranslationNote, TranslationNote } from './TranslationNote';
import { useTranslatedComments } from './useTranslatedComments';

interface Props {
  expertId: string;
  postId: number;
  expertName: string;
  onClose: () => void;
  load?: typeof fetchPost;
}

type Loaded = { state: 'loading' } | { state: 'error'; error: ApiError | Error } | { state: 'ready'; post: Post };

const FOCUSABLE =
  'a[href], button:not([disabled]), textarea:not([disabled]), input:not([disabled]), select:not([disabled]), [tabindex]:not([tabindex="-1"])';

export function PostDialog({ expertId, postId, expertName, onClose, load = fetchPost }: Props) {
  const t = useStrings();
  const [loaded, setLoaded] = useState<Loaded>({ state: 'loading' });
  const [attempt, setAttempt] = useState(0);
  const panel = useRef<HTMLDivElement>(null);
  const closeButton = useRef<HTMLButtonElement>(null);
  const titleId = `post-dialog-title`;

  useEffect(() => {
    const controller = new AbortController();
    setLoaded({ state: 'loading' });
    load(expertId, postId, controller.signal, t.lang).then(
      (post) => setLoaded({ state: 'ready', post }),
      (error: unknown) => {
        if (isAbort(error)) return;
        setLoaded({ state: 'error', error: error instanceof Error ? error : new Error(String(error)) });
      },
    );
    return () => controller.abort();
  }, [expertId, postId, attempt, load, t.lang]);

  useEffect(() => {
    document.documentElement.classList.add('dialog-open');
    closeButton.current?.focus();
    return () => document.documentElement.classList.remove('dialog-open');
  }, []);

  // Moving to a linked post starts at the top of the new one.
  useEffect(() => {
    panel.current?.scrollTo?.({ top: 0 });
  }, [postId]);

  function onKeyDown(event: KeyboardEvent<HTMLDivElement>) {
    if (event.key === 'Escape') {
      event.stopPropagation();
      onClose();
      return;
    }
    if (event.key !== 'Tab' || !panel.current) return;
    const items = [...panel.current.querySelectorAll<HTMLElement>(FOCUSABLE)];
    if (items.length === 0) return;
    const first = items[0]!;
    const last = items[items.length - 1]!;
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  }

  return createPortal(
    <div
      className={styles.backdrop}
      onMouseDown={(event) => {
        if (event.target === event.currentTarget) onClose();
      }}
    >
      <div
        ref={panel}
        className={styles.dialog}
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        aria-busy={loaded.state === 'loading'}
        onKeyDown={onKeyDown}
      >
        <header className={styles.header}>
          <div>
            <h2 id={titleId} className={styles.title}>
              {t.postTitle(postId)}
            </h2>
            <p className={styles.expert}>{expertName}</p>
          </div>
          <button ref={closeButton} type="button" className={styles.close} onClick={onClose} aria-label={t.close}>
            <span aria-hidden="true">×</span>
          </button>
        </header>
        {loaded.state === 'loading' && (
          <p className={styles.loading} role="status">
            {t.loadingPost}
          </p>
        )}
        {loaded.state === 'error' && (
          <div className={styles.error} role="alert">
            <p>
              {loaded.error instanceof ApiError && loaded.error.kind === 'not_found'
                ? t.postMissing
                : describe(t, problemOfError(loaded.error))}
            </p>
            {!(loaded.error instanceof ApiError && loaded.error.kind === 'not_found') && (
              <button type="button" className={styles.retry} onClick={() => setAttempt((n) => n + 1)}>
                {t.retry}
              </button>
            )}
          </div>
        )}
        {loaded.state === 'ready' && <PostBody post={loaded.post} load={load} />}
      </div>
    </div>,
    document.body,
  );
}

function PostBody({ post, load }: { post: Post; load: typeof fetchPost }) {
  const t = useStrings();
  const comments = useTranslatedComments(post, load);
  const [showingOriginal, setShowingOriginal] = useState(false);
  const original = post.translation?.original_text ?? null;
  const text = showingOriginal && original !== null ? original : post.text;
  const outgoing = unique(post.links.filter((l) => l.direction === 'out').map((l) => l.telegram_message_id));
  const incoming = unique(post.links.filter((l) => l.direction === 'in').map((l) => l.telegram_message_id));
  return (
    <div className={styles.body} data-post-view={post.telegram_message_id}>
      <ul className={styles.meta}>
        <li>
          <time dateTime={post.date}>{formatDateTime(post.date, t.locale)}</time>
          {post.edited_at && <span className={styles.edited}> · {t.edited}</span>}
        </li>
        {post.views !== null && <li>{t.views(post.views)}</li>}
        {post.forwards !== null && <li>{t.forwards(post.forwards)}</li>}
        {post.forwarded_from && (
          <li>
            {t.forwardedFrom} {post.forwarded_from}
          </li>
        )}
      </ul>
      {post.telegram_url && (
        <p className={styles.telegram}>
          <a href={post.telegram_url} target="_blank" rel="noopener noreferrer">
            {t.openInTelegram} <span aria-hidden="true">↗</span>
          </a>
        </p>
      )}
      <TranslationNote
        translation={post.translation}
        showingOriginal={showingOriginal}
        onToggle={() => setShowingOriginal((shown) => !shown)}
      />
      <Markdown expertId={post.expert_id} className={styles.text} part="post">
        {text}
      </Markdown>
      {(outgoing.length > 0 || incoming.length > 0) && (
        <dl className={styles.links}>
          {outgoing.length > 0 && (
            <div>
              <dt>{t.linksOut}</dt>
              <dd>
                {outgoing.map((id) => (
                  <CitationButton key={id} expertId={post.expert_id} postId={id} />
                ))}
              </dd>
            </div>
          )}
          {incoming.length > 0 && (
            <div>
              <dt>{t.linksIn}</dt>
              <dd>
                {incoming.map((id) => (
                  <CitationButton key={id} expertId={post.expert_id} postId={id} />
                ))}
              </dd>
            </div>
          )}
        </dl>
      )}
      <section className={styles.comments} aria-labelledby="post-comments-title">
        <h3 id="post-comments-title" className={styles.commentsTitle}>
          {t.commentsHeading(post.comments.length)}
        </h3>
        {comments.offered && (
          <CommentsTranslationNote
            view={comments.view}
            untranslated={comments.untranslated}
            onTranslate={comments.translate}
            onToggle={comments.toggle}
          />
        )}
        {post.comments.length === 0 ? (
          <p className={styles.noComments}>{t.noComments}</p>
        ) : (
          <CommentThread comments={comments.shown} />
        )}
      </section>
    </div>
  );
}

function unique(ids: number[]): number[] {
  return [...new Set(ids)];
}

/** Comments with their replies indented under them (one level deep; deeper replies follow). */
function CommentThread({ comments }: { comments: PostComment[] }) {
  const ids = new Set(comments.map((c) => c.telegram_message_id));
  const replies = new Map<number, PostComment[]>();
  const roots: PostComment[] = [];
  for (const comment of comments) {
    const parent = comment.parent_comment_id;
    if (parent !== null && ids.has(parent)) {
      replies.set(parent, [...(replies.get(parent) ?? []), comment]);
    } else {
      roots.push(comment);
    }
  }
  const render = (comment: PostComment, depth: number): ReactElement => (
    <li key={comment.telegram_message_id} className={styles.comment}>
      <Comment comment={comment} />
      {(replies.get(comment.telegram_message_id)?.length ?? 0) > 0 && (
        <ul className={depth < 3 ? styles.replies : styles.flatReplies}>
          {replies.get(comment.telegram_message_id)!.map((reply) => render(reply, depth + 1))}
        </ul>
      )}
    </li>
  );
  return <ul className={styles.commentList}>{roots.map((c) => render(c, 0))}</ul>;
}
