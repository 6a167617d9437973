"""Gradio research UI: streamed cited answers with a sources panel, follow-ups, a document library with
uploads, per-session settings, feedback, and an `/ask` API endpoint. UI only: the logic is elsewhere in
the package, reached through its public functions.

Start it with `assistant ui`, `python -m assistant` or `make run`. Offline and safe by default: analytics
and version checks off (set in `assistant/__init__.py` before gradio is imported), no share link, binds
127.0.0.1 (port GRADIO_SERVER_PORT, default 7860). Another address (ASSISTANT_HOST or GRADIO_SERVER_NAME)
needs ASSISTANT_AUTH_USER and ASSISTANT_AUTH_PASSWORD.

While an answer is prepared the chat shows the step that runs and its seconds: the model loading (it is
warmed up in a background thread at launch, so normally done before the first question), the follow-up
being understood, the search and the reading of the passages (the local model reads its prompt before the
first token: ~11-25 s on 2 cores), the writing, and every status `stream_answer` reports.
"""

from __future__ import annotations

import html
import os
import queue
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import gradio as gr

from .answer import answer, get_retriever, stream_answer
from .config import Settings
from .conversation import Turn, is_follow_up, standalone_question
from .errors import AssistantError
from .feedback import record_feedback
from .generate import get_generator
from .library import (
    UPLOAD_TYPES,
    add_document,
    document_html,
    get_document,
    list_documents,
    passage_html,
    prepare_index,
)
from .session import BACKEND_CHOICES, TOP_K_RANGE, check_backend, session_overrides
from .types import Answer, Citation

__all__ = ["build", "main", "launch_options", "warm_up", "WarmUp", "answer_markdown", "TITLE"]

TITLE = "EU security & defence partnerships — cited answers"
EXAMPLES = ["Which SDPs cover space security?",
            "When did the EU and Japan sign their security and defence partnership?",
            "What does the Strategic Compass say about partnerships with NATO?",
            "Which partners are listed in Table 1 of the in-depth analysis?"]
# Shown between the click and the start of the answer; with one answer at a time it stays only while
# another question is answered (Gradio shows the place in the queue in the corner).
WAITING = "<span class='pending'>Waiting for your turn: one question is answered at a time (your place in the " \
          "queue shows in the corner).</span>"
LOOPBACK = ("127.0.0.1", "localhost", "::1")
TICK = 1.0  # seconds between progress updates while a step gives no output of its own
ABSTAIN_ANSWER_PART = "\n\nWhat they do say:"  # where an abstention's text used to carry a partial answer

CSS = """
.gradio-container {max-width: 1500px !important; margin: auto;}
#sources {max-height: 640px; overflow-y: auto !important; padding: 4px 8px;}
#sources .turn-q {font-weight: 600; margin: 10px 0 6px; color: var(--body-text-color-subdued);}
#sources .src {border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 8px 10px;
  margin: 0 0 10px; transition: box-shadow .3s, border-color .3s;}
#sources .src.active {border-color: #d97706; box-shadow: 0 0 0 3px rgba(217,119,6,.35);}
#sources .src-head {font-weight: 600;}
#sources .src-n {color: #b45309; margin-right: 4px;}
#sources .src-loc {font-size: .85em; color: var(--body-text-color-subdued); margin: 2px 0 6px;}
#sources .src-ctx {font-size: .9em; line-height: 1.45; margin: 0; padding-left: 8px;
  border-left: 3px solid var(--border-color-primary);}
#sources mark {background: #fde68a; color: #111; padding: 0 1px;}
#sources .closest {font-size: .85em; opacity: .85;}
#sources .empty {color: var(--body-text-color-subdued);}
a.cite {text-decoration: none; font-weight: 600; color: #b45309 !important; cursor: pointer;}
.abstain {border-left: 4px solid #9ca3af; background: rgba(156,163,175,.14); padding: 6px 10px; border-radius: 6px;}
.notice {font-size: .85em; border-left: 3px solid #d97706; padding: 2px 8px; color: var(--body-text-color);}
.notice b {color: #b45309;}
.error-msg {border-left: 4px solid #dc2626; background: rgba(220,38,38,.08); padding: 6px 10px; border-radius: 6px;}
.rewrite {font-size: .9em; color: var(--body-text-color-subdued); margin-bottom: 4px;}
.meta {font-size: .8em; color: var(--body-text-color-subdued); margin-top: 6px;}
.progress {font-size: .9em; color: var(--body-text-color-subdued); margin-bottom: 4px;}
.progress .step {font-weight: 600; color: var(--body-text-color);}
.progress .spin {display: inline-block; width: .8em; height: .8em; margin-right: 6px; vertical-align: -1px;
  border: 2px solid var(--border-color-primary); border-top-color: #d97706; border-radius: 50%;
  animation: spin 1s linear infinite;}
@keyframes spin {to {transform: rotate(360deg);}}
.draft {opacity: .75;}
#warm {font-size: .85em; color: var(--body-text-color-subdued);}
#warm .ready {color: #15803d;}
#warm .failed {color: #dc2626;}
.doc table {border-collapse: collapse; font-size: .85em; margin: 8px 0 16px;}
.doc th, .doc td {border: 1px solid var(--border-color-primary); padding: 3px 6px; vertical-align: top;}
.doc caption {font-weight: 600; text-align: left; padding: 4px 0;}
.doc .doc-table {overflow-x: auto;}
.doc .doc-meta {color: var(--body-text-color-subdued);}
#doc-view {max-height: 720px; overflow-y: auto !important;}  /* Gradio sets overflow: visible on blocks */
@media (max-width: 720px) {#chat {height: 430px !important; min-height: 0 !important;}
  #sources {max-height: none;}}
table.doc-list {border-collapse: collapse; width: 100%; font-size: .9em;}
table.doc-list th, table.doc-list td {border-bottom: 1px solid var(--border-color-primary); padding: 5px 8px;
  text-align: left; vertical-align: top;}
table.doc-list td.num {text-align: right;}
table.doc-list code {font-size: .85em; word-break: break-all;}
"""


