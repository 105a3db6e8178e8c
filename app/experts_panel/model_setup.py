"""The one place that builds the model clients and chooses between the hosted and the embedded
model, applying the daily token budget; the API, the CLI and (through them) the benches use it.

It joins the two sides: `pipeline/` owns the interface (`pipeline/model.py`) and asks for a
model through `ModelChoice`; `llm/` implements the models and knows nothing of the choice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from experts_panel.drift import Analyse, embedded_analyser
from experts_panel.llm.call_record import CallObserver
from experts_panel.llm.call_watch import CallWatch
from experts_panel.llm.embedded import EmbeddedModel
from experts_panel.llm.openai_client import OpenAICompatibleClient, client_from_settings
from experts_panel.llm.openrouter import OpenRouterModel, analyze_drift
from experts_panel.pipeline.model import Model, Usage
from experts_panel.pipeline.runner import Services
from experts_panel.pipeline.texts import text
from experts_panel.retrieval.embedder import Embedder, UniversalSentenceEncoder
from experts_panel.settings import Settings


@dataclass
class Models:
    """The hosted model's client (None without a key) and the choice made with it.

    Made once per process (`from_settings`) and closed with it (`aclose`).
    """

    settings: Settings
    client: OpenAICompatibleClient | None

    @classmethod
    def from_settings(cls, settings: Settings, observer: CallObserver | None = None) -> Models:
        """`observer` is told of every hosted model call's end (the metrics, when kept)."""
        return cls(settings, client_from_settings(settings, observer))

    @property
    def calls(self) -> CallWatch | None:
        """The hosted model's calls as /health reports them; None without a key."""
        return self.client.calls if self.client is not None else None

    async def choose(self, services: Services, language: str) -> tuple[Model, list[str]]:
        """The OpenRouter model when a key is set and today's budget allows, else the embedded."""
        embedded = EmbeddedModel(services.embedder, services.cache, services.database)
        if self.client is None:
            return embedded, []
        settings = self.settings
        limit = settings.DAILY_TOKEN_BUDGET
        if limit and await services.usage.spent_today() >= limit:
            return embedded, [text(language, "budget_spent", model=settings.MODEL_REDUCE)]
        return OpenRouterModel(self.client, settings), []

    def translation_model(self) -> Model | None:
        """The model that translates posts for readers: the hosted one, or None without a key
        (the embedded model cannot translate). The budget is the translator's to apply."""
        if self.client is None:
            return None
        return OpenRouterModel(self.client, self.settings)

    def drift_analyser(
        self, usage: Usage, embedder: Callable[[], Embedder] = UniversalSentenceEncoder
    ) -> tuple[Analyse, str]:
        """What reads discussions for drift, and its name as `comment_group_drift` records it:
        the hosted model with a key (its calls counted in `usage`), else the embedded way (the
        embedding model is loaded only then: it takes seconds)."""
        client = self.client
        if client is None:
            loaded = embedder()
            return embedded_analyser(loaded), f"embedded:{loaded.name}"
        settings = self.settings

        async def by_model(post_text: str, comments: list[Any]) -> tuple[bool, list[Any]]:
            return await analyze_drift(client, settings, post_text, comments, usage)

        return by_model, settings.MODEL_COMMENT_GROUPS

    async def aclose(self) -> None:
        if self.client is not None:
            await self.client.aclose()
