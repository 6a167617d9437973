"""Our own types passed between modules: Document, Chunk, Hit, Citation, Answer."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

__all__ = ["Block", "Table", "Document", "Chunk", "Hit", "Citation", "Answer"]

ChunkKind = Literal["text", "table_row", "table_column", "footnote"]


@dataclass
class Block:
    """A cleaned unit of a document: a heading, a paragraph, a table record or a footnote."""

    kind: Literal["heading", "paragraph", "table_row", "table_column", "footnote"]
    text: str
    section: tuple[str, ...] = ()
    locator: str = ""  # e.g. "Table 2, row 16: Space security and defence" or "Footnote 3"
    table: int | None = None  # index into Document.tables for table records


@dataclass
class Table:
    """A table recovered from the extraction: caption, column names and rows of cell values."""

    caption: str
    row_header: str
    columns: list[str]
    rows: list[tuple[str, list[str]]]  # (row label, one value per column)
    section: tuple[str, ...] = ()
    corrected: bool = False  # header cells came from corpus/corrections.json


@dataclass
class Document:
    """A cleaned document: `text` is what quotes must be substrings of."""

    source: str  # file name in corpus/
    title: str
    text: str
    blocks: list[Block] = field(default_factory=list)
    spans: list[tuple[int, int]] = field(default_factory=list)  # char span of each block in text
    tables: list[Table] = field(default_factory=list)
    publisher: str = ""
    date: str = ""
    kind: str = ""
    sha256: str = ""

    def to_dict(self) -> dict:
        """Plain JSON-able fields (what an index build stores)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Document:
        """The document back from `to_dict`, its tables and blocks typed again."""
        d = dict(d)
        tables = [Table(**{**t, "rows": [tuple(r) for r in t["rows"]], "section": tuple(t["section"])})
                  for t in d.pop("tables")]
        blocks = [Block(**{**b, "section": tuple(b["section"])}) for b in d.pop("blocks")]
        spans = [tuple(sp) for sp in d.pop("spans")]
        return cls(**d, tables=tables, blocks=blocks, spans=spans)  # type: ignore[arg-type]


@dataclass
class Chunk:
    """A retrievable piece of a document with its provenance."""

    id: str
    source: str
    text: str
    kind: ChunkKind
    section: str  # heading path joined with " > "
    locator: str  # human-readable: section, table row or footnote
    start: int  # char span in Document.text
    end: int
    title: str = ""

    def to_metadata(self) -> dict[str, str | int]:
        """Flat metadata for a vector store."""
        meta = asdict(self)
        meta.pop("text")
        meta.pop("id")
        return meta


@dataclass
class Hit:
    """A retrieved chunk with its fused score and the ranks that produced it."""

    chunk: Chunk
    score: float
    dense_rank: int | None = None
    lexical_rank: int | None = None
    dense_score: float | None = None


@dataclass
class Citation:
    """One numbered source in an answer; `quote` is a verbatim substring of the source's cleaned text."""

    n: int
    source: str
    title: str
    locator: str
    quote: str
    chunk_id: str = ""
    start: int = 0  # span of the quote in the document's cleaned text
    end: int = 0


@dataclass
class Answer:
    """The result of `answer()`."""

    question: str
    text: str
    citations: list[Citation] = field(default_factory=list)
    abstained: bool = False
    backend: str = ""
    model: str = ""
    seconds: float = 0.0
    notice: str = ""  # e.g. "generator unavailable; extractive answer"
    abstain_reason: str = ""  # why it abstained: refusal, nothing supported, or a name absent from the sources
    raw: str = ""  # the generator's text before the citation check
    hits: list[Hit] = field(default_factory=list)

    def to_dict(self, with_hits: bool = False) -> dict:
        """JSON-ready dict (hits omitted unless asked for)."""
        data = asdict(self)
        if not with_hits:
            data.pop("hits")
        return data

    def to_markdown(self) -> str:
        """Answer text (and its notice, e.g. that the passage stands in for the generated answer) followed by
        the numbered sources with their quotes."""
        lines = [self.text]
        if self.notice:
            lines += ["", f"_Note: {self.notice}_"]
        if self.citations:
            lines.append("")
            lines.append("**Sources**")
            for c in self.citations:
                lines.append(f"[{c.n}] *{c.title}* ({c.source}), {c.locator}: \u201c{c.quote}\u201d")
        return "\n".join(lines)
