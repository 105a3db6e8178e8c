// The moderator's synthesis across the experts' answers, above their cards: where they agree,
// where they differ. Its citations name the expert (`[post:EXPERT_ID/ID]`), so each button
// opens that expert's post. While the experts still work, a line says it is coming.

import { useStrings } from '../lib/i18n';
import type { Moderator } from '../lib/types';
import { Markdown } from './Markdown';
import styles from './ModeratorCard.module.css';

interface Props {
  moderator?: Moderator;
  /** The query asked for the moderator and is still running. */
  pending: boolean;
}

export function ModeratorCard({ moderator, pending }: Props) {
  const t = useStrings();
  if (!moderator && !pending) return null;
  return (
    <section
      className={styles.card}
      aria-labelledby="moderator-title"
      aria-busy={!moderator}
      data-moderator={moderator ? (moderator.synthesis === null ? 'failed' : 'ready') : 'pending'}
    >
      <h2 id="moderator-title" className={styles.title}>
        {t.moderatorHeading}
      </h2>
      {!moderator ? (
        <p className={styles.pending}>{t.moderatorPending}</p>
      ) : (
        <>
          {moderator.synthesis === null && <p className={styles.failed}>{t.moderatorFailed}</p>}
          {moderator.notices.length > 0 && (
            <ul className={styles.notices} aria-label={t.notices}>
              {moderator.notices.map((notice, i) => (
                <li key={i}>{notice}</li>
              ))}
            </ul>
          )}
          {moderator.synthesis !== null && (
            // No expert of its own: only citations that name theirs open a post.
            <Markdown expertId="" part="moderator">
              {moderator.synthesis}
            </Markdown>
          )}
        </>
      )}
    </section>
  );
}
