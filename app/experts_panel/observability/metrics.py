"""The service's Prometheus metrics: what is counted as it happens, in a registry of the app's
own (never the client library's global one), and what is read afresh at each scrape.

Names carry their unit; labels take only bounded values (route templates, status codes, phase
and model names from the settings, expert ids the operator chose), never a question or
anything else a reader sent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from experts_panel.llm.call_record import CallRecord
from experts_panel.observability.readings import Readings

NAMESPACE = "experts_panel"
PROVIDER_STATES = ("ok", "degraded", "down", "not_configured")
QUERY_OUTCOMES = ("completed", "failed", "cancelled")

_HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
_FIRST_EVENT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
_QUERY_BUCKETS = (0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 180, 300, 600)
_PHASE_BUCKETS = (0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
_CALL_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300)


class PanelMetrics:
    """Every counter and histogram of one service, made once per app."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.http_requests = Counter(
            "http_requests",
            "HTTP requests answered, by route template, method and status code.",
            ["route", "method", "status"],
            namespace=NAMESPACE,
            registry=r,
        )
        self.http_duration = Histogram(
            "http_request_duration_seconds",
            "Time from a request's arrival to its answer's end (a query's whole stream).",
            ["route", "method"],
            namespace=NAMESPACE,
            buckets=_HTTP_BUCKETS,
            registry=r,
        )
        self.queries_started = Counter(
            "queries_started", "Queries accepted and started.", namespace=NAMESPACE, registry=r
        )
        self.queries_finished = Counter(
            "queries_finished",
            "Queries ended: completed, failed (an error, a time-out) or cancelled (the reader "
            "went away).",
            ["outcome"],
            namespace=NAMESPACE,
            registry=r,
        )
        self.first_event = Histogram(
            "query_first_event_seconds",
            "Time from a query's start to its first progress event.",
            namespace=NAMESPACE,
            buckets=_FIRST_EVENT_BUCKETS,
            registry=r,
        )
        self.query_duration = Histogram(
            "query_duration_seconds",
            "Time from a query's start to its completion (completed queries only).",
            namespace=NAMESPACE,
            buckets=_QUERY_BUCKETS,
            registry=r,
        )
        self.phase_duration = Histogram(
            "phase_duration_seconds",
            "Time one expert spent in one phase of the pipeline (phases that finished).",
            ["phase"],
            namespace=NAMESPACE,
            buckets=_PHASE_BUCKETS,
            registry=r,
        )
        self.model_calls = Counter(
            "model_calls",
            "Hosted model calls, by phase, model and outcome (ok, retried, failed, timed_out).",
            ["phase", "model", "outcome"],
            namespace=NAMESPACE,
            registry=r,
        )
        self.model_call_duration = Histogram(
            "model_call_duration_seconds",
            "Time one hosted model call took, its retries included.",
            ["phase", "model"],
            namespace=NAMESPACE,
            buckets=_CALL_BUCKETS,
            registry=r,
        )
        self.model_tokens = Counter(
            "model_tokens",
            "Tokens the hosted model counted, by phase, model and kind (prompt, completion).",
            ["phase", "model", "kind"],
            namespace=NAMESPACE,
            registry=r,
        )
        # Every outcome present from the start, so a rate over them is 0, not absent.
        for outcome in QUERY_OUTCOMES:
            self.queries_finished.labels(outcome)

    def model_call(self, record: CallRecord) -> None:
        """The model client's observer: one call ended."""
        self.model_calls.labels(record.phase, record.model, record.outcome).inc()
        self.model_call_duration.labels(record.phase, record.model).observe(record.duration_s)
        if record.prompt_tokens:
            tokens = self.model_tokens.labels(record.phase, record.model, "prompt")
            tokens.inc(record.prompt_tokens)
        if record.completion_tokens:
            tokens = self.model_tokens.labels(record.phase, record.model, "completion")
            tokens.inc(record.completion_tokens)

    def render(self, state: LiveState, readings: Readings) -> bytes:
        """The exposition text: the running counts, then this moment's readings."""
        moment = CollectorRegistry(auto_describe=False)
        moment.register(_Moment(state, readings))
        return generate_latest(self.registry) + generate_latest(moment)


@dataclass(frozen=True)
class LiveState:
    """What the running service says of itself at the scrape."""

    provider_state: str
    queries_running: int
    queries_waiting: int


def _gauge(name: str, documentation: str, value: float, unit: str = "") -> GaugeMetricFamily:
    return GaugeMetricFamily(f"{NAMESPACE}_{name}", documentation, value=value, unit=unit)


class _Moment(Collector):
    """One scrape's readings as gauges; made for that scrape and dropped after it."""

    def __init__(self, state: LiveState, readings: Readings) -> None:
        self.state = state
        self.readings = readings

    def collect(self) -> Iterable[Metric]:
        state, readings = self.state, self.readings
        now: datetime = readings.taken_at
        yield _gauge("queries_running", "Queries holding a slot.", state.queries_running)
        yield _gauge("queries_waiting", "Queries waiting for a slot.", state.queries_waiting)
        provider = GaugeMetricFamily(
            f"{NAMESPACE}_provider_state",
            "The model provider's state as /health reports it: 1 for the current one.",
            labels=["state"],
        )
        for name in PROVIDER_STATES:
            provider.add_metric([name], 1.0 if name == state.provider_state else 0.0)
        yield provider
        budget = readings.budget
        yield _gauge(
            "token_budget_limit_tokens", "The daily token budget; 0: no limit.", budget.limit
        )
        yield _gauge(
            "token_budget_used_tokens",
            "Tokens used today (UTC), by the budget's count.",
            budget.used,
        )
        if budget.left is not None:
            yield _gauge("token_budget_left_tokens", "Tokens left today.", budget.left)
        posts = GaugeMetricFamily(
            f"{NAMESPACE}_expert_posts", "Posts imported, per expert.", labels=["expert"]
        )
        comments = GaugeMetricFamily(
            f"{NAMESPACE}_expert_comments", "Comments imported, per expert.", labels=["expert"]
        )
        age = GaugeMetricFamily(
            f"{NAMESPACE}_expert_newest_post_age_seconds",
            "Age of the expert's newest post (experts with posts only).",
            labels=["expert"],
        )
        for expert in readings.experts:
            posts.add_metric([expert.id], expert.posts)
            comments.add_metric([expert.id], expert.comments)
            newest = expert.newest_post_age_s(now)
            if newest is not None:
                age.add_metric([expert.id], newest)
        yield from (posts, comments, age)
        yield _gauge(
            "database_size_bytes",
            "The database file and its write-ahead log.",
            readings.database_bytes,
        )
        last = readings.backup.last
        if last is not None:
            yield _gauge(
                "backup_last_success_timestamp_seconds",
                "When the last successful backup finished (Unix time).",
                last.finished_at.timestamp(),
            )
            yield _gauge(
                "backup_last_age_seconds", "Age of the last successful backup.", last.age_s(now)
            )
            yield _gauge(
                "backup_last_size_bytes",
                "Size of the last successful backup's file.",
                last.size_bytes,
            )
            yield _gauge(
                "backup_last_verified",
                "1 when the last backup passed its checks.",
                1.0 if last.verified else 0.0,
            )
        certificate = readings.certificate
        if certificate is not None and certificate.expires_at is not None:
            yield _gauge(
                "tls_certificate_expiry_timestamp_seconds",
                "When the web server's certificate expires (Unix time).",
                certificate.expires_at.timestamp(),
            )
            yield _gauge(
                "tls_certificate_days_left",
                "Days until the web server's certificate expires.",
                certificate.days_left(now) or 0.0,
            )
