"""A query's metrics, read from the progress events it emits: when the first came, how long
each expert spent in each phase, and how the query ended. The pipeline knows nothing of it."""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from experts_panel.observability.metrics import PanelMetrics
from experts_panel.pipeline.contract import ProgressEvent

T = TypeVar("T")


class QueryTracker:
    """One query's; with no metrics kept (`metrics` None) it does nothing."""

    def __init__(
        self, metrics: PanelMetrics | None, clock: Callable[[], float] = time.perf_counter
    ) -> None:
        self._metrics = metrics
        self._clock = clock
        self._started = clock()
        self._first_seen = False
        self._outcome: str | None = None
        self._phases: dict[str, tuple[str, float]] = {}  # expert id: (phase, its start)
        if metrics is not None:
            metrics.queries_started.inc()

    def saw(self, event: ProgressEvent) -> None:
        metrics = self._metrics
        if metrics is None:
            return
        now = self._clock()
        if not self._first_seen:
            self._first_seen = True
            metrics.first_event.observe(now - self._started)
        # Every event that names an expert carries it as `expert_id` in its data.
        expert = getattr(event.data, "expert_id", None)
        kind = event.event_type
        if kind == "phase_start" and isinstance(expert, str) and event.phase is not None:
            self._phase_ended(metrics, expert, now)
            self._phases[expert] = (event.phase, now)
        elif kind == "expert_complete" and isinstance(expert, str):
            self._phase_ended(metrics, expert, now)
        elif kind == "expert_error" and isinstance(expert, str):
            self._phases.pop(expert, None)  # a phase that failed did not take a phase's time
        elif kind == "complete":
            self._outcome = "completed"
            metrics.query_duration.observe(now - self._started)
        elif kind == "error":
            self._outcome = "failed"

    def _phase_ended(self, metrics: PanelMetrics, expert: str, now: float) -> None:
        running = self._phases.pop(expert, None)
        if running is not None:
            phase, since = running
            metrics.phase_duration.labels(phase).observe(now - since)

    async def around(self, work: Coroutine[Any, Any, T]) -> T:
        """Run the query's work; however it ends, count how (no end event: cancelled)."""
        try:
            return await work
        finally:
            if self._metrics is not None:
                self._metrics.queries_finished.labels(self._outcome or "cancelled").inc()
