"""Retrieval over the real corpus index (built once per session), and the text helpers it relies on."""

from __future__ import annotations

import pytest
from helpers import DOC_003, DOC_004

from assistant import retrieve
from assistant.answer import get_retriever
from assistant.chunking import chunk_document
from assistant.embed import get_embedder
from assistant.evidence import select_evidence, values
from assistant.retrieve import Retriever
from assistant.store import open_index
from assistant.text import (
    expand_acronyms,
    find_acronyms,
    fold,
    quoted_phrases,
    sentence_spans,
    tokens,
)
from assistant.types import Chunk

KINDS = {"text", "table_row", "table_column", "footnote"}
ROW16 = "Table 2, row 16: Space security and defence"


@pytest.fixture(scope="module", params=["chroma", "qdrant"])
def retriever(request, corpus_index) -> Retriever:
    """The retriever over the real corpus in each llama-index vector store we test (the same vectors)."""
    settings = corpus_index if request.param == "chroma" else request.getfixturevalue("qdrant_corpus_index")
    return Retriever(open_index(settings.index_dir), get_embedder())


def test_space_security_question_finds_table2_row16(retriever):
    hits = retriever.search("Which SDPs cover space security?", k=30, top=5)
    assert len(hits) == 5
    assert any(h.chunk.source == DOC_004 and h.chunk.kind == "table_row" and h.chunk.locator == ROW16
               for h in hits), [h.chunk.locator for h in hits]


@pytest.mark.parametrize("question", [
    "Which SDPs cover space security?",
    "When did the EU and Japan sign their security and defence partnership?",
    "What is the Strategic Compass?",
    "Which partners take part in EUFOR Althea?",
])
def test_every_hit_carries_its_provenance(retriever, question):
    hits = retriever.search(question, k=20)
    assert hits
    rest = [h.score for h in hits if h.dense_rank != 1 and h.lexical_rank != 1]  # each ranker's first is promoted
    assert rest == sorted(rest, reverse=True)
    for h in hits:
        c = h.chunk
        assert c.source.endswith(".txt") and c.source in retriever.index.documents
        assert isinstance(c.section, str) and c.kind in KINDS
        assert c.locator and c.title
        assert h.dense_rank is not None or h.lexical_rank is not None
        assert retriever.index.documents[c.source].text[c.start:c.end] == c.text
    assert any(h.chunk.section for h in hits)


def test_japan_question_finds_the_japan_section(retriever):
    hits = retriever.search("When did the EU and Japan sign their SDP?", k=30, top=5)
    assert any(h.chunk.section == "Japan" and "1 November 2024" in h.chunk.text for h in hits)


def test_acronyms_are_learned_from_the_corpus(retriever):
    assert "sdp" in retriever.acronyms
    assert fold(retriever.acronyms["sdp"]) == "security and defence partnerships"
    expanded = expand_acronyms("Which SDPs cover space security?", retriever.acronyms)
    assert expanded == "Which SDPs cover space security? (security and defence partnerships)"


def test_public_retrieve_and_evidence_selection(corpus_index):
    hits = retrieve("Which SDPs cover space security?", index_dir=corpus_index.index_dir,
                    corpus_dir=corpus_index.corpus_dir)
    assert len(hits) >= 5
    assert get_retriever(corpus_index).index.path.parent == corpus_index.index_dir
    evidence = select_evidence("Which SDPs cover space security?", hits, top_k=5, word_budget=300)
    assert 1 <= len(evidence) <= 5
    assert [e.n for e in evidence] == list(range(1, len(evidence) + 1))
    assert any(e.chunk.locator == ROW16 for e in evidence)
    for e in evidence:
        assert e.text in e.chunk.text  # evidence is a verbatim slice of its chunk


# --------------------------------------------------------------------------- text helpers


def test_find_acronyms():
    found = find_acronyms("The European External Action Service (EEAS) and the security and defence "
                          "partnerships (SDPs) and the Common Security and Defence Policy (CSDP).")
    assert found["eeas"] == "European External Action Service"
    assert found["sdp"] == "security and defence partnerships"
    assert found["csdp"] == "Common Security and Defence Policy"
    assert find_acronyms("nothing (X) here") == {}


def test_sentence_spans_skip_abbreviations():
    text = "The EU signed, e.g. with Norway, an SDP. It covers space¹. Next sentence here."
    assert [text[s:e] for s, e in sentence_spans(text)] == [
        "The EU signed, e.g. with Norway, an SDP.", "It covers space¹.", "Next sentence here."]


def test_tokens_fold_quotes_stem_and_split_hyphens():
    assert tokens("The EU’s cyber-security partnerships") == [
        "the", "eu", "cyber-security", "cyber", "security", "partnership"]


def test_words_ending_in_ss_us_or_is_are_not_plurals():
    assert tokens("discuss discusses consensus crisis partners") == [
        "discuss", "discuss", "consensus", "crisis", "partner"]


