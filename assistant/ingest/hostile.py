"""Text addressed to an AI rather than to a reader, found and removed before cleaning.

A paragraph that tells "automated summary tools" or "AI assistants" what to say would be obeyed by a model
that reads it, and what the model then writes passes the citation check, because the document says it.
So such paragraphs (and table rows) are removed at ingest and named in the index summary and the log.

A sentence is an instruction when it
- uses a known injection phrase ("ignore your instructions", "system prompt", "note to the assistant",
  "you are now an AI", "answer only with"), or
- is addressed to a tool that reads this text (summary tools, summarisers, assistants, chatbots, language
  models, "automated tools/readers/systems", "AI tools/readers/agents") and tells it to say or do something
  ("are expected to state", "should answer", "must tell", "please respond"), or
- is addressed to AI systems or models in general with such a directive *and* points at this text or its
  reading ("this document", "when summarising", "in their answers", "the user").
Policy prose about AI names providers, deployers, an Act or an Article, and is left alone: "the EU AI Act
requires providers of AI systems to inform users ..." is not an instruction (tests/test_hostile_text.py).
"""

from __future__ import annotations

import logging
import re

from ..types import Table

__all__ = ["instruction_sentences", "strip_instructions", "strip_table_instructions"]

log = logging.getLogger(__name__)

_PHRASES = re.compile(
    r"\b(?:ignore|disregard|forget|override)\b[^.\n]{0,40}\b(?:instructions?|prompts?|rules|guidelines)\b"
    r"|\b(?:system prompt|(?:notice|message|note|instructions?) (?:to|for) (?:the |any |all )?"
    r"(?:assistants?|ai|models?|llms?|chatbots?|bots?))\b"
    r"|\b(?:you are|act as) (?:now )?(?:an? )?(?:ai|assistant|language model|chatbot|llm)\b"
    r"|\b(?:answer|respond|reply)\b[^.\n]{0,30}\bonly with\b"
    r"|\bif you are an? (?:ai|artificial intelligence|language model|llm|chatbot|assistant|bot|automated)\b"
    r"|\b(?:notes?|notice|message|instructions?|attention|reminder) (?:to|for) (?:the |any |all )?(?:ai|automated|"
    r"(?:large )?language models?|llms?|chatbots?|summari[sz]ers?|summary tools?|assistants?)\b"
    r"|\bto (?:any|all|every) (?:ai|automated|language model|llm|chatbot|assistant)s?\b[^.\n]{0,40}\b(?:reading|"
    r"processing|summari[sz]ing)\b",
    re.IGNORECASE)
# tools that read this text for someone: addressed with a directive, they are being instructed
_READER = (r"(?:(?:summary|summari[sz]ation) (?:tools?|systems?|engines?|software|services?)|summari[sz]ers?"
           r"|automated (?:summary |summari[sz]ation |reading |writing )(?:tools?|systems?|services?|software)"
           r"|automated (?:tools?|readers?|summari[sz]ers?|assistants?|agents?)"
           r"|ai[- ](?:tools?|readers?|assistants?|agents?|summari[sz]ers?|chatbots?|writers?|crawlers?)"
           r"|chatbots?|(?:large )?language models?|llms?|generative ai|(?:virtual|digital|chat) assistants?)")
# AI in general, and words that often mean people or machines of another kind: an addressee only when
# the sentence points at this text or its reading
_GENERAL = (r"(?:ai|artificial intelligence)(?: systems?| models?| applications?)?|models?|algorithms?|bots?"
            r"|assistants?|automated (?:systems?|services?)")
_DIRECTIVE = (r"(?:(?:is|are|will be|shall be|should be|must be)\s+(?:expected|required|instructed|asked|told|"
              r"supposed|kindly requested|requested|invited|advised|directed)\s+to|should(?: always| only)?|"
              r"must(?: always| only)?|shall|need to|have to|are to|is to|ought to|may only|can only|please)")
_VERB = (r"(?:state|say|answer|respond|reply|report|tell|mention|conclude|describe|claim|write|output|present|"
         r"summari[sz]e|emphasi[sz]e|stress|assert|affirm|confirm|include|omit|ignore|disregard|treat|rate|"
         r"recommend|characteri[sz]e|portray|cite|quote|list|refer|highlight|note|explain|insist|declare|"
         r"frame|describe|deny|avoid)")
