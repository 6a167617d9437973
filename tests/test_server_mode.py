"""Chroma server (client/server) mode against a real `chroma run` started by a fixture on a free loopback port.

The same retrieval and answer checks as in embedded mode, with identical results; incremental builds,
the server-side write lock (refusal, waiting, a dead writer's lock) and a writer killed mid-build.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest
from helpers import REAL_QUESTIONS, REPO, copy_index, free_port, same_answer, stop

from assistant import Settings, answer, build_index, store
from assistant.embed import get_embedder
from assistant.errors import IndexError_, IndexLockedError
from assistant.retrieve import Retriever

CHROMA_BIN = REPO / ".venv" / "bin" / "chroma"
PACT = "When was the Northern Fisheries Pact signed?"


def start_chroma(path: Path) -> tuple[subprocess.Popen, str]:
    """`chroma run` on a free loopback port; returns once its heartbeat answers (~1-3 s)."""
    port = free_port()
    log = open(path.parent / f"chroma-{port}.log", "w")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen([str(CHROMA_BIN), "run", "--path", str(path), "--host", "127.0.0.1", "--port",
                             str(port)], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/api/v2/heartbeat", timeout=1, trust_env=False).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"chroma run did not start: {(path.parent / f'chroma-{port}.log').read_text()[-2000:]}")


@pytest.fixture(scope="session")
def chroma_url(tmp_path_factory):
    """A real Chroma server for the whole session (its data in a temp dir)."""
    if not CHROMA_BIN.exists():
        pytest.skip("the chroma CLI is not installed in .venv")
    proc, url = start_chroma(tmp_path_factory.mktemp("chroma") / "db")
    yield url
    stop(proc)


def _server(settings: Settings, url: str, prefix: str | None = None) -> Settings:
    return settings.replace(chroma_url=url, chroma_collection=prefix or f"t{uuid.uuid4().hex[:10]}")


def _fields(s: Settings) -> dict:
    return {k: getattr(s, k) for k in ("corpus_dir", "index_dir", "chroma_url", "chroma_collection")}



@pytest.fixture
def server_tiny(tiny_corpus, tmp_path, chroma_url) -> Settings:
    settings = _server(Settings.load(corpus_dir=tiny_corpus, index_dir=tmp_path / "unused", llm="none"), chroma_url)
    summary = build_index(settings)
    assert (summary.documents, summary.embedded_documents) == (3, 3)
    assert summary.location == chroma_url
    return settings


# --------------------------------------------------------------------------- build, answer, identical results


def test_server_build_answers_like_the_embedded_build(server_tiny, tiny_index):
    assert not (server_tiny.index_dir).exists()  # nothing written locally in server mode
    build = store.current_build(server_tiny)
    assert isinstance(build, store.ServerBuild)
    handle = store.open_index(server_tiny)
    local = store.open_index(tiny_index.index_dir)
    assert [(c.id, c.text) for c in handle.chunks()] == [(c.id, c.text) for c in local.chunks()]
    assert handle.manifest["fingerprint"] == local.manifest["fingerprint"]
    assert {s: d.text for s, d in handle.documents.items()} == {s: d.text for s, d in local.documents.items()}
    for q in (PACT, "How long do the joint patrols last?", "What is the budget of the harbour authority?"):
        a = answer(q, llm="none", **_fields(server_tiny))
        b = answer(q, llm="none", corpus_dir=tiny_index.corpus_dir, index_dir=tiny_index.index_dir)
        same_answer(a, b)
    assert "3 March 2021" in answer(PACT, llm="none", **_fields(server_tiny)).text


def test_real_corpus_retrieval_and_answers_are_identical_on_the_server(corpus_index, chroma_url):
    """The real corpus index copied (vectors included) into the server: same hits, same answers."""
    local = store.open_index(corpus_index.index_dir)
    settings = copy_index(corpus_index, _server(corpus_index, chroma_url))
    remote = store.open_index(settings)
    assert remote.count() == local.count()
    r_local, r_remote = Retriever(local, get_embedder()), Retriever(remote, get_embedder())
    for q in REAL_QUESTIONS:
        hl, hr = r_local.search(q, 30, top=10), r_remote.search(q, 30, top=10)
        assert [h.chunk.id for h in hl] == [h.chunk.id for h in hr], q
        assert [round(h.score, 9) for h in hl] == [round(h.score, 9) for h in hr], q
        same_answer(answer(q, llm="none", **_fields(settings)),
                     answer(q, llm="none", corpus_dir=corpus_index.corpus_dir, index_dir=corpus_index.index_dir))
    a = answer(REAL_QUESTIONS[0], llm="none", **_fields(settings))
    assert any(c.locator == "Table 2, row 16: Space security and defence" for c in a.citations)


def test_incremental_builds_on_the_server_keep_two_builds(server_tiny):
    first = store.current_build(server_tiny)
    assert build_index(server_tiny).up_to_date
    path = server_tiny.corpus_dir / "fisheries.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\nSeal counts\n\nThe seal census of 2023 counted 4,100 "
                    "grey seals.\n", encoding="utf-8")
    s = build_index(server_tiny)
    assert (s.embedded_documents, s.reused_documents) == (1, 2)
    second = store.current_build(server_tiny)
    assert second != first
    assert any("4,100 grey seals" in c.text for c in store.open_index(server_tiny).chunks())
    (server_tiny.corpus_dir / "harbour.html").unlink()
    s = build_index(server_tiny)
    assert (s.removed_documents, s.embedded_documents, s.reused_documents) == (1, 0, 2)
    assert {c.source for c in store.open_index(server_tiny).chunks()} == {"fisheries.txt", "patrols.md"}
    builds = [b.name for b in store.list_builds(server_tiny)]
    assert len(builds) == 2 and first.name not in builds  # the active and the previous; older ones dropped


def test_bad_server_url_is_a_clear_error(tiny_corpus, tmp_path):
    port = free_port()  # nothing listens there
    settings = Settings.load(corpus_dir=tiny_corpus, index_dir=tmp_path / "i", chroma_url=f"http://127.0.0.1:{port}")
    t0 = time.monotonic()
    with pytest.raises(IndexError_, match=rf"Chroma server at http://127.0.0.1:{port}"):
        build_index(settings)
    assert time.monotonic() - t0 < 30


# --------------------------------------------------------------------------- the server-side lock


def test_lock_refuses_a_second_writer_with_the_holders_name(server_tiny):
    with store.write_lock(server_tiny):
        with pytest.raises(IndexLockedError, match=rf"being written by pid {os.getpid()} on "):
            build_index(server_tiny, rebuild=True)
    assert build_index(server_tiny, rebuild=True).embedded_documents == 3  # released


def test_lock_waits_for_the_writer(server_tiny):
    held, release = threading.Event(), threading.Event()

    def writer():
        with store.write_lock(server_tiny):
            held.set()
            release.wait(10)

    t = threading.Thread(target=writer)
    t.start()
    held.wait(10)
    threading.Timer(1.5, release.set).start()
    t0 = time.monotonic()
    summary = build_index(server_tiny, lock_wait=30)
    t.join()
    assert summary.up_to_date and time.monotonic() - t0 >= 1.0


def test_an_expired_or_dead_writers_lock_is_broken(server_tiny):
    client = store._http_client(server_tiny.chroma_url)
    name = f"{server_tiny.chroma_collection}-lock"
    client.create_collection(name, metadata={"holder": "pid 1 on elsewhere", "host": "elsewhere", "pid": 1,
                                             "token": "x", "expires": time.time() - 1})
    assert build_index(server_tiny, rebuild=True).embedded_documents == 3
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    client.create_collection(name, metadata={"holder": "dead", "host": socket.gethostname(),
                                             "pid": int(dead.stdout), "token": "y", "expires": time.time() + 600})
    assert build_index(server_tiny).up_to_date
    assert name not in [c.name for c in client.list_collections()]


_KILLED_BUILD = """
import sys, time
from pathlib import Path
import assistant.indexer as indexer
from assistant import Settings
from chromadb.api.models.Collection import Collection

