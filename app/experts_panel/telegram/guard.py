"""Limits on an export's shape, checked on its bytes before the JSON parser sees them.

ijson (over yajl) has no depth limit, and its prefix tracking keeps one string per open level,
each as long as the path to it: memory grows with the square of the depth (20,000 levels of
`[` took a gigabyte, 100,000 more than 22). It also builds a message whole before handing it
over, however large. So every read of the file (64 KiB) is checked here first, and a read
that breaks a limit never reaches the parser:

- nesting deeper than `MAX_DEPTH` levels (the root object is level 1), exactly;
- a message (an item of a list at `message_level`) over `MAX_VALUE_BYTES` of the file,
  exactly: measured byte by byte when it spans more than that many bytes of reads;
- a string or number anywhere (a name, a key) once more than `MAX_VALUE_BYTES` have been
  read without a bracket or the end of a string; counted in whole reads, so one a read
  longer may pass outside a message (inside one, the message's own limit is exact).

Checking a read costs a few passes of C over its bytes (escapes dropped, everything but
brackets and quotes deleted, strings' brackets removed) and nothing per JSON event; only a
read that comes near a limit is walked byte by byte, to say exactly where.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

MAX_DEPTH = 64
MAX_VALUE_BYTES = 1 << 20

# A backslash escapes the byte after it; only escaped quotes and backslashes could mislead a
# search for strings' ends. Matching left to right pairs a run of backslashes from its start.
_QUOTE_OR_BACKSLASH_ESCAPE = re.compile(rb'\\[\\"]')
# Everything but brackets and quotes goes; openers become "(" and closers ")".
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'[]{}"')
_AS_PARENS = bytes.maketrans(b"[]{}", b"()()")
_STRUCTURE = re.compile(rb'[\[\]{}"\\]')


class LimitExceeded(Exception):
    """A limit was broken; `offset` is where in the file (in bytes, from 0)."""

    def __init__(self, what: str, offset: int) -> None:
        super().__init__(what)
        self.what = what
        self.offset = offset


@dataclass(frozen=True)
class ScanState:
    """Where the scan stands between two reads."""

    depth: int = 0
    in_string: bool = False
    escaped: bool = False  # the read ended on a backslash that escapes the next byte


@dataclass(frozen=True)
class _Shape:
    """One read, reduced: the state after it, the lowest depth it went to, an upper bound on
    the highest, and whether it is quiet: no bracket and no quote in it, or all of it inside
    one string."""

    end: ScanState
    lowest: int
    highest_bound: int
    quiet: bool


def _amount(size: int) -> str:
    return f"{size >> 20} MiB" if size % (1 << 20) == 0 else f"{size} bytes"


def _trailing_backslashes(data: bytes) -> int:
    return len(data) - len(data.rstrip(b"\\"))


def _shape(chunk: bytes, state: ScanState, max_depth: int) -> _Shape:
    """Reduce one read with C-speed byte operations; no Python work per byte or per token."""
    if state.escaped:
        chunk = chunk[1:]
    escaped = chunk.endswith(b"\\") and _trailing_backslashes(chunk) % 2 == 1
    if escaped:
        chunk = chunk[:-1]
    if b"\\" in chunk and _QUOTE_OR_BACKSLASH_ESCAPE.search(chunk):  # most hold only \n and \u
        chunk = _QUOTE_OR_BACKSLASH_ESCAPE.sub(b"", chunk)
    marks = chunk.translate(_AS_PARENS, _NOT_STRUCTURE)
    quiet = not marks or (state.in_string and b'"' not in marks)
    if state.in_string:
        marks = b'"' + marks
    # Two quotes side by side hold nothing between them: dropping them keeps every other
    # quote's parity, and most strings (their brackets already gone) vanish here.
    marks = marks.replace(b'""', b"")
    in_string = False
    if b'"' in marks:
        pieces = marks.split(b'"')
        in_string = len(pieces) % 2 == 0
        marks = b"".join(pieces[::2])
    # Drop matched pairs, innermost first: what is left is ")" * closes + "(" * opens.
    height = 0
    while b"()" in marks and height <= max_depth:
        marks = marks.replace(b"()", b"")
        height += 1
    closes = marks.count(b")")
    opens = len(marks) - closes
    if b"()" in marks:  # deeper than the limit within this read: the walk will say where
        closes = opens = 0
        height = max_depth + 1
    depth = state.depth - closes + opens
    return _Shape(
        end=ScanState(depth, in_string, escaped),
        lowest=state.depth - closes,
        highest_bound=state.depth + opens + height,
        quiet=quiet,
    )


def walk(chunk: bytes, state: ScanState) -> Iterator[tuple[int, int, bool]]:
    """Every bracket outside strings in `chunk`: its offset in the chunk, the depth after it,
    and whether it opens. Exact and slow (Python per structural byte): for reads near a
    limit only."""
    depth = state.depth
    in_string = state.in_string
    skip = 0 if state.escaped else -1
    for match in _STRUCTURE.finditer(chunk):
        at = match.start()
        if at == skip:
            continue
        byte = chunk[at]
        if byte == 0x5C:  # backslash
            if in_string:
                skip = at + 1
        elif byte == 0x22:  # quote
            in_string = not in_string
        elif in_string:
            continue
        elif byte in b"[{":
            depth += 1
            yield at, depth, True
        else:
            depth -= 1
            yield at, depth, False


class ShapeGuard:
    """Checks an export's reads in order; `check` raises `LimitExceeded`.

    `message_level` is the depth of the list holding the messages (2 in a single chat's
    export, 5 in a full-account export), or None to check no message's size. A message that
    begins and ends within one read is not measured: the limit must be larger than a read
    (1 MiB against 64 KiB)."""

    def __init__(
        self,
        message_level: int | None,
        max_depth: int = MAX_DEPTH,
        max_value_bytes: int = MAX_VALUE_BYTES,
    ) -> None:
        self.level = message_level
        self.max_depth = max_depth
        self.max_value = max_value_bytes
        self.state = ScanState()
        self.offset = 0  # of the next read in the file
        self.quiet_bytes = 0  # read since the last bracket or string's end
        # The read in which the open message began, with the state before it.
        self._message_read: tuple[bytes, ScanState, int] | None = None

    def check(self, chunk: bytes) -> None:
        if not chunk:
            return
        start, offset = self.state, self.offset
        shape = _shape(chunk, start, self.max_depth)
        if shape.highest_bound > self.max_depth:
            shape = self._exact(chunk, start, offset, shape)
        if self.level is not None:
            self._check_message(chunk, start, offset, shape)
        if shape.quiet:
            self.quiet_bytes += len(chunk)
            if self.quiet_bytes > self.max_value:
                raise LimitExceeded(
                    f"a single string or number over {_amount(self.max_value)}",
                    offset + len(chunk) - 1,
                )
        else:
            self.quiet_bytes = 0
        self.state = shape.end
        self.offset = offset + len(chunk)

    def _exact(self, chunk: bytes, start: ScanState, offset: int, shape: _Shape) -> _Shape:
        lowest = depth = start.depth
        for at, depth, _ in walk(chunk, start):
            if depth > self.max_depth:
                raise LimitExceeded(f"nesting deeper than {self.max_depth} levels", offset + at)
            lowest = min(lowest, depth)
        return _Shape(
            end=ScanState(depth, shape.end.in_string, shape.end.escaped),
            lowest=lowest,
            highest_bound=self.max_depth,
            quiet=shape.quiet,
        )

    def _check_message(self, chunk: bytes, start: ScanState, offset: int, shape: _Shape) -> None:
        level = self.level
        assert level is not None
        end = offset + len(chunk)
        began = self._message_read
        if start.depth > level and began is not None:
            first_read, _, first_offset = began
            if shape.lowest <= level:  # it ends in this read
                if end - first_offset > self.max_value:  # it may be too long: measure it
                    # Going down to the list's level closes the message.
                    closed = next(at for at, depth, _ in walk(chunk, start) if depth == level)
                    opened = self._message_start()
                    if offset + closed - opened + 1 > self.max_value:
                        raise LimitExceeded(f"a message over {_amount(self.max_value)}", opened)
            elif end - (first_offset + len(first_read)) > self.max_value:
                # Every byte of the reads since the one it began in is inside it.
                raise LimitExceeded(
                    f"a message over {_amount(self.max_value)}", self._message_start()
                )
        if shape.end.depth > level and shape.lowest <= level:
            self._message_read = (chunk, start, offset)  # a message began in this read
        elif shape.end.depth <= level:
            self._message_read = None

    def _message_start(self) -> int:
        """The file offset of the open message's first byte."""
        assert self._message_read is not None and self.level is not None
        chunk, state, offset = self._message_read
        inside = self.level + 1
        opened = [at for at, depth, opens in walk(chunk, state) if opens and depth == inside]
        return offset + opened[-1]
