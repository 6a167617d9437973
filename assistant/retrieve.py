"""question -> list[Hit]: dense (Chroma) and lexical (BM25) retrieval fused by reciprocal rank."""

from __future__ import annotations

import functools
import math
import re
import threading

from .citations import Known
from .embed import Embedder
from .ingest.tables import row_record
from .store import IndexHandle
from .text import (
    ACRONYM,
    content_tokens,
    expand_acronyms,
    find_acronyms,
    fold,
    label_share,
    quoted_phrases,
    spell_date,
)
from .types import Chunk, Hit, Table

__all__ = ["Retriever", "RRF_K"]

_GENERIC_CUES = {"document", "policy", "eu", "pe", "text", "report", "paper"}
FUSED_HEAD = 3  # fused hits kept ahead of each ranker's own first hit
RRF_K = 10  # reciprocal-rank fusion: rank 1 -> 1/11, rank 10 -> 1/20 (60, the usual, let a rank-1 hit sink)


class _BM25:
    """BM25 over our own tokens (same tokenizer for chunks and questions), built by llama-index's
    `BM25Retriever` (bm25s underneath): each chunk's tokens are a node's text, split on spaces and neither
    stemmed nor stopped again, so chunk and question share one vocabulary. (Its default tokenizer, an English
    stemmer and stopword list over the raw text, measured worse: docs/quality.md.) A query reads the
    retriever's bm25s scores: its `retrieve()` makes a node of every hit, 1.9 ms a query against 0.2 ms."""

    def __init__(self, docs_tokens: list[list[str]]) -> None:
        from llama_index.core.schema import TextNode
        from llama_index.retrievers.bm25 import BM25Retriever

        self._n = len(docs_tokens)
        nodes = [TextNode(id_=str(i), text=" ".join(toks)) for i, toks in enumerate(docs_tokens)]
        retriever = BM25Retriever(nodes=nodes, language=None, skip_stemming=True, token_pattern=r"\S+",
                                  similarity_top_k=max(1, self._n)) if self._n else None
        self._model = retriever.bm25 if retriever else None
        self._vocab = self._model.vocab_dict if self._model else {}

    def search(self, question: str, k: int) -> list[tuple[int, float]]:
        """(chunk position, score) of the k best chunks for the question, best first."""
        q = [self._vocab[t] for t in content_tokens(question) if t in self._vocab]
        if not q or self._model is None:
            return []
        scores = self._model.get_scores(q)
        order = scores.argsort()[::-1][: min(k, self._n)]
        return [(int(i), float(scores[i])) for i in order if scores[i] > 0]


_WORDS = re.compile(r"[A-Za-z][A-Za-z'’-]*")


