"""Building the index: incremental refresh, the single-writer lock, and the atomic CURRENT swap.

Real parts only: the MiniLM embedder and an embedded Chroma store under tmp_path, on the tiny corpus.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import REPO

from assistant import Settings, build_index
from assistant.errors import CorpusError, IndexError_, IndexLockedError
from assistant.store import IndexHandle, current_build, list_builds, open_index, write_lock


def _settings(corpus: Path, index: Path, **kw) -> Settings:
    return Settings.load(corpus_dir=corpus, index_dir=index, **kw)


def _chunk_sources(index_dir: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    for c in open_index(index_dir).chunks():
        counts[c.source] = counts.get(c.source, 0) + 1
    return counts


@pytest.fixture
def built(tiny_corpus: Path, tmp_path: Path) -> Settings:
    """A fresh index of a writable copy of the tiny corpus."""
    settings = _settings(tiny_corpus, tmp_path / "idx")
    summary = build_index(settings)
    assert (summary.documents, summary.embedded_documents, summary.reused_documents) == (3, 3, 0)
    return settings


def test_build_writes_manifest_documents_and_chunks(built):
    build = current_build(built.index_dir)
    assert build is not None and build.name.startswith("build-")
    assert (built.index_dir / "CURRENT").read_text().strip() == build.name
    manifest = json.loads((build / "manifest.json").read_text())
    assert manifest["documents"] == 3
    assert set(manifest["sources"]) == {"fisheries.txt", "harbour.html", "patrols.md"}
    assert manifest["fingerprint"]["chunk_words"] == built.chunk_words
    handle = IndexHandle(build)
    assert set(handle.documents) == set(manifest["sources"])
    chunks = handle.chunks()
    assert len(chunks) == manifest["chunks"] == handle.collection.count()
    for c in chunks:  # provenance: every chunk is a slice of its document's cleaned text
        assert handle.documents[c.source].text[c.start:c.end] == c.text
    assert {c.kind for c in chunks} >= {"text", "table_row", "table_column", "footnote"}


def test_rerun_is_up_to_date(built):
    before = current_build(built.index_dir)
    summary = build_index(built)
    assert summary.up_to_date
    assert summary.embedded_documents == 0 and summary.reused_documents == 3
    assert current_build(built.index_dir) == before
    assert "(up to date)" in summary.line()


def test_changing_one_file_re_embeds_only_that_document(built):
    before = current_build(built.index_dir)
    path = built.corpus_dir / "fisheries.txt"
    path.write_text(path.read_text(encoding="utf-8")
                    + "\nSeal counts\n\nThe seal census of 2023 counted 4,100 grey seals.\n", encoding="utf-8")
    summary = build_index(built)
    assert not summary.up_to_date
    assert summary.embedded_documents == 1
    assert summary.reused_documents == 2
    after = current_build(built.index_dir)
    assert after != before
    assert any("4,100 grey seals" in c.text for c in open_index(built.index_dir).chunks())
    assert len(list_builds(built.index_dir)) <= 2  # the active build and the previous one


def test_deleting_a_file_removes_its_chunks(built):
    assert _chunk_sources(built.index_dir).get("harbour.html")
    (built.corpus_dir / "harbour.html").unlink()
    summary = build_index(built)
    assert summary.removed_documents == 1
    assert summary.documents == 2
    assert summary.reused_documents == 2 and summary.embedded_documents == 0
    sources = _chunk_sources(built.index_dir)
    assert "harbour.html" not in sources
    assert set(sources) == {"fisheries.txt", "patrols.md"}
    assert "harbour.html" not in open_index(built.index_dir).documents


def test_changing_chunk_words_rebuilds_everything(built):
    summary = build_index(built.replace(chunk_words=40))
    assert summary.embedded_documents == 3 and summary.reused_documents == 0
    assert open_index(built.index_dir).manifest["fingerprint"]["chunk_words"] == 40


def test_first_use_rebuilds_an_index_written_with_another_chunking_version(built):
    """An upgrade that changes the records (chunking version) must not answer from the old ones; a changed
    document alone waits for `assistant index`."""
    from assistant.indexer import ensure_index

    build = current_build(built.index_dir)
    ensure_index(built)
    assert current_build(built.index_dir) == build  # up to date: nothing done
    (built.corpus_dir / "fisheries.txt").write_text("Changed text about the pact, signed in 2021.\n")
    ensure_index(built)
    assert current_build(built.index_dir) == build
    manifest = json.loads((build / "manifest.json").read_text())
    manifest["fingerprint"]["chunking_version"] = "0"
    (build / "manifest.json").write_text(json.dumps(manifest))
    ensure_index(built)
    new = current_build(built.index_dir)
    assert new != build and open_index(built.index_dir).manifest["fingerprint"]["chunking_version"] != "0"


def test_rebuild_flag_re_embeds_everything(built):
    summary = build_index(built, rebuild=True)
    assert summary.embedded_documents == 3 and summary.reused_documents == 0 and not summary.up_to_date


def test_empty_or_unreadable_corpus(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CorpusError, match="no documents"):
        build_index(_settings(empty, tmp_path / "i1"))
    (empty / "broken.pdf").write_bytes(b"not a pdf")
    with pytest.raises(CorpusError, match=r"no readable documents .*broken\.pdf"):
        build_index(_settings(empty, tmp_path / "i2"))
    assert current_build(tmp_path / "i2") is None


def test_open_index_without_a_build(tmp_path):
    with pytest.raises(IndexError_, match="no index"):
        open_index(tmp_path / "nothing")


def test_unreadable_manifest_is_an_index_error(built):
    build = current_build(built.index_dir)
    (build / "documents.json").write_text("{not json")
    with pytest.raises(IndexError_, match="unreadable"):
        IndexHandle(build)


# --------------------------------------------------------------------------- the write lock

_HOLD_LOCK = """
import sys, time
from pathlib import Path
from assistant.store import write_lock
with write_lock(Path(sys.argv[1])):
    print("locked", flush=True)
    sys.stdin.readline()
