// The service's contract under the names the front end uses. Every shape is generated from
// the schema the service serves (api-types.ts, by scripts/api-types); nothing is written here.

import type { components } from './api-types';

type Schemas = components['schemas'];

export type Expert = Schemas['ExpertOut'];
export type QueryRequest = Schemas['QueryRequest'];
export type Usage = Schemas['UsageOut'];
export type GroupComment = Schemas['CommentOut'];
export type CommentGroup = Schemas['CommentGroupOut'];
export type ExpertResponse = Schemas['ExpertResponse'];
export type Confidence = ExpertResponse['confidence'];
/** An expert that failed: one line of the service's own, and a code of docs/errors.md. */
export type ExpertFailure = Schemas['ExpertFailure'];
export type MultiExpertQueryResponse = Schemas['MultiExpertQueryResponse'];
/** The moderator's synthesis across the experts' answers, citing `[post:EXPERT_ID/ID]`. */
export type Moderator = Schemas['ModeratorOut'];
/** One event of the query's stream; `event_type` tells which, and what its `data` holds. */
export type ProgressEvent = Schemas['ProgressEvent'];
export type EventType = ProgressEvent['event_type'];
export type PostLink = Schemas['LinkOut'];
export type PostComment = Schemas['PostCommentOut'];
export type Post = Schemas['PostOut'];
/** What a post's `text` is when it was asked for in a language: a translation, or the original and why. */
export type PostTranslation = Schemas['TranslationOut'];
export type Phase = Schemas['PhaseStartEvent']['phase'];

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
] as const satisfies readonly Phase[];
