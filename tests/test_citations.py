"""check_answer on hand-made evidence: keep supported sentences with verbatim quotes, drop the rest."""

from __future__ import annotations

import pytest

from assistant.citations import Known, best_quote, check_answer, split_claims, support
from assistant.evidence import Evidence
from assistant.ingest.tables import row_record
from assistant.prompts import CANNOT_ANSWER
from assistant.question import analyse
from assistant.types import Chunk, Hit, Table

QUESTION = "Which SDPs cover space security?"
PARTNERS = ["Norway", "Moldova", "Albania", "North Macedonia", "Japan", "South Korea"]

NORWAY = ("As one of the closest European partners, the EU and Norway signed a security and defence partnership "
          "on 28 May 2024. The partnership includes 17 different areas of cooperation, which both parties intend "
          "to expand. Norway has participated in three military and nine civilian missions and operations.")
JAPAN = ("On 1 November 2024, the EU and Japan signed an SDP. In the preamble, the parties highlight the "
         "interconnectivity and interdependence between Europe and the Indo-Pacific.")
TABLE2 = Table(
    "Table 2 – Comparison of the content of the EU's tailored security and defence partnerships",
    "Area of cooperation", PARTNERS,
    [("15|Maritime security", ["✓", "✗", "✗", "✗", "✓", "✓"]),
     ("16|Space security and defence", ["✓", "✗", "✗", "✗", "✓", "✓"])],
)


def _analysed(step):
    """A step that reads a Question, called with the question's text (analysed here, as answer() does)."""
    return lambda question, *args: step(analyse(question), *args)


def _chunk(n: int, text: str, kind: str = "text", section: str = "", locator: str = "") -> Chunk:
    return Chunk(id=f"004.txt#{n:04d}", source="004.txt", text=text, kind=kind, section=section,  # type: ignore[arg-type]
                 locator=locator or section, start=1000 * n, end=1000 * n + len(text),
                 title="The EU's new bilateral security and defence partnerships")


@pytest.fixture
def evidence() -> list[Evidence]:
    row16, loc16 = row_record(TABLE2, 1)  # the record exactly as ingestion writes it
    chunks = [_chunk(1, NORWAY, section="Norway"), _chunk(2, JAPAN, section="Japan"),
              _chunk(3, row16, "table_row", "A global environment for partnering? > " + TABLE2.caption, loc16)]
    return [Evidence(i, Hit(c, 1.0 / (60 + i)), c.text) for i, c in enumerate(chunks, start=1)]


def _quote_is_verbatim(checked, evidence):
    by_id = {e.chunk.id: e.chunk for e in evidence}
    for c in checked.citations:
        chunk = by_id[c.chunk_id]
        assert c.quote and c.quote in chunk.text
        assert chunk.text[c.start - chunk.start:c.end - chunk.start] == c.quote


def test_supported_sentence_is_kept_with_a_verbatim_quote(evidence):
    raw = "The EU and Norway signed a security and defence partnership on 28 May 2024 [1]."
    checked = check_answer(raw, evidence, "When did the EU and Norway sign their partnership?")
    assert checked.text == raw
    assert checked.dropped == [] and not checked.refused
    (cit,) = checked.citations
    assert (cit.n, cit.source, cit.chunk_id, cit.locator) == (1, "004.txt", "004.txt#0001", "Norway")
    assert "signed a security and defence partnership on 28 May 2024" in cit.quote
    assert "17 different areas" not in cit.quote  # the best sentence, not the whole chunk
    _quote_is_verbatim(checked, evidence)


@pytest.mark.parametrize("raw", [
    "The EU and Brazil signed a security and defence partnership on 14 June 2019 [1].",  # made-up name, date
    "The partnership includes 18 different areas of cooperation [1].",  # wrong number
    "Norway has participated in 42 civilian missions [1].",
])
def test_unsupported_sentence_is_dropped(evidence, raw):
    checked = check_answer(raw, evidence, "Tell me about the Norway partnership.")
    assert checked.citations == []
    assert checked.text == ""
    assert len(checked.dropped) == 1


def test_only_the_unsupported_sentence_is_dropped(evidence):
    raw = ("The EU and Norway signed a security and defence partnership on 28 May 2024 [1]. "
           "The partnership was funded with 3 billion euro by Iceland [1].")
    checked = check_answer(raw, evidence, "Tell me about the Norway partnership.")
    assert checked.text == "The EU and Norway signed a security and defence partnership on 28 May 2024 [1]."
    assert checked.dropped == ["The partnership was funded with 3 billion euro by Iceland."]


