"""Reviewed corrections for table headers that extraction garbled (data in corpus/corrections.json).

Each entry: {"source": file name, "match": text found in the table's caption/header,
"columns": [...], "row_header": "...", "caption": optional, "reason": why}. Corrections are data,
reviewed against the document and checked by tests/test_corrections.py; no code here knows a table.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from ..errors import CorpusError
from .tables import TableSpan

__all__ = ["load_corrections", "apply_corrections"]

log = logging.getLogger(__name__)


def load_corrections(corpus_dir: Path) -> dict[str, list[dict]]:
    """Corrections by source file name ({} when the file is absent)."""
    path = corpus_dir / "corrections.json"
    if not path.exists():
        return {}
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise CorpusError(f"{path}: cannot read corrections: {e}") from e
    out: dict[str, list[dict]] = {}
    for e in entries:
        out.setdefault(e["source"], []).append(e)
    return out


def apply_corrections(span: TableSpan, corrections: list[dict]) -> bool:
    """Rename the columns of `span` from the first matching correction; True if one applied."""
    for c in corrections:
        if c["match"] not in span.header_text:
            continue
        t = span.table
        if len(c["columns"]) != len(t.columns):
            log.warning("correction %r expects %d columns, table has %d; not applied",
                        c["match"], len(c["columns"]), len(t.columns))
            return False
        t.columns = list(c["columns"])
        t.row_header = c.get("row_header", t.row_header)
        t.caption = c.get("caption", t.caption)
        t.corrected = True
        return True
    return False
