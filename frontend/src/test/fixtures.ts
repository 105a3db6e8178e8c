// Shapes the service really sends (taken from the demo experts), for the tests.

import type { Expert, ExpertResponse, Moderator, Post, ProgressEvent } from '../lib/types';

export const experts: Expert[] = [
  {
    id: 'ai_architect',
    name: 'Архитектор ИИ',
    channel_username: 'ai_architect_demo',
    channel_url: 'https://t.me/ai_architect_demo',
    chat_type: 'public_channel',
    post_count: 38,
    comment_count: 75,
    first_post_at: '2024-03-04T09:14:22Z',
    last_post_at: '2025-10-14T09:00:00Z',
  },
  {
    id: 'selfhost_ops',
    name: 'Самохост и эксплуатация',
    channel_username: 'selfhost_ops_demo',
    channel_url: 'https://t.me/selfhost_ops_demo',
    chat_type: 'public_channel',
    post_count: 37,
    comment_count: 71,
    first_post_at: '2024-03-11T08:00:00Z',
    last_post_at: '2025-10-01T08:00:00Z',
  },
];

export const answer: ExpertResponse = {
  expert_id: 'selfhost_ops',
  expert_name: 'Самохост и эксплуатация',
  channel_username: 'selfhost_ops_demo',
  answer:
    'Словами автора, сначала самое новое:\n\n**2025-01-13** — Бэкапы SQLite, версия 2: забудьте про cp [post:30]\n\n' +
    '**2024-09-16** — Проверка целостности по расписанию [post:20]\n\n' +
    'Inline <b>html</b> stays text, <script>alert(1)</script>\n\n[link](javascript:alert(1))',
  main_sources: [30, 20],
  confidence: 'HIGH',
  posts_analyzed: 36,
  processing_time_ms: 3145,
  relevant_comment_groups: [
    {
      post_telegram_message_id: 30,
      kind: 'community',
      comments: [
        {
          telegram_message_id: 95,
          author_name: 'Елена Кузнецова',
          text: 'При восстановлении удалите старые -wal и -shm.',
          date: '2025-01-13T11:30:31Z',
          is_channel_author: false,
        },
      ],
      topics: [],
    },
  ],
  comment_groups_synthesis: '**Что добавляет сообщество**\n\n- Елена Кузнецова: «удалите старые -wal» [post:30]',
  language: 'ru',
  usage: { model_calls: 0, prompt_tokens: 0, completion_tokens: 0 },
  notices: ['Ответ на языке «en», вопрос на «ru»: встроенная модель не умеет переводить.'],
};

/** The moderator's synthesis across two demo experts, as the service sends it. */
export const moderator: Moderator = {
  synthesis:
    '**Согласны**\n\n- SQLite годится для небольшого сервиса [post:selfhost_ops/14] [post:ai_architect/42]\n\n' +
    '**Расходятся**\n\n- как делать бэкапы: `.backup` [post:selfhost_ops/30]',
  experts: ['ai_architect', 'selfhost_ops'],
  model: 'openrouter',
  processing_time_ms: 1200,
  usage: { model_calls: 1, prompt_tokens: 900, completion_tokens: 120 },
  notices: [],
};

export const post: Post = {
  expert_id: 'selfhost_ops',
  telegram_message_id: 30,
  date: '2025-01-13T10:00:00Z',
  edited_at: '2025-01-13T11:30:00Z',
  text: 'Бэкапы SQLite, версия 2: забудьте про cp\n\nДелайте `.backup`.',
  author_name: 'Самохост и эксплуатация',
  views: 1234,
  forwards: 5,
  forwarded_from: null,
  media: null,
  external_mentions: [],
  telegram_url: 'https://t.me/selfhost_ops_demo/30',
  links: [
    { direction: 'out', link_type: 'reply', telegram_message_id: 6 },
    { direction: 'in', link_type: 'mention', telegram_message_id: 33 },
  ],
  comments: [
    {
      telegram_message_id: 93,
      parent_comment_id: null,
      date: '2025-01-13T10:20:26Z',
      edited_at: null,
      text: 'Ура, .backup — правильный выбор.',
      author_name: 'Максим',
      is_channel_author: false,
      translation: null,
    },
    {
      telegram_message_id: 94,
      parent_comment_id: 93,
      date: '2025-01-13T10:40:04Z',
      edited_at: null,
      text: 'Ваш комментарий тоже помог, спасибо.',
      author_name: 'Самохост и эксплуатация',
      is_channel_author: true,
      translation: null,
    },
  ],
  translation: null,
};

const usage = { model_calls: 0, prompt_tokens: 0, completion_tokens: 0 };

/** What the service always sends in an event's data, under what a test gives. */
function whole(type: ProgressEvent['event_type'], data: Record<string, unknown>): Record<string, unknown> {
  switch (type) {
    case 'start':
      return { request_id: 'test-request', experts: [], model: 'embedded', language: 'ru', ...data };
    case 'expert_error':
      return { error: 'the service failed', code: 'internal', ...data };
    case 'error':
      return { code: 'internal', request_id: 'test-request', ...data };
    case 'complete': {
      const response = (data.response ?? {}) as Record<string, unknown>;
      const base = { query: 'Как?', expert_responses: [], total_processing_time_ms: 0, request_id: 'test-request', usage, errors: [], moderator: null };
      return { ...data, response: { ...base, ...response } };
    }
    default:
      return data;
  }
}

/** An event as the service sends it: `data` holds what a test gives over the rest of its fields. */
export function event(event_type: ProgressEvent['event_type'], phase: string | null, data: Record<string, unknown>, message = ''): ProgressEvent {
  const status = event_type.endsWith('error') ? 'error' : 'ok';
  return { event_type, phase, status, message, timestamp: '2026-01-01T00:00:00Z', data: whole(event_type, data) } as ProgressEvent;
}

/** An event as sse-starlette frames it: one data line, \r\n line endings. */
export function frame(e: ProgressEvent): string {
  return `data: ${JSON.stringify(e)}\r\n\r\n`;
}

/** A fetch Response whose body delivers `chunks` one read at a time, then ends or fails. */
export function sseResponse(chunks: string[], failWith?: Error): Response {
  const queue = [...chunks];
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      const chunk = queue.shift();
      if (chunk !== undefined) controller.enqueue(encoder.encode(chunk));
      else if (failWith) controller.error(failWith);
      else controller.close();
    },
  });
  return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream; charset=utf-8' } });
}

export function jsonResponse(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}
