"""Scoring of gold items: what counts as containing a required string."""

from __future__ import annotations

import pytest

from assistant.config import Settings
from assistant.evaluate import holds_evidence, score_item, summarise


def _item(must, must_not=(), kind="fact"):
    return {"type": kind, "must_contain": list(must), "must_not_contain": list(must_not)}


@pytest.mark.parametrize("text", ["It was signed on 21 May 2024.", "Signed May 21, 2024.", "Signed 21/05/2024.",
                                  "Signed 2024-05-21.", "Signed on 21st May 2024."])
def test_a_date_matches_in_any_spelling(text):
    assert score_item(_item(["21 May 2024"]), text, False)


def test_a_month_matches_a_date_in_it_and_nothing_else():
    item = _item(["March 2023"])
    assert score_item(item, "It took place from March 20, 2023, to March 21, 2023.", False)
    assert not score_item(item, "It took place in 2023.", False)
    assert not score_item(item, "It took place on 20 April 2023.", False)


def test_must_not_and_abstention():
    assert not score_item(_item(["Norway"], ["Moldova"]), "Norway and Moldova.", False)
    assert not score_item(_item(["Norway"]), "Norway.", True)
    assert score_item(_item([], kind="unanswerable"), "The documents don't say.", True)


@pytest.mark.parametrize(("text", "want", "found"), [
    ("There are 13 areas [1].", "3", False), ("There are 3 areas [1].", "3", True), ("(3)", "3", True),
    ("EUR 114.5 million", "14.5", False), ("EUR 14.5 million.", "14.5", True), ("1,300 staff", "300", False),
    ("On 21 July 2013.", "1 July 2013", False), ("On 01/07/2013.", "1 July 2013", True),
])
def test_a_figure_counts_only_whole(text, want, found):
    assert score_item(_item([want]), text, False) is found


def test_gold_evidence_is_found_verbatim_or_among_a_records_cells():
    record = "Table 4 – Training, row “Kenya” (Country): Qty: 761; Total Cost: $2,304."
    assert holds_evidence("Qty: 761", record, "table_row")
    assert holds_evidence("Kenya 761 $2,304", record, "table_row")  # the printed row
    assert not holds_evidence("Kenya 762 $2,304", record, "table_row")
    assert not holds_evidence("Kenya 761 $2,304", record, "text")  # prose must hold it verbatim
    assert holds_evidence("signed  on 3 March", "It was signed on 3 March 2021.")


def test_abstentions_count_the_right_answers_the_checks_threw_away():
    rows = [{"type": "fact", "correct": False, "abstained": True, "abstain_reason": "no sentence supported",
             "raw_right": right, "verbatim": [], "cited_evidence": None, "retrieval_hit": None, "seconds": 1.0}
            for right in (True, False)]
    report = summarise(rows, Settings.load(llm="none"), 5)
    assert report["abstain_reasons"] == {"no sentence supported": [2, 0, 1]}
