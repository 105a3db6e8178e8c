// The query's stream events, each checked against the service's own schema as it arrives.
//
// `api-stream.json` holds the schemas of the events (`ProgressEvent`, a union told apart by
// `event_type`, and all it refers to), generated with `api-types.ts` from the schema the
// service serves (scripts/api-types). An event is taken only when it is one of them, whole;
// an unknown event type or a malformed event is reported with where it went wrong, never
// guessed at. The check reads the few JSON Schema keywords pydantic writes for these models,
// and refuses a schema that uses any other, so a new keyword cannot be ignored unnoticed.
// (A validator library would compile the schema into code at run time, which the page's
// Content-Security-Policy forbids; see docs/dependencies.md.)

import schemas from './api-stream.json';
import type { ProgressEvent } from './api-types';

type Schema = { [keyword: string]: unknown };

// Keywords that only describe, and never reject a value.
const ANNOTATIONS = new Set(['title', 'description', 'default']);
const KNOWN = new Set([
  '$ref',
  'type',
  'const',
  'enum',
  'anyOf',
  'oneOf',
  'discriminator',
  'properties',
  'required',
  'additionalProperties',
  'items',
  ...ANNOTATIONS,
]);

const components = schemas as unknown as Record<string, Schema>;

export type ParsedEvent = { ok: true; event: ProgressEvent } | { ok: false; problem: string };

/** One `data:` payload as an event of the stream, or what is wrong with it. */
export function parseEvent(data: string): ParsedEvent {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return { ok: false, problem: `not JSON: ${data.slice(0, 80)}` };
  }
  const problem = check(value, { $ref: '#/components/schemas/ProgressEvent' }, 'event');
  return problem === null ? { ok: true, event: value as ProgressEvent } : { ok: false, problem };
}

function resolve(ref: string): Schema {
  const name = ref.replace('#/components/schemas/', '');
  const target = components[name];
  if (!target) throw new Error(`api-stream.json has no schema ${name}`);
  return target;
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeOf(value) === 'object';
}

/** Null when `value` holds to `schema`, else what is wrong and where (`at`). */
function check(value: unknown, schema: Schema, at: string): string | null {
  for (const keyword of Object.keys(schema)) {
    if (!KNOWN.has(keyword)) throw new Error(`api-stream.json uses ${keyword}, which the check does not know`);
  }
  if (typeof schema.$ref === 'string') return check(value, resolve(schema.$ref), at);
  if (schema.discriminator) return checkUnion(value, schema, at);
  if (Array.isArray(schema.anyOf)) {
    const fits = (schema.anyOf as Schema[]).some((option) => check(value, option, at) === null);
    return fits ? null : `${at}: ${JSON.stringify(value)?.slice(0, 80)} is none of what it may be`;
  }
  if ('const' in schema && value !== schema.const) return `${at}: ${JSON.stringify(value)} is not ${JSON.stringify(schema.const)}`;
  if (Array.isArray(schema.enum) && !schema.enum.includes(value)) {
    return `${at}: ${JSON.stringify(value)} is not one of ${schema.enum.map((v) => JSON.stringify(v)).join(', ')}`;
  }
  if (typeof schema.type === 'string') {
    const actual = typeOf(value);
    const fits = actual === schema.type || (schema.type === 'number' && actual === 'integer');
    if (!fits) return `${at}: ${actual} where ${schema.type} belongs`;
  }
  if (Array.isArray(value) && schema.items) {
    for (const [index, item] of value.entries()) {
      const problem = check(item, schema.items as Schema, `${at}[${index}]`);
      if (problem) return problem;
    }
  }
  if (isObject(value)) return checkObject(value, schema, at);
  return null;
}

function checkObject(value: Record<string, unknown>, schema: Schema, at: string): string | null {
  const properties = (schema.properties ?? {}) as Record<string, Schema>;
  for (const name of (schema.required ?? []) as string[]) {
    if (!(name in value)) return `${at}: ${name} is missing`;
  }
  for (const [name, item] of Object.entries(value)) {
    const known = properties[name];
    if (known) {
      const problem = check(item, known, `${at}.${name}`);
      if (problem) return problem;
    } else if (schema.additionalProperties === false) {
      return `${at}: ${name} is not one of its fields`;
    } else if (isObject(schema.additionalProperties)) {
      const problem = check(item, schema.additionalProperties, `${at}.${name}`);
      if (problem) return problem;
    }
  }
  return null;
}

function checkUnion(value: unknown, schema: Schema, at: string): string | null {
  const { propertyName, mapping } = schema.discriminator as { propertyName: string; mapping: Record<string, string> };
  if (!isObject(value)) return `${at}: ${typeOf(value)} where an object belongs`;
  const tag = value[propertyName];
  const ref = typeof tag === 'string' ? mapping[tag] : undefined;
  if (!ref) return `${at}: unknown ${propertyName} ${JSON.stringify(tag)}`;
  return check(value, { $ref: ref }, `${at}(${tag})`);
}
