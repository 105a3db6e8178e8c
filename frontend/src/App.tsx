import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { AnswerCard } from './components/AnswerCard';
import { ModeratorCard } from './components/ModeratorCard';
import { PostViewerProvider } from './components/PostViewer';
import { ProgressList } from './components/ProgressList';
import { QuestionForm, type ExpertsLoad } from './components/QuestionForm';
import { StatusBar } from './components/StatusBar';
import { ApiError, fetchExperts, isAbort, type FieldError } from './lib/api';
import { I18n, pickLanguage, STRINGS } from './lib/i18n';
import { describe, problemOfError } from './lib/problems';
import { useQuery } from './lib/useQuery';
import type { Expert, QueryRequest } from './lib/types';
import styles from './App.module.css';

type Loaded = { state: 'loading' } | { state: 'ready'; experts: Expert[] } | { state: 'error'; error: ApiError };

export function App() {
  const [loaded, setLoaded] = useState<Loaded>({ state: 'loading' });
  const [attempt, setAttempt] = useState(0);
  const [draft, setDraft] = useState('');
  const [fieldErrors, setFieldErrors] = useState<FieldError[]>([]);
  const { state, ask, cancel } = useQuery();
  // Each Ask brings the status line (and the progress under it) into sight once the server
  // has taken the question: on a phone the form fills the screen and the rest is below it.
  const [asked, setAsked] = useState(0);
  const broughtIntoView = useRef(0);

  const lang = pickLanguage(draft, state.request?.query ?? null, navigator.languages);
  const t = STRINGS[lang];

  useEffect(() => {
    document.documentElement.lang = lang;
    document.title = t.title;
  }, [lang, t]);

  useEffect(() => {
    const controller = new AbortController();
    setLoaded({ state: 'loading' });
    fetchExperts(controller.signal).then(
      (experts) => setLoaded({ state: 'ready', experts }),
      (error: unknown) => {
        if (isAbort(error)) return;
        setLoaded({
          state: 'error',
          error: error instanceof ApiError ? error : new ApiError('protocol', String(error)),
        });
      },
    );
    return () => controller.abort();
  }, [attempt]);

  useEffect(() => {
    if (asked === broughtIntoView.current || state.status !== 'running' || state.requestId === undefined) return;
    broughtIntoView.current = asked;
    const bar = document.getElementById('query-status');
    if (!bar) return;
    const top = bar.getBoundingClientRect().top;
    if (top >= 0 && top < window.innerHeight / 2) return; // already in sight
    const still = window.matchMedia?.('(prefers-reduced-motion: reduce)').matches;
    bar.scrollIntoView?.({ block: 'start', behavior: still ? 'auto' : 'smooth' });
  }, [asked, state.status, state.requestId]);

  const experts = loaded.state === 'ready' ? loaded.experts : [];
  const names = useMemo(() => Object.fromEntries(experts.map((e) => [e.id, e.name])), [experts]);
  const channels = useMemo(() => Object.fromEntries(experts.map((e) => [e.id, e.channel_url])), [experts]);

  const expertsLoad: ExpertsLoad =
    loaded.state === 'error'
      ? {
          state: 'error',
          message: describe(t, problemOfError(loaded.error)),
        }
      : loaded;

  const run = useCallback(
    async (request: QueryRequest) => {
      setFieldErrors([]);
      setAsked((n) => n + 1);
      const chosen = request.expert_filter
        ? request.expert_filter.map((id) => ({ id, name: names[id] ?? id }))
        : experts.map((e) => ({ id: e.id, name: e.name }));
      setFieldErrors(await ask(request, chosen));
    },
    [ask, experts, names],
  );

  const running = state.status === 'running';

  return (
    <I18n.Provider value={t}>
      <PostViewerProvider expertNames={names}>
        <div className={styles.page}>
          <header className={styles.masthead}>
            <h1 className={styles.title}>{t.title}</h1>
            <p className={styles.tagline}>{t.tagline}</p>
          </header>
          <main className={styles.main}>
            <QuestionForm
              experts={expertsLoad}
              onReloadExperts={() => setAttempt((n) => n + 1)}
              running={running}
              fieldErrors={fieldErrors}
              onAsk={(request) => void run(request)}
              onCancel={cancel}
              onQuestionChange={setDraft}
              onEdit={() => setFieldErrors((errors) => (errors.length ? [] : errors))}
            />
            <StatusBar state={state} onRetry={() => state.request && void run(state.request)} />
            {state.experts.length > 0 ? (
              <>
                <section className={styles.section} aria-labelledby="progress-title">
                  <h2 id="progress-title" className={styles.sectionTitle}>
                    {t.progressHeading}
                  </h2>
                  <ProgressList experts={state.experts} />
                </section>
                <section className={styles.section} aria-labelledby="answers-title" id="answers">
                  <h2 id="answers-title" className={styles.sectionTitle}>
                    {t.answersHeading}
                  </h2>
                  <ModeratorCard
                    moderator={state.moderator}
                    pending={running && state.request?.moderator === true && state.experts.length > 1}
                  />
                  <div className={styles.cards}>
                    {state.experts.map((expertRun) => (
                      <AnswerCard key={expertRun.id} run={expertRun} channelUrl={channels[expertRun.id]} />
                    ))}
                  </div>
                </section>
              </>
            ) : (
              state.status === 'idle' && <p className={styles.empty}>{t.emptyState}</p>
            )}
          </main>
        </div>
      </PostViewerProvider>
    </I18n.Provider>
  );
}
