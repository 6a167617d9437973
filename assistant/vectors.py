"""Chunks as llama-index `TextNode`s in a llama-index vector store: the one module that adds, queries and
reads them. Two stores are wired and tested: Chroma (`ChromaVectorStore`, embedded or on a server; the
default) and Qdrant's local mode (`QdrantVectorStore` over `qdrant-client`'s on-disk store).

A node carries the chunk's text, its vector and our metadata (source, kind, section, locator, start, end,
title, and `chunk_id`). Node ids are UUIDs derived from the chunk id, because Qdrant accepts no others; the
chunk id travels in the metadata. Any other llama-index store fits behind `ChunkStore` the same way: see
docs/llamaindex.md.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .errors import IndexError_
from .types import Chunk

__all__ = ["ChunkStore", "STORES", "chunk_node", "node_chunk", "chroma_store", "qdrant_store", "embed_text"]

STORES = ("chroma", "qdrant")
_FIELDS = ("source", "kind", "section", "locator", "start", "end", "title")
_NAMESPACE = uuid.UUID("5b0c5e3a-8d4f-4c59-9d0e-2f7c1b6a9e41")


def embed_label(chunk: Chunk) -> str:
    """What the embedder reads before a chunk's text. The section path tells it what a paragraph is about
    when the text itself does not name it (a paragraph under the heading "Japan" that only says "the
    parties"); a table record leads with its row/column label, so that the label, not the shared caption,
    dominates."""
    if chunk.kind in ("table_row", "table_column"):
        return chunk.locator.split(": ", 1)[-1]
    return chunk.section if chunk.kind == "text" else ""


def embed_text(chunk: Chunk) -> str:
    """The text a chunk's vector is computed from (the same as its node's embedding content)."""
    label = embed_label(chunk)
    return f"{label}: {chunk.text}" if label else chunk.text


def chunk_node(chunk: Chunk, vector: Sequence[float] | None = None):
    """The llama-index node of a chunk (its vector attached when given). Its embedding content
    (`get_content(MetadataMode.EMBED)`) is `embed_text(chunk)`, so a llama-index embedding step computes
    the index's own vectors; prompts see the text alone."""
    from llama_index.core.schema import TextNode

    meta: dict[str, Any] = {**chunk.to_metadata(), "chunk_id": chunk.id}
    label = embed_label(chunk)
    if label:
        meta["embed_label"] = label
    return TextNode(id_=str(uuid.uuid5(_NAMESPACE, chunk.id)), text=chunk.text, metadata=meta,
                    embedding=None if vector is None else [float(x) for x in vector],
                    excluded_embed_metadata_keys=[k for k in meta if k != "embed_label"],
                    excluded_llm_metadata_keys=list(meta), metadata_template="{value}",
                    text_template="{metadata_str}: {content}")


def node_chunk(node) -> Chunk:
    """Our chunk back from a node written by `chunk_node`."""
    m = node.metadata
    return Chunk(id=m["chunk_id"], text=node.get_content(), **{k: m[k] for k in _FIELDS})


class ChunkStore:
    """One build's chunks in one llama-index vector store. `vector_store` is the llama-index store itself,
    for a llama-index `VectorStoreIndex.from_vector_store(...)`."""

    kind = ""

    def __init__(self, vector_store) -> None:
        self.vector_store = vector_store

    def add(self, chunks: list[Chunk], vectors, progress: Callable[[int], Any] | None = None,
            step: int = 500) -> None:
        for i in range(0, len(chunks), step):
            part = chunks[i:i + step]
            self.vector_store.add([chunk_node(c, v) for c, v in zip(part, vectors[i:i + step], strict=True)])
            if progress:
                progress(len(part))

    def query(self, vector: Sequence[float], k: int) -> list[tuple[str, float]]:
        """(chunk id, the store's similarity) of the k nearest chunks, nearest first."""
        from llama_index.core.vector_stores.types import VectorStoreQuery

        res = self.vector_store.query(VectorStoreQuery(query_embedding=list(vector), similarity_top_k=k))
        return [(n.metadata["chunk_id"], float(s)) for n, s in zip(res.nodes or [], res.similarities or [],
                                                                     strict=True)]

    def count(self) -> int:
        raise NotImplementedError

    def chunks(self) -> list[Chunk]:
        raise NotImplementedError

    def vectors(self) -> dict[str, dict[str, Any]]:
        """{source: {chunk text: vector}} of every stored chunk (reused by an incremental build)."""
        raise NotImplementedError


