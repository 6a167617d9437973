"""Build or refresh the index: only changed documents are re-embedded; a new model or chunking rebuilds."""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import store
from .chunking import CHUNKING_VERSION, chunk_document
from .config import Settings
from .embed import get_embedder
from .errors import CorpusError, IndexError_
from .ingest import SUPPORTED, Skipped, load_corpus, scan_corpus
from .types import Chunk
from .vectors import embed_text

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
    handled: list[Skipped] = field(default_factory=list)  # indexed, but with something repaired or removed
    location: str = ""
    repaired: str = ""  # e.g. "the previous index was damaged (...) and was rebuilt"

    def line(self) -> str:
        """The one-line summary printed at the end of `assistant index`."""
        s = (f"{self.documents} documents, {self.chunks} chunks, {self.tables} tables in {self.seconds:.1f} s"
             + (" (up to date)" if self.up_to_date else
                f" (embedded {self.embedded_documents}, reused {self.reused_documents}, "
                f"removed {self.removed_documents})"))
        if self.skipped:
            s += "; skipped: " + "; ".join(f"{k.source} ({k.reason})" for k in self.skipped)
        if self.handled:
            s += "; handled: " + "; ".join(f"{k.source} ({k.reason})" for k in self.handled)
        if self.repaired:
            s += f"; {self.repaired}"
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
        "vector_store": settings.vector_store,
        "max_file_mb": settings.max_file_mb,
        "metadata_sha256": _hash(settings.corpus_dir / "sources.json"),
        "corrections_sha256": _hash(settings.corpus_dir / "corrections.json"),
        "files": {p.name: _hash(p) for p in files},
    }


def _same_shape(a: dict, b: dict) -> bool:
    keys = ("embed_model", "chunking_version", "chunk_words", "metadata_sha256", "corrections_sha256",
            "vector_store")
    return all(a.get(k) == b.get(k) for k in keys)


EMBED_BATCH = 1024  # texts embedded per call: vectors go straight into a float32 array (bounded memory)


def _embed(texts: list[str], progress=None) -> np.ndarray:
    out = np.zeros((len(texts), 384), dtype=np.float32) if not texts else None
    parts = []
    for i in range(0, len(texts), EMBED_BATCH):
        parts.append(np.asarray(get_embedder().embed(texts[i:i + EMBED_BATCH], progress=progress),
                                dtype=np.float32))
    return np.concatenate(parts) if parts else out  # type: ignore[return-value]


