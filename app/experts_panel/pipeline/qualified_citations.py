"""Citations that name the expert as well as the post: `[post:EXPERT_ID/ID]`.

A text written across experts (the moderator's) cannot cite `[post:ID]`: an id means a post
only within one expert. It cites `[post:selfhost_ops/12]` instead; models also write
`[post: selfhost_ops / 12]` or a group, `[post:a/1, post:b/2]` or `[post:a/1; b/2]`, and each
is rewritten to canonical tokens joined by a space, as `citations` does for the plain form.

Checked like every citation: a post is kept only when its expert's own answer drew on it
(`allowed`, per expert), so an id made up, another expert's post, or an expert that did not
answer never reaches the reader. A plain `[post:ID]` names no expert, so in such a text it is
dropped too. Code is left as written, and gaps are mended as `citations` mends them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from experts_panel.pipeline.citations import CITATION, cited_ids, cited_only, groups, rewrite

_LEAD = r"post\s*:\s*"
_REF = r"[a-z0-9_-]{1,64}\s*/\s*\d+"
QUALIFIED = re.compile(
    rf"\[\s*{_LEAD}{_REF}(?:\s*[,;]\s*(?:{_LEAD})?{_REF})*\s*\]",
    re.IGNORECASE,
)
_PARTS = re.compile(r"([a-z0-9_-]{1,64})\s*/\s*(\d+)", re.IGNORECASE)


def token(expert_id: str, post_id: int) -> str:
    """The canonical citation of one post of one expert."""
    return f"[post:{expert_id}/{post_id}]"


def _refs(group: re.Match[str]) -> list[tuple[str, int]]:
    found = ((expert.lower(), int(post)) for expert, post in _PARTS.findall(group.group(0)))
    return list(dict.fromkeys(found))


def qualified_only(text: str, allowed: Mapping[str, set[int]]) -> str:
    """`text` with canonical qualified citations of allowed posts only, and no plain ones."""

    def kept(group: re.Match[str]) -> list[str]:
        return [token(e, i) for e, i in _refs(group) if i in allowed.get(e, set())]

    return cited_only(rewrite(text, QUALIFIED, kept), set())


def without_qualified(text: str) -> str:
    """An expert's own text without `[post:EXPERT_ID/ID]`: that form is the moderator's, and in
    an answer it could only be copied from a post or comment, naming whatever it likes."""
    return rewrite(text, QUALIFIED, lambda group: [])


def qualified_ids(text: str) -> list[tuple[str, int]]:
    """The (expert, post) pairs cited outside code, first appearance first, each once."""
    return list(dict.fromkeys(ref for group in groups(text, QUALIFIED) for ref in _refs(group)))


def qualify(text: str, expert_id: str) -> str:
    """An expert's own text with its plain `[post:ID]` citations named for that expert."""
    return rewrite(text, CITATION, lambda group: [token(expert_id, i) for i in _plain_ids(group)])


def _plain_ids(group: re.Match[str]) -> list[int]:
    return cited_ids(group.group(0))
