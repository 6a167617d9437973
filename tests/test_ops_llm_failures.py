"""Failing LLM backends: refused connections, silence, trickling bytes, garbage. Each must end in a clear
GeneratorError within a bounded time (on_llm_error="error") or in an extractive answer with a notice
(on_llm_error="extractive"). The servers are tiny in-process fakes on 127.0.0.1 (threads)."""

from __future__ import annotations

import json
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from helpers import free_port, serving

from assistant import answer
from assistant.errors import GeneratorError

PACT = "When was the Northern Fisheries Pact signed?"
TIMEOUT = 2.0  # llm_timeout for these tests (seconds)
SLACK = 3.0  # retrieval, thread scheduling on 2 busy cores


class _Bad(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers["Content-Length"]))
        mode = self.server.mode  # type: ignore[attr-defined]
        if mode == "silent":  # accepts, then never answers
            time.sleep(30)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        try:
            if mode == "trickle":  # one byte every 0.3 s, never a full line: each read is within the timeout
                for _ in range(200):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(0.3)
            elif mode == "garbage":
                self.wfile.write(b"\x89PNG\r\n\x1a\n\x00\x00garbage bytes \xff\xfe\n")
            elif mode == "html":
                self.wfile.write(b"<html><body>502 Bad Gateway</body></html>\n")
            elif mode == "wrong_json":
                self.wfile.write(b'data: {"unexpected": [1, 2, 3]}\n\n')
            elif mode == "empty":
                pass
            elif mode == "endless":  # valid tokens forever: only the total time bound stops it
                for _ in range(10_000):
                    body = {"choices": [{"delta": {"content": "and so on "}}]}
                    self.wfile.write(f"data: {json.dumps(body)}\n\n".encode())
                    self.wfile.flush()
                    time.sleep(0.01)
        except (BrokenPipeError, ConnectionResetError):
            pass


@pytest.fixture(scope="module")
def bad_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Bad)
    server.daemon_threads = True
    server.mode = "silent"  # type: ignore[attr-defined]
    with serving(server):
        yield server


MODES = ["refused", "silent", "trickle", "garbage", "html", "wrong_json", "empty", "endless"]
MESSAGES = {"refused": "cannot connect", "silent": f"did not answer within {TIMEOUT:g} s",
            "trickle": f"did not answer within {TIMEOUT:g} s", "garbage": "non-JSON", "html": "non-JSON",
            "wrong_json": "unexpected response", "empty": "returned no text",
            "endless": f"did not answer within {TIMEOUT:g} s"}


def _settings(mode: str, server, tiny_index, **kw) -> dict:
    port = free_port() if mode == "refused" else server.server_address[1]
    server.mode = mode
    return dict(llm="openai", llm_model="fake", llm_base_url=f"http://127.0.0.1:{port}/v1", llm_timeout=TIMEOUT,
                index_dir=tiny_index.index_dir, corpus_dir=tiny_index.corpus_dir, **kw)


@pytest.fixture(scope="module")
def warm(tiny_index):
    answer(PACT, llm="none", index_dir=tiny_index.index_dir, corpus_dir=tiny_index.corpus_dir)  # load MiniLM


@pytest.mark.parametrize("mode", MODES)
def test_failing_backend_is_a_clear_error_in_bounded_time(bad_server, tiny_index, warm, mode):
    t0 = time.monotonic()
    with pytest.raises(GeneratorError, match=MESSAGES[mode]) as info:
        answer(PACT, **_settings(mode, bad_server, tiny_index))
    elapsed = time.monotonic() - t0
    assert elapsed < TIMEOUT + SLACK, f"{mode}: {elapsed:.1f} s"
    assert "127.0.0.1" in str(info.value)  # names the server


@pytest.mark.parametrize("mode", MODES)
def test_failing_backend_falls_back_to_an_extractive_answer(bad_server, tiny_index, warm, mode):
    t0 = time.monotonic()
    a = answer(PACT, **_settings(mode, bad_server, tiny_index, on_llm_error="extractive"))
    assert time.monotonic() - t0 < TIMEOUT + SLACK
    assert a.backend == "none" and "generator unavailable" in a.notice and MESSAGES[mode] in a.notice
    assert "3 March 2021" in a.text and a.citations


def test_ollama_backend_is_bounded_too(bad_server, tiny_index, warm):
    bad_server.mode = "trickle"
    t0 = time.monotonic()
    with pytest.raises(GeneratorError, match="did not answer within"):
        answer(PACT, llm="ollama", llm_model="fake", llm_base_url=f"http://127.0.0.1:{bad_server.server_address[1]}",
               llm_timeout=TIMEOUT, index_dir=tiny_index.index_dir, corpus_dir=tiny_index.corpus_dir)
    assert time.monotonic() - t0 < TIMEOUT + SLACK
