"""answer(): the extractive backend, remote backends against a fake server, and the real local model.

Fast tests use the tiny corpus index and a fake OpenAI-compatible / Ollama server on 127.0.0.1.
Tests marked slow+llm load the real default GGUF (~15 s per question on 2 idle cores; more when busy).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from helpers import AGREEMENTS_MD, ASSISTANT_BIN, CORPUS, DOC_004, REPO, can_unshare, serving

from assistant import Answer, Settings, answer, stream_answer
from assistant.errors import ConfigError, GeneratorError, InputError
from assistant.generate import get_generator
from assistant.store import open_index

SPACE = "Which SDPs cover space security?"
JAPAN = "When did the EU and Japan sign their security and defence partnership?"
UNANSWERABLE = "How much did the EU pay Georgia under its SDP in 2031?"
PACT = "When was the Northern Fisheries Pact signed?"
PACT_REPLY = ["The Northern ", "Fisheries Pact was signed ", "on 3 March 2021 [1]."]


# --------------------------------------------------------------------------- a fake LLM server


class _FakeLLM(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.mode = "ok"  # ok | garbage | http500
        self.reply: list[str] | Callable[[dict], list[str]] = PACT_REPLY  # or a reply per request
        self.requests: list[tuple[str, dict]] = []

    @property
    def port(self) -> int:
        return self.server_address[1]


class _Handler(BaseHTTPRequestHandler):
    server: _FakeLLM

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append((self.path, body))
        if self.server.mode == "http500":
            self.send_response(500)
            self.end_headers()
            self.wfile.write(b"internal error (fake)")
            return
        if self.server.mode == "garbage":
            lines = [b"<html>this is not a streamed completion</html>\n"]
        elif self.path in ("/v1/chat/completions", "/api/chat"):
            reply = self.server.reply(body) if callable(self.server.reply) else self.server.reply
            if self.path == "/v1/chat/completions":
                lines = [f"data: {json.dumps({'choices': [{'index': 0, 'delta': {'content': p}}]})}\n\n".encode()
                         for p in reply] + [b"data: [DONE]\n\n"]
            else:
                lines = [(json.dumps({"message": {"role": "assistant", "content": p}, "done": False}) + "\n"
                          ).encode() for p in reply] + [  # Ollama's last line: an empty message, done
                    b'{"message": {"role": "assistant", "content": ""}, "done": true, "done_reason": "stop"}\n']
        else:
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for line in lines:  # HTTP/1.0: the body ends when the connection closes
            self.wfile.write(line)
            self.wfile.flush()


@pytest.fixture(scope="module")
def fake_llm():
    with serving(_FakeLLM()) as server:
        yield server


@pytest.fixture
def llm(fake_llm):
    fake_llm.mode, fake_llm.reply = "ok", PACT_REPLY
    fake_llm.requests.clear()
    return fake_llm


def _remote(server: _FakeLLM, backend: str, tiny_index: Settings, **kw) -> dict:
    base = f"http://127.0.0.1:{server.port}" + ("/v1" if backend == "openai" else "")
    return dict(llm=backend, llm_base_url=base, llm_model="fake", llm_timeout=30, index_dir=tiny_index.index_dir,
                corpus_dir=tiny_index.corpus_dir, **kw)


def _check_quotes(a: Answer, index_dir) -> None:
    docs = open_index(index_dir).documents
    for c in a.citations:
        assert c.quote and c.quote in docs[c.source].text
        assert docs[c.source].text[c.start:c.end] == c.quote
        assert f"[{c.n}]" in a.text


# --------------------------------------------------------------------------- remote backends (fast)


@pytest.mark.parametrize("backend", ["openai", "ollama"])
def test_remote_backend_contract(llm, tiny_index, backend):
    a = answer(PACT, **_remote(llm, backend, tiny_index))
    assert not a.abstained
    assert (a.backend, a.model) == (backend, "fake")
    assert a.text == "The Northern Fisheries Pact was signed on 3 March 2021 [1]."
    (cit,) = a.citations
    assert cit.source == "fisheries.txt"
    assert "signed on 3 March 2021" in cit.quote
    _check_quotes(a, tiny_index.index_dir)
    [(path, body)] = llm.requests
    assert path == ("/v1/chat/completions" if backend == "openai" else "/api/chat")
    assert body["model"] == "fake" and body["stream"] is True
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert "I cannot answer this from the documents." in body["messages"][0]["content"]
    assert PACT in body["messages"][1]["content"]
    assert "[1]" in body["messages"][1]["content"]  # numbered sources


def test_stream_answer_yields_tokens_then_the_checked_answer(llm, tiny_index):
    events = list(stream_answer(PACT, **_remote(llm, "openai", tiny_index)))
    tokens = [e for e in events if e.kind == "token"]
    assert len(tokens) == len(PACT_REPLY) and "".join(e.text for e in tokens) == "".join(PACT_REPLY)
    # each step says what it is doing: searching, reading the passages, writing, then checking citations
    steps = [e.text for e in events if e.kind == "status"]
    assert steps[0] == "searching the documents" and steps[1].startswith("reading ") and \
        steps[-1] == "checking citations"
    assert [e.kind for e in events].index("token") > 1 and events[-2].kind == "status"
    assert events[-1].kind == "answer" and events[-1].answer.citations


def test_unsupported_generated_answer_is_never_shown(llm, tiny_index):
    # The made-up sentence is dropped; the answer either abstains or, as here where the documents do
    # answer, shows the verbatim passage with a notice saying the generated answer was not supported.
    llm.reply = ["The pact was signed by Greenland and Canada in 1999 [1]."]
    a = answer(PACT, **_remote(llm, "openai", tiny_index))
    assert "Greenland" not in a.text and "1999" not in a.text
    assert a.abstained or ("not supported" in a.notice and a.citations)
    _check_quotes(a, tiny_index.index_dir)


def test_unsupported_answer_to_an_unanswerable_question_abstains(llm, tiny_index):
    llm.reply = ["The pact's budget is 40 million euros [1]."]
    a = answer("What is the annual budget of the pact's joint patrols?", **_remote(llm, "openai", tiny_index))
    assert a.abstained and "40 million" not in a.text


def _source_number(body: dict, label: str) -> int:
    """The number the prompt gives the first source whose line holds `label`."""
    return int(re.search(rf"^\[(\d+)\][^\n]*{label}", body["messages"][-1]["content"], re.M).group(1))


def test_rows_whose_asked_column_is_empty_answer_without_the_model(llm, tmp_path):
    """'Which ... signed but not yet in force?' over a date table: every row with an empty 'In force since'
    and a filled 'Signed', quoted whole, and no request to the model; a question without the negation
    goes to the model as usual."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "agreements.md").write_text(AGREEMENTS_MD, encoding="utf-8")
    settings = Settings.load(index_dir=tmp_path / "index", corpus_dir=corpus)
    a = answer("Which partners have signed a harbour access agreement that has not yet entered into force?",
               **_remote(llm, "openai", settings))
    assert not a.abstained and (a.backend, a.model) == ("table", "lookup") and not llm.requests
    assert "Faroe Islands" in a.text and "Greenland" in a.text
    assert "Iceland" not in a.text and "Norway" not in a.text
    assert [c.locator for c in a.citations] == ["Table 1, row: Faroe Islands", "Table 1, row: Greenland"]
    _check_quotes(a, settings.index_dir)
    answer("Which partners have harbour access agreements in force?", **_remote(llm, "openai", settings))
    assert len(llm.requests) == 1


