"""The local generator: a GGUF model through llama-index's `LlamaCPP` LLM (llama-cpp-python underneath).

The chat prompt is the GGUF's own chat template (ChatML for the Qwen and SmolLM models), rendered the way
llama-cpp-python's chat handler renders it, so the text the model sees, and hence its answers, are the same
as through `Llama.create_chat_completion`."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence

from ..config import Settings
from ..errors import GeneratorError
from ..models import model_path
from .base import Generator, Message

__all__ = ["LlamaCppGenerator", "chat_template_prompt"]


def chat_template_prompt(template: str, eos: str, bos: str = ""):
    """A llama-index `messages_to_prompt` that renders `template` (a GGUF's `tokenizer.chat_template`) with
    the generation prompt appended, in a sandboxed Jinja environment (as llama-cpp-python does)."""
    from jinja2 import BaseLoader
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    def _raise(message: str):
        raise ValueError(message)

    compiled = ImmutableSandboxedEnvironment(loader=BaseLoader(), trim_blocks=True,
                                             lstrip_blocks=True).from_string(template)

    def messages_to_prompt(messages: Sequence) -> str:
        plain = [{"role": getattr(m.role, "value", m.role), "content": m.content or ""} for m in messages]
        return compiled.render(messages=plain, eos_token=eos, bos_token=bos, raise_exception=_raise,
                               add_generation_prompt=True)

    return messages_to_prompt


class LlamaCppGenerator(Generator):
    """One model in memory, one generation at a time (2 cores: parallel generations only slow each other)."""

    backend = "local"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.model = settings.local_model
        self._llm = None
        self._load_lock = threading.Lock()
        self.lock = threading.Lock()  # held for a whole generation; callers may queue on it

    @property
    def llm(self):
        """The llama-index `LlamaCPP` LLM (loaded on first use)."""
        self.warm_up()
        return self._llm

    def warm_up(self) -> None:
        with self._load_lock:
            if self._llm is None:
                from llama_index.llms.llama_cpp import LlamaCPP

                path = model_path(self.settings.local_model, self.settings.model_cache)
                try:
                    # ~2-3 s load, ~1.8 GB RSS for the 1.5B Q4_K_M model
                    llm = LlamaCPP(model_path=str(path), temperature=0.0, max_new_tokens=200,
                                   context_window=self.settings.n_ctx, verbose=False,
                                   model_kwargs={"n_threads": self.settings.n_threads, "n_batch": 512, "seed": 0},
                                   generate_kwargs={"top_p": 1.0, "repeat_penalty": 1.0})
                except (ValueError, RuntimeError) as e:
                    raise GeneratorError(f"cannot load local model {path.name}: {e}") from e
                llm.messages_to_prompt, stop = _gguf_chat(llm)
                llm.generate_kwargs["stop"] = stop
                self._llm = llm

    def _stream(self, messages: list[Message], max_tokens: int) -> Iterator[str]:
        from llama_index.core.llms import ChatMessage

        llm = self.llm
        with self.lock:
            # LlamaCPP takes its sampling settings from generate_kwargs only; the lock makes this per call
            llm.generate_kwargs["max_tokens"] = max_tokens
            try:
                for part in llm.stream_chat([ChatMessage(role=m["role"], content=m["content"]) for m in messages]):
                    if part.delta:
                        yield part.delta
            except ValueError as e:  # e.g. prompt longer than the context window
                raise GeneratorError(f"local model failed: {e}") from e


def _gguf_chat(llm) -> tuple:
    """(messages_to_prompt, stop strings) from the loaded GGUF's chat template and end-of-sequence token."""
    model = llm._model  # the llama_cpp.Llama that LlamaCPP wraps: the one place its metadata is read
    template = model.metadata.get("tokenizer.chat_template")
    if not template:
        raise GeneratorError(f"the local model {llm.model_path} has no chat template in its GGUF metadata")

    def token(tid: int) -> str:
        return model.detokenize([tid], special=True).decode("utf-8", errors="ignore") if tid >= 0 else ""

    eos = token(model.token_eos())
    return chat_template_prompt(template, eos, token(model.token_bos())), [eos] if eos else []
