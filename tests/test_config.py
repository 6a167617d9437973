"""Settings: defaults, ASSISTANT_* environment overrides, keyword overrides, validation at the edge."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant import Settings
from assistant.errors import AssistantError, ConfigError


def test_isolated_index_dir(isolated_state):
    assert Settings.load().index_dir == isolated_state  # the autouse fixture's per-test folder


def test_env_then_keyword_overrides(monkeypatch):
    monkeypatch.setenv("ASSISTANT_TOP_K", "7")
    monkeypatch.setenv("ASSISTANT_LLM", "extractive")  # alias of "none"
    s = Settings.load()
    assert s.top_k == 7 and s.llm == "none"
    assert Settings.load(top_k=3).top_k == 3
    assert Settings.load(top_k=None).top_k == 7  # None means "not given"
    monkeypatch.setenv("ASSISTANT_TOP_K", "")  # empty env values are ignored
    assert Settings.load().top_k == 5


@pytest.mark.parametrize(("kw", "message"), [
    ({"top_kk": 3}, "unknown setting"),
    ({"top_k": 0}, "top_k must be >= 1, got 0"),
    ({"top_k": "many"}, "top_k must be int, got 'many'"),
    ({"llm": "foo"}, "unknown LLM backend 'foo'"),
    ({"on_llm_error": "retry"}, "on_llm_error must be 'error' or 'extractive'"),
    ({"max_file_mb": 0}, "max_file_mb must be >= 0.01"),
])
def test_bad_values_are_named(kw, message):
    with pytest.raises(ConfigError, match=message):
        Settings.load(**kw)


def test_config_error_is_an_assistant_error_and_a_value_error():
    with pytest.raises(AssistantError):
        Settings.load(top_k=-1)
    with pytest.raises(ValueError):
        Settings.load(top_k=-1)


def test_replace_validates_and_paths_expand():
    s = Settings.load(index_dir="~/somewhere")
    assert s.index_dir == Path.home() / "somewhere"
    assert s.replace(chunk_words=50).chunk_words == 50
    with pytest.raises(ConfigError):
        s.replace(chunk_words=5)
    with pytest.raises(ConfigError):
        s.replace(nope=1)


def test_every_setting_is_described():
    rows = Settings.describe()
    assert {env for env, _, _ in rows} >= {"ASSISTANT_INDEX_DIR", "ASSISTANT_LLM", "ASSISTANT_TOP_K"}
    assert all(env.startswith("ASSISTANT_") and doc for env, _, doc in rows)


def test_markdown_shows_the_notice_before_the_sources():
    from assistant.types import Answer, Citation

    c = Citation(1, "a.txt", "A", "Table 2, row 16", "row 16 text", "a.txt#0001", 0, 11)
    md = Answer("q", "Table 2 marks X [1].", [c], False, "local", "m", 1.0,
                notice="The generated answer was not supported").to_markdown()
    assert md.index("_Note: The generated answer was not supported_") < md.index("**Sources**")
    assert "_Note" not in Answer("q", "T [1].", [c], False, "local", "m", 1.0).to_markdown()
