"""Table answering: questions answered from a table's rows, and rows added to a generated answer."""

from __future__ import annotations

import re

from .citations import NEGATION, check_answer, marked
from .evidence import Evidence
from .ingest.tables import EMPTY_CELLS, MARKS, is_mark_table, row_record
from .question import Question
from .retrieve import Retriever
from .text import content_tokens, label_share
from .types import Hit, Table

__all__ = ["table_lookup", "cell_lookup", "column_lookup", "COLUMN_NOTICE"]

COLUMN_NOTICE = "Answered from the table itself, without a model: every row that fits, quoted whole."


POSITIVE_MARKS = ("✓", "✔", "x", "X")  # cells that include a column (a ✓, or an x in a table of crosses)
NEGATIVE_MARKS = ("✗", "✘", "")  # cells that leave it out (a ✗, or a blank among crosses)


def table_lookup(q: Question, evidence: list[Evidence], rows: dict[str, tuple[Table, int]], idf=None) -> str:
    """For a which/who question that names a row of a mark table: the columns that row marks as included
    (left out, for a negated question), read from the row's cells, cited (else ''). A row that names nothing
    the question does not ("Which South Korean unit has Atalanta cooperated with?" and the row 'EUNAVFOR
    Atalanta': yes for South Korea) answers nothing and is no lookup."""
    if not q.asks_for_names:
        return ""
    for e in evidence:
        if e.chunk.id not in rows:
            continue
        table, i = rows[e.chunk.id]
        label = e.chunk.locator.split(": ", 1)[-1]
        if not is_mark_table(table) or label_share(label, q.labels, idf) < 0.6:
            continue
        cells = table.rows[i][1]
        for mark in NEGATIVE_MARKS if q.negated else POSITIVE_MARKS:
            columns = [col for col, v in zip(table.columns, cells, strict=True) if v == mark]
            if columns and (mark or "x" in cells or "X" in cells):  # a blank is a 'no' only among crosses
                found = (f"{e.chunk.locator.split(',')[0]} marks \u201c{label}\u201d as {MARKS[mark]} for "
                         f"{', '.join(columns)} [{e.n}].")
                return found if check_answer(found, evidence, q).citations else ""
    return ""


def cell_lookup(q: Question, evidence: list[Evidence], rows: dict[str, tuple[Table, int]], idf=None) -> str:
    """The cell of a value table whose row and column the question both name ('When were the activities
    with Korvania launched?' over row 'Korvania', column 'Launched'), read from the Table, cited (else '')."""
    for e in evidence:
        if e.chunk.id not in rows or label_share(e.chunk.locator.split(": ", 1)[-1], q.labels, idf) < 0.6:
            continue
        table, i = rows[e.chunk.id]
        if is_mark_table(table):
            continue
        label, values = table.rows[i]
        named = [(label_share(c, q.labels, idf), c, v) for c, v in zip(table.columns, values, strict=True)
                 if v and v not in EMPTY_CELLS]
        share, col, value = max(named, default=(0.0, "", ""))
        if share >= 0.5:
            short, row = e.chunk.locator.split(",")[0], label.split("|", 1)[-1]
            text = f"{short}, row \u201c{row}\u201d: {col}: {value} [{e.n}]."
            if check_answer(text, evidence, q).citations:
                return text
    return ""


def column_lookup(q: Question, evidence: list[Evidence], retriever: Retriever,
                   first_n: int) -> tuple[str, list[Evidence]]:
    """For a which-question that filters the rows of a value table by a column it names: rows whose cell
    is empty, for a column named after a negation ('Which partners' agreements are signed but not yet in
    force?' over 'Signed' and 'In force since'), or whose cell falls in a year the question gives, for a
    column named before it ('Which partners signed ... in 2005?'). Returns every such row of the table, not
    only those retrieved, verbatim, with markers numbered from `first_n`, and their evidence (else '', []).
    Another column the question names must be filled. (Evidence holds no row of a table about another
    domain term than the question's.) Mark tables are left to their column records."""
    if not (q.negated or q.years) or not q.asks_for_names:
        return "", []
    question = q.text
    neg = NEGATION.search(question)
    year = re.search(r"\b(?:19|20)\d\d\b", question)
    negated = set(content_tokens(re.split(r"[,;:?.!]|\b(?:and|or|but)\b", question[neg.end():])[0])) if neg else set()
    named = set(q.terms)
    before_year = content_tokens(question[:year.start()]) if year else []
    for e in evidence:
        if e.chunk.kind != "table_row":
            continue
        doc = retriever.index.documents.get(e.chunk.source)
        table = next((t for t in (doc.tables if doc else []) if not is_mark_table(t) and
                      any(row_record(t, i)[0] == e.chunk.text for i in range(len(t.rows)))), None)
        if table is None:
            continue
        empty = [k for k, col in enumerate(table.columns) if set(content_tokens(col)) & negated]
        filled = [k for k, col in enumerate(table.columns) if k not in empty and set(content_tokens(col)) & named]
        # the year is that of the column named last before it ('signed ... in 2005')
        named_at = {k: max((i for i, w in enumerate(before_year) if w in content_tokens(table.columns[k])),
                           default=-1) for k in filled}
        dated = max(named_at, key=named_at.__getitem__, default=None)
        if dated is not None and named_at[dated] < 0:
            dated = None
        rows = {row_record(table, i)[0] for i, (_, cells) in enumerate(table.rows)
                if all(cells[k] in EMPTY_CELLS for k in empty) and all(cells[k] not in EMPTY_CELLS for k in filled)
                and (dated is None or cells[dated].endswith(year.group(0)))}  # type: ignore[union-attr]
        if not (empty or dated is not None) or not rows or len(rows) == len(table.rows):
            continue
        chunks = [c for c in retriever.chunks if c.source == e.chunk.source and c.kind == "table_row" and
                  c.text in rows]
        more = [Evidence(first_n + j, Hit(c, 0.0), c.text) for j, c in enumerate(chunks)]
        return " ".join(marked(m.text, m.n) for m in more), more
    return "", []
