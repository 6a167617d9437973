"""One writer, never a corrupt index: real `assistant index` processes started together, killed with SIGKILL
while embedding and while writing, and readers answering from the previous build meanwhile."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
from helpers import ASSISTANT_BIN, CORPUS, DOC_003, REPO

from assistant import answer, build_index
from assistant.store import current_build, list_builds, open_index

SPACE = "Which SDPs cover space security?"


def _env(corpus: Path, index: Path, **kw: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_") or k == "ASSISTANT_MODEL_CACHE"}
    env.update(ASSISTANT_CORPUS_DIR=str(corpus), ASSISTANT_INDEX_DIR=str(index), ASSISTANT_LLM="none", **kw)
    return env


@pytest.mark.slow
def test_two_index_runs_started_together(tiny_corpus, tmp_path):
    """Two rebuilds at once: one works, the other is refused with a clear message; a third that
    passes --wait waits its turn. The index is valid at the end."""
    index = tmp_path / "index"
    env = _env(tiny_corpus, index)
    cmd = [str(ASSISTANT_BIN), "index", "--rebuild"]
    a = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
    b = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
    # the waiting run starts once a or b holds the lock (started with them, it could take the lock first
    # and both of them would be refused, which is correct but not the case under test)
    deadline = time.monotonic() + 120
    lock = index / ".lock"
    while time.monotonic() < deadline and not (lock.exists() and lock.read_text().startswith("pid")):
        if a.poll() is not None and b.poll() is not None:
            break
        time.sleep(0.05)
    c = subprocess.Popen(cmd + ["--wait", "600"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, cwd=REPO)
    results = [p.communicate(timeout=600) + (p.returncode,) for p in (a, b, c)]
    codes = sorted(r[2] for r in results[:2])
    assert codes == [0, 2], results
    refused = next(r for r in results[:2] if r[2] == 2)
    assert "error: the index at" in refused[1] and "is being written by pid" in refused[1]
    assert "--wait" in refused[1]  # tells the user how to queue instead
    assert "Traceback" not in refused[1]
    assert results[2][2] == 0, results[2][1]  # the waiting one got its turn
    assert "3 documents" in results[2][0]
    handle = open_index(index)
    assert handle.manifest["documents"] == 3 and handle.count() == handle.manifest["chunks"]
    assert len(list_builds(index)) == 2 and not list(index.glob("build-*.partial"))


def _copy_index(corpus_index, tmp_path: Path) -> tuple[Path, Path]:
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(CORPUS, corpus)
    shutil.copytree(corpus_index.index_dir, index)
    return corpus, index


def _touch_doc(corpus: Path, n: int) -> None:
    with open(corpus / DOC_003, "a", encoding="utf-8") as f:
        f.write(f"\n\nAddendum {n}\n\nThe working group met again in session {n} to review the partnerships.\n")


@pytest.mark.slow
def test_sigkill_while_embedding_and_while_writing_keeps_the_previous_index(corpus_index, tmp_path):
    corpus, index = _copy_index(corpus_index, tmp_path)
    before = current_build(index)
    kw = dict(corpus_dir=corpus, index_dir=index, llm="none")
    expected = answer(SPACE, **kw)
    env = _env(corpus, index)

    # 1. killed while embedding: the progress bar on stderr says it has started
    _touch_doc(corpus, 1)
    proc = subprocess.Popen([str(ASSISTANT_BIN), "index", "--rebuild"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, cwd=REPO)
    seen = b""
    while b"indexing" not in seen and proc.poll() is None:
        seen += proc.stderr.read1(256)
    time.sleep(1.0)
    readers: list = []
    t = threading.Thread(target=lambda: readers.append(answer(SPACE, **kw)))  # a reader during the rebuild
    t.start()
    t.join(timeout=300)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert current_build(index) == before
    assert readers and readers[0].text == expected.text

    # 2. killed while writing the new build (an incremental run: one document re-embedded, 500+ written)
    killed_writing = False
    for attempt in range(2, 8):
        _touch_doc(corpus, attempt)
        proc = subprocess.Popen([str(ASSISTANT_BIN), "index"], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, cwd=REPO)
        while proc.poll() is None:
            if list(index.glob("build-*.partial/chroma")):
                os.kill(proc.pid, signal.SIGKILL)
                killed_writing = True
                break
            time.sleep(0.002)
        proc.wait(timeout=300)
        if killed_writing:
            break
        before = current_build(index)  # it finished before we caught it: that build is the new baseline
    assert killed_writing, "never caught the writer mid-write"
    assert list(index.glob("build-*.partial"))  # the half-written build is there...
    assert current_build(index) == before  # ...and invisible
    handle = open_index(index)
    assert handle.count() == handle.manifest["chunks"]
    assert answer(SPACE, **kw).text == expected.text

    # 3. the next run completes, sweeps the debris, and the new text is searchable
    summary = build_index(corpus_index.replace(corpus_dir=corpus, index_dir=index))
    assert summary.embedded_documents == 1 and summary.reused_documents == 4
    assert not list(index.glob("build-*.partial"))
    assert any("working group met again" in c.text for c in open_index(index).chunks())
