"""Questions about several named things: the names an answer leaves out, asked about one by one, and
order words checked against the dates the answer gives."""

from __future__ import annotations

import re

from .citations import NEGATION, split_claims
from .compose import marked
from .config import Settings
from .evidence import Evidence, full_dates, select_evidence, values
from .gates import META
from .prompts import build_messages
from .question import Question
from .retrieve import Retriever
from .text import content_tokens, expand_acronyms, fold, present

__all__ = ["left_out", "for_name", "misordered"]


PER_NAME_ON_TOPIC = 0.3  # share of the question's other words an answer for one name must use


def head_word(name: str) -> str:
    """The word that names a thing in a multi-word name ('Korea' in 'South Korea'), as a token."""
    toks = content_tokens(name)
    return toks[-1] if toks else fold(name)


def left_out(q: Question, answer_text: str) -> list[tuple[str, str]]:
    """(run, name) for each name of a run the question joins ('Japan or South Korea') that the answer does
    not answer for, when the question asks for a number or a date, or compares. A name is answered by a
    sentence that names it and gives at least one value per name of its run it names ('The US and China
    have 35' answers for one of them). Other questions are left alone: without a value to check, an
    answer for one name is too easily a misread row ('the partnership with Moldova includes ...')."""
    runs = q.names
    if not runs or not q.valued():
        return []
    claims = [(set(content_tokens(c.text)), len(values(c.text))) for c in split_claims(answer_text)]
    out = []
    for run, names in runs:
        heads = [head_word(n) for n in names]
        for name, head in zip(names, heads, strict=True):
            answered = any(present(head, words) and n_values >= sum(present(h, words) for h in heads)
                           for words, n_values in claims)
            if not answered:
                out.append((run, name))
    return out


def for_name(q: Question, run: str, name: str, settings: Settings, retriever: Retriever, generator,
              first_n: int, known: set[str]) -> tuple[str, list[Evidence]]:
    """Ask the question for one name of its run ('... Japan or South Korea ...' for 'South Korea'), over
    the passages that mention it. Returns the answer's sentences that name it and give a value not among
    `known` (the values the answer has), with their markers numbered from `first_n`, and the evidence
    they cite."""
    question = q.text
    sub = question.replace(run, name, 1)
    hits = retriever.search(sub, settings.candidates)
    head = head_word(name)
    about = [h for h in hits if present(head, set(content_tokens(f"{h.chunk.section} {h.chunk.text}")))]
    evidence = select_evidence(sub, about or hits, settings.top_k, settings.evidence_words, retriever.idf,
                               retriever.domain_acronyms)
    raw = "".join(generator.stream(build_messages(f"{question} Answer for {name} only, with {q.valued()}.",
                                             evidence), settings.max_tokens))
    names = {t for _, run_names in q.names for n in run_names
             for t in content_tokens(n)}
    asked = set(content_tokens(expand_acronyms(question, retriever.acronyms))) - names - META
    by_n = {e.n: e for e in evidence}
    used: dict[int, Evidence] = {}
    sentences = []
    for claim in split_claims(raw):
        given = values(claim.text)
        words = set(content_tokens(expand_acronyms(claim.text, retriever.acronyms)))
        if not present(head, words) or not given or given <= known or \
                sum(present(t, words) for t in asked) < PER_NAME_ON_TOPIC * len(asked):
            continue  # not about the name, no value the answer lacks, or about something else
        cites = [n for n in claim.cites if n in by_n]
        for n in cites:
            if n not in used:
                used[n] = Evidence(first_n + len(used), by_n[n].hit, by_n[n].text)
        if cites:
            sentences.append(marked(claim.text, *(used[n].n for n in cites)))
    return " ".join(sentences), list(used.values())


_ORDER = re.compile(r"\b(?:(first|earlier|earliest|sooner|before)|(later|latest|last|after))\b", re.I)


def misordered(q: Question, answer_text: str) -> str:
    """The answer without its sentences that say which of the question's names came first (or last) but
    contradict the dates the answer itself gives for them ("Serbia's took effect first" beside Serbia
    01/08/2012 and Montenegro 01/04/2012; "South Korea did not sign first" holds beside an earlier Japan).
    Only a sentence that names one of them and gives no date is judged, and only when each name it is
    compared with has one date in the answer."""
    claims = split_claims(answer_text)
    wrong = set()
    for _, names in q.names:
        heads = [head_word(n) for n in names]
        dated: dict[str, set] = {}
        for c in claims:
            words, when = set(content_tokens(c.text)), full_dates(c.text)
            named = [h for h in heads if present(h, words)]
            if len(named) == 1 and len(set(when)) == 1:
                dated.setdefault(named[0], set()).add(when[0])
        if len(dated) < 2 or any(len(d) > 1 for d in dated.values()):
            continue
        for i, c in enumerate(claims):
            m = _ORDER.search(c.text)
            named = [h for h in heads if present(h, set(content_tokens(c.text)))]
            if not m or len(named) != 1 or named[0] not in dated or full_dates(c.text):
                continue
            (own,) = dated[named[0]]
            others = [d for h, ds in dated.items() if h != named[0] for d in ds]
            beaten = any(d < own for d in others) if m.group(1) else any(d > own for d in others)
            if beaten != bool(NEGATION.search(c.text)):  # "did not sign first" holds when another was earlier
                wrong.add(i)
    if not wrong:
        return answer_text
    return " ".join(marked(c.text, *c.cites) for i, c in enumerate(claims) if i not in wrong)

