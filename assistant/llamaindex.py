"""Our method as llama-index components, for a llama-index pipeline over an index this product built
(docs/llamaindex.md has a runnable example):

    open_vector_index()       a llama-index `VectorStoreIndex` over the active build's vector store
    MiniLMEmbedding           the embedding model as a llama-index `BaseEmbedding` (the index's own vectors)
    HybridRetriever           our dense + BM25 fusion with its boosts, as a llama-index `BaseRetriever`
    EvidenceSelector          a `NodePostprocessor`: the best nodes, each trimmed to its most relevant sentences
    CitedAnswerSynthesizer    a response synthesizer: one generation over the numbered evidence, every sentence
                              checked against the passage it cites, abstaining otherwise; the `Response`
                              carries our `Answer` (verified citations, verbatim quotes) in metadata["answer"]
    LLMGenerator              any llama-index LLM as the generator of `CitedAnswerSynthesizer`

The corpus context the checks need (acronyms, term statistics, documents' descriptors, typed tables) comes
from the index that `settings` names; the nodes may come from any llama-index retriever over it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.base.response.schema import Response
from llama_index.core.llms import LLM, ChatMessage
from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.response_synthesizers.base import BaseSynthesizer
from llama_index.core.schema import NodeWithScore, QueryBundle
from pydantic import PrivateAttr

from .answer import final_answer, get_retriever, respond
from .config import Settings
from .embed import EMBED_MODEL_NAME, get_embedder
from .errors import GeneratorError
from .evidence import Evidence, select_evidence
from .generate import get_generator
from .generate.base import Generator, Message
from .question import analyse, validate_question
from .retrieve import Retriever
from .types import Answer, Hit
from .vectors import chunk_node

__all__ = ["open_vector_index", "MiniLMEmbedding", "HybridRetriever", "EvidenceSelector",
           "CitedAnswerSynthesizer", "LLMGenerator"]

_EVIDENCE_N = "evidence_n"  # metadata key of a node EvidenceSelector kept: its source number in the prompt


def _context(settings: Settings | None, overrides: dict) -> tuple[Settings, Retriever]:
    settings = settings or Settings.load(**overrides)
    return settings, get_retriever(settings)


class MiniLMEmbedding(BaseEmbedding):
    """all-MiniLM-L6-v2 from its PyPI package, normalised: the vectors the index was built with."""

    model_name: str = EMBED_MODEL_NAME

    def _get_query_embedding(self, query: str) -> list[float]:
        return get_embedder().embed_query(query)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return get_embedder().embed([text])[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return get_embedder().embed(texts)


def open_vector_index(settings: Settings | None = None, **overrides):
    """A llama-index `VectorStoreIndex` over the active build's vector store (Chroma or Qdrant), with the
    index's own embedding model: `open_vector_index().as_retriever(similarity_top_k=30)`."""
    from llama_index.core import VectorStoreIndex

    _, retriever = _context(settings, overrides)
    return VectorStoreIndex.from_vector_store(retriever.index.store.vector_store, embed_model=MiniLMEmbedding())


def _hits(nodes: list[NodeWithScore], retriever: Retriever) -> list[Hit]:
    """Our hits for nodes of this index, ranked in the order given."""
    hits = []
    for rank, n in enumerate(nodes, start=1):
        cid = n.node.metadata.get("chunk_id")
        chunk = retriever.chunk(cid) if cid else None
        if chunk is None:
            raise ValueError(f"node {n.node.node_id} is not a chunk of this index (no known chunk_id): "
                             "retrieve from open_vector_index() or HybridRetriever")
        hits.append(Hit(chunk, float(n.score or 0.0), dense_rank=rank))
    return hits


def _select(question: str, hits: list[Hit], retriever: Retriever, top_k: int, words: int) -> list[Evidence]:
    return select_evidence(question, hits, top_k, words, retriever.idf, retriever.domain_acronyms)


class HybridRetriever(BaseRetriever):
    """Dense and BM25 hits fused by reciprocal rank, with our boosts (named table rows, quoted phrases,
    named documents): the product's retrieval as a llama-index retriever. Node scores are fused scores."""

    def __init__(self, settings: Settings | None = None, candidates: int | None = None, **overrides) -> None:
        super().__init__()
        self._settings, self._retriever = _context(settings, overrides)
        self._candidates = candidates or self._settings.candidates

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        hits = self._retriever.search(analyse(query_bundle.query_str).text, self._candidates)
        return [NodeWithScore(node=chunk_node(h.chunk), score=h.score) for h in hits]


