"""question -> retrieve -> select evidence -> generate -> verify citations -> Answer."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from . import store
from .citations import check_answer
from .compose import FALLBACK_MIN_OVERLAP, FALLBACK_NOTICE, cited_evidence, extractive, finish, supplement
from .config import Settings
from .embed import get_embedder
from .errors import CorpusError, GeneratorError
from .evidence import Evidence, focus, question_parts, select_evidence, values
from .followup import for_name, left_out, misordered
from .generate import get_generator
from .indexer import ensure_index
from .lookup import COLUMN_NOTICE, column_lookup, dated_row, table_lookup, term_row
from .prompts import FOCUSED_PROMPT, SEND_BACK, build_messages
from .question import Question, analyse, validate_question
from .retrieve import Retriever
from .types import Answer, Hit

__all__ = ["answer", "stream_answer", "StreamEvent", "retrieve", "validate_question", "get_retriever",
           "question_parts"]

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


FOCUS_SOURCES = 2  # sources in the second attempt after a refusal


MAX_GENERATIONS = 2  # per question, all steps together (issue: at most two; each costs ~5-15 s here)


def stream_answer(question: str, **overrides) -> Iterator[StreamEvent]:
    """Like `answer` but yields progress and generated text as they come, then the checked Answer last.

    The steps: analyse the question once; retrieve; select evidence; answer a column filter from the
    table itself; generate (at most MAX_GENERATIONS); complete the answer from tables and the sources;
    verify every sentence against the source it cites and compose the Answer."""
    t0 = time.perf_counter()
    settings = Settings.load(**overrides)
    text = validate_question(question, settings)
    yield StreamEvent("status", "searching the documents")
    retriever = get_retriever(settings)
    q = analyse(text, retriever.common_words)
    hits = retriever.search(q.text, settings.candidates)
    evidence = select_evidence(q.text, hits, settings.top_k, settings.evidence_words, retriever.idf,
                               retriever.domain_acronyms)

    def done(raw: str, evidence: list[Evidence], backend: str, model: str, notice: str = "") -> Answer:
        return finish(q, raw, evidence, hits, settings, backend, model, t0, retriever, notice)

    # 'Which ... are signed but not yet in force?': the table's rows answer completely, without a model
    rows, more = column_lookup(q, evidence, retriever, len(evidence) + 1) if settings.on("column_lookup") else ("", [])
    looked_up = rows and done(rows, evidence + more, "table", "lookup", COLUMN_NOTICE)
    if looked_up and not looked_up.abstained:
        yield StreamEvent("answer", answer=looked_up)
        return
    generator = get_generator(settings)
    if generator is None:
        raw = extractive(q, evidence, retriever.table_rows, retriever.idf)
        yield StreamEvent("answer", answer=done(raw, evidence, "none", "extractive"))
        return
    try:
        raw, generations = yield from _generate(q, evidence, generator, settings, retriever)
    except GeneratorError as e:
        if settings.on_llm_error != "extractive":
            raise
        raw = extractive(q, evidence, retriever.table_rows, retriever.idf)
        yield StreamEvent("answer", answer=done(raw, evidence, "none", "extractive",
                                                f"generator unavailable ({e}); extractive answer"))
        return
    yield StreamEvent("status", "checking citations")
    raw, evidence, notice = yield from _complete(q, raw, evidence, generator, generations, settings, retriever)
    final = done(raw, evidence, generator.backend, generator.model, notice)
    lookup = table_lookup(q, evidence, retriever.table_rows, retriever.idf) if final.abstained and not notice and \
        settings.on("table_lookup") else ""
    if lookup:  # the question names a table row the answer did not read: the row itself answers
        looked_up = done(lookup, evidence, generator.backend, generator.model, FALLBACK_NOTICE)
        final = final if looked_up.abstained else looked_up
    yield StreamEvent("answer", answer=final)


def _stream(generator, messages: list[dict], settings: Settings, pieces: list[str]) -> Iterator[StreamEvent]:
    pieces.clear()
    for piece in generator.stream(messages, settings.max_tokens):
        pieces.append(piece)
        yield StreamEvent("token", piece)


def _generate(q: Question, evidence: list[Evidence], generator, settings: Settings, retriever: Retriever):
    """The generation step: the answer, sent back once when no sentence of it is supported, or asked again
    over the closest sources after a refusal. Yields events; returns (raw answer, generations used)."""
    lock = getattr(generator, "lock", None)
    if lock is not None and lock.locked():
        yield StreamEvent("status", "waiting for the local model (another question is being answered)")
    yield StreamEvent("status", f"reading {len(evidence)} passages and writing the answer")
    pieces: list[str] = []
    messages = build_messages(q.text, evidence)
    yield from _stream(generator, messages, settings, pieces)
    latest = first = check_answer("".join(pieces), evidence, q, retriever.known)
    generations = 1
    if settings.on("send_back") and not first.citations and not first.refused and \
            not table_lookup(q, evidence, retriever.table_rows, retriever.idf) and \
            not supplement(q.text, "", evidence, idf=retriever.idf, minimum=FALLBACK_MIN_OVERLAP):
        # Send the answer back once. The conversation prefix is unchanged, so llama.cpp reuses its
        # cache and only the feedback and the new answer cost time.
        yield StreamEvent("status", "checking citations: asking the model to revise its answer")
        generations += 1
        messages += [{"role": "assistant", "content": "".join(pieces)}, {"role": "user", "content": SEND_BACK}]
        yield from _stream(generator, messages, settings, pieces)
        latest = check_answer("".join(pieces), evidence, q, retriever.known)
    if settings.on("focus") and latest.refused and len(evidence) > FOCUS_SOURCES and generations < MAX_GENERATIONS:
        # Ask once more with only the closest sources: the refusal of a small model is often a
        # distraction by the others. Every check still applies to what it answers.
        generations += 1
        narrow = focus(q.text, evidence, FOCUS_SOURCES, retriever.idf)
        yield StreamEvent("status", f"no answer in {len(evidence)} passages; asking again with the "
                                    f"{len(narrow)} closest")
        yield from _stream(generator, build_messages(q.text, narrow, FOCUSED_PROMPT), settings, pieces)
    return "".join(pieces), generations


def _complete(q: Question, raw: str, evidence: list[Evidence], generator, generations: int, settings: Settings,
              retriever: Retriever):
    """What the generated answer leaves out, from the sources: the passage or row that answers when
    nothing it says is supported; a sentence for a part it skips; the table row with an exact date or
    a term's value; an answer for each name it skips (in the generations left). Returns (raw answer,
    evidence, notice)."""
    checked = check_answer(raw, evidence, q, retriever.known)
    cited = cited_evidence(evidence, checked.citations)
    notice = ""
    if not checked.citations and settings.on("fallback"):
        # The model found nothing it could support: a table row the question names, or failing that (and
        # only if the model did not say the sources lack the answer) the evidence sentence that matches
        # the question best, answers verbatim and is checked like any answer.
        passage = "" if checked.refused else supplement(q.text, "", evidence, idf=retriever.idf,
                                                        minimum=FALLBACK_MIN_OVERLAP)
        fallback = table_lookup(q, evidence, retriever.table_rows, retriever.idf) or passage
        if fallback:
            return fallback, evidence, FALLBACK_NOTICE
    if not checked.citations or checked.refused:
        return raw, evidence, notice
    if not any(e.chunk.kind == "table_row" for e in cited) and settings.on("supplement"):
        quotes = [c.quote for c in checked.citations]
        added: list[str] = []
        for part in q.parts:  # each part of a two-part question may lack its sentence
            # a quote the answer cites may hold what its text leaves out ("EEAS" beside "PSC authorises")
            extra = supplement(part, f"{checked.text} {' '.join(added)}", evidence,
                               quotes if len(q.parts) == 1 else None, idf=retriever.idf)
            if extra and extra not in added:
                added.append(extra)
        raw = " ".join([raw.rstrip(), *added]).strip()
    for row in (dated_row(q, checked.text, evidence, retriever.idf) if settings.on("dated_row") else "",
                term_row(q, cited, evidence, retriever.domain_acronyms, retriever.idf) if settings.on("term_row")
                else ""):
        if row and row not in raw:
            raw = f"{raw.rstrip()} {row}"
    # A question about several named things ('Did Japan or South Korea sign first?') is often answered
    # for one of them: ask again for each one left out, over the passages about it.
    omitted = left_out(q, checked.text) if settings.on("per_name") else []
    for run, name in omitted[:max(0, MAX_GENERATIONS - generations)]:
        yield StreamEvent("status", f"the answer leaves out {name}: asking about it")
        try:
            extra, more = for_name(q, run, name, settings, retriever, generator, len(evidence) + 1, values(raw))
        except GeneratorError:
            break
        if extra:
            raw = f"{raw.rstrip()} {extra}"
            evidence = evidence + more
    if settings.on("misordered"):
        raw = misordered(q, raw)  # "X came first" against the dates it gives
    return raw, evidence, notice


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

