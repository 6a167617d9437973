"""Find tables in extracted text and turn each row (and column) into a self-contained record.

Three layouts occur in PDF/HTML extractions:
- tab-separated rows (``1\\tHybrid threats\\t✓\\t✗``), from PDF text or from HTML tables we serialise;
- space-separated mark rows whose empty cells survive only as extra spaces (``Norway x x  x``):
  every cell is rendered as ``"x "`` (marked) or ``" "`` (blank), so a greedy left-to-right read
  recovers the cells;
- label + date columns (``Peru 14/10/2022 -``).
Header cells are often garbled; a reviewed correction (corpus/corrections.json) may name the columns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..types import Table

__all__ = ["TableSpan", "find_tables", "row_record", "column_record", "is_mark_table", "table_marker", "TABLE_MARKER"]

MARKS = {"✓": "yes (✓)", "✔": "yes (✓)", "✗": "no (✗)", "✘": "no (✗)", "x": "marked (x)", "X": "marked (x)",
         "": "not marked (blank)", "-": "none (-)", "–": "none (-)"}
_MARK_CELL = re.compile(r"^(✓|✔|✗|✘|x|X|Already exists|yes|no|Yes|No)$")
_DATE = r"(?:\d{1,2}[./]\d{1,2}[./]\d{2,4})"
_DATE_ROW = re.compile(rf"^(?P<label>\S.*?)\s+(?P<vals>(?:(?:{_DATE}|-)\s+)*(?:{_DATE}|-))\s*$")
_CAPTION = re.compile(r"^\s*Table\s+\d+\s*[:.–—-]")
_SPACE_ROW = re.compile(r"^(?P<label>.*?[A-Za-z)\]])?\s(?P<cells>[ x]*x[ x]*)$")


# Readers that see a document's tables as tables (PDF, Word, OpenDocument) hand them over typed, and leave
# one marker line where each stood in the text; the cleaner puts the table's records there. The marker is
# made of private-use characters, which no extracted text holds.
TABLE_MARKER = re.compile(r"^\ue000table (\d+)\ue000$")


def table_marker(n: int) -> str:
    """The line standing for the reader's table n (0-based) in the raw text."""
    return f"\ue000table {n}\ue000"


@dataclass
class TableSpan:
    """A table found at lines [start, end) of the input."""

    start: int
    end: int
    table: Table
    header_text: str  # caption + header lines as extracted, for corrections and their tests


def _cells_greedy(s: str) -> list[str]:
    cells, i = [], 0
    while i < len(s):
        if s.startswith("x ", i) or (s[i] == "x" and i == len(s) - 1):
            cells.append("x")
            i += 2
        elif s[i] == " ":
            cells.append("")
            i += 1
        else:
            return []
    return cells


def _caption_before(lines: list[str], i: int, limit: int = 40) -> int | None:
    """Index of a 'Table N' caption line within `limit` lines above i (stopping at prose)."""
    for j in range(i - 1, max(-1, i - limit), -1):
        if _CAPTION.match(lines[j]):
            return j
        if len(lines[j].split()) > 25:  # a prose paragraph: no caption belongs to this table
            return None
    return None


def _caption_text(lines: list[str], j: int) -> tuple[str, int]:
    """Caption may wrap onto the next line; returns (text, index after caption)."""
    text = lines[j].strip()
    k = j + 1
    if k < len(lines) and lines[k].strip() and not text.endswith(".") and len(lines[k].split()) <= 12 \
            and "\t" not in lines[k] and lines[k].strip()[0].islower():
        text = f"{text} {lines[k].strip()}"
        k += 1
    return text, k


def _tab_tables(lines: list[str]) -> list[TableSpan]:
    out, i = [], 0
    while i < len(lines):
        if lines[i].count("\t") < 2:
            i += 1
            continue
        j = i
        while j < len(lines) and lines[j].count("\t") >= 1 and lines[j].strip():
            j += 1
        rows = [ln.rstrip("\n").split("\t") for ln in lines[i:j]]
        data_idx = [k for k, r in enumerate(rows) if any(_MARK_CELL.match(c.strip()) for c in r)]
        first = data_idx[0] if data_idx else 1
        header, body = rows[:first], rows[first:]
        if len(body) < 2:
            i = j
            continue
        width = max(len(r) for r in rows)
        # value columns = trailing cells that hold marks in any body row
        nval = 0
        for r in body:
            r = r + [""] * (width - len(r))
            k = 0
            for c in reversed(r):
                if _MARK_CELL.match(c.strip()) or re.fullmatch(_DATE, c.strip()) or c.strip() in ("-", "–"):
                    k += 1
                else:
                    break
            nval = max(nval, k)
        if nval == 0:  # plain text table: last cells after the label
            nval = width - 1
        ncols = nval
        trows = []
        for r in body:
            r = r + [""] * (width - len(r))
            label_cells = [c.strip() for c in r[: width - ncols] if c.strip()]
            label = " ".join(c for c in label_cells if not c.isdigit()) or " ".join(label_cells)
            num = next((c for c in label_cells if c.isdigit()), "")
            trows.append((f"{num}|{label}" if num else label, [c.strip() for c in r[width - ncols:]]))
        cols = []
        for k in range(ncols):
            names = [h[width - ncols + k].strip() for h in header if len(h) > width - ncols + k
                     and h[width - ncols + k].strip()]
            cols.append(names[-1] if names else f"column {k + 1}")
        row_header = next((c.strip() for h in header for c in h[: width - ncols] if c.strip()), "Row")
        cap_i = _caption_before(lines, i)
        caption, start = ("", i)
        if cap_i is not None:
            caption, _ = _caption_text(lines, cap_i)
            start = cap_i
        header_text = " ".join([caption] + ["\t".join(h) for h in header])
        out.append(TableSpan(start, j, Table(caption, row_header, cols, trows), header_text))
        i = j
    return out


