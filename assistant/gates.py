"""Optional gates on a supported answer: named steps that can refuse it after the citation check.

Each is switched by `Settings.steps_off` and measured in docs/quality.md.
"""

from __future__ import annotations

import re

from .citations import Known, split_claims, with_expansions
from .config import Settings
from .evidence import Evidence
from .question import Question
from .retrieve import Retriever
from .text import STOPWORDS, content_tokens, fold, initialisms, mentions, present

__all__ = ["gate_reason", "expansion", "META"]


def _anchors(question: str, common: set[str]) -> list[str]:
    """Proper names the question is about: capitalised words after its first, not acronyms (domain
    vocabulary), nor words the corpus mostly writes in lower case or uses in its titles (`common`)."""
    words = [re.sub(r"['’]s?$", "", w) for w in re.findall(r"[A-Za-z][A-Za-z'’-]*", question)]
    return [fold(w) for i, w in enumerate(words) if i > 0 and w[:1].isupper() and sum(ch.isupper() for ch in w) < 2
            and fold(w) not in common and fold(w) not in STOPWORDS]


def _missing_anchor(question: str, cited: list[Evidence], known: Known, common: set[str]) -> str | None:
    """A name the question asks about that neither the cited passages (their acronyms spelled out: 'ROK'
    holds 'Korea') nor the cited documents' own descriptors (title, publisher, date: 'the May 2024 brief')
    mention; most of the question's names must be there. The answer may be supported sentence by sentence
    and still be about something else than what the question names."""
    text = " ".join(f"{e.chunk.title} {e.chunk.section} {e.chunk.text}" for e in cited)
    text = " ".join([with_expansions(text, known.acronyms),
                     *{known.descriptors.get(e.chunk.source, "") for e in cited}])
    words = _spelled_out(question, set(re.findall(r"[a-z][a-z'’-]*", fold(text))))
    anchors = _anchors(question, common)
    heads = {fold(run.split()[-1]): [fold(w) for w in run.split()[:-1]]
             for run in re.findall(r"\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)+", question)}

    def there(a: str) -> bool:
        # "Korean" is found as "Korea", "Norwegian" as "Norway": compare the first letters of longer words
        return a in words or (len(a) >= 6 and any(w.startswith(a[:4]) and abs(len(w) - len(a)) <= 4 for w in words))

    # 'South' of 'South Korea' is there when 'Korea' is (the source may write 'Republic of Korea')
    missing = [a for a in anchors if not there(a) and not any(a in mods and there(h) for h, mods in heads.items())]
    if missing and len(missing) * 2 >= len(anchors):
        return missing[0]
    return None


def _spelled_out(question: str, words: set[str]) -> set[str]:
    """`words` plus the words of each name in the question that they hold by its initials ('US' holds
    'United States')."""
    run_words = [w for short, run in initialisms(question).items() if short in words for w in run]
    return words | set(run_words) | set(content_tokens(" ".join(run_words)))  # as written and as stems


QUESTION_COVERAGE = 0.55  # share of the question's content words the cited passages must contain


META = set(content_tokens("according per table tables listed list lists document documents brief briefing "
                           "analysis report paper say says said mention mentioned among one two three four five six "
                           "seven eight nine ten name named give given show shown marked "
                           # how a document treats a subject, not the subject
                           "describe described characterise characterize differ reflected idea "
                           # how a table marks a cell, not what the cell is about
                           "ticked unticked unmarked left"))


def expansion(token: str, acronyms: dict[str, str]) -> str | None:
    """What an acronym token of a question stands for ('sdps' as 'sdp'), if the corpus defines it."""
    return acronyms.get(token) or acronyms.get(token.rstrip("s"))


def _question_coverage(question: str, cited: list[Evidence], ignore: set[str] = frozenset(),
                       acronyms: dict[str, str] | None = None, publishers: str = "",
                       given: set[str] = frozenset()) -> tuple[float, str | None]:
    """How much of what the question asks about appears in the cited passages (titles excluded: a title
    like '... security and defence partnerships' would cover every question; words that point at a
    document or table rather than at content are ignored). An acronym counts as there when the passage
    has it or every word of its expansion. Returns (share, the first acronym the passages lack): an
    acronym names the very thing asked about (an SDP is not an FPA), so one that is missing decides."""
    question = _QUESTION_FORM.sub(" ", question)
    q = set(content_tokens(question)) - META - ignore
    if not q:
        return 1.0, None
    words = _spelled_out(question, set(content_tokens(" ".join(f"{e.chunk.section} {e.chunk.text}" for e in cited)))
                         ) | set(given)
    titles = [" ".join(content_tokens(e.chunk.title)) for e in cited]
    acronyms = acronyms or {}

    def covered(t: str) -> bool:
        exp = expansion(t, acronyms)
        if not exp:
            return present(t, words)
        # in the passages, or the very subject of a cited document's title
        return mentions(words, t, exp) or any(" ".join(content_tokens(exp)) in title for title in titles)

    missing = sorted(t for t in q if expansion(t, acronyms) and not covered(t)
                     # 'EP' (European Parliament) points at who wrote a document, not at what is asked
                     and fold(expansion(t, acronyms)) not in publishers)
    return sum(covered(t) for t in q) / len(q), (missing[0].upper() if missing else None)


_QUESTION_FORM = re.compile(r"\bhow (?:many|much|long|often|far)\b", re.I)


def gate_reason(q: Question, checked, cited: list[Evidence], settings: Settings, retriever: Retriever) -> str:
    """Why a supported answer is still refused by the optional gates ('' if it is not)."""
    question, wanted = q.text, q.wants
    if settings.on("answer_type") and wanted is not None and not any(  # markers ("[1]") are no numbers
            wanted.search(c.text) for c in split_claims(checked.text)):
        return "the answer gives no number or date, which the question asks for"
    missing = _missing_anchor(question, cited, retriever.known, retriever.common_words) \
        if settings.on("anchor") else None
    if settings.on("coverage"):
        # The words a question uses to name a cited document ("the EP analysis of the Compass's partnership
        # dimension") are there when that document is cited: its title has them.
        named = retriever.named_documents(question)
        pointers = {t for e in cited if e.chunk.source in named for t in content_tokens(e.chunk.title)}
        coverage, missing_term = _question_coverage(question, cited, retriever.cues, retriever.acronyms,
                                                    retriever.publishers, given=pointers)
        missing = missing or missing_term
        if not missing and coverage < QUESTION_COVERAGE:
            return f"the sources cited cover only {coverage:.0%} of the question"
    return f"the sources cited never mention {missing!r}" if missing else ""

