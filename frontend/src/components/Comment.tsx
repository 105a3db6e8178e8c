import { formatDateTime } from '../lib/format';
import { useStrings } from '../lib/i18n';
import type { GroupComment } from '../lib/types';
import styles from './Comment.module.css';

type Props = { comment: Pick<GroupComment, 'author_name' | 'date' | 'text' | 'is_channel_author'> };

/** One comment from a channel's discussion group: who, when, what. */
export function Comment({ comment }: Props) {
  const t = useStrings();
  return (
    <article className={styles.comment}>
      <p className={styles.head}>
        <span className={styles.author}>{comment.author_name || t.anonymous}</span>
        {comment.is_channel_author && <span className={styles.badge}>{t.channelAuthor}</span>}
        <time className={styles.date} dateTime={comment.date}>
          {formatDateTime(comment.date, t.locale)}
        </time>
      </p>
      <p className={styles.text}>{comment.text}</p>
    </article>
  );
}
