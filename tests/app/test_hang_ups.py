"""Readers who hang up: their queries' work ends for good and leaves nothing behind.

A real `experts-panel serve` on loopback asks the fake model API, which answers each call in
about a second, while readers cut their streams off on a seeded schedule: before the first
event, while queued, and in every phase. Then the state is checked, not the time: no socket to
the model server was abandoned (left with an answer nobody reads, or closed by the server and
never by the service), every model slot and query slot is free, no task a query started is
left, and the next query is answered by every expert.
"""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path
from typing import Any

import httpx
import psutil

from experts_panel.pipeline.types import PHASES
from tests.support.fake_openai import FakeOpenAI, model_env, phase_answer
from tests.support.hang_ups import CUT_POINTS, read_then_hang_up
from tests.support.server import Server, drained

SEED = 11
ROUNDS = 4  # every cut point once a round, all of a round's readers at once
QUESTION = "Как делать бэкапы SQLite?"
# Generous: the work of cancelled queries ends in moments; this only bounds a broken run.
SETTLE_DEADLINE_S = 120.0


def test_readers_who_hang_up_leave_no_work_no_connection_and_no_task_behind(
    demo_path: Path, server_factory: Any
) -> None:
    # The fake keeps idle connections open for as long as the test runs, as a provider does
    # for a while: a socket it closed that is still open in the service was let go of
    # without being closed.
    with FakeOpenAI(responder=phase_answer, latency_s=1.0, keep_alive_s=600) as fake:
        server: Server = server_factory(
            demo_path,
            **model_env(
                fake,
                MODEL_MAX_ATTEMPTS="2",
                MODEL_TIMEOUT="20",
                MAX_CONCURRENT_QUERIES="2",
                MAX_CONCURRENT_MODEL_CALLS="8",
            ),
        )
        log, reader = drained(server)
        model_port = httpx.URL(fake.base_url).port
        assert model_port is not None
        rng = random.Random(SEED)
        cuts: list[str] = []
        for _ in range(ROUNDS):
            cuts += asyncio.run(_round(server.url, rng))
            # After every round, whatever was cut off has ended and let go of everything.
            health = _settled(server.url)
            abandoned = _abandoned_sockets(server.process.pid, model_port)
            assert abandoned == [], abandoned
            assert health["model_calls"]["in_flight"] == 0, health
            assert health["model_calls"]["waiting"] == 0, health
            assert health["queries"]["running"] == 0, health
            assert health["queries"]["waiting"] == 0, health
            assert health["queries"]["tasks"] == 0, health
            assert "model_calls_stalled" not in health["problems"], health

        # At least 30 readers hung up, some before any event and some in every phase.
        assert len(cuts) >= 30, cuts
        assert {"sent", *PHASES} <= set(cuts), cuts

        answer = httpx.post(
            f"{server.url}/api/v1/query",
            json={"query": QUESTION, "stream_progress": False},
            timeout=120,
        )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["errors"] == [], body["errors"]
        assert len(body["expert_responses"]) == 3
        assert _abandoned_sockets(server.process.pid, model_port) == []
        assert _settled(server.url)["queries"]["tasks"] == 0

    assert server.stop() == 0
    reader.join(timeout=30)
    assert not any("Task was destroyed but it is pending" in line for line in log)


async def _round(url: str, rng: random.Random) -> list[str]:
    """One reader per cut point, all at once; where each actually hung up."""
    # Each after a seeded pause of up to half a second.
    plan = [(point, rng.uniform(0.0, 0.5)) for point in CUT_POINTS]
    rng.shuffle(plan)
    # The reader meant to hang up while queued comes last, when the others hold the slots.
    plan.sort(key=lambda item: item[0] == "queued")
    async with asyncio.TaskGroup() as group:
        readers = [
            group.create_task(read_then_hang_up(url, QUESTION, p, pause, 120))
            for p, pause in plan[:-1]
        ]
        await asyncio.sleep(0.5)
        readers.append(group.create_task(read_then_hang_up(url, QUESTION, *plan[-1], 120)))
    return [where for reader in readers if (where := reader.result()) is not None]


def _settled(url: str) -> dict[str, Any]:
    """/health once nothing is left working: what cancelled queries leave takes moments to
    end, and a broken service never gets there (the caller's assertions then say what)."""
    deadline = time.monotonic() + SETTLE_DEADLINE_S
    while True:
        health: dict[str, Any] = httpx.get(f"{url}/health", timeout=30).json()
        queries, calls = health.get("queries"), health.get("model_calls")
        idle = (
            queries is not None
            and calls is not None
            and queries["running"] == queries["waiting"] == queries["tasks"] == 0
            and calls["in_flight"] == calls["waiting"] == 0
        )
        if idle or time.monotonic() > deadline:
            return health
        time.sleep(0.2)


def _abandoned_sockets(pid: int, model_port: int) -> list[str]:
    """The service's sockets to the model server that were let go of without being closed:
    in CLOSE-WAIT (the server closed, the service never did), or holding bytes of an answer
    that nobody reads."""
    unread = _receive_queues()
    abandoned = []
    for conn in psutil.Process(pid).net_connections(kind="tcp"):
        if not conn.raddr or conn.raddr.port != model_port:
            continue
        queued = unread.get((conn.laddr.port, conn.raddr.port), 0)
        if conn.status == psutil.CONN_CLOSE_WAIT or queued:
            abandoned.append(f"{conn.laddr.port}: {conn.status}, {queued} bytes unread")
    return abandoned


def _receive_queues() -> dict[tuple[int, int], int]:
    """Bytes waiting to be read on each loopback TCP socket, by (local port, remote port)."""
    queues: dict[tuple[int, int], int] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            fields = line.split()
            local, remote, queue = fields[1], fields[2], fields[4]
            rx = int(queue.split(":")[1], 16)
            queues[(int(local.rsplit(":", 1)[1], 16), int(remote.rsplit(":", 1)[1], 16))] = rx
    return queues