def test_sentence_citing_the_wrong_source_is_reattributed(evidence):
    raw = "The EU and Japan signed an SDP on 1 November 2024 [1]."
    checked = check_answer(raw, evidence, "When did Japan sign?")
    assert checked.text == "The EU and Japan signed an SDP on 1 November 2024 [1]."
    (cit,) = checked.citations
    assert cit.chunk_id == "004.txt#0002"  # the Japan chunk, though the model cited [1] (Norway)
    assert cit.quote == "On 1 November 2024, the EU and Japan signed an SDP."
    _quote_is_verbatim(checked, evidence)


@pytest.mark.parametrize("raw", ["The EU and Japan signed an SDP on 1 November 2024 [7].",
                                 "The EU and Japan signed an SDP on 1 November 2024."])
def test_out_of_range_or_missing_marker_is_attributed(evidence, raw):
    checked = check_answer(raw, evidence, "When did Japan sign?")
    assert [c.chunk_id for c in checked.citations] == ["004.txt#0002"]
    assert checked.text.endswith("[1].")


def test_citations_are_renumbered_in_order_of_use(evidence):
    raw = ("The EU and Japan signed an SDP on 1 November 2024 [2]. "
           "The EU and Norway signed a security and defence partnership on 28 May 2024 [1].")
    checked = check_answer(raw, evidence, "When were the partnerships signed?")
    assert [c.chunk_id for c in checked.citations] == ["004.txt#0002", "004.txt#0001"]
    assert checked.text == ("The EU and Japan signed an SDP on 1 November 2024 [1]. "
                            "The EU and Norway signed a security and defence partnership on 28 May 2024 [2].")


@pytest.mark.parametrize("raw", [CANNOT_ANSWER, "The sources do not contain this information.",
                                 "The documents do not say how much the EU paid."])
def test_refusal_sets_refused(evidence, raw):
    checked = check_answer(raw, evidence, "How much did the EU pay Georgia in 2031?")
    assert checked.refused
    assert checked.citations == [] and checked.text == ""


def test_refusal_next_to_a_supported_answer_is_not_a_refusal(evidence):
    raw = ("The EU and Norway signed a security and defence partnership on 28 May 2024 [1]. "
           "The documents do not say when the dialogue starts.")
    checked = check_answer(raw, evidence, "When did Norway sign and when does the dialogue start?")
    assert not checked.refused
    assert len(checked.citations) == 1 and "do not say" not in checked.text


def test_complete_table_row_list_is_kept_as_written(evidence):
    raw = "Space security and defence is covered by the SDPs with Norway, Japan and South Korea [3]."
    checked = check_answer(raw, evidence, QUESTION)
    assert checked.text == "Space security and defence is covered by the SDPs with Norway, Japan and South Korea [1]."
    assert checked.repaired == 0
    (cit,) = checked.citations
    assert cit.quote == evidence[2].chunk.text  # a record is quoted whole
    assert cit.locator == "Table 2, row 16: Space security and defence"


@pytest.mark.parametrize("raw", [
    "Space security and defence is covered by the SDPs with Norway and Japan [3].",  # omits South Korea
    "Space security and defence is covered by the SDPs with Norway, Japan, South Korea and Moldova [3].",  # adds
    "Space security and defence is covered by the SDPs with Japan [3].",
])
def test_table_row_list_that_omits_or_adds_a_partner_is_repaired(evidence, raw):
    checked = check_answer(raw, evidence, QUESTION)
    assert checked.repaired == 1
    assert len(checked.citations) == 1 and checked.citations[0].chunk_id == "004.txt#0003"
    text = checked.text
    assert all(p in text for p in ("Norway", "Japan", "South Korea"))
    # the repaired sentence states the ✓ group only
    assert "Moldova" not in text and "Albania" not in text and "North Macedonia" not in text
    assert "✓" in text and "Space security and defence" in text
    assert text.endswith("[1].")


