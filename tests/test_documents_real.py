"""The real public PDFs in ../shared/pdfs (read in place, never copied into the repo; skipped if absent):
named table rows come out as records with the right cells, and the text keeps its footnotes and order.
The facts checked are those shared/pdfs/README.md gives (and, for ICDAR, its published ground truth).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from helpers import SHARED_PDFS

from assistant.ingest import load_document
from assistant.types import Document

FMT = SHARED_PDFS / "fmt_fy2020_europe_state_dod.pdf"
EPRS = SHARED_PDFS / "eprs_2024_red_sea_threats.pdf"
ICDAR = SHARED_PDFS / "icdar2013_eu-015_enquiries_by_topic.pdf"
FMT_COLUMNS = ["Qty", "Training Location", "Student's Unit", "US Unit", "Total Cost", "Start Date", "End Date"]


def _load(path) -> Document:
    if not path.exists():
        pytest.skip(f"{path} is not here (the shared PDFs sit beside the project, never inside it)")
    return load_document(path)


@pytest.fixture(scope="module")
def fmt() -> Document:
    return _load(FMT)  # 35 pages, ~15 s


@pytest.fixture(scope="module")
def icdar() -> Document:
    return _load(ICDAR)


@pytest.fixture(scope="module")
def eprs() -> Document:
    return _load(EPRS)


def _rows(doc: Document, label: str, caption: str = "") -> list[tuple[str, dict[str, str], object]]:
    """(caption, {column: value}, table) of every row with this label, in tables whose caption has `caption`."""
    return [(t.caption, dict(zip(t.columns, values, strict=True)), t) for t in doc.tables if caption in t.caption
            for lab, values in t.rows if lab == label]


def _record(doc: Document, label: str, caption: str, row_header: str = "") -> str:
    (text,) = [b.text for b in doc.blocks if b.kind == "table_row" and b.locator.endswith(f"row: {label}")
               and caption in b.section[-1] and f"({row_header}" in b.text]
    return text


# --------------------------------------------------------------------------- FMT report (8-column tables)


def test_fmt_georgia_totals_row(fmt):
    ((caption, row, _),) = _rows(fmt, "Georgia Fiscal Year 2020 Totals")
    assert row["Qty"] == "761" and row["Total Cost"] == "$9,869,025"
    assert caption.split(" – ")[1].startswith("Georgia: ")  # the country's last programme table, run on to p.13
    rec = _record(fmt, "Georgia Fiscal Year 2020 Totals", "Georgia")
    assert "Qty: 761" in rec and "Total Cost: $9,869,025" in rec and rec in fmt.text
    assert "blank" not in rec  # empty cells of the totals row are left out


def test_fmt_austria_exchange_row_with_a_cell_wrapped_over_two_lines(fmt):
    ((caption, row, _),) = _rows(fmt, "United States Military Academy Semester Abroad Program", "Austria")
    assert caption.endswith("Austria: Exchange - Fiscal Year 2020 Department of Defense Training")
    assert row == {"Qty": "4", "Training Location": "AUSTRIA THERESIAN MILITARY ACADEMY", "Student's Unit": "USMA",
                   "US Unit": "USMA - 0", "Total Cost": "$36,000", "Start Date": "6/1/2019", "End Date": "12/20/2019"}


def test_fmt_armenia_imet2_row(fmt):
    ((_, row, _),) = _rows(fmt, "International Defense Management Course", "Armenia: IMET-2")
    assert (row["Qty"], row["Training Location"], row["Student's Unit"], row["Total Cost"], row["Start Date"],
            row["End Date"]) == ("1", "Monterey, CA, US", "Ministry Of Defense", "$45,368", "10/7/2019", "12/13/2019")
    rec = _record(fmt, "International Defense Management Course", "Armenia: IMET-2")
    assert rec.startswith("Table 4 – Armenia: IMET-2 - Fiscal Year 2020 Department of State Training, row")


def test_fmt_ukraine_totals_on_the_last_page(fmt):
    ((_, row, _),) = _rows(fmt, "Ukraine Fiscal Year 2020 Totals")
    assert (row["Qty"], row["Total Cost"]) == ("402", "$3,371,389")


def test_fmt_tables_continued_over_pages_are_merged_and_keep_their_programme(fmt):
    assert len(fmt.tables) == 87  # one per programme (shared/pdfs/README.md), not one per page
    for t in fmt.tables:
        assert t.columns == FMT_COLUMNS and t.row_header == "Course Title"
        assert re.fullmatch(r"Table \d+ – [A-Z][^:]+: .+ - Fiscal Year 2020 .+", t.caption), t.caption
        assert all(label != "Course Title" for label, _ in t.rows)  # repeated headers are not rows
        assert any(label == "Fiscal Year 2020 Program Totals" for label, _ in t.rows), t.caption
    # Azerbaijan's FMF table starts on p.2 (7 DLI MTT rows) and runs on over p.3 with its header repeated
    (fmf,) = [t for t in fmt.tables if t.caption.startswith("Table 10 – Azerbaijan: FMF")]
    assert sum(label == "DLI MTT" for label, _ in fmf.rows) == 30 and fmf.rows[-1][1][4] == "$88,176"
    assert sum(len(t.rows) for t in fmt.tables) > 1040


def test_fmt_running_header_and_footer_are_dropped(fmt):
    assert fmt.title == "Volume I - Section IV - Part IV-III - Europe"
    assert "Volume I - Section IV" not in fmt.text
    assert [b.text for b in fmt.blocks if b.kind == "heading"][:3] == ["Armenia", "Austria", "Azerbaijan"]


# --------------------------------------------------------------------------- ICDAR eu-015 (side-by-side tables)


def _truth() -> list[list[tuple[str, str]]]:
    xml = ICDAR.with_suffix(".str.xml")
    tables = []
    for t in ET.parse(xml).getroot().iter("table"):
        cells = {(int(c.get("start-row")), int(c.get("start-col"))): (c.findtext("content") or "").strip()
                 for c in t.iter("cell")}
        tables.append([(cells.get((r, 0), ""), cells[(r, 1)]) for r in range(1, max(r for r, _ in cells) + 1)
                       if cells.get((r, 1))])
    return tables


def _squash(s: str) -> str:
    return re.sub(r"\s+", "", s).lower()  # the ground truth drops spaces in some labels ("TotalEU-15")


def test_icdar_every_ground_truth_cell_is_read_verbatim(icdar):
    assert len(icdar.tables) == 5
    for truth, table in zip(_truth(), icdar.tables, strict=True):
        got = [(_squash(label), values[0]) for label, values in table.rows]
        assert got == [(_squash(label), value) for label, value in truth], table.caption


def test_icdar_named_cells(icdar):
    t1, t2, t3, t4, t5 = icdar.tables
    assert dict(t1.rows)["Justice Freedom and Security"] == ["1.451"]  # '.' is a thousands separator: verbatim
    assert dict(t1.rows)["Total"] == ["14.862"]  # a space drawn over the digits is not read as a gap
    assert dict(t2.rows)["Grand Total"] == ["23.900"] and dict(t2.rows)["Research enquiry service"] == ["2.003"]
    # the three tables side by side on p.2, each with its topic as the row header
    assert (t3.row_header, dict(t3.rows)["Spain"]) == ("Air passengers rights", ["268"])
    assert (t4.row_header, dict(t4.rows)["Total EU-15"]) == ("Free movement of persons / workers", ["813"])
    assert (t5.row_header, dict(t5.rows)["Germany"]) == ("Treaty reform / IGC / Lisbon Treaty", ["91"])
    rec = _record(icdar, "Germany", "Hot topics by country", "Treaty reform")
    assert "Germany" in rec and "91" in rec
    assert "Justice Freedom and Security" in _record(icdar, "Justice Freedom and Security", "Enquiries by topic")


# --------------------------------------------------------------------------- EPRS briefing (text, endnotes)


def test_eprs_has_no_table_and_keeps_its_endnotes(eprs):
    assert eprs.tables == []
    notes = {b.locator: b.text for b in eprs.blocks if b.kind == "footnote"}
    assert len(notes) == 11
    assert notes["Footnote 7"] == ("Footnote 7: The Suez Canal contributed US$9.4 billion in 2023 or approximately "
                                   "2.3 % of Egypt's GDP.")
    assert "Conference on Trade and Development (UNCTAD).¹ Contributing" in eprs.text  # the call, superscript


def test_eprs_text_is_whole_words_in_order_without_page_furniture(eprs):
    assert eprs.title == "Recent threats in the Red Sea"
    text = eprs.text
    # the sentence that runs across the page break, without the running header in its middle
    assert ("32.4 % of vessels passing through the Red Sea were tankers (i.e. carrying oil), 27.9 % were container "
            "ships") in text
    assert "Djibouti (6 % of exports and 31 % of imports through the canal)" in text
    for broken in ("s hipping", "Th is", "co u ld"):
        assert broken not in text
    assert text.count("EPRS | European Parliamentary Research Service") <= 1  # p.1's own footer at most
    sections = {b.section[-1] for b in eprs.blocks if b.kind == "paragraph" and b.section}
    assert {"Introduction", "Impact of the attacks"} <= sections
