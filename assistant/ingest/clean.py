"""Raw extracted text -> cleaned `Block`s (headings, paragraphs, footnotes, table records).

What PDF/web extraction does to text, and how each is undone here:
- footnote lines and bare URLs interleaved with the body: footnotes are recognised by their
  sequential numbers and kept as separate blocks ("Footnote 3: ..."); URL-only lines are dropped;
  reference numbers glued to words ("defence1.") become superscripts ("defence¹.").
- words hyphenated across line breaks: re-joined, keeping the hyphen only where the document
  itself spells the word with one elsewhere (or it is a known prefix such as "non-").
- lines wrapped mid-sentence: lines of a paragraph are joined; a paragraph cut by a page break,
  footnotes or a figure caption is re-joined with its continuation.
- figure captions, photo credits, page furniture and website boilerplate: removed from the flow.
"""

from __future__ import annotations

import re

from ..types import Block, Table
from .tables import TABLE_MARKER, TableSpan, column_record, find_tables, is_mark_table, row_record

__all__ = ["clean_blocks", "normalise"]

SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
_SUPERS = "⁰¹²³⁴⁵⁶⁷⁸⁹"
_URL_LINE = re.compile(r"^\s*<?(https?://|www\.)\S+>?\s*(\([a-z]+\))?\s*$")
_MD_LINK = re.compile(r"\[([^\]]+)\]\((?:[^)\s]*)\)")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_NUM_HEADING = re.compile(r"^ ?(\d{1,2}(?:\.\d{1,2}){0,2})\.? +([A-Z‘'\"(][^\n\t]{1,110}?)\s*$")
_FOOTNOTE_LINE = re.compile(r"^(\d{1,3})\s+(\S.*)$")
_LIST_ITEM = re.compile(r"^\s*\d{1,2}\.\s+[A-Z]")  # '4. Defence capabilities': body text, never a footnote ('85 See')
_ENDNOTE_ITEM = re.compile(r"^\s*-\s*(?:([⁰¹²³⁴⁵⁶⁷⁸⁹]+)|\((\d{1,3})\)|\[(\d{1,3})\])\s*(.*)$")
_FIGURE = re.compile(r"^\s*(Figure|Fig\.|Chart|Map|Graph)\s+\d+\s*[–:.-]", re.I)
_FIG_SOURCE = re.compile(r"^\s*(Source|Sources|Data)\s*:", re.I)
_BOILERPLATE = re.compile(
    r"(cookies?\b|subscribe|comments are closed|privacy overview|continue reading|related articles|"
    r"^discover more from|\blogo$|^©|photo credits?|all rights reserved|^share this|^print this|"
    r"^follow us|^sign up|newsletter)",
    re.I,
)
_KEEP_HYPHEN_PREFIXES = {"non", "inter", "co", "anti", "multi", "self", "cross", "pre", "post", "sub", "well", "long",
                         "short", "high", "low", "so", "ex", "semi", "counter", "cyber"}
_TERMINAL_RE = re.compile(r"[.!?:][\"”’')\]]*[⁰¹²³⁴⁵⁶⁷⁸⁹]*\d{0,3}$")
_WORD_END_REF = re.compile(r"(?<=[A-Za-z)\]’'”.,;:])(\d{1,3})(?=[\s.,;:)’'”]|$)")


