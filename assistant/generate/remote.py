"""Remote generators over HTTP (httpx): any OpenAI-compatible server, and Ollama."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx

from ..config import Settings
from ..errors import ConfigError, GeneratorError
from .base import Generator, Message

__all__ = ["OpenAICompatibleGenerator", "OllamaGenerator"]


class _HTTPGenerator(Generator):
    default_url = ""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.base_url = (settings.llm_base_url or self.default_url).rstrip("/")
        if not self.base_url:
            raise ConfigError(f"the {self.backend} backend needs ASSISTANT_LLM_BASE_URL")
        self.model = settings.llm_model
        if not self.model:
            raise ConfigError(f"the {self.backend} backend needs ASSISTANT_LLM_MODEL (the model name)")
        t = settings.llm_timeout
        self.timeout = httpx.Timeout(t, connect=min(5.0, t))

    def _request(self, path: str, payload: dict, headers: dict | None = None) -> Iterator[dict]:
        """POST and yield the streamed JSON events. The whole call, not just each read, is bounded by
        llm_timeout: a server that trickles bytes forever still fails in time."""
        url = f"{self.base_url}{path}"
        limit = self.settings.llm_timeout
        deadline = time.monotonic() + limit
        try:
            with httpx.Client(timeout=self.timeout, trust_env=False) as client, client.stream(
                "POST", url, json=payload, headers=headers or {}
            ) as r:
                if r.status_code >= 400:
                    r.read()
                    raise GeneratorError(f"{self.backend} server at {self.base_url} answered HTTP {r.status_code}: "
                                         f"{r.text[:200]}")
                buf = b""
                for data in r.iter_bytes():
                    if time.monotonic() > deadline:
                        raise httpx.ReadTimeout("total time exceeded")
                    buf += data
                    *lines, buf = buf.split(b"\n")
                    if len(buf) > _MAX_LINE:
                        raise GeneratorError(f"{self.backend} server at {self.base_url} sent a line over "
                                             f"{_MAX_LINE // 1000} kB: not a streamed completion")
                    for raw in lines:
                        event = self._parse(raw)
                        if event is _DONE:
                            return
                        if event is not None:
                            yield event
                event = self._parse(buf)
                if event is not None and event is not _DONE:
                    yield event
        except httpx.ConnectError:
            raise GeneratorError(f"cannot connect to the {self.backend} server at {self.base_url}") from None
        except httpx.TimeoutException:
            raise GeneratorError(f"the {self.backend} server at {self.base_url} did not answer within "
                                 f"{limit:g} s") from None
        except httpx.HTTPError as e:
            raise GeneratorError(f"{self.backend} server at {self.base_url} failed: {e}") from None

    def _parse(self, raw: bytes):
        line = raw.decode("utf-8", errors="replace").strip()
        if not line:
            return None
        if line.startswith("data:"):
            line = line[5:].strip()
        if line == "[DONE]":
            return _DONE
        try:
            return json.loads(line)
        except json.JSONDecodeError:
            raise GeneratorError(f"{self.backend} server at {self.base_url} returned non-JSON data: "
                                 f"{line[:120]!r}") from None

    def stream(self, messages: list[Message], max_tokens: int = 200) -> Iterator[str]:
        """Yield text pieces; a response that carries no text at all is an error, not an empty answer."""
        empty = True
        for piece in self._stream(messages, max_tokens):
            empty = False
            yield piece
        if empty:
            raise GeneratorError(f"{self.backend} server at {self.base_url} returned no text")


_DONE = object()
_MAX_LINE = 1_000_000  # bytes without a newline: no streamed completion event is anywhere near this


class OpenAICompatibleGenerator(_HTTPGenerator):
    """POST {base}/chat/completions with stream=true (base usually ends in /v1)."""

    backend = "openai"

    def _stream(self, messages: list[Message], max_tokens: int) -> Iterator[str]:
        headers = {"Authorization": f"Bearer {self.settings.llm_api_key}"} if self.settings.llm_api_key else {}
        payload = {"model": self.model, "messages": messages, "max_tokens": max_tokens, "temperature": 0,
                   "stream": True}
        for event in self._request("/chat/completions", payload, headers):
            try:
                delta = event["choices"][0].get("delta") or event["choices"][0].get("message") or {}
            except (KeyError, IndexError, TypeError, AttributeError):
                raise GeneratorError(f"openai server at {self.base_url} returned an unexpected response") from None
            if delta.get("content"):
                yield delta["content"]


class OllamaGenerator(_HTTPGenerator):
    """POST {base}/api/chat (Ollama's native streaming API)."""

    backend = "ollama"
    default_url = "http://127.0.0.1:11434"

    def _stream(self, messages: list[Message], max_tokens: int) -> Iterator[str]:
        payload = {"model": self.model, "messages": messages, "stream": True,
                   "options": {"temperature": 0, "num_predict": max_tokens}}
        for event in self._request("/api/chat", payload):
            if not isinstance(event, dict) or "message" not in event and not event.get("done"):
                raise GeneratorError(f"ollama server at {self.base_url} returned an unexpected response")
            content = (event.get("message") or {}).get("content")
            if content:
                yield content
