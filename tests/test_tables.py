"""Tables in the extracted text become one self-contained record per row (and per column of mark tables)."""

from __future__ import annotations

import pytest
from helpers import DATA, DOC_000, DOC_004

from assistant.ingest import load_document
from assistant.ingest.tables import column_record, find_tables, is_mark_table, row_record
from assistant.types import Table

PARTNERS = ["Norway", "Moldova", "Albania", "North Macedonia", "Japan", "South Korea"]

TABLE2_AREAS = [
    "EU CSDP missions and operations", "Hybrid threats", "Cyber issues",
    "Coordination/cooperation on (cyber) capacity building",
    "Coordination/cooperation on capacity building for partners", "STRATCOM and/or FIMI",
    "Non-proliferation and disarmament, conventional weapons, including SALW*",
    "Counterterrorism and preventing/countering violent extremism", "Consultations on relevant defence initiatives",
    "Consultations on relevant defence tools and instruments", "Training and/or education",
    "Integrated border management", "Women, peace and security", "(Continued long-term) support for Ukraine",
    "Maritime security", "Space security and defence", "Resilience of critical infrastructure",
    "International peace/peace mediation/conflict prevention/crisis management",
    "Deepening exchanges on consular matters", "Coordination in international forums",
    "(External aspects of) economic security", "Possibility to conclude security of information agreement",
    "Possibility to establish secure communications connection",
    "(External aspects of) human trafficking and transnational organised crime",
    "Protection of cultural heritage in conflict and crises",
]

# 000 Table 1 as printed (one mark per cell, empty cells blank), read off the PDF layout
T1_000_COLUMNS = ["EU Rapid Deployment Capacity", "CSDP", "CMP", "Disarmament and non-proliferation",
                  "Air security operations", "Hybrid Toolbox", "Cyber Diplomatic Toolbox", "FIMI Toolbox",
                  "EU Space Strategy", "European Peace Facility"]
T1_000 = {
    "US": "xxxxxxxxx.", "Canada": "xxxxxxxxx.", "UK": "xxxxxxxxx.", "Norway": "xx.xxxxx.x",
    "Turkey": ".x..xxxx..", "Ukraine": "xx..xxxxx.", "Japan": "xxxxxxxxx.", "South Korea": "xxxxxxxxx.",
    "Australia": "xxxxxxxx..", "India": "xxxxxxxxx.",
}

ANNEX_000 = [
    ("Peru", "14/10/2022", "-"), ("Vietnam", "17/10/2019", "01/05/2020"), ("Jordan", "17/06/2019", "-"),
    ("Bosnia and Herzegovina", "15/09/2015", "01/08/2016"), ("Australia", "22/04/2015", "01/10/2015"),
    ("Colombia", "05/08/2014", "01/03/2020"), ("Republic of Korea", "23/05/2014", "01/12/2016"),
    ("Chile", "30/01/2014", "01/10/2015"), ("Georgia", "29/11/2013", "01/03/2014"),
    ("Moldova", "13/12/2012", "01/07/2013"), ("North Macedonia", "29/10/2012", "01/04/2013"),
    ("Albania", "05/06/2012", "01/02/2013"), ("New Zealand", "18/04/2012", "01/05/2012"),
    ("Serbia", "08/06/2011", "01/08/2012"), ("United States", "17/05/2011", "01/06/2011"),
    ("Montenegro", "22/02/2011", "01/04/2012"), ("Turkey", "29/06/2006", "01/08/2007"),
    ("Canada", "24/11/2005", "01/12/2005"), ("Ukraine", "13/06/2005", "01/05/2008"),
    ("Iceland", "21/02/2005", "01/04/2005"), ("Bulgaria", "24/01/2005", "01/08/2006"),
    ("Norway", "03/12/2004", "01/01/2005"), ("Romania", "22/11/2004", "01/12/2004"),
]


def _table(doc, caption_start: str) -> Table:
    (t,) = [t for t in doc.tables if t.caption.startswith(caption_start)]
    return t


def _records(doc, kind: str, locator_start: str) -> list:
    return [b for b in doc.blocks if b.kind == kind and b.locator.startswith(locator_start)]


def _groups(record: str) -> list[str]:
    """The value groups of a mark-table record ('✓ ...: A, B; ✗ ...: C'), whatever the exact wording."""
    body = record.split("\u201d", 1)[1]  # after the quoted row label
    return [g for g in body.split(";") if g.strip()]


