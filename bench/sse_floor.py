"""The floor under bench/query.py's time to first event: the same server stack (hypercorn
through experts_panel.server, FastAPI, sse-starlette, the same request model) answering
POST /api/v1/query with one event at once, with no database, middleware or pipeline.

bench/query.py starts it beside the real service and loads both with the same concurrent
streams, so its figure says how much of the time to first event is the stack itself on this
machine and how much is the service's own work.

usage: API_PORT=8123 python bench/sse_floor.py
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator

from fastapi import FastAPI
from sse_starlette import EventSourceResponse

from experts_panel.pipeline.contract import QueryRequest
from experts_panel.server import serve

app = FastAPI()


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "healthy"}


@app.post("/api/v1/query")
async def query(body: QueryRequest) -> EventSourceResponse:
    async def one_event() -> AsyncIterator[dict[str, str]]:
        yield {"data": '{"event_type": "complete", "message": "floor"}'}

    return EventSourceResponse(one_event())


if __name__ == "__main__":
    asyncio.run(serve(app, "127.0.0.1", int(os.environ["API_PORT"])))
