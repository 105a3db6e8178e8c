"""The export's shape guard against a plain character-by-character reading of the same JSON,
over documents full of what could mislead it (brackets and quotes inside strings, escaped
quotes and backslashes, runs of backslashes) cut into reads at every kind of place."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from experts_panel.telegram.guard import LimitExceeded, ShapeGuard

TRICKY = ['"', "\\", "[", "]", "{", "}", '\\"', "\\\\", '"]', "\\\\\\", "я", "\n", "🙂", "u0022"]


def tricky_string(rng: random.Random) -> str:
    return "".join(rng.choice([*TRICKY, "a", "b", " "]) for _ in range(rng.randint(0, 12)))


def document(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth > 9 or roll < 0.3:
        return rng.choice([tricky_string(rng), 1, -2.5, True, None, ""])
    if roll < 0.65:
        return [document(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {tricky_string(rng): document(rng, depth + 1) for _ in range(rng.randint(0, 4))}


def deepest(text: bytes) -> tuple[int, int]:
    """The greatest depth and the offset of the first bracket that reaches it, read one byte
    at a time."""
    depth = top = where = 0
    in_string = escaped = False
    for at, byte in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in b"[{":
            depth += 1
            if depth > top:
                top, where = depth, at
        elif byte in b"]}":
            depth -= 1
    return top, where


def reads(text: bytes, rng: random.Random, largest: int) -> list[bytes]:
    out = []
    at = 0
    while at < len(text):
        size = rng.randint(1, largest)
        out.append(text[at : at + size])
        at += size
    return out


def feed(guard: ShapeGuard, chunks: list[bytes]) -> None:
    for chunk in chunks:
        guard.check(chunk)


@pytest.mark.parametrize("seed", range(60))
def test_depth_is_exact_however_the_reads_fall(seed: int) -> None:
    rng = random.Random(seed)
    value = {"messages": [document(rng) for _ in range(rng.randint(1, 6))]}
    text = json.dumps(value, ensure_ascii=seed % 2 == 0).encode()
    top, where = deepest(text)
    for largest in (1, 7, 64, 4096):
        chunks = reads(text, rng, largest)
        feed(ShapeGuard(None, max_depth=top), chunks)  # at the limit: taken
        with pytest.raises(LimitExceeded) as caught:
            feed(ShapeGuard(None, max_depth=top - 1), chunks)
        assert caught.value.offset == where
        assert caught.value.what == f"nesting deeper than {top - 1} levels"


def test_deep_nesting_is_stopped_in_the_read_that_goes_too_deep() -> None:
    guard = ShapeGuard(None)
    guard.check(b'{"a": ' + b"[" * 60)
    with pytest.raises(LimitExceeded) as caught:
        guard.check(b"[" * 100_000)
    assert caught.value.offset == 6 + 60 + 3  # the 65th level: root, 60, then 4 more


def message_list(sizes: list[int]) -> tuple[bytes, list[int]]:
    """`{"m": [...]}` with messages of exactly these sizes in bytes; their offsets."""
    text = b'{"m": ['
    starts = []
    for n, size in enumerate(sizes):
        body = b'{"t": "' + b"x" * (size - 9) + b'"}'
        assert len(body) == size
        if n:
            text += b", "
        starts.append(len(text))
        text += body
    return text + b"]}", starts


@pytest.mark.parametrize("largest", [1, 50, 333])
def test_a_message_over_the_limit_is_refused_exactly(largest: int) -> None:
    rng = random.Random(largest)
    fits, _ = message_list([20, 1000, 30, 1000])
    feed(ShapeGuard(2, max_value_bytes=1000), reads(fits, rng, largest))
    over, starts = message_list([20, 1000, 30, 1001, 20])
    with pytest.raises(LimitExceeded) as caught:
        feed(ShapeGuard(2, max_value_bytes=1000), reads(over, rng, largest))
    assert (caught.value.what, caught.value.offset) == ("a message over 1000 bytes", starts[3])


def test_a_message_is_refused_before_it_ends() -> None:
    text, starts = message_list([20, 10_000])
    guard = ShapeGuard(2, max_value_bytes=1000)
    chunks = reads(text[:-2000], random.Random(1), 100)  # never reaches the message's end
    with pytest.raises(LimitExceeded) as caught:
        feed(guard, chunks)
    assert caught.value.offset == starts[1]
    assert guard.offset < starts[1] + 1000 + 2 * 100  # stopped within a read or two


def test_a_long_string_or_number_is_refused_anywhere() -> None:
    for text in (b'{"name": "' + b"n" * 5000 + b'"}', b'{"id": ' + b"1" * 5000 + b"}"):
        with pytest.raises(LimitExceeded) as caught:
            feed(ShapeGuard(None, max_value_bytes=1000), reads(text, random.Random(2), 100))
        assert caught.value.what == "a single string or number over 1000 bytes"
    # Brackets inside a long string do not end it.
    text = b'{"name": "' + b"[x]" * 2000 + b'"}'
    with pytest.raises(LimitExceeded):
        feed(ShapeGuard(None, max_value_bytes=1000), reads(text, random.Random(3), 100))
