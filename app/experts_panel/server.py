"""Serving the app with hypercorn, shutting down gracefully on SIGTERM and SIGINT."""

from __future__ import annotations

import asyncio
import signal

from fastapi import FastAPI
from hypercorn.asyncio import serve as hypercorn_serve
from hypercorn.config import Config

from experts_panel.logs import get_logger

# Long enough for a running query to finish its answer, short enough for systemd's stop timeout.
GRACEFUL_TIMEOUT_S = 20.0

log = get_logger(__name__)


def bind_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"


async def serve(app: FastAPI, host: str, port: int) -> None:
    config = Config()
    config.bind = [bind_address(host, port)]
    config.graceful_timeout = GRACEFUL_TIMEOUT_S
    config.accesslog = None  # the app logs each request itself, with its request id
    config.errorlog = "-"

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, _on_signal, stop, sig)
    log.info("serving", address=config.bind[0])
    await hypercorn_serve(app, config, shutdown_trigger=stop.wait)  # type: ignore[arg-type]
    log.info("stopped")


def _on_signal(stop: asyncio.Event, sig: signal.Signals) -> None:
    log.info("shutting down", signal=sig.name)
    stop.set()