@pytest.mark.parametrize(("question", "rows"), [
    ("Which partners signed a harbour access agreement in 2005?", ["Iceland"]),  # not Norway: 2004
    ("Which partners have had their harbour access agreement in force since 2005?", ["Iceland", "Norway"]),
    ("Which partners signed a JPA in 2005?", []),  # a table of HAAs does not answer for JPAs
])
def test_rows_whose_named_column_falls_in_the_asked_year_answer_without_the_model(llm, tmp_path, question, rows):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "agreements.md").write_text(AGREEMENTS_MD, encoding="utf-8")
    settings = Settings.load(index_dir=tmp_path / "index", corpus_dir=corpus)
    a = answer(question, **_remote(llm, "openai", settings))
    if rows:
        assert a.backend == "table" and not llm.requests
        assert [c.locator for c in a.citations] == [f"Table 1, row: {r}" for r in rows]
        _check_quotes(a, settings.index_dir)
    else:
        assert a.backend == "openai" and len(llm.requests) >= 1


def test_garbage_from_the_server_is_a_generator_error(llm, tiny_index):
    llm.mode = "garbage"
    with pytest.raises(GeneratorError, match="non-JSON"):
        answer(PACT, **_remote(llm, "openai", tiny_index))


def test_http_error_from_the_server_is_a_generator_error(llm, tiny_index):
    llm.mode = "http500"
    with pytest.raises(GeneratorError, match="HTTP 500"):
        answer(PACT, **_remote(llm, "openai", tiny_index))


def test_garbage_with_extractive_fallback_answers_with_a_notice(llm, tiny_index):
    llm.mode = "garbage"
    a = answer(PACT, **_remote(llm, "openai", tiny_index, on_llm_error="extractive"))
    assert a.backend == "none"
    assert "generator unavailable" in a.notice and "extractive" in a.notice
    assert a.text
    _check_quotes(a, tiny_index.index_dir)


def test_remote_backend_configuration_errors():
    with pytest.raises(ConfigError, match="ASSISTANT_LLM_MODEL"):
        get_generator(Settings.load(llm="openai", llm_base_url="http://127.0.0.1:9"))
    with pytest.raises(ConfigError, match="ASSISTANT_LLM_BASE_URL"):
        get_generator(Settings.load(llm="openai", llm_model="x"))
    with pytest.raises(ConfigError, match="must start with http"):
        Settings.load(llm="openai", llm_base_url="ftp://example.org")
    assert get_generator(Settings.load(llm="none")) is None