real_add = Collection.add
def slow_add(self, *args, **kwargs):
    real_add(self, *args, **kwargs)  # the first batch really lands on the server...
    print("adding", flush=True)
    time.sleep(600)                  # ...then the writer is killed

Collection.add = slow_add
indexer.build_index(Settings.load(corpus_dir=Path(sys.argv[1]), index_dir=Path(sys.argv[2]), chroma_url=sys.argv[3],
                                  chroma_collection=sys.argv[4]), rebuild=True)
"""


def test_writer_killed_mid_build_leaves_the_previous_index(server_tiny):
    before = store.current_build(server_tiny)
    expected = answer(PACT, llm="none", **_fields(server_tiny))
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_BUILD, str(server_tiny.corpus_dir),
                             str(server_tiny.index_dir), server_tiny.chroma_url, server_tiny.chroma_collection],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=REPO)
    try:
        assert proc.stdout.readline().strip() == "adding"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    client = store._http_client(server_tiny.chroma_url)
    names = [c.name for c in client.list_collections() if c.name.startswith(server_tiny.chroma_collection)]
    assert len([n for n in names if n.endswith("-docs")]) == 1  # half-written build: chunks only, no manifest
    assert f"{server_tiny.chroma_collection}-lock" in names  # the dead writer's lock is still there...
    assert store.current_build(server_tiny) == before  # ...and readers still see the previous build
    same_answer(answer(PACT, llm="none", **_fields(server_tiny)), expected)
    summary = build_index(server_tiny)  # a dead pid on this host: its lock is broken at once
    assert summary.up_to_date
    build_index(server_tiny, rebuild=True)  # sweeps the half-written collections
    left = [c.name for c in client.list_collections() if c.name.startswith(server_tiny.chroma_collection)]
    assert len(left) == 5, left  # current pointer + 2 builds x (chunks, docs)


def test_cli_index_and_ask_in_server_mode(server_tiny):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_") or k == "ASSISTANT_MODEL_CACHE"}
    env.update(ASSISTANT_CHROMA_URL=server_tiny.chroma_url, ASSISTANT_CHROMA_COLLECTION=server_tiny.chroma_collection,
               ASSISTANT_CORPUS_DIR=str(server_tiny.corpus_dir), ASSISTANT_INDEX_DIR=str(server_tiny.index_dir),
               ASSISTANT_LLM="none")
    bin_ = REPO / ".venv" / "bin" / "assistant"
    r = subprocess.run([str(bin_), "index"], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and "(up to date)" in r.stdout, r.stderr
    r = subprocess.run([str(bin_), "ask", PACT, "--json"], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "3 March 2021" in json.loads(r.stdout)["text"]


def test_server_index_survives_a_server_restart(tiny_corpus, tmp_path):
    """Data lives in the server's --path: a restarted server serves the same index."""
    if not CHROMA_BIN.exists():
        pytest.skip("the chroma CLI is not installed in .venv")
    db = tmp_path / "db"
    proc, url = start_chroma(db)
    try:
        settings = _server(Settings.load(corpus_dir=tiny_corpus, index_dir=tmp_path / "i", llm="none"), url, "restart")
        build_index(settings)
        before = answer(PACT, **_fields(settings), llm="none")
    finally:
        stop(proc)
    proc, url2 = start_chroma(db)
    try:
        settings2 = settings.replace(chroma_url=url2)
        assert build_index(settings2).up_to_date
        same_answer(answer(PACT, **_fields(settings2), llm="none"), before)
    finally:
        stop(proc)
    shutil.rmtree(db, ignore_errors=True)

