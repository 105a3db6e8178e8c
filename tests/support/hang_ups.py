"""Readers who hang up part-way through a query's stream, at a point they choose."""

from __future__ import annotations

import asyncio
import json

import httpx

from experts_panel.pipeline.types import PHASES

# Where a reader hangs up: right after sending, while waiting for a query slot, or once some
# expert has entered the phase (then after a pause).
CUT_POINTS: tuple[str, ...] = ("sent", "queued", *PHASES)


async def read_then_hang_up(
    url: str, question: str, point: str, pause_s: float, timeout_s: float
) -> str | None:
    """Read the stream until `point`, wait `pause_s`, and close the connection; None when
    the answer came first."""
    async with (
        httpx.AsyncClient(timeout=timeout_s) as client,
        client.stream("POST", f"{url}/api/v1/query", json={"query": question}) as response,
    ):
        response.raise_for_status()
        if point == "sent":
            await asyncio.sleep(pause_s)
            return point
        async for line in response.aiter_lines():
            if not line.startswith("data: "):
                continue
            event = json.loads(line[len("data: ") :])
            if event["event_type"] in ("complete", "error"):
                return None
            queued = event["event_type"] == "progress" and event["data"].get("queued")
            entered = event["event_type"] == "phase_start" and event["phase"] == point
            if (point == "queued" and queued) or entered:
                await asyncio.sleep(pause_s)
                return point
    return None
