"""Retrieval alone, warm: the median time of `Retriever.search` (dense + BM25 + fusion, what `answer()` runs
before the model) and of the dense vector-store query inside it, over the first 40 dev questions, 5 rounds.

    .venv/bin/python bench/retrieval_speed.py

To compare two checkouts, run it in each in turn (the figures are noisy on a shared machine; pair them).
Nothing asserts.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.answer import get_retriever  # noqa: E402
from assistant.config import Settings  # noqa: E402


def main() -> int:
    retriever = get_retriever(Settings.load(), progress=True)
    questions = [json.loads(line)["question"] for line in (ROOT / "eval" / "dev.jsonl").read_text().splitlines()
                 if line.strip()][:40]
    for q in questions:  # warm: the embedder, the store's caches
        retriever.search(q, 30)
    search = []
    for _ in range(5):
        for q in questions:
            t0 = time.perf_counter()
            retriever.search(q, 30)
            search.append(time.perf_counter() - t0)
    dense = []
    for q in questions:
        vector = retriever.embedder.embed_query(q)
        t0 = time.perf_counter()
        retriever.index.query(vector, 30)
        dense.append(time.perf_counter() - t0)
    print(f"{ROOT.name}: search p50 {statistics.median(search) * 1000:.1f} ms over {len(search)}; "
          f"dense query p50 {statistics.median(dense) * 1000:.2f} ms ({retriever.index.count()} chunks, "
          f"{retriever.index.kind})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
