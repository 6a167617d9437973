"""question -> retrieve -> select evidence -> generate -> verify citations -> Answer."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from . import store
from .citations import ASKS_FOR_NAMES, NEGATION, check_answer, split_claims, support
from .config import Settings
from .embed import get_embedder
from .errors import CorpusError, GeneratorError, InputError
from .evidence import (
    DATE_ANSWER,
    EXACT_DATE,
    Evidence,
    answer_type,
    focus,
    full_dates,
    question_parts,
    select_evidence,
    values,
)
from .generate import get_generator
from .indexer import ensure_index
from .ingest.tables import EMPTY_CELLS, is_mark_table, row_record
from .prompts import CANNOT_ANSWER, FOCUSED_PROMPT, SEND_BACK, SYSTEM_PROMPT, user_prompt
from .retrieve import Retriever
from .text import (
    content_tokens,
    coordinated_names,
    expand_acronyms,
    fold,
    initialisms,
    label_share,
    label_terms,
    mentions,
    present,
    rarity,
    sentence_spans,
    weighted_hits,
)
from .types import Answer, Hit

__all__ = ["answer", "stream_answer", "StreamEvent", "retrieve", "validate_question", "get_retriever",
           "question_parts"]

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_pipelines: dict[Path, Retriever] = {}
_plock = threading.Lock()


@dataclass
class StreamEvent:
    """A streamed piece: kind 'status' (progress text), 'token' (raw generated text) or 'answer' (final)."""

    kind: str
    text: str = ""
    answer: Answer | None = None


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


def get_retriever(settings: Settings, progress: bool = False) -> Retriever:
    """The retriever over the active index build (built on first use; reopened after a rebuild)."""
    if not settings.corpus_dir.is_dir():
        raise CorpusError(f"corpus folder not found: {settings.corpus_dir}")
    ensure_index(settings, progress=progress)
    # a folder, or a build on the Chroma server; the previous build when the current one is damaged
    build, note = store.readable_build(settings)
    with _plock:
        r = _pipelines.get(build)  # type: ignore[arg-type]
        if r is None:
            r = Retriever(store.IndexHandle(build), get_embedder())  # type: ignore[arg-type]
            _pipelines.clear()
            _pipelines[build] = r  # type: ignore[index]
        r.index_notice = note
        return r


def retrieve(question: str, **overrides) -> list[Hit]:
    """Fused hits for a question (the retrieval step alone)."""
    settings = Settings.load(**overrides)
    q = validate_question(question, settings)
    return get_retriever(settings).search(q, settings.candidates)


def _anchors(question: str) -> list[str]:
    """Proper names the question is about (not acronyms, which are domain vocabulary, nor years)."""
    words = [re.sub(r"['’]s?$", "", w) for w in re.findall(r"[A-Za-z][A-Za-z'’-]*", question)]
    out = []
    for i, w in enumerate(words):
        if i > 0 and w[:1].isupper() and sum(ch.isupper() for ch in w) < 2 and w.lower() not in _GENERIC_CAPS:
            out.append(fold(w))
    return out


_GENERIC_CAPS = {"eu", "european", "union", "which", "what", "when", "how", "who", "does", "did", "is", "are",
                 "the", "and", "i", "strategic", "compass", "partnership", "partnerships", "security", "defence"}


def _missing_anchor(question: str, evidence: list[Evidence]) -> str | None:
    """A name the question asks about that the cited passages never mention (most must be there)."""
    text = fold(" ".join(f"{e.chunk.title} {e.chunk.section} {e.chunk.text}" for e in evidence))
    words = _spelled_out(question, set(re.findall(r"[a-z][a-z'’-]*", text)))
    anchors = _anchors(question)
    # "Korean" is found as "Korea", "Norwegian" as "Norway": compare the first letters of longer words
    missing = [a for a in anchors if a not in words and not (
        len(a) >= 6 and any(w.startswith(a[:4]) and abs(len(w) - len(a)) <= 4 for w in words))]
    if missing and len(missing) * 2 >= len(anchors):
        return missing[0]
    return None


def _spelled_out(question: str, words: set[str]) -> set[str]:
    """`words` plus the words of each name in the question that they hold by its initials ('US' holds
    'United States')."""
    run_words = [w for short, run in initialisms(question).items() if short in words for w in run]
    return words | set(run_words) | set(content_tokens(" ".join(run_words)))  # as written and as stems


QUESTION_COVERAGE = 0.55  # share of the question's content words the cited passages must contain


_META = set(content_tokens("according per table tables listed list lists document documents brief briefing "
                           "analysis report paper say says said mention mentioned among one two three four five six "
                           "seven eight nine ten name named give given show shown marked "
                           # how a document treats a subject, not the subject
                           "describe described characterise characterize differ reflected idea "
                           # how a table marks a cell, not what the cell is about
                           "ticked unticked unmarked left"))


def _expansion(token: str, acronyms: dict[str, str]) -> str | None:
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
    q = set(content_tokens(question)) - _META - ignore
    if not q:
        return 1.0, None
    words = _spelled_out(question, set(content_tokens(" ".join(f"{e.chunk.section} {e.chunk.text}" for e in cited)))
                         ) | set(given)
    titles = [" ".join(content_tokens(e.chunk.title)) for e in cited]
    acronyms = acronyms or {}

    def covered(t: str) -> bool:
        exp = _expansion(t, acronyms)
        if not exp:
            return present(t, words)
        # in the passages, or the very subject of a cited document's title
        return mentions(words, t, exp) or any(" ".join(content_tokens(exp)) in title for title in titles)

    missing = sorted(t for t in q if _expansion(t, acronyms) and not covered(t)
                     # 'EP' (European Parliament) points at who wrote a document, not at what is asked
                     and fold(_expansion(t, acronyms)) not in publishers)
    return sum(covered(t) for t in q) / len(q), (missing[0].upper() if missing else None)




_QUESTION_FORM = re.compile(r"\bhow (?:many|much|long|often|far)\b", re.I)


def _label(e: Evidence) -> str:
    """Short provenance for the prompt: document title, and the section for prose (records carry their own)."""
    c = e.chunk
    title = c.title if len(c.title) <= 50 else c.title[:47] + "..."
    if c.kind == "text" and c.section:
        return f"{title} — {c.section.split(' > ')[-1][:60]}"
    return title


def _messages(question: str, evidence: list[Evidence], system: str = SYSTEM_PROMPT) -> list[dict]:
    sources = [(e.n, _label(e), e.text) for e in evidence]
    return [{"role": "system", "content": system},
            {"role": "user", "content": user_prompt(question, sources)}]


def _marked(sentence: str, *ns: int) -> str:
    """A sentence ending in its citation markers: 'X [1][3].' ('X.' without any)."""
    markers = "".join(f"[{n}]" for n in ns)
    return f"{sentence.rstrip('.')}{' ' + markers if markers else ''}."


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


def _extractive(question: str, evidence: list[Evidence], idf=None, retriever: Retriever | None = None) -> str:
    """Best evidence sentences, verbatim, each with its marker (the 'none' backend); when no sentence
    answers, the cell of a value-table row and column the question names."""
    lookup = _table_lookup(question, evidence, idf)
    if lookup:
        return lookup
    picked = [x for x in _scored_sentences(question, evidence, idf) if x[0] >= SUPPLEMENT_MIN_OVERLAP][:2]
    if not picked:
        return _cell_lookup(question, evidence, retriever, idf) if retriever is not None else CANNOT_ANSWER
    return " ".join(_marked(sent, n) for _, n, sent in picked)


def _cell_lookup(question: str, evidence: list[Evidence], retriever: Retriever, idf=None) -> str:
    """The cell of a value table whose row and column the question both name ('When were the activities
    with Korvania launched?' over row 'Korvania', column 'Launched'), read from the Table, cited (else the
    refusal). A table record has no sentence for the extractive backend to pick."""
    q = label_terms(question)
    for e in evidence:
        if e.chunk.kind != "table_row" or label_share(e.chunk.locator.split(": ", 1)[-1], q, idf) < 0.6:
            continue
        doc = retriever.index.documents.get(e.chunk.source)
        found = next(((t, i) for t in (doc.tables if doc else []) if not is_mark_table(t)
                      for i in range(len(t.rows)) if row_record(t, i)[0] == e.chunk.text), None)
        if found is None:
            continue
        t, i = found
        label, values = t.rows[i]
        named = [(label_share(c, q, idf), c, v) for c, v in zip(t.columns, values, strict=True)
                 if v and v not in EMPTY_CELLS]
        share, col, value = max(named, default=(0.0, "", ""))
        if share >= 0.5:
            short = e.chunk.locator.split(",")[0]
            text = f"{short}, row \u201c{label.split('|', 1)[-1]}\u201d: {col}: {value} [{e.n}]."
            if check_answer(text, evidence, question).citations:
                return text
    return CANNOT_ANSWER


def _supplement(question: str, raw: str, evidence: list[Evidence], quotes: list[str] | None = None,
                idf=None, minimum: float = 0.0) -> str:
    """The best evidence sentence, verbatim and cited, if it matches the question well and the answer
    lacks what it says: small models answer correctly but drop details (a date, a name)."""
    best = next(iter(_scored_sentences(question, evidence, idf)), None)
    if best is None or best[0] < max(minimum, SUPPLEMENT_MIN_OVERLAP):
        return ""
    _, n, sent = best
    if set(content_tokens(sent)) <= set(content_tokens(raw)) or fold(sent)[:60] in fold(raw):
        return ""
    if any(sent in qt or qt in sent for qt in quotes or []):
        return ""  # the answer already quotes this sentence
    return _marked(sent, n)


SUPPLEMENT_MIN_OVERLAP = 0.5  # rarity-weighted share of the question a sentence must contain to be added
FALLBACK_MIN_OVERLAP = 0.65  # ... to stand alone as the answer when the generated one failed
FOCUS_SOURCES = 2  # sources in the second attempt after a refusal
COLUMN_NOTICE = "Answered from the table itself, without a model: every row that fits, quoted whole."
FALLBACK_NOTICE = ("The generated answer was not supported by the documents; "
                   "showing the passage that answers the question instead.")


def _table_lookup(question: str, evidence: list[Evidence], idf=None) -> str:
    """For a which/who question that names a table row: that row's included items, cited (else ''). A row
    that names nothing the question does not ("Which South Korean unit has Atalanta cooperated with?" and
    the row 'EUNAVFOR Atalanta': yes for South Korea) answers nothing and is no lookup."""
    if not ASKS_FOR_NAMES.search(question):
        return ""
    negated = NEGATION.search(question) is not None
    q = label_terms(question)
    for e in evidence:
        if e.chunk.kind != "table_row":
            continue
        label = e.chunk.locator.split(": ", 1)[-1]
        if label_share(label, q, idf) < 0.6:
            continue
        wanted = r"(?:no \(✗\)|not marked \(blank\))" if negated else r"(?:yes \(✓\)|marked \(x\))"
        m = re.search(rf"({wanted} for [^;]+?)(?=;|\.$)", e.chunk.text)
        if m:
            found = f"{e.chunk.locator.split(',')[0]} marks \u201c{label}\u201d as {m.group(1)} [{e.n}]."
            return found if check_answer(found, evidence, question).citations else ""
    return ""


def _column_lookup(question: str, evidence: list[Evidence], retriever: Retriever,
                   first_n: int) -> tuple[str, list[Evidence]]:
    """For a which-question that filters the rows of a value table by a column it names: rows whose cell
    is empty, for a column named after a negation ('Which partners' agreements are signed but not yet in
    force?' over 'Signed' and 'In force since'), or whose cell falls in a year the question gives, for a
    column named before it ('Which partners signed ... in 2005?'). Returns every such row of the table, not
    only those retrieved, verbatim, with markers numbered from `first_n`, and their evidence (else '', []).
    Another column the question names must be filled. (Evidence holds no row of a table about another
    domain term than the question's.) Mark tables are left to their column records."""
    neg = NEGATION.search(question)
    year = re.search(r"\b(?:19|20)\d\d\b", question)
    if not (neg or year) or not ASKS_FOR_NAMES.search(question):
        return "", []
    negated = set(content_tokens(re.split(r"[,;:?.!]|\b(?:and|or|but)\b", question[neg.end():])[0])) if neg else set()
    named = set(content_tokens(question))
    before_year = content_tokens(question[:year.start()]) if year else []
    for e in evidence:
        if e.chunk.kind != "table_row":
            continue
        doc = retriever.index.documents.get(e.chunk.source)
        table = next((t for t in (doc.tables if doc else []) if not is_mark_table(t) and
                      any(row_record(t, i)[0] == e.chunk.text for i in range(len(t.rows)))), None)
        if table is None:
            continue
        empty = [k for k, col in enumerate(table.columns) if set(content_tokens(col)) & negated]
        filled = [k for k, col in enumerate(table.columns) if k not in empty and set(content_tokens(col)) & named]
        # the year is that of the column named last before it ('signed ... in 2005')
        named_at = {k: max((i for i, w in enumerate(before_year) if w in content_tokens(table.columns[k])),
                           default=-1) for k in filled}
        dated = max(named_at, key=named_at.__getitem__, default=None)
        if dated is not None and named_at[dated] < 0:
            dated = None
        rows = {row_record(table, i)[0] for i, (_, cells) in enumerate(table.rows)
                if all(cells[k] in EMPTY_CELLS for k in empty) and all(cells[k] not in EMPTY_CELLS for k in filled)
                and (dated is None or cells[dated].endswith(year.group(0)))}  # type: ignore[union-attr]
        if not (empty or dated is not None) or not rows or len(rows) == len(table.rows):
            continue
        chunks = [c for c in retriever.chunks if c.source == e.chunk.source and c.kind == "table_row" and
                  c.text in rows]
        more = [Evidence(first_n + j, Hit(c, 0.0), c.text) for j, c in enumerate(chunks)]
        return " ".join(_marked(m.text, m.n) for m in more), more
    return "", []


def _dated_row(question: str, answer_text: str, evidence: list[Evidence], idf=None) -> str:
    """For a 'when' question answered with a year alone ('in 2005'), the table row the question names that
    gives an exact date in that year ('In force since: 01/01/2005'), verbatim and cited (else '')."""
    years = set(re.findall(r"\b(?:19|20)\d\d\b", answer_text))
    if answer_type(question) is not DATE_ANSWER or EXACT_DATE.search(answer_text) or not years:
        return ""
    q = label_terms(question)
    for e in evidence:
        label = e.chunk.locator.split(": ", 1)[-1]
        exact = {d[-4:] for d in EXACT_DATE.findall(e.chunk.text)} | set(re.findall(
            r"\b\d{1,2}\s+\w+\s+((?:19|20)\d\d)\b", e.chunk.text))
        if e.chunk.kind == "table_row" and label_share(label, q, idf) >= 0.6 and years & exact:
            return _marked(e.chunk.text, e.n)
    return ""


def _term_row(question: str, cited: list[Evidence], evidence: list[Evidence], acronyms: dict[str, str],
              idf=None) -> str:
    """For a question that asks for a date or a number, or compares, and names a term ('FPA') that the
    passages the answer cites never mention: the table row the question names that mentions that term and
    gives such a value, verbatim and cited (else ''). 'How long after its FPA entered into force did
    Moldova sign an SDP?' is often answered for the SDP alone; the row 'Moldova' of the FPA table answers
    for the other."""
    wanted = answer_type(question)
    if wanted is None and not _COMPARES.search(question):
        return ""
    have = set(content_tokens(" ".join(f"{e.chunk.section} {e.chunk.text}" for e in cited)))
    terms = {t: _expansion(t, acronyms) for t in content_tokens(question)}
    lacking = [(t, exp) for t, exp in terms.items() if exp and not mentions(have, t, exp)]
    if not lacking:
        return ""
    q = label_terms(question)
    ids = {e.chunk.id for e in cited}
    for e in evidence:
        if e.chunk.kind != "table_row" or e.chunk.id in ids:
            continue
        words = set(content_tokens(e.chunk.text))
        if label_share(e.chunk.locator.split(": ", 1)[-1], q, idf) >= 0.6 and \
                any(mentions(words, t, exp) for t, exp in lacking) and (wanted or EXACT_DATE).search(e.chunk.text):
            return _marked(e.chunk.text, e.n)
    return ""


_COMPARES = re.compile(r"\b(?:first|earlier|later|sooner|before|after|more|fewer|less|most|least|larger|smaller|"
                       r"bigger|longer|shorter|older|newer|differ\w*|respectively|compar\w+|than|whereas|both|each)\b",
                       re.I)
MAX_PER_NAME = 2  # extra generations for the names a first answer left out
PER_NAME_ON_TOPIC = 0.3  # share of the question's other words an answer for one name must use


def _head(name: str) -> str:
    """The word that names a thing in a multi-word name ('Korea' in 'South Korea'), as a token."""
    toks = content_tokens(name)
    return toks[-1] if toks else fold(name)


def _valued(question: str) -> str:
    """What an answer for each name must give, when the question asks for a number or a date, or compares
    ('' when it does not)."""
    wanted = answer_type(question)
    return ("its date" if wanted is DATE_ANSWER else "the number" if wanted is not None else
            "its date or number" if _COMPARES.search(question) else "")


def _left_out(question: str, answer_text: str, common: set[str]) -> list[tuple[str, str]]:
    """(run, name) for each name of a run the question joins ('Japan or South Korea') that the answer does
    not answer for, when the question asks for a number or a date, or compares. A name is answered by a
    sentence that names it and gives at least one value per name of its run it names ('The US and China
    have 35' answers for one of them). Other questions are left alone: without a value to check, an
    answer for one name is too easily a misread row ('the partnership with Moldova includes ...')."""
    runs = coordinated_names(question, common)
    if not runs or not _valued(question):
        return []
    claims = [(set(content_tokens(c.text)), len(values(c.text))) for c in split_claims(answer_text)]
    out = []
    for run, names in runs:
        heads = [_head(n) for n in names]
        for name, head in zip(names, heads, strict=True):
            answered = any(present(head, words) and n_values >= sum(present(h, words) for h in heads)
                           for words, n_values in claims)
            if not answered:
                out.append((run, name))
    return out


def _for_name(question: str, run: str, name: str, settings: Settings, retriever: Retriever, generator,
              first_n: int, known: set[str]) -> tuple[str, list[Evidence]]:
    """Ask the question for one name of its run ('... Japan or South Korea ...' for 'South Korea'), over
    the passages that mention it. Returns the answer's sentences that name it and give a value not among
    `known` (the values the answer has), with their markers numbered from `first_n`, and the evidence
    they cite."""
    sub = question.replace(run, name, 1)
    hits = retriever.search(sub, settings.candidates)
    head = _head(name)
    about = [h for h in hits if present(head, set(content_tokens(f"{h.chunk.section} {h.chunk.text}")))]
    evidence = select_evidence(sub, about or hits, settings.top_k, settings.evidence_words, retriever.idf,
                               retriever.domain_acronyms)
    raw = "".join(generator.stream(_messages(f"{question} Answer for {name} only, with {_valued(question)}.",
                                             evidence), settings.max_tokens))
    names = {t for _, run_names in coordinated_names(question, retriever.common_words) for n in run_names
             for t in content_tokens(n)}
    asked = set(content_tokens(expand_acronyms(question, retriever.acronyms))) - names - _META
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
            sentences.append(_marked(claim.text, *(used[n].n for n in cites)))
    return " ".join(sentences), list(used.values())


_ORDER = re.compile(r"\b(?:(first|earlier|earliest|sooner|before)|(later|latest|last|after))\b", re.I)


def _misordered(question: str, answer_text: str, common: set[str]) -> str:
    """The answer without its sentences that say which of the question's names came first (or last) but
    contradict the dates the answer itself gives for them ("Serbia's took effect first" beside Serbia
    01/08/2012 and Montenegro 01/04/2012; "South Korea did not sign first" holds beside an earlier Japan).
    Only a sentence that names one of them and gives no date is judged, and only when each name it is
    compared with has one date in the answer."""
    claims = split_claims(answer_text)
    wrong = set()
    for _, names in coordinated_names(question, common):
        heads = [_head(n) for n in names]
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
    return " ".join(_marked(c.text, *c.cites) for i, c in enumerate(claims) if i not in wrong)


def _abstain_text(question: str, evidence: list[Evidence], related: str = "") -> str:
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
    if related:
        text += f"\n\nWhat they do say: {related}"
    return text


def _cited(evidence: list[Evidence], citations) -> list[Evidence]:
    """The evidence that the checked answer's citations quote."""
    return [e for e in evidence if any(c.chunk_id == e.chunk.id for c in citations)]


def _finish(question: str, raw: str, evidence: list[Evidence], hits: list[Hit], settings: Settings,
            backend: str, model: str, t0: float, retriever: Retriever, notice: str = "") -> Answer:
    notice = " ".join(x for x in (notice, retriever.index_notice and retriever.index_notice[0].upper()
                                  + retriever.index_notice[1:] + ".") if x)
    checked = check_answer(raw, evidence, question, retriever.doc_cues)
    cited = _cited(evidence, checked.citations)
    missing = _missing_anchor(question, cited)
    # The words a question uses to name a cited document ("the EP analysis of the Compass's partnership
    # dimension") are there when that document is cited: its title has them.
    named = retriever.named_documents(question)
    pointers = {t for e in cited if e.chunk.source in named for t in content_tokens(e.chunk.title)}
    coverage, missing_term = _question_coverage(question, cited, retriever.cues, retriever.acronyms,
                                                retriever.publishers, given=pointers)
    missing = missing or missing_term
    wanted = answer_type(question)
    untyped = bool(checked.citations) and wanted is not None and not any(  # markers ("[1]") are no numbers
        wanted.search(c.text) for c in split_claims(checked.text))
    reason = ("the generator said the sources do not answer" if checked.refused else
              "no sentence of the answer was supported by its sources" if not checked.citations else
              "the answer gives no number or date, which the question asks for" if untyped else
              f"the sources cited never mention {missing!r}" if missing else
              f"the sources cited cover only {coverage:.0%} of the question" if coverage < QUESTION_COVERAGE
              else "")
    if reason:
        related = checked.text if checked.citations and not missing else ""
        text = _abstain_text(question, evidence, related)
        return Answer(question, text, checked.citations if related else [], True, backend, model,
                      time.perf_counter() - t0, notice, reason, raw, hits)
    return Answer(question, checked.text, checked.citations, False, backend, model, time.perf_counter() - t0,
                  notice, "", raw, hits)


def stream_answer(question: str, **overrides) -> Iterator[StreamEvent]:
    """Like `answer` but yields generated text as it comes, then the checked Answer last."""
    t0 = time.perf_counter()
    settings = Settings.load(**overrides)
    q = validate_question(question, settings)
    retriever = get_retriever(settings)
    hits = retriever.search(q, settings.candidates)
    evidence = select_evidence(q, hits, settings.top_k, settings.evidence_words, retriever.idf,
                               retriever.domain_acronyms)
    generator = get_generator(settings)
    # 'Which ... are signed but not yet in force?': the table's rows answer completely, without a model
    rows, more = _column_lookup(q, evidence, retriever, len(evidence) + 1)
    looked_up = rows and _finish(q, rows, evidence + more, hits, settings, "table", "lookup", t0, retriever,
                                 notice=COLUMN_NOTICE)
    if looked_up and not looked_up.abstained:
        yield StreamEvent("answer", answer=looked_up)
        return
    if generator is None:
        raw = _extractive(q, evidence, retriever.idf, retriever)
        yield StreamEvent("answer", answer=_finish(q, raw, evidence, hits, settings, "none", "extractive", t0,
                                                   retriever))
        return
    lock = getattr(generator, "lock", None)
    if lock is not None and lock.locked():
        yield StreamEvent("status", "waiting for the local model (another question is being answered)")
    pieces: list[str] = []
    messages = _messages(q, evidence)
    try:
        for piece in generator.stream(messages, settings.max_tokens):
            pieces.append(piece)
            yield StreamEvent("token", piece)
        latest = first = check_answer("".join(pieces), evidence, q, retriever.doc_cues)
        if not first.citations and not first.refused and not _table_lookup(q, evidence, retriever.idf) \
                and not _supplement(q, "", evidence, idf=retriever.idf, minimum=FALLBACK_MIN_OVERLAP):
            # Send the answer back once. The conversation prefix is unchanged, so llama.cpp reuses its
            # cache and only the feedback and the new answer cost time.
            yield StreamEvent("status", "checking citations: asking the model to revise its answer")
            messages += [{"role": "assistant", "content": "".join(pieces)}, {"role": "user", "content": SEND_BACK}]
            pieces = []
            for piece in generator.stream(messages, settings.max_tokens):
                pieces.append(piece)
                yield StreamEvent("token", piece)
            latest = check_answer("".join(pieces), evidence, q, retriever.doc_cues)
        if latest.refused and len(evidence) > FOCUS_SOURCES:
            # Ask once more with only the closest sources: the refusal of a small model is often a
            # distraction by the others. Every check still applies to what it answers.
            narrow = focus(q, evidence, FOCUS_SOURCES, retriever.idf)
            yield StreamEvent("status", f"no answer in {len(evidence)} passages; asking again with the "
                                        f"{len(narrow)} closest")
            pieces = []
            for piece in generator.stream(_messages(q, narrow, FOCUSED_PROMPT), settings.max_tokens):
                pieces.append(piece)
                yield StreamEvent("token", piece)
    except GeneratorError as e:
        if settings.on_llm_error != "extractive":
            raise
        raw = _extractive(q, evidence, retriever.idf, retriever)
        yield StreamEvent("answer", answer=_finish(q, raw, evidence, hits, settings, "none", "extractive", t0,
                                                   retriever, notice=f"generator unavailable ({e}); extractive answer"))
        return
    raw = "".join(pieces)
    checked = check_answer(raw, evidence, q, retriever.doc_cues)
    cited = _cited(evidence, checked.citations)
    notice = ""
    if not checked.citations:
        # The model found nothing it could support: a table row the question names, or failing that (and
        # only if the model did not say the sources lack the answer) the evidence sentence that matches
        # the question best, answers verbatim and is checked like any answer.
        fallback = _table_lookup(q, evidence, retriever.idf) or ("" if checked.refused else _supplement(
            q, "", evidence, idf=retriever.idf, minimum=FALLBACK_MIN_OVERLAP))
        if fallback:
            raw = fallback
            notice = FALLBACK_NOTICE
    elif checked.citations and not checked.refused and not any(e.chunk.kind == "table_row" for e in cited):
        quotes = [c.quote for c in checked.citations]
        added: list[str] = []
        parts = question_parts(q)
        for part in parts:  # each part of a two-part question may lack its sentence
            # a quote the answer cites may hold what its text leaves out ("EEAS" beside "PSC authorises")
            extra = _supplement(part, f"{checked.text} {' '.join(added)}", evidence,
                                quotes if len(parts) == 1 else None, idf=retriever.idf)
            if extra and extra not in added:
                added.append(extra)
        raw = " ".join([raw.rstrip(), *added]).strip()
    if checked.citations and not checked.refused:
        for row in (_dated_row(q, checked.text, evidence, retriever.idf),
                    _term_row(q, cited, evidence, retriever.domain_acronyms, retriever.idf)):
            if row and row not in raw:
                raw = f"{raw.rstrip()} {row}"
        # A question about several named things ('Did Japan or South Korea sign first?') is often answered
        # for one of them: ask again for each one left out, over the passages about it.
        for run, name in _left_out(q, checked.text, retriever.common_words)[:MAX_PER_NAME]:
            yield StreamEvent("status", f"the answer leaves out {name}: asking about it")
            try:
                extra, more = _for_name(q, run, name, settings, retriever, generator, len(evidence) + 1,
                                        values(raw))
            except GeneratorError:
                break
            if extra:
                raw = f"{raw.rstrip()} {extra}"
                evidence = evidence + more
        raw = _misordered(q, raw, retriever.common_words)  # "X came first" against the dates it gives
    final = _finish(q, raw, evidence, hits, settings, generator.backend, generator.model, t0, retriever,
                    notice=notice)
    lookup = _table_lookup(q, evidence, retriever.idf) if final.abstained and not notice else ""
    if lookup:  # the question names a table row the answer did not read: the row itself answers
        looked_up = _finish(q, lookup, evidence, hits, settings, generator.backend, generator.model, t0,
                            retriever, notice=FALLBACK_NOTICE)
        final = final if looked_up.abstained else looked_up
    yield StreamEvent("answer", answer=final)


def answer(question: str, **overrides) -> Answer:
    """Answer a question from the indexed documents, with verified citations.

    Args:
        question: the question, in plain language.
        **overrides: any `Settings` field, e.g. ``llm="none"``, ``top_k=3``.

    Raises:
        InputError: empty or over-long question.  ConfigError: unknown setting or backend.
        GeneratorError: the LLM failed (unless ``on_llm_error="extractive"``).

    Example:
        >>> a = answer("Which SDPs cover space security?")  # doctest: +SKIP
        >>> a.text, [c.quote for c in a.citations]  # doctest: +SKIP
    """
    final = None
    for ev in stream_answer(question, **overrides):
        if ev.kind == "answer":
            final = ev.answer
    assert final is not None
    return final


# re-exported for tests of the checking step
__all__ += ["split_claims", "support"]
