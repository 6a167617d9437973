"""Our readers, cleaning and chunking as llama-index components, for a llama-index ingestion pipeline:

    CorpusReader   a llama-index reader: a folder (txt, md, html, pdf, docx, odt) read, cleaned and its tables
                   kept typed, as llama-index `Document`s (text = the cleaned text quotes must be in)
    ChunkParser    a llama-index transformation: those documents -> our chunks as `TextNode`s (paragraphs
                   packed per section; each table row, column and footnote a record of its own)

    from llama_index.core.ingestion import IngestionPipeline
    nodes = IngestionPipeline(transformations=[ChunkParser(), MiniLMEmbedding()]).run(
        documents=CorpusReader().load_data("corpus"))

`assistant index` runs the same reading and chunking, adding what a pipeline run does not: reuse of the
vectors of unchanged files, the single-writer lock and the atomic build swap.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from llama_index.core.readers.base import BaseReader
from llama_index.core.schema import BaseNode, TransformComponent
from llama_index.core.schema import Document as LIDocument

from ..chunking import chunk_document
from ..types import Document
from ..vectors import chunk_node

__all__ = ["CorpusReader", "ChunkParser", "to_llama_document", "from_llama_document"]

_STRUCTURE = "assistant_document"  # metadata key holding the cleaned document's blocks, spans and tables
_SHOWN = ("source", "title", "publisher", "date", "kind")


def to_llama_document(doc: Document) -> LIDocument:
    """A llama-index `Document` of a cleaned document: its text, its descriptors as metadata, and its
    structure (blocks, spans, typed tables) under "assistant_document", kept out of embeddings and prompts."""
    structure = doc.to_dict()
    meta: dict[str, Any] = {k: structure[k] for k in _SHOWN}
    meta[_STRUCTURE] = {k: v for k, v in structure.items() if k != "text"}
    return LIDocument(id_=doc.source, text=doc.text, metadata=meta,
                      excluded_embed_metadata_keys=[_STRUCTURE, "source", "kind"],
                      excluded_llm_metadata_keys=[_STRUCTURE, "kind"])


def from_llama_document(node: BaseNode) -> Document:
    """Our cleaned document back from a node made by `to_llama_document`."""
    structure = node.metadata.get(_STRUCTURE)
    if structure is None:
        raise ValueError(f"node {node.node_id} was not read by CorpusReader (no {_STRUCTURE!r} metadata)")
    return Document.from_dict({**structure, "text": node.get_content()})


class CorpusReader(BaseReader):
    """Reads a folder the way `assistant index` does: every supported file cleaned, tables typed, bad files
    skipped (`skipped` lists them with the reason after `load_data`)."""

    def __init__(self, max_bytes: int | None = None) -> None:
        self.max_bytes = max_bytes
        self.skipped: list = []

    def load_data(self, folder: str | Path = "corpus", **kwargs: Any) -> list[LIDocument]:
        from . import load_corpus

        docs, self.skipped = load_corpus(Path(folder), max_bytes=self.max_bytes)
        return [to_llama_document(d) for d in docs]


class ChunkParser(TransformComponent):
    """llama-index documents from `CorpusReader` -> our chunks as `TextNode`s with our metadata (source,
    kind, section, locator, span, title, chunk_id)."""

    chunk_words: int = 110

    def __call__(self, nodes: list[BaseNode], **kwargs: Any) -> list[BaseNode]:
        out: list[BaseNode] = []
        for node in nodes:
            out.extend(chunk_node(c) for c in chunk_document(from_llama_document(node), self.chunk_words))
        return out
