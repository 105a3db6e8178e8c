"""The corpus generator: three experts' Telegram Desktop exports with their discussion groups,
Russian and English mixed, each with planted posts about backing up SQLite.

This file's text is part of the corpus's cache key (`corpus_cache.generator_fingerprint`):
edit it and the corpus is rebuilt.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

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
