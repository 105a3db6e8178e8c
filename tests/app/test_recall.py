"""With no key, the answer's sources across languages, and for questions never covered.

Two small channels, one Russian and one English, go through the real import, index and query
pipeline (the embedded model, the real sentence encoder). The post that answers each question is
the channel's oldest: an answer that picked its sources by date rather than by relevance, as the
embedded model once did, cites newer posts on neighbouring topics instead.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from experts_panel.db.database import Database
from experts_panel.importing.posts import import_posts
from experts_panel.model_setup import Models
from experts_panel.pipeline.contract import ExpertResponse, ProgressEvent, QueryRequest
from experts_panel.pipeline.runner import Services, run_query
from experts_panel.retrieval.dense import VectorCache
from experts_panel.retrieval.embedder import UniversalSentenceEncoder
from experts_panel.retrieval.indexer import index_expert
from experts_panel.settings import load_settings
from tests.support.exports import at, chat, message, write

EMBEDDER = UniversalSentenceEncoder()

RUNNING = [
    "Подошвенный фасциит: острая боль в пятке на первых шагах после сна, потом становится "
    "легче. Помогло за два месяца: по вечерам катать стопой замороженную бутылку воды, "
    "растягивать икроножные, не ходить дома босиком.",
    "Ахиллово сухожилие болит утром, а потом расхаживается? Это тендинопатия. Полный покой не "
    "лечит, работает эксцентрика: медленные опускания на пятку со ступеньки, 12 недель.",
    "Колено бегуна — тупая боль вокруг надколенника, сильнее при спуске по лестнице. Почти "
    "всегда перегрузка: снизить объём, укреплять ягодичные и квадрицепс, укоротить шаг.",
    "Боль по внутренней стороне голени у новичков — это «надкостница»: объём вырос быстрее, "
    "чем кость успела привыкнуть. Неделя на велотренажёре и постепенное возвращение.",
    "Сколько живут беговые кроссовки? У большинства пена теряет упругость к 600–800 км. Я веду "
    "счётчик пробега на каждую пару и чередую две пары.",
    "Силовая для бегуна: два раза в неделю по 30 минут — выпады, становая на одной ноге, "
    "подъёмы на носки с весом, ягодичный мостик.",
    "Одежда для бега зимой — три слоя: синтетика или мерино, флис, ветровка. Хлопок зимой — "
    "враг: намокает и остывает.",
    "Интервалы на МПК: 5 × 1000 м в темпе соревнований на 10–12 минут, отдых 2–3 минуты "
    "трусцой. Чаще раза в неделю смысла нет.",
    "Питание на марафоне: 60–90 граммов углеводов в час, гель каждые 20–25 минут, начиная с "
    "40-й минуты. Новый гель в день забега — плохая идея.",
    "Восстановление начинается со сна: меньше семи часов три ночи подряд — и пульс на лёгком "
    "темпе растёт на 5–8 ударов.",
]

COFFEE = [
    "Water is most of the cup and most of a machine's problems. Very soft water tastes flat; "
    "hard water tastes chalky and builds scale. For espresso I aim for a hardness around 50–70 "
    "ppm and use distilled water with a mineral packet made for coffee.",
    "Descaling: twice a year with a citric-acid descaler, never vinegar — it leaves a smell and "
    "is harsh on seals. With hard tap water, every month.",
    "Flat or conical burrs? Conicals give a bit more body, flats more clarity. At home the "
    "difference matters less than fresh versus stale beans.",
    "Microfoam: cold milk, cold jug, the steam tip just below the surface until the jug is "
    "lukewarm, then deeper to spin the milk until it is too hot to hold.",
    "Fresh beans need rest before espresso: medium roasts from day 5–7, light roasts after 2–3 "
    "weeks. Straight from the roaster the shots spray and taste sharp.",
    "My V60 recipe: 15 g coffee, 250 g water at 94 °C, a 40-second bloom, then slow circles to "
    "the end. About three minutes in all.",
    "Channeling is water finding a fast path through the puck. Stirring the grounds with thin "
    "needles before tamping fixed most of it for me.",
    "Cold brew concentrate: 100 g coarse coffee to a litre of cold water, 15 hours in the "
    "fridge, filtered twice, diluted one to one.",
]


def channel(texts: list[str], name: str, chat_id: int) -> dict[str, Any]:
    # The first post is the oldest; a day between posts.
    return chat(
        [message(i + 1, at(i * 24 * 60), body) for i, body in enumerate(texts)],
        name=name,
        chat_id=chat_id,
    )


@pytest.fixture(scope="module")
def channels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Both channels imported and indexed once; each test takes a copy."""
    import asyncio

    folder = tmp_path_factory.mktemp("recall")
    path = folder / "experts.db"

    async def build() -> None:
        settings = load_settings({"DATABASE_URL": f"sqlite+aiosqlite:///{path}"})
        database, _ = await Database.open(settings)
        try:
            async with database.write() as conn:
                running = write(folder / "running.json", channel(RUNNING, "Бег", 31))
                coffee = write(folder / "coffee.json", channel(COFFEE, "Coffee", 32))
                await import_posts(conn, running, "running")
                await import_posts(conn, coffee, "coffee")
            for expert in ("running", "coffee"):
                await index_expert(database, expert, EMBEDDER)
        finally:
            await database.close()

    asyncio.run(build())
    return path


