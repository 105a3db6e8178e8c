"""The embedded model's choice of sources: a post in the other language than the question may
trail the most relevant one by more, since the encoder scores such pairs lower and closer
together; a same-language answer keeps the narrower margin and its count."""

from __future__ import annotations

from experts_panel.llm.embedded import (
    ANSWER_POSTS,
    CONFIDENT_RELEVANCE,
    CROSS_LANGUAGE_MARGIN,
    CROSS_LANGUAGE_POSTS,
    HIGH_CONFIDENCE,
    MIN_RELEVANCE,
    SOURCE_MARGIN,
    Scored,
    choose_sources,
)
from experts_panel.pipeline.types import Post

BEST = max(HIGH_CONFIDENCE, CONFIDENT_RELEVANCE) + 0.05
# Behind the best by more than the same-language margin, less than the cross-language one.
BETWEEN = BEST - (SOURCE_MARGIN + CROSS_LANGUAGE_MARGIN) / 2


def post(n: int) -> Post:
    return Post("expert", n, 100 + n, f"2024-01-{n:02d}", f"post {n}")


def test_a_post_in_the_other_language_is_cited_further_behind_the_best() -> None:
    scored = [Scored(BEST, post(1), True), Scored(BETWEEN, post(2), True)]
    chosen, _ = choose_sources(scored)
    assert [p.post_id for p in chosen] == [1, 2]


def test_a_post_in_the_questions_language_keeps_the_narrow_margin() -> None:
    scored = [Scored(BEST, post(1), False), Scored(BETWEEN, post(2), False)]
    chosen, _ = choose_sources(scored)
    assert [p.post_id for p in chosen] == [1]


def test_beyond_the_wider_margin_a_post_in_the_other_language_is_left_out() -> None:
    behind = BEST - CROSS_LANGUAGE_MARGIN - 0.01
    assert behind >= MIN_RELEVANCE  # left out for its distance, not for being irrelevant
    chosen, _ = choose_sources([Scored(BEST, post(1), True), Scored(behind, post(2), True)])
    assert [p.post_id for p in chosen] == [1]


def test_how_many_sources_depends_on_the_language_of_the_most_relevant_post() -> None:
    close = [BEST - 0.001 * n for n in range(ANSWER_POSTS + CROSS_LANGUAGE_POSTS)]
    across, _ = choose_sources([Scored(s, post(i + 1), True) for i, s in enumerate(close)])
    within, _ = choose_sources([Scored(s, post(i + 1), False) for i, s in enumerate(close)])
    assert [p.post_id for p in across] == list(range(1, CROSS_LANGUAGE_POSTS + 1))
    assert [p.post_id for p in within] == list(range(1, ANSWER_POSTS + 1))


def test_an_unconfident_best_is_cited_alone_whatever_its_language() -> None:
    weak = (MIN_RELEVANCE + CONFIDENT_RELEVANCE) / 2
    chosen, confidence = choose_sources(
        [Scored(weak, post(1), True), Scored(weak - 0.01, post(2), True)]
    )
    assert [p.post_id for p in chosen] == [1]
    assert confidence == "LOW"
