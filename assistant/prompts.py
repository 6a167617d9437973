"""Prompts as named constants. The example is fictional on purpose: no corpus facts live in code."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .evidence import Evidence

__all__ = ["SYSTEM_PROMPT", "CANNOT_ANSWER", "user_prompt", "REFUSAL_PATTERN",
           "build_messages", "source_label"]

CANNOT_ANSWER = "I cannot answer this from the documents."

SYSTEM_PROMPT = f"""You answer questions using ONLY the numbered sources given with the question.
Rules:
- Answer the question directly: give the specific names, dates, numbers or items it asks for.
- Answer in one to three short sentences.
- End every sentence with the number of the source it comes from, like [2].
- If the question asks which ones, list every item the source gives for it and no others.
- Copy names, numbers and dates exactly as the source writes them.
- In table rows, yes (✓) and marked (x) mean included; no (✗) and not marked mean not included.
- If the sources do not answer the question, reply exactly: {CANNOT_ANSWER}

Example
Sources:
[1] Fisheries report — Table 3 – Content of the fisheries agreements (FAs), row “Joint patrols” (Area): \
yes (✓) for Iceland, Faroe Islands; no (✗) for Greenland, Norway.
[2] Fisheries report — Dialogues: The first fisheries dialogue with Iceland took place on 3 March 2021.
Question: Which FAs provide for joint patrols, and when was the first dialogue with Iceland?
Answer: The fisheries agreements with Iceland and the Faroe Islands provide for joint patrols [1]. \
The first fisheries dialogue with Iceland took place on 3 March 2021 [2]."""

REFUSAL_PATTERN = (
    r"(cannot answer|can ?not be answered|unable to answer|do(es)? not (contain|say|state|mention|specify|provide|"
    r"include|indicate)|not (mentioned|stated|specified|provided|available|included) in|no information|"
    r"there is no mention|not enough information|sources do not)"
)


def user_prompt(question: str, sources: list[tuple[int, str, str]]) -> str:
    """The user message: numbered sources (n, label, text), then the question."""
    lines = ["Sources:"]
    for n, label, text in sources:
        lines.append(f"[{n}] {label} — {text}")
    lines.append("")
    lines.append(f"Question: {question}")
    lines.append("Answer:")
    return "\n".join(lines)


def source_label(e: Evidence) -> str:
    """Short provenance for the prompt: document title, and the section for prose (records carry their own)."""
    c = e.chunk
    title = c.title if len(c.title) <= 50 else c.title[:47] + "..."
    if c.kind == "text" and c.section:
        return f"{title} — {c.section.split(' > ')[-1][:60]}"
    return title


def build_messages(question: str, evidence: list[Evidence], system: str = SYSTEM_PROMPT) -> list[dict]:
    """The chat messages of one generation: the system prompt, then the numbered sources and the question."""
    sources = [(e.n, source_label(e), e.text) for e in evidence]
    return [{"role": "system", "content": system},
            {"role": "user", "content": user_prompt(question, sources)}]