def test_a_numbered_list_item_is_not_a_sentence_of_its_own():
    text = ("The set includes:⁸⁵\n\n1. Countering hybrid threats; 2. Operational cooperation. "
            "It was agreed in 2016. Next.")
    assert [text[s:e] for s, e in sentence_spans(text)] == [
        "The set includes:⁸⁵", "1. Countering hybrid threats; 2. Operational cooperation.",
        "It was agreed in 2016.", "Next."]


def test_quoted_phrases_of_a_question():
    assert quoted_phrases("How many ‘partnership actions’ did the EU and NATO agree?") == ["partnership actions"]
    assert quoted_phrases('What is the "Partnership Plus" idea?') == ["partnership plus"]
    assert quoted_phrases("Norway's and Japan's partnerships") == []


def test_a_passage_holding_the_quoted_phrase_of_the_question_ranks_first(retriever):
    """Both rankers miss it without the quotes ('74 envisaged partnership actions' sits among footnotes
    full of 'EU', 'NATO' and '2016'); quoted, the document's own wording finds it."""
    q = "How many 'partnership actions' did the EU and NATO agree to advance in 2016 and 2017?"
    assert "partnership actions" in fold(retriever.search(q, 30)[0].chunk.text)


def test_chunks_of_a_real_document_stay_within_their_section(corpus_docs):
    doc = corpus_docs[DOC_004]
    chunks = chunk_document(doc, chunk_words=110)
    assert len({c.id for c in chunks}) == len(chunks)
    for c in chunks:
        assert doc.text[c.start:c.end] == c.text
        if c.kind == "text":
            assert len(c.text.split()) <= 2 * 110  # one long sentence may overflow, not a whole section


def test_rows_of_one_table_the_question_does_not_name_cannot_crowd_out_prose(retriever):
    """A question about framework participation agreements ranks the annex rows (one per country) above
    the prose that counts them; at most MAX_UNNAMED_ROWS of them may enter the evidence."""
    from assistant.evidence import MAX_UNNAMED_ROWS

    q = "How many framework participation agreements has the EU concluded with partner countries?"
    hits = retriever.search(q, 30)
    evidence = select_evidence(q, hits, top_k=5, word_budget=300)
    by_table: dict[str, int] = {}
    for e in evidence:
        if e.chunk.kind == "table_row":
            key = e.chunk.locator.split(",")[0]
            by_table[key] = by_table.get(key, 0) + 1
    assert sum(h.chunk.kind == "table_row" for h in hits[:5]) > MAX_UNNAMED_ROWS  # the case exists
    assert all(v <= MAX_UNNAMED_ROWS for v in by_table.values()), by_table
    assert any(e.chunk.kind == "text" for e in evidence)


def test_a_table_label_is_named_by_its_rare_words_not_by_common_ones(retriever):
    """'Space security and defence' is named by a question about space, not by every question saying
    'security and defence' (which is half the corpus)."""
    from assistant.text import label_share

    label = "Space security and defence"
    generic = set(tokens("Who signs a security and defence partnership?"))
    specific = set(tokens("Which SDPs cover space security?"))
    assert label_share(label, generic) >= 0.6  # by word count alone it would look named
    assert label_share(label, generic, retriever.idf) < 0.5
    assert label_share(label, specific, retriever.idf) >= 0.6  # the table-lookup threshold
    top = retriever.search("Who signs a security and defence partnership?", 30)[:3]
    assert not any(h.chunk.locator.endswith(label) for h in top)


@pytest.mark.parametrize("question, kind", [
    ("How many interviews underpin the analysis?", "number"),
    ("How long after its FPA did Moldova sign an SDP?", "number"),
    ("When did Japan sign its SDP?", "date"),
    ("The brief called them still under negotiation. When were they signed?", "date"),
    ("Which SDP was signed first, and on what dates?", "date"),
    ("Which partners were consulted when the Compass was drafted?", None),
    ("Who signs a security and defence partnership?", None),
])
def test_answer_type_of_a_question(question, kind):
    from assistant.evidence import answer_type

    want = answer_type(question)
    if kind is None:
        assert want is None
    elif kind == "number":
        assert want.search("a total of 13 interviews") and want.search("seven areas")
        assert not want.search("signed in 2024")  # a year is not a count
    else:
        assert want.search("on 4 November 2024") and want.search("01/07/2013") and not want.search("13 interviews")


def test_the_window_of_a_long_chunk_holds_the_sentence_with_the_answer_type():
    """Without the answer type the sentence that restates the question wins; with it, the one holding a
    number answers 'how many' (it counts as one more question word; the earlier sentence wins a tie)."""
    from assistant.evidence import _best_window, answer_type

    text = ("The report draws on desk research and a total of 13 interviews with officials. "
            "The purpose of these interviews was to gather views on the partnership with the EU.")
    c = Chunk(id="x#1", source="x.txt", text=text, kind="text", section="Introduction", locator="Introduction",
              start=0, end=len(text), title="An analysis")
    q = "How many interviews underpin the partnership analysis?"
    window = _best_window(c, set(tokens(q)), 16, wanted=answer_type(q))
    assert "13 interviews" in window and "purpose" not in window
    assert "13 interviews" not in _best_window(c, set(tokens(q)), 16)


