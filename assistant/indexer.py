"""Build or refresh the index: only changed documents are re-embedded; a new model or chunking rebuilds."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import store
from .chunking import CHUNKING_VERSION, chunk_document
from .config import Settings
from .embed import get_embedder
from .errors import CorpusError
from .ingest import Skipped, load_corpus, scan_corpus

__all__ = ["IndexSummary", "build_index", "ensure_index", "corpus_fingerprint"]


@dataclass
class IndexSummary:
    """What an index run did."""

    documents: int = 0
    chunks: int = 0
    tables: int = 0
    seconds: float = 0.0
    embedded_documents: int = 0
    reused_documents: int = 0
    removed_documents: int = 0
    up_to_date: bool = False
    skipped: list[Skipped] = field(default_factory=list)

    def line(self) -> str:
        """The one-line summary printed at the end of `assistant index`."""
        s = (f"{self.documents} documents, {self.chunks} chunks, {self.tables} tables in {self.seconds:.1f} s"
             + (" (up to date)" if self.up_to_date else
                f" (embedded {self.embedded_documents}, reused {self.reused_documents}, "
                f"removed {self.removed_documents})"))
        if self.skipped:
            s += "; skipped: " + "; ".join(f"{k.source} ({k.reason})" for k in self.skipped)
        return s


def _hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else ""


def corpus_fingerprint(settings: Settings) -> dict:
    """Hashes of every corpus file plus the settings that shape the index."""
    files = scan_corpus(settings.corpus_dir)
    return {
        "embed_model": get_embedder().name,
        "chunking_version": CHUNKING_VERSION,
        "chunk_words": settings.chunk_words,
        "metadata_sha256": _hash(settings.corpus_dir / "sources.json"),
        "corrections_sha256": _hash(settings.corpus_dir / "corrections.json"),
        "files": {p.name: _hash(p) for p in files},
    }


def _same_shape(a: dict, b: dict) -> bool:
    keys = ("embed_model", "chunking_version", "chunk_words", "metadata_sha256", "corrections_sha256")
    return all(a.get(k) == b.get(k) for k in keys)


def build_index(settings: Settings | None = None, rebuild: bool = False, progress: bool = False,
                lock_wait: float = 0.0) -> IndexSummary:
    """Index the corpus into settings.index_dir; returns what was done."""
    settings = settings or Settings.load()
    t0 = time.perf_counter()
    with store.write_lock(settings.index_dir, wait=lock_wait):
        fp = corpus_fingerprint(settings)
        if not fp["files"]:
            raise CorpusError(f"no documents (.txt .md .html .pdf) in {settings.corpus_dir}")
        current = store.current_build(settings.index_dir)
        old = store.IndexHandle(current) if current else None
        old_fp = old.manifest.get("fingerprint", {}) if old else {}
        if old and not rebuild and old_fp == fp:
            m = old.manifest
            return IndexSummary(m["documents"], m["chunks"], m["tables"], time.perf_counter() - t0,
                                reused_documents=m["documents"], up_to_date=True,
                                skipped=[Skipped(**s) for s in m.get("skipped", [])])
        reusable = old is not None and not rebuild and _same_shape(old_fp, fp)
        docs, skipped = load_corpus(settings.corpus_dir, max_bytes=int(settings.max_file_mb * 1e6))
        if not docs:
            raise CorpusError(f"no readable documents in {settings.corpus_dir}: "
                              + "; ".join(f"{s.source} ({s.reason})" for s in skipped))
        chunks, texts_to_embed, vectors = [], [], []
        reused = embedded = 0
        plan = []
        for d in docs:
            cs = chunk_document(d, settings.chunk_words)
            cached = {}
            if reusable and old_fp.get("files", {}).get(d.source) == fp["files"].get(d.source):
                cached = old.vectors_for(d.source)  # type: ignore[union-attr]
            if cs and all(c.text in cached for c in cs):
                reused += 1
            else:
                embedded += 1
                cached = {}
            plan.append((cs, cached))
            chunks.extend(cs)
        for cs, cached in plan:
            for c in cs:
                if c.text not in cached:
                    texts_to_embed.append(_embed_text(c))
        bar = _bar(len(texts_to_embed) + len(chunks), progress)
        new_vecs = get_embedder().embed(texts_to_embed, progress=bar.update if bar else None)
        it = iter(new_vecs)
        for cs, cached in plan:
            for c in cs:
                vectors.append(cached[c.text] if c.text in cached else next(it))
        removed = len(set(old_fp.get("files", {})) - set(fp["files"])) if old else 0
        manifest = {
            "fingerprint": fp, "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "documents": len(docs), "chunks": len(chunks), "tables": sum(len(d.tables) for d in docs),
            "skipped": [s.__dict__ for s in skipped],
            "sources": {d.source: {"title": d.title, "publisher": d.publisher, "date": d.date,
                                   "chunks": sum(c.source == d.source for c in chunks), "tables": len(d.tables),
                                   "sha256": d.sha256} for d in docs},
        }
        store.write_build(settings.index_dir, manifest, docs, chunks, vectors,
                          progress=bar.update if bar else None)
        if bar:
            bar.close()
        return IndexSummary(len(docs), len(chunks), manifest["tables"], time.perf_counter() - t0,
                            embedded, reused, removed, False, skipped)


def _embed_text(c) -> str:
    # The section path tells the embedder what a paragraph is about when the text itself does not
    # name it (e.g. a paragraph under the heading "Japan" that only says "the parties").
    # A table record leads with its row/column label so the label, not the shared caption, dominates.
    if c.kind in ("table_row", "table_column"):
        return f"{c.locator.split(': ', 1)[-1]}: {c.text}"
    return f"{c.section}: {c.text}" if c.kind == "text" and c.section else c.text


def _bar(total: int, enabled: bool):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc="indexing", unit="chunk")


def ensure_index(settings: Settings, progress: bool = False) -> None:
    """Build the index if there is none (first use)."""
    if store.current_build(settings.index_dir) is None:
        build_index(settings, progress=progress, lock_wait=600)