def test_a_claim_lumping_together_two_positive_values_of_a_row_is_restated_with_both():
    """A row can hold two positive values ('Already exists' for four partners, ✓ for two): a claim that
    names all six under one of them is restated with each group under its own value; a claim naming
    exactly one group is kept."""
    table = Table(TABLE2.caption, TABLE2.row_header, PARTNERS, [
        ("22|Possibility to conclude security of information agreement", ["Already exists"] * 4 + ["✓", "✓"])])
    record, locator = row_record(table, 0)
    ev = [Evidence(1, Hit(_chunk(1, record, "table_row", "Table 2", locator), 0.01), record)]
    q = "For which partners does a security of information agreement already exist?"
    raw = ("A security of information agreement already exists with Norway, Moldova, Albania, North Macedonia, "
           "Japan and South Korea [1].")
    checked = check_answer(raw, ev, q)
    assert checked.repaired == 1 and checked.text.endswith(
        "as Already exists for Norway, Moldova, Albania, North Macedonia; yes (✓) for Japan, South Korea [1].")
    kept = "A security of information agreement already exists with Norway, Moldova, Albania and North Macedonia [1]."
    assert check_answer(kept, ev, q).text == kept and check_answer(kept, ev, q).repaired == 0


def test_negated_table_claim_is_not_rewritten(evidence):
    raw = "The SDP with Moldova does not cover space security and defence [3]."
    checked = check_answer(raw, evidence, QUESTION)
    assert checked.repaired == 0
    assert checked.text == "The SDP with Moldova does not cover space security and defence [1]."


def test_table_row_list_naming_exactly_the_cross_partners_is_not_kept(evidence):
    raw = "The SDPs with Moldova, Albania and North Macedonia cover space security and defence [3]."
    checked = check_answer(raw, evidence, QUESTION)
    assert checked.text != raw.replace("[3]", "[1]")
    if checked.citations:  # repaired to the ✓ list, or dropped
        assert all(p in checked.text for p in ("Norway", "Japan", "South Korea"))


def test_invented_name_at_the_start_of_a_sentence_is_dropped(evidence):
    raw = "Iceland has participated in three military and nine civilian missions and operations [1]."
    checked = check_answer(raw, evidence, "How many missions has Norway participated in?")
    assert checked.citations == []
    assert checked.dropped == ["Iceland has participated in three military and nine civilian missions and operations."]


def test_split_claims_collects_markers():
    claims = split_claims("Norway signed in May 2024 [1]. Japan and South Korea signed in November 2024 [2, 3].")
    assert [(c.text, c.cites) for c in claims] == [("Norway signed in May 2024.", [1]),
                                                   ("Japan and South Korea signed in November 2024.", [2, 3])]
    assert split_claims("") == []


def test_split_claims_splits_sentences_glued_after_a_marker():
    claims = split_claims("Norway signed in May 2024 [1].Japan signed in November 2024 [2].")
    assert [(c.text, c.cites) for c in claims] == [("Norway signed in May 2024.", [1]),
                                                   ("Japan signed in November 2024.", [2])]


def test_support_requires_names_and_numbers_from_the_source():
    source = "The EU and Norway signed a partnership on 28 May 2024."
    assert support("Norway signed a partnership on 28 May 2024.", source, "When?") == 1.0
    assert support("The EU and Iceland signed a partnership on 28 May 2024.", source, "When?") == 0.0
    assert support("Norway signed a partnership on 29 May 2024.", source, "When?") == 0.0
    assert support("Norway signed.", source, "Did Norway sign?") > 0.0


def test_best_quote_picks_the_supporting_sentence():
    s, e = best_quote("Japan signed on 1 November 2024.", JAPAN)
    assert JAPAN[s:e] == "On 1 November 2024, the EU and Japan signed an SDP."


def test_negated_table_claim_naming_an_included_partner_is_repaired(evidence):
    raw = "Japan is the only partner without space security and defence cooperation [3]."
    checked = check_answer(raw, evidence, "Which partner has no space security cooperation?")
    assert "Moldova, Albania, North Macedonia" in checked.text and "Japan" not in checked.text
    assert checked.repaired == 1


def test_which_question_in_mid_sentence_needs_a_name(evidence):
    raw = "The security and defence partnerships cover space security and defence [3]."
    checked = check_answer(raw, evidence, "According to the comparison table, which SDPs cover space security?")
    assert checked.citations == [] and checked.dropped


def test_figures_and_ordinals_must_come_from_the_source(evidence):
    # the question's own figures do not license a claim: the source must state them
    q = "Which country became the seventh partner to sign an SDP?"
    assert check_answer("Norway became the seventh partner to sign an SDP [1].", evidence, q).citations == []
    q2 = "Did Norway sign 23 agreements?"
    assert check_answer("Norway signed 23 agreements [1].", evidence, q2).citations == []


