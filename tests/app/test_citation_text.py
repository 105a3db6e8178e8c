"""The reader gets the model's text except for its citation tokens.

`reconcile` (the answer) and `cited_only` (every model-written field) rewrite citations and
nothing else: code, whitespace and punctuation elsewhere reach the reader as the model wrote
them. Every citation form models write becomes canonical `[post:ID]` tokens; ids of posts
that were not given are dropped, and a dropped citation leaves no stray space or doubled
punctuation behind.
"""

from __future__ import annotations

import re

from hypothesis import assume, example, given
from hypothesis import strategies as st

from experts_panel.pipeline.citations import cited_ids, cited_only, reconcile

KNOWN = {1, 2, 33, 34}


# The examples.


def test_shell_commands_keep_their_spaces_before_dots() -> None:
    text = "Соберите образ: `docker build . && cd .. && ls -la .` [post:1]"
    assert reconcile(text, [], KNOWN) == (text, [1])
    plain = "Run docker build . && cd .. && ls -la . and see [post:2] ."
    assert reconcile(plain, [], KNOWN)[0] == plain


def test_code_blocks_keep_their_indentation() -> None:
    text = (
        "Вот конфиг [post:1]:\n\n"
        "```yaml\n"
        "services:\n"
        "  api:\n"
        "    image:  app   # two spaces , kept\n"
        "```\n\n"
        "    indented code  ,  too [post 997]\n"
    )
    assert reconcile(text, [], KNOWN)[0] == text


def test_removing_an_invented_citation_after_an_abbreviation_leaves_one_dot() -> None:
    assert reconcile("Ещё см. [post:999].", [], KNOWN)[0] == "Ещё см."
    assert cited_only("Ещё см. [post:999].", KNOWN) == "Ещё см."


def test_removing_a_citation_leaves_no_double_space() -> None:
    assert reconcile("Так [post:999] лучше.", [], KNOWN)[0] == "Так лучше."
    assert reconcile("[post:999] Так лучше.", [], KNOWN)[0] == "Так лучше."
    assert reconcile("- [post:999] пункт", [], KNOWN)[0] == "- пункт"
    assert reconcile("Так лучше ([post:999]).", [], KNOWN)[0] == "Так лучше."
    assert reconcile("Так, [post:999], лучше", [], KNOWN)[0] == "Так, лучше"
    assert reconcile("Так [post:998][post:999].", [], KNOWN)[0] == "Так."


def test_spaces_elsewhere_are_untouched() -> None:
    # Two trailing spaces are a Markdown line break; a run of spaces in text is the model's.
    text = "Первое  [post:1]  \nвторое   слово , и ещё ;  [post:999]\n"
    assert reconcile(text, [], KNOWN)[0] == "Первое  [post:1]  \nвторое   слово , и ещё ;\n"


# Every citation form.


def test_grouped_citations_become_canonical_tokens_and_sources() -> None:
    text, sources = reconcile("Так и есть [post:34, post:33].", [34], KNOWN)
    assert text == "Так и есть [post:34] [post:33]."
    assert sources == [34, 33]


def test_every_form_models_write_is_understood() -> None:
    forms = {
        "[post:1]": "[post:1]",
        "[post: 1]": "[post:1]",
        "[Post:1]": "[post:1]",
        "[post 1]": "[post:1]",
        "[post:1, post:2]": "[post:1] [post:2]",
        "[post:1,2]": "[post:1] [post:2]",
        "[post: 1; 2]": "[post:1] [post:2]",
        "[post 1, post 2]": "[post:1] [post:2]",
        "[post:1][post:2]": "[post:1][post:2]",
        "[post:1, post:1]": "[post:1]",
    }
    for written, canonical in forms.items():
        assert cited_only(f"a {written} b", KNOWN) == f"a {canonical} b", written
        assert cited_ids(written) == [int(i) for i in re.findall(r"\d+", canonical)][:2]


def test_an_invented_id_inside_a_group_is_dropped_alone() -> None:
    text, sources = reconcile("Так [post:34, post:999, post:33].", [], KNOWN)
    assert text == "Так [post:34] [post:33]."
    assert sources == [34, 33]
    assert reconcile("Так [post:998, 999].", [], KNOWN)[0] == "Так."


def test_unknown_forms_stay_text() -> None:
    for text in ("[post:abc]", "[пост 1]", "(post 1)", "[posts]", "[post:]", "post:1", "[1]"):
        assert cited_only(f"a {text} b", KNOWN) == f"a {text} b"
        assert cited_ids(text) == []


