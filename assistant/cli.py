"""Command line: `assistant index [--rebuild]`, `assistant ask "question" [--json]`, `assistant eval`."""

from __future__ import annotations

import argparse
import json
import sys

from .config import BACKENDS, Settings
from .errors import AssistantError

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="assistant", description="Offline, cited answers over the policy corpus.")
    sub = p.add_subparsers(dest="command", required=True)
    ix = sub.add_parser("index", help="build or refresh the index of corpus/")
    ix.add_argument("--rebuild", action="store_true", help="re-embed everything")
    ix.add_argument("--wait", type=float, default=0.0, help="seconds to wait if another process is indexing")
    ask = sub.add_parser("ask", help="answer one question with citations")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true", help="print the Answer as JSON")
    ask.add_argument("--llm", choices=BACKENDS + ("extractive",), help="generator backend (ASSISTANT_LLM)")
    ask.add_argument("--top-k", type=int, help="sources given to the generator")
    ev = sub.add_parser("eval", help="run the gold set and report scores")
    ev.add_argument("--split", nargs="*", help="splits to run: dev, dev_paraphrases, test, pdfs (default: all "
                    "that have a file in eval/)")
    ev.add_argument("--gold", nargs="*", help="gold files to run instead of the splits")
    ev.add_argument("--llm", choices=BACKENDS + ("extractive",))
    ev.add_argument("--limit", type=int, help="only the first N items")
    ev.add_argument("--report", help="JSON report path for a single split (default eval/reports/<split>.json)")
    ev.add_argument("--no-gate", action="store_true", help="do not fail on thresholds")
    ev.add_argument("--baseline", action="store_true", help="run the llama-index quick-start baseline instead")
    ev.add_argument("--feedback", help="turn a feedback JSONL into draft gold items (printed) and exit")
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `assistant` console script; returns the exit code."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "index":
            from .indexer import build_index

            settings = Settings.load()
            summary = build_index(settings, rebuild=args.rebuild, progress=True,
                                  lock_wait=args.wait)
            print(summary.line())
            return 0
        if args.command == "ask":
            from .answer import answer

            a = answer(args.question, llm=args.llm, top_k=args.top_k)
            if args.json:
                print(json.dumps(a.to_dict(), ensure_ascii=False, indent=1))
            else:
                print(a.to_markdown())
                print(f"\n({a.backend}{' ' + a.model if a.model else ''}, {a.seconds:.1f} s)")
            return 0
        if args.command == "eval":
            from .evaluate import main as eval_main

            return eval_main(args)
    except AssistantError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
