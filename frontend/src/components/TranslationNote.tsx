// Above a post asked for in the page's language: that it is a machine translation, with a
// button to the original and back; or, when the service could not translate it, that it is
// the original and why. A post already in the page's language gets no note. Under the
// comments' heading, a button to have them translated too, then the same toggle for them.

import type { PostTranslation } from '../lib/types';
import { useStrings } from '../lib/i18n';
import styles from './TranslationNote.module.css';
import type { CommentsView } from './useTranslatedComments';

interface Props {
  translation: PostTranslation | null;
  showingOriginal: boolean;
  onToggle: () => void;
}

export function TranslationNote({ translation, showingOriginal, onToggle }: Props) {
  const t = useStrings();
  if (!translation) return null;
  const source = translation.source_language ? t.languageName(translation.source_language) : '';
  if (translation.original_text !== null) {
    return (
      <p className={styles.note} data-translation-view={showingOriginal ? 'original' : 'translation'}>
        <span>{showingOriginal ? t.showingOriginal(source) : t.translatedFrom(source)}</span>
        <button type="button" className={styles.toggle} onClick={onToggle}>
          {showingOriginal ? t.showTranslation : t.showOriginal}
        </button>
      </p>
    );
  }
  const reason = translation.reason;
  if (reason === 'no_key' || reason === 'budget_spent' || reason === 'model_failed') {
    return (
      <p className={`${styles.note} ${styles.untranslated}`} data-translation-view="untranslated">
        {source && <span>{t.showingOriginal(source)}</span>}
        <span>{t.notTranslated[reason]}</span>
      </p>
    );
  }
  return null;
}

interface CommentsProps {
  view: CommentsView;
  untranslated: 'no_key' | 'budget_spent' | 'model_failed' | undefined;
  onTranslate: () => void;
  onToggle: () => void;
}

/** Under the comments' heading: a button to have them translated, then which they show. */
export function CommentsTranslationNote({ view, untranslated, onTranslate, onToggle }: CommentsProps) {
  const t = useStrings();
  if (view.state === 'translated') {
    return (
      <p className={styles.note} data-comments-view={view.showingOriginals ? 'original' : 'translation'}>
        <span>{view.showingOriginals ? t.commentsOriginal : t.commentsTranslated}</span>
        {untranslated && <span>{t.notTranslated[untranslated]}</span>}
        <button type="button" className={styles.toggle} onClick={onToggle}>
          {view.showingOriginals ? t.showCommentTranslations : t.showCommentOriginals}
        </button>
      </p>
    );
  }
  return (
    <p className={styles.note} data-comments-view={view.state}>
      {view.state === 'failed' && <span role="alert">{t.commentsTranslationFailed}</span>}
      <button type="button" className={styles.toggle} onClick={onTranslate} disabled={view.state === 'loading'}>
        {view.state === 'loading' ? t.translatingComments : view.state === 'failed' ? t.retry : t.translateComments}
      </button>
    </p>
  );
}