def _theme():
    """Gradio's default theme without its Source Sans Pro SemiBold: the file Gradio 6.31 ships for weight 600
    holds only the glyphs "A" and "B", so every bold A and B came from another font (a small-capital-looking A
    in "Albania" in the table headers); weight 600 now resolves to the complete Bold."""
    return gr.themes.Default(font=[gr.themes.LocalFont("Source Sans Pro", weights=(400, 700)), "ui-sans-serif",
                                   "system-ui", "sans-serif"])


# [n] links are plain anchors; this handler (page-wide, so it survives re-renders) scrolls the sources
# panel to the cited source and outlines it instead of navigating.
HEAD = """<script>
document.addEventListener('click', function (ev) {
  var a = ev.target && ev.target.closest ? ev.target.closest('a[href^="#src-"]') : null;
  if (!a) return;
  ev.preventDefault(); ev.stopPropagation();
  var el = document.getElementById(a.getAttribute('href').slice(1));
  if (!el) return;
  document.querySelectorAll('#sources .src.active').forEach(function (x) { x.classList.remove('active'); });
  el.classList.add('active');
  el.scrollIntoView({behavior: 'smooth', block: 'nearest'});
}, true);
</script>"""


# --------------------------------------------------------------------------- launch options


def launch_options(env: Mapping[str, str] = os.environ) -> dict:
    """Host, port and auth from the environment; SystemExit with a one-line error if unsafe."""
    host = (env.get("ASSISTANT_HOST") or env.get("GRADIO_SERVER_NAME") or "127.0.0.1").strip()
    try:
        port = int(env.get("GRADIO_SERVER_PORT") or 7860)
    except ValueError:
        raise SystemExit(f"error: GRADIO_SERVER_PORT must be a number, got {env.get('GRADIO_SERVER_PORT')!r}") from None
    user, password = env.get("ASSISTANT_AUTH_USER", ""), env.get("ASSISTANT_AUTH_PASSWORD", "")
    loopback = host in LOOPBACK or host.startswith("127.")
    if not loopback and not (user and password):
        raise SystemExit(f"error: binding to {host} exposes the assistant beyond this machine; set "
                         "ASSISTANT_AUTH_USER and ASSISTANT_AUTH_PASSWORD (or bind to 127.0.0.1)")
    return {"server_name": host, "server_port": port, "auth": (user, password) if user and password else None}


# --------------------------------------------------------------------------- warm-up at launch