@pytest.mark.parametrize("question, kept, gone", [
    ("Which SDPs cover space security?", "yes (✓) for Norway, Japan, South Korea", "Moldova"),
    ("Which SDPs do not cover space security?", "no (✗) for Moldova, Albania, North Macedonia", "Japan"),
])
def test_a_claim_copying_the_whole_row_is_read_the_way_the_question_asks(evidence, question, kept, gone):
    """The model often pastes the record itself ("no (✗) for A; yes (✓) for B"): both marks are named, so
    the question decides which side answers it; the 'no' of a mark is not a negated question."""
    row = evidence[2].chunk.text
    checked = check_answer(row + " [3]", evidence, question)
    assert kept in checked.text and gone not in checked.text.split(" as ", 1)[1]


def test_a_claim_naming_only_the_negative_mark_stays_negative(evidence):
    raw = "Table 2 marks “Space security and defence” as no (✗) for Moldova, Albania, North Macedonia [3]."
    checked = check_answer(raw, evidence, "Which SDPs do not cover space security?")
    assert "no (✗) for Moldova, Albania, North Macedonia" in checked.text and checked.repaired == 0


ACRONYMS = {"sdp": "security and defence partnerships", "fpa": "framework participation agreement",
            "rok": "Republic of Korea"}


def test_the_names_a_question_asks_about_must_be_in_the_cited_passages_or_describe_the_cited_document():
    """The anchor gate reads names, not wording: 'South Korea' is in a passage writing 'ROK'; 'May' and the
    publisher name the cited document; a partner the passages never mention is missing; an FPA question
    is not answered by passages about an SDP."""
    from assistant.citations import Known
    from assistant.gates import _missing_anchor, _missing_term

    rok = Chunk(id="004.txt#0002", source="004.txt", text="The ROK signed an SDP on 4 November 2024.", kind="text",
                section="ROK", locator="ROK", start=0, end=41, title="EPRS briefing")
    ev = [Evidence(1, Hit(rok, 0.01), rok.text)]
    known = Known(ACRONYMS, {"004.txt": "EPRS briefing European Parliamentary Research Service 2025-01 January 2025"})
    common = {"security", "defence", "partnership"}
    assert _missing_anchor("When did South Korea sign its partnership?", ev, known, common) is None
    assert _missing_anchor("According to the January 2025 Parliament briefing, when did South Korea sign?", ev,
                           known, common) is None
    assert _missing_anchor("When did Canada sign its partnership?", ev, known, common) == "canada"
    # a word that opens a sentence of the question is no name ("... Give the date")
    assert _missing_anchor("South Korea signed a partnership. Give its date.", ev, known, common) is None
    assert _missing_term(analyse("When was the FPA with South Korea signed?"), ev, ACRONYMS) == "FPA"
    assert _missing_term(analyse("When was the SDP with South Korea signed?"), ev, ACRONYMS) is None


def test_a_figure_that_belongs_to_another_partner_does_not_support_the_claim():
    """The section is about the UK and Norway; 1994 belongs to Norway's EEA agreement, not to the UK."""
    source = ("3.2 The EU's relations with the United Kingdom and Norway. As for Norway, the Economic Area "
              "Agreement of 1994, plus a series of other bilateral agreements, make it one of the EU's closest "
              "partners.")
    q = "On what date was the EU–United Kingdom security and defence partnership signed?"
    assert support("The EU–United Kingdom partnership was signed in 1994.", source, q) == 0.0
    assert support("Norway's Economic Area Agreement dates from 1994.", source, q) > 0.7


def test_a_which_question_is_answered_by_lowercase_items_not_by_restating_it():
    """'Which five areas...?' is answered by plain nouns ('crisis management; maritime security'); a claim
    that only repeats the question names nothing."""
    text = ("Below, five areas are identified among others in which such targeted partnerships could be further "
            "developed: crisis management; maritime security; cybersecurity; outer space; and security of supply.")
    c = _chunk(7, text, section="Targeted partnerships")
    ev = [Evidence(1, Hit(c, 0.1), c.text)]
    q = "Which five areas does the brief identify for targeted partnerships?"
    listed = ("The five areas are crisis management, maritime security, cybersecurity, outer space and "
              "security of supply [1].")
    assert check_answer(listed, ev, q).citations
    assert not check_answer("The brief identifies five areas for targeted partnerships [1].", ev, q).citations


