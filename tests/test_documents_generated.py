"""Analysts' own files: PDFs printed by Chromium from HTML written here, Word and OpenDocument files written
with python-docx and odfpy, and an image-only PDF made with Pillow. Every fixture is generated in the test
session (nothing downloaded or committed); each carries one layout problem whose answer is known.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers import DATA, TINY_FILES, chromium_path, html_to_pdf

from assistant import Settings, answer, build_index
from assistant.errors import CorpusError
from assistant.ingest import load_corpus, load_document
from assistant.library import UPLOAD_TYPES, add_document, document_html, get_document

STYLE = """<style>
@page { size: A4; margin: 22mm 20mm; }
body { font-family: sans-serif; font-size: 11pt; }
table { border-collapse: collapse; margin: 8pt 0; }
td, th { border: 0.75pt solid black; padding: 2pt 4pt; vertical-align: top; }
td.narrow { width: 38mm; }
.cols { column-count: 2; column-gap: 14mm; text-align: justify; }
.notes { font-size: 8pt; }
</style>"""

# A 4-column partner table (one cell wraps over three lines), a 60-row register that runs over two pages
# with its header repeated, a two-column stretch, and a footnote; Chromium prints its running header
# (date, title) and footer (file URL, page n/N) on every page.
REVIEW_HTML = f"""<!doctype html><html><head><meta charset="utf-8"><title>Northern coast guard review</title>
{STYLE}</head><body>
<h1>Northern coast guard review</h1>
<h2>1. Partners</h2>
<p>The directorate cooperates with three partners in the northern seas.<sup>1</sup> Exercises are planned each
spring and reviewed in the autumn by the partners' liaison officers.</p>
<p>Table 1: Partner activities</p>
<table><tr><th>Partner</th><th>Launched</th><th>Naval exercises</th><th>Coast guard training</th></tr>
<tr><td>Korvania</td><td>14 March 2019</td><td>yes</td><td>no</td></tr>
<tr><td>Ostrelia</td><td class="narrow">2 May 2021, with a second phase agreed in 2022 after the review</td>
<td>no</td><td>yes</td></tr>
<tr><td>Valmark Islands</td><td>9 June 2023</td><td>yes</td><td>yes</td></tr></table>
<h2>2. Fleet register</h2>
<p>Table 2: Vessels in service</p>
<table><thead><tr><th>Vessel</th><th>Commissioned</th><th>Length</th></tr></thead><tbody>
{"".join(f"<tr><td>Skerry {i:02d}</td><td>{1980 + i}</td><td>{10 + i} m</td></tr>" for i in range(1, 61))}
</tbody></table>
<h2>3. Outlook</h2>
<div class="cols">
<p>The budget for patrol hours rose by a fifth in 2024, mostly for fuel and for crew overtime on the northern
routes, where the sea ice came later than usual and the patrol season therefore lasted three weeks longer than
planned by the directorate.</p>
<p>The training centre at Harnvik will open in 2026 and will host courses for all three partners, starting with
search and rescue drills for the boat crews of the partner coast guards and a winter navigation course.</p>
</div>
<p class="notes">1 The partners signed a memorandum of understanding in 2018.</p>
</body></html>"""

LEFT_COLUMN = ("The budget for patrol hours rose by a fifth in 2024, mostly for fuel and for crew overtime on the "
               "northern routes, where the sea ice came later than usual and the patrol season therefore lasted "
               "three weeks longer than planned by the directorate.")
RIGHT_COLUMN = ("The training centre at Harnvik will open in 2026 and will host courses for all three partners, "
                "starting with search and rescue drills for the boat crews of the partner coast guards and a "
                "winter navigation course.")


# The case: an HTML table printed without any rules, which pypdf read as one run-on line
# ("Partner Launched Naval exercises Coast guard training Korvania 14 March 2019 yes no ...").
PLAIN_HTML = """<!doctype html><html><head><meta charset="utf-8"><title>Harbour partners</title>
<style>body { font-family: sans-serif; font-size: 11pt; } td, th { padding: 2pt 8pt; text-align: left; }</style>
</head><body><h1>Harbour partners</h1>
<p>The harbour authority works with three partner ports. The table below lists what each of them does.</p>
<table><tr><th>Partner</th><th>Launched</th><th>Naval exercises</th><th>Coast guard training</th></tr>
<tr><td>Nordhavn</td><td>3 April 2018</td><td>yes</td><td>no</td></tr>
<tr><td>Sudmark</td><td>11 October 2020</td><td>no</td><td>yes</td></tr>
<tr><td>Estervik Bay</td><td>27 January 2022</td><td>yes</td><td>yes</td></tr></table>
<p>All partners meet once a year to review the exercises of the past season.</p>
</body></html>"""


@pytest.fixture(scope="session")
def made(tmp_path_factory) -> dict[str, Path]:
    """The generated files, by name (Chromium PDFs are skipped, with the reason, if there is no Chromium)."""
    root = tmp_path_factory.mktemp("made")
    out: dict[str, Path] = {}
    chromium = chromium_path()
    if chromium:
        out["review.pdf"] = html_to_pdf(chromium, REVIEW_HTML, root / "review.pdf")
        out["plain.pdf"] = html_to_pdf(chromium, PLAIN_HTML, root / "plain.pdf", header_footer=False)
    out["scan.pdf"] = _scan(root / "scan.pdf")
    out["partners.docx"] = _docx(root / "partners.docx")
    out["fleet.odt"] = _odt(root / "fleet.odt")
    return out


def _need(made: dict[str, Path], name: str) -> Path:
    if name not in made:
        pytest.skip(f"{name} needs headless Chromium, which is not installed")
    return made[name]


def _scan(path: Path) -> Path:
    """An image-only PDF: a page of text as pixels, as a scanner makes it."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (1240, 1754), "white")
    draw = ImageDraw.Draw(img)
    for k in range(20):
        draw.text((100, 100 + 40 * k), f"Scanned line {k}: the harbour was inspected in 2022.", fill="black")
    img.save(path, "PDF", resolution=150)
    return path