def normalise(text: str) -> str:
    """Character-level clean-up shared by all readers."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ").replace("\u00ad", "")
    text = text.replace("\ufeff", "").replace("\u200b", "")
    text = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "", text)
    text = _MD_LINK.sub(r"\1", text)
    text = _BOLD.sub(r"\1", text)
    text = re.sub(r"<(https?://[^>\s]+)>", r"\1", text)
    return text


def _vocabulary(lines: list[str]) -> set[str]:
    """Words the document spells in full: fragments around a line-break hyphen don't count."""
    words: set[str] = set()
    prev_hyphen = False
    for ln in lines:
        s = ln.strip()
        if prev_hyphen:
            s = re.sub(r"^\S+", "", s)  # the tail of a word split at the previous line's end
        prev_hyphen = bool(re.search(r"[A-Za-z]-$", s))
        if prev_hyphen:
            s = re.sub(r"\S+$", "", s)  # the head of a word split at this line's end
        words.update(w.lower() for w in re.findall(r"[A-Za-z][A-Za-z-]*[A-Za-z]", s))
        for w in re.findall(r"[A-Za-z]+(?:-[A-Za-z]+)+", s):
            words.update(p.lower() for p in w.split("-"))
    return words


def _join_lines(lines: list[str], vocab: set[str]) -> str:
    """Join wrapped lines of one paragraph, undoing line-break hyphenation."""
    out = ""
    for ln in lines:
        s = ln.strip()
        if not s:
            continue
        if not out:
            out = s
            continue
        m = re.search(r"([A-Za-z]+)-$", out)
        if m and s[:1].islower():
            head = m.group(1)
            tail = re.match(r"[A-Za-z]+", s)
            tail_s = tail.group(0) if tail else ""
            joined = (head + tail_s).lower()
            hyph = f"{head}-{tail_s}".lower()
            standalone = head.lower() in vocab and tail_s.lower() in vocab and len(tail_s) > 1
            if hyph in vocab and joined not in vocab:
                out = out + s  # the document spells it with a hyphen elsewhere
            elif joined in vocab:
                out = out[:-1] + s
            elif head.lower() in _KEEP_HYPHEN_PREFIXES or (standalone and len(head) > 2) or (
                    head.lower().endswith("ly") and len(head) >= 5 and len(tail_s) >= 3):  # "externally-focused"
                out = out + s  # a compound of two real words ("crisis-management", "staff-to-staff")
            else:
                out = out[:-1] + s  # a word split by the line break ("disarma-ment")
        else:
            out = f"{out} {s}"
    return re.sub(r"\s{2,}", " ", out)


def _groups(lines: list[str]) -> list[list[str]]:
    groups, cur = [], []
    for ln in lines:
        if ln.strip():
            cur.append(ln)
        elif cur:
            groups.append(cur)
            cur = []
    if cur:
        groups.append(cur)
    return groups


def _numbered_headings(lines: list[str]) -> dict[int, str]:
    """Line index -> section number for numbered headings that follow a plausible sequence."""
    found: dict[int, str] = {}
    chapter, sub = 0, 0
    for i, ln in enumerate(lines):
        m = _NUM_HEADING.match(ln)
        if not m or ln.strip().endswith((".", ",", ";")) or len(ln.split()) > 16 or len(ln.strip()) > 90:
            continue
        parts = [int(p) for p in m.group(1).split(".")]
        if len(parts) == 1 and parts[0] in (chapter + 1, chapter + 2):
            chapter, sub = parts[0], 0
        elif len(parts) == 2 and ((parts[0] == chapter and parts[1] == sub + 1)
                                  or (parts[0] == chapter + 1 and parts[1] == 1)):
            chapter, sub = parts
        else:
            continue
        found[i] = m.group(1)
    return found if len(found) >= 3 else {}


def _starts_footnote(line: str, number: int) -> bool:
    m = _FOOTNOTE_LINE.match(line.strip())
    return bool(m) and number <= int(m.group(1)) <= number + 2


def _heading_continues(text: str, nxt: str) -> bool:
    """A numbered heading wrapped onto the next line ('... with' / ':' / next line lowercase)."""
    ends_open = text.endswith(":") or re.search(r"\b(with|of|and|for|in|the|to|on)$", text)
    return bool(ends_open or nxt.strip()[:1].islower()) and len(nxt.split()) <= 12


