"""The UI's non-UI parts: follow-up rewriting, the document library and safe uploads, feedback, per-session
settings, and the UI's launch safety (host, auth; `python app.py` still starts it). Fast: tiny corpus, no LLM,
no server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import REPO

from assistant import Settings, answer
from assistant.conversation import Turn, is_follow_up, rewrite_by_rules, standalone_question
from assistant.errors import ConfigError, CorpusError, GeneratorError, InputError
from assistant.evaluate import feedback_to_gold
from assistant.feedback import record_feedback
from assistant.generate import Generator
from assistant.library import add_document, document_html, get_document, list_documents, passage_html, safe_filename
from assistant.session import check_backend, session_overrides

SPACE_TURN = Turn("Which SDPs cover space security?",
                  "Table 2 marks “Space security and defence” as yes (✓) for Norway, Japan, South Korea [1].")


# --------------------------------------------------------------------------- follow-ups


@pytest.mark.parametrize(("follow_up", "expected"), [
    ("and which of those also cover maritime security?", "Which of Norway, Japan, South Korea also cover maritime "
                                                         "security?"),
    ("and maritime security?", "Which SDPs cover maritime security?"),
    ("what about cyber security?", "Which SDPs cover cyber security?"),
])
def test_follow_up_rewritten_by_rules(follow_up, expected):
    rw = standalone_question(follow_up, [SPACE_TURN], llm="none")
    assert (rw.question, rw.method) == (expected, "rules")


def test_what_about_a_name_swaps_the_name():
    turn = Turn("When did the EU sign its security and defence partnership with Moldova?", "On 21 May 2024 [1].")
    assert rewrite_by_rules("And what about Japan?", [turn]) == \
        "When did the EU sign its security and defence partnership with Japan?"


def test_standalone_questions_are_left_alone():
    assert not is_follow_up("Which SDPs cover space security?", [])
    assert not is_follow_up("When was the Strategic Compass adopted?", [SPACE_TURN])
    assert not is_follow_up("How much did the EU pay Georgia under its SDP in 2031?", [SPACE_TURN])
    assert is_follow_up("When was it signed?", [SPACE_TURN])
    rw = standalone_question("  When was the Strategic Compass adopted? ", [SPACE_TURN], llm="none")
    assert (rw.question, rw.rewritten) == ("When was the Strategic Compass adopted?", False)


def test_unresolvable_reference_keeps_the_context():
    q = rewrite_by_rules("when was it signed?", [SPACE_TURN])
    assert q.startswith("When was it signed") and "space security" in q


class _StubGenerator(Generator):
    """Stands in for the LLM: replies the same text to every prompt and records the prompts."""

    backend, model, lock = "stub", "stub", None

    def __init__(self, reply: str | list[str]) -> None:
        self.replies = [reply] if isinstance(reply, str) else list(reply)
        self.calls = []

    def _stream(self, messages, max_tokens):
        self.calls.append(messages)
        yield self.replies[min(len(self.calls), len(self.replies)) - 1]  # the last reply repeats


@pytest.mark.parametrize(("reply", "method", "expected"), [
    ("Which of Norway, Japan and South Korea also cover maritime security?", "llm",
     "Which of Norway, Japan and South Korea also cover maritime security?"),
    ("Norway and Japan [1].", "rules", "Which of Norway, Japan, South Korea also cover maritime security?"),
    ("Which SDPs cover space security?", "rules", "Which of Norway, Japan, South Korea also cover maritime security?"),
])
def test_llm_rewrite_is_used_only_when_plausible(monkeypatch, reply, method, expected):
    stub = _StubGenerator(reply)
    monkeypatch.setattr("assistant.generate.get_generator", lambda settings: stub)
    rw = standalone_question("and which of those also cover maritime security?", [SPACE_TURN], llm="local")
    assert (rw.question, rw.method) == (expected, method)
    (messages,) = stub.calls
    assert "Norway, Japan, South Korea" in messages[1]["content"] and "[1]" not in messages[1]["content"]


# --------------------------------------------------------------------------- library


@pytest.fixture
def tiny_settings(tiny_corpus, isolated_state) -> Settings:
    return Settings.load(corpus_dir=tiny_corpus, index_dir=isolated_state)


def test_documents_listed_and_rendered_with_tables(tiny_settings):
    docs = {d.source: d for d in list_documents(tiny_settings)}  # builds the index on first use
    assert set(docs) == {"fisheries.txt", "harbour.html", "patrols.md"}
    assert docs["fisheries.txt"].tables == 1 and docs["fisheries.txt"].chunks > 0
    page = document_html(get_document("fisheries.txt", tiny_settings))
    assert "<table>" in page and "<th>Iceland</th>" in page and "<th scope='row'>Joint patrols</th>" in page
    assert page.count("<table>") == 1  # one table, not one per record
    assert "Northern Fisheries Pact was signed on 3 March 2021" in page
    with pytest.raises(InputError):
        get_document("nope.txt", tiny_settings)


def test_passage_marks_the_quote_in_its_context(tiny_index):
    a = answer("When was the Northern Fisheries Pact signed?", llm="none", corpus_dir=tiny_index.corpus_dir,
               index_dir=tiny_index.index_dir)
    c = a.citations[0]
    html = passage_html(c, tiny_index)
    assert f"<mark>{c.quote}</mark>" in html.replace("&#x27;", "'")
    before, after = html.split("<mark>")[0], html.split("</mark>")[1]
    assert before.strip() or after.strip()  # some surrounding text


@pytest.mark.parametrize("name", ["../evil.txt", "a/../../b.md", "/etc/passwd.txt", ".hidden.txt", "..", "",
                                  "x\\y.txt", "notes.rtf", "noext", "bad\x00.txt"])
def test_unsafe_or_unsupported_names_refused(name):
    with pytest.raises(InputError):
        safe_filename(name)


def test_plain_names_kept():
    assert safe_filename("EU brief 2025.pdf") == "EU brief 2025.pdf"


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_upload_indexed_incrementally_and_answerable(tiny_settings, tmp_path):
    list_documents(tiny_settings)  # index the tiny corpus first
    new = tmp_path / "up" / "arctic.md"
    new.parent.mkdir()
    new.write_text("# Arctic research stations\n\nThe Svalbard research station was opened by the "
                   "Arctic Science Council on 12 June 2019. It hosts forty researchers every winter.\n")
    summary = add_document(new, "arctic.md", tiny_settings)
    assert (summary.documents, summary.embedded_documents, summary.reused_documents) == (4, 1, 3)
    assert (tiny_settings.corpus_dir / "arctic.md").exists()
    assert "arctic.md" in {d.source for d in list_documents(tiny_settings)}
    a = answer("When was the Svalbard research station opened?", llm="none", corpus_dir=tiny_settings.corpus_dir,
               index_dir=tiny_settings.index_dir)
    assert not a.abstained and a.citations[0].source == "arctic.md" and "12 June 2019" in a.text


@pytest.mark.parametrize(("name", "content", "error", "message"), [
    ("notes.rtf", b"hello world, some text", InputError, "unsupported type"),
    ("../escape.txt", b"hello world, some text", InputError, "not a path"),
    ("big.txt", b"x" * 30_000, InputError, "over the"),
    ("empty.txt", b"", CorpusError, "empty"),
    ("broken.pdf", b"%PDF-1.4 this is not really a pdf", CorpusError, "not a readable PDF"),
    ("fisheries.txt", b"another file with a taken name", InputError, "already in the corpus"),
])
def test_bad_uploads_get_a_clear_message_and_change_nothing(tiny_settings, tmp_path, name, content, error, message):
    settings = tiny_settings.replace(max_file_mb=0.02)  # 20 kB
    list_documents(settings)
    before_corpus = _snapshot(settings.corpus_dir)
    before_index = (settings.index_dir / "CURRENT").read_text()
    src = tmp_path / "upload.bin"
    src.write_bytes(content)
    with pytest.raises(error, match=message):
        add_document(src, name, settings)
    assert _snapshot(settings.corpus_dir) == before_corpus
    assert (settings.index_dir / "CURRENT").read_text() == before_index
    assert not list(settings.corpus_dir.glob(".*.part"))


def test_upload_with_the_same_content_as_a_document_refused(tiny_settings, tmp_path):
    src = tmp_path / "copy.txt"
    src.write_bytes((tiny_settings.corpus_dir / "fisheries.txt").read_bytes())
    with pytest.raises(InputError, match="same content as fisheries.txt"):
        add_document(src, "copy.txt", tiny_settings)


# --------------------------------------------------------------------------- feedback


def test_feedback_lines_become_gold_drafts(tiny_index, tmp_path):
    a = answer("When was the Northern Fisheries Pact signed?", llm="none", corpus_dir=tiny_index.corpus_dir,
               index_dir=tiny_index.index_dir)
    path = tmp_path / "fb.jsonl"
    record_feedback(a, "up", path=path)
    record_feedback(a.to_dict(), "down", asked="and when was it signed?", path=path)
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    assert [x["rating"] for x in lines] == ["up", "down"]
    assert lines[1]["asked"] == "and when was it signed?" and lines[1]["question"] == a.question
    assert lines[0]["citations"][0]["quote"] == a.citations[0].quote
    drafts = feedback_to_gold(path)
    assert drafts[0]["question"] == a.question and drafts[0]["answer"] == a.text
    assert drafts[0]["source"] == "fisheries.txt" and drafts[1]["answer"] == ""
    with pytest.raises(InputError):
        record_feedback(a, "meh", path=path)


# --------------------------------------------------------------------------- settings


def test_session_settings_validated():
    assert session_overrides("none", top_k=3) == {"llm": "none", "top_k": 3}
    with pytest.raises(ConfigError, match="between 1 and 10"):
        session_overrides("none", top_k=50)
    with pytest.raises(ConfigError, match="needs a server address"):
        session_overrides("openai", "", "m")
    with pytest.raises(ConfigError, match="must start with http"):
        session_overrides("openai", "localhost:8000/v1", "m")
    with pytest.raises(ConfigError, match="unknown LLM backend"):
        session_overrides("gpt5")


def test_wrong_server_address_gives_one_clear_line():
    ov = session_overrides("openai", "http://127.0.0.1:9/v1", "some-model")  # port 9: nothing listens
    with pytest.raises(GeneratorError) as e:
        check_backend(**ov)
    assert str(e.value) == "cannot connect to the openai server at http://127.0.0.1:9/v1"


def test_settings_tab_reports_errors_without_traceback():
    app = _import_app()
    ov, status = app.apply_settings("openai", "http://127.0.0.1:9/v1", "m", "", 4, {"llm": "none"})
    assert ov == {"llm": "none"} and "cannot connect" in status and "Traceback" not in status
    ov, status = app.apply_settings("none", "", "", "", 3, {})
    assert ov == {"llm": "none", "top_k": 3} and status.startswith("**Applied.**")


# --------------------------------------------------------------------------- the UI's launch safety


def _import_app():
    from assistant import ui

    return ui


def test_binds_loopback_by_default():
    app = _import_app()
    assert app.launch_options({}) == {"server_name": "127.0.0.1", "server_port": 7860, "auth": None}
    assert app.launch_options({"GRADIO_SERVER_PORT": "7999"})["server_port"] == 7999


def test_other_address_requires_credentials():
    app = _import_app()
    with pytest.raises(SystemExit, match="ASSISTANT_AUTH_USER and ASSISTANT_AUTH_PASSWORD"):
        app.launch_options({"ASSISTANT_HOST": "0.0.0.0"})
    with pytest.raises(SystemExit):
        app.launch_options({"GRADIO_SERVER_NAME": "192.168.1.5", "ASSISTANT_AUTH_USER": "ana"})
    opts = app.launch_options({"ASSISTANT_HOST": "0.0.0.0", "ASSISTANT_AUTH_USER": "ana",
                               "ASSISTANT_AUTH_PASSWORD": "s3cret"})
    assert opts["server_name"] == "0.0.0.0" and opts["auth"] == ("ana", "s3cret")


def test_app_refuses_to_start_exposed_without_credentials():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_AUTH", "GRADIO_SERVER"))}
    env["ASSISTANT_HOST"] = "0.0.0.0"
    r = subprocess.run([sys.executable, str(REPO / "app.py")], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and r.stderr.startswith("error: binding to 0.0.0.0")


def test_thumbs_in_the_chat_append_to_the_feedback_file(tiny_index, tmp_path, monkeypatch):
    import gradio as gr

    app = _import_app()
    fb = tmp_path / "feedback.jsonl"
    monkeypatch.setenv("ASSISTANT_FEEDBACK_FILE", str(fb))
    a = answer("When was the Northern Fisheries Pact signed?", llm="none", corpus_dir=tiny_index.corpus_dir,
               index_dir=tiny_index.index_dir)
    turns = [{"asked": "and when was it signed?", "answer": a.to_dict()}]
    note = app.on_feedback(turns, gr.LikeData(None, {"index": 1, "value": "...", "liked": False}))
    assert "Q1" in note and "feedback.jsonl" in note
    (line,) = [json.loads(x) for x in fb.read_text().splitlines()]
    assert (line["rating"], line["asked"], line["question"]) == ("down", "and when was it signed?", a.question)
    assert app.on_feedback(turns, gr.LikeData(None, {"index": 7, "value": "", "liked": True})) == ""


@pytest.mark.parametrize(("question", "reply", "abstains"), [
    ("When was the Northern Fisheries Pact signed?",
     "The Northern Fisheries Pact was signed by Iceland, Norway and the Faroe Islands [1].", True),
    ("When was the Northern Fisheries Pact signed?", "The Northern Fisheries Pact was signed on 3 March 2021 [1].",
     False),
    ("How many parties signed the Northern Fisheries Pact?",
     "The pact was signed by Iceland, Norway and the Faroe Islands [1].", True),
])
def test_an_answer_without_the_number_or_date_asked_for_abstains(tiny_index, monkeypatch, question, reply,
                                                                  abstains):
    """A supported sentence that gives no date to a 'when' question (or no count to 'how many') does not
    answer it."""
    import importlib

    monkeypatch.setattr(importlib.import_module("assistant.answer"), "get_generator",
                        lambda settings: _StubGenerator(reply))
    a = answer(question, corpus_dir=tiny_index.corpus_dir, index_dir=tiny_index.index_dir)
    assert a.abstained is abstains, (a.text, a.abstain_reason)
    if abstains:
        assert "number or date" in a.abstain_reason


def test_every_upload_type_is_one_ingestion_reads():
    from assistant.ingest import SUPPORTED
    from assistant.library import UPLOAD_TYPES

    assert set(UPLOAD_TYPES) <= set(SUPPORTED)


def test_question_parts():
    from assistant.answer import question_parts

    assert question_parts("Who negotiates SDPs on the EU side, and who authorises the negotiations?") == [
        "Who negotiates SDPs on the EU side?", "who authorises the negotiations?"]
    assert question_parts("How many digital partnerships does the EU have, and with which countries?")[1] == \
        "with which countries?"
    assert question_parts("When and where will the forum be held?") == ["When and where will the forum be held?"]
    assert question_parts("Which SDPs cover space security?") == ["Which SDPs cover space security?"]


