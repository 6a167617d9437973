"""The `assistant` command, run as a user would: exit codes, one-line errors, JSON output, the question from
stdin, --version, doctor and settings. It runs as `python -m assistant` from this checkout, so the code under
test is this checkout's (the console script of .venv/ may belong to another checkout's editable install)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import CORPUS, REPO

from assistant.store import open_index, write_lock

QUESTION = "Which SDPs cover space security?"

# name -> (arguments, environment overrides); "<fresh>" is an empty index folder
ERROR_CASES = {
    "empty question": (["ask", ""], {}),
    "whitespace question": (["ask", "  \t \n "], {}),
    "3000-char question": (["ask", "w" * 3000], {}),
    "missing corpus (index)": (["index"], {"ASSISTANT_CORPUS_DIR": "/nonexistent", "ASSISTANT_INDEX_DIR": "<fresh>"}),
    "missing corpus (ask, no index yet)": (["ask", QUESTION], {"ASSISTANT_CORPUS_DIR": "/nonexistent",
                                                               "ASSISTANT_INDEX_DIR": "<fresh>"}),
    "unknown backend": (["ask", QUESTION], {"ASSISTANT_LLM": "foo"}),
    "out-of-range setting": (["ask", QUESTION], {"ASSISTANT_TOP_K": "0"}),
    "unreachable server": (["ask", QUESTION], {"ASSISTANT_LLM": "openai", "ASSISTANT_LLM_BASE_URL": "http://127.0.0.1:9",
                                               "ASSISTANT_LLM_MODEL": "x"}),
}


def _env(index_dir: Path, **overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_") or k == "ASSISTANT_MODEL_CACHE"}
    env.update(ASSISTANT_LLM="none", ASSISTANT_INDEX_DIR=str(index_dir), ASSISTANT_CORPUS_DIR=str(CORPUS))
    env.update(overrides)
    return env


ASSISTANT = [sys.executable, "-m", "assistant"]


def _run(args: list[str], env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess:
    # generous timeout: 2 cores shared with a running LLM; a cold start loads MiniLM (~10-20 s)
    return subprocess.run([*ASSISTANT, *args], env=env, capture_output=True, text=True, timeout=600, cwd=REPO,
                          input=stdin)


@pytest.fixture(scope="module")
def cli(corpus_index, tmp_path_factory):
    """Run an error case once per module (some cases load the embedding model) and remember the result."""
    results: dict[str, subprocess.CompletedProcess] = {}

    def run(name: str) -> subprocess.CompletedProcess:
        if name not in results:
            args, overrides = ERROR_CASES[name]
            overrides = {k: (str(tmp_path_factory.mktemp("fresh")) if v == "<fresh>" else v)
                         for k, v in overrides.items()}
            results[name] = _run(args, _env(corpus_index.index_dir, **overrides))
        return results[name]

    return run


@pytest.mark.parametrize("name", list(ERROR_CASES))
def test_errors_exit_nonzero_with_an_error_line_and_no_traceback(cli, name):
    r = cli(name)
    assert r.returncode == 2, r.stderr
    assert r.stdout == ""
    assert "Traceback" not in r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert lines and lines[-1].startswith("error: ")


@pytest.mark.parametrize("name", ERROR_CASES)
def test_error_is_exactly_one_line_on_stderr(cli, name):
    lines = cli(name).stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), lines


def test_error_messages_name_the_problem(cli):
    assert cli("empty question").stderr.strip() == "error: the question is empty"
    assert "3,000 characters; the limit is 2,000" in cli("3000-char question").stderr
    assert "corpus folder not found: /nonexistent" in cli("missing corpus (index)").stderr
    assert "unknown LLM backend 'foo'" in cli("unknown backend").stderr
    assert "top_k must be >= 1, got 0" in cli("out-of-range setting").stderr
    assert "cannot connect to the openai server at http://127.0.0.1:9" in cli("unreachable server").stderr


def test_ask_json_with_the_extractive_backend(corpus_index):
    r = _run(["ask", "--json", QUESTION], _env(corpus_index.index_dir))
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert {"text", "citations", "abstained"} <= set(data)
    assert data["abstained"] is False and data["backend"] == "none"
    assert data["citations"] and "hits" not in data
    docs = open_index(corpus_index.index_dir).documents
    for c in data["citations"]:
        assert f"[{c['n']}]" in data["text"]
        assert docs[c["source"]].text[c["start"]:c["end"]] == c["quote"]
    assert any("Space security and defence" in c["quote"] for c in data["citations"])


def test_index_prints_a_one_line_summary(corpus_index):
    r = _run(["index"], _env(corpus_index.index_dir))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 1
    assert "5 documents" in lines[0] and "chunks" in lines[0] and "(up to date)" in lines[0]


def test_index_while_another_process_writes(tmp_path):
    index_dir = tmp_path / "busy"
    with write_lock(index_dir):
        r = _run(["index"], _env(index_dir))
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: the index at ")
    assert f"is being written by pid {os.getpid()}" in lines[0]


def test_usage_errors_exit_2_without_traceback():
    r = subprocess.run([*ASSISTANT, "ask"], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert r.returncode == 2 and "Traceback" not in r.stderr and "usage:" in r.stderr


def test_ask_reads_the_question_from_stdin(corpus_index):
    r = _run(["ask", "--json", "-"], _env(corpus_index.index_dir), stdin=QUESTION + "\n")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["question"] == QUESTION and data["citations"] and not data["abstained"]


def test_ask_dash_with_nothing_on_stdin_is_the_empty_question(corpus_index):
    r = _run(["ask", "-"], _env(corpus_index.index_dir), stdin="")
    assert r.returncode == 2 and r.stderr.strip() == "error: the question is empty"


def test_version_is_the_projects():
    import tomllib

    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    r = subprocess.run([*ASSISTANT, "--version"], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert r.returncode == 0 and r.stdout.strip() == f"assistant {version}"


def test_help_lists_every_command():
    r = subprocess.run([*ASSISTANT, "--help"], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert r.returncode == 0
    for command in ("ask", "index", "ui", "doctor", "settings", "eval"):
        assert f"    {command} " in r.stdout, r.stdout


def test_doctor_exit_codes(corpus_index, tmp_path):
    ok = _run(["doctor", "--no-hash"], _env(corpus_index.index_dir))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "ok    index: 5 documents" in ok.stdout and ok.stdout.rstrip().endswith("no problems found")
    missing = _run(["doctor", "--no-hash"], _env(tmp_path / "no-index"))
    assert missing.returncode == 1
    assert "FAIL  index: no index in" in missing.stdout and "      fix: assistant index" in missing.stdout


def test_readme_settings_table_is_generated_from_settings():
    """The README's table is `assistant settings --markdown`: a new or changed field must show there."""
    from assistant.cli import settings_table

    assert settings_table() in (REPO / "README.md").read_text()


def test_readme_documents_every_json_field():
    from dataclasses import fields

    from assistant.types import Answer, Citation

    readme = (REPO / "README.md").read_text()
    names = [f.name for f in fields(Answer) if f.name != "hits"] + [f.name for f in fields(Citation)]
    assert [n for n in names if f"`{n}`" not in readme] == []