class WarmUp:
    """Opens the index (chunks, BM25, MiniLM) and loads the generator in a background thread, so that the
    first question does not pay for it. `step` says what it is doing; `done` is set when it ends."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.step = "starting"
        self.error = ""
        self.model = ""
        self.started = time.perf_counter()
        self.seconds: float | None = None
        self.done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="assistant-warm-up", daemon=True)

    def start(self) -> WarmUp:
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            self.step = "opening the index"
            get_retriever(self.settings).search("security and defence partnerships", self.settings.candidates)
            generator = get_generator(self.settings)
            if generator is not None:
                self.model = f"{generator.backend} · {generator.model}"
                self.step = f"loading the model ({self.model})"
                generator.warm_up()
            else:
                self.model = "extractive (no LLM)"
        except AssistantError as e:
            self.error = str(e)
        except Exception as e:  # noqa: BLE001 - shown in the page; the questions will say more
            self.error = f"{type(e).__name__}: {e}"
        finally:
            self.seconds = time.perf_counter() - self.started
            self.done.set()
            print(f"warm-up: not ready after {self.seconds:.1f} s: {self.error}" if self.error else
                  f"warm-up: {self.model} ready in {self.seconds:.1f} s", file=sys.stderr, flush=True)

    def elapsed(self) -> float:
        return self.seconds if self.seconds is not None else time.perf_counter() - self.started

    def status_html(self) -> str:
        """One line for the page header."""
        if not self.done.is_set():
            return (f"<span class='spin'></span>Getting ready: {html.escape(self.step)}… {self.elapsed():.0f} s "
                    "(you can ask now; the answer starts when this is done)")
        if self.error:
            return (f"<span class='failed'>Not ready: {html.escape(self.error)}</span> — run "
                    "<code>assistant doctor</code> to see what to fix.")
        return f"<span class='ready'>Ready</span>: {html.escape(self.model)} (loaded in {self.seconds:.1f} s)."


_warm: WarmUp | None = None


def warm_up(settings: Settings | None = None) -> WarmUp:
    """Start warming up in the background (once per process); the UI's header and first question use it."""
    global _warm
    if _warm is None:
        _warm = WarmUp(settings or Settings.load()).start()
    return _warm


def _warm_status() -> tuple[str, Any]:
    """The header line, and the timer that refreshes it stops once the warm-up has ended."""
    if _warm is None:
        return "", gr.Timer(active=False)
    return _warm.status_html(), gr.Timer(active=not _warm.done.is_set())


# --------------------------------------------------------------------------- progress while answering


class _Steps:
    """The step an answer is at, how long it has run, and the steps done before it."""

    def __init__(self) -> None:
        self.t0 = time.perf_counter()
        self.label = ""
        self.since = self.t0
        self.done: list[tuple[str, float]] = []

    def go(self, label: str) -> None:
        now = time.perf_counter()
        if self.label and now - self.since >= 0.05:  # a step replaced at once (a status naming it) is not one
            self.done.append((self.label, now - self.since))
        self.label, self.since = label, now

    def html(self) -> str:
        now = time.perf_counter()
        earlier = "".join(f" · {html.escape(lbl)} {s:.1f} s" for lbl, s in self.done)
        return (f"<div class='progress'><span class='spin'></span><span class='step'>{html.escape(self.label)}…"
                f"</span> {now - self.since:.0f} s{earlier}</div>")


_END = object()


def _ticking(items: Iterator, stop: threading.Event, every: float | None = None) -> Iterator:
    """Items of `items`, consumed in a worker thread, with None yielded whenever `every` seconds pass
    without one (so the caller can refresh a clock). Exceptions are re-raised here; setting `stop` makes
    the worker close `items` at its next item (a user who left stops paying for the rest)."""
    q: queue.Queue = queue.Queue()
    every = every or TICK

    def work() -> None:
        try:
            for item in items:
                q.put((True, item))
                if stop.is_set():
                    break
        except BaseException as e:  # noqa: BLE001 - handed to the consumer
            q.put((False, e))
        finally:
            close = getattr(items, "close", None)
            if close:
                close()
            q.put((True, _END))

    threading.Thread(target=work, name="assistant-answer", daemon=True).start()
    while True:
        try:
            ok, item = q.get(timeout=every)
        except queue.Empty:
            yield None
            continue
        if not ok:
            raise item
        if item is _END:
            return
        yield item


def _once(fn: Callable[[], Any]) -> Iterator:
    yield fn()


# --------------------------------------------------------------------------- rendering


