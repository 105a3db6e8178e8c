"""Citations: every cited post must exist, every cited post is a source, and the rest of the
text is the model's own.

Models cite in several forms: `[post:1]`, `[post: 1]`, `[post 1]`, `[post:1, post:2]`,
`[post:1,2]`, `[post:1; 2]`. Each is rewritten to canonical `[post:ID]` tokens (a group
becomes tokens joined by a space), so the reader's front end meets one form. Anything else
that looks a little like a citation (`[пост 1]`, `[post:abc]`) is the model's text and stays.

The reader's front end opens a citation as a post of the answer's expert, so any other id a
model writes (one it made up, one a post or comment asked it to cite, another expert's) must
not reach the reader: `reconcile` checks the answer, `cited_only` every model-written field.

Only the citation tokens change. The text is Markdown: code (fenced, indented or inline) is
left exactly as written, citations inside it included, and so are whitespace and punctuation
elsewhere. Where a dropped citation leaves a gap, only that gap is mended: the spaces before
it when punctuation or a line's end follows, a dot doubled by it (`см. [post:9].`), or the
empty brackets it sat in.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from markdown_it import MarkdownIt

_LEAD = r"post(?:\s*:\s*|\s+)"
# One citation group, in any form models write; the ids are read from it by `_ID`.
CITATION = re.compile(
    rf"\[\s*{_LEAD}\d+(?:\s*[,;]\s*(?:{_LEAD})?\d+)*\s*\]",
    re.IGNORECASE,
)
_ID = re.compile(r"\d+")

_SPACES = " \t"
# What may follow a dropped citation for the spaces before it to go too.
_CLOSING = ".,;:!?)]}»”…"
_MERGING = ".,;:"

_MARKDOWN = MarkdownIt("commonmark")
_NEWLINE = re.compile(r"\r\n?|\n")
_BACKTICKS = re.compile(r"(?<!\\)`+")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")


def _code_spans(text: str) -> list[tuple[int, int]]:
    """Where `text` holds code: its code blocks (whole lines, as a CommonMark parser finds
    them) and its inline code spans (backtick runs closed by a run of the same length within
    one paragraph)."""
    starts = [0] + [m.end() for m in _NEWLINE.finditer(text)]
    starts.append(len(text))
    blocks = [
        (starts[token.map[0]], starts[min(token.map[1], len(starts) - 1)])
        for token in _MARKDOWN.parse(text)
        if token.type in ("fence", "code_block") and token.map
    ]
    spans = list(blocks)
    begin = 0
    for block_start, block_end in [*blocks, (len(text), len(text))]:
        spans += _inline_code(text, begin, block_start)
        begin = block_end
    return sorted(spans)


def _inline_code(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    runs = list(_BACKTICKS.finditer(text, start, end))
    i = 0
    while i < len(runs):
        opening = runs[i]
        width = len(opening.group(0))
        for j in range(i + 1, len(runs)):
            closing = runs[j]
            if _BLANK_LINE.search(text, opening.end(), closing.start()):
                break
            if len(closing.group(0)) == width:
                yield opening.start(), closing.end()
                i = j
                break
        i += 1


def groups(text: str, pattern: re.Pattern[str] = CITATION) -> Iterator[re.Match[str]]:
    """The citation groups of `text` outside code (`pattern`: what a group looks like)."""
    matches = list(pattern.finditer(text))
    code = _code_spans(text) if matches else []
    for match in matches:
        if not any(a <= match.start() < b for a, b in code):
            yield match


def _ids(group: re.Match[str]) -> list[int]:
    return list(dict.fromkeys(int(i) for i in _ID.findall(group.group(0))))


def cited_ids(text: str) -> list[int]:
    """The ids cited outside code, in any form, first appearance first, each once."""
    return list(dict.fromkeys(i for group in groups(text) for i in _ids(group)))


def cited_only(text: str, known: set[int]) -> str:
    """`text` with its citations in canonical form, without those of posts not in `known`."""
    return rewrite(text, CITATION, lambda group: [f"[post:{i}]" for i in _ids(group) if i in known])


def rewrite(
    text: str, pattern: re.Pattern[str], tokens: Callable[[re.Match[str]], list[str]]
) -> str:
    """`text` with each citation group matching `pattern` outside code replaced by the
    `tokens` made of it, joined by a space; a group left with none is dropped, its gap mended."""
    out = ""
    at = 0
    for group in groups(text, pattern):
        if group.start() < at:  # swallowed as the tail of the gap before it
            continue
        out += text[at : group.start()]
        kept = tokens(group)
        if kept:
            out += " ".join(kept)
            at = group.end()
        else:
            out, at = _close_gap(out, text, group.end())
    return out + text[at:]


def _close_gap(left: str, text: str, at: int) -> tuple[str, int]:
    """`left` and where the text resumes once a citation ending at `at` is dropped."""
    while True:
        trimmed = left.rstrip(_SPACES)
        after = at
        while after < len(text) and text[after] in _SPACES:
            after += 1
        before, following = trimmed[-1:], text[after : after + 1]
        if before in "([" and before and following == {"(": ")", "[": "]"}[before]:
            # The citation was all the brackets held: they go too, and the gap is theirs.
            left, at = trimmed[:-1], after + 1
            continue
        if not following or following in "\r\n" or following in _CLOSING:
            if before and before == following and before in _MERGING and after == at:
                return trimmed, at + 1
            if before in ",;:" and before and following in ".!?":
                return trimmed[:-1], at
            return trimmed, at
        if not before or before in "\r\n" or trimmed != left:
            # At a line's start, or with spaces before it: the spaces after it go.
            return left, after
        return left, at


def reconcile(text: str, main_sources: list[int], known: set[int]) -> tuple[str, list[int]]:
    """Canonical citations of posts among `known` only; cited posts join the sources."""
    cleaned = cited_only(text, known)
    sources = [i for i in dict.fromkeys(main_sources) if i in known]
    sources += [i for i in cited_ids(cleaned) if i not in sources]
    return cleaned, sources
