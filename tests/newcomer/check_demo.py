"""Asks a running demo what the README's curl lines ask, and fails unless each answer is right.

usage: python3 check_demo.py BASE_URL    (standard library only: it runs in a fresh root)
"""

from __future__ import annotations

import json
import sys
import time
import urllib.request

DEMO_EXPERTS = {"ai_architect", "product_notes", "selfhost_ops"}
QUERY = "Как делать бэкапы SQLite?"
QUERY_TIMEOUT_S = 180


def get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=30) as reply:
        return reply.status, reply.read().decode()


def main(base: str) -> int:
    failures: list[str] = []

    status, body = get(f"{base}/health")
    health = json.loads(body)
    print(f"/health: {status} {health.get('status')}")
    if status != 200 or health.get("status") != "healthy":
        failures.append(f"/health is not healthy: {status} {body[:300]}")

    status, body = get(f"{base}/api/v1/experts")
    ids = {expert["id"] for expert in json.loads(body)}
    print(f"/api/v1/experts: {status} {sorted(ids)}")
    if ids != DEMO_EXPERTS:
        failures.append(f"/api/v1/experts lists {sorted(ids)}, not {sorted(DEMO_EXPERTS)}")

    request = urllib.request.Request(
        f"{base}/api/v1/query",
        data=json.dumps({"query": QUERY}).encode(),
        headers={"content-type": "application/json", "accept": "text/event-stream"},
    )
    started = time.monotonic()
    events: list[dict[str, object]] = []
    with urllib.request.urlopen(request, timeout=QUERY_TIMEOUT_S) as stream:
        content_type = stream.headers.get("content-type", "")
        for raw in stream:
            line = raw.decode().rstrip("\r\n")
            if line.startswith("data:"):
                events.append(json.loads(line[5:]))
                if events[-1].get("event_type") in ("complete", "error"):
                    break
            if time.monotonic() - started > QUERY_TIMEOUT_S:
                break
    last = events[-1] if events else {}
    print(
        f"/api/v1/query: {content_type.split(';')[0]}, {len(events)} events, "
        f"last {last.get('event_type')!r} after {time.monotonic() - started:.1f} s"
    )
    if not content_type.startswith("text/event-stream"):
        failures.append(f"/api/v1/query answered {content_type!r}, not an event stream")
    if last.get("event_type") != "complete":
        failures.append(f"the query stream ended without its final event: {json.dumps(last)[:500]}")

    status, body = get(f"{base}/")
    print(f"/: {status}, {len(body)} bytes")
    if status != 200 or '<div id="root">' not in body:
        failures.append(f"/ does not serve the front end's HTML: {status} {body[:200]!r}")

    for failure in failures:
        print(f"FAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1].rstrip("/")))
