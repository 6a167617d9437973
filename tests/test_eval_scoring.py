"""Scoring of gold items: what counts as containing a required string."""

from __future__ import annotations

import pytest

from assistant.evaluate import score_item


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