def _cite_links(text: str, turn: int) -> str:
    return re.sub(r"\[(\d{1,2})\]", lambda m: f'<a class="cite" href="#src-{turn}-{m.group(1)}">[{m.group(1)}]</a>',
                  text)


def _abstention(text: str) -> str:
    """An abstention's own words: what the documents do not say and what they cover, never an answer."""
    return text.split(ABSTAIN_ANSWER_PART, 1)[0].rstrip()


def answer_markdown(a: Answer) -> str:
    """The answer as Markdown with its numbered sources; an abstention without any answer or citations."""
    if not a.abstained:
        return a.to_markdown()
    lines = [_abstention(a.text)]
    if a.notice:
        lines += ["", f"_Note: {a.notice}_"]
    return "\n".join(lines)


def _answer_html(a: dict, turn: int, ttft: float | None) -> str:
    if a["abstained"]:
        parts = [f"<div class='abstain'>\n\n{_abstention(a['text'])}\n\n</div>"]
    else:
        parts = [_cite_links(a["text"], turn)]
    if a.get("notice"):
        parts.append(f"<div class='notice'><b>Note:</b> {html.escape(a['notice'])}</div>")
    first = f" · first token {ttft:.1f} s" if ttft is not None else ""
    who = "extractive (no LLM)" if a["backend"] == "none" else f"{a['backend']} · {a['model']}"
    parts.append(f"<div class='meta'>answered by {html.escape(who)}{first} · {a['seconds']:.1f} s</div>")
    return "\n\n".join(parts)


def _rewrite_head(question: str) -> str:
    """The line above an answer that shows how a follow-up was understood."""
    return f"<div class='rewrite'>Follow-up understood as: <b>{html.escape(question)}</b></div>\n\n"


def _turn_message(t: dict) -> str:
    return (_rewrite_head(t["question"]) if t.get("rewritten") else "") + t["html"]


def _sources_block(a: dict, citations: list[Citation], turn: int) -> str:
    """Sources of one answer: title, file, locator and the quote marked in its context. An abstention has
    no sources, only the closest passages."""
    if a["abstained"]:
        return ("<div class='closest'>Not answered by the documents. Closest passages:<ul>"
                + "".join(f"<li><b>{html.escape(h['title'])}</b> — {html.escape(h['locator'])}</li>"
                          for h in a.get("closest", [])) + "</ul></div>")
    return "".join(f"<div class='src' id='src-{turn}-{c.n}'><div class='src-head'><span class='src-n'>"
                   f"[{c.n}]</span>{html.escape(c.title)}</div><div class='src-loc'>"
                   f"{html.escape(c.locator or 'passage')} · {html.escape(c.source)}</div>"
                   f"<blockquote class='src-ctx'>{passage_html(c)}</blockquote></div>" for c in citations)


def _sources_panel(turns: list[dict]) -> str:
    if not turns:
        return "<div class='empty'>Sources of each answer appear here; click a [n] marker to jump to one.</div>"
    blocks = []
    for i in range(len(turns), 0, -1):  # newest first
        t = turns[i - 1]
        blocks.append(f"<div class='turn' id='turn-{i}'><div class='turn-q'>Q{i}: {html.escape(t['question'])}</div>"
                      f"{t['sources']}</div>")
    return "".join(blocks)


def _history(turns: list[dict]) -> list[dict]:
    msgs = []
    for t in turns:
        msgs.append({"role": "user", "content": t["asked"]})
        msgs.append({"role": "assistant", "content": _turn_message(t)})
    return msgs


# --------------------------------------------------------------------------- chat


def echo(message: str, history: list) -> list:
    """Show the question at once (the answer may wait in the queue)."""
    if not (message or "").strip():
        return history
    return [*history, {"role": "user", "content": message}, {"role": "assistant", "content": WAITING}]


