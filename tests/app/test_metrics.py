"""The metrics: counted through the real service on its own listener, read by a real Prometheus
(Debian's package) through PromQL, and by the exposition text itself."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from experts_panel.settings import SettingsError, load_settings
from tests.support.fake_openai import Behaviour, Delay, FakeOpenAI, HttpError, Reply, model_env
from tests.support.fake_openai import phase_answer as answer
from tests.support.server import Server, ServerFactory, free_port
from tests.support.streams import read_stream

QUESTION = "Как делать бэкапы SQLite?"


def metrics_server(
    server_factory: ServerFactory, db: Path, fake: FakeOpenAI, **extra: str
) -> tuple[Server, str]:
    port = free_port()
    start: Any = server_factory  # the settings go as keywords, beside its `log`
    server = start(db, **model_env(fake, METRICS_PORT=str(port), **extra))
    return server, f"http://127.0.0.1:{port}/metrics"


def samples(url: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = httpx.get(url, timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    found = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(
    found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    """The sum over every series of `name` whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in found.items() if n == name and wanted <= ls)


def ask(server: Server, query: str = QUESTION) -> dict[str, Any]:
    with httpx.stream(
        "POST",
        f"{server.url}/api/v1/query",
        json={"query": query, "expert_filter": ["selfhost_ops"]},
        timeout=60,
    ) as response:
        assert response.status_code == 200
        events, _ = read_stream(response)
    assert events[-1]["event_type"] == "complete", events[-1]
    result: dict[str, Any] = events[-1]["data"]["response"]
    return result


# --- a real Prometheus ---------------------------------------------------------------------


class Prometheus:
    def __init__(self, url: str) -> None:
        self.url = url

    def query(self, promql: str) -> list[dict[str, Any]]:
        response = httpx.get(f"{self.url}/api/v1/query", params={"query": promql}, timeout=10)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["status"] == "success", body
        result: list[dict[str, Any]] = body["data"]["result"]
        return result

    def scalar(self, promql: str) -> float | None:
        result = self.query(promql)
        return float(result[0]["value"][1]) if result else None

    def wait_for(self, promql: str, expected: float, timeout_s: float = 90) -> None:
        deadline = time.monotonic() + timeout_s
        seen = None
        while time.monotonic() < deadline:
            seen = self.scalar(promql)
            if seen == expected:
                return
            time.sleep(0.3)
        raise AssertionError(f"{promql}: {seen}, expected {expected}")