# --------------------------------------------------------------------------- extractive backend (fast)


def test_extractive_answer_over_the_real_corpus(corpus_index):
    a = answer(SPACE, llm="none", index_dir=corpus_index.index_dir, corpus_dir=corpus_index.corpus_dir)
    assert not a.abstained and a.backend == "none"
    assert any(c.locator == "Table 2, row 16: Space security and defence" for c in a.citations)
    _check_quotes(a, corpus_index.index_dir)
    assert a.to_dict().keys() >= {"question", "text", "citations", "abstained"} and "hits" not in a.to_dict()
    assert "**Sources**" in a.to_markdown()


def test_extractive_unanswerable_question_abstains(corpus_index):
    a = answer(UNANSWERABLE, llm="none", index_dir=corpus_index.index_dir, corpus_dir=corpus_index.corpus_dir)
    assert a.abstained
    assert a.citations == []
    assert "2031" not in a.text.replace(UNANSWERABLE, "")


def test_bad_questions_and_settings_are_rejected_before_any_work():
    with pytest.raises(InputError, match="empty"):
        answer(" \n\t ")
    with pytest.raises(InputError, match="limit is 2,000"):
        answer("x" * 2001)
    with pytest.raises(InputError, match="must be a string"):
        answer(None)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="unknown setting"):
        answer(SPACE, top_kk=3)
    with pytest.raises(ConfigError, match="top_k must be >= 1"):
        answer(SPACE, top_k=0)


# --------------------------------------------------------------------------- the real local model (slow)

def _local(question: str, corpus_index: Settings) -> Answer:
    t0 = time.perf_counter()
    a = answer(question, index_dir=corpus_index.index_dir, corpus_dir=corpus_index.corpus_dir)
    print(f"\nlocal answer in {time.perf_counter() - t0:.1f} s to {question!r}: {a.text}")
    return a


@pytest.fixture(scope="module")
def space_answer(corpus_index) -> Answer:
    return _local(SPACE, corpus_index)


@pytest.fixture(scope="module")
def japan_answer(corpus_index) -> Answer:
    return _local(JAPAN, corpus_index)


@pytest.mark.slow
@pytest.mark.llm
def test_local_model_names_exactly_the_space_partners(space_answer):
    a = space_answer
    assert a.backend == "local" and not a.abstained, a.text
    assert "Norway" in a.text and "Japan" in a.text
    assert "South Korea" in a.text or "Republic of Korea" in a.text
    for wrong in ("Moldova", "Albania", "North Macedonia"):
        assert wrong not in a.text, a.text
    assert any("Space security and defence" in c.quote for c in a.citations)


@pytest.mark.slow
@pytest.mark.llm
def test_local_model_answers_the_japan_date(japan_answer):
    a = japan_answer
    assert a.backend == "local" and not a.abstained, a.text
    assert "1 November 2024" in a.text
    assert any(c.source == DOC_004 and "1 November 2024" in c.quote for c in a.citations)


@pytest.mark.slow
@pytest.mark.llm
def test_local_model_quotes_are_verbatim(space_answer, japan_answer, corpus_index):
    assert japan_answer.citations
    for a in (space_answer, japan_answer):
        _check_quotes(a, corpus_index.index_dir)


@pytest.mark.slow
@pytest.mark.llm
def test_local_model_abstains_on_an_unanswerable_question(corpus_index):
    a = _local(UNANSWERABLE, corpus_index)
    assert a.abstained, a.text
    assert a.citations == [] or all("2031" not in c.quote for c in a.citations)



@pytest.mark.slow
@pytest.mark.llm
@pytest.mark.skipif(not can_unshare(), reason="`unshare -n` (a network namespace) is not available here")
@pytest.mark.parametrize(("question", "expected"), [
    # the answer names the three partners and its source quotes the Table 2 row
    pytest.param(SPACE, [r"Norway", r"Japan", r"South Korea|Republic of Korea", r"Space security and defence"],
                 id="space"),
    pytest.param(JAPAN, [r"1 November 2024"], id="japan"),
])
def test_answers_with_no_network_at_all(corpus_index, question, expected):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_") or k == "ASSISTANT_MODEL_CACHE"}
    env.update(ASSISTANT_INDEX_DIR=str(corpus_index.index_dir), ASSISTANT_CORPUS_DIR=str(CORPUS))
    r = subprocess.run(["unshare", "-n", str(ASSISTANT_BIN), "ask", question], env=env, capture_output=True,
                       text=True, timeout=900, cwd=REPO)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "(local qwen2.5-coder-1.5b," in r.stdout  # the local model answered, with no network at all
    for pattern in expected:
        assert re.search(pattern, r.stdout), r.stdout