def respond(message: str, history: list, turns: list[dict] | None, overrides: dict | None):
    """Stream one answer: the step that runs and its seconds, then the tokens, then the checked answer with
    its sources."""
    turns = list(turns or [])
    overrides = dict(overrides or {})
    message = (message or "").strip()
    base = _history(turns)
    if not message:
        yield base, _sources_panel(turns), turns, gr.skip(), ""
        return
    n = len(turns) + 1
    user = {"role": "user", "content": message}
    steps = _Steps()
    head, draft = "", ""
    stop = threading.Event()

    def shown() -> list[dict]:
        body = f"<div class='draft'>{html.escape(draft)} ▌</div>" if draft else ""
        return [*base, user, {"role": "assistant", "content": head + steps.html() + body}]

    try:
        if _warm is not None and not _warm.done.is_set():
            steps.go("getting ready: " + _warm.step)
            while not _warm.done.wait(TICK):
                steps.label = "getting ready: " + _warm.step
                yield shown(), gr.skip(), turns, gr.skip(), ""
        history_turns = [Turn(t["question"], t["answer"]["text"]) for t in turns]
        if is_follow_up(message, history_turns):
            steps.go("understanding the follow-up")
        rw = None
        for item in _ticking(_once(lambda: standalone_question(message, history_turns, **overrides)), stop):
            if item is None:
                yield shown(), gr.skip(), turns, gr.skip(), ""
            else:
                rw = item
        assert rw is not None
        if rw.rewritten:
            head = _rewrite_head(rw.question)
        top_k = Settings.load(**overrides).top_k
        steps.go(f"searching the documents and reading up to {top_k} passages")
        yield shown(), gr.skip(), turns, gr.skip(), ""
        ttft, final, restart = None, None, False
        for ev in _ticking(stream_answer(rw.question, **overrides), stop):
            if ev is None:
                pass
            elif ev.kind == "status":  # a second attempt streams afresh (after a send-back or a refusal)
                steps.go(ev.text)
                restart = True
            elif ev.kind == "token":
                if ttft is None:
                    ttft = time.perf_counter() - steps.t0
                    steps.go("writing the answer")
                elif restart:
                    draft = ""
                    steps.go("writing again")
                restart = False
                draft += ev.text
            else:
                final = ev.answer
                break
            yield shown(), gr.skip(), turns, gr.skip(), ""
    except AssistantError as e:
        err = f"<div class='error-msg'><b>Error:</b> {html.escape(str(e))}</div>"
        yield [*base, user, {"role": "assistant", "content": head + err}], _sources_panel(turns), turns, gr.skip(), ""
        return
    finally:
        stop.set()
    assert isinstance(final, Answer)
    a = final.to_dict()
    a["seconds"] = time.perf_counter() - steps.t0  # what the user waited, rewrite included
    a["closest"] = [{"title": h.chunk.title, "locator": h.chunk.locator or h.chunk.section} for h in final.hits[:3]]
    if a["abstained"]:
        a["text"], a["citations"] = _abstention(a["text"]), []
    turns.append({"asked": message, "question": rw.question, "rewritten": rw.rewritten, "answer": a,
                  "html": _answer_html(a, n, ttft), "sources": _sources_block(a, final.citations, n)})
    yield _history(turns), _sources_panel(turns), turns, answer_markdown(final), ""


def ask(question: str) -> str:
    """Answer Markdown with [n] markers followed by the numbered sources (API endpoint /ask)."""
    try:
        return answer_markdown(answer(question))
    except AssistantError as e:
        return f"Error: {e}"


def new_conversation():
    return [], _sources_panel([]), [], ""


def on_feedback(turns: list[dict] | None, data: gr.LikeData) -> str:
    turns = turns or []
    idx = data.index if isinstance(data.index, int) else data.index[0]
    k = (idx - 1) // 2
    if not (0 <= k < len(turns)) or data.liked not in (True, False):
        return ""
    t = turns[k]
    path = record_feedback(t["answer"], "up" if data.liked else "down", asked=t["asked"])
    return f"Thanks — feedback on Q{k + 1} saved to `{path.name}`."


# --------------------------------------------------------------------------- settings


def apply_settings(backend: str, base_url: str, model: str, api_key: str, top_k: float, current: dict | None):
    try:
        ov = session_overrides(backend, base_url, model, api_key, top_k)
        status = check_backend(**ov)
    except AssistantError as e:
        return current or {}, f"**Not changed:** {e}"
    return ov, f"**Applied.** {status} Sources per answer: {ov.get('top_k')}."


# --------------------------------------------------------------------------- documents