@contextmanager
def start_prometheus(tmp_path: Path, target: str) -> Iterator[Prometheus]:
    binary = shutil.which("prometheus")
    assert binary is not None, (
        "Prometheus is not installed: `scripts/setup --test` installs Debian's prometheus package"
    )
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        "scrape_configs:\n  - job_name: experts-panel\n"
        f"    static_configs:\n      - targets: ['{target}']\n",
        encoding="utf-8",
    )
    port = free_port()
    log = (tmp_path / "prometheus.log").open("w")
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (tmp_path / "prometheus.log").read_text()
            try:
                if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "Prometheus did not get ready in 60 s"
            time.sleep(0.2)
        yield Prometheus(url)
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def test_prometheus_scrapes_the_service_and_promql_sees_queries_tokens_and_phases(
    demo_path: Path, server_factory: ServerFactory, fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    fake_openai.responder = answer
    server, metrics_url = metrics_server(server_factory, demo_path, fake_openai)
    target = metrics_url.removeprefix("http://").removesuffix("/metrics")
    answers = [ask(server), ask(server, "Как хранить бэкапы вне сервера?")]
    prompt = sum(a["usage"]["prompt_tokens"] for a in answers)
    completion = sum(a["usage"]["completion_tokens"] for a in answers)
    assert prompt > 0 and completion > 0
    map_calls = sum(1 for r in fake_openai.requests if r.model == "test/map")
    reduce_calls = sum(1 for r in fake_openai.requests if r.model == "test/reduce")

    with start_prometheus(tmp_path, target) as prometheus:
        prometheus.wait_for('experts_panel_queries_finished_total{outcome="completed"}', 2)
        assert prometheus.scalar('up{job="experts-panel"}') == 1
        assert prometheus.scalar("experts_panel_queries_started_total") == 2
        assert prometheus.scalar('experts_panel_queries_finished_total{outcome="failed"}') == 0
        # Tokens: the model's own count, by phase and model, adds up to what the readers saw.
        assert prometheus.scalar('sum(experts_panel_model_tokens_total{kind="prompt"})') == prompt
        assert (
            prometheus.scalar('sum(experts_panel_model_tokens_total{kind="completion"})')
            == completion
        )
        by_phase = {
            r["metric"]["phase"]: float(r["value"][1])
            for r in prometheus.query("sum by (phase) (experts_panel_model_calls_total)")
        }
        assert by_phase["map"] == map_calls and by_phase["reduce"] == reduce_calls
        assert (
            prometheus.scalar(
                'experts_panel_model_calls_total{phase="reduce",model="test/reduce",outcome="ok"}'
            )
            == reduce_calls
        )
        # Each of the two queries' one expert went through each phase once.
        for phase in ("map", "medium_scoring", "resolve", "reduce", "assembly"):
            count = f'experts_panel_phase_duration_seconds_count{{phase="{phase}"}}'
            assert prometheus.scalar(count) == 2, phase
            total = f'experts_panel_phase_duration_seconds_sum{{phase="{phase}"}}'
            assert (prometheus.scalar(total) or 0) > 0, phase
        assert prometheus.scalar("experts_panel_query_first_event_seconds_count") == 2
        assert prometheus.scalar("experts_panel_query_duration_seconds_count") == 2
        # Requests by route template; the query route answered 200 twice.
        assert (
            prometheus.scalar(
                'experts_panel_http_requests_total{route="/api/v1/query",method="POST",status="200"}'
            )
            == 2
        )
        # The readings: the provider answered, the budget counts what was spent.
        assert prometheus.scalar('experts_panel_provider_state{state="ok"}') == 1
        assert prometheus.scalar("experts_panel_token_budget_used_tokens") == prompt + completion
        assert prometheus.scalar("experts_panel_token_budget_left_tokens") == (
            2_000_000 - prompt - completion
        )
        conn = sqlite3.connect(demo_path)
        posts = dict(conn.execute("SELECT expert_id, count(*) FROM posts GROUP BY expert_id"))
        conn.close()
        seen = {
            r["metric"]["expert"]: float(r["value"][1])
            for r in prometheus.query("experts_panel_expert_posts")
        }
        assert seen == posts
        assert (
            prometheus.scalar("experts_panel_database_size_bytes") or 0
        ) >= demo_path.stat().st_size


# --- the exposition text --------------------------------------------------------------------


def test_model_calls_are_counted_by_outcome_and_queries_by_how_they_end(
    demo_path: Path, server_factory: ServerFactory, fake_openai: FakeOpenAI
) -> None:
    seen: dict[str, int] = {}

    def responder(body: dict[str, Any]) -> Behaviour | str:
        model = body["model"]
        seen[model] = seen.get(model, 0) + 1
        prompt = json.dumps(body["messages"], ensure_ascii=False)
        if "медленно" in prompt:
            # Each call in time, but thirty map calls one at a time outlast REQUEST_TIMEOUT
            # however fast the machine (a delay is a floor).
            return Delay(0.9, then=Reply(answer(body)))
        if "ушёл" in prompt and model == "test/map":
            return Delay(30, then=Reply("{}"))  # the reader leaves first: the query is cancelled
        if model == "test/map" and seen[model] == 1:
            return HttpError(503, "overloaded")  # retried once, then answered
        if model == "test/reduce":
            return Delay(5, then=Reply("{}"))  # past MODEL_TIMEOUT on both attempts: timed out
        return Reply(answer(body))

    fake_openai.responder = responder
    server, url = metrics_server(
        server_factory,
        demo_path,
        fake_openai,
        MODEL_TIMEOUT="1",
        MODEL_MAX_ATTEMPTS="2",
        # Room for the first query on a loaded machine (about 4 s on a quiet one).
        REQUEST_TIMEOUT="15",
        CHUNK_SIZE="2",
        MAX_CONCURRENT_MODEL_CALLS="1",
    )
    result = ask(server)
    assert [e["code"] for e in result["errors"]] == ["model_unavailable"], result["errors"]
    found = samples(url)
    calls = "experts_panel_model_calls_total"
    assert value(found, calls, phase="map", model="test/map", outcome="retried") == 1
    assert value(found, calls, phase="reduce", model="test/reduce", outcome="timed_out") == 1
    assert value(found, calls, outcome="failed") == 0
    duration = "experts_panel_model_call_duration_seconds_sum"
    assert value(found, duration, phase="reduce") >= 2  # two attempts of a second each
    # The expert failed in reduce: that phase took no phase's time; map finished.
    phases = "experts_panel_phase_duration_seconds_count"
    assert value(found, phases, phase="map") == 1 and value(found, phases, phase="reduce") == 0

    failed = httpx.post(
        f"{server.url}/api/v1/query",
        json={
            "query": "это медленно?",
            "expert_filter": ["selfhost_ops"],
            "stream_progress": False,
        },
        timeout=60,
    )
    assert failed.status_code == 504
    with httpx.stream(
        "POST",
        f"{server.url}/api/v1/query",
        json={"query": "читатель ушёл", "expert_filter": ["selfhost_ops"]},
        timeout=60,
    ) as response:
        next(response.iter_lines())  # the first event, then the reader goes away
    deadline = time.monotonic() + 30
    finished = "experts_panel_queries_finished_total"
    while value(samples(url), finished, outcome="cancelled") < 1:
        assert time.monotonic() < deadline, "the cancelled query was not counted"
        time.sleep(0.2)
    found = samples(url)
    assert value(found, "experts_panel_queries_started_total") == 3
    assert value(found, finished, outcome="completed") == 1
    assert value(found, finished, outcome="failed") == 1
    assert value(found, finished, outcome="cancelled") == 1
    assert value(found, "experts_panel_query_duration_seconds_count") == 1  # completed only
    requests = "experts_panel_http_requests_total"
    assert value(found, requests, route="/api/v1/query", status="504") == 1


def test_metrics_are_off_by_default_and_never_on_the_api_port(
    demo_path: Path, server_factory: ServerFactory, fake_openai: FakeOpenAI
) -> None:
    quiet = server_factory(demo_path)
    assert httpx.get(f"{quiet.url}/metrics", timeout=10).status_code == 404
    quiet.stop()
    server, url = metrics_server(server_factory, demo_path, fake_openai)
    assert httpx.get(f"{server.url}/metrics", timeout=10).status_code == 404
    assert httpx.get(url.removesuffix("/metrics") + "/health", timeout=10).status_code == 404
    assert httpx.post(url, timeout=10).status_code == 405
    health = value(samples(url), "experts_panel_http_requests_total", route="/health")
    assert health >= 1  # the server's start-up check, counted by route template


def test_metrics_port_must_not_be_the_api_port() -> None:
    with pytest.raises(SettingsError, match="METRICS_PORT: must differ from API_PORT"):
        load_settings({"API_PORT": "8000", "METRICS_PORT": "8000"})
    assert load_settings({}).METRICS_PORT is None
    assert load_settings({}).METRICS_HOST == "127.0.0.1"


def test_expert_counts_follow_a_commit_from_another_process(
    demo_path: Path, server_factory: ServerFactory, fake_openai: FakeOpenAI
) -> None:
    _, url = metrics_server(server_factory, demo_path, fake_openai)
    before = value(samples(url), "experts_panel_expert_posts", expert="selfhost_ops")
    assert before > 0
    assert value(samples(url), "experts_panel_expert_posts", expert="selfhost_ops") == before
    conn = sqlite3.connect(demo_path)
    with conn:
        conn.execute(
            "DELETE FROM posts WHERE id = (SELECT max(id) FROM posts WHERE expert_id = ?)",
            ("selfhost_ops",),
        )
    conn.close()
    after = value(samples(url), "experts_panel_expert_posts", expert="selfhost_ops")
    assert after == before - 1  # counted again after the commit, not kept from before it
