"""Parse [n] markers and check every sentence against the source it cites.

A sentence is kept only if its cited source supports it: its content words (beyond those of the
question) come from the source, its numbers and proper names appear there, and a list read from a
table row names exactly the columns that share the stated mark. A sentence citing the wrong source is
re-attributed to the source that supports it; one that no source supports is dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .evidence import Evidence, question_parts
from .prompts import REFUSAL_PATTERN
from .text import (
    ACRONYM,
    STOPWORDS,
    content_tokens,
    expansion,
    fold,
    label_share,
    mentions,
    present,
    sentence_spans,
    tokens,
)
from .types import Citation

__all__ = ["Checked", "Known", "check_answer", "support", "best_quote", "split_claims", "marked", "with_expansions"]

_MARKER = re.compile(r"\s*\[(\d+(?:\s*,\s*\d+)*)\]")
_REFUSAL = re.compile(REFUSAL_PATTERN, re.I)
_GROUP = re.compile(r"(?P<val>yes \(✓\)|no \(✗\)|marked \(x\)|not marked \(blank\)|none \(-\)|Already exists)"
                    r" for (?P<names>[^;]+?)(?=;|\.$)")
SUPPORT_THRESHOLD = 0.7
ASKS_FOR_NAMES = re.compile(r"\b(which|who|whom|what (countries|partners|states))\b", re.I)
NEGATION = re.compile(r"\b(not|no|none|except|excluding|lacks?|lacking|without|neither|nor|leaves? out|"
                      r"unmarked|unticked|left out|omits?|absent|missing|exclude[sd]?)\b|n't", re.I)


@dataclass
class Claim:
    """A sentence of the generated answer with the source numbers it cites."""

    text: str
    cites: list[int]


@dataclass
class Checked:
    """Result of checking: kept sentences with their citations, what was dropped, and a refusal flag."""

    text: str
    citations: list[Citation]
    dropped: list[str]
    refused: bool
    repaired: int = 0


def marked(sentence: str, *ns: int) -> str:
    """A sentence ending in its citation markers: 'X [1][3].' ('X.' without any)."""
    markers = "".join(f"[{n}]" for n in ns)
    return f"{sentence.rstrip('.')}{' ' + markers if markers else ''}."



def split_claims(answer: str) -> list[Claim]:
    """Sentences of the answer with their [n] markers removed and collected."""
    answer = re.sub(r"(\])\s*([.!?])(?=\S)", r"\1\2 ", answer.strip())  # "A [1].B [2]." -> two sentences
    claims = []
    for s, e in sentence_spans(answer):
        sent = answer[s:e].strip()
        cites = [int(x) for m in _MARKER.finditer(sent) for x in m.group(1).split(",")]
        body = _MARKER.sub("", sent).strip()
        body = re.sub(r"\s+([.,;:!?])", r"\1", body)
        if body and body not in (".",):
            claims.append(Claim(body, cites))
    return claims


def _names(text: str) -> set[str]:
    """Capitalised words and numbers not at the start of the sentence (proper names, figures)."""
    words = [re.sub(r"['’]s?$", "", w) for w in re.findall(r"[A-Za-z][A-Za-z'’-]*|\d[\d.,/]*", text)]
    out = set()
    for i, w in enumerate(words):
        if w[0].isdigit():
            out.add(w.strip(".,"))
        elif w[0].isupper() and w.lower() not in STOPWORDS and (i > 0 or w.lower() not in _STARTERS):
            out.add(fold(w))
    return out


_ORDINALS = frozenset("second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth".split())

# Capitalised only because they start a sentence; not names.
_STARTERS = frozenset("""according although as at because before both during each either for from however
in it its many most neither none not on one only since some that the their there these they this those
though under unlike until when where whereas which while with within yes no""".split())


@dataclass(frozen=True)
class Known:
    """What a claim may rest on besides its source's text: the corpus's acronyms (lowercase -> expansion,
    so 'ROK' in a source holds 'Republic of Korea'), each document's descriptors (source -> its title,
    publisher, kind and date: 'the March 2024 EPRS briefing' names a document, not a fact),
    and the words that single a document out (`doc_cues`)."""

    acronyms: dict[str, str] = field(default_factory=dict)
    descriptors: dict[str, str] = field(default_factory=dict)
    doc_cues: dict[str, set[str]] = field(default_factory=dict)


_YEAR = re.compile(r"(?:19|20)\d\d")


def _figure_in(fig: str, text: str) -> bool:
    """Is the figure in the (folded) text as a whole number? A year counts inside a date ('2005' in
    '01/01/2005', '2024-05'); a thousands separator may be a comma or a dot ('1,451' is '1.451')."""
    edge = r"(?<![\d.,])" if not _YEAR.fullmatch(fig) else r"(?<!\d)"
    if re.search(rf"{edge}{re.escape(fig)}(?![\d]|[.,]\d)", text):
        return True
    if re.fullmatch(r"\d{1,3}(?:[.,]\d{3})+", fig):
        other = fig.replace(",", "#").replace(".", ",").replace("#", ".")
        return bool(re.search(rf"(?<![\d.,]){re.escape(other)}(?![\d]|[.,]\d)", text))
    return False


def _name_in(name: str, text: str, words: set[str], acronyms: dict[str, str]) -> bool:
    """Is a name of the claim in the source in some form: as written, as a word form ('Korean' in
    'Korea's'), spelled out when it is an acronym ('SDP' as 'security and defence partnership'), or
    as an acronym the source uses for it ('Korea' in a source writing 'ROK' for 'Republic of Korea')."""
    if name in text or present(name, words):
        return True
    exp = expansion(name, acronyms)
    return bool(exp) and mentions(words, name, exp)  # type: ignore[arg-type]


_ACRONYM_IN_CLAIM = re.compile(r"\b[A-Z]{2,}[a-z]?(?=\b|\d)")  # also 'FY' in 'FY2020'
_LINK = frozenset("and of the for on in to a an with".split())


def _initials_in(acronym: str, source_text: str) -> bool:
    """Is the acronym spelled out in the source by the initials of consecutive capitalised words ('FY' in
    'Fiscal Year 2020', 'EEAS' in 'European External Action Service'; linking words aside)? For the abbreviations a
    document never defines as 'full name (ACR)'."""
    letters = [ch for ch in acronym.upper() if ch.isalpha()]
    words = re.findall(r"[A-Za-z][\w'’-]*", source_text)
    for i in range(len(words)):
        j, k = i, 0
        while j < len(words) and k < len(letters):
            w = words[j]
            if w.lower() in _LINK and k:
                j += 1
                continue
            if not (w[0].isupper() and w[0] == letters[k]):
                break
            j, k = j + 1, k + 1
        if k == len(letters):
            return True
    return False


_RUN = re.compile(r"\b[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)+")


def _modifier_of_named(name: str, claim: str, source_text: str, words: set[str], acronyms: dict[str, str]) -> bool:
    """Is the name a modifier in a multi-word name of the claim ('South' in 'South Korea') whose last word the
    source has ('Korea', also as 'ROK' for 'Republic of Korea'), with no other capitalised word before it
    in the source ('North Korea' is not 'South Korea')?"""
    for run in _RUN.findall(claim):
        parts = [fold(re.sub(r"['’]s$", "", w)) for w in run.split()]
        if name not in parts[:-1]:
            continue
        head = parts[-1]
        if not _name_in(head, fold(source_text), words, acronyms):
            return False
        others = {fold(m) for m in re.findall(rf"\b([A-Z][\w'’-]*)\s+{re.escape(run.split()[-1])}", source_text)}
        return not (others - set(parts))
    return False


def with_expansions(text: str, acronyms: dict[str, str]) -> str:
    """The text followed by the expansion of each acronym it uses ('ROK' -> 'Republic of Korea')."""
    used = {w.lower().rstrip("s") if w[:-1].isupper() and w.endswith("s") else w.lower() for w in ACRONYM.findall(text)}
    return " ".join([text, *(acronyms[a] for a in sorted(used) if a in acronyms)])


def support(claim: str, source_text: str, question: str, descriptor: str = "",
            acronyms: dict[str, str] | None = None, record: bool = False) -> float:
    """Share of the claim's content words found in the source; 0 if a number or proper name of the claim
    is not in the source. What the question supplies (its words) is given; a name or figure it supplies is
    given only when it describes the cited document (`descriptor`: 'the 2022 Compass', 'the EUISS brief'),
    never when it names a thing the source is not about: a date for one agreement cannot be moved to
    another ('When was the FPA with Moldova signed?' is not answered from the SDP's date). A table
    `record` is one statement about its row: its figures are not checked sentence by sentence."""
    a = set(content_tokens(claim))
    if not a:
        return 0.0
    acronyms = acronyms or {}
    source_text = with_expansions(source_text, acronyms)
    p = set(content_tokens(source_text))
    q = set(content_tokens(question))
    src_fold = fold(source_text)
    q_fold, d_fold = fold(question), fold(descriptor)
    claim_acronyms = {fold(w) for w in _ACRONYM_IN_CLAIM.findall(claim)}
    d = set(content_tokens(descriptor))
    from_source = False  # a figure or name of the claim that the source gives and the question does not
    for name in _names(claim):
        if name[0].isdigit():
            if not _figure_in(name, src_fold) and not (_figure_in(name, q_fold) and _figure_in(name, d_fold)):
                return 0.0  # figures must come from the source, as whole numbers ("3" is not in "2023")
            from_source = from_source or (_figure_in(name, src_fold) and not _figure_in(name, q_fold))
            continue
        in_source = _name_in(name, src_fold, p, acronyms)
        from_source = from_source or (in_source and name not in q_fold)
        if not in_source and not _modifier_of_named(name, claim, source_text, p, acronyms) \
                and not (name in claim_acronyms and _initials_in(name, source_text)):
            # a name the source lacks in any form, unless the question uses it for the document, or it is an
            # acronym of the question that the corpus never spells out (nothing to check it against)
            given = name in q_fold and (_name_in(name, d_fold, d, acronyms) or
                                        name in claim_acronyms and not expansion(name, acronyms))
            if not given:
                return 0.0
    if not record and _figure_of_another(claim, source_text):
        return 0.0
    for word in _ORDINALS & set(tokens(claim)):
        if word not in set(tokens(source_text)):
            return 0.0  # "the seventh partner": an ordinal the source does not state
    found = {t for t in a if t in p or t in q or present(t, p)}  # 'annual' is in 'annually'
    if not found - q and not from_source and (a - q):  # says something, but nothing of it from the source
        return 0.0
    return len(found) / len(a)


def _figure_of_another(claim: str, source_text: str) -> bool:
    """True if a figure of the claim appears in the source only in sentences about someone else: they
    name others and none of the claim's names ('the UK partnership was signed in 1994' quoting 'As for
    Norway, the Economic Area Agreement of 1994'). Only names the source itself uses elsewhere count: an
    acronym of the claim ('FPA') may stand for words of the source."""
    names = _names(claim)
    src = fold(source_text)
    words = {n for n in names if not n[0].isdigit() and n in src}
    if not words:
        return False
    sentences = [source_text[a:b] for a, b in sentence_spans(source_text)]
    for fig in (n for n in names if n[0].isdigit() and len(n) >= 2):
        pattern = re.compile(rf"(?<![\d.,/]){re.escape(fig)}(?![\d])")
        holding = [_names(s) for s in sentences if pattern.search(fold(s))]
        if holding and all(not (h & words) and (h - names) - {fig} for h in holding):
            return True
    return False


def best_quote(claim: str, chunk_text: str) -> tuple[int, int]:
    """Span (in chunk_text) of the one or two consecutive sentences that best support the claim."""
    spans = sentence_spans(chunk_text) or [(0, len(chunk_text))]
    a = set(content_tokens(claim))
    best, best_key = spans[0], (-1.0, 0)
    for i in range(len(spans)):
        for j in (i, i + 1):
            if j >= len(spans):
                continue
            s, e = spans[i][0], spans[j][1]
            hit = len(a & set(content_tokens(chunk_text[s:e])))
            key = (hit - 0.01 * (j - i), -(e - s))
            if key > best_key:
                best, best_key = (s, e), key
    return best


def _row_groups(record: str) -> dict[str, list[str]]:
    body = record.split("\u201d", 1)[-1]
    groups: dict[str, list[str]] = {}
    for m in _GROUP.finditer(body):
        groups[m.group("val").strip()] = [n.strip() for n in m.group("names").split(",")]
    return groups


def _check_row_list(claim: str, record: str, question: str = "") -> tuple[str, str] | None:
    """For a claim reading a mark-table row: None if consistent, else (value, group text) to state instead.

    A positive claim must name exactly the columns of one included mark (yes/marked); a negated claim
    ("without", "not", "leave out") may name only columns whose mark is negative.
    """
    groups = _row_groups(record)
    if len(groups) < 2:
        return None
    c = fold(claim)
    named = {v: [n for n in names if re.search(rf"\b{re.escape(fold(n))}\b", c)] for v, names in groups.items()}
    hit_groups = [v for v, ns in named.items() if ns]
    if not hit_groups:
        return None
    negative = [v for v in groups if v.startswith(("no", "not marked", "none"))]
    positive = [v for v in groups if v not in negative]
    # A negated question wants the negative side. A claim that copies the whole row names both marks ("no
    # (✗) for A; yes (✓) for B"), so only the question says which side is wanted; otherwise the claim's own
    # words count too ("no (✗) for A" is a negated claim).
    both = any(v in negative for v in hit_groups) and any(v in positive for v in hit_groups)
    negated = NEGATION.search(question) or (not both and NEGATION.search(claim))
    if negated:
        if all(v in negative for v in hit_groups) or not negative:
            return None
        value = negative[0]
    else:
        if len(hit_groups) == 1 and hit_groups[0] in positive and set(named[hit_groups[0]]) == set(
                groups[hit_groups[0]]):
            return None
        if sum(v in positive for v in hit_groups) > 1:
            # the claim lumps together columns the row tells apart ('Already exists' for some, ✓ for others)
            return positive[0], "; ".join(f"{v} for {', '.join(groups[v])}" for v in positive)
        value = next((v for v in positive if v.startswith(("yes", "marked"))), positive[0] if positive else
                     max(hit_groups, key=lambda v: len(named[v])))
    return value, f"{value} for {', '.join(groups[value])}"


def check_answer(raw: str, evidence: list[Evidence], question, known: Known | None = None) -> Checked:
    """Keep supported sentences, renumber citations in marker order, quote verbatim spans. With `known`
    (see `Known`), a sentence naming a document must rest on that document, and a document's descriptors
    and the corpus's acronyms count as what its sources say."""
    known = known or Known()
    parts = getattr(question, "parts", None)  # a Question (analysed once), or the question's text
    question = getattr(question, "text", question)
    parts = parts or question_parts(question)
    by_n = {e.n: e for e in evidence}
    claims = split_claims(raw)
    refused = bool(_REFUSAL.search(raw)) and not any(c.cites for c in claims if not _REFUSAL.search(c.text))
    # "Which ...?" / "Who ...?" is answered only by naming something the question does not already name.
    # (every part of it: in "Which pact ..., and how long ...?" a sentence may answer the second part)
    asks_for_names = all(ASKS_FOR_NAMES.search(part) for part in parts)
    titles = {t for e in evidence for t in content_tokens(e.chunk.title)}
    kept: list[tuple[str, list[tuple[Evidence, tuple[int, int]]]]] = []
    dropped: list[str] = []
    repaired = 0
    for claim in claims:
        if _REFUSAL.search(claim.text):
            if not claim.cites:
                continue
            refused = True
        if asks_for_names and not _names_something(claim.text, question, titles):
            dropped.append(claim.text)
            continue
        candidates = [by_n[n] for n in claim.cites if n in by_n]
        scored = [(_support(claim.text, e, evidence, question, known), e) for e in candidates]
        good = [(s, e) for s, e in scored if s >= SUPPORT_THRESHOLD]
        if not good:  # wrong or missing marker: does another source support it?
            good = _best_other(claim.text, [e for e in evidence if e not in candidates], evidence, question, known)
        named, cues = _named_sources(claim.text, known.doc_cues)
        if good and named and not any(_speaks_for(e, named, cues) for _, e in good):
            # "The EUISS brief gives 23 [4]" where [4] is another document that does not report the EUISS:
            # only the named document, or one that reports it, may support the sentence
            good = _best_other(claim.text, [e for e in evidence if _speaks_for(e, named, cues)], evidence, question,
                               known)
        if not good:
            dropped.append(claim.text)
            continue
        good.sort(key=lambda x: -x[0])
        text = claim.text
        rows = [e for _, e in good if e.chunk.kind == "table_row"]
        consistent = [e for e in rows if _check_row_list(text, e.chunk.text, question) is None]
        if rows and not consistent:
            # the claim misreads its table row: restate the row if the question is about it, else drop it
            e = max(rows, key=lambda r: _label_overlap(r, question))
            if _label_overlap(e, question) < 0.5:
                dropped.append(claim.text)
                continue
            value, group = _check_row_list(text, e.chunk.text, question)  # type: ignore[misc]
            label = e.chunk.locator.split(": ", 1)[-1]
            text = f"{e.chunk.locator.split(',')[0]} marks \u201c{label}\u201d as {group}"
            repaired += 1
            consistent = [e]
        sources = []
        for _, e in good[:3]:
            if e.chunk.kind == "table_row":
                if e in consistent:
                    sources.append((e, (0, len(e.chunk.text))))
            else:
                sources.append((e, best_quote(text, e.chunk.text)))
        if not sources:
            dropped.append(claim.text)
            continue
        kept.append((text, sources[:2] + _notes_needed(text, sources[0][0], evidence, question, known)))
    citations: list[Citation] = []
    index: dict[tuple[str, int, int], int] = {}
    parts = []
    for text, sources in kept:
        marks = []
        for e, (s, t) in sources:
            key = (e.chunk.id, s, t)
            if key not in index:
                index[key] = len(citations) + 1
                c = e.chunk
                citations.append(Citation(
                    n=index[key], source=c.source, title=c.title, locator=c.locator, quote=c.text[s:t],
                    chunk_id=c.id, start=c.start + s, end=c.start + t,
                ))
            if f"[{index[key]}]" not in marks:  # a sentence citing one source twice ("[2][2]") cites it once
                marks.append(f"[{index[key]}]")
        body = text.rstrip()
        end = body[-1] if body[-1] in ".!?" else "."
        body = body.rstrip(".!?")
        parts.append(f"{body} {''.join(marks)}{end}")
    return Checked(" ".join(parts), citations, dropped, refused, repaired)


_FURNITURE = re.compile(r"\b(?:Table|Figure|Annex|Footnote|row|column)\s+\d+\b")


def _support(claim: str, e: Evidence, evidence: list[Evidence], question: str, known: Known) -> float:
    """`support` of a claim by one source: its context (with the footnotes it calls among `evidence`),
    its document's descriptors and the corpus's acronyms."""
    return support(claim, _context(e, evidence), question, known.descriptors.get(e.chunk.source, ""),
                   known.acronyms, record=e.chunk.kind in ("table_row", "table_column"))


def _best_other(claim: str, pool: list[Evidence], evidence: list[Evidence],
                question: str, known: Known) -> list[tuple[float, Evidence]]:
    """The source of `pool` that supports the claim best, with its score ([] if none does)."""
    scored = [(_support(claim, e, evidence, question, known), e) for e in pool]
    return sorted([(s, e) for s, e in scored if s >= SUPPORT_THRESHOLD], key=lambda x: -x[0])[:1]


def _named_sources(claim: str, doc_cues: dict[str, set[str]]) -> tuple[set[str], set[str]]:
    """The documents a claim names by an acronym that points at one of them ('the EUISS brief'), and those
    acronyms; none if it names them all alike."""
    acronyms = {w.lower() for w in ACRONYM.findall(claim)}
    named = {src for src, cues in doc_cues.items() if cues & acronyms}
    if not named or len(named) == len(doc_cues):
        return set(), set()
    return named, acronyms & set().union(*(doc_cues[src] for src in named))


def _speaks_for(e: Evidence, named: set[str], cues: set[str]) -> bool:
    """Is `e` from a named document, or does it itself report that document ('an earlier EUISS paper')?"""
    return e.chunk.source in named or bool(cues & set(tokens(e.chunk.text)))


def _names_something(claim: str, question: str, titles: set[str] = frozenset()) -> bool:
    """Does the claim name anything the question does not already name: a proper name or figure, or a
    list of plain nouns ('crisis management, maritime security; ...')? 'The SDPs cover space security'
    restates the question and answers nothing, even in the words of a document title (`titles`)."""
    claim = _FURNITURE.sub("", claim)  # 'Table 1 marks ...' names a place in a document, not an answer
    given = _names(question)
    if any(not present(n, given) for n in _names(claim) - _names(" ".join(question.split()[:1]))):
        return True  # a name the question does not use in any form ('Korea' is the question's 'Korean')
    listed = claim.count(",") + claim.count(";") >= 2 or ":" in claim
    return listed and len(set(content_tokens(claim)) - set(content_tokens(question)) - set(titles)) >= 2


def _label_overlap(e: Evidence, question: str) -> float:
    return label_share(e.chunk.locator.split(": ", 1)[-1], set(content_tokens(question)))


def _notes_needed(claim: str, e: Evidence, evidence: list[Evidence], question: str, known: Known) -> list:
    """The footnotes of `e` among the sources, quoted, when the claim needs them to be supported."""
    c = e.chunk
    if c.kind != "text" or _support(claim, e, [], question, known) >= SUPPORT_THRESHOLD:
        return []
    return [(f, (0, len(f.chunk.text))) for f in _footnotes(e, evidence)]


def _footnotes(e: Evidence, evidence: list[Evidence]) -> list[Evidence]:
    """The footnotes that `e` calls (²³) and that are among the sources too."""
    c = e.chunk
    calls = {m.translate(_SUPERSCRIPT) for m in re.findall(r"[⁰¹²³⁴⁵⁶⁷⁸⁹]+", c.text)}
    return [f for f in evidence if calls and f.chunk.kind == "footnote" and f.chunk.source == c.source
            and f.chunk.locator.removeprefix("Footnote ") in calls]


_SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")


def _context(e: Evidence, evidence: list[Evidence] = ()) -> str:
    """What a source says: its title, section and text, and the text of any footnote it calls (²³) that
    is among the sources too ('the EP ... stressed that Russia ...²³' + 'European Parliament resolution')."""
    c = e.chunk
    return " ".join([c.title, c.section, c.text, *(f.chunk.text for f in _footnotes(e, evidence))])


def claim_tokens(text: str) -> list[str]:
    """Exposed for tests: the tokens a claim is judged on."""
    return tokens(text)
