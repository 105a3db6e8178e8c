"""Words borrowed across the two scripts: кортадо and cortado, френч and french.

Russian writes many terms of a field as they sound in English (coffee drinks, kit, brands), and
the sentence encoder knows the rarer ones poorly: "кортадо" is no closer to "cortado" than to
any other drink. Written in Latin letters (`anyascii`) and reduced to a rough sound key, the two
spellings meet. Two keys match when one is the other with at most `ENDING` letters more at its
end, sharing at least `MIN_SHARED`: a Russian word's case ending (прессе, press) or an English
plural costs letters only there.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from anyascii import anyascii

MIN_SHARED = 4  # shorter keys meet by chance (бег and beg)
ENDING = 2

# Letters that spell one sound differently in the two languages' habits of borrowing:
# cortado/кортадо (c, k), photo/фото (ph, f), white/уайт (w, v), and double letters (latte, латте).
_SOUNDS = (("ph", "f"), ("ck", "k"), ("c", "k"), ("q", "k"), ("w", "v"), ("x", "ks"))
_NOT_LETTER = re.compile(r"[^a-z]")
_SILENT = re.compile(r"[hj']")
_DOUBLE = re.compile(r"(.)\1+")


def sound_key(word: str) -> str:
    """A rough key of how the word sounds, in Latin letters."""
    key = anyascii(word).lower()
    for spelled, sound in _SOUNDS:
        key = key.replace(spelled, sound)
    key = key.replace("y", "i")
    key = _NOT_LETTER.sub("", _SILENT.sub("", key))
    return _DOUBLE.sub(r"\1", key)


def keys_match(a: str, b: str) -> bool:
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    return len(short) >= MIN_SHARED and len(long) - len(short) <= ENDING and long.startswith(short)


@dataclass(frozen=True)
class SpellingIndex:
    """Word positions by the first `MIN_SHARED` letters of their keys, for a quick lookup."""

    keys: tuple[str, ...]
    by_start: dict[str, tuple[int, ...]]

    @classmethod
    def of(cls, words: tuple[str, ...]) -> SpellingIndex:
        keys = tuple(sound_key(w) for w in words)
        starts: dict[str, list[int]] = defaultdict(list)
        for i, key in enumerate(keys):
            if len(key) >= MIN_SHARED:
                starts[key[:MIN_SHARED]].append(i)
        return cls(keys, {start: tuple(found) for start, found in starts.items()})

    def matches(self, word: str) -> list[int]:
        """Positions of the words spelled like `word` (by `keys_match`)."""
        key = sound_key(word)
        if len(key) < MIN_SHARED:
            return []
        return [i for i in self.by_start.get(key[:MIN_SHARED], ()) if keys_match(key, self.keys[i])]
