"""Small text utilities shared by chunking, retrieval and citation checks: sentences and word tokens."""

from __future__ import annotations

import re

__all__ = ["sentence_spans", "tokens", "content_tokens", "STOPWORDS", "fold", "label_share", "rarity",
           "weighted_hits", "present", "mentions", "label_terms", "initialisms", "quoted_phrases",
           "SUPERSCRIPT_DIGITS", "ACRONYM", "expansion"]

_ABBREV = re.compile(r"\b(e\.g|i\.e|etc|cf|pp?|No|Art|Dr|Mr|Ms|vs|Vol|op|cit|al|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|"
                     r"Sept|Oct|Nov|Dec|[A-Z])\.$")
SUPERSCRIPT_DIGITS = "⁰¹²³⁴⁵⁶⁷⁸⁹"
ACRONYM = re.compile(r"\b[A-Z]{2,}[a-z]?\b")  # 'EUISS', 'IDA', 'SDPs'
# '...; 2.' opens a list item, not a sentence end
_LIST_NUMBER = re.compile(rf"(?:^\s*|[;:][{SUPERSCRIPT_DIGITS}]*\s+)\d{{1,2}}\.$")
_BOUNDARY = re.compile(r"[.!?][\"”’')\]]*[⁰¹²³⁴⁵⁶⁷⁸⁹]*\s+(?=[\"“‘'(\[]?[A-Z0-9•])")

STOPWORDS = frozenset("""a an the and or but if of to in on at by for with from as is are was were be been being
this that these those it its their there which who whom what when where why how do does did done has have had
not no nor so than too very can could should would may might will shall must also such any all each both
into over under about between through during before after above below up down out off again further then once
here more most other some own same only just our we you your they them he she his her i me my
eu european union s""".split())
_WORD = re.compile(r"[A-Za-z0-9]+(?:[-'’][A-Za-z0-9]+)*")


def fold(text: str) -> str:
    """Lowercase with typographic quotes and dashes unified, for matching."""
    return (text.lower().replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
            .replace("–", "-").replace("—", "-"))


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Character spans of the sentences of text[start:end] (absolute offsets). A blank line ends a
    sentence too: a heading that opens a chunk is not part of the sentence after it."""
    end = len(text) if end is None else end
    return [p for s, e in _sentences(text, start, end) for p in _paragraph_parts(text, s, e)]


def _paragraph_parts(text: str, s: int, e: int) -> list[tuple[int, int]]:
    parts, start = [], s
    for m in _BLANK_LINE.finditer(text, s, e):
        if text[start:m.start()].strip():
            parts.append((start, m.start()))
        start = m.end()
    if text[start:e].strip():
        parts.append((start, e))
    return parts


_BLANK_LINE = re.compile(r"\n[ \t]*\n\s*")


def _sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans, s = [], start
    for m in _BOUNDARY.finditer(text, start, end):
        head = text[s:m.start() + 1]
        if _ABBREV.search(head) or _LIST_NUMBER.search(head):
            continue
        cut = m.end()
        stripped_end = cut
        while stripped_end > s and text[stripped_end - 1].isspace():
            stripped_end -= 1
        if stripped_end > s:
            spans.append((s, stripped_end))
        s = cut
    tail_end = end
    while tail_end > s and text[tail_end - 1].isspace():
        tail_end -= 1
    if tail_end > s:
        spans.append((s, tail_end))
    return spans


def _stem(w: str) -> str:
    if w.endswith(("ss", "us", "is")):  # 'discuss', 'consensus', 'crisis' are no plurals
        return w
    for suf in ("ies", "ing", "ed", "es", "s"):
        if w.endswith(suf) and len(w) - len(suf) >= 4:
            return w[: -len(suf)] + ("y" if suf == "ies" else "")
    return w


def tokens(text: str) -> list[str]:
    """Lowercased, lightly stemmed word tokens (hyphenated words also split into parts)."""
    out = []
    for w in _WORD.findall(fold(text)):
        w = w.replace("’", "'")
        if w.endswith("'s"):
            w = w[:-2]
        out.append(_stem(w))
        if "-" in w:
            out.extend(_stem(p) for p in w.split("-") if p)
    return out


def content_tokens(text: str) -> list[str]:
    """Tokens without stopwords."""
    return [t for t in tokens(text) if t not in STOPWORDS and len(t) > 1]


_ACR_DEF = re.compile(r"((?:[A-Za-z][\w'’-]*[\s/]+){1,9}?)\(\s*([A-Z][A-Za-z]{1,9})\s*\)")
_LINKING = {"and", "of", "the", "for", "on", "in", "to", "a", "an", "with", "&"}


def find_acronyms(text: str) -> dict[str, str]:
    """Acronyms defined in the text as 'full name (ACR)', e.g. {'sdp': 'security and defence partnerships'}."""
    out: dict[str, str] = {}
    for m in _ACR_DEF.finditer(text):
        acr = m.group(2)
        letters = [ch for ch in acr if ch.isupper()]
        if len(letters) < 2:
            continue
        words = m.group(1).split()
        i, need, start = len(words) - 1, len(letters) - 1, None
        while i >= 0 and need >= 0:
            w = words[i].strip("'’")
            if w.lower() in _LINKING:
                i -= 1
                continue
            if w[:1].upper() == letters[need]:
                need -= 1
                start = i
                i -= 1
            else:
                break
        if need < 0 and start is not None:
            key = acr.lower().rstrip("s") if acr.endswith("s") and acr[:-1].isupper() else acr.lower()
            out.setdefault(key, " ".join(words[start:]))
    return out


def expand_acronyms(question: str, acronyms: dict[str, str]) -> str:
    """The question with the expansion of each known acronym it uses appended in brackets."""
    extra = []
    for w in re.findall(r"\b[A-Z][A-Za-z]{1,9}\b", question):
        if sum(ch.isupper() for ch in w) < 2:
            continue
        key = w.lower().rstrip("s") if w.endswith("s") and w[:-1].isupper() else w.lower()
        exp = acronyms.get(key)
        if exp and fold(exp) not in fold(question) and exp not in extra:
            extra.append(exp)
    return f"{question} ({'; '.join(extra)})" if extra else question


def expansion(token: str, acronyms: dict[str, str]) -> str | None:
    """What an acronym token stands for ('sdps' as 'sdp'), if the corpus defines it."""
    return acronyms.get(token) or acronyms.get(token.rstrip("s"))


def label_share(label: str, question_tokens: set[str], idf=None) -> float:
    """Share of a table label's words that the question uses, each weighted by its rarity when `idf` is
    given: 'Space security and defence' is named by a question about space, not by every question that
    says 'security and defence'."""
    words = set(content_tokens(label))
    if not words:
        return 0.0
    weight = rarity(words, idf)
    return weighted_hits(weight, question_tokens) / (sum(weight.values()) or 1.0)


def rarity(words, idf=None) -> dict[str, float]:
    """Each word's weight: its rarity (`idf`) when given, else 1."""
    return {w: (idf(w) if idf else 1.0) for w in words}


