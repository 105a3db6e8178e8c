"""The fake model's answers: it reads the prompt as the service writes it and judges the
planted posts HIGH, so recall and token counts can be measured without a provider."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from querybench.plan import PHASE_MODELS

_POST_BLOCK = re.compile(r"(?m)^\[post:(\d+)\] \(([^)]*)\) ")
_USE_SOURCE = re.compile(r'"language": "([a-z]{2,3})"')


def posts_shown(content: str) -> list[tuple[int, str, str]]:
    """(id, the parenthesised date and role, text) of each `[post:ID] (...) text` block."""
    parts = _POST_BLOCK.split(content)
    return [
        (int(parts[i]), parts[i + 1], parts[i + 2].strip()) for i in range(1, len(parts) - 2, 3)
    ]


def user_text(body: dict[str, Any]) -> str:
    return "\n".join(str(m["content"]) for m in body["messages"] if m["role"] == "user")


def system_text(body: dict[str, Any]) -> str:
    return "\n".join(str(m["content"]) for m in body["messages"] if m["role"] == "system")


MEDIUM_WORDS = ("sqlite", "backup", "бэкап", "резервн", "копи")


def judge(post_id: int, text: str, planted: set[int]) -> str:
    """The fake's verdict: the planted posts are HIGH, posts on neighbouring words MEDIUM."""
    if post_id in planted:
        return "HIGH"
    lowered = text.lower()
    return "MEDIUM" if any(w in lowered for w in MEDIUM_WORDS) else "LOW"


def make_responder(planted: set[int]) -> Callable[[dict[str, Any]], str]:
    """Plausible JSON for each phase, told apart by the model id the phase is configured with."""
    phase = {model: name for name, model in PHASE_MODELS.items()}

    def respond(body: dict[str, Any]) -> str:
        which = phase.get(str(body["model"]), "")
        if which == "MODEL_MAP":
            verdicts = [
                {"id": i, "relevance": judge(i, t, planted), "reason": "judged by the bench"}
                for i, _, t in posts_shown(user_text(body))
            ]
            return json.dumps({"posts": verdicts})
        if which == "MODEL_MEDIUM_SCORING":
            candidates = user_text(body).split("Candidates to score", 1)[-1]
            return json.dumps(
                {"scores": [{"id": i, "score": 0.5} for i, _, _ in posts_shown(candidates)]}
            )
        if which == "MODEL_REDUCE":
            high = [i for i, label, _ in posts_shown(user_text(body)) if label.endswith("HIGH")]
            found = _USE_SOURCE.search(system_text(body))
            language = found.group(1) if found else "en"
            cites = " ".join(f"[post:{i}]" for i in high)
            # In the question's language, so language validation has nothing to translate.
            answer = (
                f"Я каждую ночь делаю резервные копии базы и проверяю восстановление {cites}."
                if language == "ru"
                else f"I back up the database every night and test the restores {cites}."
            )
            confidence = "HIGH" if high else "LOW"
            return json.dumps(
                {
                    "answer": answer,
                    "main_sources": high,
                    "confidence": confidence,
                    "language": language,
                }
            )
        if which == "MODEL_TRANSLATION":
            return json.dumps({"text": user_text(body).split(":\n\n", 1)[-1]})
        if which == "MODEL_COMMENT_GROUPS":
            return json.dumps({"post_ids": []})
        if which == "MODEL_COMMENT_SYNTHESIS":
            return json.dumps({"synthesis": None})
        return "{}"

    return respond
