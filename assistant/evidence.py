"""Select evidence for the prompt: the best hits, each trimmed to its most relevant contiguous sentences."""

from __future__ import annotations

from dataclasses import dataclass

from .text import content_tokens, label_share, sentence_spans
from .types import Chunk, Hit

__all__ = ["Evidence", "select_evidence"]


@dataclass
class Evidence:
    """One numbered source shown to the generator; `text` is a verbatim slice of the chunk."""

    n: int
    hit: Hit
    text: str

    @property
    def chunk(self) -> Chunk:
        return self.hit.chunk


def _best_window(chunk: Chunk, q: set[str], budget: int) -> str:
    """The contiguous run of sentences with most question words that fits `budget` words."""
    spans = sentence_spans(chunk.text)
    if len(chunk.text.split()) <= budget or len(spans) <= 1:
        return chunk.text
    scores = [len(q & set(content_tokens(chunk.text[s:e]))) for s, e in spans]
    words = [len(chunk.text[s:e].split()) for s, e in spans]
    best, best_score = (0, 1), -1.0
    for i in range(len(spans)):
        total, score = 0, 0
        for j in range(i, len(spans)):
            if total + words[j] > budget and j > i:
                break
            total += words[j]
            score += scores[j]
            if score > best_score:  # earlier and shorter windows win ties
                best, best_score = (i, j + 1), score
    return chunk.text[spans[best[0]][0]:spans[best[1] - 1][1]]


MAX_UNNAMED_ROWS = 2  # rows per table the question does not name that may enter the evidence


def select_evidence(question: str, hits: list[Hit], top_k: int, word_budget: int, idf=None) -> list[Evidence]:
    """Up to top_k non-overlapping hits, best first, within a total word budget (`idf` weighs which
    table labels the question names)."""
    q = set(content_tokens(question))

    def names_label(h: Hit) -> bool:
        return label_share(h.chunk.locator.split(": ", 1)[-1], q, idf) >= 0.5

    # A column record (every row's mark for one column) is long; it helps only when the question is
    # about that column and no row record the question names is at hand.
    row_named = any(h.chunk.kind == "table_row" and names_label(h) for h in hits[:15])
    hits = [h for h in hits if h.chunk.kind != "table_column" or (names_label(h) and not row_named)]
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
        text = c.text if c.kind != "text" else _best_window(c, q, per)
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