def _is_heading(group: list[str]) -> bool:
    if len(group) != 1:
        return False
    s = group[0].strip()
    words = s.split()
    return (
        0 < len(words) <= 12 and len(s) <= 90 and s[0].isupper()
        and not s.endswith((".", ",", ";", ":")) and not s.startswith(("-", "•", "*", "("))
        and not _FIGURE.match(s) and not _FIG_SOURCE.match(s) and not _BOILERPLATE.search(s)
    )


class _Builder:
    """Accumulates blocks while walking the document."""

    def __init__(self, title: str) -> None:
        self.blocks: list[Block] = []
        self.section: list[str] = []
        self.title = title

    def heading(self, text: str, level: int = 1) -> None:
        self.section = self.section[: level - 1] + [text]
        self.blocks.append(Block("heading", text, tuple(self.section)))

    def paragraph(self, text: str) -> None:
        self.blocks.append(Block("paragraph", text, tuple(self.section)))

    def footnote(self, num: str, text: str) -> None:
        self.blocks.append(Block("footnote", f"Footnote {num}: {text}", tuple(self.section), f"Footnote {num}"))


def _merge_broken(blocks: list[Block]) -> list[Block]:
    """Re-join a paragraph cut by a page break, footnotes or a figure with its continuation."""
    out: list[Block] = []
    parked: list[Block] = []  # footnotes/captions that sat inside the broken paragraph
    open_idx: int | None = None
    for b in blocks:
        if b.kind == "paragraph" and open_idx is not None and not b.text.startswith(("•", "- ")):
            prev = out[open_idx]
            prev.text = f"{prev.text} {b.text}"
            if _TERMINAL_RE.search(prev.text.rstrip()):
                out.extend(parked)
                parked, open_idx = [], None
            continue
        if b.kind in ("footnote", "figure") and open_idx is not None:
            parked.append(b)
            continue
        if open_idx is not None:  # a heading or table ended the paragraph after all
            out.extend(parked)
            parked, open_idx = [], None
        out.append(b)
        if b.kind == "paragraph" and len(b.text.split()) >= 8 and not _TERMINAL_RE.search(b.text.rstrip()):
            open_idx = len(out) - 1
    out.extend(parked)
    return [b for b in out if b.kind != "figure"]


def _mark_references(blocks: list[Block], numbers: list[int]) -> None:
    """Turn reference numbers glued to words into superscripts. A paragraph may only cite footnotes
    printed soon after it (on its page), in increasing order."""
    if not numbers:
        return
    fn_at = [(i, int(b.locator.split()[-1])) for i, b in enumerate(blocks)
             if b.kind == "footnote" and b.locator.split()[-1].isdigit()]
    last = 0
    for i, b in enumerate(blocks):
        if b.kind != "paragraph":
            continue
        nearby = {n for _, n in [x for x in fn_at if x[0] > i][:12]}
        nearby |= {n for j, n in fn_at if j < i and n > last}  # footnotes printed just before (page start)
        pieces, pos = [], 0
        for m in _WORD_END_REF.finditer(b.text):
            num = int(m.group(1))
            if num in nearby and num > last:
                pieces.append(b.text[pos:m.start()])
                pieces.append(m.group(1).translate(SUPERSCRIPT))
                pos = m.end()
                last = num
        if pieces:
            b.text = "".join(pieces) + b.text[pos:]


def _table_blocks(span: TableSpan, section: tuple[str, ...], index: int) -> list[Block]:
    t = span.table
    t.section = section
    sec = section + ((t.caption,) if t.caption else ())
    blocks = []
    for i in range(len(t.rows)):
        text, loc = row_record(t, i)
        blocks.append(Block("table_row", text, sec, loc, index))
    if is_mark_table(t) and len(t.rows) >= 3:
        for k in range(len(t.columns)):
            text, loc = column_record(t, k)
            blocks.append(Block("table_column", text, sec, loc, index))
    return blocks


