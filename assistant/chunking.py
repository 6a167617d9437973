"""Document -> list[Chunk]. Pure: no I/O. Paragraphs are packed per section; records stay whole."""

from __future__ import annotations

from .text import sentence_spans
from .types import Chunk, Document

__all__ = ["chunk_document", "CHUNKING_VERSION"]

CHUNKING_VERSION = "13"  # bump when cleaning, records or chunk boundaries change: the index rebuilds


TINY_WORDS = 8  # a paragraph this short ("by", "26") joins the next chunk rather than standing alone


def _section_label(section: tuple[str, ...]) -> str:
    return " > ".join(section)


def chunk_document(doc: Document, chunk_words: int = 110) -> list[Chunk]:
    """Split a cleaned document into retrievable chunks with spans into `doc.text`."""
    chunks: list[Chunk] = []

    def add(kind: str, start: int, end: int, section: tuple[str, ...], locator: str) -> None:
        text = doc.text[start:end]
        if not text.strip():
            return
        chunks.append(Chunk(
            id=f"{doc.source}#{len(chunks):04d}", source=doc.source, text=text, kind=kind,  # type: ignore[arg-type]
            section=_section_label(section), locator=locator or (section[-1] if section else doc.title),
            start=start, end=end, title=doc.title,
        ))

    run: list[tuple[int, int]] = []  # pieces (spans) of the text chunk being packed
    run_words = 0
    run_section: tuple[str, ...] = ()
    # Headings no section path keeps (a heading followed at once by a sibling heading: an author line, a
    # date line on a title page) and tiny paragraphs ("by") would be lost to retrieval; they open the next
    # text chunk instead, so "who wrote the brief?" can be answered and quoted.
    prefix: list[tuple[int, int]] = []

    def flush() -> None:
        nonlocal run, run_words
        if run:
            add("text", run[0][0], run[-1][1], run_section, "")
        run, run_words = [], 0

    for block, (start, end) in zip(doc.blocks, doc.spans, strict=True):
        if block.kind == "heading":
            if run and run_words < TINY_WORDS:
                prefix += run
                run, run_words = [], 0
            flush()
            prefix.append((start, end))
            continue
        if block.kind != "paragraph":
            flush()
            prefix = []
            kind = "footnote" if block.kind == "footnote" else block.kind
            add(kind, start, end, block.section, block.locator)
            continue
        if block.section != run_section:
            if run and run_words < TINY_WORDS:
                prefix = run + prefix
                run, run_words = [], 0
            flush()
            run_section = block.section
        lost = [(s, e) for s, e in prefix if doc.text[s:e].strip() not in block.section]
        prefix = []
        if lost and not run:
            run.append((lost[0][0], lost[-1][1]))
            run_words = len(doc.text[lost[0][0]:lost[-1][1]].split())
        pieces = [(start, end)]
        words = len(block.text.split())
        if words > chunk_words:  # split long paragraphs at sentence boundaries
            pieces = sentence_spans(doc.text, start, end)
        for s, e in pieces:
            n = len(doc.text[s:e].split())
            if run and run_words + n > chunk_words:
                flush()
                run_section = block.section
            run.append((s, e))
            run_words += n
        # paragraphs are packed together only while they are short
        if run_words >= chunk_words * 0.6:
            flush()
    flush()
    return chunks