def _names_with(record: str, mark: str, names: list[str]) -> set[str]:
    (group,) = [g for g in _groups(record) if mark in g]
    return {n for n in names if n in group}


# --------------------------------------------------------------------------- 004


def test_004_table2_every_row_is_a_record(corpus_docs):
    doc = corpus_docs[DOC_004]
    t = _table(doc, "Table 2 –")
    assert t.columns == PARTNERS
    assert [label for label, _ in t.rows] == [f"{n}|{a}" for n, a in enumerate(TABLE2_AREAS, start=1)]
    assert all(len(values) == 6 for _, values in t.rows)
    rows = _records(doc, "table_row", "Table 2, ")
    assert [b.locator for b in rows] == [f"Table 2, row {n}: {a}" for n, a in enumerate(TABLE2_AREAS, start=1)]
    for b, area in zip(rows, TABLE2_AREAS, strict=True):
        assert f"\u201c{area}\u201d" in b.text
        assert b.text.startswith("Table 2 – Comparison of the content of the EU's tailored security")
        assert all(p in b.text for p in PARTNERS)  # a record is self-contained
    cols = _records(doc, "table_column", "Table 2, ")
    assert [b.locator for b in cols] == [f"Table 2, column: {p}" for p in PARTNERS]


def test_004_table2_row16_names_all_six_partners_with_their_marks(corpus_docs):
    doc = corpus_docs[DOC_004]
    (row16,) = [b for b in doc.blocks if b.locator == "Table 2, row 16: Space security and defence"]
    assert _names_with(row16.text, "✓", PARTNERS) == {"Norway", "Japan", "South Korea"}
    assert _names_with(row16.text, "✗", PARTNERS) == {"Moldova", "Albania", "North Macedonia"}
    assert len(_groups(row16.text)) == 2
    assert row16.text in doc.text


def test_004_table2_already_exists_cells(corpus_docs):
    t = _table(corpus_docs[DOC_004], "Table 2 –")
    label, values = t.rows[21]
    assert label == "22|Possibility to conclude security of information agreement"
    assert values == ["Already exists"] * 4 + ["✓", "✓"]


def test_004_table1_every_row_is_a_record(corpus_docs):
    doc = corpus_docs[DOC_004]
    t = _table(doc, "Table 1 –")
    assert t.row_header == "CSDP mission or operation"
    assert t.columns == PARTNERS
    assert t.rows == [
        ("EUFOR Althea", ["✗", "✓", "✓", "✓", "✗", "✗"]),
        ("EULEX Kosovo", ["✓", "✗", "✗", "✗", "✗", "✗"]),
        ("EUNAVFOR Atalanta", ["✗", "✗", "✗", "✗", "✗", "✓"]),
        ("EUTM Somalia", ["✗", "✓", "✗", "✗", "✗", "✗"]),
    ]
    rows = _records(doc, "table_row", "Table 1, ")
    assert [b.locator for b in rows] == ["Table 1, row: EUFOR Althea", "Table 1, row: EULEX Kosovo",
                                         "Table 1, row: EUNAVFOR Atalanta", "Table 1, row: EUTM Somalia"]
    assert _names_with(rows[0].text, "✓", PARTNERS) == {"Moldova", "Albania", "North Macedonia"}
    assert all(b.section[-2:] == ("Republic of Korea (RoK)", t.caption) for b in rows)


# --------------------------------------------------------------------------- 000


def test_000_table1_every_row_is_a_record(corpus_docs):
    doc = corpus_docs[DOC_000]
    t = _table(doc, "Table 1: Potential cooperation with key partners")
    assert t.caption.endswith("based on current EU and partner official documents and interviews")
    assert t.columns == T1_000_COLUMNS
    assert [label for label, _ in t.rows] == list(T1_000)  # 'South Korea' is wrapped over two lines
    for label, values in t.rows:
        assert "".join(v or "." for v in values) == T1_000[label], label
    rows = _records(doc, "table_row", "Table 1, ")
    assert [b.locator for b in rows] == [f"Table 1, row: {p}" for p in T1_000]


