"""The indexed documents as a reader sees them: list them, render one (tables as tables), show a quote in
its context, and add an uploaded file safely (validated first, then indexed incrementally).

Nothing here imports a UI library: the Gradio app and the tests call these functions.
"""

from __future__ import annotations

import html
import re
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from . import store
from .config import Settings
from .errors import CorpusError, IndexLockedError, InputError
from .indexer import IndexSummary, build_index, ensure_index
from .ingest import file_sha256, load_document, scan_corpus
from .types import Citation, Document

__all__ = ["DocumentInfo", "prepare_index", "list_documents", "get_document", "document_html", "passage_html",
           "safe_filename", "add_document", "UPLOAD_TYPES"]

UPLOAD_TYPES = (".txt", ".md", ".html", ".pdf", ".docx", ".odt")
_handles: dict[Path, store.IndexHandle] = {}
_hlock = threading.Lock()


@dataclass
class DocumentInfo:
    """One row of the documents table."""

    source: str
    title: str
    publisher: str
    date: str
    chunks: int
    tables: int


def prepare_index(settings: Settings | None = None, progress: bool = True) -> IndexSummary | None:
    """Bring the index up to date with corpus/ (with a progress bar): built if missing, changed documents
    re-embedded, rebuilt after a change of embedding model or chunking; a no-op in ~0.1 s when nothing
    changed. If another process is writing the index, answer from the current one (None)."""
    settings = settings or Settings.load()
    if not settings.corpus_dir.is_dir():
        raise CorpusError(f"corpus folder not found: {settings.corpus_dir}")
    if store.current_build(settings) is None:
        ensure_index(settings, progress=progress)
        return None
    try:
        return build_index(settings, progress=progress)
    except IndexLockedError as e:
        print(f"note: {e}; answering from the current index meanwhile")
        return None


def _handle(settings: Settings) -> store.IndexHandle:
    build = store.current_build(settings)
    if build is None:
        prepare_index(settings, progress=False)
        build = store.current_build(settings)
    with _hlock:
        h = _handles.get(build)  # type: ignore[arg-type]
        if h is None:
            h = store.IndexHandle(build)  # type: ignore[arg-type]
            _handles.clear()
            _handles[build] = h  # type: ignore[index]
        return h


def list_documents(settings: Settings | None = None) -> list[DocumentInfo]:
    """What the active index holds, in file order."""
    settings = settings or Settings.load()
    sources = _handle(settings).manifest.get("sources", {})
    return [DocumentInfo(s, m.get("title", s), m.get("publisher", ""), m.get("date", ""), int(m.get("chunks", 0)),
                         int(m.get("tables", 0))) for s, m in sorted(sources.items())]


def get_document(source: str, settings: Settings | None = None) -> Document:
    """The cleaned document as indexed; InputError if it is not in the index."""
    settings = settings or Settings.load()
    docs = _handle(settings).documents
    if source not in docs:
        raise InputError(f"no indexed document named {source!r}")
    return docs[source]  # store._load_documents already made blocks and tables typed objects


def _table_html(doc: Document, k: int) -> str:
    t = doc.tables[k]
    head = "".join(f"<th>{html.escape(c)}</th>" for c in [t.row_header, *t.columns])
    body = "".join("<tr><th scope='row'>" + html.escape(label.split("|", 1)[-1]) + "</th>"
                   + "".join(f"<td>{html.escape(v)}</td>" for v in values) + "</tr>" for label, values in t.rows)
    note = " <small>(header cells corrected from corpus/corrections.json)</small>" if t.corrected else ""
    return (f"<div class='doc-table'><table><caption>{html.escape(t.caption)}{note}</caption>"
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>")


def document_html(doc: Document) -> str:
    """The cleaned document as HTML: headings, paragraphs, footnotes, and each table once, as a table."""
    meta = " · ".join(x for x in (doc.publisher, doc.date, doc.source) if x)
    out = [f"<article class='doc'><h2>{html.escape(doc.title)}</h2><p class='doc-meta'>{html.escape(meta)}</p>"]
    shown: set[int] = set()
    for b in doc.blocks:
        if b.kind in ("table_row", "table_column"):
            if b.table is not None and b.table not in shown and b.table < len(doc.tables):
                shown.add(b.table)
                out.append(_table_html(doc, b.table))
        elif b.kind == "heading":
            level = min(3 + max(len(b.section) - 1, 0), 5)
            out.append(f"<h{level}>{html.escape(b.text)}</h{level}>")
        elif b.kind == "footnote":
            out.append(f"<p class='footnote'><small>{html.escape(b.text)}</small></p>")
        else:
            out.append(f"<p>{html.escape(b.text)}</p>")
    for k in range(len(doc.tables)):  # tables no record points at (should not happen) still appear
        if k not in shown:
            out.append(_table_html(doc, k))
    out.append("</article>")
    return "\n".join(out)


def passage_html(citation: Citation, settings: Settings | None = None, context: int = 220) -> str:
    """The quote highlighted (<mark>) inside the text around it in its document, HTML-escaped."""
    quote = citation.quote
    try:
        text = get_document(citation.source, settings).text
    except (InputError, CorpusError, OSError):
        return f"<mark>{html.escape(quote)}</mark>"
    s, e = citation.start, citation.end
    if not (0 <= s < e <= len(text) and text[s:e] == quote):
        s = text.find(quote)
        if s < 0:
            return f"<mark>{html.escape(quote)}</mark>"
        e = s + len(quote)
    ps = text.rfind("\n\n", 0, s)
    ps = 0 if ps < 0 else ps + 2
    pe = text.find("\n\n", e)
    pe = len(text) if pe < 0 else pe
    if ps < s or pe > e:  # the paragraph holds more than the quote: show that paragraph around it
        lo, hi = ps, pe
    else:  # the quote is a whole block (a table record, a footnote): show the blocks beside it
        lo, hi = 0, len(text)
    a, b = max(lo, s - context), min(hi, e + context)
    if a > lo:
        a = text.find(" ", a, s) + 1 or a  # start and end on word boundaries
    if b < hi:
        cut = text.rfind(" ", e, b)
        b = cut if cut > e else b
    before, after = text[a:s], text[e:b]
    lead = "… " if a > lo else ""
    tail = " …" if b < hi else ""
    return (html.escape(lead + before) + f"<mark>{html.escape(quote)}</mark>" + html.escape(after + tail)
            ).replace("\n\n", "<br><br>")


_HIDDEN_OR_BAD = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]")


