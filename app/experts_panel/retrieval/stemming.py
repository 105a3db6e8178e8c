"""Words as the full-text index sees them: folded, lower-cased, stemmed by their script."""

from __future__ import annotations

import re
from functools import lru_cache

import Stemmer

_URL = re.compile(r"(?:https?://|www\.|\bt\.me/)\S+", re.IGNORECASE)
_WORD = re.compile(r"\w+")
_CYRILLIC = re.compile(r"[а-я]")
_LATIN = re.compile(r"[a-z]")


@lru_cache(maxsize=1)
def _stemmers() -> tuple[Stemmer.Stemmer, Stemmer.Stemmer]:
    return Stemmer.Stemmer("russian"), Stemmer.Stemmer("english")


def words(text: str) -> list[str]:
    """The text's words, lower-cased with ё folded to е, links left out."""
    folded = _URL.sub(" ", text).lower().replace("ё", "е")
    return _WORD.findall(folded)


def stems(text: str) -> list[str]:
    """Each word reduced to its stem, Russian or English by the letters it is written in."""
    russian, english = _stemmers()
    out: list[str] = []
    for word in words(text):
        if _CYRILLIC.search(word):
            out.append(russian.stemWord(word))
        elif _LATIN.search(word):
            out.append(english.stemWord(word))
        else:
            out.append(word)
    return out


def stem_text(text: str) -> str:
    return " ".join(stems(text))


def match_expression(query: str) -> str | None:
    """An FTS5 MATCH expression: any of the query's stems, each quoted so no word is syntax."""
    return match_stems(stems(query))


def match_stems(found: list[str]) -> str | None:
    """Any of these stems, each quoted (a stem holds no quote: words are letters and digits)."""
    unique = list(dict.fromkeys(s for s in found if s))
    if not unique:
        return None
    return " OR ".join(f'"{s}"' for s in unique)