def test_a_restatement_in_the_words_of_the_document_title_names_nothing(evidence):
    raw = "The EU's new bilateral security and defence partnerships (SDPs) cover space security [3]."
    assert check_answer(raw, evidence, QUESTION).citations == []


def test_a_claim_may_rest_on_the_footnote_its_passage_calls_and_cites_it():
    """'the EP ... stressed that Russia ...²³' with footnote 23 ('European Parliament resolution of 12 March
    2019') among the sources supports a sentence naming the European Parliament; both are quoted."""
    body = _chunk(1, "Indeed, in 2019 the EP adopted a resolution in which it stressed that Russia \u2018can no "
                     "longer be considered a strategic partner\u2019\u00b2\u00b3. China is both a partner and a rival.",
                  section="2.2 Strategic approach")
    note = _chunk(2, "Footnote 23: European Parliament resolution of 12 March 2019 on the state of EU-Russia "
                     "political relations.", "footnote", "2.2 Strategic approach", "Footnote 23")
    other = _chunk(3, "Footnote 24: Joint communication on China.", "footnote", "2.2 Strategic approach", "Footnote 24")
    ev = [Evidence(i, Hit(c, 0.01), c.text) for i, c in enumerate([body, note, other], start=1)]
    q = "What position did the European Parliament take on Russia in 2019?"
    claim = "The European Parliament stressed that Russia can no longer be considered a strategic partner [1]."
    checked = check_answer(claim, ev, q)
    assert checked.citations, checked.dropped
    assert [c.locator for c in checked.citations] == ["2.2 Strategic approach", "Footnote 23"]
    _quote_is_verbatim(checked, ev)
    # without the footnote among the sources, the name 'Parliament' has no source
    assert not check_answer(claim, ev[:1], q).citations


def test_support_matches_word_forms():
    q = "How does the dialogue under the Albania SDP differ from North Macedonia's?"
    src = "For Albania, the Security and Defence Dialogue will take place annually."
    assert support("The dialogue with Albania takes place annually.", src, q) == 1.0
    assert support("The dialogue with Albania is annual.", src, q) == 1.0  # 'annual' is in 'annually'
    assert support("The dialogue with Albania is monthly.", src, q) < 0.7


def test_a_bare_list_read_from_a_row_answers_a_negated_question_with_the_negative_mark(evidence):
    """'Which SDPs do not cover space security?' answered 'Norway [3].' (a partner that has it) is
    restated from the row as the partners marked ✗."""
    checked = check_answer("Norway [3].", evidence, "Which SDPs are marked as not covering space security?")
    assert checked.repaired == 1 and "no (✗) for Moldova, Albania, North Macedonia" in checked.text
    assert "Norway" not in checked.text


def test_a_row_labelled_by_initials_answers_a_question_that_spells_the_name_out():
    """Table 1 labels the row 'US'; the question says 'the United States' and 'not ticked'."""
    import importlib

    from assistant.text import initialisms

    lookup = _analysed(importlib.import_module("assistant.lookup").table_lookup)
    assert initialisms("Is the United States ahead of the European Peace Facility?") == {
        "us": ["united", "states"], "epf": ["european", "peace", "facility"]}
    table = Table("Table 1: Potential cooperation with key partners", "Partner",
                  ["CSDP", "Hybrid Toolbox", "European Peace Facility"], [("US", ["x", "x", ""])])
    record, locator = row_record(table, 0)
    chunk = Chunk(id="002.txt#0001", source="002.txt", text=record, kind="table_row", section="3", locator=locator,
                  start=0, end=len(record), title="In-depth analysis")
    ev = [Evidence(1, Hit(chunk, 0.01), record)]
    rows = {chunk.id: (table, 0)}  # the typed row behind the record, as Retriever.table_rows gives it
    text = lookup("For which instrument is the United States not ticked in the key partners table?", ev, rows)
    assert "not marked (blank) for European Peace Facility [1]" in text
    assert "marked (x) for CSDP, Hybrid Toolbox [1]" in lookup("Which instruments is the United States marked for?",
                                                                ev, rows)


def test_a_source_cited_twice_in_one_sentence_is_marked_once(evidence):
    checked = check_answer("The EU and Japan signed an SDP on 1 November 2024 [2][2].", evidence, "When?")
    assert checked.text.endswith("2024 [1].") and len(checked.citations) == 1


