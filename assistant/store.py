"""The only module that imports chromadb: build, swap and open the on-disk index.

Layout of index_dir:
    CURRENT                 name of the active build folder (replaced atomically)
    .lock                   single-writer lock (flock); readers never take it
    build-<time>-<pid>/     chroma/ (PersistentClient), manifest.json, documents.json
A build is written into a fresh folder and becomes visible only when CURRENT is swapped, so readers
keep answering from the previous index and a crash mid-build leaves it intact (chromadb corrupts a
store that two processes write at once; see shared/OFFLINE.md).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

from .errors import IndexError_, IndexLockedError
from .types import Chunk, Document, Table

__all__ = ["IndexHandle", "write_lock", "current_build", "open_index", "write_build", "list_builds"]

COLLECTION = "chunks"


def _client(path: Path):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    return chromadb.PersistentClient(path=str(path), settings=ChromaSettings(anonymized_telemetry=False))


@contextlib.contextmanager
def write_lock(index_dir: Path, wait: float = 0.0) -> Iterator[None]:
    """Hold the single-writer lock; wait up to `wait` seconds, then raise IndexLockedError."""
    index_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(index_dir / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + wait
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "another process"
                    raise IndexLockedError(
                        f"the index at {index_dir} is being written by {holder}; try again when it finishes"
                    ) from None
                time.sleep(0.2)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}".encode(), 0)
        yield
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def current_build(index_dir: Path) -> Path | None:
    """The active build folder, or None when there is no complete index."""
    pointer = index_dir / "CURRENT"
    try:
        name = pointer.read_text().strip()
    except OSError:
        return None
    path = index_dir / name
    return path if (path / "manifest.json").exists() else None


def list_builds(index_dir: Path) -> list[Path]:
    """All build folders, oldest first."""
    return sorted(p for p in index_dir.glob("build-*") if p.is_dir() and not p.name.endswith(".partial"))


class IndexHandle:
    """A read-only view of one build: manifest, cleaned documents, chunks and the Chroma collection."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.manifest = json.loads((path / "manifest.json").read_text())
            raw_docs = json.loads((path / "documents.json").read_text())
        except (OSError, json.JSONDecodeError) as e:
            raise IndexError_(f"index at {path} is unreadable ({e}); run `assistant index --rebuild`") from e
        self.documents: dict[str, Document] = {}
        for d in raw_docs:
            tables = [Table(**{**t, "rows": [tuple(r) for r in t["rows"]], "section": tuple(t["section"])})
                      for t in d.pop("tables")]
            self.documents[d["source"]] = Document(**d, tables=tables)
        self._collection = None
        self._chunks: list[Chunk] | None = None

    @property
    def collection(self):
        if self._collection is None:
            self._collection = _client(self.path / "chroma").get_collection(COLLECTION)
        return self._collection

    def chunks(self) -> list[Chunk]:
        """Every chunk in the build (read once)."""
        if self._chunks is None:
            got = self.collection.get(include=["documents", "metadatas"])
            self._chunks = [
                Chunk(id=i, text=t, **{k: m[k] for k in ("source", "kind", "section", "locator", "start", "end",
                                                          "title")})
                for i, t, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
            ]
            self._chunks.sort(key=lambda c: c.id)
        return self._chunks

    def query(self, vector: list[float], k: int) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of the k nearest chunks."""
        k = min(k, self.collection.count())
        if k <= 0:
            return []
        res = self.collection.query(query_embeddings=[vector], n_results=k, include=["distances"])
        return [(i, 1.0 - d) for i, d in zip(res["ids"][0], res["distances"][0], strict=True)]

    def vectors_for(self, source: str) -> dict[str, list[float]]:
        """Stored vectors of one document's chunks, by chunk text (to reuse them in a rebuild)."""
        got = self.collection.get(where={"source": source}, include=["embeddings", "documents"])
        return {t: list(map(float, e)) for t, e in zip(got["documents"], got["embeddings"], strict=True)}


def open_index(index_dir: Path) -> IndexHandle:
    """Open the active build; raises IndexError_ if there is none."""
    path = current_build(index_dir)
    if path is None:
        raise IndexError_(f"no index in {index_dir}; run `assistant index`")
    return IndexHandle(path)


def _doc_json(d: Document) -> dict:
    data = asdict(d)
    return data


def write_build(index_dir: Path, manifest: dict, docs: list[Document], chunks: list[Chunk],
                vectors: list[list[float]], progress=None) -> Path:
    """Write a complete new build and swap it in; older builds beyond the previous one are removed."""
    build = index_dir / f"build-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 10**6}"
    tmp = build.with_name(build.name + ".partial")
    tmp.mkdir(parents=True)
    try:
        client = _client(tmp / "chroma")
        col = client.create_collection(COLLECTION, metadata={"hnsw:space": "cosine"})
        step = 500
        for i in range(0, len(chunks), step):
            part = chunks[i:i + step]
            col.add(ids=[c.id for c in part], documents=[c.text for c in part],
                    metadatas=[c.to_metadata() for c in part], embeddings=vectors[i:i + step])
            if progress:
                progress(len(part))
        del col, client
        (tmp / "documents.json").write_text(json.dumps([_doc_json(d) for d in docs], ensure_ascii=False))
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False))
        os.replace(tmp, build)
        pointer_tmp = index_dir / f".CURRENT.{os.getpid()}"
        pointer_tmp.write_text(build.name)
        os.replace(pointer_tmp, index_dir / "CURRENT")  # the atomic switch readers see
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    for old in list_builds(index_dir)[:-2]:  # keep the active and the previous build
        if old != build:
            shutil.rmtree(old, ignore_errors=True)
    for stale in index_dir.glob("build-*.partial"):
        shutil.rmtree(stale, ignore_errors=True)
    return build