def test_citations_inside_code_are_code() -> None:
    text = "Пишите `[post:999]` или\n\n```\n[post 1] [post:998]\n```\n\n \tкод [post:997].\n"
    assert cited_only(text, KNOWN) == text
    assert cited_ids(text) == []


# Properties, over answers made of the things answers are made of.

WORDS = st.sampled_from(
    [
        *("Бэкап", "SQLite", "нужен", "см.", "т.е.", "docker", "build", ".", "..", "...", "cd"),
        *("—", "https://example.org/a?b=1,2", "e.g.", "v2.0", "(скобки)", "«кавычки»", "x", "1."),
    ]
)
PUNCT = st.sampled_from(["", "", "", ".", ",", ";", ":", "!", "?", " .", " ,", "...", ")"])
SPACES = st.sampled_from([" ", " ", " ", "  ", " \t", "\n", "  \n", "\n\n", "\n- ", "\n1. "])
CODE_SNIPPETS = [
    "`docker build . && cd .. && ls -la .`",
    "`[post:999]`",
    "``a ` [post 1] b``",
    "\n\n```sh\ncd ..  &&  ls -la .\n    [post:998] indented\n```\n\n",
    "\n\n~~~\n  [post:1, 2] , ;\n~~~\n\n",
    # After a list item this is the item's paragraph, not code: no citation in it, then.
    "\n\n    four  spaces . , ;\n\n",
]
CODE = st.sampled_from(CODE_SNIPPETS)


@st.composite
def prose(draw: st.DrawFn) -> str:
    """Markdown with words, punctuation, spacing, lists, URLs and code; no citation."""
    parts = []
    for _ in range(draw(st.integers(1, 25))):
        part = draw(st.one_of(WORDS, CODE)) + draw(PUNCT)
        # Spaces starting a line after a blank one would make it an indented code block,
        # where citations are code: the tests that put citations in words keep out of that.
        space = draw(SPACES)
        parts += [part, space.lstrip(" \t") if part.endswith("\n") else space]
    return "".join(parts)


@given(prose())
@example("Run docker build . && cd .. && ls -la .  \n  - item ,  ;")
def test_text_without_citations_is_returned_as_it_was(text: str) -> None:
    assert reconcile(text, [], KNOWN) == (text, [])
    assert cited_only(text, set()) == text


@given(prose(), st.lists(st.sampled_from(sorted(KNOWN)), min_size=1), st.data())
def test_canonical_citations_of_known_posts_change_nothing(
    text: str, ids: list[int], data: st.DataObject
) -> None:
    # Each citation goes right after a word, before whatever followed it.
    words = [m.end() for m in re.finditer(r"[^\s`]+", text) if not _in_code(text, [m.end()])]
    assume(words)
    at = sorted({data.draw(st.sampled_from(words)) for _ in ids})
    cited = text
    for offset, post in zip(reversed(at), ids, strict=False):
        cited = f"{cited[:offset]} [post:{post}]{cited[offset:]}"
    assert cited_only(cited, KNOWN) == cited
    assert reconcile(cited, [], KNOWN)[0] == cited


@given(prose(), st.data())
def test_dropping_invented_citations_gives_the_text_without_them(
    text: str, data: st.DataObject
) -> None:
    # An invented citation (and its leading space) after a word that ends a clause: dropping
    # it gives exactly the text it was put into.
    clause_ends = re.finditer(r"[^\s`.,;:!?]+(?=[.,;:!?]|\n|$)", text)
    ends = [m.end() for m in clause_ends if not _in_code(text, [m.end()])]
    assume(ends)
    chosen = sorted(set(data.draw(st.lists(st.sampled_from(ends), min_size=1, max_size=3))))
    invented = text
    for offset in reversed(chosen):
        form = data.draw(st.sampled_from(["[post:999]", "[post 998]", "[post:997, 996]"]))
        invented = f"{invented[:offset]} {form}{invented[offset:]}"
    assert reconcile(invented, [], KNOWN) == (text, [])


@given(prose(), st.sampled_from(["[post:1, post:2]", "[post:1,2]", "[post 1, 2]"]))
def test_a_group_anywhere_outside_code_becomes_tokens(text: str, group: str) -> None:
    written = f"{text} {group}"
    assert cited_only(written, KNOWN) == f"{text} [post:1] [post:2]"
    assert reconcile(written, [], KNOWN)[1] == [1, 2]


def _in_code(text: str, offsets: list[int]) -> bool:
    """Whether any offset falls inside one of CODE's snippets (where citations are code)."""
    for snippet in CODE_SNIPPETS:
        for m in re.finditer(re.escape(snippet.strip()), text):
            if any(m.start() <= o <= m.end() for o in offsets):
                return True
    return False
