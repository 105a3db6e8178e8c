// The service's contract, as the front end reads it
// (app/experts_panel/pipeline/contract.py and app/experts_panel/api/models.py).

export type Confidence = 'HIGH' | 'MEDIUM' | 'LOW';

export interface Expert {
  id: string;
  name: string;
  channel_username: string | null;
  channel_url: string | null;
  chat_type: string | null;
  post_count: number;
  comment_count: number;
  first_post_at: string | null;
  last_post_at: string | null;
}

export interface QueryRequest {
  query: string;
  expert_filter?: string[] | null;
  max_posts?: number | null;
  include_comments?: boolean;
  include_comment_groups?: boolean;
  stream_progress?: boolean;
}

export interface Usage {
  model_calls: number;
  prompt_tokens: number;
  completion_tokens: number;
}

export interface GroupComment {
  telegram_message_id: number;
  author_name: string | null;
  text: string;
  date: string;
  is_channel_author: boolean;
}

export interface CommentGroup {
  post_telegram_message_id: number;
  kind: 'author' | 'community' | 'drift';
  comments: GroupComment[];
  topics: Array<Record<string, unknown>>;
}

export interface ExpertResponse {
  expert_id: string;
  expert_name: string;
  channel_username: string | null;
  answer: string;
  main_sources: number[];
  confidence: Confidence;
  posts_analyzed: number;
  processing_time_ms: number;
  relevant_comment_groups: CommentGroup[];
  comment_groups_synthesis: string | null;
  language: string;
  usage: Usage;
  notices: string[];
}

/**
 * An expert that failed: `error` is one line of the service's own, `code` one of the stable
 * codes of docs/errors.md (the same pair comes in `expert_error` events' data, and `error`
 * events carry `code` and `request_id` in theirs).
 */
export interface ExpertFailure {
  expert_id?: string;
  error?: string;
  code?: string;
}

export interface MultiExpertQueryResponse {
  query: string;
  expert_responses: ExpertResponse[];
  total_processing_time_ms: number;
  request_id: string;
  usage: Usage;
  errors: ExpertFailure[];
}

export type EventType =
  | 'start'
  | 'phase_start'
  | 'progress'
  | 'expert_complete'
  | 'expert_error'
  | 'error'
  | 'complete';

export interface ProgressEvent {
  event_type: EventType;
  phase: string | null;
  status: string;
  message: string;
  timestamp: string;
  data: Record<string, unknown>;
}

export interface PostLink {
  direction: 'in' | 'out';
  link_type: string;
  telegram_message_id: number;
}

export interface PostComment {
  telegram_message_id: number;
  parent_comment_id: number | null;
  date: string;
  edited_at: string | null;
  text: string;
  author_name: string | null;
  is_channel_author: boolean;
}

export interface Post {
  expert_id: string;
  telegram_message_id: number;
  date: string;
  edited_at: string | null;
  text: string;
  author_name: string | null;
  views: number | null;
  forwards: number | null;
  forwarded_from: string | null;
  media: Record<string, unknown> | null;
  external_mentions: Array<Record<string, unknown>>;
  telegram_url: string | null;
  links: PostLink[];
  comments: PostComment[];
}

/** The phases every expert goes through, in order (docs/pipeline.md). */
export const PHASES = [
  'map',
  'medium_scoring',
  'resolve',
  'reduce',
  'language_validation',
  'comment_groups',
  'comment_synthesis',
  'assembly',
] as const;

export type Phase = (typeof PHASES)[number];