def _docx(path: Path) -> Path:
    import docx

    d = docx.Document()
    d.core_properties.title = "Partner cooperation in the northern seas"
    d.add_heading("Partner cooperation in the northern seas", 0)
    d.add_heading("Partners", 1)
    d.add_paragraph("The coast guard works with three partners in the northern seas.")
    d.add_heading("Joint activities", 2)
    d.add_paragraph("Table 1: Partner activities")
    t = d.add_table(rows=4, cols=3)
    for i, row in enumerate([["Partner", "Launched", "Naval exercises"], ["Korvania", "14 March 2019", "yes"],
                             ["Ostrelia", "2 May 2021\nsecond phase agreed in 2022", "no"],
                             ["Valmark Islands", "9 June 2023", "yes"]]):
        for j, v in enumerate(row):
            t.cell(i, j).text = v
    d.add_heading("Funding", 1)
    d.add_paragraph("Short line without a full stop")
    d.add_paragraph("The partners share the costs of joint exercises equally.")
    d.save(path)
    return path


def _odt(path: Path) -> Path:
    from odf.opendocument import OpenDocumentText
    from odf.table import Table, TableCell, TableColumn, TableRow
    from odf.text import H, Note, NoteBody, NoteCitation, P

    o = OpenDocumentText()
    o.text.addElement(H(outlinelevel=1, text="Harbour patrols"))
    p = P(text="The patrol fleet has nine boats.")
    note = Note(noteclass="footnote", id="ftn1")
    note.addElement(NoteCitation(text="1"))
    body = NoteBody()
    body.addElement(P(text="Counted by the harbour master in January 2024."))
    note.addElement(body)
    p.addElement(note)
    o.text.addElement(p)
    o.text.addElement(H(outlinelevel=2, text="Fleet"))
    t = Table()
    t.addElement(TableColumn(numbercolumnsrepeated=3))
    for row in [["Boat", "Length", "Base"], ["Skua", "12 m", "Tromsø"], ["Tern", "9 m", "Bodø"],
                ["Fulmar", "14 m", "Hammerfest"]]:
        tr = TableRow()
        for v in row:
            c = TableCell()
            c.addElement(P(text=v))
            tr.addElement(c)
        t.addElement(tr)
    o.text.addElement(t)
    o.save(str(path))
    return path


def _row(doc, label: str):
    (b,) = [b for b in doc.blocks if b.kind == "table_row" and b.locator.endswith(f"row: {label}")]
    return b


# --------------------------------------------------------------------------- Chromium PDF


def test_pdf_table_becomes_a_typed_table_with_a_multi_line_cell(made):
    doc = load_document(_need(made, "review.pdf"))
    t = doc.tables[0]
    assert t.caption == "Table 1: Partner activities"
    assert (t.row_header, t.columns) == ("Partner", ["Launched", "Naval exercises", "Coast guard training"])
    assert dict(t.rows)["Ostrelia"] == ["2 May 2021, with a second phase agreed in 2022 after the review", "no", "yes"]
    assert dict(t.rows)["Korvania"] == ["14 March 2019", "yes", "no"]
    rec = _row(doc, "Korvania")
    assert rec.text == ("Table 1: Partner activities, row \u201cKorvania\u201d (Partner): Launched: 14 March 2019; "
                        "Naval exercises: yes; Coast guard training: no.")
    assert rec.section == ("Northern coast guard review", "1. Partners", "Table 1: Partner activities")
    assert rec.text in doc.text
    assert "Partner Launched Naval exercises" not in doc.text  # no run-on line of cells