class EvidenceSelector(BaseNodePostprocessor):
    """Keeps the `top_k` best nodes for the prompt, each trimmed to its most relevant contiguous sentences
    within a word budget; rows of a table about another term, and near-duplicates, are dropped. The kept
    nodes are numbered (metadata "evidence_n") in the order the prompt shows them."""

    top_k: int | None = None
    evidence_words: int | None = None
    _settings: Settings = PrivateAttr()
    _retriever: Retriever = PrivateAttr()

    def __init__(self, settings: Settings | None = None, **data: Any) -> None:
        overrides = {k: data.pop(k) for k in list(data) if k not in ("top_k", "evidence_words")}
        super().__init__(**data)
        self._settings, self._retriever = _context(settings, overrides)

    @classmethod
    def class_name(cls) -> str:
        return "CitedEvidenceSelector"

    def _postprocess_nodes(self, nodes: list[NodeWithScore], query_bundle: QueryBundle | None = None
                           ) -> list[NodeWithScore]:
        if query_bundle is None:
            raise ValueError("EvidenceSelector needs the query")
        q = analyse(query_bundle.query_str)
        evidence = _select(q.text, _hits(nodes, self._retriever), self._retriever,
                           self.top_k or self._settings.top_k, self.evidence_words or self._settings.evidence_words)
        return [_evidence_node(e) for e in evidence]


def _evidence_node(e: Evidence) -> NodeWithScore:
    node = chunk_node(e.chunk)
    node.text = e.text  # a verbatim slice of the chunk
    node.metadata[_EVIDENCE_N] = e.n
    return NodeWithScore(node=node, score=e.hit.score)


class LLMGenerator(Generator):
    """Any llama-index LLM (`LlamaCPP`, `OpenAILike`, `Ollama`, ...) as our generator: streamed chat at
    the LLM's own settings (set temperature 0 on it for repeatable answers)."""

    backend = "llama-index"

    def __init__(self, llm: LLM) -> None:
        self.llm = llm
        self.model = getattr(llm.metadata, "model_name", "") or type(llm).__name__

    def _stream(self, messages: list[Message], max_tokens: int) -> Iterator[str]:
        try:
            # the LLM's own settings bound the answer's length (max_tokens is no common llama-index argument)
            for part in self.llm.stream_chat([ChatMessage(role=m["role"], content=m["content"]) for m in messages]):
                if part.delta:
                    yield part.delta
        except GeneratorError:
            raise
        except Exception as e:  # noqa: BLE001 - the LLM's own errors become our one error type
            raise GeneratorError(f"{self.model} failed: {type(e).__name__}: {e}") from e


class CitedAnswerSynthesizer(BaseSynthesizer):
    """Answers from the nodes it is given with citations that are checked, or abstains ("the documents
    don't say"). `llm`: any llama-index LLM; default: the generator `settings` configure (the local GGUF
    model through `LlamaCPP`; `llm="none"` for the extractive answer). Nodes that did not pass through
    `EvidenceSelector` are selected here the same way."""

    def __init__(self, llm: LLM | None = None, settings: Settings | None = None, **overrides) -> None:
        from llama_index.core.indices.prompt_helper import PromptHelper
        from llama_index.core.llms.mock import MockLLM

        # the base class wants an LLM for its prompt helper; it is never called (llama-index would otherwise
        # fall back to its default LLM, OpenAI)
        super().__init__(llm=llm or MockLLM(), prompt_helper=PromptHelper(context_window=4096, num_output=256))
        self._settings, self._retriever = _context(settings, overrides)
        self._generator = LLMGenerator(llm) if llm is not None else get_generator(self._settings)

    def _get_prompts(self) -> dict:
        return {}

    def _update_prompts(self, prompts: dict) -> None:
        pass

    def get_response(self, query_str: str, text_chunks: list[str], **kwargs: Any) -> str:
        raise TypeError("CitedAnswerSynthesizer checks citations against nodes: call synthesize(query, nodes)")

    async def aget_response(self, query_str: str, text_chunks: list[str], **kwargs: Any) -> str:
        return self.get_response(query_str, text_chunks)

    def answer(self, query: str, nodes: list[NodeWithScore]) -> Answer:
        """Our `Answer` for the query from these nodes."""
        t0 = time.perf_counter()
        q = analyse(validate_question(query, self._settings))
        hits = _hits(nodes, self._retriever)
        if nodes and all(_EVIDENCE_N in n.node.metadata for n in nodes):
            evidence = [Evidence(n.node.metadata[_EVIDENCE_N], h, n.node.get_content())
                        for n, h in zip(nodes, hits, strict=True)]
        else:
            evidence = _select(q.text, hits, self._retriever, self._settings.top_k, self._settings.evidence_words)
        return final_answer(respond(q, hits, evidence, self._settings, self._retriever, self._generator, t0))

    def synthesize(self, query, nodes: list[NodeWithScore], additional_source_nodes=None,
                   **response_kwargs: Any) -> Response:
        query_str = query.query_str if isinstance(query, QueryBundle) else str(query)
        a = self.answer(query_str, list(nodes))
        cited = {c.chunk_id for c in a.citations}
        sources = [n for n in nodes if n.node.metadata.get("chunk_id") in cited]
        return Response(response=a.text, source_nodes=sources, metadata={"answer": a})

    async def asynthesize(self, query, nodes: list[NodeWithScore], additional_source_nodes=None,
                          **response_kwargs: Any) -> Response:
        return self.synthesize(query, nodes, additional_source_nodes, **response_kwargs)