def weighted_hits(weight: dict[str, float], words: set[str]) -> float:
    """The summed weight of the weighted words that `words` contains."""
    return sum(v for w, v in weight.items() if w in words)


def present(token: str, words: set[str]) -> bool:
    """The token or a word sharing its stem ('participating' ~ 'participation', 'Korean' ~ 'Korea')."""
    if token in words:
        return True
    if "-" in token:  # 'eu-japan' is there when its parts are
        parts = [p for p in token.split("-") if p in content_tokens(p)]
        return bool(parts) and all(present(p, words) for p in parts)
    return len(token) >= 5 and any(len(w) >= 5 and abs(len(w) - len(token)) <= 3 and
                                   (w.startswith(token) or token.startswith(w)) for w in words)


def mentions(words: set[str], acronym: str, expansion: str) -> bool:
    """Do `words` hold the acronym or every word of its expansion (in some form)?"""
    return present(acronym, words) or all(present(w, words) for w in content_tokens(expansion))


_QUOTED = re.compile(r"(?:^|(?<=[\s(]))[\"“‘']([^\"“”‘’']{3,80}?)[\"”’'](?=[\s?.,;:!)]|$)")


def quoted_phrases(text: str) -> list[str]:
    """The phrases `text` puts in quotation marks, folded: "the 'common set of proposals'" gives
    ['common set of proposals']. An apostrophe ("Norway's") opens no quote."""
    return [fold(m.group(1)).strip() for m in _QUOTED.finditer(text)]


def label_terms(question: str) -> set[str]:
    """The question's words that can name a table label: its content words, and the initials of its
    capitalised runs ('United States' names the row 'US')."""
    return set(content_tokens(question)) | set(initialisms(question))


def initialisms(text: str) -> dict[str, list[str]]:
    """Initials of each run of capitalised words, lowercased, with the run's words: a table labels a row
    'US' where a question says 'United States'. {'us': ['united', 'states']}"""
    out: dict[str, list[str]] = {}
    for run in re.findall(r"\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)+", text):
        words = run.split()
        out["".join(w[0] for w in words).lower()] = [fold(w).lower() for w in words]
    return out


MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december")


def spell_date(iso: str) -> str:
    """An ISO date or month in words, beside the original: '2024-05' -> '2024-05 May 2024'."""
    m = re.fullmatch(r"((?:19|20)\d\d)(?:-(\d\d)(?:-(\d\d))?)?", iso.strip())
    if not m or not m.group(2) or not 1 <= int(m.group(2)) <= 12:
        return iso
    day = f"{int(m.group(3))} " if m.group(3) else ""
    return f"{iso} {day}{MONTHS[int(m.group(2)) - 1].capitalize()} {m.group(1)}"
