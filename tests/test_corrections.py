"""corpus/corrections.json is data reviewed against the documents: check it against their own text."""

from __future__ import annotations

import json
import re

import pytest
from helpers import CORPUS, DOC_000, DOC_004, squash

from assistant.ingest.clean import clean_blocks, normalise
from assistant.ingest.corrections import apply_corrections, load_corrections
from assistant.ingest.readers import read_file
from assistant.ingest.tables import TableSpan
from assistant.types import Table

ENTRIES = json.loads((CORPUS / "corrections.json").read_text(encoding="utf-8"))


def _spans(source: str, corrections: list[dict] | None = None) -> list[TableSpan]:
    raw, _ = read_file(CORPUS / source)
    _, _, spans = clean_blocks(raw, "", corrections)
    return spans


def _span(source: str, match: str) -> TableSpan:
    (span,) = [s for s in _spans(source) if match in s.header_text]
    return span


def _row(table: Table, words: str) -> dict[str, str]:
    (values,) = [v for label, v in table.rows if words in label]
    return dict(zip(table.columns, values, strict=True))


def _with(row: dict[str, str], mark: str) -> set[str]:
    return {k for k, v in row.items() if v == mark}


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["match"] for e in ENTRIES])
def test_each_correction_matches_one_table_and_applies(corpus_docs, entry):
    assert entry["reason"].strip()
    assert (CORPUS / entry["source"]).exists()
    spans = _spans(entry["source"])
    matching = [s for s in spans if entry["match"] in s.header_text]
    assert len(matching) == 1, "the match text must pick exactly one table"
    assert len(entry["columns"]) == len(matching[0].table.columns)
    table = corpus_docs[entry["source"]].tables[spans.index(matching[0])]  # tables come in span order
    assert table.corrected
    assert table.columns == entry["columns"]
    assert table.row_header == entry["row_header"]


def test_load_corrections_groups_by_source():
    by_source = load_corrections(CORPUS)
    assert set(by_source) == {DOC_000, DOC_004}
    assert sum(len(v) for v in by_source.values()) == len(ENTRIES)


def test_000_potential_cooperation_header_is_exactly_the_extracted_header_text():
    (entry,) = [e for e in ENTRIES if e["match"] == "Potential cooperation with key partners"]
    raw = normalise((CORPUS / DOC_000).read_text(encoding="utf-8"))
    start = raw.index("Table 1: Potential cooperation with key partners")
    first_row = raw.index("\nUS x", start)
    block = raw[start:first_row]
    header = block[block.index("official documents and interviews") + len("official documents and interviews"):]
    assert squash(" ".join([entry["row_header"], *entry["columns"]])) == squash(header)
    # the span the cleaner found has the same header (its lines joined with spaces)
    span = _span(DOC_000, entry["match"])
    assert re.sub(r"\s+", "", header) in re.sub(r"\s+", "", span.header_text)


def test_000_annex_header_names_the_date_columns():
    (entry,) = [e for e in ENTRIES if e["match"] == "Framework Participation Agreements"]
    header = squash(_span(DOC_000, entry["match"]).header_text)
    for name in [entry["row_header"], *entry["columns"]]:
        assert squash(name) in header


def test_004_table1_column_names_occur_in_its_extracted_header():
    (entry,) = [e for e in ENTRIES if e["source"] == DOC_004 and e["match"] == "Table 1 –"]
    span = _span(DOC_004, "Table 1 –")
    for name in entry["columns"]:
        assert name in span.header_text, name


def test_004_table2_partners_are_the_six_sdp_partners_named_in_the_body(corpus_docs):
    (entry,) = [e for e in ENTRIES if e["source"] == DOC_004 and e["match"] == "Table 2 –"]
    text = corpus_docs[DOC_004].text
    m = re.search(r"six such partnerships – with \(by date of signature\) ([^.]+?), and more are envisaged", text)
    assert m, "the body sentence naming the six partners"
    named = re.split(r", | and ", m.group(1))
    assert named == ["Norway", "Moldova", "South Korea", "Japan", "Albania", "North Macedonia"]
    assert sorted(entry["columns"]) == sorted(named)
    assert len(set(entry["columns"])) == 6


def test_004_table2_agrees_with_the_body_text(corpus_docs):
    doc = corpus_docs[DOC_004]
    t = next(t for t in doc.tables if t.caption.startswith("Table 2 –"))
    assert t.corrected
    # "... their tailored partnership agreement is the only one that includes ... consular matters"
    assert "is the only one that includes a provision for more profound exchanges on consular matters" in doc.text
    assert _with(_row(t, "consular matters"), "✓") == {"Norway"}
    # "the SDPs with Albania and North Macedonia entail ... cultural heritage ... not present in other partnerships"
    assert "the SDPs with Albania and North Macedonia entail an area of cooperation relating to protecting " \
           "cultural heritage in conflict and crises" in doc.text
    assert _with(_row(t, "cultural heritage"), "✓") == {"Albania", "North Macedonia"}
    # "... 'defence tools and instruments', those with Japan and South Korea do not include the latter"
    assert "those with Japan and South Korea do not include the latter" in doc.text
    assert _with(_row(t, "defence tools and instruments"), "✗") == {"Japan", "South Korea"}
    # "some ten areas of cooperation are common to all six"
    assert "some ten areas of cooperation are common to all six" in doc.text
    assert sum(all(v == "✓" for v in values) for _, values in t.rows) == 10


def test_004_table1_agrees_with_the_body_text(corpus_docs):
    doc = corpus_docs[DOC_004]
    t = next(t for t in doc.tables if t.caption.startswith("Table 1 –"))
    # "... participation in the military operation Althea ... since 2006 for both Tirana and Skopje"
    assert "notable participation in the military operation Althea in Bosnia and Herzegovina since 2006 " \
           "for both Tirana and Skopje" in doc.text
    althea = _row(t, "Althea")
    assert althea["Albania"] == "✓" and althea["North Macedonia"] == "✓"


def test_a_correction_with_the_wrong_number_of_columns_is_not_applied():
    span = TableSpan(0, 3, Table("Table 1 – x", "Row", ["a", "b"], [("r", ["✓", "✗"])]), "Table 1 – x")
    assert apply_corrections(span, [{"match": "Table 1 –", "columns": ["only one"]}]) is False
    assert span.table.columns == ["a", "b"] and not span.table.corrected
    assert apply_corrections(span, [{"match": "Table 1 –", "columns": ["A", "B"], "row_header": "R"}])
    assert span.table.columns == ["A", "B"] and span.table.row_header == "R" and span.table.corrected
