"""Thumbs up/down on answers, appended to a local JSONL file that `assistant eval --feedback FILE` turns
into draft gold items (`assistant.evaluate.feedback_to_gold` reads exactly these fields).

One line per rating:
    {"time": "2026-11-21T15:40:02", "rating": "up" | "down", "question": "...", "asked": "...",
     "answer": "... [1].", "abstained": false, "backend": "local", "model": "...", "seconds": 12.3,
     "citations": [{"n": 1, "source": "004_....txt", "title": "...", "locator": "...", "quote": "..."}]}
`question` is the standalone question that was answered; `asked` is what the user typed (they differ
for a rewritten follow-up).
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

from .config import PROJECT_ROOT
from .errors import InputError
from .types import Answer

__all__ = ["feedback_path", "feedback_record", "record_feedback"]

_lock = threading.Lock()


def feedback_path() -> Path:
    """ASSISTANT_FEEDBACK_FILE, or feedback.jsonl at the repository root (gitignored)."""
    return Path(os.environ.get("ASSISTANT_FEEDBACK_FILE") or PROJECT_ROOT / "feedback.jsonl").expanduser()


def feedback_record(answer: Answer | dict, rating: str, asked: str = "") -> dict:
    """The JSON object written for one rating of one answer."""
    if rating not in ("up", "down"):
        raise InputError(f"rating must be 'up' or 'down', got {rating!r}")
    a = answer.to_dict() if isinstance(answer, Answer) else dict(answer)
    return {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S"), "rating": rating, "question": a.get("question", ""),
        "asked": asked or a.get("question", ""), "answer": a.get("text", ""), "abstained": bool(a.get("abstained")),
        "backend": a.get("backend", ""), "model": a.get("model", ""), "seconds": round(a.get("seconds", 0.0), 2),
        "citations": [{k: c.get(k) for k in ("n", "source", "title", "locator", "quote")}
                      for c in a.get("citations", [])],
    }


def record_feedback(answer: Answer | dict, rating: str, asked: str = "", path: Path | None = None) -> Path:
    """Append one rating to the feedback file (one JSON object per line); returns the file's path."""
    path = path or feedback_path()
    line = json.dumps(feedback_record(answer, rating, asked), ensure_ascii=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _lock, path.open("a", encoding="utf-8") as f:  # one writer per process; a line is one write
        f.write(line + "\n")
    return path
