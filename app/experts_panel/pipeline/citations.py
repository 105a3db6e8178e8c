"""`[post:ID]` citations: every cited post must exist, and every cited post is a source.

The reader's front end opens a citation as a post of the answer's expert, so any other id a
model writes (one it made up, one a post or comment asked it to cite, another expert's) must
not reach the reader: `reconcile` checks the answer, `cited_only` every model-written field.
"""

from __future__ import annotations

import re

CITATION = re.compile(r"\[post:\s*(\d+)\s*\]")
_SPACED_CITATION = re.compile(r"[ \t]*" + CITATION.pattern)


def cited_ids(text: str) -> list[int]:
    return list(dict.fromkeys(int(m.group(1)) for m in CITATION.finditer(text)))


def cited_only(text: str, known: set[int]) -> str:
    """`text` without its citations of posts not among `known`, each with the spaces just
    before it; nothing else in the text is touched (it is Markdown: indentation and trailing
    spaces mean something)."""

    def keep(match: re.Match[str]) -> str:
        return match.group(0) if int(match.group(1)) in known else ""

    return _SPACED_CITATION.sub(keep, text)


def reconcile(text: str, main_sources: list[int], known: set[int]) -> tuple[str, list[int]]:
    """Drop citations of posts that are not among `known`; add cited posts to the sources."""

    def keep(match: re.Match[str]) -> str:
        return f"[post:{match.group(1)}]" if int(match.group(1)) in known else ""

    cleaned = CITATION.sub(keep, text)
    cleaned = re.sub(r"[ \t]+([.,;:!?])", r"\1", cleaned)  # no space left before punctuation
    cleaned = re.sub(r"[ \t]{2,}", " ", cleaned)
    sources = [i for i in main_sources if i in known]
    sources += [i for i in cited_ids(cleaned) if i not in sources]
    return cleaned.strip(), sources
