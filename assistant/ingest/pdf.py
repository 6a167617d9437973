"""PDF -> text in reading order plus typed tables. The only module that imports pdfplumber.

What a PDF gives and what is done with it (measured on the three PDFs in shared/pdfs; docs/formats.md):
- ruled tables: pdfplumber finds them from their lines; when only the header row is ruled into cells
  (the body rows are one box each, as in the FMT report), the header's cell edges become the column lines.
  Cells that wrap over lines are joined; a table that continues on the next page (its header repeated, or
  headerless rows in the same columns, with no text in between) is one table; its caption (the short line
  above it, with the heading it sits under) is carried along. Cell text is kept verbatim ("1.451").
- text: words outside tables, grouped into lines; a page whose lines split at one vertical gutter is
  read column by column; lines repeated in the top or bottom margin of many pages (running headers and
  footers, page numbers) are dropped; larger type becomes a heading; small raised digits after a word
  become superscript footnote calls; a gap between lines becomes a paragraph break.
- no text layer (a scan): CorpusError "no text layer; OCR is not supported".
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import CorpusError
from ..types import Table
from .tables import table_marker

__all__ = ["read_pdf"]

SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
MARGIN = 0.1  # top and bottom tenth of a page: where running headers, footers and page numbers sit
HEADING_RATIO = 1.15  # type this much larger than the body text is a heading ("Armenia" 12 pt over 7 pt)
SMALLER = 0.9  # a raised word this much smaller than its line is a footnote call (HTML <sup>: 0.83; EPRS: 0.57)
_PAGE_NUMBER = re.compile(r"^\W*(?:page\s+)?\d{1,4}(?:\s*(?:/|of)\s*\d{1,4})?\W*$", re.I)
_CAPTION = re.compile(r"^\s*Table\s+\d+\s*[:.–—-]")
_NUMERIC = re.compile(r"^[\s$€£%()+\-–.,/\d]*\d[\s$€£%()+\-–.,/\d]*$")


@dataclass
class _Line:
    text: str
    top: float
    bottom: float
    x0: float
    x1: float
    size: float
    row: int = -1  # lines cut from one printed line (at wide gaps) share it


@dataclass
class _Grid:
    """A table as found on one page: rows of cells and the x positions of its column edges."""

    rows: list[list[str]]
    top: float
    bottom: float
    x0: float
    x1: float
    edges: list[float]


@dataclass
class _Page:
    items: list[_Line | _Grid] = field(default_factory=list)  # in reading order
    height: float = 0.0
    chars: int = 0
    scanned: bool = False  # no text but an image: a scanned page (a page with neither is simply blank)


def read_pdf(path: Path, notes: list[str] | None = None) -> tuple[str, str, list[Table]]:
    """(text with one table marker line per table, title or '', tables) of a PDF; CorpusError if unreadable.
    Pages without a text layer among pages with one (scanned inserts) are appended to `notes`."""
    import pdfplumber

    try:
        with pdfplumber.open(str(path)) as pdf:
            pages = [_read_page(p) for p in pdf.pages]
            meta = pdf.metadata or {}
    except CorpusError:
        raise
    except Exception as e:  # malformed PDFs make pdfminer raise almost anything (PSSyntaxError, KeyError...)
        raise CorpusError(f"{path.name}: not a readable PDF ({e.__class__.__name__})") from e
    if not pages:
        raise CorpusError(f"{path.name}: not a readable PDF (no pages)")
    if not any(p.chars for p in pages):
        raise CorpusError(f"{path.name}: no text layer; OCR is not supported")
    scanned = [str(n) for n, p in enumerate(pages, start=1) if p.scanned]
    if scanned and notes is not None:
        listed = ", ".join(scanned[:10]) + (" …" if len(scanned) > 10 else "")
        notes.append(f"page{'s' if len(scanned) > 1 else ''} {listed} of {len(pages)}: no text layer "
                     f"(scanned), not read; OCR is not supported")
    return _assemble(pages, meta)


# --------------------------------------------------------------------------- one page


def _read_page(page) -> _Page:
    page = page.filter(_not_overlapping_space(page.chars))
    out = _Page(height=float(page.height), chars=sum(1 for c in page.chars if c["text"].strip()))
    if not out.chars:
        out.scanned = bool(page.images)
        return out
    grids = [g for g in (_grid(page, t) for t in page.find_tables()) if g is not None]
    if grids:
        boxes = [(g.x0, g.top, g.x1, g.bottom) for g in grids]
        page = page.filter(lambda o: not _inside(o, boxes))
    lines = _lines(page.extract_words(extra_attrs=["size"], keep_blank_chars=False))
    lines, unruled = _unruled(lines, float(page.width))
    out.items = _reading_order(lines, grids + unruled, float(page.width))
    return out


def _not_overlapping_space(chars: list[dict]):
    """A filter dropping space characters drawn over a visible one (ICDAR's "1 4.862" for 14.862): they
    are layout artefacts, and pdfplumber would split the word at them."""
    visible: dict[int, list[tuple[float, float]]] = {}
    for c in chars:
        if c["text"].strip():
            visible.setdefault(round(c["top"]), []).append((c["x0"], c["x1"]))
    bad = set()
    for c in chars:
        if c["text"] == " ":
            for x0, x1 in visible.get(round(c["top"]), ()):
                if min(x1, c["x1"]) - max(x0, c["x0"]) > 0.5 * (c["x1"] - c["x0"]):
                    bad.add(id(c))
                    break
    return lambda o: id(o) not in bad if o.get("object_type") == "char" else True


def _inside(obj: dict, boxes: list[tuple[float, float, float, float]]) -> bool:
    if "x0" not in obj or "top" not in obj:
        return False
    cx, cy = (obj["x0"] + obj["x1"]) / 2, (obj["top"] + obj["bottom"]) / 2
    return any(x0 - 1 <= cx <= x1 + 1 and t - 1 <= cy <= b + 1 for x0, t, x1, b in boxes)


def _cell(text: str | None) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


def _grid(page, table) -> _Grid | None:
    """The table's rows of cells. When only the header row is ruled into cells and the body rows are one
    box each (the FMT report), the widest row's cell edges become the column lines for every row."""
    rows = table.rows
    if not rows:
        return None
    widest = max(rows, key=lambda r: sum(c is not None for c in r.cells))
    edges = sorted({round(c[0], 1) for c in widest.cells if c} | {round(c[2], 1) for c in widest.cells if c})
    tops = sorted({round(r.bbox[1], 1) for r in rows} | {round(r.bbox[3], 1) for r in rows})
    # One read of the cropped table on explicit lines: pdfplumber's own extract() tests every character of
    # the page against every cell (~13 of 18 s on the 35-page FMT report).
    try:
        cells = page.crop(table.bbox).extract_table({
            "vertical_strategy": "explicit", "explicit_vertical_lines": edges,
            "horizontal_strategy": "explicit", "explicit_horizontal_lines": tops}) or []
    except ValueError:  # a crop box pdfplumber rejects: read the table as found
        cells = table.extract()
    rows_out = [[_cell(c) for c in r] for r in cells]
    rows_out = [r for r in rows_out if any(r)]
    if not rows_out:
        return None
    width = max(len(r) for r in rows_out)
    rows_out = [r + [""] * (width - len(r)) for r in rows_out]
    used = sum(1 for k in range(width) if any(r[k] for r in rows_out))
    if used < 2:
        return None  # a box around text, or a chart's grid with its labels outside: not a table
    if sum(1 for r in rows_out for c in r if c) < 0.3 * len(rows_out) * used:
        return None  # mostly empty cells: a chart's grid lines
    x0, top, x1, bottom = table.bbox
    return _Grid(rows_out, top, bottom, x0, x1, edges)


def _lines(words: list[dict]) -> list[_Line]:
    """Words -> lines: words that overlap vertically share a line; a gap wider than the type size ends a
    segment (so two columns on one baseline stay two lines); small raised digits become superscripts."""
    rows: list[list[dict]] = []
    for w in sorted(words, key=lambda w: (w["top"], w["x0"])):
        mid = (w["top"] + w["bottom"]) / 2
        for row in reversed(rows[-3:]):
            main = max(row, key=lambda x: x["size"])
            small = w["size"] < SMALLER * main["size"]
            if main["top"] - 1 <= mid <= main["bottom"] + 1 or (
                    small and main["top"] - 0.5 * main["size"] <= w["top"] <= main["bottom"]):
                row.append(w)
                break
        else:
            rows.append([w])
    out: list[_Line] = []
    for n, row in enumerate(rows):
        row.sort(key=lambda w: w["x0"])
        size = Counter(round(w["size"], 1) for w in row for _ in w["text"]).most_common(1)[0][0]
        seg: list[dict] = []
        for w in row:
            marker = len(seg) == 1 and re.fullmatch(r"[\d•*–-]{1,3}\.?|\(?\w\)", seg[0]["text"])
            if seg and w["x0"] - seg[-1]["x1"] > max(size, 6.0) and not marker:  # a note number's hanging indent
                out.append(_line(seg, size, n))
                seg = []
            seg.append(w)
        out.append(_line(seg, size, n))
    return out


CELL_WORDS = 8  # a cell of a table without rules holds a few words; a line of prose holds more


def _unruled(lines: list[_Line], width: float) -> tuple[list[_Line], list[_Grid]]:
    """Tables printed without rules (an HTML table with no borders): runs of 3+ printed lines cut into 2+
    short pieces at wide gaps, whose pieces fall into the same column bands. A line that is only the next
    line of some cells (closer to the one above than rows are to each other) continues that row. Two columns
    of prose are not a table: their pieces are long."""
    by_row: dict[int, list[_Line]] = {}
    for ln in lines:
        by_row.setdefault(ln.row, []).append(ln)
    rows = [sorted(v, key=lambda ln: ln.x0) for _, v in sorted(by_row.items(), key=lambda kv: kv[1][0].top)]

    def cellish(row: list[_Line]) -> bool:
        return all(len(s.text.split()) <= CELL_WORDS and s.x1 - s.x0 < 0.4 * width for s in row)

    grids: list[_Grid] = []
    used: set[int] = set()
    i = 0
    while i < len(rows):
        if len(rows[i]) < 2 or not cellish(rows[i]):
            i += 1
            continue
        run, j = [rows[i]], i + 1
        while j < len(rows) and cellish(rows[j]) and rows[j][0].top - run[-1][0].bottom < 1.5 * rows[j][0].size:
            run.append(rows[j])
            j += 1
        bands = _bands([s for r in run for s in r])
        full = [r for r in run if len(r) >= 2]
        if len(full) < 3 or len(bands) < 2 or any(len({_band(s, bands) for s in r}) < len(r) for r in run):
            i = max(j, i + 1)
            continue
        cells: list[list[str]] = []
        last_bottom = None
        for r in run:
            tight = last_bottom is not None and r[0].top - last_bottom < 0.35 * r[0].size
            if cells and (len(r) < 2 or tight) and (tight or _band(r[0], bands) != 0):
                for seg in r:  # the next line of some cells of the row above
                    k = _band(seg, bands)
                    cells[-1][k] = f"{cells[-1][k]} {seg.text}".strip()
            else:
                row = [""] * len(bands)
                for seg in r:
                    row[_band(seg, bands)] = seg.text
                cells.append(row)
            last_bottom = max(s.bottom for s in r)
        segs = [s for r in run for s in r]
        grids.append(_Grid(cells, min(s.top for s in segs), max(s.bottom for s in segs), min(s.x0 for s in segs),
                           max(s.x1 for s in segs), [a for a, _ in bands]))  # cells start where their band does
        used |= {id(s) for s in segs}
        i = j
    return [ln for ln in lines if id(ln) not in used], grids


def _bands(segs: list[_Line]) -> list[tuple[float, float]]:
    """The x ranges the pieces cover, overlapping ones merged: one per column."""
    bands: list[list[float]] = []
    for s in sorted(segs, key=lambda s: s.x0):
        if bands and s.x0 <= bands[-1][1] + 2:
            bands[-1][1] = max(bands[-1][1], s.x1)
        else:
            bands.append([s.x0, s.x1])
    return [(a, b) for a, b in bands]


def _band(seg: _Line, bands: list[tuple[float, float]]) -> int:
    return next(k for k, (a, b) in enumerate(bands) if a - 2 <= seg.x0 <= b + 2)


_PRIVATE = re.compile(r"[\ue000-\uf8ff]")  # symbol-font glyphs (Wingdings bullets): no text to keep


def _line(words: list[dict], size: float, row: int = -1) -> _Line:
    main = [w for w in words if round(w["size"], 1) >= size - 0.05] or words
    base = max(w["bottom"] for w in main)
    text, prev = "", None
    for w in words:
        t = w["text"]
        raised = w["size"] < SMALLER * size and w["bottom"] < base - 0.15 * size
        if text and raised and re.fullmatch(r"\d{1,3}(?:[,–-]\d{1,3})*", t):
            text += t.translate(SUPERSCRIPT)  # a footnote call, glued to the word before it
        elif prev is not None and round(prev["size"], 1) != round(w["size"], 1) and w["x0"] - prev["x1"] < 0.1 * size:
            text += t  # split only by a change of type size ("(UNCTAD)." + "1"), not by a space
        else:
            text += (" " if text else "") + t
        prev = w
    if _PRIVATE.match(text):
        text = _PRIVATE.sub("", "• " + text[1:].lstrip())
    text = _PRIVATE.sub("", text)
    return _Line(text, min(w["top"] for w in words), max(w["bottom"] for w in words), words[0]["x0"],
                 words[-1]["x1"], size, row)


def _gutter(lines: list[_Line], width: float) -> float | None:
    """The x of a vertical gap that splits many lines into a left and a right column, if any."""
    best, best_n = None, 0
    for x in range(int(width * 0.3), int(width * 0.7), 2):
        left = sum(1 for ln in lines if ln.x1 < x)
        right = sum(1 for ln in lines if ln.x0 > x)
        crossing = sum(1 for ln in lines if ln.x0 <= x <= ln.x1)
        n = min(left, right)
        if n > best_n and crossing < n:
            best, best_n = float(x), n
    return best if best_n >= 5 else None


def _reading_order(lines: list[_Line], grids: list[_Grid], width: float) -> list[_Line | _Grid]:
    """Lines and tables in reading order: top to bottom, and within a two-column stretch the left column
    before the right one."""
    items: list[_Line | _Grid] = sorted([*lines, *grids], key=lambda i: (i.top, i.x0))
    gutter = _gutter(lines, width)
    if gutter is None:
        return items
    out: list[_Line | _Grid] = []
    run: list[_Line | _Grid] = []

    def flush() -> None:
        out.extend(sorted(run, key=lambda i: (i.x0 > gutter, i.top, i.x0)))
        run.clear()

    for it in items:
        if it.x0 <= gutter <= it.x1:  # full width: ends the two-column stretch above it
            flush()
            out.append(it)
        else:
            run.append(it)
    flush()
    return out


# --------------------------------------------------------------------------- the whole document


def _key(text: str) -> str:
    return re.sub(r"\d+", "#", text).strip().lower()


def _furniture(pages: list[_Page]) -> set[str]:
    """Margin lines (numbers aside) printed on several pages: running headers and footers."""
    seen: Counter[str] = Counter()
    for p in pages:
        keys = {_key(i.text) for i in p.items if isinstance(i, _Line) and _in_margin(i, p)}
        seen.update(keys)
    need = 2 if len(pages) <= 4 else max(3, round(0.3 * len(pages)))
    return {k for k, n in seen.items() if n >= need and len(pages) > 1}


def _in_margin(line: _Line, page: _Page) -> bool:
    return line.bottom <= MARGIN * page.height or line.top >= (1 - MARGIN) * page.height


def _body_size(pages: list[_Page]) -> float:
    sizes: Counter[float] = Counter()
    for p in pages:
        for i in p.items:
            if isinstance(i, _Line):
                sizes[i.size] += len(i.text)
    return sizes.most_common(1)[0][0] if sizes else 10.0


def _title(meta: dict, pages: list[_Page], body: float, furniture_lines: list[str]) -> str:
    t = str(meta.get("Title") or "").strip()
    t = re.sub(r"^Microsoft (?:Word|PowerPoint|Excel) - ", "", t)
    t = re.sub(r"\.(?:docx?|pptx?|xlsx?|pdf)$", "", t, flags=re.I).strip()
    if len(t.split()) >= 2 and not re.fullmatch(r"[\w-]+\.\w+|untitled.*", t, re.I):
        return re.sub(r"^\d+\s*-\s*", "", t)  # "12 - Volume I ..." (a file number) -> "Volume I ..."
    first = [i for i in pages[0].items if isinstance(i, _Line) and i.size >= 1.4 * body and len(i.text.split()) >= 2]
    if first:
        return max(first, key=lambda i: i.size).text
    return furniture_lines[0] if furniture_lines else ""


class _Writer:
    """Collects output lines, headings and tables; merges a table that runs on from the one before."""

    def __init__(self, body: float, heading_sizes: list[float]) -> None:
        self.out: list[str] = []
        self.tables: list[Table] = []
        self.body = body
        self.levels = {s: min(k + 1, 3) for k, s in enumerate(heading_sizes)}
        self.heading = ""
        self.last: _Grid | None = None  # the last table written, while nothing but furniture follows it
        self.last_caption = ("", -1.0)  # caption of the last table, and its top (side-by-side tables share it)
        self.para: list[str] = []  # lines of the paragraph being written
        self.prev: _Line | None = None
        self.keep: list[int] = []  # the grid columns the last table kept

    def end_paragraph(self) -> None:
        if self.para:
            self.out.extend(self.para)
            self.out.append("")
            self.para = []

    def line(self, ln: _Line) -> None:
        self.last = None
        level = self.levels.get(ln.size) if len(ln.text.split()) <= 15 else None
        if level:
            if self.prev is not None and self.prev.size == ln.size and self.out[-2:-1] and \
                    self.out[-2].startswith("#") and ln.top - self.prev.bottom < ln.size and not self.para:
                self.out[-2] += " " + ln.text  # a heading wrapped over two lines
                self.heading = self.out[-2].lstrip("# ")
            else:
                self.end_paragraph()
                self.out += ["#" * level + " " + ln.text, ""]
                self.heading = ln.text
            self.prev = ln
            return
        p = self.prev
        if p is not None and self.para and (ln.top - p.bottom > 0.6 * max(ln.size, p.size) or ln.top < p.top
                                            or abs(ln.size - p.size) > 0.5):
            self.end_paragraph()
        self.para.append(ln.text)
        self.prev = ln

    def table(self, g: _Grid) -> None:
        last = self.last
        if last is not None and len(last.edges) == len(g.edges) and all(
                abs(a - b) <= 3 for a, b in zip(last.edges, g.edges, strict=True)):
            t = self.tables[-1]
            rows = [[r[k] if k < len(r) else "" for k in self.keep] for r in g.rows]
            if rows[0] == [t.row_header, *t.columns]:
                rows = rows[1:]  # the header, repeated on the new page
            t.rows.extend(_row(r, len(self.keep)) for r in rows if any(r))  # the same table, continued here
            self.last = g
            return
        caption = ""
        if self.para and len(self.para) <= 2 and len(" ".join(self.para).split()) <= 25 \
                and not self.para[-1].rstrip().endswith((".", ";", ",")) and re.search(r"[A-Za-z]{2}", self.para[-1]):
            caption = " ".join(self.para)
            self.para = []
        elif abs(g.top - self.last_caption[1]) < 3:
            caption = self.last_caption[0]  # tables side by side under one caption
        self.end_paragraph()
        self.last_caption = (caption, g.top)
        n = len(self.tables) + 1
        if not _CAPTION.match(caption):
            context = ": ".join(x for x in (self.heading, caption) if x)
            caption = f"Table {n} – {context or '(untitled)'}"
        keep = [k for k in range(len(g.rows[0])) if any(r[k] for r in g.rows)]  # columns nothing fills go
        rows = [[r[k] for k in keep] for r in g.rows]
        header = rows[0]
        has_header = len(rows) >= 2 and all(header) and not any(_NUMERIC.match(c) for c in header[1:])
        if has_header:
            body = rows[1:]
        else:
            header, body = ["Row"] + [f"column {k + 1}" for k in range(len(keep) - 1)], rows
        self.tables.append(Table(caption, header[0] or "Row", header[1:], [_row(r, len(keep)) for r in body]))
        self.keep = keep
        self.out += [table_marker(n - 1), ""]
        self.last = g
        self.prev = None


def _row(cells: list[str], width: int) -> tuple[str, list[str]]:
    cells = (cells + [""] * width)[:width]
    return cells[0], cells[1:]


def _assemble(pages: list[_Page], meta: dict) -> tuple[str, str, list[Table]]:
    furniture = _furniture(pages)
    body = _body_size(pages)
    sizes = sorted({i.size for p in pages for i in p.items if isinstance(i, _Line)
                    and i.size >= HEADING_RATIO * body}, reverse=True)
    w = _Writer(body, sizes)
    dropped: list[str] = []
    for p in pages:
        for it in p.items:
            if isinstance(it, _Grid):
                w.table(it)
                continue
            if _in_margin(it, p) and (_key(it.text) in furniture or _PAGE_NUMBER.match(it.text)):
                dropped.append(it.text)
                continue
            w.line(it)
        w.end_paragraph()  # a page break ends a paragraph (clean.py re-joins one cut mid-sentence)
        w.prev = None
    text = "\n".join(w.out)
    title = _title(meta, pages, body, dropped)
    return re.sub(r"\n{3,}", "\n\n", text), title, w.tables
