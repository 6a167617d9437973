"""question -> retrieve -> select evidence -> generate -> verify citations -> Answer."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from . import store
from .citations import check_answer
from .compose import FALLBACK_NOTICE, best_passage, extractive, finish
from .config import Settings
from .embed import get_embedder
from .errors import CorpusError, GeneratorError
from .evidence import Evidence, question_parts, select_evidence
from .generate import get_generator
from .indexer import ensure_index
from .lookup import COLUMN_NOTICE, column_lookup, table_lookup
from .prompts import build_messages
from .question import Question, analyse, validate_question
from .retrieve import Retriever
from .types import Answer, Hit

__all__ = ["answer", "stream_answer", "StreamEvent", "retrieve", "validate_question", "get_retriever",
           "question_parts", "respond", "final_answer"]

_pipelines: dict[Path, Retriever] = {}
_plock = threading.Lock()


@dataclass
class StreamEvent:
    """A streamed piece: kind 'status' (progress text), 'token' (raw generated text) or 'answer' (final)."""

    kind: str
    text: str = ""
    answer: Answer | None = None


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


def stream_answer(question: str, **overrides) -> Iterator[StreamEvent]:
    """Like `answer` but yields progress and generated text as they come, then the checked Answer last.

    The steps: analyse the question once; retrieve; select evidence; answer a column filter from the
    table itself; generate (one generation); verify every sentence against the source it cites, letting
    the named table row or best passage stand in when nothing generated is supported; compose the Answer."""
    t0 = time.perf_counter()
    settings = Settings.load(**overrides)
    text = validate_question(question, settings)
    yield StreamEvent("status", "searching the documents")
    retriever = get_retriever(settings)
    q = analyse(text)
    hits = retriever.search(q.text, settings.candidates)
    evidence = select_evidence(q.text, hits, settings.top_k, settings.evidence_words, retriever.idf,
                               retriever.domain_acronyms)
    yield from respond(q, hits, evidence, settings, retriever, get_generator(settings), t0)


def respond(q: Question, hits: list[Hit], evidence: list[Evidence], settings: Settings, retriever: Retriever,
            generator, t0: float) -> Iterator[StreamEvent]:
    """Everything after evidence selection (also the llama-index synthesizer's path, `llamaindex.py`): a
    column filter answered from the table itself; one generation (or the extractive answer when `generator`
    is None); the citation check, with the named table row or best passage standing in when nothing
    generated is supported; the composed Answer, last."""
    def done(raw: str, evidence: list[Evidence], backend: str, model: str, notice: str = "") -> Answer:
        return finish(q, raw, evidence, hits, settings, backend, model, t0, retriever, notice)

    # 'Which ... are signed but not yet in force?': the table's rows answer completely, without a model
    rows, more = column_lookup(q, evidence, retriever, len(evidence) + 1) if settings.on("column_lookup") else ("", [])
    looked_up = rows and done(rows, evidence + more, "table", "lookup", COLUMN_NOTICE)
    if looked_up and not looked_up.abstained:
        yield StreamEvent("answer", answer=looked_up)
        return
    if generator is None:
        raw = extractive(q, evidence, retriever.table_rows, retriever.idf)
        yield StreamEvent("answer", answer=done(raw, evidence, "none", "extractive"))
        return
    try:
        raw = yield from _generate(q, evidence, generator, settings)
    except GeneratorError as e:
        if settings.on_llm_error != "extractive":
            raise
        raw = extractive(q, evidence, retriever.table_rows, retriever.idf)
        yield StreamEvent("answer", answer=done(raw, evidence, "none", "extractive",
                                                f"generator unavailable ({e}); extractive answer"))
        return
    yield StreamEvent("status", "checking citations")
    stand_in = _stand_in(q, raw, evidence, settings, retriever)
    final = done(stand_in or raw, evidence, generator.backend, generator.model, FALLBACK_NOTICE if stand_in else "")
    lookup = table_lookup(q, evidence, retriever.table_rows, retriever.idf) if final.abstained and not stand_in \
        and settings.on("table_lookup") else ""
    if lookup:  # the question names a table row the answer did not read: the row itself answers
        looked_up = done(lookup, evidence, generator.backend, generator.model, FALLBACK_NOTICE)
        final = final if looked_up.abstained else looked_up
    yield StreamEvent("answer", answer=final)


def _generate(q: Question, evidence: list[Evidence], generator, settings: Settings):
    """The generation step: one answer over the numbered sources. Yields events; returns the raw answer.
    (A send-back of an unsupported answer and a second attempt over the closest sources after a refusal
    were measured and deleted: on the locked splits neither changed one item; see docs/quality.md.)"""
    lock = getattr(generator, "lock", None)
    if lock is not None and lock.locked():
        yield StreamEvent("status", "waiting for the local model (another question is being answered)")
    yield StreamEvent("status", f"reading {len(evidence)} passages and writing the answer")
    pieces: list[str] = []
    for piece in generator.stream(build_messages(q.text, evidence), settings.max_tokens):
        pieces.append(piece)
        yield StreamEvent("token", piece)
    return "".join(pieces)


def _stand_in(q: Question, raw: str, evidence: list[Evidence], settings: Settings, retriever: Retriever) -> str:
    """When no sentence of the generated answer is supported (and the model did not say the sources lack
    the answer), the table row the question names, or the evidence sentence that matches it best, answers
    verbatim and is checked like any answer ('' if none does)."""
    if not settings.on("fallback"):
        return ""
    checked = check_answer(raw, evidence, q, retriever.known)
    if checked.citations:
        return ""
    passage = "" if checked.refused else best_passage(q.text, evidence, retriever.idf)
    return table_lookup(q, evidence, retriever.table_rows, retriever.idf) or passage


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
    return final_answer(stream_answer(question, **overrides))


def final_answer(events: Iterator[StreamEvent]) -> Answer:
    """The Answer a stream of events ends with (progress and tokens consumed on the way)."""
    final = None
    for ev in events:
        if ev.kind == "answer":
            final = ev.answer
    assert final is not None
    return final

