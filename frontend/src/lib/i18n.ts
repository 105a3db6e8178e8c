// The fixed strings, in Russian and English. The page follows the question's language
// (Cyrillic in it: Russian; Latin letters only: English) and, before any question, the
// browser's.

import { createContext, useContext } from 'react';
import type { Problem } from './problems';
import type { Confidence, Phase } from './types';

export type Lang = 'ru' | 'en';

const CYRILLIC = /[\u0400-\u04FF]/;
const LATIN = /[A-Za-z]/;

/** The language a question is written in, or null when it has no letters to tell by. */
export function questionLanguage(text: string): Lang | null {
  if (CYRILLIC.test(text)) return 'ru';
  if (LATIN.test(text)) return 'en';
  return null;
}

export function browserLanguage(languages: readonly string[] | undefined): Lang {
  for (const tag of languages ?? []) {
    const base = tag.toLowerCase().split('-')[0];
    if (base === 'ru') return 'ru';
    if (base === 'en') return 'en';
  }
  return 'en';
}

export function pickLanguage(
  question: string,
  asked: string | null,
  languages: readonly string[] | undefined,
): Lang {
  return (
    questionLanguage(question) ?? (asked ? questionLanguage(asked) : null) ?? browserLanguage(languages)
  );
}

type Forms = { one: string; few?: string; many?: string; other: string };

function plural(lang: Lang, n: number, forms: Forms): string {
  const rule = new Intl.PluralRules(lang === 'ru' ? 'ru-RU' : 'en-GB').select(n);
  const form = (rule === 'one' ? forms.one : rule === 'few' ? forms.few : rule === 'many' ? forms.many : undefined) ?? forms.other;
  return form.replace('#', new Intl.NumberFormat(lang === 'ru' ? 'ru-RU' : 'en-GB').format(n));
}

function seconds(lang: Lang, ms: number): string {
  const value = new Intl.NumberFormat(lang === 'ru' ? 'ru-RU' : 'en-GB', {
    maximumFractionDigits: ms < 10_000 ? 1 : 0,
  }).format(ms / 1000);
  return lang === 'ru' ? `${value} с` : `${value} s`;
}

