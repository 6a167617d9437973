"""Remote generators through llama-index's LLM clients: `OpenAILike` for any OpenAI-compatible server and
`Ollama` for Ollama's native API, streamed.

Both run over an httpx client of ours, built here: its transport bounds the whole response, not only each
read, by llm_timeout (a server that trickles bytes forever still fails in time), and refuses a body that is
not a stream of JSON events. Every failure becomes one GeneratorError naming the server."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx

from ..config import Settings
from ..errors import ConfigError, GeneratorError
from .base import Generator, Message

__all__ = ["OpenAICompatibleGenerator", "OllamaGenerator"]

_MAX_LINE = 1_000_000  # bytes without a newline: no streamed completion event is anywhere near this


class _Malformed(Exception):
    """The server's body is not a stream of JSON events."""


class _Bounded(httpx.SyncByteStream):
    """A response body read against a deadline, each line checked to be a JSON event ('data: {...}' lines
    of server-sent events, or one JSON object per line)."""

    def __init__(self, stream, deadline: float, sse: bool) -> None:
        self._stream, self._deadline, self._sse = stream, deadline, sse

    def _check(self, raw: bytes) -> None:
        line = raw.decode("utf-8", errors="replace").strip()
        if not line or self._sse and line.startswith((":", "event:", "id:", "retry:")):
            return
        if self._sse:
            if not line.startswith("data:"):
                raise _Malformed(f"non-JSON data: {line[:120]!r}")
            line = line[5:].strip()
            if line == "[DONE]":
                return
        try:
            json.loads(line)
        except json.JSONDecodeError:
            raise _Malformed(f"non-JSON data: {line[:120]!r}") from None

    def __iter__(self) -> Iterator[bytes]:
        buf = b""
        for data in self._stream:
            if time.monotonic() > self._deadline:
                raise httpx.ReadTimeout("total time exceeded")
            buf += data
            *lines, buf = buf.split(b"\n")
            for raw in lines:
                self._check(raw)
            if len(buf) > _MAX_LINE:
                raise _Malformed(f"a line over {_MAX_LINE // 1000} kB: not a streamed completion")
            yield data
        self._check(buf)

    def close(self) -> None:
        self._stream.close()


class _BoundedTransport(httpx.HTTPTransport):
    def __init__(self, limit: float, sse: bool) -> None:
        super().__init__()
        self._limit, self._sse = limit, sse

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        deadline = time.monotonic() + self._limit
        response = super().handle_request(request)
        if response.status_code < 400:
            response.stream = _Bounded(response.stream, deadline, self._sse)
        return response


class _RemoteGenerator(Generator):
    default_url = ""
    sse = True

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

    def _http(self) -> httpx.Client:
        return httpx.Client(timeout=self.timeout, trust_env=False,
                            transport=_BoundedTransport(self.settings.llm_timeout, self.sse))

    def _chat(self, messages: list[Message], max_tokens: int):
        """The llama-index LLM's streamed chat responses."""
        raise NotImplementedError

    def _stream(self, messages: list[Message], max_tokens: int) -> Iterator[str]:
        where = f"{self.backend} server at {self.base_url}"
        try:
            for part in self._chat(messages, max_tokens):
                if part.delta:
                    yield part.delta
        except GeneratorError:
            raise
        except Exception as e:  # noqa: BLE001 - the clients' own error types (and ours, _Malformed), mapped
            raise GeneratorError(self._explain(e, where)) from None

    def _explain(self, e: Exception, where: str) -> str:
        limit = self.settings.llm_timeout
        cause = e
        while cause is not None and not isinstance(cause, httpx.HTTPError | _Malformed):
            cause = cause.__cause__ or cause.__context__
        if isinstance(cause, _Malformed):
            return f"{where} returned {cause}"
        name = type(e).__name__
        if isinstance(cause, httpx.TimeoutException) or "Timeout" in name:
            return f"the {where} did not answer within {limit:g} s"
        if isinstance(cause, httpx.ConnectError) or name in ("APIConnectionError", "ConnectionError"):
            return f"cannot connect to the {where}"
        status = getattr(e, "status_code", None)
        if status:
            body = getattr(getattr(e, "response", None), "text", None) or getattr(e, "error", "") or str(e)
            return f"{where} answered HTTP {status}: {str(body)[:200]}"
        if isinstance(e, AttributeError | KeyError | TypeError | IndexError | ValueError):
            return f"{where} returned an unexpected response"
        return f"{where} failed: {name}: {e}"

    def stream(self, messages: list[Message], max_tokens: int = 200) -> Iterator[str]:
        """Yield text pieces; a response that carries no text at all is an error, not an empty answer."""
        empty = True
        for piece in self._stream(messages, max_tokens):
            empty = False
            yield piece
        if empty:
            raise GeneratorError(f"{self.backend} server at {self.base_url} returned no text")


def _chat_messages(messages: list[Message]):
    from llama_index.core.llms import ChatMessage

    return [ChatMessage(role=m["role"], content=m["content"]) for m in messages]


class OpenAICompatibleGenerator(_RemoteGenerator):
    """llama-index `OpenAILike`: POST {base}/chat/completions with stream=true (base usually ends in /v1)."""

    backend = "openai"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._llm = None

    @property
    def llm(self):
        if self._llm is None:
            from llama_index.llms.openai_like import OpenAILike

            # the OpenAI client insists on a key; a server that wants none ignores this one
            self._llm = OpenAILike(model=self.model, api_base=self.base_url,
                                   api_key=self.settings.llm_api_key or "no-key", is_chat_model=True,
                                   temperature=0.0, max_retries=0, timeout=self.settings.llm_timeout,
                                   context_window=self.settings.n_ctx, http_client=self._http())
        return self._llm

    def _chat(self, messages: list[Message], max_tokens: int):
        return self.llm.stream_chat(_chat_messages(messages), max_tokens=max_tokens)


class OllamaGenerator(_RemoteGenerator):
    """llama-index `Ollama`: POST {base}/api/chat (Ollama's native streaming API). The context window sent
    is ASSISTANT_N_CTX."""

    backend = "ollama"
    default_url = "http://127.0.0.1:11434"
    sse = False

    def _chat(self, messages: list[Message], max_tokens: int):
        from llama_index.llms.ollama import Ollama
        from ollama import Client

        client = Client(host=self.base_url, timeout=self.timeout, trust_env=False,
                        transport=_BoundedTransport(self.settings.llm_timeout, self.sse))
        llm = Ollama(model=self.model, base_url=self.base_url, temperature=0.0,
                     request_timeout=self.settings.llm_timeout, context_window=self.settings.n_ctx,
                     additional_kwargs={"num_predict": max_tokens}, client=client)
        return llm.stream_chat(_chat_messages(messages))
