import { useStrings } from '../lib/i18n';
import { usePostViewer } from './postViewerContext';
import styles from './CitationButton.module.css';

interface Props {
  expertId: string;
  postId: number;
}

/** A `[post:ID]` citation: a button that opens the post. */
export function CitationButton({ expertId, postId }: Props) {
  const t = useStrings();
  const viewer = usePostViewer();
  return (
    <button
      type="button"
      className={styles.citation}
      data-post-id={postId}
      data-expert-id={expertId}
      aria-label={t.openPost(postId)}
      title={t.openPost(postId)}
      aria-haspopup="dialog"
      onClick={(event) => viewer.open(expertId, postId, event.currentTarget)}
    >
      #{postId}
    </button>
  );
}
