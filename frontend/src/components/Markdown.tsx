// Safe Markdown: react-markdown without rehype-raw, so HTML in the text stays text, and
// link targets pass react-markdown's URL filter (no `javascript:`). `[post:ID]` citations
// become buttons that open the post.

import { createContext, memo, useContext, type ReactNode } from 'react';
import ReactMarkdown, { type Components } from 'react-markdown';
import { CITATION_EXPERT_PROPERTY, CITATION_PROPERTY, remarkCitations } from '../lib/citations';
import { CitationButton } from './CitationButton';
import styles from './Markdown.module.css';

interface Props {
  children: string;
  /** The expert whose posts the plain `[post:ID]` citations name; '' for a text across
   *  experts (the moderator's), where only `[post:EXPERT_ID/ID]` opens a post. */
  expertId: string;
  className?: string;
  /** What the text is (`answer`, `synthesis`), as `data-markdown` for tests and styles. */
  part?: string;
}

const REMARK_PLUGINS = [remarkCitations];

// The components are module constants, so a re-render (another expert's progress arriving)
// never replaces the elements: a focused citation keeps its focus. The expert comes from
// context.
const ExpertOfText = createContext('');

function Link({ node, href, children }: { node?: { properties?: Record<string, unknown> }; href?: string; children?: ReactNode }) {
  const ofText = useContext(ExpertOfText);
  const cited = node?.properties?.[CITATION_PROPERTY];
  const named = node?.properties?.[CITATION_EXPERT_PROPERTY];
  // A citation naming an expert opens that expert's post only in a text across experts; in an
  // expert's own text (where the service never leaves one) it opens nothing.
  const expertId = typeof named === 'string' ? (ofText === '' ? named : '') : ofText;
  if (cited !== undefined && expertId) {
    return <CitationButton expertId={expertId} postId={Number(cited)} named={typeof named === 'string'} />;
  }
  if (cited !== undefined) return <>{children}</>;
  return (
    <a href={href} target="_blank" rel="noopener noreferrer nofollow">
      {children}
    </a>
  );
}

/** Remote images would load from anywhere: they are shown as links instead. */
function Image({ src, alt }: { src?: string | Blob; alt?: string }) {
  if (!src || typeof src !== 'string') return <>{alt}</>;
  return (
    <a href={src} target="_blank" rel="noopener noreferrer nofollow">
      {alt || src}
    </a>
  );
}

// Answers sit under the card's own heading (h3): their headings start one level below it.
function H4({ children }: { children?: ReactNode }) {
  return <h4 className={styles.heading}>{children}</h4>;
}

function H5({ children }: { children?: ReactNode }) {
  return <h5 className={styles.heading}>{children}</h5>;
}

const COMPONENTS: Components = { a: Link, img: Image, h1: H4, h2: H4, h3: H5, h4: H5, h5: H5, h6: H5 };

export const Markdown = memo(function Markdown({ children, expertId, className, part }: Props) {
  return (
    <div className={[styles.markdown, className].filter(Boolean).join(' ')} data-markdown={part}>
      <ExpertOfText.Provider value={expertId}>
        <ReactMarkdown remarkPlugins={REMARK_PLUGINS} components={COMPONENTS}>
          {children}
        </ReactMarkdown>
      </ExpertOfText.Provider>
    </div>
  );
});
