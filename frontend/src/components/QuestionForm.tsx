// The question (3-1000 characters, counted as typed), the experts to ask, the comment
// groups option, the moderator switch, how recent the posts must be, and Ask / Cancel. The server is the judge of a valid request: a question
// that looks too short is still sent, and the server's reasons (422) show beside the field
// they are about.

import { useEffect, useId, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import type { FieldError } from '../lib/api';
import { useStrings } from '../lib/i18n';
import type { Expert, QueryRequest } from '../lib/types';
import styles from './QuestionForm.module.css';

export const MIN_LENGTH = 3;
export const MAX_LENGTH = 1000;
/** The windows offered for "recent only", in months; null is every post (the default). */
export const RECENT_CHOICES = [null, 3, 6, 12] as const;
type Recent = (typeof RECENT_CHOICES)[number];

export type ExpertsLoad =
  | { state: 'loading' }
  | { state: 'ready'; experts: Expert[] }
  | { state: 'error'; message: string };

interface Props {
  experts: ExpertsLoad;
  onReloadExperts: () => void;
  running: boolean;
  fieldErrors: FieldError[];
  onAsk: (request: QueryRequest) => void;
  onCancel: () => void;
  /** Every change of the question's text (the page's language follows it). */
  onQuestionChange?: (question: string) => void;
  /** Any edit makes the server's old reasons stale. */
  onEdit?: () => void;
}

/** Characters as the service counts them (code points, not UTF-16 units). */
export function characterCount(text: string): number {
  return [...text].length;
}

export function QuestionForm({
  experts,
  onReloadExperts,
  running,
  fieldErrors,
  onAsk,
  onCancel,
  onQuestionChange,
  onEdit,
}: Props) {
  const t = useStrings();
  const ids = useId();
  const [question, setQuestion] = useState('');
  const [unchecked, setUnchecked] = useState<Set<string>>(() => new Set());
  // Asked for unless the reader opts out: the drifted discussions often hold the answer's
  // missing half.
  const [includeGroups, setIncludeGroups] = useState(true);
  const [recent, setRecent] = useState<Recent>(null);
  // On unless the reader turns it off: comparing the answers is what a panel is for. (The API
  // leaves it off: it costs a model call.)
  const [moderator, setModerator] = useState(true);
  const askButton = useRef<HTMLButtonElement>(null);
  const cancelButton = useRef<HTMLButtonElement>(null);
  const wasRunning = useRef(running);

  const count = characterCount(question);
  const trimmed = characterCount(question.trim());
  const questionErrors = fieldErrors.filter((e) => e.field === 'query');
  const expertErrors = fieldErrors.filter((e) => e.field === 'expert_filter');
  const recentErrors = fieldErrors.filter((e) => e.field === 'recent_months');
  const otherErrors = fieldErrors.filter(
    (e) => e.field !== 'query' && e.field !== 'expert_filter' && e.field !== 'recent_months',
  );

  // Keep the keyboard where it was useful: Ask turns off while a query runs, Cancel after.
  useEffect(() => {
    const active = document.activeElement;
    const lost = active === null || active === document.body;
    if (running && !wasRunning.current && (lost || active === askButton.current)) {
      cancelButton.current?.focus();
    } else if (!running && wasRunning.current && (lost || active === cancelButton.current)) {
      askButton.current?.focus();
    }
    wasRunning.current = running;
  }, [running]);

  function submit(event?: FormEvent) {
    event?.preventDefault();
    if (running) return;
    const all = experts.state === 'ready' ? experts.experts.map((e) => e.id) : [];
    const chosen = all.filter((id) => !unchecked.has(id));
    onAsk({
      query: question,
      // Everyone (or the list did not load): let the service ask all of its experts.
      expert_filter: experts.state !== 'ready' || unchecked.size === 0 ? null : chosen,
      include_comments: true,
      include_comment_groups: includeGroups,
      // Left out for every post: the request is then the same as before the switch existed.
      ...(recent === null ? {} : { recent_months: recent }),
      moderator,
    });
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) submit();
  }

  function toggle(id: string) {
    onEdit?.();
    setUnchecked((previous) => {
      const next = new Set(previous);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  }

  const counterId = `${ids}-counter`;
  const errorId = `${ids}-error`;
  const expertErrorId = `${ids}-experts-error`;
  const recentErrorId = `${ids}-recent-error`;
  const short = trimmed > 0 && trimmed < MIN_LENGTH;

  return (
    <form className={styles.form} onSubmit={submit} noValidate aria-label={t.questionLabel}>
      <div className={styles.field}>
        <label htmlFor={`${ids}-question`} className={styles.label}>
          {t.questionLabel}
        </label>
        <textarea
          id={`${ids}-question`}
          name="query"
          className={styles.question}
          value={question}
          rows={3}
          maxLength={MAX_LENGTH}
          placeholder={t.questionPlaceholder}
          aria-describedby={`${counterId} ${errorId}`}
          aria-invalid={questionErrors.length > 0 || undefined}
          onChange={(event) => {
            setQuestion(event.target.value);
            onQuestionChange?.(event.target.value);
            onEdit?.();
          }}
          onKeyDown={onKeyDown}
        />
        <div className={styles.under}>
          <div id={errorId} className={styles.errors} aria-live="assertive">
            {questionErrors.map((e, i) => (
              <p key={i} className={styles.error} data-field-error="query">
                {t.serverRefused} {e.message}
              </p>
            ))}
          </div>
          <p
            id={counterId}
            className={[styles.counter, short || count >= MAX_LENGTH ? styles.counterWarn : ''].join(' ')}
            data-counter={count}
          >
            {short && <span className={styles.hint}>{t.tooShort(MIN_LENGTH)} · </span>}
            <span className="visually-hidden">{t.counterLabel(count, MAX_LENGTH)}</span>
            <span aria-hidden="true">{t.counter(count, MAX_LENGTH)}</span>
          </p>
        </div>
      </div>

      <fieldset
        className={styles.experts}
        aria-describedby={expertErrors.length ? expertErrorId : undefined}
        aria-busy={experts.state === 'loading'}
      >
        <legend className={styles.label}>{t.expertsLegend}</legend>
        {experts.state === 'loading' && (
          <p className={styles.expertsNote} role="status">
            {t.expertsLoading}
          </p>
        )}
        {experts.state === 'error' && (
          <div className={styles.expertsNote} role="alert">
            <span className={styles.errorText}>{experts.message}</span>{' '}
            <button type="button" className={styles.secondary} onClick={onReloadExperts}>
              {t.retry}
            </button>
          </div>
        )}
        {experts.state === 'ready' && experts.experts.length === 0 && (
          <p className={styles.expertsNote}>{t.expertsNone}</p>
        )}
        {experts.state === 'ready' && experts.experts.length > 0 && (
          <ul className={styles.expertList}>
            {experts.experts.map((expert) => (
              <li key={expert.id}>
                <label className={styles.expert}>
                  <input
                    type="checkbox"
                    name="expert"
                    value={expert.id}
                    checked={!unchecked.has(expert.id)}
                    onChange={() => toggle(expert.id)}
                  />
                  <span className={styles.expertText}>
                    <span className={styles.expertName}>{expert.name}</span>
                    <span className={styles.expertMeta}>{t.expertMeta(expert.post_count, expert.comment_count)}</span>
                  </span>
                </label>
              </li>
            ))}
          </ul>
        )}
        <div id={expertErrorId} aria-live="assertive">
          {expertErrors.map((e, i) => (
            <p key={i} className={styles.error} data-field-error="expert_filter">
              {t.serverRefused} {e.message}
            </p>
          ))}
        </div>
      </fieldset>

      <label className={styles.option}>
        <input
          type="checkbox"
          name="include_comment_groups"
          checked={includeGroups}
          onChange={(event) => {
            setIncludeGroups(event.target.checked);
            onEdit?.();
          }}
        />
        <span>{t.commentGroupsLabel}</span>
      </label>

      <label className={styles.option}>
        <input
          type="checkbox"
          role="switch"
          name="moderator"
          checked={moderator}
          onChange={(event) => {
            setModerator(event.target.checked);
            onEdit?.();
          }}
        />
        <span>{t.moderatorLabel}</span>
      </label>

      <fieldset className={styles.recent} aria-describedby={recentErrors.length ? recentErrorId : undefined}>
        <legend className={styles.label}>{t.recentLegend}</legend>
        <div className={styles.recentChoices}>
          {RECENT_CHOICES.map((months) => (
            <label key={months ?? 'all'} className={styles.recentChoice}>
              <input
                type="radio"
                name="recent_months"
                value={months ?? ''}
                checked={recent === months}
                onChange={() => {
                  setRecent(months);
                  onEdit?.();
                }}
              />
              <span>{months === null ? t.recentAll : t.recentMonths(months)}</span>
            </label>
          ))}
        </div>
        <div id={recentErrorId} aria-live="assertive">
          {recentErrors.map((e, i) => (
            <p key={i} className={styles.error} data-field-error="recent_months">
              {t.serverRefused} {e.message}
            </p>
          ))}
        </div>
      </fieldset>

      {otherErrors.length > 0 && (
        <div role="alert">
          {otherErrors.map((e, i) => (
            <p key={i} className={styles.error} data-field-error={e.field || 'request'}>
              {t.serverRefused} {e.field ? `${e.field}: ` : ''}
              {e.message}
            </p>
          ))}
        </div>
      )}

      <div className={styles.actions}>
        <button ref={askButton} type="submit" className={styles.primary} disabled={running}>
          {t.ask}
        </button>
        <button
          ref={cancelButton}
          type="button"
          className={styles.secondary}
          disabled={!running}
          onClick={onCancel}
        >
          {t.cancel}
        </button>
      </div>
    </form>
  );
}
