"""Read a file into raw text (and maybe a title and typed tables): .txt, .md, .html/.htm, .pdf, .docx, .odt.

Text formats give text whose tables the cleaner finds (tab-separated rows, pipe tables). PDF, Word and
OpenDocument files give their tables as `Table`s, with a marker line where each stood (tables.table_marker).
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import CorpusError
from ..types import Table

__all__ = ["SUPPORTED", "read_file", "read_document"]

SUPPORTED = (".txt", ".md", ".html", ".htm", ".pdf", ".docx", ".odt")


_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f\ufffd]")


def _decode(data: bytes, path: Path, notes: list[str] | None = None) -> str:
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise CorpusError(f"{path.name}: invalid UTF-16 text") from None
    if b"\x00" in data[:4096]:
        raise CorpusError(f"{path.name}: binary data, not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Not UTF-8: most such files here are Windows-1252 exports; keep going, and say so in the summary.
        text = data.decode("cp1252", errors="replace")
        if notes is not None:
            notes.append("not UTF-8: read as Windows-1252")
    # Random bytes decode as cp1252 without error; text has almost no control characters.
    sample = text[:20000]
    if sample and len(_CONTROL.findall(sample)) > 0.02 * len(sample):
        raise CorpusError(f"{path.name}: binary data, not text")
    return text


def _read_html(data: bytes, path: Path, notes: list[str] | None = None) -> tuple[str, str]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_decode(data, path, notes), "html.parser")
    active = soup(["script", "iframe", "object", "embed"])
    if active and notes is not None:
        notes.append(f"removed {len(active)} script/iframe/object element{'s' if len(active) > 1 else ''}")
    for tag in soup(["script", "style", "noscript", "nav", "footer", "header", "form", "iframe", "svg",
                     "object", "embed", "template"]):
        tag.decompose()
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    for n, table in enumerate(soup.find_all("table"), start=1):
        cap = table.find("caption")
        caption = cap.get_text(" ", strip=True) if cap else f"Table {n} – (untitled)"
        if not re.match(r"Table\s+\d+", caption):
            caption = f"Table {n} – {caption}"
        rows = []
        for tr in table.find_all("tr"):
            cells = [c.get_text(" ", strip=True) for c in tr.find_all(["th", "td"])]
            rows.append("\t".join(cells) + ("\t" if len(cells) == 1 else ""))
        table.replace_with(soup.new_string("\n\n" + caption + "\n\n" + "\n".join(rows) + "\n\n"))
    for tag in soup.find_all(["p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "br", "tr", "section"]):
        tag.insert_before("\n\n" if tag.name != "br" else "\n")
    text = soup.get_text()
    return re.sub(r"\n{3,}", "\n\n", text), title


_MD_ROW = re.compile(r"^\s*\|(.*\|.*)\|\s*$")  # '| a | b |'
_MD_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)+\|?\s*$")  # '|---|:--:|'


def _md_tables(text: str) -> str:
    """Markdown pipe tables as tab-separated rows, which the table finder reads (as for HTML tables); the
    rule line under the header goes."""
    out = []
    for line in text.split("\n"):
        if _MD_RULE.match(line) and "|" in line:
            continue
        m = _MD_ROW.match(line)
        if m:
            cells = [c.strip() for c in m.group(1).split("|")]
            line = "\t".join(cells) + ("\t" if len(cells) == 1 else "")
        out.append(line)
    return "\n".join(out)


def read_file(path: Path, max_bytes: int | None = None, notes: list[str] | None = None) -> tuple[str, str]:
    """(raw text, title or '') for a supported file; see `read_document`."""
    text, title, _ = read_document(path, max_bytes, notes)
    return text, title


def read_document(path: Path, max_bytes: int | None = None,
                  notes: list[str] | None = None) -> tuple[str, str, list[Table]]:
    """(raw text, title or '', tables) for a supported file; raises CorpusError with the file's name. Repairs
    (a non-UTF-8 file read as Windows-1252, scripts removed from HTML) are appended to `notes`."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise CorpusError(f"{path.name}: unsupported type {suffix or '(none)'}; supported: {', '.join(SUPPORTED)}")
    try:
        size = path.stat().st_size
        if max_bytes is not None and size > max_bytes:
            raise CorpusError(f"{path.name}: {size / 1e6:.1f} MB is over the {max_bytes / 1e6:.1f} MB limit")
        if size == 0:
            raise CorpusError(f"{path.name}: empty file")
        if suffix == ".pdf":
            from .pdf import read_pdf

            return read_pdf(path, notes)
        if suffix in (".docx", ".odt"):
            from .office import read_docx, read_odt

            text, title, tables = (read_docx if suffix == ".docx" else read_odt)(path)
            if not text.strip():
                raise CorpusError(f"{path.name}: no text")
            return text, title, tables
        data = path.read_bytes()
    except OSError as e:
        raise CorpusError(f"{path.name}: cannot read ({e.strerror})") from e
    if suffix in (".html", ".htm"):
        text, title = _read_html(data, path, notes)
        return text, title, []
    text = _decode(data, path, notes)
    if not text.strip():
        raise CorpusError(f"{path.name}: no text")
    return (_md_tables(text) if suffix == ".md" else text), "", []
