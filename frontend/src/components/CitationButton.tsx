import { useStrings } from '../lib/i18n';
import { usePostViewer } from './postViewerContext';
import styles from './CitationButton.module.css';

interface Props {
  expertId: string;
  postId: number;
  /** A citation that names its expert (`[post:EXPERT_ID/ID]`, in a text across experts):
   *  its label says whose post it opens. */
  named?: boolean;
}

/** A `[post:ID]` citation: a button that opens the post. */
export function CitationButton({ expertId, postId, named = false }: Props) {
  const t = useStrings();
  const viewer = usePostViewer();
  const label = named ? t.openExpertPost(viewer.nameOf(expertId), postId) : t.openPost(postId);
  return (
    <button
      type="button"
      className={styles.citation}
      data-post-id={postId}
      data-expert-id={expertId}
      aria-label={label}
      title={label}
      aria-haspopup="dialog"
      onClick={(event) => viewer.open(expertId, postId, event.currentTarget)}
    >
      #{postId}
    </button>
  );
}