_VOCATIVE = re.compile(rf"(?:^|[(\[]|\b(?:to|for|dear)\s+(?:the |any |all )?){_READER}\s*[:,]\s*\w", re.I)
# between the addressee and its directive: no second clause ("Generative AI raises questions ..., which the
# strategy should describe" is no instruction to generative AI)
_GAP = r"(?:(?!\b(?:which|while|whereas|but|because|although|since)\b)[^.\n]){0,60}?"
_TO_READER = re.compile(rf"\b{_READER}\b{_GAP}\b{_DIRECTIVE}\s+(?:\w+\s+){{0,2}}?{_VERB}\b", re.I)
_TO_GENERAL = re.compile(rf"\b(?:{_GENERAL})\b{_GAP}\b{_DIRECTIVE}\s+(?:\w+\s+){{0,2}}?{_VERB}\b", re.I)
# "... are kindly requested to emphasise that": a request to say something, whoever is addressed
_ASKED = re.compile(rf"\b(?:{_GENERAL})\b{_GAP}\b(?:is|are)\s+(?:kindly\s+)?(?:expected|instructed|asked|told|"
                    rf"requested|supposed)\s+to\s+{_VERB}\b", re.I)
_THIS_TEXT = re.compile(
    r"\b(?:this|the present|the following|the above) (?:document|text|report|page|passage|paper|brief(?:ing)?|"
    r"article|section|file|study|analysis|note|publication)\b|\b(?:reading|processing|summari[sz]ing|"
    r"analy[sz]ing|parsing|ingesting|indexing|quoting)\b|\bsummar(?:y|ies)\b|\b(?:their|its|any|all) "
    r"(?:answers?|responses?|outputs?|replies)\b|\bthe user\b|\bquestions? about\b|\bwhen asked\b", re.I)
_POLICY = re.compile(r"\b(?:providers?|deployers?|developers?|manufacturers?|operators?|importers?|distributors?|"
                     r"Act|Regulation|Directive|Article \d+|obligations?|Member States?|the Commission|"
                     r"Parliament|Council)\b")
_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+[)\]\"”’']*|$)")


def instruction_sentences(text: str) -> list[str]:
    """The sentences of `text` that instruct an AI (see the module docstring)."""
    out = []
    for m in _SENTENCE.finditer(text):
        s = m.group(0).strip()
        if not s:
            continue
        if _PHRASES.search(s) or _VOCATIVE.search(s):
            out.append(s)
        elif (_TO_READER.search(s) or _ASKED.search(s)) and not _POLICY.search(s):
            out.append(s)
        elif _TO_GENERAL.search(s) and _THIS_TEXT.search(s) and not _POLICY.search(s):
            out.append(s)
    return out


def _excerpt(s: str, n: int = 80) -> str:
    s = re.sub(r"\s+", " ", s).strip()
    return s if len(s) <= n else s[: n - 1].rstrip() + "…"


def strip_instructions(raw: str, notes: list[str] | None = None, source: str = "") -> str:
    """`raw` without its paragraphs that instruct an AI; each removal is noted (with the passage) and logged."""
    paragraphs = re.split(r"(\n\s*\n)", raw)
    removed: list[str] = []
    for i in range(0, len(paragraphs), 2):
        found = instruction_sentences(paragraphs[i])
        if found:
            removed.append(found[0])
            log.warning("%s: removed a paragraph addressed to an AI: %r", source or "document", _excerpt(found[0]))
            paragraphs[i] = ""
    if removed and notes is not None:
        quoted = "; ".join(f"\u201c{_excerpt(s)}\u201d" for s in removed[:3]) + (" …" if len(removed) > 3 else "")
        notes.append(f"removed {len(removed)} paragraph{'s' if len(removed) > 1 else ''} of instructions to an AI"
                     f": {quoted}")
    return "".join(paragraphs) if removed else raw


def strip_table_instructions(tables: list[Table], notes: list[str] | None = None, source: str = "") -> None:
    """Drop table rows (of typed tables) whose cells instruct an AI, noting each."""
    dropped: list[str] = []
    for t in tables:
        keep = []
        for label, values in t.rows:
            found = instruction_sentences(" ".join([label, *values]))
            if found:
                dropped.append(found[0])
                log.warning("%s: removed a table row addressed to an AI: %r", source or "document", _excerpt(found[0]))
            else:
                keep.append((label, values))
        t.rows = keep
    if dropped and notes is not None:
        notes.append(f"removed {len(dropped)} table row{'s' if len(dropped) > 1 else ''} of instructions to an AI"
                     f": \u201c{_excerpt(dropped[0])}\u201d")
