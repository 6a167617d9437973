"""Follow-up questions -> standalone questions, so every turn is answered (and cited) on its own.

"and which of those also cover maritime security?" after an answer naming Norway, Japan and South Korea
becomes "Which of Norway, Japan, South Korea also cover maritime security?". The configured LLM rewrites
when there is one and its rewrite passes a sanity check; otherwise deterministic rules do.

    >>> from assistant.conversation import Turn, standalone_question
    >>> standalone_question("and what about Japan?", [Turn("When was the SDP with Moldova signed?", "...")],
    ...                     llm="none").question
    'When was the SDP with Japan signed?'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .config import Settings
from .errors import AssistantError
from .text import content_tokens

__all__ = ["Turn", "Rewrite", "REWRITE_PROMPT", "is_follow_up", "standalone_question", "rewrite_by_rules"]

REWRITE_PROMPT = """You rewrite a follow-up question so that it can be understood without the conversation.
Replace words such as "those", "they", "it" or "what about" with the names or topics they refer to.
Keep the user's wording otherwise. Do not answer the question. Reply with the rewritten question only.

Example
Conversation:
User: Which countries signed fisheries agreements in 2021?
Assistant: Iceland and the Faroe Islands signed fisheries agreements in 2021 [1].
Follow-up: and which of them hold joint patrols?
Standalone question: Which of Iceland and the Faroe Islands hold joint patrols?"""


@dataclass
class Turn:
    """One earlier exchange: the (standalone) question and the answer text shown for it."""

    question: str
    answer: str = ""


@dataclass
class Rewrite:
    """The question to answer: `question` is standalone; `method` is 'unchanged', 'llm' or 'rules'."""

    original: str
    question: str
    method: str = "unchanged"

    @property
    def rewritten(self) -> bool:
        return self.method != "unchanged"


_LEAD = re.compile(r"^\s*(?:(?:and|but|also|so|ok(?:ay)?|then|now|well)\b[\s,]*)+", re.I)
_WHAT_ABOUT = re.compile(r"^\s*(?:and\s+|but\s+)?(?:what|how)\s+about\s+(.+?)\s*\??\s*$", re.I)
_REF = re.compile(r"\b(those|these|them|they|their|theirs|it|its|the same|that one|this one|the latter|the former)\b",
                  re.I)
_STRONG_REF = re.compile(r"\b(those|these|them|the same|that one|this one|the latter|the former)\b", re.I)
_PLURAL_REF = re.compile(r"\b(those|these|them|they)\b", re.I)
_CAP = r"[A-Z][\w'’.-]*(?:\s+(?:of\s+|the\s+)?[A-Z][\w'’.-]*)*"
_LIST = re.compile(rf"{_CAP}(?:(?:,\s*(?:and\s+)?|\s+and\s+){_CAP})+")
_MARKER = re.compile(r"\s*\[\d+\]")
_NOT_NAMES = {"Table", "Figure", "The", "A", "An", "In", "On", "It", "This", "These", "Those", "Source", "Sources",
              "Footnote", "EU", "European", "Union"}


def is_follow_up(question: str, history: list[Turn]) -> bool:
    """True when the question leans on the conversation (a leading 'and', 'what about', 'those', 'it')."""
    if not history:
        return False
    if _LEAD.match(question) or _WHAT_ABOUT.match(question) or _STRONG_REF.search(question):
        return True
    # "it", "its", "they": a follow-up only in a short question naming nothing of its own
    # ("When was it signed?"), not in "How much did the EU pay Georgia under its SDP?"
    return bool(_REF.search(question)) and not _proper_names(question) and len(question.split()) <= 10


def _names_listed(answer: str) -> list[str]:
    """The longest list of capitalised names in an answer ('Norway, Japan, South Korea')."""
    text = _MARKER.sub("", re.sub(r"<[^>]+>|[*_`]", "", answer))
    best: list[str] = []
    for m in _LIST.finditer(text):
        items = [s.strip().rstrip(".") for s in re.split(r",\s*(?:and\s+)?|\s+and\s+", m.group(0)) if s.strip()]
        items = [s for s in items if s.split()[0] not in _NOT_NAMES]
        if len(items) >= 2 and len(items) > len(best):
            best = items
    return best


def _proper_names(question: str) -> list[tuple[int, int]]:
    """Spans of capitalised words after the first word (candidate topics to swap in 'what about X')."""
    spans = []
    for m in re.finditer(r"[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*", question):
        if m.start() == 0 or m.group(0).split()[0] in _NOT_NAMES or m.group(0).isupper():
            continue
        spans.append((m.start(), m.end()))
    return spans


_QUESTION_WORD = re.compile(r"(which|what|who|whom|whose|when|where|why|how|does|do|did|is|are|was|were|can|could|"
                            r"will|would|should|has|have|had|list|name|give|tell|show|compare)\b", re.I)


def _swap_phrase(question: str, topic: str) -> str | None:
    """'Which SDPs cover space security?' + 'maritime security' -> 'Which SDPs cover maritime security?'
    (the phrase of the same length ending in the topic's head word is replaced)."""
    words = topic.rstrip("?. ").split()
    if not words:
        return None
    head = words[-1].lower()
    toks = question.rstrip("?. ").split()
    for i in range(len(toks) - 1, -1, -1):
        if toks[i].lower().strip(",;:") == head:
            j = max(0, i - len(words) + 1)
            return " ".join(toks[:j] + words + toks[i + 1:])
    return None


def _finish(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip().rstrip("?.! ")
    return (text[:1].upper() + text[1:] + "?") if text else text


def rewrite_by_rules(question: str, history: list[Turn]) -> str:
    """Deterministic rewrite: names listed in the last answer replace 'those'/'them'; 'what about X' swaps
    X into the last question; otherwise the last question is attached as context."""
    last = history[-1]
    about = _WHAT_ABOUT.match(question)
    q = _LEAD.sub("", question)
    if not about and q != question.strip() and not _QUESTION_WORD.match(q) and not _REF.search(q):
        about = _WHAT_ABOUT.match(f"what about {q}")  # "and maritime security?" = "what about maritime security?"
    if about:
        topic = about.group(1).strip()
        names = _proper_names(last.question)
        if topic[:1].isupper() and names:
            s, e = names[-1]
            return _finish(last.question[:s] + topic + last.question[e:])
        swapped = _swap_phrase(last.question, topic)
        if swapped:
            return _finish(swapped)
        return _finish(f"{last.question.rstrip('?. ')}, regarding {topic}")
    names = _names_listed(last.answer)
    if names and _PLURAL_REF.search(q):
        listed = ", ".join(names)
        q2 = re.sub(r"\b(?:which|who)\s+of\s+(?:those|these|them)\b", lambda m: f"{m.group(0).split()[0]} of {listed}",
                    q, count=1, flags=re.I)
        if q2 == q:
            q2 = _PLURAL_REF.sub(listed, q, count=1)
        return _finish(q2)
    if _REF.search(q) or q != question.strip():
        return _finish(f"{q.rstrip('?. ')} (following up on: {last.question.rstrip('?. ')})")
    return _finish(q)


def _llm_rewrite(question: str, history: list[Turn], settings: Settings) -> str | None:
    from .generate import get_generator

    generator = get_generator(settings)
    if generator is None:
        return None
    lines = ["Conversation:"]
    for t in history[-2:]:
        lines.append(f"User: {t.question}")
        answer = _MARKER.sub("", re.sub(r"<[^>]+>", "", t.answer)).strip()
        lines.append(f"Assistant: {answer[:400]}")
    lines += [f"Follow-up: {question}", "Standalone question:"]
    messages = [{"role": "system", "content": REWRITE_PROMPT}, {"role": "user", "content": "\n".join(lines)}]
    try:
        out = generator.generate(messages, max_tokens=60)  # ~150 prompt tokens + 60 out ~ 5 s on 2 cores
    except AssistantError:
        return None
    out = out.strip().splitlines()[0].strip() if out.strip() else ""
    out = re.sub(r"^(standalone question|question)\s*:\s*", "", out, flags=re.I).strip(" \"'“”")
    return out if _plausible(out, question, history[-1].question) else None


def _plausible(rewrite: str, question: str, previous: str) -> bool:
    """A rewrite must be one question of sane length that keeps what the follow-up adds to the previous
    question (a small model's typical failure is repeating the previous question)."""
    if not (8 <= len(rewrite) <= 300) or not rewrite.endswith("?") or "[" in rewrite:
        return False
    asked = set(content_tokens(_REF.sub(" ", _LEAD.sub("", question))))
    kept = set(content_tokens(rewrite))
    new = asked - set(content_tokens(previous))
    if new:
        return new <= kept
    return not asked or len(asked & kept) / len(asked) >= 0.6


def standalone_question(question: str, history: list[Turn], **overrides) -> Rewrite:
    """The question to answer for this turn: unchanged unless it is a follow-up, then rewritten by the
    configured LLM (checked) or by rules.

    Args:
        question: what the user typed.
        history: earlier turns of this conversation, oldest first.
        **overrides: Settings fields (e.g. ``llm="none"`` for the rules only).
    """
    q = re.sub(r"\s+", " ", question).strip()
    if not is_follow_up(q, history):
        return Rewrite(question, q)
    settings = Settings.load(**overrides)
    if settings.llm != "none":
        out = _llm_rewrite(q, history, settings)
        if out:
            return Rewrite(question, out, "llm")
    return Rewrite(question, rewrite_by_rules(q, history), "rules")