def test_pdf_table_over_two_pages_with_its_header_repeated_is_one_table(made):
    doc = load_document(_need(made, "review.pdf"))
    (t,) = [t for t in doc.tables if t.caption == "Table 2: Vessels in service"]
    assert len(doc.tables) == 2
    assert [label for label, _ in t.rows] == [f"Skerry {i:02d}" for i in range(1, 61)]  # header not a row
    assert dict(t.rows)["Skerry 42"] == ["2022", "52 m"]
    rec = _row(doc, "Skerry 60")
    assert rec.section[-1] == "Table 2: Vessels in service" and "Commissioned: 2040" in rec.text


def test_pdf_running_header_footer_dropped_and_footnote_kept(made):
    doc = load_document(_need(made, "review.pdf"))
    assert doc.title == "Northern coast guard review"
    assert doc.text.count("Northern coast guard review") == 1  # the heading, not the header of every page
    assert "file://" not in doc.text and "review.html" not in doc.text and "1/2" not in doc.text
    assert "in the northern seas.¹ Exercises are planned" in doc.text  # the call, as a superscript
    (fn,) = [b for b in doc.blocks if b.kind == "footnote"]
    assert fn.text == "Footnote 1: The partners signed a memorandum of understanding in 2018."


def test_pdf_two_columns_are_read_column_by_column(made):
    doc = load_document(_need(made, "review.pdf"))
    assert LEFT_COLUMN in doc.text and RIGHT_COLUMN in doc.text
    assert doc.text.index(LEFT_COLUMN) < doc.text.index(RIGHT_COLUMN)


def test_pdf_table_printed_without_rules_is_still_a_table(made):
    doc = load_document(_need(made, "plain.pdf"))
    (t,) = doc.tables
    assert (t.row_header, t.columns) == ("Partner", ["Launched", "Naval exercises", "Coast guard training"])
    assert t.rows == [("Nordhavn", ["3 April 2018", "yes", "no"]), ("Sudmark", ["11 October 2020", "no", "yes"]),
                      ("Estervik Bay", ["27 January 2022", "yes", "yes"])]
    assert "Partner Launched" not in doc.text and "Nordhavn 3 April" not in doc.text
    assert doc.text.index("lists what each of them does.") < doc.text.index("Nordhavn") \
        < doc.text.index("All partners meet once a year")


def test_pdf_table_shows_as_a_table_in_the_viewer(made):
    doc = load_document(_need(made, "review.pdf"))
    page = document_html(doc)
    assert page.count("<table>") == 2
    assert "<th scope='row'>Ostrelia</th><td>2 May 2021, with a second phase agreed in 2022 after the review</td>" \
        in page
    assert page.index("1. Partners") < page.index("Table 1: Partner activities") < page.index("2. Fleet register")


def test_pdf_without_a_text_layer_is_named_and_skipped(made, tmp_path):
    with pytest.raises(CorpusError, match=r"^scan\.pdf: no text layer; OCR is not supported$"):
        load_document(made["scan.pdf"])
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(made["scan.pdf"], corpus / "scan.pdf")
    shutil.copy(DATA / "fisheries.txt", corpus / "fisheries.txt")
    docs, skipped = load_corpus(corpus)
    assert [d.source for d in docs] == ["fisheries.txt"]
    assert [(s.source, s.reason) for s in skipped] == [("scan.pdf", "no text layer; OCR is not supported")]


def test_a_scanned_page_among_text_pages_is_noted(made, tmp_path):
    from pypdf import PdfWriter

    mixed = tmp_path / "mixed.pdf"
    writer = PdfWriter()
    writer.append(str(_need(made, "plain.pdf")))
    writer.append(str(made["scan.pdf"]))
    writer.write(str(mixed))
    notes: list[str] = []
    doc = load_document(mixed, notes=notes)
    assert doc.tables[0].rows[0][0] == "Nordhavn"
    assert notes == ["page 2 of 2: no text layer (scanned), not read; OCR is not supported"]


# --------------------------------------------------------------------------- Word and OpenDocument


