"""Per-user answer settings chosen in the UI (backend, server, model, number of sources), validated here.

A session keeps only a dict of overrides; `answer(question, **overrides)` applies them, so nothing is
shared between users except the loaded models.
"""

from __future__ import annotations

from .config import Settings
from .errors import ConfigError, GeneratorError

__all__ = ["BACKEND_CHOICES", "TOP_K_RANGE", "session_overrides", "check_backend"]

BACKEND_CHOICES = [("Local model (llama.cpp, default)", "local"), ("OpenAI-compatible server", "openai"),
                   ("Ollama", "ollama"), ("Extractive (no LLM, fastest)", "none")]
TOP_K_RANGE = (1, 10)  # more than ~10 sources overflow the local model's 2,048-token window


def session_overrides(backend: str, base_url: str = "", model: str = "", api_key: str = "",
                      top_k: int | float | None = None) -> dict:
    """Validated overrides for `answer()`; ConfigError names the bad value."""
    ov: dict = {"llm": (backend or "local").strip()}
    if ov["llm"] in ("openai", "ollama"):
        ov["llm_base_url"] = (base_url or "").strip()
        ov["llm_model"] = (model or "").strip()
        ov["llm_api_key"] = (api_key or "").strip()
        if ov["llm"] == "openai" and not ov["llm_base_url"]:
            raise ConfigError("the OpenAI-compatible backend needs a server address, e.g. http://127.0.0.1:8000/v1")
        if not ov["llm_model"]:
            raise ConfigError(f"the {ov['llm']} backend needs a model name")
    if top_k is not None:
        k = int(top_k)
        lo, hi = TOP_K_RANGE
        if not lo <= k <= hi:
            raise ConfigError(f"number of sources must be between {lo} and {hi}, got {k}")
        ov["top_k"] = k
    Settings.load(**ov)  # raises ConfigError for a bad URL scheme or backend name
    return ov


def check_backend(**overrides) -> str:
    """Reach the configured backend once (a 1-token request for servers); a one-line status or GeneratorError."""
    from .generate import get_generator

    settings = Settings.load(**overrides)
    if settings.llm == "none":
        return "Extractive answers: the best evidence sentences, no language model."
    if settings.llm == "local":
        return f"Local model {settings.local_model} (loaded on the first question; one answer at a time)."
    generator = get_generator(settings)
    assert generator is not None
    try:
        generator.generate([{"role": "user", "content": "Reply with OK."}], max_tokens=1)
    except GeneratorError:
        raise
    except Exception as e:  # a server speaking another protocol: say so in one line
        raise GeneratorError(f"{settings.llm} server at {settings.llm_base_url} gave an unexpected reply: {e}") from e
    return f"Connected: {settings.llm} server at {getattr(generator, 'base_url', '')}, model {settings.llm_model}."