def _annex_rows(rows: list[tuple[str, list[str]]], first: int) -> list[Chunk]:
    """Row records of a table of framework participation agreements (Signed, In force since), numbered
    from `first`."""
    table = Table("Annex: Framework Participation Agreements with partner countries", "Partner country",
                  ["Signed", "In force since"], rows)
    records = [row_record(table, i) for i in range(len(rows))]
    return [_chunk(first + i, text, "table_row", "Annex", locator) for i, (text, locator) in enumerate(records)]


def test_full_dates_in_the_spellings_of_the_documents():
    from assistant.evidence import full_dates

    assert full_dates("on 01/08/2012, 1 April 2012 and May 21, 2024, not in 2013 or on 45/13/2012") == [
        (2012, 8, 1), (2012, 4, 1), (2024, 5, 21)]


def test_a_which_question_answered_by_pointing_at_a_table_row_names_nothing():
    """'Which South Korean unit...?' is not answered by 'Table 1 marks "EUNAVFOR Atalanta" as yes for South
    Korea': 'Table 1' is furniture and 'Korea' is the question's 'Korean'. The sentence naming the unit is."""
    import importlib

    lookup = _analysed(importlib.import_module("assistant.lookup").table_lookup)
    table = Table("Table 1 – SDP countries' participation in CSDP missions", "CSDP mission or operation",
                  PARTNERS, [("EUNAVFOR Atalanta", ["✗", "✗", "✗", "✗", "✗", "✓"])])
    record, locator = row_record(table, 0)
    row = _chunk(1, record, "table_row", "Table 1", locator)
    prose = _chunk(2, "South Korea's agreement has served EUNAVFOR Atalanta to cooperate with South Korea's "
                      "Cheonghae Unit.", section="3.5 Japan and South Korea")
    ev = [Evidence(i, Hit(c, 0.01), c.text) for i, c in enumerate([row, prose], start=1)]
    q = "Which South Korean naval unit has EUNAVFOR Atalanta cooperated with?"
    assert not check_answer("Table 1 marks “EUNAVFOR Atalanta” as yes (✓) for South Korea [1].", ev, q).citations
    assert lookup(q, ev, {row.id: (table, 0)}) == ""  # the row lookup would not pass the check either
    checked = check_answer("The South Korean unit EUNAVFOR Atalanta cooperated with is the Cheonghae Unit [2].",
                           ev, q)
    assert [c.n for c in checked.citations] == [1] and "Cheonghae Unit" in checked.citations[0].quote


def test_a_sentence_naming_a_document_rests_on_that_document_or_on_one_reporting_it():
    """'The EUISS brief gives 23' citing the IDA is dropped; a briefing reporting an EUISS paper may
    support a sentence about that paper."""
    ida = Chunk(id="000.txt#0001", source="000.txt", text="The EU has concluded 23 FPAs with partners.", kind="text",
                section="3", locator="3", start=0, end=44, title="In-depth analysis")
    euiss = Chunk(id="003.txt#0001", source="003.txt", text="Framework Agreements have been signed with 21 "
                  "countries.", kind="text", section="1", locator="1", start=0, end=56, title="EUISS Brief")
    eprs = Chunk(id="004.txt#0001", source="004.txt", text="An earlier EUISS paper argued for a 'Partnership "
                 "Plus' format.", kind="text", section="2", locator="2", start=0, end=60, title="EPRS briefing")
    ev = [Evidence(i, Hit(c, 0.01), c.text) for i, c in enumerate([ida, euiss, eprs], start=1)]
    cues = {"000.txt": {"ida"}, "003.txt": {"euiss"}, "004.txt": {"eprs"}}
    q = "What counts of FPAs do the IDA and the EUISS brief give?"
    checked = check_answer("The IDA gives 23 FPAs [1]. The EUISS brief gives 23 FPAs [1].", ev, q, Known(doc_cues=cues))
    assert checked.text == "The IDA gives 23 FPAs [1]." and len(checked.dropped) == 1
    assert check_answer("The EUISS brief gives 23 FPAs [1].", ev, q).citations  # without cues: no attribution
    paper = check_answer("An earlier EUISS paper argued for a 'Partnership Plus' format [3].", ev,
                         "What did the EUISS argue?", Known(doc_cues=cues))
    assert [c.source for c in paper.citations] == ["004.txt"]


