"""The local generator: a GGUF model through llama-cpp-python (chat template from the GGUF)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

from ..config import Settings
from ..errors import GeneratorError
from ..models import model_path
from .base import Generator, Message

__all__ = ["LlamaCppGenerator"]


class LlamaCppGenerator(Generator):
    """One model in memory, one generation at a time (2 cores: parallel generations only slow each other)."""

    backend = "local"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.model = settings.local_model
        self._llm = None
        self._load_lock = threading.Lock()
        self.lock = threading.Lock()  # held for a whole generation; callers may queue on it

    def warm_up(self) -> None:
        with self._load_lock:
            if self._llm is None:
                from llama_cpp import Llama

                path = model_path(self.settings.local_model, self.settings.model_cache)
                try:
                    # ~2-3 s load, ~1.8 GB RSS for the 1.5B Q4_K_M model
                    self._llm = Llama(model_path=str(path), n_ctx=self.settings.n_ctx,
                                      n_threads=self.settings.n_threads, n_batch=512, verbose=False, seed=0)
                except (ValueError, RuntimeError) as e:
                    raise GeneratorError(f"cannot load local model {path.name}: {e}") from e

    def _stream(self, messages: list[Message], max_tokens: int) -> Iterator[str]:
        self.warm_up()
        with self.lock:
            try:
                for part in self._llm.create_chat_completion(  # type: ignore[union-attr]
                    messages=messages, max_tokens=max_tokens, temperature=0.0, top_p=1.0, stream=True,
                    repeat_penalty=1.0,
                ):
                    delta = part["choices"][0].get("delta", {}).get("content")
                    if delta:
                        yield delta
            except ValueError as e:  # e.g. prompt longer than the context window
                raise GeneratorError(f"local model failed: {e}") from e