def test_docx_headings_give_sections_and_tables_are_tables(made):
    doc = load_document(made["partners.docx"])
    assert doc.title == "Partner cooperation in the northern seas"
    (t,) = doc.tables
    assert (t.caption, t.row_header, t.columns) == ("Table 1: Partner activities", "Partner",
                                                     ["Launched", "Naval exercises"])
    assert dict(t.rows)["Ostrelia"] == ["2 May 2021 second phase agreed in 2022", "no"]
    rec = _row(doc, "Korvania")
    assert rec.section == ("Partner cooperation in the northern seas", "Partners", "Joint activities",
                           "Table 1: Partner activities")
    assert "Launched: 14 March 2019" in rec.text or "14 March 2019" in rec.text
    para = [b for b in doc.blocks if b.text == "Short line without a full stop"]
    assert para and para[0].kind == "paragraph"  # a styled document's short line is not guessed a heading
    assert para[0].section == ("Partner cooperation in the northern seas", "Funding")


def test_odt_headings_tables_and_footnotes(made):
    doc = load_document(made["fleet.odt"])
    (t,) = doc.tables
    assert (t.row_header, t.columns) == ("Boat", ["Length", "Base"])
    assert dict(t.rows)["Tern"] == ["9 m", "Bodø"]
    assert _row(doc, "Fulmar").section[:2] == ("Harbour patrols", "Fleet")
    assert "The patrol fleet has nine boats.¹" in doc.text
    (fn,) = [b for b in doc.blocks if b.kind == "footnote"]
    assert fn.text == "Footnote 1: Counted by the harbour master in January 2024."


@pytest.mark.parametrize("name", ["broken.docx", "broken.odt"])
def test_broken_office_files_are_named(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(CorpusError, match=rf"^{name.replace('.', r'.')}: not a readable"):
        load_document(path)


def test_upload_accepts_word_and_opendocument(made, tiny_corpus, isolated_state):
    assert {".docx", ".odt"} <= set(UPLOAD_TYPES)
    settings = Settings.load(corpus_dir=tiny_corpus, index_dir=isolated_state)
    build_index(settings)
    summary = add_document(made["partners.docx"], "partners.docx", settings)
    assert summary.documents == 4 and summary.tables >= 2
    assert get_document("partners.docx", settings).tables[0].rows[0][0] == "Korvania"


# --------------------------------------------------------------------------- answered and cited


def _pdf_corpus(made, tmp_path, *pdfs: str) -> tuple[Path, Settings]:
    """The tiny corpus plus generated PDFs, indexed."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in TINY_FILES:
        shutil.copy(DATA / name, corpus / name)
    for name in pdfs:
        shutil.copy(_need(made, name), corpus / name)
    settings = Settings.load(corpus_dir=corpus, index_dir=tmp_path / "index")
    build_index(settings)
    return corpus, settings


def test_a_table_fact_in_a_pdf_is_answered_cited_from_its_row(made, tmp_path):
    corpus, settings = _pdf_corpus(made, tmp_path, "review.pdf", "plain.pdf")
    a = answer("When were the activities with Korvania launched?", llm="none", corpus_dir=corpus,
               index_dir=settings.index_dir)
    assert not a.abstained, a.text
    assert "14 March 2019" in a.text
    cited = [c for c in a.citations if "14 March 2019" in c.quote]
    assert cited and cited[0].source == "review.pdf" and cited[0].locator == "Table 1, row: Korvania"
    doc = get_document("review.pdf", settings)
    assert cited[0].quote in doc.text
    a = answer("When was the cooperation with Sudmark launched?", llm="none", corpus_dir=corpus,
               index_dir=settings.index_dir)
    assert "11 October 2020" in a.text and a.citations[0].source == "plain.pdf", a.text
    assert a.citations[0].locator == "Table 1, row: Sudmark"


@pytest.mark.slow
@pytest.mark.llm
def test_a_table_fact_in_a_pdf_is_answered_cited_from_its_row_by_the_local_model(made, tmp_path):
    """The same PDF table with the default local model, asked in other words than the table's."""
    corpus, settings = _pdf_corpus(made, tmp_path, "review.pdf")
    a = answer("On what date did the work with Korvania start?", llm="local", corpus_dir=corpus,
               index_dir=settings.index_dir)
    assert not a.abstained, (a.abstain_reason, a.raw)
    assert "14 March 2019" in a.text
    cited = [c for c in a.citations if c.source == "review.pdf"]
    assert cited and cited[0].locator == "Table 1, row: Korvania" and cited[0].quote in get_document(
        "review.pdf", settings).text
