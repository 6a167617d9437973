"""The generator interface: one abstract method, `_stream`; the base class does the rest."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypedDict

__all__ = ["Generator", "Message"]


class Message(TypedDict):
    role: str
    content: str


class Generator:
    """A chat LLM. Subclasses implement `_stream`; temperature is always 0 (repeatable answers)."""

    backend = "base"
    model = ""

    def _stream(self, messages: list[Message], max_tokens: int) -> Iterator[str]:
        raise NotImplementedError

    def stream(self, messages: list[Message], max_tokens: int = 200) -> Iterator[str]:
        """Yield text pieces as they are generated."""
        yield from self._stream(messages, max_tokens)

    def generate(self, messages: list[Message], max_tokens: int = 200) -> str:
        """The whole completion."""
        return "".join(self._stream(messages, max_tokens))

    def warm_up(self) -> None:
        """Load weights or check the server now rather than on the first question."""