function build(lang: Lang) {
  const ru = lang === 'ru';
  const n = (count: number, forms: Forms) => plural(lang, count, forms);
  return {
    lang,
    locale: ru ? 'ru-RU' : 'en-GB',
    title: ru ? 'Панель экспертов' : 'Experts Panel',
    tagline: ru
      ? 'Один вопрос — каждый эксперт отвечает по архиву своего Telegram-канала, со ссылками на посты.'
      : 'One question — each expert answers from their Telegram channel’s archive, citing the posts.',
    questionLabel: ru ? 'Ваш вопрос' : 'Your question',
    questionPlaceholder: ru ? 'Например: как делать бэкапы SQLite?' : 'For example: how should I back up SQLite?',
    counter: (count: number, max: number) => `${count} / ${max}`,
    counterLabel: (count: number, max: number) =>
      ru ? `Символов: ${count} из ${max}` : `${count} of ${max} characters`,
    tooShort: (min: number) => (ru ? `минимум ${min} символа` : `at least ${min} characters`),
    expertsLegend: ru ? 'Эксперты' : 'Experts',
    expertsLoading: ru ? 'Загружаем экспертов…' : 'Loading the experts…',
    expertsNone: ru ? 'Экспертов пока нет: импортируйте канал.' : 'There are no experts yet: import a channel.',
    expertMeta: (posts: number, comments: number) =>
      ru
        ? `${n(posts, { one: '# пост', few: '# поста', many: '# постов', other: '# поста' })} · ${n(comments, { one: '# комментарий', few: '# комментария', many: '# комментариев', other: '# комментария' })}`
        : `${n(posts, { one: '# post', other: '# posts' })} · ${n(comments, { one: '# comment', other: '# comments' })}`,
    commentGroupsLabel: ru
      ? 'Учитывать группы комментариев, ушедших от темы поста'
      : 'Include comment groups that drifted from their post’s topic',
    recentLegend: ru ? 'Посты за какой срок' : 'Posts from',
    recentAll: ru ? 'За всё время' : 'All time',
    recentMonths: (months: number) =>
      ru
        ? `За ${n(months, { one: '# месяц', few: '# месяца', many: '# месяцев', other: '# месяца' })}`
        : `Last ${n(months, { one: '# month', other: '# months' })}`,
    moderatorLabel: ru
      ? 'Модератор: сопоставить ответы экспертов — где они согласны и где расходятся'
      : 'Moderator: compare the experts’ answers — where they agree and where they differ',
    ask: ru ? 'Спросить' : 'Ask',
    cancel: ru ? 'Отменить' : 'Cancel',
    retry: ru ? 'Повторить' : 'Retry',
    serverRefused: ru ? 'Сервер не принял запрос:' : 'The server refused it:',
    cancelled: ru ? 'Отменено: сервер прекратил работу над вопросом.' : 'Cancelled: the server stopped working on the question.',
    done: (answered: number, total: number, ms: number) =>
      ru
        ? `Готово за ${seconds(lang, ms)}: ответили ${answered} из ${total}.`
        : `Done in ${seconds(lang, ms)}: ${answered} of ${total} answered.`,
    /** While the panel works, in one short line (it stays on screen on a phone): how many
     *  have answered so far, and for how long it has run. */
    runningSummary: (answered: number, total: number, elapsedMs: number) =>
      ru
        ? `Эксперты отвечают: ${answered} из ${total} · ${Math.floor(elapsedMs / 1000)} с`
        : `Experts answering: ${answered} of ${total} · ${Math.floor(elapsedMs / 1000)} s`,
    /** Why the experts that did not answer did not, e.g. "2 — the model API is not answering". */
    notAnswered: (count: number) =>
      ru
        ? `Не ${count === 1 ? 'ответил' : 'ответили'} ${n(count, { one: '# эксперт', few: '# эксперта', many: '# экспертов', other: '# эксперта' })}:`
        : `${n(count, { one: '# expert', other: '# experts' })} did not answer:`,
    noneAnswered: (total: number) =>
      ru
        ? `Ни один из ${n(total, { one: '# эксперта', other: '# экспертов' })} не ответил:`
        : `None of the ${n(total, { one: '# expert', other: '# experts' })} answered:`,
    stoppedCount: ru ? 'остановлен до ответа' : 'stopped before answering',
    problems: {
      invalid_request: [
        ru ? 'Запрос не прошёл проверку.' : 'The request was not accepted.',
        ru ? 'Исправьте отмеченные поля и спросите снова.' : 'Correct the marked fields and ask again.',
      ],
      not_found: [
        ru ? 'Такого эксперта или поста нет.' : 'There is no such expert or post.',
        ru ? 'Обновите страницу: список экспертов мог измениться.' : 'Reload the page: the list of experts may have changed.',
      ],
      method_not_allowed: [
        ru ? 'Сервер не принимает такой запрос.' : 'The server does not take this request.',
        ru ? 'Обновите страницу; если не поможет, сообщите администратору.' : 'Reload the page; if that does not help, tell the administrator.',
      ],
      http_error: [
        ru ? 'Сервер не смог обработать запрос.' : 'The server could not serve the request.',
        ru ? 'Повторите; если ошибка останется, сообщите администратору.' : 'Try again; if it persists, tell the administrator.',
      ],
      request_too_large: [
        ru ? 'Запрос слишком большой.' : 'The request is too large.',
        ru ? 'Сократите вопрос и спросите снова.' : 'Shorten the question and ask again.',
      ],
      request_timeout: [
        ru ? 'Запрос не дошёл до сервера вовремя.' : 'The request did not reach the server in time.',
        ru ? 'Проверьте соединение и повторите.' : 'Check the connection and try again.',
      ],
      internal: [
        ru ? 'Внутренняя ошибка сервиса.' : 'The service failed.',
        ru ? 'Повторите позже; подробности — в журнале сервиса.' : 'Try again later; the service’s log has the details.',
      ],
      database_busy: [
        ru ? 'База данных занята.' : 'The database is busy.',
        ru ? 'Подождите немного и повторите.' : 'Wait a moment and try again.',
      ],
      query_timeout: [
        ru ? 'Ответ готовился слишком долго и был остановлен.' : 'The answer took too long and was stopped.',
        ru ? 'Повторите или выберите меньше экспертов.' : 'Try again, or choose fewer experts.',
      ],
      model_unavailable: [
        ru ? 'Языковая модель не отвечает.' : 'The language model is not answering.',
        ru ? 'Повторите через несколько минут.' : 'Try again in a few minutes.',
      ],
      model_refused: [
        ru ? 'Языковая модель отклонила запрос.' : 'The language model refused the request.',
        ru ? 'Сообщите администратору: возможно, неверен ключ API.' : 'Tell the administrator: the API key may be wrong.',
      ],
      model_bad_answer: [
        ru ? 'Языковая модель ответила в непригодном виде.' : 'The language model’s answer could not be used.',
        ru ? 'Повторите: обычно со второго раза получается.' : 'Try again: it usually works the second time.',
      ],
      unreachable: [
        ru ? 'Сервер недоступен.' : 'The server cannot be reached.',
        ru ? 'Проверьте, что сервис запущен, и попробуйте снова.' : 'Check that the service is running, then try again.',
      ],
      broken: [
        ru ? 'Соединение оборвалось до конца ответа.' : 'The connection broke before the answer was complete.',
        ru ? 'То, что успело прийти, сохранено ниже; повторите.' : 'What arrived is kept below; try again.',
      ],
      protocol: [
        ru ? 'Сервер ответил не так, как ожидалось.' : 'The server’s answer was not what was expected.',
        ru ? 'Обновите страницу и повторите.' : 'Reload the page and try again.',
      ],
      unknown: [
        ru ? 'Что-то пошло не так.' : 'Something went wrong.',
        ru ? 'Повторите позже.' : 'Try again later.',
      ],
    } satisfies Record<Problem, [string, string]>,
    progressHeading: ru ? 'Ход работы' : 'Progress',
    answersHeading: ru ? 'Ответы' : 'Answers',
    moderatorHeading: ru ? 'Модератор: ответы рядом' : 'Moderator: the answers side by side',
    moderatorPending: ru
      ? 'Модератор сопоставит ответы, когда ответят хотя бы два эксперта…'
      : 'The moderator compares the answers once at least two experts have answered…',
    moderatorFailed: ru ? 'Модератор не смог сопоставить ответы.' : 'The moderator could not compare the answers.',
    emptyState: ru
      ? 'Здесь появятся ответы — по карточке на каждого эксперта.'
      : 'The answers will appear here, one card per expert.',
    phase: {
      map: ru ? 'Отбор постов' : 'Selecting posts',
      medium_scoring: ru ? 'Оценка близких постов' : 'Scoring related posts',
      resolve: ru ? 'Связанные посты' : 'Following links',
      reduce: ru ? 'Пишет ответ' : 'Writing the answer',
      language_validation: ru ? 'Проверка языка' : 'Checking the language',
      comment_groups: ru ? 'Ищет комментарии' : 'Finding comments',
      comment_synthesis: ru ? 'Выводы из комментариев' : 'Reading the comments',
      assembly: ru ? 'Сборка ответа' : 'Assembling',
    } satisfies Record<Phase, string>,
    phaseOf: (index: number, total: number) => (ru ? `этап ${index} из ${total}` : `step ${index} of ${total}`),
    queued: ru ? 'Ждёт своей очереди' : 'Waiting for a free slot',
    answeredIn: (ms: number) => (ru ? `Ответ за ${seconds(lang, ms)}` : `Answered in ${seconds(lang, ms)}`),
    failedAt: (phase: string) => (ru ? `Сбой на этапе «${phase}»` : `Failed at “${phase}”`),
    stoppedAt: (phase: string) => (ru ? `Остановлен на этапе «${phase}»` : `Stopped at “${phase}”`),
    stoppedBeforeStart: ru ? 'Остановлен до начала работы' : 'Stopped before it started',
    status: {
      waiting: ru ? 'В очереди' : 'Waiting',
      running: ru ? 'Работает' : 'Working',
      done: ru ? 'Ответ готов' : 'Answered',
      failed: ru ? 'Ошибка' : 'Failed',
      stopped: ru ? 'Остановлен' : 'Stopped',
    },
    facts: {
      map: (high: number, medium: number, analyzed: number) =>
        ru
          ? `по теме: ${high}, отчасти: ${medium}, из ${n(analyzed, { one: '# поста', other: '# постов' })}`
          : `${high} relevant, ${medium} partly, of ${n(analyzed, { one: '# post', other: '# posts' })}`,
      kept: (count: number) => (ru ? `добавлено близких постов: ${count}` : `${n(count, { one: '# related post', other: '# related posts' })} kept`),
      linked: (count: number) => (ru ? `связанных постов: ${count}` : `${n(count, { one: '# linked post', other: '# linked posts' })}`),
      cited: (count: number) => (ru ? `процитировано постов: ${count}` : `${n(count, { one: '# post', other: '# posts' })} cited`),
      groups: (count: number) => (ru ? `групп комментариев: ${count}` : `${n(count, { one: '# comment group', other: '# comment groups' })}`),
      translated: ru ? 'ответ переведён' : 'answer translated',
      synthesis: ru ? 'выводы готовы' : 'insights written',
    },
    confidenceLabel: ru ? 'Уверенность' : 'Confidence',
    confidence: {
      HIGH: ru ? 'высокая' : 'high',
      MEDIUM: ru ? 'средняя' : 'medium',
      LOW: ru ? 'низкая' : 'low',
    } satisfies Record<Confidence, string>,
    sourcesLabel: ru ? 'Источники' : 'Sources',
    timeLabel: ru ? 'Время' : 'Time',
    postsReadLabel: ru ? 'Прочитано постов' : 'Posts read',
    seconds: (ms: number) => seconds(lang, ms),
    sourcesList: ru ? 'Посты-источники:' : 'Source posts:',
    channel: ru ? 'Канал в Telegram' : 'Telegram channel',
    insightsHeading: ru ? 'Что добавляют комментарии' : 'What the comments add',
    groupsHeading: (count: number) =>
      ru ? `Комментарии к источникам (${count})` : `Comments under the sources (${count})`,
    groupKind: {
      author: ru ? 'Ответы автора' : 'The author’s replies',
      community: ru ? 'Сообщество' : 'The community',
      drift: ru ? 'Обсуждение, ушедшее от темы' : 'A discussion that drifted',
    },
    underPost: ru ? 'под постом' : 'under post',
    waitingAnswer: ru ? 'Ждём ответ…' : 'Waiting for the answer…',
    expertFailed: ru ? 'Этот эксперт не смог ответить:' : 'This expert could not answer:',
    stoppedBeforeAnswer: ru ? 'Остановлено до ответа.' : 'Stopped before the answer.',
    notices: ru ? 'Примечания' : 'Notes',
    openPost: (id: number) => (ru ? `Открыть пост ${id}` : `Open post ${id}`),
    openExpertPost: (expert: string, id: number) =>
      ru ? `Открыть пост ${id} эксперта «${expert}»` : `Open post ${id} of “${expert}”`,
    postTitle: (id: number) => (ru ? `Пост ${id}` : `Post ${id}`),
    close: ru ? 'Закрыть' : 'Close',
    loadingPost: ru ? 'Загружаем пост…' : 'Loading the post…',
    postMissing: ru ? 'Такого поста нет.' : 'There is no such post.',
    views: (count: number) =>
      ru ? n(count, { one: '# просмотр', few: '# просмотра', many: '# просмотров', other: '# просмотра' }) : n(count, { one: '# view', other: '# views' }),
    forwards: (count: number) =>
      ru ? n(count, { one: '# репост', few: '# репоста', many: '# репостов', other: '# репоста' }) : n(count, { one: '# forward', other: '# forwards' }),
    edited: ru ? 'изменён' : 'edited',
    forwardedFrom: ru ? 'Переслано из' : 'Forwarded from',
    openInTelegram: ru ? 'Открыть в Telegram' : 'Open in Telegram',
    commentsHeading: (count: number) => (ru ? `Комментарии (${count})` : `Comments (${count})`),
    noComments: ru ? 'Комментариев нет.' : 'No comments.',
    channelAuthor: ru ? 'автор канала' : 'channel author',
    anonymous: ru ? 'Без имени' : 'Anonymous',
    linksOut: ru ? 'Ссылается на' : 'Refers to',
    linksIn: ru ? 'На него ссылаются' : 'Referred to by',
    /** A language's name by its ISO 639-1 code, in the page's language ("ru": "Russian"). */
    languageName: (code: string) => {
      try {
        return new Intl.DisplayNames([ru ? 'ru-RU' : 'en-GB'], { type: 'language' }).of(code) ?? code;
      } catch {
        return code;
      }
    },
    translatedFrom: (language: string) =>
      ru ? `Машинный перевод. Язык оригинала: ${language}.` : `Machine translation from ${language}.`,
    showingOriginal: (language: string) => (ru ? `Оригинал (${language}).` : `The original (${language}).`),
    showOriginal: ru ? 'Показать оригинал' : 'Show the original',
    showTranslation: ru ? 'Показать перевод' : 'Show the translation',
    translateComments: ru ? 'Перевести комментарии' : 'Translate the comments',
    translatingComments: ru ? 'Переводим комментарии…' : 'Translating the comments…',
    commentsTranslated: ru ? 'Комментарии: машинный перевод.' : 'Comments: machine translation.',
    commentsOriginal: ru ? 'Комментарии в оригинале.' : 'Comments in the original.',
    showCommentOriginals: ru ? 'Показать оригиналы' : 'Show the originals',
    showCommentTranslations: ru ? 'Показать перевод' : 'Show the translation',
    commentsTranslationFailed: ru
      ? 'Не удалось получить перевод комментариев.'
      : 'The comments’ translation could not be had.',
    /** Why a post in another language is shown untranslated (the service's `translation.reason`). */
    notTranslated: {
      no_key: ru
        ? 'Не переведён: ключ API модели не задан, а встроенная модель переводить не умеет.'
        : 'Not translated: no model API key is set, and the built-in model cannot translate.',
      budget_spent: ru
        ? 'Не переведён: дневной лимит токенов исчерпан.'
        : 'Not translated: today’s token budget is spent.',
      model_failed: ru
        ? 'Не переведён: языковая модель не справилась. Откройте пост позже.'
        : 'Not translated: the language model failed. Open the post again later.',
    },
  };
}

export type Strings = ReturnType<typeof build>;

export const STRINGS: Record<Lang, Strings> = { ru: build('ru'), en: build('en') };

export const I18n = createContext<Strings>(STRINGS.en);

export function useStrings(): Strings {
  return useContext(I18n);
}
