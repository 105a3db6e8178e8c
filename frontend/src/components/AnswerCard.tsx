// One expert's answer: the Markdown answer with its citations, confidence, sources, time,
// notices, what the comments add, and the comment groups. Before the answer arrives the
// card keeps its place and size, so nothing jumps when it does.

import { memo } from 'react';
import { useStrings } from '../lib/i18n';
import { describe, problemOf } from '../lib/problems';
import type { ExpertRun } from '../lib/queryState';
import type { CommentGroup, ExpertResponse } from '../lib/types';
import { CitationButton } from './CitationButton';
import { Comment } from './Comment';
import { Markdown } from './Markdown';
import styles from './AnswerCard.module.css';

interface Props {
  run: ExpertRun;
  channelUrl?: string | null;
}

export const AnswerCard = memo(function AnswerCard({ run, channelUrl }: Props) {
  const t = useStrings();
  const response = run.response;
  const headingId = `answer-${run.id}`;
  const url = channelUrl ?? (response?.channel_username ? `https://t.me/${response.channel_username}` : null);
  return (
    <article
      className={`${styles.card} ${styles[run.status]}`}
      aria-labelledby={headingId}
      aria-busy={run.status === 'waiting' || run.status === 'running'}
      data-answer-card={run.id}
      data-status={run.status}
    >
      <header className={styles.header}>
        <h3 id={headingId} className={styles.title}>
          {response?.expert_name ?? run.name}
        </h3>
        {url && (
          <a className={styles.channel} href={url} target="_blank" rel="noopener noreferrer">
            {t.channel}
          </a>
        )}
      </header>
      {response ? (
        <Answer response={response} />
      ) : run.status === 'failed' ? (
        <div className={styles.failure} role="alert">
          <p className={styles.failureTitle}>
            <span aria-hidden="true">✕ </span>
            {t.expertFailed}
          </p>
          <p className={styles.failureText} data-error-code={run.errorCode ?? ''}>
            {describe(t, problemOf(run.errorCode))}
          </p>
        </div>
      ) : run.status === 'stopped' ? (
        <p className={styles.placeholderText}>{t.stoppedBeforeAnswer}</p>
      ) : (
        <div className={styles.placeholder}>
          <p className={styles.placeholderText}>{t.waitingAnswer}</p>
          <div className={styles.skeleton} aria-hidden="true">
            <span />
            <span />
            <span />
            <span />
          </div>
        </div>
      )}
    </article>
  );
});

function Answer({ response }: { response: ExpertResponse }) {
  const t = useStrings();
  const groups = response.relevant_comment_groups;
  return (
    <>
      <dl className={styles.meta}>
        <div>
          <dt>{t.confidenceLabel}</dt>
          <dd>
            <span className={`${styles.confidence} ${styles[`confidence${response.confidence}`]}`} data-confidence={response.confidence}>
              {t.confidence[response.confidence] ?? response.confidence}
            </span>
          </dd>
        </div>
        <div>
          <dt>{t.sourcesLabel}</dt>
          <dd data-sources={response.main_sources.length}>{response.main_sources.length}</dd>
        </div>
        <div>
          <dt>{t.timeLabel}</dt>
          <dd>{t.seconds(response.processing_time_ms)}</dd>
        </div>
        <div>
          <dt>{t.postsReadLabel}</dt>
          <dd>{response.posts_analyzed}</dd>
        </div>
      </dl>
      {response.notices.length > 0 && (
        <ul className={styles.notices} aria-label={t.notices}>
          {response.notices.map((notice, i) => (
            <li key={i}>
              <span aria-hidden="true" className={styles.noticeIcon}>
                i
              </span>
              {notice}
            </li>
          ))}
        </ul>
      )}
      <Markdown expertId={response.expert_id} className={styles.answer} part="answer">
        {response.answer}
      </Markdown>
      {response.main_sources.length > 0 && (
        <p className={styles.sources}>
          <span className={styles.sourcesLabel}>{t.sourcesList}</span>{' '}
          {response.main_sources.map((id) => (
            <CitationButton key={id} expertId={response.expert_id} postId={id} />
          ))}
        </p>
      )}
      {response.comment_groups_synthesis && (
        <section className={styles.insights} aria-label={t.insightsHeading}>
          <h4 className={styles.sectionTitle}>{t.insightsHeading}</h4>
          <Markdown expertId={response.expert_id} part="synthesis">
            {response.comment_groups_synthesis}
          </Markdown>
        </section>
      )}
      {groups.length > 0 && (
        <details className={styles.groups}>
          <summary>{t.groupsHeading(groups.length)}</summary>
          <ul className={styles.groupList}>
            {groups.map((group, i) => (
              <Group key={`${group.post_telegram_message_id}-${group.kind}-${i}`} group={group} expertId={response.expert_id} />
            ))}
          </ul>
        </details>
      )}
    </>
  );
}

function Group({ group, expertId }: { group: CommentGroup; expertId: string }) {
  const t = useStrings();
  const topics = group.topics
    .map((topic) => (typeof topic.topic === 'string' ? topic.topic : null))
    .filter((x): x is string => Boolean(x));
  return (
    <li className={styles.group} data-group-kind={group.kind}>
      <p className={styles.groupHead}>
        <span className={`${styles.kind} ${styles[`kind_${group.kind}`]}`}>{t.groupKind[group.kind] ?? group.kind}</span>{' '}
        <span className={styles.under}>
          {t.underPost} <CitationButton expertId={expertId} postId={group.post_telegram_message_id} />
        </span>
        {topics.length > 0 && <span className={styles.topics}> · {topics.join(', ')}</span>}
      </p>
      <ul className={styles.comments}>
        {group.comments.map((comment) => (
          <li key={comment.telegram_message_id}>
            <Comment comment={comment} />
          </li>
        ))}
      </ul>
    </li>
  );
}
