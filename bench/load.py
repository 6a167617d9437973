"""Bounded load test: N concurrent clients against the running app's /ask endpoint and the Python API.

    .venv/bin/python bench/load.py                          # 4 and 16 clients, 64 requests each, app + API
    .venv/bin/python bench/load.py --requests 16 --clients 4 --targets app
    make bench-load

The app (app.py of this checkout) is started as a subprocess on a free 127.0.0.1 port with the extractive
backend (ASSISTANT_LLM=none), so what is measured is retrieval, evidence selection, the citation check and
the web stack, not an LLM. Loopback only; GRADIO_ANALYTICS_ENABLED=False and HF_HUB_OFFLINE=1.
Reported per target and client count: requests, errors (must be 0), throughput, latency p50/p95/max, and
peak memory (app: the server process's VmHWM; API: this process's max RSS). Writes bench/results/load.json.
It depends only on the app exposing an `/ask` endpoint that takes a question string and returns Markdown.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

GOLD = ROOT / "eval" / "dev.jsonl"
RESULTS = ROOT / "bench" / "results"


def questions() -> list[str]:
    """The gold set's questions (answerable and not), in file order."""
    return [json.loads(line)["question"] for line in GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]


def pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    if not s:
        return float("nan")
    pos = q * (len(s) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory of a process (Linux VmHWM), MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class App:
    """app.py as a subprocess on a free loopback port (extractive backend)."""

    def __init__(self, env: dict[str, str], timeout: float = 600) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        env = {**os.environ, **env, "GRADIO_SERVER_PORT": str(self.port), "GRADIO_SERVER_NAME": "127.0.0.1",
               "ASSISTANT_LLM": "none", "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1"}
        self.log = tempfile.NamedTemporaryFile("w+", prefix="app-", suffix=".log", delete=False)  # noqa: SIM115
        self.proc = subprocess.Popen([sys.executable, str(ROOT / "app.py")], env=env, cwd=ROOT,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"app.py exited with {self.proc.returncode}: {self.tail()}")
            try:
                if httpx.get(self.url, timeout=2, trust_env=False).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        self.close()
        raise RuntimeError(f"app.py did not answer on {self.url} within {timeout:.0f} s: {self.tail()}")

    def tail(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")[-2000:]

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def run_level(call, make_client, clients: int, requests: int, qs: list[str]) -> dict:
    """`requests` calls spread over `clients` threads (each with its own client); latencies and errors."""
    local = threading.local()
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def one(i: int) -> None:
        if not hasattr(local, "client"):
            local.client = make_client()
        q = qs[i % len(qs)]
        t0 = time.perf_counter()
        try:
            out = call(local.client, q)
            ok = isinstance(out, str) and out.strip() and not out.startswith("Error:")
            err = None if ok else f"bad response to {q!r}: {str(out)[:200]!r}"
        except Exception as e:  # every failure counts, whatever raised it
            err = f"{type(e).__name__}: {e}"[:300]
        dt = time.perf_counter() - t0
        with lock:
            latencies.append(dt)
            if err:
                errors.append(err)

    # clients are created up front (a gradio_client handshake is ~0.4 s) so the clock measures requests
    barrier = threading.Barrier(clients)

    def setup(_: int) -> None:  # the barrier makes every worker thread take exactly one of these
        local.client = make_client()
        barrier.wait(timeout=300)

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(setup, range(clients)))
        t0 = time.perf_counter()
        list(pool.map(one, range(requests)))
        wall = time.perf_counter() - t0
    return {"clients": clients, "requests": requests, "errors": len(errors), "error_samples": errors[:3],
            "throughput_rps": requests / wall, "p50_ms": pct(latencies, 0.5) * 1000,
            "p95_ms": pct(latencies, 0.95) * 1000, "max_ms": max(latencies) * 1000, "wall_s": wall}


def bench_app(levels: list[int], requests: int, env: dict[str, str]) -> list[dict]:
    from gradio_client import Client

    t0 = time.perf_counter()
    app = App(env)
    startup = time.perf_counter() - t0
    try:
        # one warm-up request (loads MiniLM and the retriever in the app)
        Client(app.url, verbose=False).predict("warm up: what is the Strategic Compass?", api_name="/ask")
        rows = []
        for n in levels:
            row = run_level(lambda c, q: c.predict(q, api_name="/ask"), lambda: Client(app.url, verbose=False),
                            n, requests, questions())
            row.update(target="app /ask", peak_rss_mb=peak_rss_mb(app.proc.pid), startup_s=startup)
            rows.append(row)
            print_row(row)
        return rows
    finally:
        app.close()


def bench_api(levels: list[int], requests: int) -> list[dict]:
    from assistant import answer

    answer("warm up: what is the Strategic Compass?", llm="none")
    rows = []
    for n in levels:
        row = run_level(lambda _c, q: answer(q, llm="none").to_markdown(), lambda: None, n, requests, questions())
        row.update(target="python answer()",
                   peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        rows.append(row)
        print_row(row)
    return rows


HEADER = f"{'target':<18}{'clients':>8}{'requests':>9}{'errors':>7}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}" \
         f"{'max ms':>9}{'peak RSS MB':>13}"


def print_row(r: dict) -> None:
    print(f"{r['target']:<18}{r['clients']:>8}{r['requests']:>9}{r['errors']:>7}{r['throughput_rps']:>8.1f}"
          f"{r['p50_ms']:>9.0f}{r['p95_ms']:>9.0f}{r['max_ms']:>9.0f}{r['peak_rss_mb']:>13.0f}", flush=True)
    for e in r["error_samples"]:
        print(f"    error: {e}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clients", type=int, nargs="+", default=[4, 16])
    p.add_argument("--requests", type=int, default=64, help="requests per client level")
    p.add_argument("--targets", nargs="+", choices=["app", "api"], default=["app", "api"])
    p.add_argument("--index-dir", help="ASSISTANT_INDEX_DIR for both targets (default: the settings' index)")
    p.add_argument("--corpus-dir", help="ASSISTANT_CORPUS_DIR (default: corpus/)")
    p.add_argument("--out", default=str(RESULTS / "load.json"))
    args = p.parse_args(argv)
    env = {}
    if args.index_dir:
        env["ASSISTANT_INDEX_DIR"] = os.environ["ASSISTANT_INDEX_DIR"] = str(Path(args.index_dir).resolve())
    if args.corpus_dir:
        env["ASSISTANT_CORPUS_DIR"] = os.environ["ASSISTANT_CORPUS_DIR"] = str(Path(args.corpus_dir).resolve())
    from assistant import Settings, build_index

    print(build_index(Settings.load()).line(), flush=True)  # the app and the API then share a ready index
    print(f"load average {os.getloadavg()[0]:.2f}; {os.cpu_count()} cores\n{HEADER}", flush=True)
    rows = []
    if "app" in args.targets:
        rows += bench_app(args.clients, args.requests, env)
    if "api" in args.targets:
        rows += bench_api(args.clients, args.requests)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"rows": rows, "load_avg_end": os.getloadavg()[0],
                                          "p50_of_p50_ms": statistics.median(r["p50_ms"] for r in rows)}, indent=1))
    bad = sum(r["errors"] for r in rows)
    print(f"errors: {bad}" + ("" if bad == 0 else "  <-- FAIL"))
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
