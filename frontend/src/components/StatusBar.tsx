// One line that says where the query stands; errors in words, with Retry when trying again
// can help. Its height is reserved so the results below do not move when it changes.

import { useStrings } from '../lib/i18n';
import type { QueryState } from '../lib/queryState';
import styles from './StatusBar.module.css';

interface Props {
  state: QueryState;
  onRetry: () => void;
}

export function StatusBar({ state, onRetry }: Props) {
  const t = useStrings();
  const answered = state.experts.filter((run) => run.status === 'done').length;
  let text = '';
  let problem = false;
  switch (state.status) {
    case 'running':
      text = t.running(state.experts.length);
      break;
    case 'complete':
      text = t.done(answered, state.experts.length, state.totalMs ?? 0);
      break;
    case 'cancelled':
      text = t.cancelled;
      break;
    case 'broken':
      text = t.broken;
      problem = true;
      break;
    case 'failed':
      problem = true;
      if (state.errorKind === 'unreachable') text = t.unreachable;
      else if (state.errorKind === 'server') text = `${t.queryFailed} ${state.message ?? ''}`;
      else if (state.errorKind === 'protocol') text = `${t.protocolError} ${state.message ?? ''}`;
      else text = `${t.httpError(state.errorStatus ?? null)} ${state.message ?? ''}`;
      break;
    default:
      break;
  }
  return (
    <div className={styles.bar} data-query-status={state.status}>
      {/* Polite updates for progress; an error is announced at once. */}
      <div
        role={problem ? 'alert' : 'status'}
        className={problem ? styles.problem : state.status === 'cancelled' ? styles.stopped : styles.info}
      >
        {text && (
          <p className={styles.text}>
            {state.status === 'running' && <span className={styles.spinner} aria-hidden="true" />}
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