"""


@pytest.fixture
def lock_holder(tmp_path):
    """Another process holding the index write lock until the test ends."""
    index_dir = tmp_path / "locked-index"
    proc = subprocess.Popen([sys.executable, "-c", _HOLD_LOCK, str(index_dir)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, cwd=REPO)
    try:
        assert proc.stdout.readline().strip() == "locked"
        yield index_dir, proc.pid
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)


def test_write_lock_held_by_another_process(lock_holder):
    index_dir, pid = lock_holder
    with pytest.raises(IndexLockedError, match=rf"being written by pid {pid}"):
        with write_lock(index_dir):
            pass


def test_write_lock_waits_then_gives_up(lock_holder):
    index_dir, _ = lock_holder
    t0 = time.monotonic()
    with pytest.raises(IndexLockedError):
        with write_lock(index_dir, wait=0.6):
            pass
    assert time.monotonic() - t0 >= 0.6


def test_build_index_refuses_while_another_process_writes(lock_holder, tiny_corpus):
    index_dir, _ = lock_holder
    with pytest.raises(IndexLockedError):
        build_index(_settings(tiny_corpus, index_dir))
    assert current_build(index_dir) is None


def test_write_lock_is_released_and_reentrant_after_use(tmp_path):
    with write_lock(tmp_path / "i"):
        pass
    with write_lock(tmp_path / "i"):  # the same process can take it again once released
        pass
    assert (tmp_path / "i" / ".lock").read_text() == f"pid {os.getpid()}"


# --------------------------------------------------------------------------- the CURRENT swap


def test_failed_build_leaves_the_previous_build_active(built, monkeypatch):
    from chromadb.api.models.Collection import Collection

    before = current_build(built.index_dir)
    manifest_before = (before / "manifest.json").read_text()
    (built.corpus_dir / "patrols.md").write_text("# Changed\n\nThe patrols now last twelve days.\n")

    def boom(self, *args, **kwargs):
        raise RuntimeError("disk full (simulated)")

    monkeypatch.setattr(Collection, "add", boom)
    with pytest.raises(RuntimeError, match="simulated"):
        build_index(built)
    monkeypatch.undo()
    assert current_build(built.index_dir) == before
    assert (before / "manifest.json").read_text() == manifest_before
    assert not list(built.index_dir.glob("build-*.partial"))
    assert all("twelve days" not in c.text for c in open_index(built.index_dir).chunks())
    # the lock was released: the next build succeeds and swaps in
    summary = build_index(built)
    assert summary.embedded_documents == 1
    assert current_build(built.index_dir) != before


_KILLED_BUILD = """
import sys, time
from pathlib import Path
import assistant.indexer as indexer
from assistant import Settings
from chromadb.api.models.Collection import Collection

class FakeEmbedder:  # skip loading MiniLM: this build never gets as far as using its vectors
    name = "all-MiniLM-L6-v2"
    def embed(self, texts, batch_size=32, progress=None):
        return [[0.1] * 384 for _ in texts]

def hang(self, *args, **kwargs):
    print("adding", flush=True)
    time.sleep(600)

indexer.get_embedder = lambda: FakeEmbedder()
Collection.add = hang
indexer.build_index(Settings.load(corpus_dir=Path(sys.argv[1]), index_dir=Path(sys.argv[2])), rebuild=True)
"""


def test_killed_build_leaves_the_previous_build_active(built):
    before = current_build(built.index_dir)
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_BUILD, str(built.corpus_dir), str(built.index_dir)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=REPO)
    try:
        assert proc.stdout.readline().strip() == "adding"
        os.kill(proc.pid, signal.SIGKILL)  # no cleanup handlers run
    finally:
        proc.wait(timeout=30)
    assert list(built.index_dir.glob("build-*.partial"))  # the half-written build is left behind...
    assert current_build(built.index_dir) == before  # ...but never became visible
    assert open_index(built.index_dir).manifest["documents"] == 3
    summary = build_index(built)  # the dead writer's lock is gone; stale partial builds are swept
    assert summary.up_to_date
    build_index(built, rebuild=True)
    assert not list(built.index_dir.glob("build-*.partial"))


def test_app_start_brings_an_existing_index_up_to_date(built):
    """`make run` on an old index: a changed document is re-embedded before the UI serves answers."""
    from assistant.library import prepare_index

    assert prepare_index(built, progress=False).up_to_date
    path = built.corpus_dir / "patrols.md"
    path.write_text(path.read_text(encoding="utf-8") + "\n\nThe harbour has 12 patrol boats.\n", encoding="utf-8")
    summary = prepare_index(built, progress=False)
    assert summary.embedded_documents == 1 and summary.reused_documents == 2
    assert any("12 patrol boats" in c.text for c in open_index(built.index_dir).chunks())
