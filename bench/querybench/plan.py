"""What the query benchmark measures against: the issue's targets, the questions, the
fake model's ids per phase, and where the corpus is cached."""

from __future__ import annotations

from querybench import ROOT

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
