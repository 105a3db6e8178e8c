"""The sentence encoder in a child process of its own, for the server.

The model is numpy code that holds the GIL for much of each encode. In the server's process a
running encode made the event loop wait for the GIL, so under 50 concurrent readers each new
reader's first event waited behind other readers' embeddings (py-spy showed the loop idle in
`select` while greetings were late). In a child process the encodes run on the other core and
the loop only waits for a pipe. The command line's batch jobs (`index`) keep the in-process
encoder: they have no loop to keep free.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import numpy as np

from experts_panel.logs import get_logger
from experts_panel.retrieval.embedder import UniversalSentenceEncoder, Vectors, model_name

log = get_logger(__name__)

# The child's own encoder, made once by the pool's initializer. Module state, but only ever
# set in the child process, which exists for it alone.
_child_encoder: UniversalSentenceEncoder | None = None


def _load(threads: int, parent: int) -> None:
    global _child_encoder
    # Ctrl+C reaches the whole process group; the parent decides when the child stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A parent killed outright (SIGKILL) cannot stop its child: the child notices it has
    # been handed to another parent and leaves, rather than holding its memory for ever.
    threading.Thread(target=_leave_when_orphaned, args=(parent,), daemon=True).start()
    _child_encoder = UniversalSentenceEncoder(threads=threads)


def _leave_when_orphaned(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)


def _encode(texts: list[str]) -> Vectors:
    assert _child_encoder is not None, "the pool's initializer loads the encoder"
    return _child_encoder.encode(texts)


class EncoderProcess:
    """An `Embedder` whose model runs in one child process; `close()` stops it."""

    dimensions = UniversalSentenceEncoder.dimensions

    def __init__(self, threads: int = 2) -> None:
        self.name = model_name()
        self._threads = threads
        self._lock = threading.Lock()
        self._pool = self._start()

    def _start(self) -> ProcessPoolExecutor:
        # spawn: a fresh interpreter, not a fork of a process with running threads and loops.
        return ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_load,
            # The parent's pid from the parent: one killed while the child was still starting
            # is noticed too.
            initargs=(self._threads, os.getpid()),
        )

    def encode(self, texts: list[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        pool = self._pool
        try:
            return pool.submit(_encode, texts).result()
        except BrokenProcessPool:
            # The child died (killed for memory, say): start another once and try again, so
            # one lost child does not fail every query after it.
            with self._lock:
                if self._pool is pool:
                    log.warning("the encoder process died; starting another")
                    pool.shutdown(wait=False, cancel_futures=True)
                    self._pool = self._start()
            return self._pool.submit(_encode, texts).result()

    def child_pids(self) -> list[int]:
        """The child's process id once it runs (for tests and memory figures)."""
        processes = getattr(self._pool, "_processes", None) or {}
        return [int(pid) for pid in processes]

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
