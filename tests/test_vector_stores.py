"""A second llama-index vector store, Qdrant's local mode (`vector_store="qdrant"`), passes the same retrieval
and answer checks as Chroma: the same hits and answers from the same vectors, builds, incremental builds,
and the switch between stores."""

from __future__ import annotations

import pytest
from helpers import REAL_QUESTIONS, same_answer

from assistant import Settings, answer, build_index, store
from assistant.embed import get_embedder
from assistant.errors import ConfigError
from assistant.retrieve import Retriever
from assistant.types import Chunk
from assistant.vectors import chunk_node, node_chunk

PACT = "When was the Northern Fisheries Pact signed?"
TINY_QUESTIONS = [PACT, "How long do the joint patrols last?", "What is the budget of the harbour authority?"]


def _fields(s: Settings) -> dict:
    return {k: getattr(s, k) for k in ("corpus_dir", "index_dir", "vector_store", "llm")}


def test_a_chunk_is_a_llama_index_node_with_our_metadata():
    c = Chunk(id="doc.md#0007", source="doc.md", text="The pact was signed on 3 March 2021.", kind="text",
              section="Fisheries > Pacts", locator="Fisheries > Pacts", start=10, end=46, title="Doc")
    node = chunk_node(c, [0.5, 0.25])
    assert node.metadata["chunk_id"] == c.id and node.metadata["locator"] == c.locator
    assert node.embedding == [0.5, 0.25] and node.get_content() == c.text
    assert node_chunk(node) == c


def test_qdrant_build_answers_like_the_chroma_build(tiny_corpus, tmp_path, tiny_index):
    settings = Settings.load(corpus_dir=tiny_corpus, index_dir=tmp_path / "q", vector_store="qdrant", llm="none")
    summary = build_index(settings)
    assert (summary.documents, summary.embedded_documents) == (3, 3)
    build = store.current_build(settings)
    assert (build / "qdrant").is_dir() and not (build / "chroma").exists()
    handle = store.open_index(settings.index_dir)
    chroma = store.open_index(tiny_index.index_dir)
    assert handle.kind == "qdrant" and chroma.kind == "chroma"
    assert [(c.id, c.text) for c in handle.chunks()] == [(c.id, c.text) for c in chroma.chunks()]
    for q in TINY_QUESTIONS:
        same_answer(answer(q, **_fields(settings)),
                     answer(q, llm="none", corpus_dir=tiny_index.corpus_dir, index_dir=tiny_index.index_dir))
    assert "3 March 2021" in answer(PACT, **_fields(settings)).text


def test_incremental_qdrant_build_re_embeds_only_the_changed_document(tiny_corpus, tmp_path):
    settings = Settings.load(corpus_dir=tiny_corpus, index_dir=tmp_path / "q", vector_store="qdrant", llm="none")
    build_index(settings)
    assert build_index(settings).up_to_date
    changed = sorted(tiny_corpus.iterdir())[0]
    changed.write_text(changed.read_text() + "\n\nA new closing paragraph about harbour fees.\n")
    summary = build_index(settings)
    assert (summary.documents, summary.embedded_documents) == (3, 1)
    assert len(store.list_builds(settings.index_dir)) == 2  # the active and the previous build
    assert "3 March 2021" in answer(PACT, **_fields(settings)).text


def test_changing_the_vector_store_rebuilds_the_index_on_first_use(tiny_corpus, tmp_path):
    chroma = Settings.load(corpus_dir=tiny_corpus, index_dir=tmp_path / "i", llm="none")
    build_index(chroma)
    a = answer(PACT, **_fields(chroma.replace(vector_store="qdrant")))
    assert "3 March 2021" in a.text
    assert store.open_index(chroma.index_dir).kind == "qdrant"


def test_real_corpus_retrieval_and_answers_are_the_same_in_qdrant(corpus_index, qdrant_corpus_index):
    chroma, qdrant = store.open_index(corpus_index.index_dir), store.open_index(qdrant_corpus_index.index_dir)
    assert qdrant.count() == chroma.count()
    r_chroma, r_qdrant = Retriever(chroma, get_embedder()), Retriever(qdrant, get_embedder())
    for q in REAL_QUESTIONS:
        hc, hq = r_chroma.search(q, 30, top=10), r_qdrant.search(q, 30, top=10)
        assert [h.chunk.id for h in hc] == [h.chunk.id for h in hq], q
        assert [round(h.score, 9) for h in hc] == [round(h.score, 9) for h in hq], q
        same_answer(answer(q, **{**_fields(qdrant_corpus_index), "llm": "none"}),
                     answer(q, llm="none", corpus_dir=corpus_index.corpus_dir, index_dir=corpus_index.index_dir))
    a = answer(REAL_QUESTIONS[0], **{**_fields(qdrant_corpus_index), "llm": "none"})
    assert any(c.locator == "Table 2, row 16: Space security and defence" for c in a.citations)


def test_a_chroma_server_with_another_store_is_a_config_error():
    with pytest.raises(ConfigError, match="vector_store"):
        Settings.load(chroma_url="http://127.0.0.1:8000", vector_store="qdrant")
    with pytest.raises(ConfigError, match="vector_store"):
        Settings.load(vector_store="faiss")


def test_a_qdrant_index_open_in_another_process_is_a_clear_error(tiny_corpus, tmp_path):
    import subprocess

    from helpers import REPO

    settings = Settings.load(corpus_dir=tiny_corpus, index_dir=tmp_path / "q", vector_store="qdrant", llm="none")
    build_index(settings)
    assert store.open_index(settings.index_dir).count() > 0  # this process holds the folder now
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "ASSISTANT_INDEX_DIR": str(settings.index_dir),
           "ASSISTANT_CORPUS_DIR": str(tiny_corpus), "ASSISTANT_VECTOR_STORE": "qdrant"}
    r = subprocess.run([str(REPO / ".venv" / "bin" / "assistant"), "ask", "--llm", "none", PACT], env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and "open in another process" in r.stderr, r.stderr[-1500:]
    assert len(r.stderr.strip().splitlines()) == 1  # one line, no traceback
