// One line that says where the query stands. While it runs: how many experts have answered
// and the running time, in a bar that stays at the top of the screen as the page scrolls.
// When it ends: how many answered and, for the others, why, in the reader's words with what
// to do; Retry when trying again can help. Its height is reserved so the results below do
// not move when it changes.

import { useEffect, useState } from 'react';
import { useStrings, type Strings } from '../lib/i18n';
import { describe, problemOf, problemOfFailure, tally, type Problem } from '../lib/problems';
import type { ExpertRun, QueryState } from '../lib/queryState';
import styles from './StatusBar.module.css';

interface Props {
  state: QueryState;
  onRetry: () => void;
  /** The current time in ms, for tests; the clock otherwise. */
  now?: () => number;
}

/** The time now, again every second while `on`. */
function useTicking(on: boolean, now: () => number): number {
  const [time, setTime] = useState(now);
  useEffect(() => {
    if (!on) return undefined;
    setTime(now());
    const timer = window.setInterval(() => setTime(now()), 1000);
    return () => window.clearInterval(timer);
  }, [on, now]);
  return time;
}

/** Why the experts that did not answer did not: each reason once, with how many it held back. */
export function whyNot(t: Strings, experts: ExpertRun[]): { text: string; problems: Problem[] } {
  const failed = experts.filter((run) => run.status === 'failed').map((run) => problemOf(run.errorCode));
  const stopped = experts.filter((run) => run.status === 'stopped').length;
  const parts = tally(failed).map(({ problem, count }) => {
    const [what] = t.problems[problem];
    return count > 1 ? `${what.replace(/\.$/, '')} (${count}).` : what;
  });
  if (stopped) parts.push(`${t.stoppedCount} (${stopped}).`);
  return { text: parts.join(' '), problems: failed };
}

export function StatusBar({ state, onRetry, now = Date.now }: Props) {
  const t = useStrings();
  const running = state.status === 'running';
  const time = useTicking(running, now);
  const total = state.experts.length;
  const answered = state.experts.filter((run) => run.status === 'done').length;
  let text = '';
  let problem = false;
  switch (state.status) {
    case 'running':
      text = t.runningSummary(answered, total, Math.max(0, time - (state.startedAt ?? time)));
      break;
    case 'complete': {
      const missing = total - answered;
      const why = whyNot(t, state.experts);
      if (missing === 0) {
        text = t.done(answered, total, state.totalMs ?? 0);
      } else if (answered === 0) {
        // Nobody answered: that is a failure, said as one, with what to do about it.
        problem = true;
        const first = why.problems[0];
        text = `${t.noneAnswered(total)} ${why.text}${first ? ` ${t.problems[first][1]}` : ''}`;
      } else {
        text = `${t.done(answered, total, state.totalMs ?? 0)} ${t.notAnswered(missing)} ${why.text}`;
      }
      break;
    }
    case 'cancelled':
      text = t.cancelled;
      break;
    case 'broken':
      text = describe(t, 'broken');
      problem = true;
      break;
    case 'failed':
      problem = true;
      text = describe(t, problemOfFailure(state.errorKind, state.errorCode));
      break;
    default:
      break;
  }
  return (
    <div
      id="query-status"
      className={`${styles.bar} ${running ? styles.sticky : ''}`}
      data-query-status={state.status}
    >
      {/* Polite updates for progress; an error is announced at once. */}
      <div
        role={problem ? 'alert' : 'status'}
        className={problem ? styles.problem : state.status === 'cancelled' ? styles.stopped : styles.info}
      >
        {text && (
          <p className={styles.text}>
            {running && <span className={styles.spinner} aria-hidden="true" />}
            {text}
          </p>
        )}
      </div>
      {problem && state.request && (
        <button type="button" className={styles.retry} onClick={onRetry}>
          {t.retry}
        </button>
      )}
    </div>
  );
}