def _doc_list() -> tuple[str, list[tuple[str, str]]]:
    """The documents table and the reader's choices, from one listing of the index."""
    docs = list_documents()
    rows = "".join(f"<tr><td>{html.escape(d.title)}</td><td>{html.escape(d.publisher)}</td><td>{html.escape(d.date)}"
                   f"</td><td class='num'>{d.chunks}</td><td class='num'>{d.tables}</td>"
                   f"<td><code>{html.escape(d.source)}</code></td></tr>" for d in docs)
    table = ("<table class='doc-list'><thead><tr><th>title</th><th>publisher</th><th>date</th><th>chunks</th>"
             f"<th>tables</th><th>file</th></tr></thead><tbody>{rows}</tbody></table>")
    return table, [(d.title, d.source) for d in docs]


def _doc_view():
    """On page load: the documents table and the reader's choices."""
    table, choices = _doc_list()
    return table, gr.update(choices=choices)


def show_document(source: str | None) -> str:
    if not source:
        return "<p class='empty'>Choose a document to read it here.</p>"
    try:
        return document_html(get_document(source))
    except AssistantError as e:
        return f"<div class='error-msg'><b>Error:</b> {html.escape(str(e))}</div>"


def upload(file, progress=gr.Progress(track_tqdm=True)):  # noqa: B008 - Gradio's progress injection
    if not file:
        return "**Choose a file first.**", gr.skip(), gr.skip()
    path = file if isinstance(file, str) else getattr(file, "name", str(file))
    name = os.path.basename(str(path))
    progress(0, desc=f"checking {name}")
    try:
        summary = add_document(path, name, progress=True)
    except AssistantError as e:
        return f"**Not added:** {e}", gr.skip(), gr.skip()
    table, choices = _doc_list()
    return (f"**Added {name}** and updated the index: {summary.line()}. You can ask about it now.",
            table, gr.update(choices=choices, value=name))


# --------------------------------------------------------------------------- layout


