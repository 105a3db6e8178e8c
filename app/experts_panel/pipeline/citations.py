"""`[post:ID]` citations: every cited post must exist, and every cited post is a source."""

from __future__ import annotations

import re

CITATION = re.compile(r"\[post:\s*(\d+)\s*\]")


def cited_ids(text: str) -> list[int]:
    return list(dict.fromkeys(int(m.group(1)) for m in CITATION.finditer(text)))


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