@pytest.fixture
async def services(channels: Path, tmp_path: Path) -> AsyncIterator[Services]:
    import sqlite3

    copy = tmp_path / "experts.db"
    source, target = sqlite3.connect(channels), sqlite3.connect(copy)
    source.backup(target)
    source.close()
    target.close()
    settings = load_settings({"DATABASE_URL": f"sqlite+aiosqlite:///{copy}"})
    database, _ = await Database.open(settings)
    try:
        yield Services(settings, database, EMBEDDER, VectorCache(), Models(settings, client=None))
    finally:
        await database.close()


async def answer(services: Services, question: str, expert: str) -> ExpertResponse:
    request = QueryRequest(query=question, expert_filter=[expert], stream_progress=False)

    async def ignore(event: ProgressEvent) -> None:
        return None

    experts = await services.experts.resolve(request.expert_filter)
    result = await run_query(services, request, "test-recall", experts, ignore)
    assert not result.errors
    return result.expert_responses[0]


async def test_an_english_question_finds_the_russian_post_that_answers_it(
    services: Services,
) -> None:
    response = await answer(
        services,
        "My heel hurts badly for the first few steps every morning. How do I get rid of it?",
        "running",
    )
    assert 1 in response.main_sources, response.main_sources  # the plantar fasciitis post
    assert response.main_sources[0] == 1  # and it comes first: the most relevant
    assert len(response.main_sources) <= 5


async def test_a_russian_question_finds_the_english_post_that_answers_it(
    services: Services,
) -> None:
    response = await answer(services, "Какую воду лучше заливать в кофемашину?", "coffee")
    assert 1 in response.main_sources, response.main_sources  # the water chemistry post
    assert len(response.main_sources) <= 5


@pytest.mark.parametrize(
    ("question", "expert"),
    [
        ("Как выбрать горные лыжи для новичка?", "running"),
        ("How high should the saddle be on a road bike?", "running"),
        ("What's the best way to brew loose-leaf green tea?", "coffee"),
        ("Как открыть свою кофейню и сколько это стоит?", "coffee"),
    ],
)
async def test_a_question_the_channel_never_covered_gets_low_confidence_and_one_source_at_most(
    services: Services, question: str, expert: str
) -> None:
    response = await answer(services, question, expert)
    assert response.confidence == "LOW"
    assert len(response.main_sources) <= 1, response.main_sources


async def test_sources_are_the_relevant_posts_not_the_newest(services: Services) -> None:
    # A same-language question: its post is the oldest of ten on running.
    response = await answer(services, "Что делать, если болит пятка по утрам?", "running")
    assert response.main_sources and response.main_sources[0] == 1, response.main_sources
