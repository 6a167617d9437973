"""Select evidence for the prompt: the best hits, each trimmed to its most relevant contiguous sentences."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .text import (
    MONTHS,
    SUPERSCRIPT_DIGITS,
    content_tokens,
    expansion,
    fold,
    label_share,
    label_terms,
    mentions,
    present,
    rarity,
    sentence_spans,
)
from .types import Chunk, Hit

__all__ = ["Evidence", "select_evidence", "answer_type", "question_parts", "values"]


@dataclass
class Evidence:
    """One numbered source shown to the generator; `text` is a verbatim slice of the chunk."""

    n: int
    hit: Hit
    text: str

    @property
    def chunk(self) -> Chunk:
        return self.hit.chunk


_NUMBER = (r"\b(?:(?!(?:1[89]|20)\d\d\b)\d[\d,.]*|one|two|three|four|five|six|seven|eight|nine|ten|"
           r"eleven|twelve|\w+teen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundreds?|"
           r"thousands?|dozens?|single|both|all|none)\b")
_MONTH = "(?:" + "|".join(m.capitalize() for m in MONTHS) + ")"
_DATE = rf"\b(?:1[89]|20)\d\d\b|\b\d{{1,2}}/\d{{1,2}}/\d{{2,4}}\b|\b{_MONTH}\b"
EXACT_DATE = re.compile(rf"\b\d{{1,2}}/\d{{1,2}}/\d{{2,4}}\b|\b\d{{1,2}}\s+{_MONTH}\b|\b{_MONTH}\s+\d{{1,2}}\b")
DATE_ANSWER = re.compile(_DATE)
# A whole date ('21 May 2024', 'May 21, 2024', '01/07/2013') is one value, not a day, a month and a year
_VALUE = re.compile(rf"\b\d{{1,2}}\s+{_MONTH}(?:\s+(?:19|20)\d\d)?\b|\b{_MONTH}\s+\d{{1,2}},?\s+(?:19|20)\d\d\b|"
                    rf"\b{_MONTH}\s+(?:19|20)\d\d\b|{_DATE}|{_NUMBER}", re.I)
# What kind of words the answer to a question is made of: a count, or a date.
_ANSWER_TYPES = [
    (re.compile(r"\bhow (?:many|much|long)\b|\bnumber of\b|\bwhat (?:share|percentage|proportion)\b", re.I),
     re.compile(_NUMBER, re.I)),
    (re.compile(r"(?:^|[.?!,;:]\s*|\b(?:and|since|by|until|from)\s+)when\b|\b(?:what|which|on what) (?:year|date)s?\b",
                re.I), DATE_ANSWER),
]


_SECOND_PART = re.compile(r",?\s+and\s+(?=(?:(?:with|for|in|on|by|from|at|to)\s+)?(?:who|whom|what|which|when|how|"
                          r"where|why)\b)", re.I)


def question_parts(question: str) -> list[str]:
    """The question, or its two parts when it asks two things ('Who negotiates SDPs, and who authorises
    the negotiations?')."""
    m = _SECOND_PART.search(question)
    if not m or len(question[:m.start()].split()) < 3:
        return [question]
    return [question[:m.start()].rstrip(" ,") + "?", question[m.end():]]


def values(text: str) -> set[str]:
    """The distinct numbers and dates a text gives ('35 and 54' -> 2; '21 May 2024' -> 1)."""
    return {fold(m.group(0)) for m in _VALUE.finditer(text)}


_FULL_DATE = re.compile(rf"\b(\d{{1,2}})/(\d{{1,2}})/((?:19|20)\d\d)\b|\b(\d{{1,2}})\s+({_MONTH})\s+((?:19|20)\d\d)\b|"
                        rf"\b({_MONTH})\s+(\d{{1,2}}),?\s+((?:19|20)\d\d)\b")


def full_dates(text: str) -> list[tuple[int, int, int]]:
    """The whole dates a text gives, as (year, month, day): '01/04/2012' (day first, as the documents
    write), '1 April 2012', 'April 1, 2012'."""
    out = []
    for m in _FULL_DATE.finditer(text):
        g = m.groups()
        day, month, year = (g[0], g[1], g[2]) if g[0] else (g[3], g[4], g[5]) if g[3] else (g[7], g[6], g[8])
        month = int(month) if month.isdigit() else MONTHS.index(month.lower()) + 1
        if 1 <= month <= 12 and 1 <= int(day) <= 31:
            out.append((int(year), month, int(day)))
    return out


def answer_type(question: str) -> re.Pattern | None:
    """A pattern the answer's sentence must contain (a number for 'how many', a date for 'when'), if any."""
    return next((want for asks, want in _ANSWER_TYPES if asks.search(question)), None)


def _best_window(chunk: Chunk, q: set[str], budget: int, idf=None, wanted: re.Pattern | None = None,
                 asked: dict[str, str] | None = None) -> str:
    """The contiguous run of sentences that fits `budget` words and holds most of the question: its
    words weighted by rarity, plus what the answer is made of (a number for 'how many', a date for
    'when') so that the sentence with the answer beats the one that only restates the question."""
    spans = sentence_spans(chunk.text)
    if len(chunk.text.split()) <= budget or len(spans) <= 1:
        return chunk.text
    weight = rarity(q, idf)
    bonus = sum(weight.values()) / max(1, len(weight))  # an answer-type match counts as one average word

    def score(s: int, e: int) -> float:
        sent = chunk.text[s:e]
        words = set(content_tokens(sent))
        words |= {a for a, exp in (asked or {}).items() if mentions(words, a, exp)}  # 'SDP' spelled out
        # 'cooperated' ~ 'cooperate'; a compound ('eu-moldova') only as written, its parts count on their own
        hits = sum(v for w, v in weight.items() if w in words or ("-" not in w and present(w, words)))
        return hits + (bonus if wanted and wanted.search(sent) else 0)

    scores = [score(s, e) for s, e in spans]
    words = [len(chunk.text[s:e].split()) for s, e in spans]
    best, best_score = (0, 1), -1.0
    for i in range(len(spans)):
        total, sc = 0, 0.0
        for j in range(i, len(spans)):
            if total + words[j] > budget and j > i:
                break
            total += words[j]
            sc += scores[j]
            if sc > best_score + 1e-9:  # earlier and shorter windows win ties
                best, best_score = (i, j + 1), sc
    start, end = best
    last = chunk.text[spans[end - 1][0]:spans[end - 1][1]]
    if end < len(spans) and last.rstrip(SUPERSCRIPT_DIGITS + " ").endswith(":"):
        end += 1  # 'and includes:' is nothing without the list it introduces, even over the budget
    return chunk.text[spans[start][0]:spans[end - 1][1]]


MAX_UNNAMED_ROWS = 2  # rows per table the question does not name that may enter the evidence


def _about_another(chunk: Chunk, asked: dict[str, str], acronyms: dict[str, str]) -> bool:
    """A table record whose table is about another domain term than the one the question asks about:
    the row 'Moldova' of a table of Framework Participation Agreements says nothing of Moldova's SDP."""
    words = set(content_tokens(chunk.text))  # not the title: 'in security and defence' is no SDP
    caption = set(content_tokens(chunk.text.split(", row")[0].split(", column")[0]))
    return any(not mentions(words, a, exp) for a, exp in asked.items()) and any(
        mentions(caption, a, exp) for a, exp in acronyms.items() if a not in asked)


def select_evidence(question: str, hits: list[Hit], top_k: int, word_budget: int, idf=None,
                    acronyms: dict[str, str] | None = None) -> list[Evidence]:
    """Up to top_k non-overlapping hits, best first, within a total word budget (`idf` weighs which
    table labels the question names; `acronyms` (lowercase -> expansion) are the domain terms whose
    absence rules a table record out)."""
    q = label_terms(question)
    wanted = answer_type(question)
    asked = {t: expansion(t, acronyms or {}) for t in q}
    asked = {t: exp for t, exp in asked.items() if exp}
    if asked:
        hits = [h for h in hits if h.chunk.kind == "text" or not _about_another(h.chunk, asked, acronyms or {})]

    def names_label(h: Hit) -> bool:
        return label_share(h.chunk.locator.split(": ", 1)[-1], q, idf) >= 0.5

    # A column record (every row's mark for one column) is long; it helps only when the question is
    # about that column and no row record the question names is at hand.
    row_named = any(h.chunk.kind == "table_row" and names_label(h) for h in hits[:15])
    hits = [h for h in hits if h.chunk.kind != "table_column" or (names_label(h) and not row_named)]
    columns = [h for h in hits if h.chunk.kind == "table_column"]
    hits = [h for h in hits if h.chunk.kind != "table_column" or h is columns[0]]  # one is long enough
    # Tables hold dense facts that prose rankers undervalue: the best table record near the top
    # gets a place even when prose outranks it.
    table_hit = next((h for h in hits[:15] if h.chunk.kind in ("table_row", "table_column") and (
        names_label(h) or min(h.dense_rank or 99, h.lexical_rank or 99) <= 3)), None)
    if table_hit is not None and table_hit not in hits[:top_k]:
        hits = hits[: top_k - 1] + [table_hit] + [h for h in hits[top_k - 1:] if h is not table_hit]
    chosen: list[Evidence] = []
    seen: list[set[str]] = []
    per_table: dict[tuple[str, str], int] = {}
    used = 0
    per = max(40, word_budget // max(1, top_k))
    for h in hits:
        if len(chosen) >= top_k:
            break
        c = h.chunk
        if any(e.chunk.source == c.source and e.chunk.start < c.end and c.start < e.chunk.end for e in chosen):
            continue
        table = (c.source, c.locator.split(",")[0])
        if c.kind == "table_row" and not names_label(h) and per_table.get(table, 0) >= MAX_UNNAMED_ROWS:
            continue  # rows of one table look alike to both rankers; they must not crowd out the prose
        text = c.text if c.kind != "text" else _best_window(c, q, per, idf, wanted, asked)
        words = set(content_tokens(text))
        if any(len(words & e_words) / max(1, len(words | e_words)) >= 0.7 for e_words in seen):
            continue  # the same passage again (e.g. a blog post repeating its briefing)
        n_words = len(text.split())
        if chosen and used + n_words > word_budget * 1.2:
            continue
        chosen.append(Evidence(len(chosen) + 1, h, text))
        if c.kind == "table_row" and not names_label(h):
            per_table[table] = per_table.get(table, 0) + 1
        seen.append(words)
        used += n_words
    return chosen
