"""A small, bounded version of bench/load.py: the app's /ask endpoint and the Python API under 4 and 16
concurrent clients (extractive backend, loopback only) answer every request without an error."""

from __future__ import annotations

import importlib.util

import pytest
from helpers import REPO

from assistant import answer

_spec = importlib.util.spec_from_file_location("bench_load", REPO / "bench" / "load.py")
load = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(load)  # type: ignore[union-attr]

QUESTIONS = ["When was the Northern Fisheries Pact signed?", "How long do the joint patrols last?",
             "Who runs the harbour?", "What is the budget of the pact?", "", "x" * 5000]


@pytest.mark.slow
def test_app_ask_endpoint_under_concurrent_clients(tiny_index):
    from gradio_client import Client

    app = load.App({"ASSISTANT_INDEX_DIR": str(tiny_index.index_dir),
                    "ASSISTANT_CORPUS_DIR": str(tiny_index.corpus_dir)})
    try:
        Client(app.url, verbose=False).predict(QUESTIONS[0], api_name="/ask")  # warm up
        for clients in (4, 16):
            row = load.run_level(lambda c, q: c.predict(q, api_name="/ask"), lambda: Client(app.url, verbose=False),
                                 clients, 16, QUESTIONS[:4])
            print(f"\napp /ask, {clients} clients: {row['throughput_rps']:.1f} req/s, p50 {row['p50_ms']:.0f} ms, "
                  f"p95 {row['p95_ms']:.0f} ms, peak RSS {load.peak_rss_mb(app.proc.pid):.0f} MB")
            assert row["errors"] == 0, row["error_samples"]
        # bad questions through the endpoint: a clear message, and the app keeps serving
        c = Client(app.url, verbose=False)
        for q in QUESTIONS[4:]:
            assert c.predict(q, api_name="/ask").startswith("Error: the question is")
        assert "3 March 2021" in c.predict(QUESTIONS[0], api_name="/ask")
        assert app.proc.poll() is None
    finally:
        app.close()


@pytest.mark.slow
def test_python_api_under_concurrent_threads(tiny_index):
    kw = dict(llm="none", index_dir=tiny_index.index_dir, corpus_dir=tiny_index.corpus_dir)
    expected = {q: answer(q, **kw).text for q in QUESTIONS[:4]}
    seen: dict[str, set[str]] = {q: set() for q in expected}

    def call(_c, q):
        text = answer(q, **kw).text
        seen[q].add(text)
        return text

    row = load.run_level(call, lambda: None, 16, 64, QUESTIONS[:4])
    assert row["errors"] == 0, row["error_samples"]
    assert all(s == {expected[q]} for q, s in seen.items())  # concurrent answers equal the sequential ones
