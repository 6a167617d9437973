"""Performance figures measured on this machine; prints a table and writes bench/results/latest.json.

    .venv/bin/python bench/run.py              # 8 answers: ~5 min expected on 2 quiet cores (estimate)
    .venv/bin/python bench/run.py --quick      # 3 answers: took 6 min with two other LLM jobs on the cores
    .venv/bin/python bench/run.py --baseline   # + the llama-index quick-start baseline (~1 min an answer quiet)

What is measured (questions: a fixed, type-balanced subset of the answerable items in eval/dev.jsonl):
    a  index build from scratch, into a temporary index dir (embedding model already loaded)
    b  re-index with nothing changed, same temp dir (median of 3)
    c  retrieval p50/p95, warm, `get_retriever(settings).search` over 20 questions (default index)
    d  answer p50/p95 with the default local LLM through `answer()` (model loaded beforehand)
    e  time to the first streamed token through `stream_answer` (median; the stream is closed there)
    f  cold start: a fresh `assistant ask "..."` process, end to end (run first, see g)
    g  peak memory: max RSS of this process (before the baseline) and of the cold-start process
    h  the baseline's answer p50 over the same questions as d, and ours/baseline (only with --baseline)
Nothing asserts; the last lines say which targets are met. Timings are noisy when something else
uses the cores (the load average at start and end is recorded with the figures).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant import Settings, answer, build_index, stream_answer  # noqa: E402
from assistant.answer import get_retriever  # noqa: E402
from assistant.embed import get_embedder  # noqa: E402
from assistant.generate import get_generator  # noqa: E402

GOLD = ROOT / "eval" / "dev.jsonl"
RESULTS = ROOT / "bench" / "results"
TYPE_ORDER = ("table", "list", "numeric", "comparison", "multi_doc", "fact")  # round-robin over these
RETRIEVAL_QUESTIONS = 20
TARGETS = {  # name: (description, limit, strictly below); checked at the end
    "answer_p50_s": ("answer p50 <= 10 s", 10.0, False),
    "answer_p95_s": ("answer p95 <= 20 s", 20.0, False),
    "answer_vs_baseline": ("answer p50 <= 0.5 x baseline p50", 0.5, False),
    "retrieval_p50_ms": ("retrieval p50 < 100 ms", 100.0, True),
    "reindex_unchanged_s": ("unchanged re-index < 5 s", 5.0, True),
    "peak_rss_gb": ("peak memory < 3 GB", 3.0, True),
}


def pick_questions(path: Path = GOLD) -> list[dict]:
    """Answerable gold items in a fixed order that alternates types, so any prefix is varied."""
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    by_type = {t: sorted((i for i in items if i["type"] == t), key=lambda i: i["id"]) for t in TYPE_ORDER}
    out: list[dict] = []
    while any(by_type.values()):
        for t in TYPE_ORDER:
            if by_type[t]:
                out.append(by_type[t].pop(0))
    return out


def pct(xs: list[float], q: float) -> float:
    """Percentile with linear interpolation (q in 0..1); with 3 samples p95 is close to the max."""
    if not xs:
        return float("nan")
    s = sorted(xs)
    pos = q * (len(s) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def timed(fn: Callable, *args, **kwargs) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - t0, out


def _log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _rss_gb(kib: int) -> float:
    return kib * 1024 / 1e9  # ru_maxrss is in KiB on Linux


def bench_index(res: dict) -> None:
    """(a) build into a fresh temp dir, (b) re-index it unchanged three times."""
    with tempfile.TemporaryDirectory(prefix="bench-index-") as tmp:
        settings = Settings.load(index_dir=Path(tmp) / "index")
        secs, _ = timed(get_embedder().warm_up)
        res["embed_model_load_s"] = secs
        _log(f"embedding model loaded in {secs:.1f} s; building a fresh index in {tmp}")
        secs, summary = timed(build_index, settings)
        res["index_build_s"] = secs
        res["index_build"] = {"documents": summary.documents, "chunks": summary.chunks,
                              "tables": summary.tables}
        _log(f"(a) built in {secs:.1f} s: {summary.line()}")
        runs = []
        for _ in range(3):
            secs, summary = timed(build_index, settings)
            runs.append({"seconds": secs, "up_to_date": summary.up_to_date})
        res["reindex_unchanged_runs"] = runs
        res["reindex_unchanged_s"] = statistics.median(r["seconds"] for r in runs)
        _log(f"(b) unchanged re-index: {[round(r['seconds'], 3) for r in runs]} s, "
             f"up to date: {[r['up_to_date'] for r in runs]}")


def bench_retrieval(res: dict, settings: Settings, questions: list[str]) -> None:
    """(c) warm retrieval latency over the default index."""
    secs, retriever = timed(get_retriever, settings)
    res["retriever_open_s"] = secs
    secs, _ = timed(retriever.search, "warm-up question about partnerships", settings.candidates)
    res["retriever_first_search_s"] = secs  # builds BM25 lazily
    times = []
    for q in questions:
        secs, _ = timed(retriever.search, q, settings.candidates)
        times.append(secs * 1000)
    res["retrieval_ms"] = times
    res["retrieval_p50_ms"], res["retrieval_p95_ms"] = pct(times, 0.5), pct(times, 0.95)
    res["index_chunks"] = len(retriever.chunks)
    _log(f"(c) retrieval over {len(times)} questions: p50 {res['retrieval_p50_ms']:.1f} ms, "
         f"p95 {res['retrieval_p95_ms']:.1f} ms")


def bench_answers(res: dict, settings: Settings, questions: list[dict]) -> None:
    """(d) warm answer latency through the public `answer()`."""
    secs, _ = timed(get_generator(settings).warm_up)
    res["llm_load_s"] = secs
    _log(f"LLM loaded in {secs:.1f} s; answering {len(questions)} questions")
    rows = []
    for n, item in enumerate(questions, 1):
        secs, a = timed(answer, item["question"])
        rows.append({"id": item["id"], "type": item["type"], "seconds": secs, "abstained": a.abstained,
                     "citations": len(a.citations), "text": a.text})
        _log(f"(d) [{n}/{len(questions)}] {item['id']} {secs:.1f} s {'(abstained) ' if a.abstained else ''}"
             f"{a.text[:70]!r}")
    res["answers"] = rows
    times = [r["seconds"] for r in rows]
    res["answer_p50_s"], res["answer_p95_s"] = pct(times, 0.5), pct(times, 0.95)


def bench_first_token(res: dict, questions: list[dict]) -> None:
    """(e) seconds from calling `stream_answer` to its first token event."""
    rows = []
    for item in questions:
        t0 = time.perf_counter()
        stream = stream_answer(item["question"])
        first = None
        try:
            for ev in stream:
                if ev.kind == "token":
                    first = time.perf_counter() - t0
                    break
                if ev.kind == "answer":  # no token at all (extractive backend or empty generation)
                    break
        finally:
            stream.close()  # stop generating: only the first token is measured
        rows.append({"id": item["id"], "seconds": first})
        _log(f"(e) first token for {item['id']}: {first if first is None else round(first, 1)} s")
    res["first_token"] = rows
    got = [r["seconds"] for r in rows if r["seconds"] is not None]
    res["first_token_p50_s"] = statistics.median(got) if got else None


def bench_cold_start(res: dict, question: str) -> None:
    """(f) a fresh CLI process answering one question; (g) its peak RSS (run it before loading anything)."""
    cmd = [str(ROOT / ".venv" / "bin" / "assistant"), "ask", question]
    _log(f"(f) cold start: {' '.join(cmd[:2])} {question!r}")
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    parent = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=900)
    secs = time.perf_counter() - t0
    child = resource.getrusage(resource.RUSAGE_CHILDREN)  # max over waited-for children: this one
    if before >= child.ru_maxrss or parent >= child.ru_maxrss:
        _log("(g) the cold-start peak RSS is an upper bound (an earlier child or this process was larger)")
    m = re.search(r"\(([^()]*), ([\d.]+) s\)\s*$", proc.stdout)
    res["cold_start"] = {"question": question, "seconds": secs, "returncode": proc.returncode,
                         # Answer.seconds as printed: from the start of answer(), so it includes loading the
                         # embedder, the index and the LLM; the rest of `seconds` is process start and imports.
                         "answer_seconds_reported": float(m.group(2)) if m else None,
                         "parent_max_rss_gb_at_spawn": _rss_gb(parent),
                         "stdout_tail": proc.stdout[-400:], "stderr_tail": proc.stderr[-400:],
                         "max_rss_gb": _rss_gb(child.ru_maxrss)}
    res["cold_start_s"] = secs
    res["cold_start_peak_rss_gb"] = _rss_gb(child.ru_maxrss)
    _log(f"(f) cold start {secs:.1f} s (rc {proc.returncode}; Answer.seconds incl. model loads "
         f"{m.group(2) if m else '?'} s), child peak RSS {res['cold_start_peak_rss_gb']:.2f} GB")


def bench_baseline(res: dict, questions: list[dict]) -> None:
    """(h) the llama-index quick-start pipeline (eval/baseline.py) on the same questions as (d)."""
    spec = importlib.util.spec_from_file_location("bench_baseline", ROOT / "eval" / "baseline.py")
    mod = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    b = mod.Baseline()
    b.warm_up()
    res["baseline_load_s"] = b.load_seconds
    res["baseline_chunks"] = b.chunks
    _log(f"(h) baseline loaded in {b.load_seconds:.1f} s ({b.chunks} chunks)")
    rows = []
    for n, item in enumerate(questions, 1):
        text, secs, sources = b.ask(item["question"])
        rows.append({"id": item["id"], "seconds": secs, "text": text, "source_chars": sum(map(len, sources))})
        _log(f"(h) [{n}/{len(questions)}] {item['id']} {secs:.1f} s {text[:70]!r}")
    res["baseline_answers"] = rows
    times = [r["seconds"] for r in rows]
    res["baseline_p50_s"], res["baseline_p95_s"] = pct(times, 0.5), pct(times, 0.95)
    res["answer_vs_baseline"] = res["answer_p50_s"] / res["baseline_p50_s"]


def _fmt(v, unit: str, nd: int = 1) -> str:
    return "n/a" if v is None else f"{v:.{nd}f} {unit}"


def report(res: dict) -> list[str]:
    """The table and the target lines."""
    a = res.get
    rows = [
        ("(a) index build from scratch", _fmt(a("index_build_s"), "s"),
         f"{a('index_build', {}).get('chunks')} chunks; "
         f"embedding model load {a('embed_model_load_s', 0):.1f} s not included"),
        ("(b) re-index, nothing changed", _fmt(a("reindex_unchanged_s"), "s", 3), "median of 3"),
        ("(c) retrieval p50 / p95", f"{a('retrieval_p50_ms'):.1f} / {a('retrieval_p95_ms'):.1f} ms",
         f"{len(a('retrieval_ms'))} questions, warm, {a('index_chunks')} chunks"),
        ("(d) answer p50 / p95", f"{a('answer_p50_s'):.1f} / {a('answer_p95_s'):.1f} s",
         f"{len(a('answers'))} questions, model loaded ({a('llm_load_s'):.1f} s load not included)"),
        ("(e) first streamed token, median", _fmt(a("first_token_p50_s"), "s"),
         f"{len(a('first_token'))} questions"),
        ("(f) cold start to first answer", _fmt(a("cold_start_s"), "s"),
         f"fresh `assistant ask` process, rc {a('cold_start', {}).get('returncode')}"),
        ("(g) peak RSS, this process", _fmt(a("peak_rss_gb"), "GB", 2),
         "embedder + index + LLM (before baseline)"),
        ("(g) peak RSS, cold-start process", _fmt(a("cold_start_peak_rss_gb"), "GB", 2),
         "RUSAGE_CHILDREN, spawned first (see bench_cold_start)"),
    ]
    if "baseline_p50_s" in res:
        rows += [("(h) baseline answer p50 / p95", f"{a('baseline_p50_s'):.1f} / {a('baseline_p95_s'):.1f} s",
                  f"llama-index quick-start, same questions; load {a('baseline_load_s'):.1f} s"),
                 ("(h) ours / baseline (p50)", f"{a('answer_vs_baseline'):.2f}", "")]
    else:
        rows.append(("(h) baseline", "not run", "use --baseline (~1 min an answer)"))
    w = max(len(r[0]) for r in rows)
    v = max(len(r[1]) for r in rows)
    lines = [f"{name:<{w}}  {val:>{v}}  {note}".rstrip() for name, val, note in rows]
    lines.append("")
    peak = max(x for x in (a("peak_rss_gb"), a("cold_start_peak_rss_gb")) if x is not None)
    checks = {
        "answer_p50_s": a("answer_p50_s"), "answer_p95_s": a("answer_p95_s"),
        "answer_vs_baseline": a("answer_vs_baseline"),
        "retrieval_p50_ms": a("retrieval_p50_ms"), "reindex_unchanged_s": a("reindex_unchanged_s"),
        "peak_rss_gb": peak,
    }
    res["targets"] = {}
    for key, (desc, limit, strict) in TARGETS.items():
        val = checks[key]
        if val is None:
            state = "not measured"
        else:
            state = "met" if (val < limit if strict else val <= limit) else "NOT met"
        res["targets"][key] = {"target": desc, "value": val, "status": state}
        shown = "—" if val is None else f"{val:.3g}"
        lines.append(f"target {desc:<34} {state:<13} (measured {shown})")
    return lines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="3 answers instead of 8, 2 first-token runs, not 3")
    p.add_argument("-n", type=int, help="answers for (d) and (h) (default 8, or 3 with --quick)")
    p.add_argument("--baseline", action="store_true", help="also time the llama-index quick-start baseline")
    p.add_argument("--out", type=Path, default=RESULTS / "latest.json", help="where to write the results")
    args = p.parse_args(argv)
    n = args.n or (3 if args.quick else 8)
    n_first = 2 if args.quick else 3
    ordered = pick_questions()
    answer_items = ordered[:n]
    first_token_items = ordered[n:n + n_first]  # other questions: no KV-cache reuse from (d)
    retrieval_questions = [i["question"] for i in ordered[:RETRIEVAL_QUESTIONS]]
    settings = Settings.load()

    t_start = time.perf_counter()
    res: dict = {
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"), "argv": sys.argv[1:],
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform(), "loadavg_start": os.getloadavg()},
        "settings": {k: str(getattr(settings, k)) for k in ("llm", "local_model", "n_threads", "n_ctx",
                                                             "top_k", "candidates", "evidence_words",
                                                             "max_tokens", "index_dir")},
        "questions": {"answer": [i["id"] for i in answer_items],
                      "first_token": [i["id"] for i in first_token_items],
                      "retrieval": [i["id"] for i in ordered[:RETRIEVAL_QUESTIONS]]},
    }
    _log(f"load average {res['machine']['loadavg_start']}; {os.cpu_count()} cores")
    # First, while this process is small: Linux counts the RSS a child inherits at fork into its
    # ru_maxrss, so a child forked from a 2.8 GB parent reports >= 2.8 GB whatever it uses itself.
    bench_cold_start(res, answer_items[0]["question"])
    bench_index(res)
    bench_retrieval(res, settings, retrieval_questions)
    bench_answers(res, settings, answer_items)
    bench_first_token(res, first_token_items)
    res["peak_rss_gb"] = _rss_gb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    if args.baseline:
        bench_baseline(res, answer_items)
        res["peak_rss_with_baseline_gb"] = _rss_gb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    res["machine"]["loadavg_end"] = os.getloadavg()
    res["bench_seconds"] = time.perf_counter() - t_start

    lines = report(res)
    load = res["machine"]
    print(f"\nbench on {os.cpu_count()} cores, load average {load['loadavg_start'][0]:.1f} at start, "
          f"{load['loadavg_end'][0]:.1f} at end; {res['bench_seconds']:.0f} s in all\n")
    print("\n".join(lines))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(res, indent=1, ensure_ascii=False, default=str)
    args.out.write_text(text)
    (args.out.parent / f"{time.strftime('%Y%m%dT%H%M%S')}.json").write_text(text)
    print(f"\nresults: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
