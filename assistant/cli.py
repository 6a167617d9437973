"""Command line: `assistant ask | index | ui | doctor | settings | eval`; `assistant --version`.

    assistant ask "Which SDPs cover space security?"      # cited answer (Markdown)
    echo "Which SDPs cover space security?" | assistant ask -
    assistant ask --json "..."                          # the Answer as JSON (fields: see docs/operations.md)
    assistant index [--rebuild] [--wait SECONDS]         # build or refresh the index of the corpus folder
    assistant ui [--port N] [--host ADDRESS]             # the web UI (also `python -m assistant`)
    assistant doctor                                     # check the install, model, index and servers
    assistant settings [--markdown]                      # every ASSISTANT_* setting, its value and meaning

Errors are one line on stderr starting with "error: " and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from .config import BACKENDS, PROJECT_ROOT, Settings
from .errors import AssistantError, InputError

__all__ = ["main", "version", "settings_table"]


def version() -> str:
    """The installed package's version (from its metadata), or 'unknown' when it is not installed."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as _version

    try:
        return _version("assistant")
    except PackageNotFoundError:
        return "unknown"


def settings_table(settings: Settings | None = None) -> str:
    """The Markdown table of every setting (variable, default, meaning), as in the README; with `settings`,
    a column of the values in effect is added."""
    home = os.path.expanduser("~")
    rows = ["| variable | default | meaning |", "|---|---|---|"] if settings is None else \
        ["| variable | value | default | meaning |", "|---|---|---|---|"]
    for env, default, doc in Settings.describe():
        default = default.replace(str(PROJECT_ROOT), "<repo>").replace(home, "~")
        shown = f"`{default}`" if default else "(empty)"
        if settings is None:
            rows.append(f"| `{env}` | {shown} | {doc} |")
        else:
            value = str(getattr(settings, env.removeprefix("ASSISTANT_").lower()))
            if env == "ASSISTANT_LLM_API_KEY" and value:
                value = "(set)"
            rows.append(f"| `{env}` | {f'`{value}`' if value else '(empty)'} | {shown} | {doc} |")
    return "\n".join(rows)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="assistant", description="Offline, cited answers over the policy corpus.",
                                epilog="Settings come from ASSISTANT_* environment variables: "
                                       "`assistant settings` lists them.")
    p.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    ask = sub.add_parser("ask", help="answer one question with citations")
    ask.add_argument("question", help="the question; '-' reads it from standard input")
    ask.add_argument("--json", action="store_true", help="print the Answer as JSON")
    ask.add_argument("--llm", choices=BACKENDS + ("extractive",), help="generator backend (ASSISTANT_LLM)")
    ask.add_argument("--top-k", type=int, help="sources given to the generator")
    ix = sub.add_parser("index", help="build or refresh the index of the corpus folder")
    ix.add_argument("--rebuild", action="store_true", help="re-embed everything")
    ix.add_argument("--wait", type=float, default=0.0, help="seconds to wait if another process is indexing")
    ui = sub.add_parser("ui", help="start the web UI (http://127.0.0.1:7860)")
    ui.add_argument("--port", type=int, help="port (GRADIO_SERVER_PORT, default 7860)")
    ui.add_argument("--host", help="address to bind (ASSISTANT_HOST, default 127.0.0.1; others need "
                                   "ASSISTANT_AUTH_USER and ASSISTANT_AUTH_PASSWORD)")
    doc = sub.add_parser("doctor", help="check the install, the model file, the index and the servers")
    doc.add_argument("--no-hash", action="store_true", help="skip the sha256 of the model file (~1.1 GB read)")
    st = sub.add_parser("settings", help="list every setting with its value, default and meaning")
    st.add_argument("--markdown", action="store_true", help="print the README's table (defaults only)")
    ev = sub.add_parser("eval", help="run the gold set and report scores (in a source checkout)")
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


def _question(arg: str) -> str:
    if arg != "-":
        return arg
    if sys.stdin is None or sys.stdin.isatty():
        raise InputError("'-' reads the question from standard input, e.g. echo \"question\" | assistant ask -")
    return sys.stdin.read()


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `assistant` console script; returns the exit code."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "ask":
            from .answer import answer

            a = answer(_question(args.question), llm=args.llm, top_k=args.top_k)
            if args.json:
                print(json.dumps(a.to_dict(), ensure_ascii=False, indent=1))
            else:
                print(a.to_markdown())
                print(f"\n({a.backend}{' ' + a.model if a.model else ''}, {a.seconds:.1f} s)")
            return 0
        if args.command == "index":
            from .indexer import build_index

            summary = build_index(Settings.load(), rebuild=args.rebuild, progress=True, lock_wait=args.wait)
            print(summary.line())
            return 0
        if args.command == "ui":
            if args.port is not None:
                os.environ["GRADIO_SERVER_PORT"] = str(args.port)
            if args.host:
                os.environ["ASSISTANT_HOST"] = args.host
            from .ui import main as ui_main

            ui_main()
            return 0
        if args.command == "doctor":
            from .doctor import main as doctor_main

            return doctor_main(hash_model=not args.no_hash)
        if args.command == "settings":
            print(settings_table() if args.markdown else settings_table(Settings.load()))
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
