"""Finding a discussion group's threads: which channel post each automatic copy is, and which
copy each reply chain leads to.

A copy names the channel but not the original message id, so it is matched by text and time.
"""

from __future__ import annotations

import difflib
from bisect import bisect_left
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from experts_panel.telegram.text import normalise_for_matching

# An automatic copy follows its post within seconds; these bounds leave room for slow delivery
# and for exports whose dates are in the exporter's local time.
EXACT_TEXT_WINDOW_S = 36 * 3600
FUZZY_WINDOW_S = 600
EMPTY_TEXT_WINDOW_S = 60
FUZZY_MIN_RATIO = 0.85
MAX_CHAIN = 10_000


def _epoch(iso: str) -> float:
    moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


class PostIndex:
    """The expert's posts, indexed for matching discussion copies by text and by time."""

    def __init__(self, rows: list[tuple[int, str, str]]) -> None:
        self.by_text: dict[str, list[tuple[float, int]]] = defaultdict(list)
        timeline: list[tuple[float, int, str]] = []
        for message_id, date, body in rows:
            moment = _epoch(date)
            norm = normalise_for_matching(body)
            self.by_text[norm].append((moment, message_id))
            timeline.append((moment, message_id, norm))
        timeline.sort()
        self.timeline = timeline
        self.times = [t for t, _, _ in timeline]

    def match(self, text: str, date: str) -> int | None:
        moment = _epoch(date)
        norm = normalise_for_matching(text)
        exact = [
            (abs(moment - t), message_id)
            for t, message_id in self.by_text.get(norm, [])
            if abs(moment - t) <= (EXACT_TEXT_WINDOW_S if norm else EMPTY_TEXT_WINDOW_S)
        ]
        if exact:
            return min(exact)[1]
        if not norm:
            return None
        start = bisect_left(self.times, moment - FUZZY_WINDOW_S)
        best: tuple[float, float, int] | None = None
        for t, message_id, candidate in self.timeline[start:]:
            if t > moment + FUZZY_WINDOW_S:
                break
            if not candidate:
                continue
            ratio = difflib.SequenceMatcher(None, norm, candidate).ratio()
            if ratio >= FUZZY_MIN_RATIO and (best is None or (ratio, -abs(moment - t)) > best[:2]):
                best = (ratio, -abs(moment - t), message_id)
        return best[2] if best else None


def is_copy(raw: dict[str, Any], channel_key: str | None, names: set[str]) -> bool:
    """Is this group message the automatic copy of a channel post?

    Copies are forwards posted by the channel itself. The channel's id is the sure sign; its
    name alone (older exports) is taken only when the sender's id is absent, since a renamed
    channel's copies carry the old name.
    """
    forwarded_id = raw.get("forwarded_from_id")
    author_id = raw.get("from_id")
    if channel_key is not None and forwarded_id == channel_key:
        return True
    if channel_key is not None and author_id == channel_key and "forwarded_from" in raw:
        return True
    return author_id is None and raw.get("forwarded_from") in names


UNMATCHED = -1


def resolve_threads(
    copy_to_post: dict[int, int | None], parent_of: dict[int, int | None]
) -> dict[int, int]:
    """For each comment: the post its reply chain leads to, `UNMATCHED`, or absent."""
    resolved: dict[int, int] = {}
    for start in parent_of:
        chain: list[int] = []
        node: int | None = start
        result: int | None = None
        while node is not None and len(chain) < MAX_CHAIN:
            if node in resolved:
                result = resolved[node]
                break
            if node in copy_to_post:
                post = copy_to_post[node]
                result = UNMATCHED if post is None else post
                break
            if node not in parent_of or node in chain:
                break
            chain.append(node)
            node = parent_of[node]
        if result is not None:
            for member in chain:
                resolved[member] = result
    return resolved