def build_index(settings: Settings | None = None, rebuild: bool = False, progress: bool = False,
                lock_wait: float = 0.0) -> IndexSummary:
    """Index the corpus into the embedded store under settings.index_dir, or into the Chroma server named
    by settings.chroma_url; returns what was done.

    Only one writer at a time (IndexLockedError after `lock_wait` seconds); readers keep the previous
    index until the new one is complete and swapped in.
    """
    settings = settings or Settings.load()
    t0 = time.perf_counter()
    location = settings.chroma_url or str(settings.index_dir)
    with store.write_lock(settings, wait=lock_wait):
        fp = corpus_fingerprint(settings)
        if not fp["files"]:
            raise CorpusError(f"no documents ({' '.join(SUPPORTED)}) in {settings.corpus_dir}")
        current = store.current_build(settings)
        damaged = store.damage(current) if current else ""
        try:
            old = store.IndexHandle(current) if current and not damaged else None
        except IndexError_ as e:  # manifest or documents unreadable: build afresh, as for a damaged store
            old, damaged = None, str(e).split(";")[0]
        old_fp = old.manifest.get("fingerprint", {}) if old else {}
        if old and not rebuild and old_fp == fp:
            m = old.manifest
            return IndexSummary(m["documents"], m["chunks"], m["tables"], time.perf_counter() - t0,
                                reused_documents=m["documents"], up_to_date=True,
                                skipped=[Skipped(**s) for s in m.get("skipped", [])],
                                handled=[Skipped(**s) for s in m.get("handled", [])], location=location)
        reusable = old is not None and not rebuild and _same_shape(old_fp, fp)
        handled: list[Skipped] = []
        reuse = old.documents if (old is not None and reusable) else None  # unchanged files: cleaned already
        docs, skipped = load_corpus(settings.corpus_dir, max_bytes=int(settings.max_file_mb * 1e6),
                                    notes=handled, reuse=reuse)
        if reuse:
            read_again = {h.source for h in handled}
            handled += [Skipped(**h) for h in old.manifest.get("handled", [])  # type: ignore[union-attr]
                        if h["source"] in reuse and h["source"] not in read_again
                        and any(d.source == h["source"] and d is reuse[h["source"]] for d in docs)]
            handled.sort(key=lambda h: h.source)
        if not docs:
            raise CorpusError(f"no readable documents in {settings.corpus_dir}: "
                              + "; ".join(f"{s.source} ({s.reason})" for s in skipped))
        unchanged = {d.source for d in docs
                     if reusable and old_fp.get("files", {}).get(d.source) == fp["files"].get(d.source)}
        # one paged scan of the old vectors (not one request per document: 500 documents on a server)
        try:
            stored = old.all_vectors() if (old is not None and unchanged) else {}
        except IndexError_ as e:  # the store broke where the quick check does not look: embed everything
            stored, damaged = {}, str(e).split(";")[0]
        chunks: list[Chunk] = []
        plan = []
        reused = embedded = 0
        kept = []
        for d in docs:
            try:
                cs = chunk_document(d, settings.chunk_words)
            except Exception as e:  # one hostile document must not stop the others
                skipped.append(Skipped(d.source, f"could not be chunked ({type(e).__name__}: {e})"))
                continue
            if not cs:
                skipped.append(Skipped(d.source, "no text to index after cleaning"))
                continue
            cached = stored.get(d.source, {}) if d.source in unchanged else {}
            if all(c.text in cached for c in cs):
                reused += 1
            else:
                embedded += 1
                cached = {}
            plan.append((cs, cached))
            chunks.extend(cs)
            kept.append(d)
        docs = kept
        if not docs:
            raise CorpusError(f"no indexable documents in {settings.corpus_dir}: "
                              + "; ".join(f"{s.source} ({s.reason})" for s in skipped))
        texts_to_embed = [embed_text(c) for cs, cached in plan for c in cs if c.text not in cached]
        bar = _bar(len(texts_to_embed) + len(chunks), progress)
        new_vecs = _embed(texts_to_embed, progress=bar.update if bar else None)
        del stored
        vectors = np.zeros((len(chunks), new_vecs.shape[1] if len(new_vecs) else 384), dtype=np.float32)
        row = fresh = 0
        for cs, cached in plan:
            for c in cs:
                if c.text in cached:
                    vectors[row] = cached[c.text]
                else:
                    vectors[row] = new_vecs[fresh]
                    fresh += 1
                row += 1
        removed = len(set(old_fp.get("files", {})) - set(fp["files"])) if old else 0
        per_doc = Counter(c.source for c in chunks)
        manifest = {
            "fingerprint": fp, "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "documents": len(docs), "chunks": len(chunks), "tables": sum(len(d.tables) for d in docs),
            "skipped": [s.__dict__ for s in skipped], "handled": [s.__dict__ for s in handled],
            "sources": {d.source: {"title": d.title, "publisher": d.publisher, "date": d.date,
                                   "chunks": per_doc[d.source], "tables": len(d.tables),
                                   "sha256": d.sha256} for d in docs},
        }
        store.write_build(settings, manifest, docs, chunks, vectors, progress=bar.update if bar else None)
        if bar:
            bar.close()
        if damaged and current is not None:
            store.remove_build(current)  # never the fallback of a later failure
        return IndexSummary(len(docs), len(chunks), manifest["tables"], time.perf_counter() - t0,
                            embedded, reused, removed, False, skipped, handled, location,
                            f"the previous index was damaged ({damaged}) and was rebuilt" if damaged else "")


def _bar(total: int, enabled: bool):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc="indexing", unit="chunk")


def ensure_index(settings: Settings, progress: bool = False) -> None:
    """Build the index if there is none (first use), or if this code would write it otherwise (an upgrade
    that changed the chunking or the embedding model): answers never come from records it no longer
    writes. A change of documents waits for `assistant index`."""
    current = store.current_build(settings)
    if current is None or (isinstance(current, Path) and _outdated(current, settings)):
        build_index(settings, progress=progress, lock_wait=600)


def _outdated(build: Path, settings: Settings) -> bool:
    """Was this index build written with another chunking version, embedding model or vector store? (Its
    manifest alone is read: this runs before every question.)"""
    try:
        fp = json.loads((build / "manifest.json").read_text()).get("fingerprint", {})
    except (OSError, ValueError):
        return False  # an unreadable manifest is the store's error to report
    return (fp.get("chunking_version") != CHUNKING_VERSION or fp.get("embed_model") != get_embedder().name
            or store.store_kind({"fingerprint": fp}) != settings.vector_store)
