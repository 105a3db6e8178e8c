"""Requests straight to hypercorn, without nginx in front: the app bounds what a client sends.

Bodies over 64 KiB are refused with 413 before they are read; a body that has not arrived
within REQUEST_BODY_TIMEOUT is answered 408 and its connection closed; an error never quotes
a long input back. Each test speaks raw HTTP/1.1 over a socket, as a hostile client would.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path

import httpx

from experts_panel.settings import load_settings
from tests.support.server import Server, ServerFactory

QUERY = "/api/v1/query"
MAX_BODY_BYTES = 64 * 1024  # what the issue asks of the app itself


def connect(server: Server, timeout: float = 10.0) -> socket.socket:
    url = httpx.URL(server.url)
    assert url.host is not None and url.port is not None
    return socket.create_connection((url.host, url.port), timeout=timeout)


def head(path: str, *headers: str) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: panel.test", "Content-Type: application/json"]
    return ("\r\n".join([*lines, *headers]) + "\r\n\r\n").encode()


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """The status, headers and body of one response, read until the server closes or the
    declared length has come."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"closed before a whole response: {data!r}")
        data += chunk
    top, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = top.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines)}
    length = int(headers.get("content-length", "-1"))
    while length < 0 or len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return int(status_line.split()[1]), headers, body


def closed_by_server(sock: socket.socket) -> bool:
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def test_a_declared_100_mb_body_is_413_before_it_is_read(
    db_path: Path, server_factory: ServerFactory
) -> None:
    server: Server = server_factory(db_path)
    size = 100 * 1024 * 1024
    with connect(server) as sock:
        # The headers alone: the answer comes before any of the body is sent. (Sending some
        # of it first races the server's close, which can reset the connection and lose the
        # answer on its way.)
        sock.sendall(head(QUERY, f"Content-Length: {size}"))
        status, _, body = read_response(sock)
        assert status == 413
        assert json.loads(body) == {
            "detail": f"the request body is larger than {MAX_BODY_BYTES // 1024} KiB",
            "code": "request_too_large",
        }
        assert closed_by_server(sock)
    assert httpx.get(f"{server.url}/health").status_code == 200


def test_a_chunked_body_is_cut_off_past_64_kib(
    db_path: Path, server_factory: ServerFactory
) -> None:
    server: Server = server_factory(db_path)
    with connect(server) as sock:
        sock.sendall(head(QUERY, "Transfer-Encoding: chunked"))
        piece = b"a" * 8192
        sent = 0
        # Past the limit by one piece; the rest of a very long body is never sent.
        while sent <= MAX_BODY_BYTES:
            sock.sendall(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            sent += len(piece)
        status, _, body = read_response(sock)
        assert status == 413 and json.loads(body)["code"] == "request_too_large"


def test_a_long_input_is_not_quoted_back(db_path: Path, server_factory: ServerFactory) -> None:
    server: Server = server_factory(db_path)
    long_query = "question " * 6000  # 54,000 bytes: under the body limit, over max_length
    response = httpx.post(f"{server.url}{QUERY}", json={"query": long_query})
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "query"]
    assert len(response.content) < 2000, response.text[:3000]
    assert error["input"].startswith("question question") and error["input"].endswith("…")


def test_a_body_that_drips_in_is_dropped_at_the_deadline(
    db_path: Path, server_factory: ServerFactory
) -> None:
    server: Server = server_factory(db_path, REQUEST_BODY_TIMEOUT="2")
    with connect(server) as sock:
        sock.sendall(head(QUERY, "Content-Length: 200"))
        started = time.monotonic()
        answer: list[tuple[int, dict[str, str], bytes]] = []

        def drip() -> None:
            # One byte every 0.2 s: each read is quick, the whole body would take 40 s.
            for _ in range(200):
                try:
                    sock.sendall(b" ")
                except OSError:
                    return
                if answer:
                    return
                time.sleep(0.2)

        dripping = threading.Thread(target=drip, daemon=True)
        dripping.start()
        answer.append(read_response(sock))
        elapsed = time.monotonic() - started
        status, _, body = answer[0]
        assert status == 408, body
        assert json.loads(body)["code"] == "request_timeout"
        assert 1.5 < elapsed < 5, elapsed
        assert closed_by_server(sock)
        dripping.join(timeout=5)


def test_many_dripping_connections_are_all_dropped_and_others_are_served(
    db_path: Path, server_factory: ServerFactory
) -> None:
    server: Server = server_factory(db_path, REQUEST_BODY_TIMEOUT="2")
    socks = [connect(server) for _ in range(100)]
    try:
        for sock in socks:
            sock.sendall(head(QUERY, "Content-Length: 100") + b"{")
        time.sleep(1)
        assert httpx.get(f"{server.url}/health", timeout=5).status_code == 200
        deadline = time.monotonic() + 10
        for sock in socks:
            sock.settimeout(max(0.1, deadline - time.monotonic()))
            status, _, _ = read_response(sock)
            assert status == 408
            assert closed_by_server(sock)
    finally:
        for sock in socks:
            sock.close()


def test_headers_that_drip_in_are_dropped_too(db_path: Path, server_factory: ServerFactory) -> None:
    """hypercorn closes a connection whose request has not begun within its keep-alive
    time-out, however it trickles in."""
    server: Server = server_factory(db_path)
    with connect(server) as sock:
        started = time.monotonic()
        closed = False
        request = f"POST {QUERY} HTTP/1.1\r\nHost: panel.test\r\nX-Drip: ".encode() + b"a" * 100
        for byte in request:
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                closed = True
                break
            time.sleep(0.5)
            if time.monotonic() - started > 15:
                break
        assert closed or closed_by_server(sock)
        assert time.monotonic() - started < 12


def test_the_body_deadline_defaults_to_30_s() -> None:
    assert load_settings({}).REQUEST_BODY_TIMEOUT == 30.0
