"""Phase 5, language validation: the answer must be in the question's language."""

from __future__ import annotations

from experts_panel.language import detect_language
from experts_panel.pipeline.citations import CITATION
from experts_panel.pipeline.expert_run import ExpertRun
from experts_panel.pipeline.model import ModelError
from experts_panel.pipeline.texts import text


async def run(run: ExpertRun) -> None:
    answer = run.answer
    if answer is None or not answer.main_sources:
        return
    if run.model.can_translate:
        # A writing model may misreport its own language: judge the text itself.
        answer.language = detect_language(CITATION.sub(" ", answer.text), run.language)
    # The embedded model's answer is quotes under a heading in the question's language; it
    # reports the quotes' language itself.
    if answer.language == run.language:
        return
    if not run.model.can_translate:
        run.notices.append(
            text(
                run.language,
                "no_translation",
                answer_language=answer.language,
                question_language=run.language,
            )
        )
        return
    try:
        translated = await run.model.translate(answer.text, run.language, run.usage)
    except ModelError as exc:
        run.model_failed("translation_failed", exc)
        return
    if translated:
        answer.text = translated
        answer.language = run.language
        await run.progress("language_validation", f"answer translated to {run.language}")
