// `[post:ID]` citations: the answers cite the expert's posts by their Telegram message id.
// The service rewrites every form a model writes into this canonical one before an answer
// leaves it (app/experts_panel/pipeline/citations.py), so this is the only form met here.
// The moderator, writing across experts, names the expert too: `[post:EXPERT_ID/ID]`
// (app/experts_panel/pipeline/qualified_citations.py); such a citation opens that expert's post.

const CITATION = /\[post:\s*(?:([a-z0-9_-]{1,64})\/)?(\d+)\s*\]/g;

export type Segment =
  | { type: 'text'; value: string }
  | { type: 'citation'; id: number; expertId?: string };

/** Split text into plain runs and citations, in order; empty runs are left out. */
export function splitCitations(text: string): Segment[] {
  const out: Segment[] = [];
  let last = 0;
  for (const match of text.matchAll(CITATION)) {
    const at = match.index ?? 0;
    const id = Number(match[2]);
    if (!Number.isSafeInteger(id) || id < 1) continue;
    if (at > last) out.push({ type: 'text', value: text.slice(last, at) });
    out.push(match[1] ? { type: 'citation', id, expertId: match[1] } : { type: 'citation', id });
    last = at + match[0].length;
  }
  if (last < text.length) out.push({ type: 'text', value: text.slice(last) });
  return out;
}

/** The ids cited in the plain form, first appearance first, each once. */
export function citedIds(text: string): number[] {
  const seen = new Set<number>();
  for (const segment of splitCitations(text)) {
    if (segment.type === 'citation' && segment.expertId === undefined) seen.add(segment.id);
  }
  return [...seen];
}

/** The attributes a citation link carries once rendered (see `Markdown`): the post, and the
 *  expert when the citation names one. */
export const CITATION_PROPERTY = 'dataPostId';
export const CITATION_EXPERT_PROPERTY = 'dataExpertId';

// The few mdast shapes this plugin touches (a subset of @types/mdast).
interface MdNode {
  type: string;
  value?: string;
  url?: string;
  children?: MdNode[];
  data?: { hProperties?: Record<string, unknown> };
}

const SKIP = new Set(['link', 'linkReference', 'code', 'inlineCode', 'html', 'definition']);

function citationNode(id: number, expertId?: string): MdNode {
  const properties: Record<string, string> = { [CITATION_PROPERTY]: String(id) };
  if (expertId !== undefined) properties[CITATION_EXPERT_PROPERTY] = expertId;
  return {
    type: 'link',
    url: expertId === undefined ? `#post-${id}` : `#post-${expertId}-${id}`,
    children: [{ type: 'text', value: String(id) }],
    data: { hProperties: properties },
  };
}

function transform(node: MdNode): void {
  if (!node.children || SKIP.has(node.type)) return;
  const next: MdNode[] = [];
  for (const child of node.children) {
    if (child.type === 'text' && child.value && child.value.includes('[post:')) {
      for (const segment of splitCitations(child.value)) {
        next.push(
          segment.type === 'text'
            ? { type: 'text', value: segment.value }
            : citationNode(segment.id, segment.expertId),
        );
      }
    } else {
      transform(child);
      next.push(child);
    }
  }
  node.children = next;
}

/**
 * A remark plugin: every `[post:ID]` in the text (not in code, not inside a link) becomes a
 * link node marked with `data-post-id`, which the `Markdown` component renders as a button.
 */
export function remarkCitations() {
  return (tree: MdNode): void => transform(tree);
}
