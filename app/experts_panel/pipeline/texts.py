"""The fixed words the pipeline writes into answers, in the question's language."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "sources_author_title": "The author's clarifications on the sources",
        "sources_community_title": "The community on the sources",
        "elsewhere_author_title": "The author in other discussions",
        "elsewhere_community_title": "The community in other discussions",
        "reason_meaning": "close in meaning ({similarity:.2f})",
        "reason_words": "shares the question's words (rank {rank})",
        "reason_weak": "only loosely related",
        "no_posts": "The expert has not written about this.",
        "embedded_intro": "In the expert's own words, newest first:",
        "no_translation": (
            "The answer is in {answer_language}, the question in {question_language}: the "
            "embedded model cannot translate."
        ),
        "budget_spent": (
            "Today's token budget is spent: the embedded model answered instead of {model}."
        ),
        "medium_failed": "Complementary posts could not be scored: {reason}.",
        "synthesis_failed": "The comments could not be summarised: {reason}.",
        "translation_failed": "The answer could not be translated: {reason}.",
        "map_failed": "{failed} of {chunks} groups of posts could not be judged: {reason}.",
        "drift_failed": "Drifted discussions could not be matched: {reason}.",
        "moderator_failed": "The experts' answers could not be compared: {reason}.",
        "moderator_embedded_intro": (
            "Each expert's opening words, side by side (the embedded model does not compare them):"
        ),
        # Why a model call failed, by `ModelError.kind`; the provider's own words go to the log.
        "model_unavailable": "the model API did not answer",
        "model_refused": "the model API refused the request",
        "model_bad_answer": "the model's answer could not be used",
    },
    "ru": {
        "sources_author_title": "Уточнения автора к источникам",
        "sources_community_title": "Сообщество об источниках",
        "elsewhere_author_title": "Автор в других обсуждениях",
        "elsewhere_community_title": "Сообщество в других обсуждениях",
        "reason_meaning": "близко по смыслу ({similarity:.2f})",
        "reason_words": "совпадают слова вопроса (место {rank})",
        "reason_weak": "связь слабая",
        "no_posts": "Автор об этом не писал.",
        "embedded_intro": "Словами автора, сначала самое новое:",
        "no_translation": (
            "Ответ на языке «{answer_language}», вопрос на «{question_language}»: встроенная "
            "модель не умеет переводить."
        ),
        "budget_spent": (
            "Дневной лимит токенов исчерпан: вместо {model} ответила встроенная модель."
        ),
        "medium_failed": "Не удалось оценить дополняющие посты: {reason}.",
        "synthesis_failed": "Не удалось обобщить комментарии: {reason}.",
        "translation_failed": "Не удалось перевести ответ: {reason}.",
        "map_failed": "Не удалось оценить {failed} из {chunks} групп постов: {reason}.",
        "drift_failed": "Не удалось подобрать обсуждения, ушедшие от темы: {reason}.",
        "moderator_failed": "Не удалось сопоставить ответы экспертов: {reason}.",
        "moderator_embedded_intro": (
            "Начало ответа каждого эксперта, рядом (встроенная модель их не сравнивает):"
        ),
        "model_unavailable": "API модели не ответил",
        "model_refused": "API модели отклонил запрос",
        "model_bad_answer": "ответ модели не удалось использовать",
    },
}


def text(language: str, key: str, **values: object) -> str:
    """The `key` text in `language` (English when there is none), filled with `values`."""
    table = TEXTS.get(language, TEXTS["en"])
    return table.get(key, TEXTS["en"][key]).format(**values)
