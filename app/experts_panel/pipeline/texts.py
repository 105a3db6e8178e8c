"""The fixed words the pipeline writes into answers, in the question's language."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "author_title": "What the author adds in the comments",
        "community_title": "What the community adds",
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
        "medium_failed": "Complementary posts could not be scored: {error}",
        "synthesis_failed": "The comments could not be summarised: {error}",
        "translation_failed": "The answer could not be translated: {error}",
    },
    "ru": {
        "author_title": "Что автор добавляет в комментариях",
        "community_title": "Что добавляет сообщество",
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
        "medium_failed": "Не удалось оценить дополняющие посты: {error}",
        "synthesis_failed": "Не удалось обобщить комментарии: {error}",
        "translation_failed": "Не удалось перевести ответ: {error}",
    },
}


def text(language: str, key: str, **values: object) -> str:
    """The `key` text in `language` (English when there is none), filled with `values`."""
    table = TEXTS.get(language, TEXTS["en"])
    return table.get(key, TEXTS["en"][key]).format(**values)