def _given_tables(lines: list[str], tables: list[Table]) -> list[TableSpan]:
    """Spans for the marker lines of tables a reader handed over typed (PDF, Word, OpenDocument)."""
    out = []
    for i, line in enumerate(lines):
        m = TABLE_MARKER.match(line.strip())
        if m and int(m.group(1)) < len(tables):
            t = tables[int(m.group(1))]
            out.append(TableSpan(i, i + 1, t, " ".join([t.caption, t.row_header, *t.columns])))
    return out


def clean_blocks(
    raw: str, title: str, corrections: list[dict] | None = None, tables: list[Table] | None = None,
    guess_headings: bool = True, glued_references: bool = True,
) -> tuple[list[Block], list[Table], list[TableSpan]]:
    """Clean `raw` extracted text into blocks; tables (found in the text, or `tables` given typed by the
    reader and marked by a line each) become row/column records. `guess_headings=False` when the reader
    marked every heading ('# ...', from Word or OpenDocument styles): a short line is then a paragraph.
    `glued_references=False` when the reader already wrote footnote calls as superscripts (from the type
    size in a PDF, from the note elements of OpenDocument): digits after a word are then left alone ("27.9 %"
    is not a call of footnote 9)."""
    from .corrections import apply_corrections

    lines = normalise(raw).split("\n")
    given = _given_tables(lines, tables or [])
    marked = {s.start for s in given}
    spans = sorted([s for s in find_tables(lines) if not any(s.start <= m < s.end for m in marked)] + given,
                   key=lambda s: s.start)
    for span in spans:
        apply_corrections(span, corrections or [])
    vocab = _vocabulary(lines)
    headings = _numbered_headings(lines)
    b = _Builder(title)
    tables: list[Table] = []

    # walk the text: segments of plain lines between tables
    segments: list[tuple[str, object]] = []
    pos = 0
    for span in spans:
        segments.append(("lines", list(range(pos, span.start))))
        segments.append(("table", span))
        pos = span.end
    segments.append(("lines", list(range(pos, len(lines)))))

    next_fn = 1
    in_endnotes = False
    for kind, seg in segments:
        if kind == "table":
            span = seg  # type: ignore[assignment]
            tables.append(span.table)
            b.blocks.extend(_table_blocks(span, tuple(b.section), len(tables) - 1))
            continue
        idx: list[int] = seg  # type: ignore[assignment]
        # split into groups separated by blank lines, remembering line numbers
        groups: list[list[int]] = []
        cur: list[int] = []
        for i in idx:
            if lines[i].strip():
                cur.append(i)
            elif cur:
                groups.append(cur)
                cur = []
        if cur:
            groups.append(cur)
        for g in groups:
            g = [i for i in g if not _URL_LINE.match(lines[i])]
            if not g:
                continue
            text_lines = [lines[i] for i in g]
            first = text_lines[0].strip()
            # endnote lists: "- ¹ text" / "- (3) text"
            numbered = [t for t in text_lines if _ENDNOTE_ITEM.match(t)]
            if numbered and (len(numbered) == len(text_lines) or in_endnotes) and (in_endnotes or len(numbered) >= 2):
                for t in text_lines:
                    m = _ENDNOTE_ITEM.match(t)
                    if not m:
                        b.paragraph(t.strip().lstrip("-• ").strip())
                        continue
                    num = m.group(1).translate(str.maketrans(_SUPERS, "0123456789")) if m.group(1) else (
                        m.group(2) or m.group(3))
                    b.footnote(num, m.group(4).strip())
                continue
            if len(text_lines) == 1 and re.match(r"#{1,6}\s+\S", first):
                level = len(first) - len(first.lstrip("#"))
                b.heading(first.lstrip("#").strip(), min(level, 3))
                in_endnotes = bool(re.match(r"(endnotes|notes|references|footnotes)$", first.lstrip("# "), re.I))
                continue
            # numbered footnotes at the foot of a page, in sequence
            # a footnote continued from the previous page: a few lines, then the next footnote number
            start_k = None if _starts_footnote(first, next_fn) else next(
                (k for k, t in enumerate(text_lines[:4]) if k and _starts_footnote(t, next_fn)), None)
            last_fn = next((x for x in reversed(b.blocks) if x.kind == "footnote"), None)
            if start_k is not None and last_fn is not None and not any(gi in headings for gi in g[:start_k]):
                last_fn.text = _join_lines([last_fn.text] + text_lines[:start_k], vocab)
                g, text_lines = g[start_k:], text_lines[start_k:]
                first = text_lines[0].strip()
            fm = _FOOTNOTE_LINE.match(first)
            if fm and next_fn <= int(fm.group(1)) <= next_fn + 2 and g[0] not in headings:
                cur_num, cur_lines = fm.group(1), [fm.group(2)]
                rest_start = None
                for k, t in enumerate(text_lines[1:], start=1):
                    m2 = _FOOTNOTE_LINE.match(t.strip())
                    if m2 and int(m2.group(1)) == int(cur_num) + 1:
                        b.footnote(cur_num, _join_lines(cur_lines, vocab))
                        cur_num, cur_lines = m2.group(1), [m2.group(2)]
                    elif g[k] in headings or _LIST_ITEM.match(t):  # the body resumes below the notes
                        rest_start = k
                        break
                    else:
                        cur_lines.append(t)
                b.footnote(cur_num, _join_lines(cur_lines, vocab))
                next_fn = int(cur_num) + 1
                if rest_start is None:
                    continue
                g = g[rest_start:]
                text_lines = [lines[i] for i in g]
                first = text_lines[0].strip()
            if _FIGURE.match(first) or (_FIG_SOURCE.match(first) and b.blocks and b.blocks[-1].kind == "figure"):
                b.blocks.append(Block("figure", _join_lines(text_lines, vocab), tuple(b.section)))  # type: ignore[arg-type]
                continue
            if _FIG_SOURCE.match(first) and len(text_lines) == 1 and len(first.split()) <= 12:
                b.blocks.append(Block("figure", first, tuple(b.section)))  # type: ignore[arg-type]
                continue
            if len(text_lines) <= 2 and _BOILERPLATE.search(" ".join(text_lines)):
                continue
            if len(text_lines) == 1 and _BOILERPLATE.search(first) and len(first.split()) <= 40:
                continue
            # numbered headings may sit anywhere in a group (PDF pages run on)
            para: list[str] = []
            k = 0
            while k < len(g):
                i = g[k]
                if i in headings:
                    if para:
                        b.paragraph(_join_lines(para, vocab))
                        para = []
                    text = lines[i].strip()
                    while k + 1 < len(g) and _heading_continues(text, lines[g[k + 1]]):
                        k += 1
                        text = f"{text} {lines[g[k]].strip()}"
                    level = headings[i].count(".") + 1
                    b.heading(re.sub(r"\s{2,}", " ", text), level)
                elif guess_headings and not headings and _is_heading([lines[i]]) and len(g) == 1:
                    b.heading(lines[i].strip(), 1)
                    in_endnotes = bool(re.match(r"(endnotes|notes|references|footnotes)$", lines[i].strip(), re.I))
                else:
                    para.append(lines[i])
                k += 1
            if para:
                text = _join_lines(para, vocab)
                if text.startswith(("- ", "• ")) and len(para) > 1 and all(
                        p.strip().startswith(("- ", "• ")) for p in para):
                    for p in para:  # a bulleted list: one block per item
                        b.paragraph(p.strip())
                else:
                    b.paragraph(text)
    blocks = _merge_broken(b.blocks)
    fn_numbers = [int(x.locator.split()[-1]) for x in blocks
                  if x.kind == "footnote" and x.locator.split()[-1].isdigit()]
    if glued_references:
        _mark_references(blocks, fn_numbers)
    return [x for x in blocks if x.text.strip()], tables, spans
