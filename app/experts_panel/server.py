"""Serving the app with hypercorn, shutting down gracefully on SIGTERM and SIGINT."""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
from collections.abc import Sequence
from dataclasses import dataclass

from fastapi import FastAPI
from hypercorn.asyncio import serve as hypercorn_serve
from hypercorn.config import Config
from starlette.types import ASGIApp

from experts_panel.logs import get_logger

# Long enough for a running query to finish its answer, short enough for systemd's stop timeout.
GRACEFUL_TIMEOUT_S = 20.0
# A connection with no request under way is closed after this, and so is one whose request
# line and headers have not all come by then: hypercorn's idle timer starts with the
# connection and no trickle of bytes resets it. Headers are also capped at 16 KiB (h11's
# limit). A request's body has a deadline of its own (REQUEST_BODY_TIMEOUT, enforced in
# api/request_limits.py). hypercorn's read_timeout stays unset: it bounds every read,
# which would also end an event stream whose reader rightly sends nothing for minutes.
KEEP_ALIVE_TIMEOUT_S = 5.0

log = get_logger(__name__)


def bind_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"


class ServeError(Exception):
    """The server cannot start; the message says why in one line."""


def bind_socket(host: str, port: int) -> socket.socket:
    """Bind before the app starts, so a port in use is one clear error and nothing else."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ServeError(f"cannot serve on {host}:{port}: {exc.strerror}") from exc
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise ServeError(f"cannot serve on {host}:{port}: {exc.strerror}") from exc
    return sock


@dataclass(frozen=True)
class Listener:
    """Another app served beside the API, on an address of its own (the metrics)."""

    app: ASGIApp
    host: str
    port: int
    name: str


def _config(host: str, port: int) -> Config:
    # hypercorn takes the bound socket over by its descriptor, and closes it when it stops.
    config = Config()
    config.bind = [f"fd://{bind_socket(host, port).detach()}"]
    config.graceful_timeout = GRACEFUL_TIMEOUT_S
    config.keep_alive_timeout = KEEP_ALIVE_TIMEOUT_S
    config.h11_max_incomplete_size = 16 * 1024
    config.accesslog = None  # the app logs each request itself, with its request id
    # hypercorn's own messages go through the service's log configuration.
    config.errorlog = logging.getLogger("hypercorn.error")
    return config


async def serve(app: FastAPI, host: str, port: int, others: Sequence[Listener] = ()) -> None:
    config = _config(host, port)
    configs = [(other, _config(other.host, other.port)) for other in others]

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, _on_signal, stop, sig)
    log.info("serving", address=bind_address(host, port))
    for other, _ in configs:
        log.info("serving", address=bind_address(other.host, other.port), app=other.name)
    await asyncio.gather(
        hypercorn_serve(app, config, shutdown_trigger=stop.wait),  # type: ignore[arg-type]
        *(
            hypercorn_serve(other.app, other_config, shutdown_trigger=stop.wait)  # type: ignore[arg-type]
            for other, other_config in configs
        ),
    )
    log.info("stopped")


def _on_signal(stop: asyncio.Event, sig: signal.Signals) -> None:
    log.info("shutting down", signal=sig.name)
    stop.set()
