"""LLM backends behind one small interface: local llama.cpp, OpenAI-compatible, Ollama ('none' = no LLM)."""

from __future__ import annotations

import threading

from ..config import Settings
from ..errors import ConfigError
from .base import Generator, Message

__all__ = ["Generator", "Message", "get_generator"]

_cache: dict[tuple, Generator] = {}
_lock = threading.Lock()


def get_generator(settings: Settings) -> Generator | None:
    """The generator selected by settings (shared per configuration); None for the extractive backend."""
    if settings.llm == "none":
        return None
    key = (settings.llm, settings.local_model, settings.llm_model, settings.llm_base_url, settings.llm_api_key,
           settings.llm_timeout, settings.n_ctx, settings.n_threads)
    with _lock:
        if key not in _cache:
            if settings.llm == "local":
                from .local import LlamaCppGenerator

                _cache[key] = LlamaCppGenerator(settings)
            elif settings.llm == "openai":
                from .remote import OpenAICompatibleGenerator

                _cache[key] = OpenAICompatibleGenerator(settings)
            elif settings.llm == "ollama":
                from .remote import OllamaGenerator

                _cache[key] = OllamaGenerator(settings)
            else:  # pragma: no cover - Settings validates
                raise ConfigError(f"unknown backend {settings.llm!r}")
        return _cache[key]
