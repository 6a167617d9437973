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
from .text import STOPWORDS, content_tokens, expansion, fold, initialisms, mentions

__all__ = ["gate_reason"]


def _anchors(question: str, common: set[str]) -> list[str]:
    """Proper names the question is about: capitalised words that open no sentence, not acronyms (domain
    vocabulary), nor words the corpus mostly writes in lower case or uses in its titles (`common`)."""
    # a word that opens a sentence of the question ("... crisis operations. Give the date ...") is no name
    words = [re.sub(r"['’]s?$", "", m.group()) for m in re.finditer(r"[A-Za-z][A-Za-z'’-]*", question)
             if not re.search(r"(?:^|[.?!:;]\s+|\n)[\"“‘'(]?$", question[:m.start()])]
    return [fold(w) for w in words if w[:1].isupper() and sum(ch.isupper() for ch in w) < 2
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


def _missing_term(q: Question, cited: list[Evidence], acronyms: dict[str, str]) -> str | None:
    """A domain term the question names by its acronym ('FPA') that no cited passage mentions, as the
    acronym or spelled out: an answer about an SDP does not answer a question about an FPA. Acronyms that
    name a document or its publisher are not in `acronyms` (Retriever.domain_acronyms)."""
    words = set(content_tokens(" ".join(f"{e.chunk.section} {e.chunk.text}" for e in cited)))
    for t in sorted(q.terms):
        exp = expansion(t, acronyms)
        if exp and not mentions(words, t, exp):
            return t.upper()
    return None


def _spelled_out(question: str, words: set[str]) -> set[str]:
    """`words` plus the words of each name in the question that they hold by its initials ('US' holds
    'United States')."""
    run_words = [w for short, run in initialisms(question).items() if short in words for w in run]
    return words | set(run_words) | set(content_tokens(" ".join(run_words)))  # as written and as stems


def gate_reason(q: Question, checked, cited: list[Evidence], settings: Settings, retriever: Retriever) -> str:
    """Why a supported answer is still refused by the optional gates ('' if it is not)."""
    question, wanted = q.text, q.wants
    if settings.on("answer_type") and wanted is not None and not any(  # markers ("[1]") are no numbers
            wanted.search(c.text) for c in split_claims(checked.text)):
        return "the answer gives no number or date, which the question asks for"
    missing = (_missing_anchor(question, cited, retriever.known, retriever.common_words) or
               _missing_term(q, cited, retriever.domain_acronyms)) if settings.on("anchor") else None
    return f"the sources cited never mention {missing!r}" if missing else ""

