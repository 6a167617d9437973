"""Our method as llama-index components: the example of docs/llamaindex.md runs as written; a plain
RetrieverQueryEngine with our retriever, selector and synthesizer answers as `answer()` does; a llama-index
LLM plugs into the synthesizer and its answer is checked like ours."""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import sys

import pytest
from helpers import REPO, can_unshare
from llama_index.core.llms import CompletionResponse, CustomLLM, LLMMetadata
from llama_index.core.query_engine import RetrieverQueryEngine
from llama_index.core.schema import NodeWithScore, TextNode

from assistant import answer, store
from assistant.llamaindex import CitedAnswerSynthesizer, EvidenceSelector, HybridRetriever, open_vector_index
from assistant.store import open_index
from assistant.vectors import release

QUESTIONS = ["Which SDPs cover space security?",
             "When did the EU and Japan sign their security and defence partnership?",
             "How much did the EU pay Georgia under its SDP in 2031?"]


@pytest.fixture
def corpus_env(corpus_index, monkeypatch):
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(corpus_index.index_dir))
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(corpus_index.corpus_dir))
    monkeypatch.setenv("ASSISTANT_LLM", "none")
    return corpus_index


def test_the_docs_example_runs(corpus_env):
    code = re.search(r"```python\n(.*?)```", (REPO / "docs" / "llamaindex.md").read_text(), re.S).group(1)
    out = io.StringIO()
    scope: dict = {}
    with contextlib.redirect_stdout(out):
        exec(compile(code, "docs/llamaindex.md", "exec"), scope)  # noqa: S102 - our own documentation
    a = scope["answer"]
    assert not a.abstained, out.getvalue()
    assert any("Space security" in c.locator for c in a.citations), out.getvalue()
    docs = open_index(corpus_env.index_dir).documents
    assert all(c.quote in docs[c.source].text for c in a.citations) and "[1]" in out.getvalue()
    assert {n.node.metadata["chunk_id"] for n in scope["response"].source_nodes} == {c.chunk_id for c in a.citations}


def test_a_retriever_query_engine_with_our_components_answers_as_answer_does(corpus_env):
    engine = RetrieverQueryEngine(retriever=HybridRetriever(), node_postprocessors=[EvidenceSelector()],
                                  response_synthesizer=CitedAnswerSynthesizer())
    for q in QUESTIONS:
        got, want = engine.query(q).metadata["answer"], answer(q)
        assert (got.text, got.abstained, got.abstain_reason) == (want.text, want.abstained, want.abstain_reason), q
        assert [c.__dict__ for c in got.citations] == [c.__dict__ for c in want.citations], q


def test_the_vector_index_retrieves_our_nodes_with_their_metadata(corpus_env):
    nodes = open_vector_index().as_retriever(similarity_top_k=5).retrieve(QUESTIONS[1])
    assert len(nodes) == 5
    for n in nodes:
        assert {"chunk_id", "source", "locator", "kind"} <= set(n.node.metadata)


class _Canned(CustomLLM):
    """A llama-index LLM that always gives the same answer."""

    text: str = ""

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(model_name="canned")

    def complete(self, prompt: str, formatted: bool = False, **kwargs) -> CompletionResponse:
        return CompletionResponse(text=self.text)

    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs):
        yield CompletionResponse(text=self.text, delta=self.text)


def test_a_llama_index_llm_answers_and_is_checked_like_ours(tiny_index, monkeypatch):
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(tiny_index.index_dir))
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(tiny_index.corpus_dir))
    q = "When was the Northern Fisheries Pact signed?"

    def ask(text: str):
        engine = RetrieverQueryEngine(retriever=HybridRetriever(), node_postprocessors=[EvidenceSelector()],
                                      response_synthesizer=CitedAnswerSynthesizer(llm=_Canned(text=text)))
        return engine.query(q).metadata["answer"]

    good = ask("The Northern Fisheries Pact was signed on 3 March 2021 [1].")
    assert not good.abstained and good.backend == "llama-index" and good.model == "canned"
    assert "3 March 2021" in good.citations[0].quote
    invented = ask("The Northern Fisheries Pact was signed on 9 June 1999 in Oslo [1].")
    assert "9 June 1999" not in invented.text and "Oslo" not in invented.text
    assert invented.abstained or invented.notice  # refused, or a verbatim passage stands in, saying so


def test_nodes_of_another_index_are_refused(corpus_env):
    foreign = [NodeWithScore(node=TextNode(text="Some other text."), score=1.0)]
    with pytest.raises(ValueError, match="not a chunk of this index"):
        CitedAnswerSynthesizer().synthesize(QUESTIONS[0], foreign)



@pytest.mark.slow
@pytest.mark.skipif(not can_unshare(), reason="`unshare -n` (a network namespace) is not available here")
def test_the_docs_example_and_the_qdrant_store_run_with_no_network_at_all(corpus_index, qdrant_corpus_index):
    """llama-index's tiktoken and nltk data, Qdrant's client, the BM25 retriever: nothing reaches for the
    network (a network namespace with no interfaces)."""
    code = re.search(r"```python\n(.*?)```", (REPO / "docs" / "llamaindex.md").read_text(), re.S).group(1)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "OPENAI_"))}
    env.update(ASSISTANT_INDEX_DIR=str(corpus_index.index_dir), ASSISTANT_CORPUS_DIR=str(corpus_index.corpus_dir),
               ASSISTANT_LLM="none")
    r = subprocess.run(["unshare", "-n", sys.executable, "-c", code], env=env, capture_output=True, text=True,
                       timeout=600, cwd=REPO)
    assert r.returncode == 0 and "Space security" in r.stdout, r.stderr[-2000:]
    release(store.current_build(qdrant_corpus_index) / "qdrant")  # local mode: one process per index folder
    env.update(ASSISTANT_INDEX_DIR=str(qdrant_corpus_index.index_dir), ASSISTANT_VECTOR_STORE="qdrant")
    r = subprocess.run(["unshare", "-n", str(REPO / ".venv" / "bin" / "assistant"), "ask", "--llm", "none",
                        QUESTIONS[1]], env=env, capture_output=True, text=True, timeout=600, cwd=REPO)
    assert r.returncode == 0 and "1 November 2024" in r.stdout, r.stderr[-2000:]


def test_our_reader_and_chunker_in_a_llama_index_ingestion_pipeline(tiny_index):
    """CorpusReader + ChunkParser + MiniLMEmbedding in an IngestionPipeline give the index's own chunks and
    vectors; the typed tables survive the round trip through a llama-index Document."""
    import numpy as np
    from llama_index.core.ingestion import IngestionPipeline

    from assistant.ingest.llama import ChunkParser, CorpusReader, from_llama_document
    from assistant.llamaindex import MiniLMEmbedding
    from assistant.vectors import node_chunk

    reader = CorpusReader()
    docs = reader.load_data(tiny_index.corpus_dir)
    handle = open_index(tiny_index.index_dir)
    assert {d.metadata["source"] for d in docs} == set(handle.documents) and reader.skipped == []
    for d in docs:
        assert from_llama_document(d) == handle.documents[d.metadata["source"]]
    nodes = IngestionPipeline(transformations=[ChunkParser(), MiniLMEmbedding()]).run(documents=docs)
    got = sorted(((node_chunk(n), n.embedding) for n in nodes), key=lambda p: p[0].id)
    assert [c for c, _ in got] == handle.chunks()
    stored = handle.all_vectors()
    for c, vec in got:
        assert np.allclose(vec, stored[c.source][c.text], atol=1e-5), c.id
