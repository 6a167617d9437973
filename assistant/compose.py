"""Compose the Answer: the extractive answer, the passage that stands in for an unsupported one, the
abstention text, and the final check."""

from __future__ import annotations

import time

from .citations import check_answer, marked
from .config import Settings
from .evidence import Evidence
from .gates import gate_reason
from .lookup import cell_lookup, table_lookup
from .prompts import CANNOT_ANSWER
from .question import Question
from .retrieve import Retriever
from .text import content_tokens, rarity, sentence_spans, weighted_hits
from .types import Answer, Hit, Table

__all__ = ["finish", "extractive", "best_passage", "abstain_text", "cited_evidence",
           "SUPPLEMENT_MIN_OVERLAP", "FALLBACK_MIN_OVERLAP", "FALLBACK_NOTICE"]


def _scored_sentences(question: str, evidence: list[Evidence], idf=None) -> list[tuple[float, int, str]]:
    """(share of the question's words, weighted by rarity, found in the sentence; source number;
    sentence) for every prose sentence of the evidence, best first. Rare words ('budget') decide."""
    q = set(content_tokens(question))
    weight = rarity(q, idf)
    total = sum(weight.values()) or 1.0
    out = []
    for e in evidence:
        if e.chunk.kind != "text":
            continue
        for s, t in sentence_spans(e.text):
            sent = e.text[s:t]
            if len(sent.split()) < 5:
                continue
            words = set(content_tokens(sent))
            out.append((weighted_hits(weight, words) / total, e.n, sent))
    out.sort(key=lambda x: (-x[0], x[1]))
    return out


def extractive(q: Question, evidence: list[Evidence], rows: dict[str, tuple[Table, int]], idf=None) -> str:
    """Best evidence sentences, verbatim, each with its marker (the 'none' backend); when no sentence
    answers, the cell of a value-table row and column the question names."""
    lookup = table_lookup(q, evidence, rows, idf)
    if lookup:
        return lookup
    picked = [x for x in _scored_sentences(q.text, evidence, idf) if x[0] >= SUPPLEMENT_MIN_OVERLAP][:2]
    if not picked:  # a table record has no sentence to pick: the cell its row and column name
        return cell_lookup(q, evidence, rows, idf) or CANNOT_ANSWER
    return " ".join(marked(sent, n) for _, n, sent in picked)


def best_passage(question: str, evidence: list[Evidence], idf=None) -> str:
    """The evidence sentence that matches the question best, verbatim and cited, if it holds at least
    FALLBACK_MIN_OVERLAP of the question ('' otherwise)."""
    best = next(iter(_scored_sentences(question, evidence, idf)), None)
    if best is None or best[0] < FALLBACK_MIN_OVERLAP or not content_tokens(best[2]):
        return ""
    return marked(best[2], best[1])


SUPPLEMENT_MIN_OVERLAP = 0.5  # rarity-weighted share of the question a sentence must hold to be picked
FALLBACK_MIN_OVERLAP = 0.65  # ... to stand alone as the answer when the generated one failed
FALLBACK_NOTICE = ("The generated answer was not supported by the documents; "
                   "showing the passage that answers the question instead.")


def abstain_text(evidence: list[Evidence]) -> str:
    """What an abstention shows: that the documents don't answer, and what the closest passages are about
    (never an answer: a supported sentence either stands as the answer or is not shown)."""
    covered = []
    for e in evidence[:3]:
        c = e.chunk
        where = c.locator if c.kind != "text" else (c.section.split(" > ")[-1] or c.title)
        item = f"{where} ({c.title})" if where != c.title else c.title
        if item not in covered:
            covered.append(item)
    text = "**The documents don't say.** None of the indexed documents answers this question."
    if covered:
        text += " The closest passages are about: " + "; ".join(covered) + "."
    return text


def cited_evidence(evidence: list[Evidence], citations) -> list[Evidence]:
    """The evidence that the checked answer's citations quote."""
    return [e for e in evidence if any(c.chunk_id == e.chunk.id for c in citations)]


def finish(q: Question, raw: str, evidence: list[Evidence], hits: list[Hit], settings: Settings,
            backend: str, model: str, t0: float, retriever: Retriever, notice: str = "") -> Answer:
    index_notice = retriever.index_notice  # e.g. answered from the previous build
    notice = " ".join(x for x in (notice, index_notice and index_notice[0].upper() + index_notice[1:] + ".") if x)
    checked = check_answer(raw, evidence, q, retriever.known)
    cited = cited_evidence(evidence, checked.citations)
    reason = ("the generator said the sources do not answer" if checked.refused else
              "no sentence of the answer was supported by its sources" if not checked.citations else
              gate_reason(q, checked, cited, settings, retriever))
    if reason:
        return Answer(q.text, abstain_text(evidence), [], True, backend, model,
                      time.perf_counter() - t0, notice, reason, raw, hits)
    return Answer(q.text, checked.text, checked.citations, False, backend, model, time.perf_counter() - t0,
                  notice, "", raw, hits)

