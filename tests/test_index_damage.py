"""A damaged index store: answers come from the previous build (and say so) or stop with one line naming the
fix; `assistant index` then rebuilds without anyone deleting anything. Real MiniLM and Chroma, tiny corpus."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from assistant import Settings, answer, build_index
from assistant.cli import main
from assistant.errors import IndexError_
from assistant.store import current_build, damage, list_builds

PACT = "When was the Northern Fisheries Pact signed?"


def _wreck(build: Path) -> None:
    """What the issue did: the first 4 KB of the store's SQLite file overwritten with random bytes."""
    db = build / "chroma" / "chroma.sqlite3"
    with db.open("r+b") as f:
        f.write(random.Random(14).randbytes(4096))


@pytest.fixture
def two_builds(tiny_corpus, isolated_state) -> Settings:
    """An index with a current and a previous build (one document changed in between)."""
    settings = Settings.load(corpus_dir=tiny_corpus, index_dir=isolated_state, llm="none")
    build_index(settings)
    with (tiny_corpus / "patrols.md").open("a") as f:
        f.write("\nThe patrol log is reviewed every quarter.\n")
    build_index(settings)
    assert len(list_builds(isolated_state)) == 2
    return settings


def _ask(settings: Settings, question: str = PACT):
    return answer(question, corpus_dir=settings.corpus_dir, index_dir=settings.index_dir, llm="none")


def test_a_damaged_current_build_answers_from_the_previous_one_and_says_so(two_builds):
    current = current_build(two_builds)
    _wreck(current)
    assert damage(current) == "chroma.sqlite3: file is not a database"
    a = _ask(two_builds)
    assert "3 March 2021" in a.text and not a.abstained
    assert "The current index is damaged" in a.notice and "previous build" in a.notice
    assert "assistant index" in a.notice


def test_no_sound_build_stops_with_one_line_naming_the_fix(two_builds, monkeypatch, capsys):
    for b in list_builds(two_builds.index_dir):
        _wreck(b)
    with pytest.raises(IndexError_, match=r"damaged \(chroma.sqlite3: file is not a database\); run `assistant "
                                          r"index --rebuild`"):
        _ask(two_builds)
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(two_builds.corpus_dir))
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(two_builds.index_dir))
    assert main(["ask", PACT, "--llm", "none"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: the index at ") and "--rebuild" in err
    assert "Traceback" not in err and "InternalError" not in err


def test_index_rebuilds_a_damaged_store_without_manual_deletion(two_builds):
    damaged = current_build(two_builds)
    _wreck(damaged)
    summary = build_index(two_builds)  # nothing changed in the corpus, yet not "up to date"
    assert not summary.up_to_date and summary.embedded_documents == 3
    assert "the previous index was damaged (chroma.sqlite3: file is not a database) and was rebuilt" in summary.line()
    assert current_build(two_builds) != damaged and not damaged.exists()
    a = _ask(two_builds)
    assert "3 March 2021" in a.text and a.notice == ""
    assert build_index(two_builds).up_to_date  # and the next run has nothing to do


def test_cli_index_after_damage(two_builds, monkeypatch, capsys):
    for b in list_builds(two_builds.index_dir):
        _wreck(b)
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(two_builds.corpus_dir))
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(two_builds.index_dir))
    monkeypatch.setenv("TQDM_DISABLE", "1")
    assert main(["index"]) == 0
    out = capsys.readouterr().out
    assert "was rebuilt" in out
    assert main(["ask", PACT, "--llm", "none"]) == 0
    assert "3 March 2021" in capsys.readouterr().out
    assert len([p for p in os.listdir(two_builds.index_dir) if p.startswith("build-")]) <= 2
