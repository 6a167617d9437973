"""The UI's chat turn without a browser: what an abstention and a stand-in answer look like, the steps shown
while an answer is prepared (with their seconds), and the warm-up at launch. Fast: tiny corpus, a stub LLM
that takes its time, `respond` driven as Gradio drives it (a generator of updates)."""

from __future__ import annotations

import importlib
import re
import threading
import time
from pathlib import Path

import pytest
from helpers import REPO

from assistant import ui
from assistant.generate import Generator
from assistant.types import Answer, Citation


class _SlowStub(Generator):
    """An LLM that thinks `delay` seconds before its first piece (a prompt being read), then streams."""

    backend, model, lock = "stub", "slow-stub", None

    def __init__(self, reply: str, delay: float = 0.0) -> None:
        self.reply, self.delay = reply, delay
        self.warmed = threading.Event()

    def warm_up(self) -> None:
        time.sleep(self.delay)
        self.warmed.set()

    def _stream(self, messages, max_tokens):
        time.sleep(self.delay)
        yield from re.findall(r"\S+\s*", self.reply)


@pytest.fixture
def tiny_env(tiny_index, monkeypatch):
    """The UI's default settings point at the tiny index (passage_html and list_documents read them)."""
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(tiny_index.index_dir))
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(tiny_index.corpus_dir))
    monkeypatch.setattr(ui, "_warm", None)
    monkeypatch.setattr(ui, "TICK", 0.2)
    return tiny_index


def _stub(monkeypatch, reply: str, delay: float = 0.0) -> _SlowStub:
    stub = _SlowStub(reply, delay)
    monkeypatch.setattr(importlib.import_module("assistant.answer"), "get_generator", lambda settings: stub)
    monkeypatch.setattr(ui, "get_generator", lambda settings: stub)
    return stub


def _turn(question: str, overrides: dict | None = None) -> tuple[list[str], tuple]:
    """Every chat message `respond` showed while it worked, and its last update."""
    shown, last = [], None
    for update in ui.respond(question, [], [], overrides or {}):
        last = update
        history = update[0]
        if history and history[-1]["role"] == "assistant":
            shown.append(history[-1]["content"])
    return shown, last


# --------------------------------------------------------------------------- what is shown at the end


ABSTAINED = Answer("How much did the EU pay Georgia in 2031?",
                   "**The documents don't say.** None of the indexed documents answers this question. The closest "
                   "passages are about: Georgia (The EU's new bilateral security and defence partnerships)."
                   "\n\nWhat they do say: The EU and Georgia signed an SDP [1].",
                   [Citation(1, "004.txt", "The EU's partnerships", "Table 1", "The EU and Georgia")], True,
                   "local", "m", 3.0, "", "the sources cited cover only 40% of the question")


def test_an_abstention_shows_what_the_documents_cover_and_no_answer():
    a = ABSTAINED.to_dict()
    a["closest"] = [{"title": "The EU's partnerships", "locator": "Table 1"}]
    page = ui._answer_html(a, 1, None)
    assert "The documents don't say." in page and "closest passages are about" in page
    assert "What they do say" not in page and "signed an SDP" not in page and "cite" not in page
    sources = ui._sources_block(a, ABSTAINED.citations, 1)
    assert "Closest passages" in sources and "src-1-1" not in sources and "The EU and Georgia" not in sources
    md = ui.answer_markdown(ABSTAINED)
    assert "What they do say" not in md and "**Sources**" not in md and md.startswith("**The documents don't say.**")


def test_a_stand_in_answer_is_an_answer_with_its_notice():
    a = Answer("Which SDPs cover space security?", "Table 2 marks it yes for Norway [1].",
               [Citation(1, "004.txt", "T", "Table 2, row 16", "yes (✓) for Norway")], False, "local", "m", 2.0,
               "The generated answer was not supported by the documents; showing the passage that answers the "
               "question instead.").to_dict()
    page = ui._answer_html(a, 2, 1.5)
    assert '<a class="cite" href="#src-2-1">[1]</a>' in page and "abstain" not in page
    assert "<div class='notice'><b>Note:</b> The generated answer was not supported" in page
    assert "first token 1.5 s" in page


def test_the_ui_uses_no_character_the_usual_fonts_lack():
    """U+24D8 (the notice's old icon) is in no font Debian's chromium brings, so it showed as a box; the UI
    keeps to characters DejaVu and Liberation both have."""
    allowed = set("—…“”‘’·▌")
    used = {ch for ch in (Path(ui.__file__)).read_text() if ord(ch) > 127}
    assert used <= allowed, sorted(used - allowed)


# --------------------------------------------------------------------------- while it works


def test_steps_and_seconds_are_shown_until_the_answer(tiny_env, monkeypatch):
    _stub(monkeypatch, "The Northern Fisheries Pact was signed on 3 March 2021 [1].", delay=1.0)
    shown, last = _turn("When was the Northern Fisheries Pact signed?", {"llm": "local"})
    progress = [s for s in shown if "class='progress'" in s]
    # the answering path's own steps: 'searching the documents', then 'reading N passages and writing the answer'
    reading = [s for s in progress if re.search(r"reading \d passages and writing the answer…", s)]
    assert len(reading) >= 3, progress  # the clock ticks while the model reads its prompt (1 s, ticks of 0.2 s)
    assert any("writing the answer…" in s and "▌" in s for s in progress)
    assert any(re.search(r"reading \d passages and writing the answer \d+\.\d s", s) for s in progress)  # done, timed
    final = last[0][-1]["content"]
    assert "class='progress'" not in final and "3 March 2021" in final and "answered by stub · slow-stub" in final
    assert re.search(r"first token 1\.\d s", final)