class Retriever:
    """Hybrid retriever over one index build."""

    def __init__(self, index: IndexHandle, embedder: Embedder) -> None:
        self.index = index
        self.embedder = embedder
        self.index_notice = ""  # set when answers come from the previous build (the current one is damaged)
        self.chunks: list[Chunk] = index.chunks()
        self._by_id = {c.id: c for c in self.chunks}
        self._bm25: _BM25 | None = None
        self._doc_cues = self._document_cues()
        self._df: dict[str, int] = {}
        # Tokenised once for both the term statistics and BM25 (tokenising is most of the cost of opening a
        # large index: ~0.7 ms a chunk, 30 s per pass at 42k chunks on 2 busy cores).
        tokenized = [content_tokens(f"{c.section} {c.text}") for c in self.chunks]
        for toks in tokenized:
            for t in set(toks):
                self._df[t] = self._df.get(t, 0) + 1
        self._bm25 = _BM25(tokenized)
        del tokenized
        self.acronyms: dict[str, str] = {}
        for c in self.chunks:
            for k, v in find_acronyms(c.text).items():
                self.acronyms.setdefault(k, v)
        # Who wrote the documents, folded, and the acronyms that name domain terms ('SDP', 'FPA') rather
        # than a document ('IDA') or its author ('EP').
        self.publishers = fold(" ".join(d.publisher for d in index.documents.values()))
        cues = self.cues
        self.domain_acronyms = {k: v for k, v in self.acronyms.items()
                                if k not in cues and fold(v) not in self.publishers}
        self._lock = threading.Lock()

    @functools.cached_property
    def common_words(self) -> set[str]:
        """Folded words that are no proper names here: those the documents write in lower case at least as
        often as capitalised ('security', 'defence'), and the words of their titles (what every document is
        about: 'EU', 'Strategic Compass'). Counted on first use, not when the index opens: only questions
        that join names need them."""
        lower: dict[str, int] = {}
        upper: dict[str, int] = {}
        for c in self.chunks:
            for w in _WORDS.findall(c.text):
                counts = lower if w[0].islower() else upper
                counts[w.lower()] = counts.get(w.lower(), 0) + 1
        titles = {re.sub(r"['’]s$", "", w).lower() for d in self.index.documents.values()
                  for w in _WORDS.findall(d.title)}
        return {w for w, n in lower.items() if n >= upper.get(w, 0)} | titles

    def _document_cues(self) -> dict[str, set[str]]:
        """Words that single out a document when a question uses them ('EUISS', 'IDA', 'blog'): acronyms
        in its title, publisher and kind, and the words of its kind, if at most two documents share them."""
        meta = {}
        for src, d in self.index.documents.items():
            acronyms = ACRONYM.findall(f"{d.title} {d.publisher} {d.kind}")
            kind_words = re.split(r"[(,]", d.kind)[0]
            meta[src] = set(content_tokens(" ".join(acronyms) + " " + kind_words)) - _GENERIC_CUES
        counts: dict[str, int] = {}
        for toks in meta.values():
            for t in toks:
                counts[t] = counts.get(t, 0) + 1
        limit = 1 if len(meta) <= 3 else 2
        return {src: {t for t in toks if counts[t] <= limit and len(t) > 1} for src, toks in meta.items()}

    @functools.cached_property
    def table_rows(self) -> dict[str, tuple[Table, int]]:
        """{chunk id: (its typed table, row index)} for every row record: table questions read the cells
        kept from ingestion, never the record's rendered text."""
        by_text = {(src, row_record(t, i)[0]): (t, i) for src, d in self.index.documents.items()
                   for t in d.tables for i in range(len(t.rows))}
        return {c.id: by_text[(c.source, c.text)] for c in self.chunks
                if c.kind == "table_row" and (c.source, c.text) in by_text}

    @functools.cached_property
    def known(self) -> Known:
        """What the citation check may take as said besides a source's text: the corpus's acronyms and each
        document's descriptors (title, publisher, kind, date; not its opening lines, which are content)."""
        descriptors = {src: " ".join([d.title, d.publisher, d.kind, spell_date(d.date)])
                       for src, d in self.index.documents.items()}
        return Known(self.acronyms, descriptors, self._doc_cues)

    @property
    def doc_cues(self) -> dict[str, set[str]]:
        """{source: the words that single it out}."""
        return self._doc_cues

    @property
    def cues(self) -> set[str]:
        """All words that point at a document rather than at content ('EUISS', 'blog')."""
        return set().union(*self._doc_cues.values()) if self._doc_cues else set()

    def named_documents(self, question: str) -> set[str]:
        """Sources the question points at by name ('the EUISS brief'); none if it names them all alike."""
        return set(self._named(set(content_tokens(question))))

    def _named(self, q: set[str]) -> dict[str, int]:
        """{source: how many of its cues the question tokens use}, for the sources they name; empty when
        they name every document alike (then none is singled out)."""
        named = {src: len(cues & q) for src, cues in self._doc_cues.items() if cues & q}
        return named if len(named) < len(self._doc_cues) else {}

    def chunk(self, chunk_id: str) -> Chunk | None:
        """The chunk with this id, if the index holds it."""
        return self._by_id.get(chunk_id)

    def idf(self, token: str) -> float:
        """Inverse document frequency over chunks; unseen words weigh most."""
        return math.log((len(self.chunks) + 1) / (self._df.get(token, 0) + 0.5))

    def _lexical(self) -> _BM25:
        with self._lock:
            if self._bm25 is None:
                self._bm25 = _BM25([content_tokens(f"{c.section} {c.text}") for c in self.chunks])
            return self._bm25

    def search(self, question: str, k: int = 30, top: int | None = None) -> list[Hit]:
        """Fused hits, best first; each retriever contributes its k best."""
        question = expand_acronyms(question, self.acronyms)
        dense = self.index.query(self.embedder.embed_query(question), k)
        lexical = self._lexical().search(question, k)
        hits: dict[str, Hit] = {}
        for rank, (cid, sim) in enumerate(dense, start=1):
            hits[cid] = Hit(self._by_id[cid], 1.0 / (RRF_K + rank), dense_rank=rank, dense_score=sim)
        for rank, (i, _score) in enumerate(lexical, start=1):
            c = self.chunks[i]
            h = hits.setdefault(c.id, Hit(c, 0.0))
            h.score += 1.0 / (RRF_K + rank)
            h.lexical_rank = rank
        # A table record whose row/column label the question names is what the question is about.
        q = set(content_tokens(question))
        for h in hits.values():
            if h.chunk.kind in ("table_row", "table_column"):
                share = label_share(h.chunk.locator.split(": ", 1)[-1], q, self.idf)
                if share >= 0.5:
                    h.score += share / (RRF_K + 1)
        # A phrase the question quotes ("'partnership actions'") is the document's own wording: a passage
        # that holds it verbatim is about it, however the rankers scored the rest of the question.
        for phrase in quoted_phrases(question):
            for h in hits.values():
                if phrase in fold(h.chunk.text):
                    h.score += 1.0 / (RRF_K + 1)
        # A question that names a document ("according to the EUISS brief") prefers that document.
        named_docs = self._named(q)
        if named_docs:
            for h in hits.values():
                h.score += named_docs.get(h.chunk.source, 0) / (RRF_K + 5)
        ranked = sorted(hits.values(), key=lambda h: h.score, reverse=True)
        # Fusion favours what both rankers find fairly well over what one of them ranks first ("Conduct, by
        # 2023, live maritime exercises" is BM25's first hit and the fused tenth): each ranker's first hit
        # is placed right after the fused top few.
        ranked = ranked[:FUSED_HEAD] + sorted(ranked[FUSED_HEAD:],  # stable: fused order otherwise kept
                                              key=lambda h: h.dense_rank != 1 and h.lexical_rank != 1)
        return ranked[:top] if top else ranked
