"""A stand-in for the API behind nginx in tests/deploy/test_nginx.py: just enough HTTP to check
what nginx does with proxied requests. It is not the service (the whole-host test runs the
real one); it answers:

    GET  /health          200 {"status": "ok"}
    GET  /api/v1/echo     200, the request's headers as JSON
    GET  /api/v1/slow     200 after ?seconds=S seconds (a request that stays in flight)
    POST /api/v1/query    a Server-Sent Events stream: ?events=N events, ?gap=S seconds apart,
                          each written and flushed on its own

usage: python fake_api.py [PORT]   (listens on 127.0.0.1, default 8000)
"""

from __future__ import annotations

import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _json(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == "/health":
            self._json(200, {"status": "ok"})
        elif path == "/api/v1/echo":
            self._json(200, {k.lower(): v for k, v in self.headers.items()})
        elif path == "/api/v1/slow":
            time.sleep(float(parse_qs(urlsplit(self.path).query).get("seconds", ["1"])[0]))
            self._json(200, {"slept": True})
        else:
            self._json(404, {"detail": "not found"})

    def do_POST(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        if parts.path != "/api/v1/query":
            self._json(404, {"detail": "not found"})
            return
        query = parse_qs(parts.query)
        events = int(query.get("events", ["1"])[0])
        gap = float(query.get("gap", ["0"])[0])
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for n in range(events):
            if n:
                time.sleep(gap)
            event = f"event: progress\ndata: {json.dumps({'n': n, 'sent': time.time()})}\n\n"
            chunk = event.encode()
            self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8000
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    print(f"fake API listening on 127.0.0.1:{port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