def test_000_table1_norway_has_cmp_and_space_strategy_blank(corpus_docs):
    t = _table(corpus_docs[DOC_000], "Table 1: Potential cooperation")
    norway = dict(zip(t.columns, dict(t.rows)["Norway"], strict=True))
    assert norway["CMP"] == "" and norway["EU Space Strategy"] == ""
    assert {c for c, v in norway.items() if v == "x"} == set(T1_000_COLUMNS) - {"CMP", "EU Space Strategy"}
    (rec,) = [b.text for b in corpus_docs[DOC_000].blocks if b.locator == "Table 1, row: Norway"]
    blank = [g for g in _groups(rec) if "blank" in g]
    marked = [g for g in _groups(rec) if "blank" not in g]
    assert len(blank) == 1 and len(marked) == 1
    assert {c for c in T1_000_COLUMNS if c in blank[0]} == {"CMP", "EU Space Strategy"}
    assert {c for c in T1_000_COLUMNS if c in marked[0]} == set(T1_000_COLUMNS) - {"CMP", "EU Space Strategy"}


def test_000_annex_every_row_is_a_record(corpus_docs):
    doc = corpus_docs[DOC_000]
    t = _table(doc, "Annex")
    assert t.columns == ["Signed", "In force since"]
    assert t.rows == [(c, [s, f]) for c, s, f in ANNEX_000]
    heading = next(b.text for b in doc.blocks if b.kind == "heading" and "Annex" in b.text)
    assert "all 23 concluded" in heading and len(t.rows) == 23  # the count the heading states
    rows = _records(doc, "table_row", "Annex, ")
    assert len(rows) == 23
    peru = rows[0].text
    assert "Peru" in peru and "14/10/2022" in peru and "In force since" in peru


# --------------------------------------------------------------------------- tiny corpus and synthetic tables


def test_tiny_tab_table_parses_without_corrections():
    doc = load_document(DATA / "fisheries.txt", corrections=None)
    (t,) = doc.tables
    assert t.caption == "Table 1 – Partners taking part in each activity"
    assert t.row_header == "Activity"
    assert t.columns == ["Iceland", "Norway", "Faroe Islands"]
    assert t.rows == [("1|Joint patrols", ["✓", "✓", "✗"]), ("2|Catch register", ["✓", "✓", "✓"]),
                      ("3|Research cruises", ["✗", "✓", "✓"])]
    assert t.corrected is False
    (patrols,) = [b for b in doc.blocks if b.locator == "Table 1, row 1: Joint patrols"]
    assert _names_with(patrols.text, "✓", t.columns) == {"Iceland", "Norway"}
    assert _names_with(patrols.text, "✗", t.columns) == {"Faroe Islands"}
    (faroe,) = [b for b in doc.blocks if b.locator == "Table 1, column: Faroe Islands"]
    assert _names_with(faroe.text, "✓", ["Joint patrols", "Catch register", "Research cruises"]) == {
        "Catch register", "Research cruises"}


def test_space_separated_mark_table_with_wrapped_label():
    lines = ["Table 3: Who does what", "", "Partner Alpha Beta Gamma", "",
             "Iceland x  x ", "", "Faroe", "Islands", "", "x x x ", "", "Norway  x x ", "", "Source: ours"]
    (span,) = find_tables(lines)
    assert span.table.caption == "Table 3: Who does what"
    assert span.table.rows == [("Iceland", ["x", "", "x"]), ("Faroe Islands", ["x", "x", "x"]),
                               ("Norway", ["", "x", "x"])]


def test_date_table():
    lines = ["Partner Signed In force", "", "Peru 14/10/2022 -", "Chile 30/01/2014 01/10/2015",
             "Georgia 29/11/2013 01/03/2014", ""]
    (span,) = find_tables(lines)
    assert span.table.rows == [("Peru", ["14/10/2022", "-"]), ("Chile", ["30/01/2014", "01/10/2015"]),
                               ("Georgia", ["29/11/2013", "01/03/2014"])]
    assert not is_mark_table(span.table)
    text, locator = row_record(span.table, 0)
    assert locator == "Table, row: Peru"
    assert "14/10/2022" in text


def test_records_name_every_column():
    t = Table("Table 9 – Test", "Area", ["A", "B", "C"], [("1|Patrols", ["✓", "✗", "✓"])])
    text, locator = row_record(t, 0)
    assert locator == "Table 9, row 1: Patrols"
    assert _names_with(text, "✓", ["A", "B", "C"]) == {"A", "C"}
    assert _names_with(text, "✗", ["A", "B", "C"]) == {"B"}
    text, locator = column_record(t, 1)
    assert locator == "Table 9, column: B"
    assert "Patrols" in text and "✗" in text


@pytest.mark.parametrize("values", [["✓", "✗"], ["x", ""], ["Already exists", "✓"]])
def test_mark_tables_are_recognised(values):
    assert is_mark_table(Table("T", "R", ["a", "b"], [("r", values)]))
