"""How cost grows with the library: indexes of ~1x, 10x and 100x the corpus, embedded and on a Chroma server.

    .venv/bin/python bench/scale.py                       # factors 1 10 100, both modes (~30 min cold, 2 cores)
    .venv/bin/python bench/scale.py --factors 1 10        # quicker
    make bench-scale

Extra documents are made deterministically from the real ones (seeded): names swapped for others from a
fixed list, sentences shuffled within paragraphs, years shifted, paragraphs reordered; tables keep their
shape. So texts differ and vectors differ, and retrieval has real work to do.

Embedding ~50k chunks with MiniLM takes minutes, so vectors are cached by the sha256 of the embedded text
(bench/.cache/vectors-*.npy): the first build at a size pays for embedding (reported as "embed s"), the
other mode reuses the vectors. Each (size, mode) runs in a fresh worker process, so "peak RSS" is that
build+query process alone; in server mode the server's own peak (VmHWM) is reported as well.

Per row: chunks, build s (index from scratch; embedding excluded when cached), embed s (real embedding in
that run), one changed document s (incremental: re-embed one document, rewrite the build), size on disk,
open s (first question: read chunks, term statistics, BM25), retrieval p50/p95 ms over the gold questions
(warm, full `Retriever.search`: query embedding + dense + BM25 + fusion), peak RSS.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CACHE = ROOT / "bench" / ".cache"
RESULTS = ROOT / "bench" / "results"

# names that appear in the corpus, and what a variant may put in their place (rotated by copy number)
NAMES = ["Norway", "Japan", "South Korea", "Moldova", "Albania", "North Macedonia", "Canada", "Ukraine",
         "Georgia", "NATO", "United States", "United Kingdom", "Australia", "India"]
OTHERS = ["Iceland", "Chile", "Brazil", "Mexico", "Kenya", "Ghana", "Vietnam", "Indonesia", "Peru", "Morocco",
          "Senegal", "Argentina", "Tunisia", "Jordan", "Serbia", "Armenia", "Mongolia", "Philippines", "Nigeria",
          "Colombia", "Egypt", "Malaysia", "Thailand", "Uruguay", "Panama", "Namibia", "Zambia", "Rwanda"]


# --------------------------------------------------------------------------- deterministic corpus variants


def variant(text: str, seed: int) -> str:
    """A transformed copy of a document: swapped names, shuffled sentences, shifted years."""
    rng = random.Random(seed)
    others = OTHERS[:]
    rng.shuffle(others)
    swap = dict(zip(NAMES, others, strict=False))
    pattern = re.compile("|".join(re.escape(n) for n in sorted(NAMES, key=len, reverse=True)))
    shift = rng.randint(1, 9)
    paragraphs = text.split("\n\n")
    out = []
    for p in paragraphs:
        p = pattern.sub(lambda m: swap[m.group(0)], p)
        p = re.sub(r"\b(19[5-9]\d|20[0-3]\d)\b", lambda m: str(int(m.group(1)) + shift), p)
        if "\t" not in p and p.count(". ") >= 2:  # prose: shuffle its sentences (tables keep their rows)
            sentences = re.split(r"(?<=\.) (?=[A-Z])", p)
            rng.shuffle(sentences)
            p = " ".join(sentences)
        out.append(p)
    body = out[1:]
    # move a few paragraphs (not the first: it holds the title)
    for _ in range(len(body) // 10):
        i, j = rng.randrange(len(body)), rng.randrange(len(body))
        body[i], body[j] = body[j], body[i]
    return "\n\n".join(out[:1] + body)


def make_corpus(factor: int) -> Path:
    """corpus/ plus (factor - 1) variants of each document, in bench/.cache/corpus-<factor>x (made once)."""
    dst = CACHE / f"corpus-{factor}x"
    real = sorted(p for p in (ROOT / "corpus").iterdir() if p.suffix == ".txt")
    stamp = dst / ".complete"
    if stamp.exists():
        return dst
    shutil.rmtree(dst, ignore_errors=True)
    dst.mkdir(parents=True)
    for name in ("sources.json", "corrections.json"):
        shutil.copy(ROOT / "corpus" / name, dst / name)
    for p in real:
        shutil.copy(p, dst / p.name)
        text = p.read_text(encoding="utf-8")
        for i in range(1, factor):
            seed = int(hashlib.sha256(f"{p.name}:{i}".encode()).hexdigest()[:8], 16)
            (dst / f"{p.stem}-v{i:03d}.txt").write_text(variant(text, seed), encoding="utf-8")
    stamp.write_text("ok")
    return dst


# --------------------------------------------------------------------------- cached embeddings


class CachedEmbedder:
    """The real embedder behind a cache keyed by sha256 of the text (bench only)."""

    def __init__(self, path: Path) -> None:
        from assistant.embed import get_embedder

        self.real = get_embedder()
        self.name = self.real.name
        self.path = path
        self.cache: dict[str, np.ndarray] = {}
        if path.exists():
            data = np.load(path, allow_pickle=False)
            self.cache = dict(zip(data["keys"].tolist(), data["vectors"], strict=True))
        self.embed_seconds = 0.0
        self.embedded = 0

    def embed(self, texts, batch_size: int = 32, progress=None):
        keys = [hashlib.sha256(t.encode()).hexdigest() for t in texts]
        missing = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in self.cache}.items())
        if missing:
            t0 = time.perf_counter()
            vecs = self.real.embed([t for _, t in missing], batch_size=batch_size)
            self.embed_seconds += time.perf_counter() - t0
            self.embedded += len(missing)
            for (k, _), v in zip(missing, vecs, strict=True):
                self.cache[k] = np.asarray(v, dtype=np.float32)
        if progress:
            progress(len(texts))
        return [self.cache[k] for k in keys]

    def embed_query(self, text: str):
        return self.real.embed_query(text)

    def save(self) -> None:
        if not self.cache:
            return
        keys = list(self.cache)
        tmp = self.path.with_suffix(".tmp.npz")
        np.savez(tmp, keys=np.array(keys), vectors=np.stack([self.cache[k] for k in keys]))
        os.replace(tmp, self.path)


class HashedEmbedder(CachedEmbedder):
    """A stand-in when MiniLM would take too long (2 shared cores: ~5-200 texts/s): word unigrams and bigrams
    hashed into 384 signed dimensions, L2-normalised. Different texts get different vectors, so the store and
    the retrieval do the same work; semantic quality is not what is measured. Queries use the same hashing."""

    def __init__(self) -> None:
        from assistant.embed import get_embedder

        self.real = get_embedder()
        self.name = self.real.name
        self.embed_seconds = 0.0
        self.embedded = 0

    @staticmethod
    def _vec(text: str) -> np.ndarray:
        words = re.findall(r"\w+", text.lower())
        v = np.zeros(384, dtype=np.float32)
        for feat in words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]:
            h = int.from_bytes(hashlib.blake2b(feat.encode(), digest_size=8).digest(), "little")
            v[h % 384] += 1.0 if (h >> 20) & 1 else -1.0
        n = np.linalg.norm(v)
        return v / n if n else v

    def embed(self, texts, batch_size: int = 32, progress=None):
        t0 = time.perf_counter()
        out = [self._vec(t) for t in texts]
        self.embed_seconds += time.perf_counter() - t0
        self.embedded += len(texts)
        if progress:
            progress(len(texts))
        return out

    def embed_query(self, text: str):
        return self._vec(text).tolist()

    def save(self) -> None:
        pass


# --------------------------------------------------------------------------- one (size, mode) in a worker


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    pos = q * (len(s) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def worker(factor: int, mode: str, chroma_url: str, work: Path, queries: int, embedder: str) -> dict:
    import assistant.indexer as indexer
    from assistant import Settings, build_index
    from assistant.retrieve import Retriever
    from assistant.store import open_index

    corpus_src = make_corpus(factor)
    corpus = work / "corpus"  # a private copy: the incremental step edits one file
    shutil.copytree(corpus_src, corpus)
    emb = CachedEmbedder(CACHE / "vectors.npz") if embedder == "minilm" else HashedEmbedder()
    indexer.get_embedder = lambda: emb  # build_index embeds through the cache
    kw = dict(corpus_dir=corpus, index_dir=work / "index", llm="none")
    if mode == "server":
        kw.update(chroma_url=chroma_url, chroma_collection=f"scale{factor}x")
    settings = Settings.load(**kw)
    t0 = time.perf_counter()
    summary = build_index(settings)
    build_s = time.perf_counter() - t0
    embed_s, embedded = emb.embed_seconds, emb.embedded
    emb.save()
    size = du(settings.index_dir if mode == "embedded" else work / "chroma-db")  # one build, before the next

    # incremental: one document changed (a paragraph appended)
    target = corpus / "003_46047ba99165b17f.txt"
    target.write_text(target.read_text(encoding="utf-8") + "\n\nAddendum\n\nThe working group met again in "
                      "autumn to review the partnerships and the new reporting cycle.\n", encoding="utf-8")
    emb.embed_seconds = 0.0
    t0 = time.perf_counter()
    inc = build_index(settings)
    inc_s = time.perf_counter() - t0
    assert inc.embedded_documents == 1, inc.line()

    # retrieval: open (chunks, statistics), first search builds BM25, then warm searches
    gold = [json.loads(line)["question"] for line in (ROOT / "eval" / "dev.jsonl").read_text().splitlines()
            if line.strip()][:queries]
    t0 = time.perf_counter()
    retriever = Retriever(open_index(settings), emb)
    retriever.search(gold[0], settings.candidates)
    open_s = time.perf_counter() - t0
    lat, dense, lexical = [], [], []
    for q in gold:
        t0 = time.perf_counter()
        retriever.search(q, settings.candidates)
        lat.append(time.perf_counter() - t0)
    # where the time goes: the dense query and BM25 alone (query vector computed outside)
    from assistant.text import content_tokens

    vec = emb.embed_query(gold[1])
    for q in gold[:20]:
        t0 = time.perf_counter()
        retriever.index.query(vec, settings.candidates)
        dense.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        retriever._lexical().search(content_tokens(q), settings.candidates)
        lexical.append(time.perf_counter() - t0)
    return {"factor": factor, "mode": mode, "documents": summary.documents, "chunks": summary.chunks,
            "build_s": build_s, "embed_s": embed_s, "embedded_chunks": embedded,
            "build_minus_embed_s": build_s - embed_s, "one_changed_doc_s": inc_s,
            "one_changed_doc_embed_s": emb.embed_seconds, "size_mb": size / 1e6,
            "open_s": open_s, "p50_ms": pct(lat, 0.5) * 1000, "p95_ms": pct(lat, 0.95) * 1000,
            "dense_p50_ms": pct(dense, 0.5) * 1000, "bm25_p50_ms": pct(lexical, 0.5) * 1000,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "embedder": embedder}


# --------------------------------------------------------------------------- the driver


def run(factors: list[int], modes: list[str], queries: int, embedders: dict[int, str]) -> list[dict]:
    sys.path.insert(0, str(ROOT / "tests"))
    from test_server_mode import start_chroma  # the same launcher the tests use

    sys.path.insert(0, str(ROOT / "bench"))
    from load import peak_rss_mb

    rows = []
    CACHE.mkdir(parents=True, exist_ok=True)
    print(HEADER, flush=True)
    for factor in factors:
        make_corpus(factor)
        for mode in modes:
            work = CACHE / f"run-{factor}x-{mode}"
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir(parents=True)
            server, url = None, ""
            if mode == "server":
                server, url = start_chroma(work / "chroma-db")
            try:
                r = subprocess.run([sys.executable, __file__, "--worker", str(factor), mode, url, str(work),
                                    str(queries), embedders[factor]], capture_output=True, text=True, cwd=ROOT)
                if r.returncode != 0:
                    raise RuntimeError(f"worker {factor}x {mode} failed:\n{r.stderr[-3000:]}")
                row = json.loads(r.stdout.strip().splitlines()[-1])
                if server is not None:
                    row["server_peak_rss_mb"] = peak_rss_mb(server.pid)
            finally:
                if server is not None:
                    server.terminate()
                    server.wait(timeout=30)
            shutil.rmtree(work, ignore_errors=True)
            rows.append(row)
            print_row(row)
    return rows


HEADER = (f"{'size':>5} {'mode':<9}{'docs':>6}{'chunks':>8}{'build s':>9}{'embed s':>9}{'1 doc s':>9}"
          f"{'disk MB':>9}{'open s':>8}{'p50 ms':>8}{'p95 ms':>8}{'dense':>7}{'bm25':>7}{'RSS MB':>8}{'srv MB':>8}")


def print_row(r: dict) -> None:
    srv = r.get("server_peak_rss_mb")
    print(f"{r['factor']:>4}x {r['mode']:<9}{r['documents']:>6}{r['chunks']:>8}{r['build_s']:>9.1f}"
          f"{r['embed_s']:>9.1f}{r['one_changed_doc_s']:>9.1f}{r['size_mb']:>9.0f}{r['open_s']:>8.1f}"
          f"{r['p50_ms']:>8.0f}{r['p95_ms']:>8.0f}{r['dense_p50_ms']:>7.1f}{r['bm25_p50_ms']:>7.1f}"
          f"{r['peak_rss_mb']:>8.0f}{(f'{srv:.0f}' if srv else '-'):>8}  {r.get('embedder', 'minilm')}", flush=True)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--worker"]:
        factor, mode, url, work, queries, embedder = argv[1:]
        print(json.dumps(worker(int(factor), mode, url, Path(work), int(queries), embedder)))
        return 0
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--factors", type=int, nargs="+", default=[1, 10, 100])
    p.add_argument("--modes", nargs="+", choices=["embedded", "server"], default=["embedded", "server"])
    p.add_argument("--queries", type=int, default=91, help="gold questions timed per row")
    p.add_argument("--hashed", type=int, nargs="*", default=[], metavar="FACTOR",
                   help="sizes that use hashed stand-in vectors instead of MiniLM (e.g. --hashed 100 when the "
                        "cores are busy); the table marks them")
    p.add_argument("--out", default=str(RESULTS / "scale.json"))
    args = p.parse_args(argv)
    print(f"load average {os.getloadavg()[0]:.2f}; {os.cpu_count()} cores", flush=True)
    rows = run(args.factors, args.modes, args.queries,
               {f: "hashed" if f in args.hashed else "minilm" for f in args.factors})
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"rows": rows, "load_avg_end": os.getloadavg()[0]}, indent=1))
    worst = max(r["p95_ms"] for r in rows)
    print(f"retrieval p95, worst row: {worst:.0f} ms" + (" (target < 300 ms: met)" if worst < 300 else
                                                           " (target < 300 ms: NOT met)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