def test_a_question_names_a_document_by_its_cues(retriever):
    """'the EUISS brief' points at one document; a question naming none points at none."""
    assert retriever.named_documents("Which five areas does the EUISS brief identify?") == {DOC_003}
    assert retriever.named_documents("Which SDPs cover space security?") == set()


def test_a_row_of_a_table_about_another_term_is_no_evidence_for_the_question(corpus_index):
    """The annex row 'North Macedonia' (a table of framework participation agreements, with 2012 dates)
    must not answer when the EU signed its SDP with North Macedonia; it does answer about the FPA."""
    r = get_retriever(corpus_index)
    for q, wanted in [("When did the EU sign its SDP with North Macedonia?", False),
                      ("When did North Macedonia sign its FPA with the EU?", True)]:
        ev = select_evidence(q, r.search(q, 40), 5, 300, r.idf, r.domain_acronyms)
        assert any(e.chunk.locator == "Annex, row: North Macedonia" for e in ev) is wanted, q
        assert sum(e.chunk.kind == "table_column" for e in ev) <= 1


@pytest.mark.parametrize("q", ["When must live maritime exercises with Indo-Pacific partners take place?",
                               "Are the partnerships legally binding?", "Which SDPs cover space security?"])
def test_each_rankers_first_hit_is_among_the_first_fused_hits(corpus_index, q):
    """Fusion alone can push BM25's (or the embedder's) best hit to tenth place behind hits both find
    fairly well; each ranker's first hit comes right after the fused head."""
    from assistant.retrieve import FUSED_HEAD

    hits = get_retriever(corpus_index).search(q, 40)
    for attr in ("dense_rank", "lexical_rank"):
        assert any(getattr(h, attr) == 1 for h in hits[:FUSED_HEAD + 2]), attr


def test_the_window_counts_an_acronym_of_the_question_where_the_passage_spells_it_out():
    """'the EU–Moldova SDP' is the passage's 'EU–Moldova Security and Defence Partnership'."""
    from assistant.evidence import _best_window

    text = ("The EU–Moldova Security and Defence Partnership was signed on 21 May 2024 at a council meeting. "
            "Subsequently, the SDP upgrades the EU–Moldova consultations to an annual dialogue.")
    c = Chunk(id="x#1", source="x.txt", text=text, kind="text", section="Moldova", locator="Moldova",
              start=0, end=len(text), title="A briefing")
    q = set(tokens("When was the EU–Moldova SDP signed?"))
    assert "signed" not in _best_window(c, q, 14, idf=lambda w: 5.0 if w == "sdp" else 1.0)
    window = _best_window(c, q, 14, idf=lambda w: 5.0 if w == "sdp" else 1.0,
                          asked={"sdp": "security and defence partnership"})
    assert "signed on 21 May 2024" in window and "Subsequently" not in window


def test_the_window_of_a_long_chunk_weighs_word_forms_alike():
    """'cooperated' in the question is 'cooperate' in the passage, and 'Korean' is 'Korea'."""
    from assistant.evidence import _best_window

    text = ("In this respect, South Korea has a participation agreement, which has served EUNAVFOR Atalanta to "
            "cooperate with South Korea’s Cheonghae Unit. This could serve as a template. As for Japan, "
            "EUNAVFOR Atalanta has also cooperated with the Japan Maritime Self-Defense Force.")
    c = Chunk(id="x#1", source="x.txt", text=text, kind="text", section="Asia", locator="Asia",
              start=0, end=len(text), title="An analysis")
    q = set(tokens("Which South Korean naval unit has EUNAVFOR Atalanta cooperated with?"))
    assert "Cheonghae" in _best_window(c, q, 24)


def test_a_window_ending_in_a_colon_keeps_the_list_it_introduces():
    from assistant.evidence import _best_window

    text = ("Unrelated opening words come first here. The common set of proposals includes:⁸⁵\n\n"
            "1. Countering hybrid threats; 2. Operational cooperation; 3. Cyber security and defence.")
    c = Chunk(id="x#1", source="x.txt", text=text, kind="text", section="NATO", locator="NATO",
              start=0, end=len(text), title="An analysis")
    window = _best_window(c, set(tokens("What does the common set of proposals include?")), 10)
    assert window.startswith("The common set") and window.endswith("Cyber security and defence.")


def test_common_words_of_the_real_corpus(retriever):
    """What decides a name: the documents' own casing ('security' is mostly lower case, 'Korea' never)
    and their titles ('EU', 'Compass': what every document is about)."""
    assert {"security", "defence", "eu", "compass"} <= retriever.common_words
    assert not {"korea", "japan", "norway", "china", "moldova"} & retriever.common_words


def test_values_of_a_sentence():
    assert values("The EU signed on 21 May 2024.") == {"21 may 2024"}
    assert values("lists of 35 and 54 strategic partners") == {"35", "54"}
    assert values("signed 13/12/2012, in force since 01/07/2013") == {"13/12/2012", "01/07/2013"}
    assert values("On November 4, 2024 and in March 2021") == {"november 4, 2024", "march 2021"}
    assert values("South Korea did not sign first") == set()
