"""`assistant eval`: run the gold set through `answer()`, score it, print a table, write a JSON report, gate CI."""

from __future__ import annotations

import json
import re
import shutil
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .answer import answer, get_retriever
from .config import PROJECT_ROOT, Settings
from .errors import ConfigError
from .evidence import MONTHS
from .ingest.readers import SUPPORTED
from .text import fold

__all__ = ["load_gold", "score_item", "run_eval", "summarise", "main", "SPLITS", "split_settings", "reason_kind"]

GOLD_DIR = PROJECT_ROOT / "eval"
TYPES = ("fact", "list", "table", "multi_doc", "numeric", "comparison", "unanswerable")
SHARED_PDFS = PROJECT_ROOT.parent / "shared" / "pdfs"


@dataclass(frozen=True)
class Split:
    """A set of gold items and the documents it is asked over.

    `extra_docs`: a folder whose documents are added beside corpus/, the way a user adds files (the eval
    copies corpus/ and them into eval/reports/corpus-<split>/ and indexes that). `locked`: written by
    someone who has not seen the code; only aggregate figures are printed, never single items."""

    name: str
    file: str
    locked: bool = False
    extra_docs: Path | None = None


SPLITS = {s.name: s for s in (
    Split("dev", "dev.jsonl"),
    Split("dev_paraphrases", "dev_paraphrases.jsonl"),
    Split("test", "test.jsonl", locked=True),
    Split("pdfs", "pdfs.jsonl", locked=True, extra_docs=SHARED_PDFS),
)}


def split_settings(split: Split, settings: Settings) -> Settings:
    """Settings whose corpus holds the split's documents: corpus/ as configured, plus its extra folder."""
    if split.extra_docs is None:
        return settings
    if not split.extra_docs.is_dir():
        raise ConfigError(f"split {split.name!r} needs the documents in {split.extra_docs}")
    base = GOLD_DIR / "reports"
    corpus = base / f"corpus-{split.name}"
    corpus.mkdir(parents=True, exist_ok=True)
    # the user's corpus as it is (with sources.json), and the documents of the extra folder (not its README)
    wanted = {p.name: p for p in sorted(settings.corpus_dir.iterdir()) if p.is_file()}
    wanted.update({p.name: p for p in sorted(split.extra_docs.iterdir()) if p.suffix.lower() in SUPPORTED
                   and p.name.lower() != "readme.md"})
    for old in corpus.iterdir():
        if old.name not in wanted:
            old.unlink()
    for name, src in wanted.items():
        dst = corpus / name
        if not dst.exists() or dst.read_bytes() != src.read_bytes():
            shutil.copyfile(src, dst)
    return settings.replace(corpus_dir=corpus, index_dir=base / f"index-{split.name}")


def load_gold(paths: list[Path] | None = None) -> list[dict]:
    """Gold items from the given files (default: the dev split), validated."""
    paths = paths or [GOLD_DIR / SPLITS["dev"].file]
    items = []
    for p in paths:
        for ln, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            item = json.loads(line)
            missing = {"id", "type", "question", "must_contain", "must_not_contain", "evidence", "source"} - set(item)
            if missing or item["type"] not in TYPES:
                raise ConfigError(f"{p.name}:{ln}: bad gold item (missing {sorted(missing)}, "
                                  f"type {item.get('type')!r})")
            items.append(item)
    return items


def _norm(s: str) -> str:
    return re.sub(r"[^a-z0-9]", "", fold(s))


def holds_evidence(evidence: str, text: str, kind: str = "text", locator: str = "") -> bool:
    """Whether a passage holds an item's gold evidence: the evidence verbatim (spacing and punctuation
    aside), or, in a table record, every word and figure of it among the record's cells and labels (the
    printed row "Kenya 761 2,304" is the record 'row "Kenya": Qty: 761; Cost: 2,304')."""
    if _norm(evidence) in _norm(text):
        return True
    if kind not in ("table_row", "table_column"):
        return False
    have = set(re.findall(r"[a-z0-9]+", fold(f"{locator} {text}").replace(",", "")))
    need = re.findall(r"[a-z0-9]+", fold(evidence).replace(",", ""))
    return bool(need) and all(t in have for t in need)


