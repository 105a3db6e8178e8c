// Live progress, one row per expert: the phase it is in, what it found so far, and a clear
// mark when it failed while the others go on. Rows keep their height as they change.

import { useStrings, type Strings } from '../lib/i18n';
import { problemOf } from '../lib/problems';
import type { ExpertRun, Facts } from '../lib/queryState';
import { PHASES, type Phase } from '../lib/types';
import styles from './ProgressList.module.css';

interface Props {
  experts: ExpertRun[];
}

export function factsText(t: Strings, facts: Facts): string[] {
  const out: string[] = [];
  if (facts.analyzed !== undefined) out.push(t.facts.map(facts.high ?? 0, facts.medium ?? 0, facts.analyzed));
  if (facts.kept) out.push(t.facts.kept(facts.kept));
  if (facts.linked) out.push(t.facts.linked(facts.linked));
  if (facts.cited !== undefined) out.push(t.facts.cited(facts.cited));
  if (facts.translated) out.push(t.facts.translated);
  if (facts.groups) out.push(t.facts.groups(facts.groups));
  if (facts.synthesis) out.push(t.facts.synthesis);
  return out;
}

function phaseLabel(t: Strings, phase: string | null): string {
  if (!phase) return '';
  return (t.phase as Record<string, string>)[phase] ?? phase;
}

/** One line that says where the expert is; what it found goes on the lines below. */
function phaseLine(t: Strings, run: ExpertRun, index: number): string {
  const label = phaseLabel(t, run.phase);
  switch (run.status) {
    case 'waiting':
      return t.queued;
    case 'running':
      return index >= 0 ? `${label} (${t.phaseOf(index + 1, PHASES.length)})` : label;
    case 'done':
      return run.response ? t.answeredIn(run.response.processing_time_ms) : t.status.done;
    case 'failed':
      return label ? t.failedAt(label) : t.status.failed;
    case 'stopped':
      return label ? t.stoppedAt(label) : t.stoppedBeforeStart;
    default:
      return '';
  }
}

const ICON: Record<ExpertRun['status'], string> = {
  waiting: '…',
  running: '',
  done: '✓',
  failed: '✕',
  stopped: '■',
};

export function ProgressList({ experts }: Props) {
  const t = useStrings();
  return (
    <ol className={styles.list}>
      {experts.map((run) => {
        const index = run.phase ? PHASES.indexOf(run.phase as Phase) : -1;
        const facts = factsText(t, run.facts);
        return (
          <li
            key={run.id}
            className={`${styles.row} ${styles[run.status]}`}
            data-expert-row={run.id}
            data-status={run.status}
            data-phase={run.phase ?? ''}
            data-phases={run.phases.join(' ')}
          >
            <div className={styles.top}>
              <span className={styles.name}>{run.name}</span>
              <span className={styles.status}>
                <span className={styles.icon} aria-hidden="true">
                  {ICON[run.status]}
                </span>
                {t.status[run.status]}
              </span>
            </div>
            <div className={styles.steps} aria-hidden="true">
              {PHASES.map((phase, i) => (
                <span
                  key={phase}
                  className={[
                    styles.step,
                    run.status === 'done' || i <= index || run.phases.includes(phase) ? styles.stepSeen : '',
                    i === index && run.status !== 'done' ? styles.stepCurrent : '',
                  ].join(' ')}
                />
              ))}
            </div>
            <p className={styles.phase}>{phaseLine(t, run, index)}</p>
            <p className={styles.detail}>
              {run.status === 'failed' ? (
                <span className={styles.failure}>{t.problems[problemOf(run.errorCode)][0]}</span>
              ) : (
                facts.join(' · ')
              )}
            </p>
          </li>
        );
      })}
    </ol>
  );
}
