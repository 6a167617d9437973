"""question -> retrieve -> select evidence -> generate -> verify citations -> Answer."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from . import store
from .citations import check_answer, split_claims, support
from .compose import FALLBACK_MIN_OVERLAP, FALLBACK_NOTICE, cited_evidence, extractive, finish, supplement
from .config import Settings
from .embed import get_embedder
from .errors import CorpusError, GeneratorError, InputError
from .evidence import (
    focus,
    question_parts,
    select_evidence,
    values,
)
from .followup import for_name, left_out, misordered
from .generate import get_generator
from .indexer import ensure_index
from .lookup import COLUMN_NOTICE, column_lookup, dated_row, table_lookup, term_row
from .prompts import FOCUSED_PROMPT, SEND_BACK, build_messages
from .retrieve import Retriever
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
    build = store.current_build(settings)  # a folder, or a build on the Chroma server
    with _plock:
        r = _pipelines.get(build)  # type: ignore[arg-type]
        if r is None:
            r = Retriever(store.IndexHandle(build), get_embedder())  # type: ignore[arg-type]
            _pipelines.clear()
            _pipelines[build] = r  # type: ignore[index]
        return r


def retrieve(question: str, **overrides) -> list[Hit]:
    """Fused hits for a question (the retrieval step alone)."""
    settings = Settings.load(**overrides)
    q = validate_question(question, settings)
    return get_retriever(settings).search(q, settings.candidates)


FOCUS_SOURCES = 2  # sources in the second attempt after a refusal


MAX_GENERATIONS = 2  # per question, all steps together (issue: at most two; each costs ~5-15 s here)


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
    rows, more = column_lookup(q, evidence, retriever, len(evidence) + 1) if settings.on("column_lookup") else ("", [])
    looked_up = rows and finish(q, rows, evidence + more, hits, settings, "table", "lookup", t0, retriever,
                                 notice=COLUMN_NOTICE)
    if looked_up and not looked_up.abstained:
        yield StreamEvent("answer", answer=looked_up)
        return
    if generator is None:
        raw = extractive(q, evidence, retriever.idf)
        yield StreamEvent("answer", answer=finish(q, raw, evidence, hits, settings, "none", "extractive", t0,
                                                   retriever))
        return
    lock = getattr(generator, "lock", None)
    if lock is not None and lock.locked():
        yield StreamEvent("status", "waiting for the local model (another question is being answered)")
    pieces: list[str] = []
    messages = build_messages(q, evidence)
    generations = 1  # at most MAX_GENERATIONS per question: the first answer and one more
    try:
        for piece in generator.stream(messages, settings.max_tokens):
            pieces.append(piece)
            yield StreamEvent("token", piece)
        latest = first = check_answer("".join(pieces), evidence, q, retriever.known)
        if settings.on("send_back") and not first.citations and not first.refused and \
                not table_lookup(q, evidence, retriever.idf) and \
                not supplement(q, "", evidence, idf=retriever.idf, minimum=FALLBACK_MIN_OVERLAP):
            # Send the answer back once. The conversation prefix is unchanged, so llama.cpp reuses its
            # cache and only the feedback and the new answer cost time.
            yield StreamEvent("status", "checking citations: asking the model to revise its answer")
            generations += 1
            messages += [{"role": "assistant", "content": "".join(pieces)}, {"role": "user", "content": SEND_BACK}]
            pieces = []
            for piece in generator.stream(messages, settings.max_tokens):
                pieces.append(piece)
                yield StreamEvent("token", piece)
            latest = check_answer("".join(pieces), evidence, q, retriever.known)
        if settings.on("focus") and latest.refused and len(evidence) > FOCUS_SOURCES and \
                generations < MAX_GENERATIONS:
            generations += 1
            # Ask once more with only the closest sources: the refusal of a small model is often a
            # distraction by the others. Every check still applies to what it answers.
            narrow = focus(q, evidence, FOCUS_SOURCES, retriever.idf)
            yield StreamEvent("status", f"no answer in {len(evidence)} passages; asking again with the "
                                        f"{len(narrow)} closest")
            pieces = []
            for piece in generator.stream(build_messages(q, narrow, FOCUSED_PROMPT), settings.max_tokens):
                pieces.append(piece)
                yield StreamEvent("token", piece)
    except GeneratorError as e:
        if settings.on_llm_error != "extractive":
            raise
        raw = extractive(q, evidence, retriever.idf)
        yield StreamEvent("answer", answer=finish(q, raw, evidence, hits, settings, "none", "extractive", t0,
                                                   retriever, notice=f"generator unavailable ({e}); extractive answer"))
        return
    raw = "".join(pieces)
    checked = check_answer(raw, evidence, q, retriever.known)
    cited = cited_evidence(evidence, checked.citations)
    notice = ""
    if not checked.citations and settings.on("fallback"):
        # The model found nothing it could support: a table row the question names, or failing that (and
        # only if the model did not say the sources lack the answer) the evidence sentence that matches
        # the question best, answers verbatim and is checked like any answer.
        fallback = table_lookup(q, evidence, retriever.idf) or ("" if checked.refused else supplement(
            q, "", evidence, idf=retriever.idf, minimum=FALLBACK_MIN_OVERLAP))
        if fallback:
            raw = fallback
            notice = FALLBACK_NOTICE
    elif checked.citations and not checked.refused and not any(e.chunk.kind == "table_row" for e in cited) \
            and settings.on("supplement"):
        quotes = [c.quote for c in checked.citations]
        added: list[str] = []
        parts = question_parts(q)
        for part in parts:  # each part of a two-part question may lack its sentence
            # a quote the answer cites may hold what its text leaves out ("EEAS" beside "PSC authorises")
            extra = supplement(part, f"{checked.text} {' '.join(added)}", evidence,
                                quotes if len(parts) == 1 else None, idf=retriever.idf)
            if extra and extra not in added:
                added.append(extra)
        raw = " ".join([raw.rstrip(), *added]).strip()
    if checked.citations and not checked.refused:
        for row in (dated_row(q, checked.text, evidence, retriever.idf) if settings.on("dated_row") else "",
                    term_row(q, cited, evidence, retriever.domain_acronyms, retriever.idf)
                    if settings.on("term_row") else ""):
            if row and row not in raw:
                raw = f"{raw.rstrip()} {row}"
        # A question about several named things ('Did Japan or South Korea sign first?') is often answered
        # for one of them: ask again for each one left out, over the passages about it.
        omitted = left_out(q, checked.text, retriever.common_words) if settings.on("per_name") else []
        for run, name in omitted[:max(0, MAX_GENERATIONS - generations)]:
            generations += 1
            yield StreamEvent("status", f"the answer leaves out {name}: asking about it")
            try:
                extra, more = for_name(q, run, name, settings, retriever, generator, len(evidence) + 1,
                                        values(raw))
            except GeneratorError:
                break
            if extra:
                raw = f"{raw.rstrip()} {extra}"
                evidence = evidence + more
        if settings.on("misordered"):
            raw = misordered(q, raw, retriever.common_words)  # "X came first" against the dates it gives
    final = finish(q, raw, evidence, hits, settings, generator.backend, generator.model, t0, retriever,
                    notice=notice)
    lookup = table_lookup(q, evidence, retriever.idf) if final.abstained and not notice and \
        settings.on("table_lookup") else ""
    if lookup:  # the question names a table row the answer did not read: the row itself answers
        looked_up = finish(q, lookup, evidence, hits, settings, generator.backend, generator.model, t0,
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
