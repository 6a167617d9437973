"""One `Settings` object. Every field has a default and a description; env overrides use ASSISTANT_<FIELD>.

Example: ``ASSISTANT_LLM=none assistant ask "..."`` or ``answer("...", llm="none", top_k=3)``.
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .vectors import STORES

__all__ = ["Settings", "BACKENDS", "PROJECT_ROOT", "STEPS"]

# A source checkout keeps corpus/, index/ and eval/ beside the package; an installed package (a wheel in
# site-packages) uses the folder it is run from instead.
_CHECKOUT = Path(__file__).resolve().parent.parent
PROJECT_ROOT = _CHECKOUT if (_CHECKOUT / "pyproject.toml").is_file() else Path.cwd()
BACKENDS = ("local", "openai", "ollama", "none")
# Method steps that can be switched off one by one (`steps_off`), each measured in docs/quality.md.
STEPS = ("anchor", "answer_type", "column_lookup", "table_lookup", "fallback")
_ALIASES = {"llama-cpp": "local", "llamacpp": "local", "openai-compatible": "openai", "extractive": "none"}


def _f(default: Any, doc: str, **kw: Any) -> Any:
    if isinstance(default, list | dict):
        return field(default_factory=lambda: type(default)(default), metadata={"doc": doc, **kw})
    return field(default=default, metadata={"doc": doc, **kw})


@dataclass(frozen=True)
class Settings:
    """All knobs of the assistant. Build with `Settings.load(**overrides)`."""

    # where things live
    corpus_dir: Path = _f(PROJECT_ROOT / "corpus",
                          "folder of documents (.txt .md .html .pdf .docx .odt) + sources.json")
    index_dir: Path = _f(PROJECT_ROOT / "index", "folder holding the Chroma index and its manifest")
    model_cache: Path = _f(Path.home() / ".cache" / "assistant", "where the assembled GGUF model is kept")
    chroma_url: str = _f("", "Chroma server URL (client/server mode); empty = embedded store under index_dir")
    chroma_collection: str = _f("assistant", "name prefix of this index's collections on the Chroma server")
    vector_store: str = _f("chroma", "llama-index vector store of an embedded index: chroma or qdrant (local mode)")
    # generation
    llm: str = _f("local", f"generator backend: one of {', '.join(BACKENDS)}")
    local_model: str = _f("qwen2.5-coder-1.5b", "local GGUF: qwen2.5-coder-1.5b, smollm2-135m or a .gguf path")
    llm_model: str = _f("", "model name for the openai/ollama backends")
    llm_base_url: str = _f("", "base URL of an OpenAI-compatible server or Ollama")
    llm_api_key: str = _f("", "API key for the OpenAI-compatible server (may be empty)")
    llm_timeout: float = _f(60.0, "seconds before a remote LLM call is abandoned", lo=1, hi=600)
    on_llm_error: str = _f("error", "when the generator fails: 'error' or 'extractive' (answer with a notice)")
    max_tokens: int = _f(200, "generation budget per answer", lo=16, hi=2048)
    n_threads: int = _f(2, "llama.cpp threads", lo=1, hi=64)
    n_ctx: int = _f(2048, "llama.cpp context window (tokens)", lo=512, hi=32768)
    # retrieval
    top_k: int = _f(5, "number of sources given to the generator", lo=1, hi=20)
    candidates: int = _f(30, "hits fetched from each retriever before fusion", lo=1, hi=200)
    evidence_words: int = _f(300, "word budget of the evidence in the prompt", lo=50, hi=3000)
    chunk_words: int = _f(110, "target words per text chunk", lo=30, hi=400)
    steps_off: str = _f("", "comma-separated method steps to switch off, to measure each (docs/quality.md)")
    # limits
    max_question_chars: int = _f(2000, "longest accepted question", lo=10, hi=100_000)
    max_file_mb: float = _f(20.0, "largest document accepted into the corpus (MB)", lo=0.01, hi=1000)

    @classmethod
    def load(cls, **overrides: Any) -> Settings:
        """Defaults, then ASSISTANT_* environment variables, then keyword overrides."""
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(overrides) - names)
        if unknown:
            raise ConfigError(f"unknown setting(s): {', '.join(unknown)}; known: {', '.join(sorted(names))}")
        values: dict[str, Any] = {}
        for f in fields(cls):
            env = os.environ.get(f"ASSISTANT_{f.name.upper()}")
            if env is not None and env != "":
                values[f.name] = env
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls()._replace(values)

    def replace(self, **overrides: Any) -> Settings:
        """A copy with some fields changed (validated)."""
        names = {f.name for f in fields(self)}
        unknown = sorted(set(overrides) - names)
        if unknown:
            raise ConfigError(f"unknown setting(s): {', '.join(unknown)}")
        return self._replace({k: v for k, v in overrides.items() if v is not None})

    def _replace(self, values: dict[str, Any]) -> Settings:
        converted = {}
        for f in fields(self):
            if f.name not in values:
                continue
            converted[f.name] = _convert(f, values[f.name])
        new = dataclasses.replace(self, **converted)
        new._validate()
        return new

    def _validate(self) -> None:
        llm = _ALIASES.get(self.llm, self.llm)
        if llm not in BACKENDS:
            raise ConfigError(f"unknown LLM backend {self.llm!r}; choose one of {', '.join(BACKENDS)}")
        object.__setattr__(self, "llm", llm)
        unknown = sorted(self.off - set(STEPS))
        if unknown:
            raise ConfigError(f"unknown step(s) in steps_off: {', '.join(unknown)}; known: {', '.join(STEPS)}")
        if self.on_llm_error not in ("error", "extractive"):
            raise ConfigError(f"on_llm_error must be 'error' or 'extractive', got {self.on_llm_error!r}")
        if self.llm in ("openai", "ollama") and self.llm_base_url and not self.llm_base_url.startswith(
            ("http://", "https://")
        ):
            raise ConfigError(f"llm_base_url must start with http:// or https://, got {self.llm_base_url!r}")
        if self.vector_store not in STORES:
            raise ConfigError(f"vector_store must be one of {', '.join(STORES)}, got {self.vector_store!r}")
        if self.chroma_url and self.vector_store != "chroma":
            raise ConfigError("chroma_url names a Chroma server: it needs vector_store 'chroma'")
        if self.chroma_url and not self.chroma_url.startswith(("http://", "https://")):
            raise ConfigError(f"chroma_url must start with http:// or https://, got {self.chroma_url!r}")
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{1,40}[A-Za-z0-9]", self.chroma_collection):
            raise ConfigError("chroma_collection must be 3-42 letters, digits, '.', '_' or '-' (starting and "
                              f"ending with a letter or digit), got {self.chroma_collection!r}")

    @property
    def off(self) -> set[str]:
        """The method steps switched off."""
        return {s.strip() for s in self.steps_off.split(",") if s.strip()}

    def on(self, step: str) -> bool:
        """Is this method step switched on?"""
        return step not in self.off

    @classmethod
    def describe(cls) -> list[tuple[str, str, str]]:
        """(env var, default, description) for every field, for docs and --help."""
        out = []
        for f in fields(cls):
            default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
            out.append((f"ASSISTANT_{f.name.upper()}", str(default), f.metadata["doc"]))
        return out


def _convert(f: dataclasses.Field, value: Any) -> Any:
    kind = f.type if isinstance(f.type, str) else f.type.__name__
    try:
        if kind == "Path":
            value = Path(value).expanduser()
        elif kind == "int":
            value = int(value)
        elif kind == "float":
            value = float(value)
        elif kind == "str":
            value = str(value).strip()
    except (TypeError, ValueError):
        raise ConfigError(f"{f.name} must be {kind}, got {value!r}") from None
    lo, hi = f.metadata.get("lo"), f.metadata.get("hi")
    if lo is not None and value < lo:
        raise ConfigError(f"{f.name} must be >= {lo}, got {value}")
    if hi is not None and value > hi:
        raise ConfigError(f"{f.name} must be <= {hi}, got {value}")
    return value