def test_a_status_event_becomes_the_step_and_the_draft_restarts(tiny_env, monkeypatch):
    def fake_stream(question, **overrides):
        from assistant.answer import StreamEvent

        yield StreamEvent("token", "A first draft ")
        yield StreamEvent("status", "checking citations: asking the model to revise its answer")
        time.sleep(0.5)
        yield StreamEvent("token", "The revised answer")
        yield StreamEvent("answer", answer=Answer(question, "The revised answer [1].", [], False, "stub", "s", 1.0))

    monkeypatch.setattr(ui, "stream_answer", fake_stream)
    shown, _ = _turn("When was the Northern Fisheries Pact signed?", {"llm": "none"})
    revising = [s for s in shown if "checking citations: asking the model to revise its answer…" in s]
    assert revising and all("A first draft" in s for s in revising)  # the draft stays until the new one starts
    again = [s for s in shown if "writing again…" in s]
    assert again and all("A first draft" not in s and "The revised answer" in s for s in again)


def test_an_error_is_one_message_without_progress(tiny_env, monkeypatch):
    from assistant.errors import GeneratorError

    def failing(question, **overrides):
        raise GeneratorError("cannot connect to the openai server at http://127.0.0.1:9")
        yield  # pragma: no cover

    monkeypatch.setattr(ui, "stream_answer", failing)
    _, last = _turn("When was the Northern Fisheries Pact signed?", {"llm": "none"})
    msg = last[0][-1]["content"]
    assert msg == "<div class='error-msg'><b>Error:</b> cannot connect to the openai server at http://127.0.0.1:9</div>"


def test_the_model_is_warmed_up_at_launch_and_a_question_waits_for_it(tiny_env, monkeypatch):
    stub = _stub(monkeypatch, "The Northern Fisheries Pact was signed on 3 March 2021 [1].", delay=1.0)
    warm = ui.warm_up(tiny_env.replace(llm="local"))
    assert ui._warm is warm and ui.warm_up() is warm  # once per process
    assert "Getting ready:" in warm.status_html()
    shown, last = _turn("When was the Northern Fisheries Pact signed?", {"llm": "local"})
    assert stub.warmed.is_set() and warm.done.is_set() and not warm.error
    assert any("getting ready: loading the model (stub · slow-stub)…" in s for s in shown), shown[:3]
    assert "3 March 2021" in last[0][-1]["content"]
    assert warm.status_html().startswith("<span class='ready'>Ready</span>: stub · slow-stub (loaded in ")


def test_a_failed_warm_up_says_what_to_run(tiny_env, monkeypatch):
    from assistant.errors import ModelError

    class Broken(_SlowStub):
        def warm_up(self) -> None:
            raise ModelError("the local model qwen2.5-coder-1.5b is not installed")

    monkeypatch.setattr(ui, "get_generator", lambda settings: Broken(""))
    warm = ui.warm_up(tiny_env.replace(llm="local"))
    assert warm.done.wait(60)
    assert "Not ready: the local model qwen2.5-coder-1.5b is not installed" in warm.status_html()
    assert "assistant doctor" in warm.status_html()


def test_app_py_is_a_thin_launcher():
    text = (REPO / "app.py").read_text()
    assert "from assistant.ui import main" in text and len(text.splitlines()) < 15


def test_the_theme_leaves_out_gradios_broken_semibold():
    """Gradio 6.31's SourceSansPro-SemiBold.woff2 holds only "A" and "B": bold text mixed two fonts."""
    css = "".join(f.stylesheet()["css"] or "" for f in ui._theme()._font if hasattr(f, "stylesheet"))
    assert "SemiBold" not in css and "SourceSansPro-Bold.woff2" in css and "SourceSansPro-Regular.woff2" in css


def test_status_events_before_the_first_token_are_steps_not_restarts(tiny_env, monkeypatch):
    """Status events the answering path may add ('reading 4 passages') are shown as steps; only a status after
    tokens makes the next tokens a new draft."""
    def fake_stream(question, **overrides):
        from assistant.answer import StreamEvent

        yield StreamEvent("status", "reading 4 passages")
        time.sleep(0.3)
        yield StreamEvent("token", "The pact was signed ")
        yield StreamEvent("token", "on 3 March 2021 [1].")
        yield StreamEvent("answer", answer=Answer(question, "The pact was signed on 3 March 2021 [1].", [], False,
                                                  "stub", "s", 1.0))

    monkeypatch.setattr(ui, "stream_answer", fake_stream)
    shown, _ = _turn("When was the Northern Fisheries Pact signed?", {"llm": "none"})
    assert any("reading 4 passages…" in s for s in shown)
    writing = [s for s in shown if "writing the answer…" in s]
    assert writing and "The pact was signed on 3 March 2021 [1]." in writing[-1]
    assert not any("writing again" in s for s in shown)
    assert "reading 4 passages 0." in writing[-1]  # the step before, with its seconds