def test_what_the_question_says_of_the_cited_document_is_context_not_a_claim():
    """'The 2022 Compass ...' restates the document's date the question gave; the source need not repeat it.
    A year the question gives that is not the cited document's stays a claim the source must make."""
    source = "The EU will hold regular dialogues with its partners on maritime security."
    q = "What did the March 2022 Compass promise on maritime security?"
    claim = "The March 2022 Compass promised regular dialogues with partners on maritime security."
    assert support(claim, source, q, descriptor="A Strategic Compass 2022-03 March 2022") >= 0.7
    assert support(claim, source, q, descriptor="A Strategic Compass 2019") == 0.0
    assert support(claim, source, q) == 0.0


def test_a_name_the_question_supplies_must_be_in_the_source_the_claim_cites():
    """A date for one agreement cannot be moved to another: the FPA question is not answered from the
    sentence about the SDP, however the question words it."""
    acronyms = {"fpa": "framework participation agreement", "sdp": "security and defence partnership"}
    source = "The EU and Moldova signed an SDP on 21 May 2024."
    q = "When was the FPA with Moldova signed?"
    assert support("The FPA with Moldova was signed on 21 May 2024.", source, q, acronyms=acronyms) == 0.0
    assert support("The SDP with Moldova was signed on 21 May 2024.", source, q, acronyms=acronyms) >= 0.7
    assert support("Albania signed an SDP on 21 May 2024.", source, "When did Albania sign an SDP?",
                   acronyms=acronyms) == 0.0


def test_a_name_counts_where_the_source_writes_its_acronym_and_figures_in_any_separator():
    acronyms = {"rok": "Republic of Korea"}
    source = "The ROK has taken part in EUNAVFOR Atalanta since 2017."
    assert support("South Korea has taken part in Atalanta since 2017.", source, "Since when has South Korea "
                   "taken part in Atalanta?", acronyms=acronyms) >= 0.7
    assert support("Japan has taken part in Atalanta since 2017.", source, "Since when?", acronyms=acronyms) == 0.0
    row = "Table 1 – Enquiries by topic, row “Justice Freedom and Security” (Topic): Enquiries: 1.451."
    assert support("Justice Freedom and Security had 1,451 enquiries.", row, "How many enquiries?") >= 0.7
    assert support("Justice Freedom and Security had 1,452 enquiries.", row, "How many enquiries?") == 0.0
    signed = "Table 3 – Agreements, row “Norway” (Partner): Signed: 03/11/2004; In force since: 01/01/2005."
    assert support("Norway's agreement entered into force in 2005.", signed, "When?") >= 0.7
    assert support("Norway's agreement entered into force in 2006.", signed, "When?") == 0.0


def test_a_claim_whose_news_is_a_figure_of_its_table_row_is_supported():
    """A claim that restates the question and adds the row's figure says something from the source; the
    row record is one statement about its row, so its figures are not judged sentence by sentence; an
    abbreviation the question uses counts where the source spells out its initials ('FY', 'Fiscal Year')."""
    row = ("Table 3 – Armenia: IMET-1 - Fiscal Year 2020 Department of State Training, row “Staff Course” "
           "(Course Title): Qty: 1; Training Location: Ft. Eustis, VA, US; Start Date: 7/8/2019; "
           "End Date: 8/9/2019.")
    q = "On what date did the Armenian staff course of FY2020 begin?"
    assert support("The Armenian staff course of FY2020 began on 7/8/2019.", row, q, record=True) >= 0.7
    assert support("The Armenian staff course of FY2020 began on 7/9/2019.", row, q, record=True) == 0.0
    assert support("The Armenian staff course of FY2021 began on 7/8/2019.", row, q, record=True) == 0.0
    when = "When did the Armenian staff course begin?"  # 'FY' comes from the claim: its initials are the row's
    assert support("The Armenian staff course of FY2020 started on 7/8/2019.", row, when, record=True) >= 0.7
    assert support("The Armenian staff course of the EY2020 started on 7/8/2019.", row, when, record=True) == 0.0


def test_a_plural_possessive_is_the_name_itself():
    source = "The Houthis have attacked more than 30 ships since November 2023."
    q = "How many ships have the Houthis attacked?"
    assert support("The Houthis' attacks hit more than 30 ships since November 2023.", source, q) >= 0.7
