"""Words borrowed across the two scripts: кортадо and cortado, френч and french.

Russian writes many terms of a field as they sound in English (coffee drinks, kit, brands), and
the sentence encoder knows the rarer ones poorly: "кортадо" is no closer to "cortado" than to
any other drink. Written in Latin letters (`anyascii`) and reduced to a rough sound key, the two
spellings meet. Two keys match when they are equal, or when one is the other with an ending
of its language: a Russian case ending (прессе, press; карбоне, carbon), which starts with a
vowel, or an English inflection (coffees, кофе; started, старт). Any other tail keeps words
apart that only start alike: варить and vary, махи and machine.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from anyascii import anyascii

MIN_KEY = 4  # shorter keys meet by chance (бег and beg)
# Russian case endings in Latin letters: а, е, и, о, у; ом, ой, ой, ем, ей, ам, ов, ев; ая, ую,
# ие, ий (ы and й are i).
RUSSIAN_ENDING = re.compile(r"[aeiou]|[aeiou][miv]|i[aeiou]")
ENGLISH_ENDING = re.compile(r"s|es|ed|d")

# Letters that spell one sound differently in the two languages' habits of borrowing:
# cortado/кортадо (c, k), photo/фото (ph, f), white/уайт (w, v), and double letters (latte, латте).
_SOUNDS = (("ph", "f"), ("ck", "k"), ("c", "k"), ("q", "k"), ("w", "v"), ("x", "ks"))
_NOT_LETTER = re.compile(r"[^a-z]")
_DOUBLE = re.compile(r"(.)\1+")
_CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)


def sound_key(word: str) -> str:
    """A rough key of how the word sounds, in Latin letters."""
    key = anyascii(word).lower()
    for spelled, sound in _SOUNDS:
        key = key.replace(spelled, sound)
    key = _NOT_LETTER.sub("", key.replace("y", "i"))
    return _DOUBLE.sub(r"\1", key)


def keys_match(russian: str, english: str) -> bool:
    """Whether a Russian word's key and an English word's spell one borrowed word."""
    if len(russian) < MIN_KEY or len(english) < MIN_KEY:
        return False
    if russian == english:
        return True
    if russian.startswith(english):
        return RUSSIAN_ENDING.fullmatch(russian[len(english) :]) is not None
    if english.startswith(russian):
        return ENGLISH_ENDING.fullmatch(english[len(russian) :]) is not None
    return False


@dataclass(frozen=True)
class SpellingIndex:
    """Word positions by the first `MIN_KEY` letters of their keys, for a quick lookup."""

    keys: tuple[str, ...]
    by_start: dict[str, tuple[int, ...]]

    @classmethod
    def of(cls, words: tuple[str, ...]) -> SpellingIndex:
        keys = tuple(sound_key(w) for w in words)
        starts: dict[str, list[int]] = defaultdict(list)
        for i, key in enumerate(keys):
            if len(key) >= MIN_KEY:
                starts[key[:MIN_KEY]].append(i)
        return cls(keys, {start: tuple(found) for start, found in starts.items()})

    def matches(self, word: str) -> list[int]:
        """Positions of the words of the other script spelled like `word` (`keys_match`)."""
        key = sound_key(word)
        if len(key) < MIN_KEY:
            return []
        russian = _CYRILLIC.search(word) is not None
        found = []
        for i in self.by_start.get(key[:MIN_KEY], ()):
            other = self.keys[i]
            if keys_match(key, other) if russian else keys_match(other, key):
                found.append(i)
        return found
