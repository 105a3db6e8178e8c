"""Secrets out of the text that leaves the process: log lines, and what a reader is sent.

The configured key is replaced wherever it appears, and so is anything shaped like a key or a
bearer token, whoever's it is: a provider or a proxy that quotes the request's Authorization
header back in an error (some do) would otherwise put the key into the log and, through a
model's answer, in front of a reader.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

REDACTED = "[REDACTED]"

# A configured secret shorter than this is not looked for: replacing every "abc" in every
# line would wreck the log and hide nothing worth hiding.
MIN_SECRET_CHARS = 6

# An OpenRouter key (sk-or-v1-...), even cut short; an OpenAI-style key (sk-..., sk-proj-...);
# what follows "Bearer" in an Authorization header, when it is long enough to be a token (so
# that "the bearer of bad news" in a model's answer stays as it is).
SHAPED_LIKE_SECRETS = re.compile(
    r"\bsk-or-[A-Za-z0-9_-]*"
    r"|\bsk-[A-Za-z0-9_-]{20,}"
    r"|\bBearer\s+[A-Za-z0-9._~+/=-]{16,}",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Redactor:
    """Replaces the given secrets, and anything shaped like one, by `REDACTED`."""

    secrets: tuple[str, ...] = ()
    _forms: tuple[str, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        forms: set[str] = set()
        for secret in self.secrets:
            if len(secret) >= MIN_SECRET_CHARS:
                # As written, and as a JSON string holds it (a log line may be JSON).
                forms |= {secret, json.dumps(secret)[1:-1]}
        # The longest first, so no part of a longer one is left behind.
        object.__setattr__(self, "_forms", tuple(sorted(forms, key=len, reverse=True)))

    @classmethod
    def of(cls, secrets: Iterable[str | None]) -> Redactor:
        return cls(tuple(s for s in secrets if s))

    def __call__(self, text: str) -> str:
        for form in self._forms:
            text = text.replace(form, REDACTED)
        return SHAPED_LIKE_SECRETS.sub(REDACTED, text)
