"""What llama.cpp prefix reuse and prompt-lookup decoding give on our own prompts (issue: measure, don't assume).

    .venv/bin/python bench/llm_speed.py [--n 6]

For N dev questions, the real prompt (system prompt + selected evidence) is built once; then, per question
and in rotation so that noise from other jobs falls on every variant alike:
    fresh   the KV cache is reset before the call: the whole prompt is processed
    reuse   the cache holds the previous question's prompt: the fixed system prompt is not processed again
    lookup  as reuse, on a second model instance with LlamaPromptLookupDecoding (draft tokens copied from
            the prompt; greedy decoding accepts only what the model would have produced)
Prints per-variant medians of total seconds, prompt tokens and generated tokens, the ratios to 'fresh', and
whether the three variants produced identical text. Nothing asserts.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant import Settings  # noqa: E402
from assistant.answer import get_retriever  # noqa: E402
from assistant.evidence import select_evidence  # noqa: E402
from assistant.models import model_path  # noqa: E402
from assistant.prompts import build_messages  # noqa: E402


def _llm(settings: Settings, lookup: bool):
    from llama_cpp import Llama
    from llama_cpp.llama_speculative import LlamaPromptLookupDecoding

    draft = LlamaPromptLookupDecoding(num_pred_tokens=10) if lookup else None
    return Llama(model_path=str(model_path(settings.local_model, settings.model_cache)), n_ctx=settings.n_ctx,
                 n_threads=settings.n_threads, n_batch=512, verbose=False, seed=0, draft_model=draft,
                 logits_all=lookup)  # speculative decoding reads the logits of every drafted position


def _run(llm, messages, max_tokens: int) -> tuple[float, int, int, str]:
    t0 = time.perf_counter()
    out = llm.create_chat_completion(messages=messages, max_tokens=max_tokens, temperature=0.0, top_p=1.0,
                                     repeat_penalty=1.0)
    usage = out["usage"]
    return (time.perf_counter() - t0, usage["prompt_tokens"], usage["completion_tokens"],
            out["choices"][0]["message"]["content"])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=6, help="questions (dev items, answerable, in file order)")
    args = ap.parse_args()
    settings = Settings.load()
    retriever = get_retriever(settings, progress=True)
    items = [json.loads(line) for line in (ROOT / "eval" / "dev.jsonl").read_text().splitlines() if line.strip()]
    items = [i for i in items if i["type"] != "unanswerable"][:: max(1, 80 // args.n)][: args.n]
    prompts = []
    for item in items:
        hits = retriever.search(item["question"], settings.candidates)
        ev = select_evidence(item["question"], hits, settings.top_k, settings.evidence_words, retriever.idf,
                             retriever.domain_acronyms)
        prompts.append(build_messages(item["question"], ev))
    plain, lookup = _llm(settings, False), _llm(settings, True)
    _run(plain, prompts[-1], 8)  # warm: the cache holds a prompt with the same system prefix
    _run(lookup, prompts[-1], 8)
    rows: dict[str, list[tuple[float, int, int, str]]] = {"fresh": [], "reuse": [], "lookup": []}
    for i, messages in enumerate(prompts):
        order = ["fresh", "reuse", "lookup"]
        for name in order[i % 3:] + order[: i % 3]:
            if name == "fresh":
                plain.reset()
                rows[name].append(_run(plain, messages, settings.max_tokens))
                _run(plain, prompts[i - 1], 1)  # leave the cache as 'reuse' expects: a previous prompt in it
            elif name == "reuse":
                _run(plain, prompts[i - 1], 1)
                rows[name].append(_run(plain, messages, settings.max_tokens))
            else:
                _run(lookup, prompts[i - 1], 1)
                rows[name].append(_run(lookup, messages, settings.max_tokens))
        print(f"[{i + 1}/{len(prompts)}] " + "  ".join(f"{k} {v[-1][0]:.1f}s" for k, v in rows.items()), flush=True)
    base = statistics.median(r[0] for r in rows["fresh"])
    print(f"{'variant':<8}{'p50 s':>8}{'ratio':>7}{'prompt tok':>12}{'gen tok':>9}")
    for name, rs in rows.items():
        p50 = statistics.median(r[0] for r in rs)
        print(f"{name:<8}{p50:>8.1f}{p50 / base:>7.2f}{statistics.median(r[1] for r in rs):>12.0f}"
              f"{statistics.median(r[2] for r in rs):>9.0f}")
    for name in ("reuse", "lookup"):
        same = sum(a[3] == b[3] for a, b in zip(rows["fresh"], rows[name], strict=True))
        print(f"{name}: same text as fresh for {same} of {len(prompts)} questions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
