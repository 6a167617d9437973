"""Paths, corpus file names and small helpers shared by the tests (imported as `helpers`)."""

from __future__ import annotations

import contextlib
import re
import socket
import subprocess
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "corpus"
DATA = Path(__file__).resolve().parent / "data"
TINY_FILES = ("fisheries.txt", "harbour.html", "patrols.md")
ASSISTANT_BIN = REPO / ".venv" / "bin" / "assistant"

# the real corpus documents
DOC_000 = "000_73948298cf7d8f07.txt"  # EP in-depth analysis (PDF extraction, footnotes, two tables)
DOC_001 = "001_2c8914edbae21466.txt"  # Strategic Compass, partner chapter
DOC_002 = "002_b4a5cc413e86b8c0.txt"  # blog post with website boilerplate
DOC_003 = "003_46047ba99165b17f.txt"  # EUISS brief with numbered references
DOC_004 = "004_9baf95e9af139bdb.txt"  # EPRS briefing: Table 1, Table 2, figures, endnotes


# questions over the real corpus whose hits and answers must be the same in every store and mode
REAL_QUESTIONS = [
    "Which SDPs cover space security?",
    "When did the EU and Japan sign their security and defence partnership?",
    "What is the Strategic Compass?",
    "Which partners take part in EUFOR Althea?",
    "How much did the EU pay Georgia under its SDP in 2031?",
    "What does the Strategic Compass say about partnerships with NATO?",
]


def same_answer(a, b) -> None:
    """Two Answers say the same: text, abstention and its reason, and every citation."""
    assert (a.text, a.abstained, a.abstain_reason) == (b.text, b.abstained, b.abstain_reason)
    assert [c.__dict__ for c in a.citations] == [c.__dict__ for c in b.citations]


def can_unshare() -> bool:
    """Can this machine run a command in a network namespace with no interfaces (`unshare -n`)?"""
    try:
        return subprocess.run(["unshare", "-n", "true"], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def squash(text: str) -> str:
    """Lowercase, undo hyphen + line-break joins, drop remaining hyphens, collapse whitespace."""
    text = text.lower().replace("\u00ad", "")
    text = re.sub(r"-\s*\n\s*", "", text)  # a line-break hyphenation joins the two halves
    text = text.replace("-", "")  # compounds: "non-proliferation" == "nonproliferation"
    return re.sub(r"\s+", " ", text).strip()


def free_port() -> int:
    """A loopback port nobody listens on (closed again when this returns: connections are refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(proc: subprocess.Popen) -> None:
    """Terminate a server process; kill it if it does not exit within 20 s."""
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


@contextlib.contextmanager
def serving(server):
    """Run an http.server in a daemon thread for the duration of the block."""
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


# A markdown document with a pipe table of dates, two of whose rows have no entry into force.
AGREEMENTS_MD = """# Harbour access in the North Atlantic

## Overview

The harbour authorities have signed harbour access agreements (HAAs) with four partners. Two of the
agreements have not yet entered into force, because the partners have not yet ratified them. Joint patrol
agreements (JPAs) are negotiated separately.

## Annex

Table 1: Harbour access agreements with partner countries

| Partner country | Signed | In force since |
|---|:---:|---|
| Faroe Islands | 14/10/2022 | - |
| Greenland | 17/06/2019 | - |
| Iceland | 21/02/2005 | 01/04/2005 |
| Norway | 03/12/2004 | 01/01/2005 |

---

The | sign in prose, and a rule line above, stay as they are.
"""


SHARED_PDFS = REPO.parent / "shared" / "pdfs"  # real public PDFs beside the project, never copied into it


def chromium_path() -> str | None:
    """Debian's chromium, installed with apt-get when missing and we are root; None if there is none."""
    import os
    import shutil

    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path or os.geteuid() != 0:
        return path
    subprocess.run(["apt-get", "install", "-y", "chromium"], capture_output=True, text=True, timeout=600)
    return shutil.which("chromium")


def html_to_pdf(chromium: str, html: str, out: Path, header_footer: bool = True) -> Path:
    """Print HTML to PDF with headless Chromium (its own running header and footer unless told otherwise:
    date and title at the top, file URL and 'n/N' at the bottom of every page). Offline: a local file."""
    work = out.parent / ".chromium"  # a hidden folder: nothing in it is taken for a corpus document
    work.mkdir(exist_ok=True)
    src = work / f"{out.stem}.html"
    src.write_text(html, encoding="utf-8")
    cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run",
           f"--user-data-dir={work / 'profile'}", f"--print-to-pdf={out}"]
    if not header_footer:
        cmd.append("--no-pdf-header-footer")
    subprocess.run([*cmd, src.as_uri()], capture_output=True, timeout=120, check=True)
    return out


def copy_index(src, dst):
    """Write the active build of Settings `src` (its vectors included, nothing re-embedded) into the vector
    store of Settings `dst`; returns `dst`."""
    from assistant import store

    local = store.open_index(src.index_dir)
    stored = local.all_vectors()
    manifest = {**local.manifest, "fingerprint": {**local.manifest["fingerprint"], "vector_store": dst.vector_store}}
    store.write_build(dst, manifest, list(local.documents.values()), local.chunks(),
                      [stored[c.source][c.text] for c in local.chunks()])
    return dst
