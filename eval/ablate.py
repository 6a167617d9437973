"""What each method step earns: the split answered with every step on, then with each step off in turn.

    .venv/bin/python eval/ablate.py --split test pdfs [--steps anchor coverage ...]

Generations are replayed from eval/cached.py's cache (a step switched off asks the model for nothing new,
save for the rare follow-up its absence leaves room for), so a full table costs minutes, not hours.
For each step and split it prints aggregate counts only, as the locked splits require: items the step
gains (right with it, wrong without), items it loses, and the false abstentions it causes (abstained with
it on an answerable item that is answered right without it). Writes eval/reports/ablation.json.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from cached import CACHE, CachedGenerator  # noqa: E402

from assistant.answer import get_generator as _real_get_generator  # noqa: E402
from assistant.config import STEPS, Settings  # noqa: E402
from assistant.evaluate import GOLD_DIR, SPLITS, load_gold, run_eval, split_settings  # noqa: E402


def _counts(on: list[dict], off: list[dict]) -> dict:
    pairs = list(zip(on, off, strict=True))
    return {
        "gains": sum(a["correct"] and not b["correct"] for a, b in pairs),
        "losses": sum(b["correct"] and not a["correct"] for a, b in pairs),
        "false_abstentions_caused": sum(a["abstained"] and not b["abstained"] and b["correct"]
                                        and a["type"] != "unanswerable" for a, b in pairs),
        "accuracy_on": sum(a["correct"] for a in on) / max(1, len(on)),
        "accuracy_off": sum(b["correct"] for b in off) / max(1, len(off)),
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--split", nargs="+", default=["test"])
    ap.add_argument("--steps", nargs="*", default=list(STEPS))
    ap.add_argument("--base", default="", help="steps off in the reference configuration (comma-separated)")
    args = ap.parse_args()
    store = json.loads(CACHE.read_text(encoding="utf-8")) if CACHE.exists() else {}
    wrapped: dict[int, CachedGenerator] = {}

    def get_generator(settings):
        inner = _real_get_generator(settings)
        if inner is not None and id(inner) not in wrapped:
            wrapped[id(inner)] = CachedGenerator(inner, store)
        return wrapped.get(id(inner)) if inner is not None else None

    importlib.import_module("assistant.answer").get_generator = get_generator
    out: dict[str, dict] = {}
    for name in args.split:
        split = SPLITS[name]
        items = load_gold([GOLD_DIR / split.file])
        base = split_settings(split, Settings.load(steps_off=args.base))

        def run(settings: Settings, items: list[dict] = items) -> list[dict]:
            return run_eval(items, settings, log=lambda s: None, locked=True)["items"]

        reference = run(base)
        out[name] = {}
        print(f"== {name}: {len(items)} items, reference accuracy "
              f"{sum(r['correct'] for r in reference) / len(reference):.3f} (steps off: {args.base or 'none'})")
        print(f"{'step off':<15}{'gains':>6}{'losses':>7}{'false abst.':>12}{'acc on':>8}{'acc off':>8}")
        for step in args.steps:
            if step in base.off:
                continue
            off = run(base.replace(steps_off=",".join(sorted(base.off | {step}))))
            c = out[name][step] = _counts(reference, off)
            print(f"{step:<15}{c['gains']:>6}{c['losses']:>7}{c['false_abstentions_caused']:>12}"
                  f"{c['accuracy_on']:>8.3f}{c['accuracy_off']:>8.3f}", flush=True)
    path = GOLD_DIR / "reports" / "ablation.json"
    path.write_text(json.dumps(out, indent=1))
    for g in wrapped.values():
        print(f"generation cache: {g.hits} hits, {g.misses} misses", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