def _space_tables(lines: list[str]) -> list[TableSpan]:
    out = []
    for ci, line in enumerate(lines):
        if not _CAPTION.match(line) or "\t" in line:
            continue
        caption, k = _caption_text(lines, ci)
        header: list[str] = []
        rows: list[tuple[str, list[str]]] = []
        pending: list[str] = []
        end = k
        while k < len(lines):
            raw = lines[k].rstrip("\n")
            s = raw.strip()
            if not s:
                k += 1
                continue
            bare = re.fullmatch(r"[ x]*x[ x]*", raw) is not None
            m = _SPACE_ROW.match(raw) if "x" in raw and not bare else None
            cells = _cells_greedy(m.group("cells")) if m else []
            if m and cells and (m.group("label") or pending):
                label = " ".join(pending + ([m.group("label").strip()] if m.group("label") else []))
                rows.append((label, cells))
                pending = []
                end = k + 1
            elif bare and pending:
                rows.append((" ".join(pending), _cells_greedy(raw)))
                pending, end = [], k + 1
            elif not rows:
                if len(s.split()) > 20:
                    break
                header.append(s)
            elif len(s.split()) <= 3 and not s.startswith("Source"):
                pending.append(s)
            else:
                break
            k += 1
        if len(rows) < 3:
            continue
        counts = [len(c) for _, c in rows]
        ncols = max(set(counts), key=counts.count)
        if sum(c == ncols for c in counts) < len(rows) * 0.8:
            continue
        rows = [(lab, c) for lab, c in rows if len(c) == ncols]
        cols = [f"column {n + 1}" for n in range(ncols)]
        header_text = " ".join([caption] + header)
        out.append(TableSpan(ci, end, Table(caption, "Row", cols, rows), header_text))
    return out


def _date_tables(lines: list[str]) -> list[TableSpan]:
    out, i = [], 0
    while i < len(lines):
        run, j, last = [], i, i
        while j < len(lines):
            s = lines[j].strip()
            if not s:
                j += 1
                continue
            m = _DATE_ROW.match(s)
            if not m or "\t" in lines[j]:
                break
            run.append((m.group("label").strip(), m.group("vals").split()))
            last = j + 1
            j += 1
        if len(run) >= 3 and len({len(v) for _, v in run}) == 1:
            ncols = len(run[0][1])
            # header: up to 4 short non-empty lines above
            hdr, h = [], i - 1
            while h >= 0 and len(hdr) < 4:
                s = lines[h].strip()
                if s:
                    if len(s.split()) > 8:
                        break
                    hdr.insert(0, s)
                h -= 1
            cols = [f"column {n + 1}" for n in range(ncols)]
            out.append(TableSpan(h + 1, last, Table("", "Row", cols, run), " ".join(hdr)))
            i = last
        else:
            i = max(j, i + 1) if run else i + 1
    return out


def find_tables(lines: list[str]) -> list[TableSpan]:
    """All non-overlapping tables in `lines`, in order."""
    spans = sorted(_tab_tables(lines) + _space_tables(lines) + _date_tables(lines), key=lambda t: t.start)
    kept: list[TableSpan] = []
    for t in spans:
        if kept and t.start < kept[-1].end:
            continue
        kept.append(t)
    return kept


def is_mark_table(table: Table) -> bool:
    """True when every cell is a mark (✓ ✗ x, blank) or a short categorical value."""
    values = {v for _, row in table.rows for v in row}
    return len(values) <= 4 and all(len(v) <= 16 for v in values)


def _label(label: str) -> tuple[str, str]:
    num, _, text = label.partition("|") if "|" in label else ("", "", label)
    return num, text


EMPTY_CELLS = {"", "-", "–"}  # a value table's cell that gives nothing ('In force since: -')


def _value(v: str) -> str:
    return MARKS.get(v, v or "blank")


def _name(table: Table) -> str:
    return table.caption.rstrip(" .") or "Table"


def row_record(table: Table, i: int) -> tuple[str, str]:
    """(record text, locator) for row i: names the row and every column with its value."""
    num, label = _label(table.rows[i][0])
    values = table.rows[i][1]
    where = f"row {num}" if num else "row"
    short = _name(table).split(" – ")[0].split(":")[0]
    locator = f"{short}, {where}: {label}"
    if is_mark_table(table):
        groups: dict[str, list[str]] = {}
        for col, v in zip(table.columns, values, strict=True):
            groups.setdefault(_value(v), []).append(col)
        body = "; ".join(f"{v} for {', '.join(cols)}" for v, cols in groups.items())
    else:
        # an empty cell of a value table says nothing ("Fiscal Year 2020 Program Totals" has no dates)
        body = "; ".join(f"{col}: {_value(v)}" for col, v in zip(table.columns, values, strict=True) if v)
        body = body or "no values"
    return f"{_name(table)}, {where} \u201c{label}\u201d ({table.row_header}): {body}.", locator


def column_record(table: Table, k: int) -> tuple[str, str]:
    """(record text, locator) for column k of a mark table: every row with its value in that column."""
    col = table.columns[k]
    groups: dict[str, list[str]] = {}
    for label, values in table.rows:
        groups.setdefault(_value(values[k]), []).append(_label(label)[1])
    body = "; ".join(f"{v} for {', '.join(rows)}" for v, rows in groups.items())
    short = _name(table).split(" – ")[0].split(":")[0]
    return f"{_name(table)}, column \u201c{col}\u201d: {body}.", f"{short}, column: {col}"