class _Chroma(ChunkStore):
    """`ChromaVectorStore`. Reading every node pages through the collection (llama-index's `get_nodes`
    fetches all in one request and without vectors): bounded requests on a large index or a server."""

    kind = "chroma"
    page = 5000

    def __init__(self, collection) -> None:
        from llama_index.vector_stores.chroma import ChromaVectorStore

        super().__init__(ChromaVectorStore(chroma_collection=collection))
        self.collection = collection
        self._chunk_ids: dict[str, str] = {}  # node id -> chunk id

    def query(self, vector: Sequence[float], k: int) -> list[tuple[str, float]]:
        """Ids and cosine similarities only. (`ChromaVectorStore.query` also fetches every hit's text and
        metadata and parses it into a node: 6.5 ms a query against 2.5 ms, measured on the 516-chunk index;
        retrieval needs the ids alone, the chunks are in memory.)"""
        if not self._chunk_ids:
            self._chunk_ids = {i: m["chunk_id"] for got in self._pages(["metadatas"])
                               for i, m in zip(got["ids"], got["metadatas"], strict=True)}
        res = self.collection.query(query_embeddings=[list(vector)], n_results=k, include=["distances"])
        return [(self._chunk_ids[i], 1.0 - d) for i, d in zip(res["ids"][0], res["distances"][0], strict=True)]

    def count(self) -> int:
        return self.collection.count()

    def _pages(self, include: list[str]):
        offset = 0
        while True:
            got = self.collection.get(include=include, limit=self.page, offset=offset)
            if not got["ids"]:
                return
            yield got
            if len(got["ids"]) < self.page:
                return
            offset += self.page

    def chunks(self) -> list[Chunk]:
        from llama_index.core.vector_stores.utils import metadata_dict_to_node

        out = []
        for got in self._pages(["documents", "metadatas"]):
            for i, t, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True):
                out.append(node_chunk(metadata_dict_to_node(m, text=t)))
                self._chunk_ids[i] = out[-1].id
        return out

    def vectors(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for got in self._pages(["embeddings", "documents", "metadatas"]):
            for t, e, m in zip(got["documents"], got["embeddings"], got["metadatas"], strict=True):
                out.setdefault(m["source"], {})[t] = e
        return out


def chroma_store(collection) -> ChunkStore:
    """The chunk store over a Chroma collection (embedded or on a server)."""
    return _Chroma(collection)


class _Qdrant(ChunkStore):
    """`QdrantVectorStore` over Qdrant's local mode: an on-disk store read and searched in this process
    (exact search, fine for tens of thousands of chunks). Local mode admits one client per folder: the
    clients are shared per folder within the process; another process must use a Qdrant server."""

    kind = "qdrant"
    collection_name = "chunks"

    def __init__(self, path: Path) -> None:
        from llama_index.vector_stores.qdrant import QdrantVectorStore

        self.client = _qdrant_client(path)
        super().__init__(QdrantVectorStore(collection_name=self.collection_name, client=self.client,
                                           index_doc_id=False))

    def count(self) -> int:
        if not self.client.collection_exists(self.collection_name):
            return 0
        return self.client.count(self.collection_name, exact=True).count

    def _nodes(self) -> list:
        n = self.count()
        return self.vector_store.get_nodes(limit=n) if n else []

    def chunks(self) -> list[Chunk]:
        return [node_chunk(n) for n in self._nodes()]

    def vectors(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for n in self._nodes():
            out.setdefault(n.metadata["source"], {})[n.get_content()] = n.embedding
        return out


_qdrant_clients: dict[Path, Any] = {}
_qlock = threading.Lock()


def _qdrant_client(path: Path):
    from qdrant_client import QdrantClient

    key = Path(path).resolve()
    with _qlock:
        if key not in _qdrant_clients:
            key.mkdir(parents=True, exist_ok=True)
            try:
                _qdrant_clients[key] = QdrantClient(path=str(key))
            except RuntimeError as e:  # the folder's lock: another process has this index open
                raise IndexError_(f"the Qdrant index at {key} is open in another process (Qdrant's local mode "
                                  "allows one); use one process, or the default Chroma store") from e
        return _qdrant_clients[key]


def qdrant_store(path: Path) -> ChunkStore:
    """The chunk store in Qdrant's local mode at `path` (created when missing)."""
    return _Qdrant(path)


def release(path: Path) -> None:
    """Close the local Qdrant client of a build folder, if this process opened one (before the folder is
    moved or removed)."""
    with _qlock:
        client = _qdrant_clients.pop(Path(path).resolve(), None)
    if client is not None:
        client.close()
