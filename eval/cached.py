"""Run `assistant eval` with generations cached by prompt: a developer tool for tuning the steps after generation.

    .venv/bin/python eval/cached.py [assistant eval options, e.g. --no-gate --report FILE]

The first run costs a normal eval; later runs call the LLM only for prompts that changed (new evidence,
a new system prompt), so a change to the citation checks or the composition re-scores the whole gold set
in seconds. The cache lives in eval/reports/generations.json (gitignored). Greedy decoding (temperature 0)
makes a cached generation the same text the model would produce again.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import sys
from pathlib import Path

from assistant import cli
from assistant.answer import get_generator as _real_get_generator
from assistant.generate import Generator

CACHE = Path(__file__).parent / "reports" / "generations.json"


class CachedGenerator(Generator):
    """Wraps a generator; replays the stored completion of an identical prompt."""

    def __init__(self, inner: Generator, store: dict) -> None:
        self.inner, self.store = inner, store
        self.backend, self.model = inner.backend, inner.model
        self.lock = getattr(inner, "lock", None)
        self.hits = self.misses = 0

    def _stream(self, messages, max_tokens):
        key = hashlib.sha256(json.dumps([self.model, max_tokens, messages]).encode()).hexdigest()
        if key in self.store:
            self.hits += 1
            yield self.store[key]
            return
        self.misses += 1
        text = "".join(self.inner.stream(messages, max_tokens))
        self.store[key] = text
        _save(self.store)
        yield text


def _save(store: dict) -> None:
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    tmp = CACHE.with_suffix(".tmp")
    tmp.write_text(json.dumps(store), encoding="utf-8")
    tmp.replace(CACHE)


def main(argv: list[str] | None = None) -> int:
    store = json.loads(CACHE.read_text(encoding="utf-8")) if CACHE.exists() else {}
    wrapped: dict[int, CachedGenerator] = {}

    def get_generator(settings):
        inner = _real_get_generator(settings)
        if inner is None:
            return None
        if id(inner) not in wrapped:
            wrapped[id(inner)] = CachedGenerator(inner, store)
        return wrapped[id(inner)]

    # `assistant.answer` the attribute is the function; the module is in sys.modules
    importlib.import_module("assistant.answer").get_generator = get_generator
    try:
        return cli.main(["eval", *(sys.argv[1:] if argv is None else argv)])
    finally:
        for g in wrapped.values():
            print(f"generation cache: {g.hits} hits, {g.misses} misses ({CACHE})", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
