"""The analysis of a question, made once and read by every later step: what kind of answer it wants, the
names it joins, its parts, negation and years."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .citations import ASKS_FOR_NAMES, NEGATION
from .config import Settings
from .errors import InputError
from .evidence import answer_type, question_parts
from .text import content_tokens, label_terms

__all__ = ["Question", "analyse", "validate_question"]

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")

_YEAR = re.compile(r"\b(?:19|20)\d\d\b")


@dataclass(frozen=True)
class Question:
    """A validated question and what it asks for.

    `wants`: the pattern an answer's sentence must hold (a number for 'how many', a date for 'when'), or None.
    `parts`: the question, or its two parts when it asks two things.
    """

    text: str
    wants: re.Pattern | None = None
    asks_for_names: bool = False
    negated: bool = False
    parts: tuple[str, ...] = ()
    years: tuple[str, ...] = ()
    terms: frozenset[str] = field(default_factory=frozenset)  # content words, stemmed as everywhere
    labels: frozenset[str] = field(default_factory=frozenset)  # words that can name a table row or column


def analyse(text: str) -> Question:
    """The Question for a validated question text."""
    return Question(
        text=text, wants=answer_type(text), asks_for_names=bool(ASKS_FOR_NAMES.search(text)),
        negated=bool(NEGATION.search(text)),
        parts=tuple(question_parts(text)), years=tuple(_YEAR.findall(text)),
        terms=frozenset(content_tokens(text)), labels=frozenset(label_terms(text)),
    )


def validate_question(question: object, settings: Settings) -> str:
    """Strip control characters and whitespace; reject empty or over-long questions."""
    if not isinstance(question, str):
        raise InputError(f"question must be a string, got {type(question).__name__}")
    q = _CONTROL.sub(" ", question).strip()
    q = re.sub(r"\s+", " ", q)
    if not q:
        raise InputError("the question is empty")
    if len(q) > settings.max_question_chars:
        raise InputError(f"the question is {len(q):,} characters; the limit is {settings.max_question_chars:,}")
    return q