_MON = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_DATE_FORMS = (  # (pattern, (day, month, year) groups), every one read as one spelling
    (re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+{_MON},?\s+(\d{{4}})\b"), (1, 2, 3)),
    (re.compile(rf"\b{_MON}\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b"), (2, 1, 3)),
    (re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b"), (3, 2, 1)),
    (re.compile(r"\b(\d{1,2})[/.](\d{1,2})[/.](\d{4}|\d{2})\b"), (1, 2, 3)),  # European order
)


def _spell_dates(text: str) -> str:
    """Folded text with every full date written '21 may 2024', so '2024-05-21', 'May 21, 2024' and
    '21/05/2024' all match a gold '21 May 2024', and '20 March 2023' matches a gold 'March 2023'."""
    def spell(m: re.Match, order: tuple[int, int, int]) -> str:
        day, month, year = (m.group(i) for i in order)
        month = int(month) if month.isdigit() else next(i + 1 for i, n in enumerate(MONTHS) if n.startswith(month))
        if not 1 <= month <= 12 or not 1 <= int(day) <= 31:
            return m.group(0)
        year = f"20{year}" if len(year) == 2 else year
        return f"{int(day)} {MONTHS[month - 1]} {year}"

    text = fold(text)
    for pattern, order in _DATE_FORMS:
        text = pattern.sub(lambda m, o=order: spell(m, o), text)
    return text


def _has(text: str, want) -> bool:
    """Does the text hold one of the wanted spellings? A figure counts only whole: '3' is not in '13'."""
    options = want if isinstance(want, list) else [want]
    t = _spell_dates(text)
    for o in map(_spell_dates, options):
        edges = (r"(?<![\d.,])" if o[:1].isdigit() else "", r"(?![\d]|[.,]\d)" if o[-1:].isdigit() else "")
        if re.search(edges[0] + re.escape(o) + edges[1], t):
            return True
    return False


def score_item(item: dict, text: str, abstained: bool) -> bool:
    """Correct: abstains on unanswerable items; otherwise answers with every must and no must-not string."""
    if item["type"] == "unanswerable":
        return abstained
    if abstained:
        return False
    return all(_has(text, w) for w in item["must_contain"]) and not any(_has(text, w) for w in item["must_not_contain"])


def _pct(xs: list[float], q: float) -> float:
    if not xs:
        return 0.0
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def chunk_holds(evidence: str, chunk) -> bool:
    """`holds_evidence` for a whole chunk (its text, kind and locator)."""
    return holds_evidence(evidence, chunk.text, chunk.kind, chunk.locator)


def run_eval(items: list[dict], settings: Settings, k: int | None = None, log=print, locked: bool = False) -> dict:
    """Answer every item; return the report dict. A locked split logs progress only, never an item."""
    retriever = get_retriever(settings, progress=True)
    docs = retriever.index.documents
    k = k or settings.top_k
    rows = []
    for n, item in enumerate(items, 1):
        t0 = time.perf_counter()
        a = answer(item["question"], **_overrides(settings))
        secs = time.perf_counter() - t0
        ok = score_item(item, a.text, a.abstained)
        ev = item.get("evidence") or ""
        cited_ev = recall = None
        if _norm(ev) and item["type"] != "unanswerable":
            by_id = {h.chunk.id: h.chunk for h in a.hits}
            cited_ev = any(holds_evidence(ev, docs[c.source].text[c.start:c.end]) or
                           (c.chunk_id in by_id and chunk_holds(ev, by_id[c.chunk_id])) for c in a.citations)
            recall = any(h.chunk.source == item["source"] and chunk_holds(ev, h.chunk) for h in a.hits[:k])
        verbatim = [c.quote in docs[c.source].text for c in a.citations]
        rows.append({"id": item["id"], "type": item["type"], "question": item["question"], "correct": ok,
                     "abstained": a.abstained, "answer": a.text, "seconds": round(secs, 2),
                     "citations": [c.__dict__ for c in a.citations], "cited_evidence": cited_ev,
                     "retrieval_hit": recall, "verbatim": verbatim, "notice": a.notice,
                     "abstain_reason": a.abstain_reason, "raw": a.raw,
                     # a dropped answer that was right: what the checks threw away (aggregated only)
                     "raw_right": bool(a.abstained and item["type"] != "unanswerable" and a.raw
                                       and score_item(item, a.raw, False))})
        if locked:
            log(f"[{n}/{len(items)}] {secs:5.1f}s")
        else:
            log(f"[{n}/{len(items)}] {item['id']} {item['type']:<12} {'OK ' if ok else 'BAD'} {secs:5.1f}s  "
                f"{a.text[:90]!r}")
    return summarise(rows, settings, k)


def _overrides(settings: Settings) -> dict:
    return {"llm": settings.llm, "top_k": settings.top_k, "index_dir": settings.index_dir,
            "corpus_dir": settings.corpus_dir, "steps_off": settings.steps_off}


def summarise(rows: list[dict], settings: Settings, k: int) -> dict:
    """Metrics and per-type table of scored rows (shared with the quick-start baseline)."""
    answerable = [r for r in rows if r["type"] != "unanswerable"]
    unanswerable = [r for r in rows if r["type"] == "unanswerable"]
    quotes = [v for r in rows for v in r["verbatim"]]
    ev_rows = [r for r in answerable if r["cited_evidence"] is not None and not r["abstained"]]
    rec_rows = [r for r in answerable if r["retrieval_hit"] is not None]
    lat = [r["seconds"] for r in rows]
    by_type = {}
    for t in TYPES:
        rs = [r for r in rows if r["type"] == t]
        if rs:
            by_type[t] = {"n": len(rs), "accuracy": sum(r["correct"] for r in rs) / len(rs),
                          "abstained": sum(r["abstained"] for r in rs),
                          "p50_s": statistics.median(r["seconds"] for r in rs)}
    metrics = {
        "answer_accuracy": sum(r["correct"] for r in answerable) / max(1, len(answerable)),
        "overall_accuracy": sum(r["correct"] for r in rows) / max(1, len(rows)),
        "abstention_accuracy": sum(r["abstained"] for r in unanswerable) / max(1, len(unanswerable)),
        "false_abstention_rate": sum(r["abstained"] for r in answerable) / max(1, len(answerable)),
        "citations_with_gold_evidence": sum(bool(r["cited_evidence"]) for r in ev_rows) / max(1, len(ev_rows)),
        "verbatim_quotes": sum(quotes) / max(1, len(quotes)),
        f"retrieval_recall@{k}": sum(bool(r["retrieval_hit"]) for r in rec_rows) / max(1, len(rec_rows)),
        "wrong_answers": sum(not r["correct"] and not r["abstained"] for r in answerable) / max(1, len(answerable)),
        "latency_p50_s": _pct(lat, 0.5), "latency_p95_s": _pct(lat, 0.95),
        # the ceiling of the checks: answerable items right as shown, or right in the model's own answer before
        # the checks dropped it; and the same among items whose gold evidence was retrieved (the model's reading)
        "raw_accuracy": sum(_raw_ok(r) for r in answerable) / max(1, len(answerable)),
        "raw_accuracy_evidence_retrieved": sum(_raw_ok(r) for r in rec_rows if r["retrieval_hit"])
        / max(1, sum(bool(r["retrieval_hit"]) for r in rec_rows)),
    }
    # reason -> [on answerable items, on unanswerable items, answerable items whose raw generation was right]
    reasons: dict[str, list[int]] = {}
    for r in rows:
        if r["abstained"]:
            counts = reasons.setdefault(reason_kind(r["abstain_reason"]), [0, 0, 0])
            counts[r["type"] == "unanswerable"] += 1
            counts[2] += bool(r.get("raw_right"))
    return {"settings": {"llm": settings.llm, "local_model": settings.local_model, "top_k": settings.top_k},
            "n": len(rows), "metrics": metrics, "by_type": by_type,
            "abstain_reasons": dict(sorted(reasons.items(), key=lambda kv: -sum(kv[1][:2]))), "items": rows,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S")}


def _raw_ok(row: dict) -> bool:
    return bool(row["correct"] or row.get("raw_right"))


def reason_kind(reason: str) -> str:
    """An abstain reason without its particulars ('never mention 'X'' -> 'never mention <name>'), so reasons
    can be counted."""
    reason = re.sub(r"'[^']*'|\"[^\"]*\"", "<name>", reason or "unknown")
    return re.sub(r"\d+(?:\.\d+)?%", "<share>", reason)


def print_report(report: dict, out=print) -> None:
    """The table by type, the abstain reasons and the final summary line."""
    out(f"{'type':<13}{'n':>4}{'accuracy':>10}{'abstained':>11}{'p50 s':>8}")
    for t, v in report["by_type"].items():
        out(f"{t:<13}{v['n']:>4}{v['accuracy']:>10.2f}{v['abstained']:>11}{v['p50_s']:>8.1f}")
    m = report["metrics"]
    rk = next(key for key in m if key.startswith("retrieval_recall"))
    out(f"accuracy {m['answer_accuracy']:.3f} | unanswerable abstention {m['abstention_accuracy']:.3f} | "
        f"false abstentions {m['false_abstention_rate']:.3f} | cited gold evidence "
        f"{m['citations_with_gold_evidence']:.3f} | verbatim quotes {m['verbatim_quotes']:.3f} | "
        f"{rk} {m[rk]:.3f} | latency p50 {m['latency_p50_s']:.1f} s p95 {m['latency_p95_s']:.1f} s")
    if "raw_accuracy" in m:
        out(f"before the checks: the model's own answer is right on {m['raw_accuracy']:.3f} of answerable items, "
            f"{m['raw_accuracy_evidence_retrieved']:.3f} of those whose gold evidence was retrieved")
    if report.get("abstain_reasons"):
        out("abstentions by reason (answerable / unanswerable items; of the answerable, how many the model's "
            "own answer got right before the checks):")
        for reason, (ans, unans, *right) in report["abstain_reasons"].items():
            out(f"  {ans:>3} / {unans:<3} {reason}" + (f" (model right: {right[0]})" if right else ""))


def gate(report: dict, thresholds: dict) -> list[str]:
    """Threshold failures, as messages (empty = pass)."""
    m = report["metrics"]
    fails = []
    for key, limit in thresholds.get("min", {}).items():
        if m.get(key, 0) < limit:
            fails.append(f"{key} {m.get(key, 0):.3f} < {limit}")
    for key, limit in thresholds.get("max", {}).items():
        if m.get(key, 0) > limit:
            fails.append(f"{key} {m.get(key, 0):.3f} > {limit}")
    return fails


def feedback_to_gold(path: Path) -> list[dict]:
    """Draft gold items from UI feedback (thumbs up: answer as reference; down: marked for review)."""
    drafts = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        fb = json.loads(line)
        cites = fb.get("citations") or []
        drafts.append({"id": f"fb{n:03d}", "type": "fact", "question": fb["question"],
                       "answer": fb.get("answer", "") if fb.get("rating") == "up" else "",
                       "must_contain": [], "must_not_contain": [],
                       "evidence": (cites[0].get("quote", "")[:150] if cites else ""),
                       "source": (cites[0].get("source", "") if cites else ""),
                       "review": "thumbs up: fill must_contain" if fb.get("rating") == "up"
                       else "thumbs down: write the correct answer"})
    return drafts


def _selected(args) -> list[Split]:
    names = args.split or [n for n, sp in SPLITS.items() if (GOLD_DIR / sp.file).exists()]
    unknown = [n for n in names if n not in SPLITS]
    if unknown:
        raise ConfigError(f"unknown split(s) {', '.join(unknown)}; known: {', '.join(SPLITS)}")
    return [SPLITS[n] for n in names]


def main(args) -> int:
    """`assistant eval` entry point: each split answered, reported, written to eval/reports/ and gated."""
    if args.feedback:
        for d in feedback_to_gold(Path(args.feedback)):
            print(json.dumps(d, ensure_ascii=False))
        return 0
    settings = Settings.load(llm=args.llm)
    if args.gold:  # explicit files: one ad-hoc split over corpus/
        runs = [(Split("custom", ""), load_gold([Path(p) for p in args.gold]))]
    else:
        runs = [(sp, load_gold([GOLD_DIR / sp.file])) for sp in _selected(args)]
    thresholds = json.loads((GOLD_DIR / "thresholds.json").read_text())
    failed = []
    for split, items in runs:
        if args.limit:
            items = items[: args.limit]
        print(f"== split {split.name}: {len(items)} items{' (locked: aggregate figures only)' if split.locked else ''}",
              flush=True)
        if args.baseline:
            sys.path.insert(0, str(GOLD_DIR))
            from baseline import run_baseline  # eval/baseline.py

            report = run_baseline(items, log=print)
        else:
            report = run_eval(items, split_settings(split, settings), log=lambda s: print(s, flush=True),
                              locked=split.locked)
        report["split"] = split.name
        print_report(report)
        name = f"{split.name}{'-baseline' if args.baseline else ''}.json"
        out = Path(args.report) if args.report and len(runs) == 1 else GOLD_DIR / "reports" / name
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=1, ensure_ascii=False))
        print(f"report: {out}")
        if args.no_gate or args.baseline or args.limit:
            continue
        limits = thresholds.get("splits", {}).get(split.name, {})
        for f in gate(report, limits):
            print(f"below threshold on {split.name}: {f}", file=sys.stderr)
            failed.append(f"{split.name}: {f}")
    return 1 if failed else 0