def safe_filename(name: str) -> str:
    """The base name an upload is saved under; InputError for hidden names, '..', odd characters or types.

    A name with path parts ('../../etc/x.txt') is refused rather than rewritten to its base name: a name
    that tries to leave the corpus folder is a mistake or an attack, either way not a document to keep."""
    raw = name or ""
    if "/" in raw or "\\" in raw or ".." in raw:
        raise InputError(f"file name {raw!r} is not allowed: it must be a plain name, not a path")
    base = raw.strip()
    if not base or base.startswith(".") or base.startswith("-"):
        raise InputError(f"file name {raw!r} is not allowed: hidden or empty names are refused")
    if _HIDDEN_OR_BAD.search(base) or len(base) > 150:
        raise InputError(f"file name {raw!r} is not allowed: use letters, digits, spaces, '-', '_' and '.'")
    suffix = Path(base).suffix.lower()
    if suffix not in UPLOAD_TYPES:
        raise InputError(f"{base}: unsupported type {suffix or '(none)'}; upload one of {', '.join(UPLOAD_TYPES)}")
    return base


def add_document(path: str | Path, name: str | None = None, settings: Settings | None = None,
                 progress: bool = False) -> IndexSummary:
    """Validate an uploaded file, copy it into the corpus and index it incrementally.

    Args:
        path: where the upload is now (e.g. Gradio's temp file).
        name: the name the user gave it (defaults to the file's own name); sanitized by `safe_filename`.
        settings: corpus and index folders, `max_file_mb`.
        progress: show a tqdm bar while embedding (Gradio's `Progress(track_tqdm=True)` follows it).

    Raises:
        InputError: bad name, unsupported type, too large, or a document of that name/content exists.
        CorpusError: the file cannot be read or has no text. Nothing in the corpus changes on any error.
    """
    settings = settings or Settings.load()
    src = Path(path)
    base = safe_filename(name or src.name)
    try:
        size = src.stat().st_size
    except OSError as e:
        raise CorpusError(f"{base}: cannot read the upload ({e.strerror})") from e
    limit = int(settings.max_file_mb * 1e6)
    if size > limit:
        raise InputError(f"{base}: {size / 1e6:.1f} MB is over the {settings.max_file_mb:g} MB limit")
    corpus = settings.corpus_dir
    target = corpus / base
    if target.resolve().parent != corpus.resolve():  # belt and braces: never write outside the corpus
        raise InputError(f"file name {base!r} is not allowed")
    existing = {p.name.lower(): p for p in scan_corpus(corpus)}
    if base.lower() in existing:
        raise InputError(f"{base}: a document with this name is already in the corpus")
    digest = file_sha256(src)
    for p in existing.values():
        if file_sha256(p) == digest:
            raise InputError(f"{base}: same content as {p.name}, which is already indexed")
    with tempfile.TemporaryDirectory(prefix="upload-") as tmp:
        staged = Path(tmp) / base
        shutil.copyfile(src, staged)
        load_document(staged, max_bytes=limit)  # readable and non-empty after cleaning, or CorpusError
        part = corpus / f".{base}.part"
        shutil.copyfile(staged, part)
    part.replace(target)
    try:
        return build_index(settings, progress=progress, lock_wait=120)
    except BaseException:
        target.unlink(missing_ok=True)  # a failed index run leaves the corpus as it was
        raise
