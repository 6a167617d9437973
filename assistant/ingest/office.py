"""Word (.docx, python-docx) and OpenDocument (.odt, odfpy) files -> text, title and typed tables.

The only module that imports python-docx and odfpy. Headings (Word's "Heading N" / "Title" styles,
OpenDocument's text:h with its outline level) become '#' lines, which the cleaner turns into section paths;
paragraphs are separated by blank lines; each table becomes a `Table` (first row = header, first column =
row label; a cell's paragraphs joined with spaces), with a marker line where it stood. Footnotes and
endnotes of an .odt are kept as numbered notes at the end ("Footnote N").
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import CorpusError
from ..types import Table
from .tables import table_marker

__all__ = ["read_docx", "read_odt"]

_CAPTION = re.compile(r"^\s*Table\s+\d+\s*[:.–—-]")


def _cell(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


class _Out:
    """Output lines, tables and the heading they sit under (for untitled tables' captions)."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.tables: list[Table] = []
        self.heading = ""
        self.title = ""

    def heading_line(self, text: str, level: int) -> None:
        text = _cell(text)
        if text:
            self.lines += ["#" * max(1, min(level, 3)) + " " + text, ""]
            self.heading = text
            self.title = self.title or (text if level == 1 else "")

    def paragraph(self, text: str) -> None:
        text = text.strip()
        if text:
            self.lines += [text, ""]

    def table(self, rows: list[list[str]]) -> None:
        rows = [[_cell(c) for c in r] for r in rows]
        rows = [r for r in rows if any(r)]
        if not rows:
            return
        width = max(len(r) for r in rows)
        rows = [r + [""] * (width - len(r)) for r in rows]
        if width < 2 or len(rows) < 2:  # a one-column or one-row "table" is layout, not data
            for r in rows:
                self.paragraph(" ".join(c for c in r if c))
            return
        caption = ""
        if len(self.lines) >= 2 and _CAPTION.match(self.lines[-2]):
            caption = self.lines[-2]  # "Table 2: ..." printed just above the table
            del self.lines[-2:]
        n = len(self.tables) + 1
        if not caption:
            caption = f"Table {n} – {self.heading or '(untitled)'}"
        header, body = rows[0], rows[1:]
        cols = [c or f"column {k + 1}" for k, c in enumerate(header[1:])]
        self.tables.append(Table(caption, header[0] or "Row", cols, [(r[0], r[1:]) for r in body]))
        self.lines += [table_marker(n - 1), ""]

    def result(self) -> tuple[str, str, list[Table]]:
        return "\n".join(self.lines), self.title, self.tables


# --------------------------------------------------------------------------- .docx


def read_docx(path: Path) -> tuple[str, str, list[Table]]:
    """(text with table markers, title, tables) of a Word file; CorpusError if it is not one."""
    import docx
    from docx.oxml.ns import qn

    try:
        document = docx.Document(str(path))
    except Exception as e:  # not a zip, no word/document.xml, bad XML...
        raise CorpusError(f"{path.name}: not a readable Word file ({e.__class__.__name__})") from e
    out = _Out()
    out.title = (document.core_properties.title or "").strip()
    # a "Title" paragraph sits above the "Heading 1"s: shift the headings one level down under it
    shift = int(any((p.style is not None and p.style.name == "Title") for p in document.paragraphs))
    for child in document.element.body.iterchildren():
        if child.tag == qn("w:p"):
            p = docx.text.paragraph.Paragraph(child, document)
            style = (p.style.name if p.style is not None else "") or ""
            m = re.match(r"Heading (\d)", style)
            if style == "Title":
                out.heading_line(p.text, 1)
            elif m:
                out.heading_line(p.text, int(m.group(1)) + shift)
            elif style.startswith("List"):
                out.paragraph(f"• {p.text}" if p.text.strip() else "")
            else:
                out.paragraph(p.text)
        elif child.tag == qn("w:tbl"):
            table = docx.table.Table(child, document)
            out.table([[cell.text for cell in _unique_cells(row)] for row in table.rows])
    return out.result()


def _unique_cells(row) -> list:
    """A row's cells with a horizontally merged cell counted once (python-docx repeats it per grid column)."""
    cells, seen = [], set()
    for c in row.cells:
        if id(c._tc) not in seen:
            seen.add(id(c._tc))
            cells.append(c)
    return cells


# --------------------------------------------------------------------------- .odt


def read_odt(path: Path) -> tuple[str, str, list[Table]]:
    """(text with table markers, title, tables) of an OpenDocument text file; CorpusError if it is not one."""
    from odf import opendocument, teletype
    from odf.namespaces import TEXTNS

    try:
        document = opendocument.load(str(path))
    except Exception as e:
        raise CorpusError(f"{path.name}: not a readable OpenDocument file ({e.__class__.__name__})") from e
    out = _Out()
    notes: list[tuple[str, str]] = []

    def text_of(node) -> str:
        """The node's text with its notes pulled out: the call stays as a superscript, the body is kept."""
        parts = []
        for n in node.childNodes:
            if n.nodeType == n.TEXT_NODE:
                parts.append(str(n.data))
            elif n.qname == (TEXTNS, "note"):
                citation = next((c for c in n.childNodes if c.qname == (TEXTNS, "note-citation")), None)
                body = next((c for c in n.childNodes if c.qname == (TEXTNS, "note-body")), None)
                num = teletype.extractText(citation).strip() if citation is not None else str(len(notes) + 1)
                notes.append((num, _cell(teletype.extractText(body)) if body is not None else ""))
                parts.append(num.translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")))
            elif n.qname == (TEXTNS, "s"):
                parts.append(" ")
            elif n.qname in ((TEXTNS, "tab"), (TEXTNS, "line-break")):
                parts.append(" ")
            else:
                parts.append(text_of(n))
        return "".join(parts)

    def walk(node) -> None:
        for n in node.childNodes:
            name = n.qname[1] if n.qname else ""
            if name == "h":
                level = int(n.getAttribute("outlinelevel") or 1)
                out.heading_line(text_of(n), level)
            elif name == "p":
                out.paragraph(text_of(n))
            elif name == "list":
                for item in n.childNodes:
                    for p in item.childNodes:
                        if p.qname and p.qname[1] in ("p", "h"):
                            out.paragraph("• " + text_of(p))
                        elif p.qname and p.qname[1] == "list":
                            walk(item)
            elif name == "table":
                rows = []
                for r in _odt_rows(n):
                    rows.append([" ".join(text_of(p) for p in c.childNodes if p.qname and p.qname[1] in ("p", "h"))
                                 for c in r])
                out.table(rows)
            elif name in ("section", "div"):
                walk(n)

    walk(document.text)
    if notes:
        out.heading_line("Notes", 2)
        for num, body in notes:
            out.paragraph(f"{num} {body}")
    return out.result()


def _odt_rows(table) -> list[list]:
    rows = []
    for n in table.childNodes:
        name = n.qname[1] if n.qname else ""
        if name == "table-row":
            rows.append([c for c in n.childNodes if c.qname and c.qname[1] == "table-cell"])
        elif name in ("table-header-rows", "table-rows", "table-row-group"):
            rows.extend(_odt_rows(n))
    return rows
