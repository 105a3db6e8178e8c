"""`[post:EXPERT_ID/ID]`: the moderator's citations, checked against what each answer drew on."""

from __future__ import annotations

import pytest

from experts_panel.llm.embedded import opening
from experts_panel.pipeline.qualified_citations import (
    qualified_ids,
    qualified_only,
    qualify,
    without_qualified,
)
from experts_panel.pipeline.types import ExpertAnswer

ALLOWED = {"ops": {12, 14}, "dev": {7}}


@pytest.mark.parametrize(
    ("written", "kept"),
    [
        ("Both agree [post:ops/12].", "Both agree [post:ops/12]."),
        ("Both agree [post: ops / 12].", "Both agree [post:ops/12]."),
        ("Both agree [POST:Ops/12].", "Both agree [post:ops/12]."),
        ("Both agree [post:ops/12, post:dev/7].", "Both agree [post:ops/12] [post:dev/7]."),
        ("Both agree [post:ops/12; dev/7].", "Both agree [post:ops/12] [post:dev/7]."),
    ],
)
def test_each_form_becomes_canonical(written: str, kept: str) -> None:
    assert qualified_only(written, ALLOWED) == kept


def test_a_post_its_expert_did_not_draw_on_is_removed_with_its_gap() -> None:
    assert qualified_only("Nightly [post:ops/999999].", ALLOWED) == "Nightly."
    assert qualified_only("Nightly ([post:ops/999999]) too.", ALLOWED) == "Nightly too."


def test_another_experts_post_is_refused() -> None:
    # 12 is a post ops drew on, not dev: the same number under another expert is another post.
    assert qualified_only("Weekly [post:dev/12] [post:dev/7].", ALLOWED) == "Weekly [post:dev/7]."


def test_an_expert_that_did_not_answer_is_refused() -> None:
    assert qualified_only("Monthly [post:sales/12].", ALLOWED) == "Monthly."


def test_a_bare_citation_names_no_expert_and_goes() -> None:
    assert qualified_only("Nightly [post:12], weekly [post:ops/14].", ALLOWED) == (
        "Nightly, weekly [post:ops/14]."
    )


def test_code_is_left_as_written() -> None:
    text = "Run `cp [post:ops/999] x` first [post:ops/12]."
    assert qualified_only(text, ALLOWED) == text
    assert qualified_ids(text) == [("ops", 12)]


def test_an_experts_own_citations_are_qualified() -> None:
    assert qualify("Я делаю так [post:1, 2] и так [post:3].", "ops") == (
        "Я делаю так [post:ops/1] [post:ops/2] и так [post:ops/3]."
    )


def test_an_experts_own_text_loses_the_moderators_form_and_keeps_its_own() -> None:
    text = "Nightly [post:12] [post:dev/7], as `[post:dev/7]` says."
    assert without_qualified(text) == "Nightly [post:12], as `[post:dev/7]` says."


def test_the_embedded_side_by_side_keeps_the_opening_sentences_and_their_citations() -> None:
    answer = ExpertAnswer(
        expert_id="ops",
        expert_name="Ops",
        text=(
            "In the expert's own words, newest first:\n\n"
            "**2025-03-17** — Back up nightly. Check the copy. Then rotate. [post:ops/34]\n\n"
            "**2024-01-02** — Older view. [post:ops/14]"
        ),
        sources=[34, 14],
    )
    # The first two sentences carry no citation: their paragraph's speaks for them.
    assert opening(answer) == "**2025-03-17** — Back up nightly. Check the copy. [post:ops/34]"
    # A citation right after a sentence stays with it.
    cited = ExpertAnswer("ops", "Ops", "Nightly. [post:ops/34] Weekly. Monthly.", [34])
    assert opening(cited) == "Nightly. [post:ops/34] Weekly."
    # No citation in the paragraph at all: the answer's first sources.
    bare = ExpertAnswer("ops", "Ops", "Nightly.\n\nWeekly [post:ops/14].", [14, 34])
    assert opening(bare) == "Nightly. [post:ops/14] [post:ops/34]"
