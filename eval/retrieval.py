"""Retrieval alone, per split: how often the gold evidence is among the fused hits at each depth, and how
often it reaches the prompt (after evidence selection). No model is loaded; aggregate figures only.

    .venv/bin/python eval/retrieval.py --split test [--top-k 5 --evidence-words 300 --candidates 30]
"""

from __future__ import annotations

import argparse
import importlib
import sys

from assistant.answer import get_retriever
from assistant.config import Settings
from assistant.evaluate import GOLD_DIR, SPLITS, chunk_holds, holds_evidence, load_gold, split_settings
from assistant.evidence import select_evidence

DEPTHS = (1, 3, 5, 10, 20, 30)


class _DefaultBM25:
    """llama-index's BM25Retriever as it comes: its own tokenizer over each chunk's section and text."""

    def __init__(self, chunks) -> None:
        from llama_index.core.schema import TextNode
        from llama_index.retrievers.bm25 import BM25Retriever

        self._retriever = BM25Retriever.from_defaults(
            nodes=[TextNode(id_=str(i), text=f"{c.section} {c.text}") for i, c in enumerate(chunks)],
            similarity_top_k=30)

    def search(self, question: str, k: int) -> list[tuple[int, float]]:
        self._retriever.similarity_top_k = k
        return [(int(n.node.node_id), float(n.score)) for n in self._retriever.retrieve(question) if n.score > 0]


def _llama_index_fusion(retriever):
    """`Retriever.search` replaced by llama-index's QueryFusionRetriever over our dense and BM25 rankers."""
    from llama_index.core.base.base_retriever import BaseRetriever
    from llama_index.core.llms.mock import MockLLM
    from llama_index.core.retrievers import QueryFusionRetriever
    from llama_index.core.schema import NodeWithScore

    from assistant.text import expand_acronyms
    from assistant.types import Hit
    from assistant.vectors import chunk_node

    class _Ranked(BaseRetriever):
        def __init__(self, rank) -> None:
            super().__init__()
            self._rank = rank

        def _retrieve(self, query_bundle):
            return [NodeWithScore(node=chunk_node(c), score=s) for c, s in self._rank(query_bundle.query_str)]

    k = 30
    dense = _Ranked(lambda q: [(retriever.chunk(cid), s) for cid, s in
                               retriever.index.query(retriever.embedder.embed_query(q), k)])
    lexical = _Ranked(lambda q: [(retriever.chunks[i], s) for i, s in retriever._lexical().search(q, k)])
    fusion = QueryFusionRetriever([dense, lexical], mode="reciprocal_rerank", similarity_top_k=2 * k,
                                  num_queries=1, use_async=False, llm=MockLLM())

    def search(question: str, k: int = 30, top: int | None = None):
        q = expand_acronyms(question, retriever.acronyms)
        d = {c.id: r for r, (c, _) in enumerate(dense._rank(q), 1)}
        lx = {c.id: r for r, (c, _) in enumerate(lexical._rank(q), 1)}
        hits = [Hit(retriever.chunk(n.node.metadata["chunk_id"]), float(n.score or 0),
                    dense_rank=d.get(n.node.metadata["chunk_id"]), lexical_rank=lx.get(n.node.metadata["chunk_id"]))
                for n in fusion.retrieve(q)]
        return hits[:top] if top else hits

    return search


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--split", nargs="+", default=["test"])
    ap.add_argument("--top-k", type=int)
    ap.add_argument("--evidence-words", type=int)
    ap.add_argument("--candidates", type=int)
    ap.add_argument("--rrf-k", type=int, help="fusion constant to try instead of retrieve.RRF_K")
    ap.add_argument("--fused-head", type=int, help="fused hits ahead of each ranker's first (retrieve.FUSED_HEAD)")
    ap.add_argument("--bm25", choices=["ours", "llama-index-default"], default="ours",
                    help="lexical ranker: BM25Retriever over our tokens (the product's), or with its own default "
                         "tokenizer (English stemmer and stopwords over the raw text)")
    ap.add_argument("--fusion", choices=["ours", "llama-index"], default="ours",
                    help="fusion: ours (reciprocal rank, constant 10, with boosts), or llama-index's "
                         "QueryFusionRetriever (reciprocal_rerank, one query) over the same two rankers")
    args = ap.parse_args()
    retrieve_module = importlib.import_module("assistant.retrieve")  # the package exports a function of that name

    if args.rrf_k is not None:
        retrieve_module.RRF_K = args.rrf_k
    if args.fused_head is not None:
        retrieve_module.FUSED_HEAD = args.fused_head
    for name in args.split:
        split = SPLITS[name]
        settings = split_settings(split, Settings.load(top_k=args.top_k, evidence_words=args.evidence_words,
                                                       candidates=args.candidates))
        retriever = get_retriever(settings, progress=True)
        if args.bm25 == "llama-index-default":
            retriever._bm25 = _DefaultBM25(retriever.chunks)
        if args.fusion == "llama-index":
            retriever.search = _llama_index_fusion(retriever)  # type: ignore[method-assign]
        items = [i for i in load_gold([GOLD_DIR / split.file]) if i["type"] != "unanswerable" and i["evidence"]]
        at = dict.fromkeys(DEPTHS, 0)
        dense10 = lexical10 = 0
        in_prompt = words = 0
        for item in items:
            ev = item["evidence"]
            hits = retriever.search(item["question"], settings.candidates)
            gold = [h for h in hits if h.chunk.source == item["source"] and chunk_holds(ev, h.chunk)]
            ranks = [r for r, h in enumerate(hits, 1) if h in gold]
            dense10 += any((h.dense_rank or 99) <= 10 for h in gold)
            lexical10 += any((h.lexical_rank or 99) <= 10 for h in gold)
            for d in DEPTHS:
                at[d] += bool(ranks and ranks[0] <= d)
            chosen = select_evidence(item["question"], hits, settings.top_k, settings.evidence_words, retriever.idf,
                                     retriever.domain_acronyms)
            in_prompt += any(e.chunk.source == item["source"]
                             and holds_evidence(ev, e.text, e.chunk.kind, e.chunk.locator) for e in chosen)
            words += sum(len(e.text.split()) for e in chosen)
        n = max(1, len(items))
        print(f"{name}: {len(items)} answerable items | " + " ".join(f"@{d} {at[d] / n:.2f}" for d in DEPTHS)
              + f" | dense @10 {dense10 / n:.2f} bm25 @10 {lexical10 / n:.2f}"
              + f" | gold evidence in the prompt {in_prompt / n:.2f} | prompt evidence {words / n:.0f} words")
    return 0


if __name__ == "__main__":
    sys.exit(main())
