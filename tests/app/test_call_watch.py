"""The rules /health reads from the model calls: when the service counts as stuck, and what
state the provider is in. The clock is handed in, so each rule is checked at chosen moments;
the same watch runs inside the real client in test_health.py."""

from __future__ import annotations

import asyncio

from experts_panel.llm.call_watch import DOWN_AFTER, CallWatch, FailureKind


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def attempt_then(
    watch: CallWatch, outcome: FailureKind | None, connected: bool = True
) -> None:
    async with watch.attempt() as attempt:
        if connected:
            await attempt.trace("connection.connect_tcp.started", {})
        if outcome is None:
            attempt.succeeded()
        else:
            attempt.failed(outcome)


async def test_calls_that_wait_with_none_ending_past_the_limit_are_a_stall() -> None:
    clock = Clock()
    watch = CallWatch(slots=1, stall_after_s=100.0, clock=clock)
    clock.now += 5_000  # a quiet spell is no stall: the clock starts when calls begin
    holder_in = asyncio.Event()
    release = asyncio.Event()

    async def hold() -> None:
        async with watch.attempt():
            holder_in.set()
            await release.wait()

    holder = asyncio.create_task(hold())
    await holder_in.wait()
    waiter = asyncio.create_task(attempt_then(watch, None))
    await asyncio.sleep(0)
    assert (watch.slots.in_use, watch.slots.waiting) == (1, 1)
    clock.now += 100
    assert not watch.stalled()
    clock.now += 1
    assert watch.stalled() and watch.stalled_s() == 101
    release.set()
    await asyncio.gather(holder, waiter)
    assert not watch.stalled() and watch.stalled_s() == 0
    assert (watch.slots.in_use, watch.slots.waiting) == (0, 0)


async def test_an_attempt_ending_any_way_is_progress_but_a_starved_one_is_not() -> None:
    clock = Clock()
    watch = CallWatch(slots=2, stall_after_s=100.0, clock=clock)
    release = asyncio.Event()

    async def hold() -> None:
        async with watch.attempt():
            await release.wait()

    holder = asyncio.create_task(hold())
    await asyncio.sleep(0)
    clock.now += 90
    await attempt_then(watch, "timeout")  # the provider did not answer in time: progress
    clock.now += 90
    assert not watch.stalled()
    # Timed out before the pool gave it a connection: the service's own fault, no progress.
    await attempt_then(watch, "timeout", connected=False)
    clock.now += 20
    assert watch.stalled()
    release.set()
    await holder


async def test_the_provider_is_ok_then_degraded_then_down_then_ok_again() -> None:
    clock = Clock()
    watch = CallWatch(slots=4, stall_after_s=100.0, clock=clock)
    assert watch.provider().state == "ok" and watch.provider().last_error_kind is None
    await attempt_then(watch, None)
    assert watch.provider().state == "ok"
    await attempt_then(watch, "rate_limited")
    status = watch.provider()
    assert status.state == "degraded" and status.last_error_kind == "rate_limited"
    assert status.last_error_at is not None and status.last_success_at is not None
    for _ in range(DOWN_AFTER):
        await attempt_then(watch, "connection")
    status = watch.provider()
    assert status.state == "down" and status.last_error_kind == "connection"
    await attempt_then(watch, None)
    assert watch.provider().state == "degraded"  # it answers again, after recent failures
    clock.now += 301
    await attempt_then(watch, None)
    status = watch.provider()
    assert status.state == "ok" and status.last_error_kind == "connection"  # still reported


async def test_a_cancelled_attempt_frees_its_slot_and_says_nothing_of_the_provider() -> None:
    watch = CallWatch(slots=1, stall_after_s=100.0, clock=Clock())
    started = asyncio.Event()

    async def hang() -> None:
        async with watch.attempt():
            started.set()
            await asyncio.Event().wait()

    task = asyncio.create_task(hang())
    await started.wait()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert (watch.slots.in_use, watch.slots.waiting) == (0, 0)
    assert watch.provider().state == "ok" and watch.provider().last_error_kind is None