def build() -> gr.Blocks:
    """The whole UI (no launch)."""
    defaults = Settings.load()
    with gr.Blocks(title=TITLE, fill_width=True) as demo:
        turns = gr.State([])
        overrides = gr.State({})
        gr.Markdown(f"## {TITLE}\nEvery sentence is backed by a quote from the indexed documents, or the "
                    "assistant says the documents don't say. Follow-up questions are understood from the "
                    "conversation.")
        warm = gr.HTML("", elem_id="warm")
        timer = gr.Timer(1.0, active=False)
        with gr.Tab("Ask"):
            with gr.Row(equal_height=False):
                with gr.Column(scale=3, min_width=340):
                    chatbot = gr.Chatbot(label="Conversation", show_label=False, elem_id="chat", height=560,
                                         layout="panel",
                                         examples=[{"text": q} for q in EXAMPLES], buttons=["copy"],
                                         placeholder="Ask about the EU's security and defence partnerships, "
                                                     "or click an example.")
                    with gr.Row():
                        msg = gr.Textbox(show_label=False, placeholder="Ask a question…", scale=5, elem_id="question",
                                         max_lines=4, submit_btn=False)
                        send = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="ask-btn")
                    with gr.Row():
                        clear = gr.Button("New conversation", size="sm")
                        copy_btn = gr.Button("Copy answer as Markdown", size="sm", elem_id="copy-md")
                    feedback_note = gr.Markdown("")
                    with gr.Accordion("Last answer as Markdown (with sources)", open=False):
                        md = gr.Textbox(show_label=False, lines=6, buttons=["copy"], elem_id="answer-md")
                with gr.Column(scale=2, min_width=300):
                    gr.Markdown("### Sources")
                    sources = gr.HTML(_sources_panel([]), elem_id="sources")
        with gr.Tab("Documents"):
            gr.Markdown("What is indexed. Choose one to read it cleaned, with its tables as tables.")
            docs = gr.HTML("", elem_id="doc-list")
            pick = gr.Dropdown(label="Read a document", choices=[], elem_id="doc-pick")
            view = gr.HTML(show_document(None), elem_id="doc-view")
            with gr.Accordion(f"Add a document ({', '.join(UPLOAD_TYPES)})", open=False):
                upl = gr.File(label=f"Document (up to {defaults.max_file_mb:g} MB)", file_count="single",
                              file_types=list(UPLOAD_TYPES), elem_id="upload")
                add_btn = gr.Button("Add to the library and index it", variant="primary")
                upl_status = gr.Markdown("")
        with gr.Tab("Settings"):
            gr.Markdown("Applies to your session only.")
            backend = gr.Radio([(label, value) for label, value in BACKEND_CHOICES], value=defaults.llm,
                               label="Answer with")
            with gr.Row():
                base_url = gr.Textbox(label="Server address (OpenAI-compatible or Ollama)",
                                      value=defaults.llm_base_url, placeholder="http://127.0.0.1:8000/v1")
                model = gr.Textbox(label="Model name (servers only)", value=defaults.llm_model)
                api_key = gr.Textbox(label="API key (if the server needs one)", type="password",
                                     value="")
            top_k = gr.Slider(TOP_K_RANGE[0], TOP_K_RANGE[1], value=min(defaults.top_k, TOP_K_RANGE[1]), step=1,
                              label="Sources given to the model")
            apply = gr.Button("Apply and check", variant="primary")
            settings_status = gr.Markdown("")

        chat_out = [chatbot, sources, turns, md, msg]
        for i, trigger in enumerate((msg.submit, send.click)):
            # one local generation at a time (2 cores); waiting users see their place in the queue.
            # The first one is the API's streamed chat: client.submit(question, history, api_name="/chat")
            trigger(echo, [msg, chatbot], chatbot, queue=False, api_visibility="private").then(
                respond, [msg, chatbot, turns, overrides], chat_out, concurrency_limit=1, concurrency_id="llm",
                api_name="chat" if i == 0 else None, api_visibility="public" if i == 0 else "private")

        def pick_example(ev: gr.SelectData):
            return ev.value["text"]

        chatbot.example_select(pick_example, None, msg, queue=False, api_visibility="private").then(
            echo, [msg, chatbot], chatbot, queue=False, api_visibility="private").then(
            respond, [msg, chatbot, turns, overrides], chat_out, concurrency_limit=1, concurrency_id="llm",
            api_visibility="private")
        clear.click(new_conversation, None, [chatbot, sources, turns, md], queue=False, api_visibility="undocumented")
        copy_btn.click(None, md, None, js="(x) => { if (x) navigator.clipboard.writeText(x); }")
        chatbot.like(on_feedback, turns, feedback_note, queue=False, api_visibility="undocumented")
        demo.load(_doc_view, None, [docs, pick], queue=False, api_visibility="undocumented")
        demo.load(_warm_status, None, [warm, timer], queue=False, api_visibility="undocumented")
        timer.tick(_warm_status, None, [warm, timer], queue=False, api_visibility="undocumented")
        pick.change(show_document, pick, view, queue=False, api_visibility="undocumented")
        add_btn.click(upload, upl, [upl_status, docs, pick], concurrency_limit=1, concurrency_id="index",
                      api_visibility="undocumented")
        apply.click(apply_settings, [backend, base_url, model, api_key, top_k, overrides],
                    [overrides, settings_status], api_visibility="undocumented")
        gr.api(ask, api_name="ask", concurrency_limit=1, concurrency_id="llm")
    return demo


def main() -> None:
    """Bring the index up to date, start warming up the model, and serve the UI (blocks until stopped)."""
    try:
        opts = launch_options()
    except SystemExit as e:
        print(e, file=sys.stderr)
        raise SystemExit(2) from None
    try:
        settings = Settings.load()
        summary = prepare_index(settings, progress=True)  # built if missing, refreshed if corpus/ or code changed
        if summary is not None:
            print(summary.line(), flush=True)
    except AssistantError as e:
        print(f"error: {e}", file=sys.stderr)
        raise SystemExit(1) from None
    warm_up(settings)  # the model loads while Gradio starts, not on the first question
    demo = build()
    demo.queue(default_concurrency_limit=4)
    print(f"UI on http://{opts['server_name']}:{opts['server_port']}", flush=True)
    # Gradio's own cap is looser than ours so that a file just over the limit gets our clear message;
    # far larger files are stopped by Gradio before they are stored.
    try:
        demo.launch(**opts, share=False, ssr_mode=False, max_file_size=f"{4 * settings.max_file_mb:g}mb",
                    css=CSS, head=HEAD, theme=_theme(), show_error=True, footer_links=["api"], quiet=False)
    except OSError as e:  # the port is taken (another UI still running?)
        print(f"error: cannot serve on {opts['server_name']}:{opts['server_port']} ({e.__class__.__name__}: "
              f"{str(e).split('. ')[0]}); set GRADIO_SERVER_PORT to a free port", file=sys.stderr)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
