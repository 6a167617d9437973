"""Ingestion: readers (txt, md, html, pdf) and the clean-up of extraction damage in the real corpus."""

from __future__ import annotations

import re

import pytest
from helpers import AGREEMENTS_MD, CORPUS, DATA, DOC_000, DOC_002, DOC_003, DOC_004

from assistant.chunking import chunk_document
from assistant.errors import CorpusError
from assistant.ingest import load_corpus, load_document, scan_corpus
from assistant.ingest.clean import _URL_LINE, clean_blocks, normalise
from assistant.ingest.readers import read_file


def _raw(name: str) -> str:
    return normalise((CORPUS / name).read_text(encoding="utf-8"))


def _block_texts(doc, kind: str) -> list[str]:
    return [b.text for b in doc.blocks if b.kind == kind]


def make_pdf(lines: list[str]) -> bytes:
    """A minimal one-page PDF (Helvetica) with one text line per item, xref offsets computed."""
    content = "BT /F1 12 Tf 72 720 Td 14 TL " + " ".join(f"({s}) Tj T*" for s in lines) + " ET"
    objs = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(content)} >>\nstream\n{content}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = b"%PDF-1.4\n", []
    for i, body in enumerate(objs, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


# --------------------------------------------------------------------------- the real corpus


def test_every_corpus_document_loads_with_its_metadata(corpus_docs):
    assert sorted(corpus_docs) == sorted(p.name for p in scan_corpus(CORPUS))
    assert len(corpus_docs) == 5
    doc = corpus_docs[DOC_004]
    assert doc.title == "The EU's new bilateral security and defence partnerships"
    assert doc.publisher.startswith("European Parliamentary Research Service")
    assert len(doc.sha256) == 64
    for d in corpus_docs.values():
        assert len(d.blocks) == len(d.spans)
        for b, (s, e) in zip(d.blocks, d.spans, strict=True):
            assert d.text[s:e] == b.text  # spans point into the cleaned text


# words the PDF extraction broke at a line end ("inter-\norganisational"), as the document spells them
HYPHENATED = [
    "inter-organisational", "like-minded", "confidence-building", "north-western", "far-reaching",
    "follow-up", "cross-cutting", "high-level", "well-placed", "long-term", "capacity-building",
    "non-proliferation",
]


@pytest.mark.parametrize("word", HYPHENATED)
def test_line_break_hyphenation_is_rejoined(corpus_docs, word):
    head, tail = word.split("-", 1)
    raw = _raw(DOC_000)
    assert re.search(rf"\b{head}-[ \t]*\n[ \t]*{tail}", raw), "the raw text breaks this word at a line end"
    text = corpus_docs[DOC_000].text
    assert word in text
    assert f"{head}- {tail}" not in text
    assert f"{head}-\n{tail}" not in text


# compounds broken at their hyphen where the cleaner drops the hyphen ("crisis-\nmanagement")
GLUED = [
    pytest.param("externally-focused", "externallyfocused", id="externally-focused"),
    pytest.param("crisis-management", "crisismanagement", id="crisis-management"),
    # the document itself spells "staff-to-staff" elsewhere, which the docstring says is honoured
    pytest.param("staff-to-staff", "staffto-staff", id="staff-to-staff"),
    pytest.param("region-to-sub-region", "regionto-sub-region", id="region-to-sub-region"),
]


@pytest.mark.parametrize(("word", "glued"), GLUED)
def test_compound_broken_at_its_hyphen_keeps_the_hyphen(corpus_docs, word, glued):
    text = corpus_docs[DOC_000].text
    assert glued not in text
    assert word in text


def test_no_hyphen_space_artefacts_that_the_raw_text_does_not_have(corpus_docs):
    for name in (DOC_000, DOC_004):
        raw = _raw(name)
        for m in re.finditer(r"\b[A-Za-z]+- [a-z]+", corpus_docs[name].text):
            assert m.group(0) in raw, f"{name}: {m.group(0)!r} is an artefact of cleaning"


def test_hyphenation_rules_on_synthetic_text():
    raw = ("Cooperation is key. The commit-\ntee and the govern-\nment agreed on non-\nproliferation "
           "and further co-\noperation in the field.\n")
    blocks, _, _ = clean_blocks(raw, "t")
    text = " ".join(b.text for b in blocks)
    assert "committee" in text and "government" in text
    assert "non-proliferation" in text  # a known prefix keeps its hyphen
    assert "cooperation in the field" in text  # the document spells it without a hyphen elsewhere


def test_bare_url_lines_are_dropped(corpus_docs):
    lines = _raw(DOC_000).split("\n")
    bare = {ln.strip().strip("<>").rstrip(".") for ln in lines if _URL_LINE.match(ln)}
    assert len(bare) > 20
    # URLs that occur nowhere else (not even inline, wrapped over lines) must be gone from the cleaned text
    rest = re.sub(r"\s+", "", "\n".join(ln for ln in lines if not _URL_LINE.match(ln)))
    only_bare = [u for u in bare if u not in rest]
    assert len(only_bare) > 10
    text = corpus_docs[DOC_000].text
    assert [u for u in only_bare if u in text] == []


def test_bare_url_line_inside_a_paragraph_is_removed_and_the_paragraph_joined():
    raw = ("The partnership was signed in Brussels in May 2024 and it covers\n"
           "https://example.org/a-very-long-url\n"
           "maritime security and cyber issues.\n")
    blocks, _, _ = clean_blocks(raw, "t")
    assert [b.text for b in blocks if b.kind == "paragraph"] == [
        "The partnership was signed in Brussels in May 2024 and it covers maritime security and cyber issues."]


def test_endnotes_of_004_are_footnote_blocks(corpus_docs):
    doc = corpus_docs[DOC_004]
    notes = [b for b in doc.blocks if b.kind == "footnote"]
    assert [b.locator for b in notes] == [f"Footnote {n}" for n in range(1, 6)]
    for n, b in enumerate(notes, start=1):
        assert b.text.startswith(f"Footnote {n}: ")
    assert "joint panel discussion of the First and the Fourth UN Committee" in notes[2].text
    assert "coordination of external engagement in multilateral,³ plurilateral" in doc.text
    chunks = [c for c in chunk_document(doc) if c.kind == "footnote"]
    assert [c.locator for c in chunks] == [f"Footnote {n}" for n in range(1, 6)]


def test_footnotes_of_000_become_blocks_and_markers_superscripts(corpus_docs):
    doc = corpus_docs[DOC_000]
    notes = {b.locator: b for b in doc.blocks if b.kind == "footnote"}
    for n in range(1, 25):
        assert f"Footnote {n}" in notes
        assert notes[f"Footnote {n}"].text.startswith(f"Footnote {n}: ")
    assert notes["Footnote 4"].text == "Footnote 4: Association of Southeast Asian Nations."
    # body reference numbers glued to words become superscripts
    assert "partnerships in security and defence¹." in doc.text
    assert "EU-ASEAN⁴ and EU-AU relations" in doc.text
    assert "partnerships in security and defence1." not in doc.text
    # footnote text does not stay inside body paragraphs
    for p in _block_texts(doc, "paragraph")[:30]:
        assert "Association of Southeast Asian Nations" not in p


def test_footnotes_after_a_page_break_continuation_are_still_footnotes(corpus_docs):
    doc = corpus_docs[DOC_000]
    notes = {b.locator: b.text for b in doc.blocks if b.kind == "footnote"}
    assert notes.get("Footnote 26") == "Footnote 26: Interview with senior EEAS official, 27 February 2023."
    assert "Footnote 100" in notes
    assert "is also an important aspect of ‘strategy’" in doc.text
    assert not any("26 Interview with senior EEAS official" in p for p in _block_texts(doc, "paragraph"))


def test_a_list_item_below_the_footnotes_of_a_page_is_body_text(corpus_docs):
    """Item 4 of the EU-NATO list follows footnote 85 at the foot of a page: it goes back into the list."""
    doc = corpus_docs[DOC_000]
    notes = {b.locator: b.text for b in doc.blocks if b.kind == "footnote"}
    assert "Defence capabilities" not in notes["Footnote 85"]
    assert "3. Cyber security and defence; 4. Defence capabilities: Coherence" in doc.text


def test_numbered_references_of_003_are_footnote_blocks(corpus_docs):
    doc = corpus_docs[DOC_003]
    notes = {b.locator: b.text for b in doc.blocks if b.kind == "footnote"}
    assert all(f"Footnote {n}" in notes for n in range(1, 21))
    assert notes["Footnote 4"] == "Footnote 4: Coordination is also pursued with the United Kingdom in several areas."


# sentences that a figure (caption, blank image, source line) cuts in two in the raw text of 004
FIGURE_CUT = [
    "both parties 'face an increasingly challenging security environment inter alia due to ongoing",
    "concrete naval cooperation will be promoted through the 2023 administrative arrangement",
    "Both texts underline that the basis of the partnerships stems from the respective stabilisation",
    "something that is not present in other partnerships",
    "share best practice in developing relevant strategies and policies, and share information on threat",
    "thus consolidating its participation in EU CSDP military missions",
]


@pytest.mark.parametrize("sentence", FIGURE_CUT)
def test_figure_captions_do_not_interrupt_sentences(corpus_docs, sentence):
    raw = _raw(DOC_004)
    assert sentence not in raw  # cut in the raw text
    assert sentence in corpus_docs[DOC_004].text


def test_figure_captions_and_sources_are_removed(corpus_docs):
    text = corpus_docs[DOC_004].text
    assert "Figure" not in text
    assert "Threats to peace and democracy:" not in text
    assert "Source: E. Lazarou" not in text


def test_figure_cut_after_a_semicolon_is_rejoined(corpus_docs):
    assert "mutually designated third countries; (ii) exploring cooperation" in corpus_docs[DOC_004].text


def test_website_boilerplate_is_removed_from_002(corpus_docs):
    doc = corpus_docs[DOC_002]
    low = doc.text.lower()
    for junk in ("cookie", "subscribe", "comments are closed", "privacy overview", "related articles",
                 "continue reading", "discover more from", "logo", "adobe stock"):
        assert junk not in low, junk
    assert "six such partnerships – with (by date of signature) Norway, Moldova" in doc.text
    assert doc.text.rstrip().endswith("in the Think Tank pages of the European Parliament.")


def test_headings_give_section_paths_in_004(corpus_docs):
    chunks = chunk_document(corpus_docs[DOC_004])
    japan = [c for c in chunks if c.section == "Japan"]
    assert japan and any("On 1 November 2024, the EU and Japan signed" in c.text for c in japan)
    assert any(c.section == "Moldova" and "21 May 2024" in c.text for c in chunks)
    assert any(c.section == "Norway" and "28 May 2024" in c.text for c in chunks)
    rows = [c for c in chunks if c.kind == "table_row" and c.locator.startswith("Table 2, ")]
    assert rows and all(c.section.startswith("A global environment for partnering? > Table 2 –") for c in rows)


def test_numbered_headings_give_section_paths_in_000(corpus_docs):
    chunks = chunk_document(corpus_docs[DOC_000])
    path = "3 The Strategic Compass and core bilateral partnerships > 3.5 The EU’s relations with Japan and South Korea"
    assert any(c.section == path for c in chunks)
    assert any(c.section.endswith("4.1 The EU’s relations with NATO") for c in chunks)


def test_list_item_is_not_taken_for_a_chapter_heading(corpus_docs):
    doc = corpus_docs[DOC_000]
    headings = [b.text for b in doc.blocks if b.kind == "heading"]
    assert not any(h.startswith("6. Exercises") for h in headings)
    assert "4.2 The EU’s relations with the United Nations" in headings
    unlops = [b for b in doc.blocks if b.kind == "paragraph" and "UNLOPS" in b.text]
    assert unlops and unlops[0].section[-1] == "4.2 The EU’s relations with the United Nations"


# --------------------------------------------------------------------------- the tiny corpus


def test_tiny_txt_footnote_table_and_sections():
    doc = load_document(DATA / "fisheries.txt")
    assert doc.title == "Fisheries cooperation in the North Atlantic"
    assert "the Faroe Islands.¹ It sets up joint patrols" in doc.text
    assert "joint committee of the three parties" in doc.text
    notes = [b for b in doc.blocks if b.kind == "footnote"]
    assert [(b.locator, b.text) for b in notes] == [
        ("Footnote 1", "Footnote 1: The text of the pact is published by the Nordic Fisheries Secretariat.")]
    paragraph = next(b for b in doc.blocks if b.kind == "paragraph" and "coast guards" in b.text)
    assert paragraph.section == ("Joint patrols",)
    assert len(doc.tables) == 1
    kinds = [b.kind for b in doc.blocks]
    assert kinds.count("table_row") == 3 and kinds.count("table_column") == 3


def test_markdown_links_and_bold_are_unwrapped():
    doc = load_document(DATA / "patrols.md")
    assert doc.title == "Coast guard cooperation"
    assert "The Northern Fisheries Pact sets up joint patrols of the coast guards of Iceland and Norway." in doc.text
    assert "**" not in doc.text and "https://example.org" not in doc.text and "](" not in doc.text


def test_markdown_headings_give_sections():
    doc = load_document(DATA / "patrols.md")
    assert not any(b.text.startswith("#") for b in doc.blocks)
    para = next(b for b in doc.blocks if "ten days" in b.text)
    assert para.section[-1] == "Joint patrols"


def test_html_scripts_navigation_and_footer_removed_table_to_records():
    doc = load_document(DATA / "harbour.html")
    assert doc.title == "Harbour inspection report"
    for junk in ("SCRIPT_SHOULD_NOT_APPEAR", "color: red", "Home | Reports", "cookies", "Subscribe"):
        assert junk not in doc.text
    assert "The harbour authority of Northport inspected 42 fishing vessels in 2022." in doc.text
    (table,) = doc.tables
    assert table.caption == "Table 1 – Inspection results by port"
    assert table.row_header == "Port"
    assert table.columns == ["Safety check", "Catch check"]
    assert table.rows == [("Northport", ["✓", "✗"]), ("Southport", ["✗", "✓"]), ("Eastport", ["✓", "✓"])]
    rows = [b for b in doc.blocks if b.kind == "table_row"]
    assert [b.locator for b in rows] == ["Table 1, row: Northport", "Table 1, row: Southport",
                                         "Table 1, row: Eastport"]
    assert all(b.section == ("Inspections", "Table 1 – Inspection results by port") for b in rows)


def test_markdown_pipe_table_to_records(tmp_path):
    path = tmp_path / "agreements.md"
    path.write_text(AGREEMENTS_MD, encoding="utf-8")
    doc = load_document(path)
    (table,) = doc.tables
    assert table.caption == "Table 1: Harbour access agreements with partner countries"
    assert table.row_header == "Partner country" and table.columns == ["Signed", "In force since"]
    assert table.rows[0] == ("Faroe Islands", ["14/10/2022", "-"]) and len(table.rows) == 4
    rows = [b.text for b in doc.blocks if b.kind == "table_row"]
    assert rows[2].endswith("row “Iceland” (Partner country): Signed: 21/02/2005; In force since: 01/04/2005.")
    assert "The | sign in prose" in doc.text and "|---|" not in doc.text


# --------------------------------------------------------------------------- readers and bad files


def test_pdf_with_text_is_read(tmp_path):
    path = tmp_path / "harbour.pdf"
    path.write_bytes(make_pdf(["The harbour authority inspected 42 vessels in 2022.",
                               "Inspections were carried out jointly with the coast guard."]))
    doc = load_document(path)
    assert "The harbour authority inspected 42 vessels in 2022." in doc.text
    assert "carried out jointly with the coast guard" in doc.text


@pytest.mark.parametrize(("name", "data", "message"), [
    ("garbage.pdf", b"this is not a PDF at all \x01\x02\x03", "not a readable PDF"),
    ("truncated.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog", "not a readable PDF"),
    ("blank.pdf", make_pdf([]), "no text layer; OCR is not supported"),
    ("empty.txt", b"", "empty file"),
    ("blank.md", b"  \n\n \t\n", "no text"),
    ("binary.txt", b"abc\x00\x01\x02def", "binary"),
])
def test_unreadable_files_raise_corpus_error_naming_the_file(tmp_path, name, data, message):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(CorpusError, match=re.escape(name)) as info:
        load_document(path)
    assert message in str(info.value)


def test_non_utf8_text_is_decoded_as_windows_1252(tmp_path):
    path = tmp_path / "cp1252.txt"
    path.write_bytes("The caf\u00e9 in Troms\u00f8 opened in 2020 \u2013 a \u201cgood\u201d year.\n".encode("cp1252"))
    doc = load_document(path)
    assert "The café in Tromsø opened in 2020 – a “good” year." in doc.text


def test_utf16_with_bom_is_decoded(tmp_path):
    path = tmp_path / "utf16.txt"
    path.write_bytes("The pact was signed in Reykjavík in 2021.\n".encode("utf-16"))
    assert "signed in Reykjavík in 2021." in load_document(path).text


def test_unsupported_extension(tmp_path):
    path = tmp_path / "notes.rtf"
    path.write_bytes(b"{\\rtf1 hello}")
    with pytest.raises(CorpusError, match=r"notes\.rtf: unsupported type \.rtf"):
        read_file(path)
    assert path not in scan_corpus(tmp_path)


def test_over_the_size_limit(tmp_path):
    path = tmp_path / "big.txt"
    path.write_text("word " * 4000)
    with pytest.raises(CorpusError, match=r"big\.txt: .* over the .* limit"):
        read_file(path, max_bytes=1000)
    assert read_file(path, max_bytes=100_000)[0].startswith("word")


def test_load_corpus_skips_bad_and_duplicate_files_with_reasons(tmp_path):
    (tmp_path / "good.txt").write_text("The pact was signed on 3 March 2021 by the three parties.\n")
    (tmp_path / "copy.txt").write_text("The pact was signed on 3 March 2021 by the three parties.\n")
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "bad.pdf").write_bytes(b"not a pdf")
    (tmp_path / "notes.rtf").write_bytes(b"ignored: unsupported types are not even scanned")
    docs, skipped = load_corpus(tmp_path)
    assert [d.source for d in docs] == ["copy.txt"]
    reasons = {s.source: s.reason for s in skipped}
    assert set(reasons) == {"good.txt", "empty.txt", "bad.pdf"}
    assert reasons["good.txt"] == "duplicate of copy.txt"
    assert "empty file" in reasons["empty.txt"]
    assert "not a readable PDF" in reasons["bad.pdf"]
    docs, skipped = load_corpus(tmp_path, max_bytes=10)
    assert docs == []
    assert "over the 0.0 MB limit" in {s.source: s.reason for s in skipped}["copy.txt"]


def test_missing_corpus_folder(tmp_path):
    with pytest.raises(CorpusError, match="corpus folder not found"):
        scan_corpus(tmp_path / "nope")


def test_title_page_lines_that_no_section_keeps_open_the_first_chunk(corpus_docs):
    """An author line followed at once by an affiliation heading is in no section path: it must still be
    in a chunk, so 'who wrote the brief?' can be retrieved and quoted."""
    for source, author in ((DOC_003, "Jan Joel Andersson"), (DOC_004, "Elena Lazarou")):
        chunks = chunk_document(corpus_docs[source])
        holding = [c for c in chunks if c.kind == "text" and author in c.text]
        assert holding, f"{author} is in no text chunk of {source}"
        assert len(holding[0].text.split()) > 20  # joined to body text, not a stub chunk


def test_tiny_paragraph_joins_the_next_chunk(tmp_path):
    path = tmp_path / "brief.txt"
    path.write_text("Big Title\n\nby\n\nJane Roe\n\nSenior Fellow, Institute\n\n" + "Body words are here. " * 12)
    doc = load_document(path)
    chunks = chunk_document(doc)
    assert not any(c.text.strip() == "by" for c in chunks)
    assert any("Jane Roe" in c.text and "Body words" in c.text for c in chunks)
