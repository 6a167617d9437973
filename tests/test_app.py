"""The web UI as people use it: `/ask` and a streamed chat turn with a follow-up through gradio_client,
four users at once, and a real headless Chromium that asks, clicks [1] and sees the quote.

One app server (a subprocess of `app.py`, so its environment is its own) over the session's index of the
real corpus. Its LLM is a fake OpenAI-compatible server that takes 1 s per generation, streams its reply,
and counts how many generations run at once: a stand-in for the local model that is fast, deterministic and
can prove the one-at-a-time rule. Screenshots go to test-artifacts/ (gitignored).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from helpers import CORPUS, REPO, free_port, serving, stop

pytestmark = pytest.mark.slow

ARTIFACTS = REPO / "test-artifacts"
SPACE = "Which SDPs cover space security?"
FOLLOW_UP = "and which of those also cover maritime security?"
FOUR = {  # question -> the partners Table 2 marks yes for it
    SPACE: ["Norway", "Japan", "South Korea"],
    "Which SDPs cover integrated border management?": ["Moldova", "Albania", "North Macedonia"],
    "Which SDPs cover the protection of cultural heritage in conflict and crises?": ["Albania", "North Macedonia"],
    "Which SDPs cover deepening exchanges on consular matters?": ["Norway"],
}
REWRITES = {FOLLOW_UP: "Which of Norway, Japan, South Korea also cover maritime security?"}


# --------------------------------------------------------------------------- a slow, honest fake LLM


class _FakeLLM(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.delay = 1.0
        self.active = 0
        self.max_active = 0
        self.requests = 0
        self.lock = threading.Lock()


def _words(s: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]+", s.lower()) if len(w) > 3}


def _reply(messages: list[dict]) -> str:
    """Rewrites from REWRITES; answers read the table-row source that best matches the question."""
    system, user = messages[0]["content"], messages[-1]["content"]
    if system.startswith("You rewrite"):
        follow = re.search(r"^Follow-up: (.*)$", user, re.M)
        return REWRITES.get(follow.group(1).strip() if follow else "", "")
    question = re.search(r"^Question: (.*)$", user, re.M).group(1)
    best, best_score = "", 0
    for m in re.finditer(r"^\[(\d+)\] .*?row \d+ “([^”]+)” \(Area of cooperation\): (.*)$", user, re.M):
        yes = re.search(r"yes \(✓\) for ([^;]+?)(?:;|\.$)", m.group(3))
        score = len(_words(m.group(2)) & _words(question))
        if yes and score > best_score:
            best, best_score = f"Table 2 marks “{m.group(2)}” as yes (✓) for {yes.group(1)} [{m.group(1)}].", score
    return best or "I cannot answer this from the documents."


class _Handler(BaseHTTPRequestHandler):
    server: _FakeLLM

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        srv = self.server
        with srv.lock:
            srv.active += 1
            srv.requests += 1
            srv.max_active = max(srv.max_active, srv.active)
        try:
            text = _reply(body["messages"])
            time.sleep(srv.delay)
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for piece in re.findall(r"\S+\s*", text):
                chunk = {"choices": [{"index": 0, "delta": {"content": piece}}]}
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()
                time.sleep(0.02)
            self.wfile.write(b"data: [DONE]\n\n")
        finally:
            with srv.lock:
                srv.active -= 1


@pytest.fixture(scope="module")
def fake_llm():
    with serving(_FakeLLM()) as server:
        yield server


@pytest.fixture(scope="module")
def app_url(corpus_index, fake_llm, tmp_path_factory):
    """`python app.py` on a free port over the session's corpus index, answering with the fake LLM."""
    port = free_port()
    logs = tmp_path_factory.mktemp("app")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ASSISTANT_", "GRADIO_")) or k == "ASSISTANT_MODEL_CACHE"}
    env.update(ASSISTANT_INDEX_DIR=str(corpus_index.index_dir), ASSISTANT_CORPUS_DIR=str(CORPUS),
               ASSISTANT_LLM="openai", ASSISTANT_LLM_BASE_URL=f"http://127.0.0.1:{fake_llm.server_address[1]}/v1",
               ASSISTANT_LLM_MODEL="fake-llm", ASSISTANT_FEEDBACK_FILE=str(logs / "feedback.jsonl"),
               GRADIO_SERVER_PORT=str(port), GRADIO_ANALYTICS_ENABLED="False", HF_HUB_OFFLINE="1")
    out = (logs / "app.log").open("w")
    proc = subprocess.Popen([sys.executable, str(REPO / "app.py")], env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"app.py exited with {proc.returncode}: {(logs / 'app.log').read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("app.py did not start within 180 s")
    yield url
    stop(proc)
    out.close()


def test_a_second_ui_on_a_taken_port_fails_in_one_line(app_url, corpus_index):
    """`make run` while another UI holds the port: a one-line error naming the fix, exit 1, no traceback."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "GRADIO_"))}
    env.update(ASSISTANT_INDEX_DIR=str(corpus_index.index_dir), ASSISTANT_CORPUS_DIR=str(CORPUS),
               ASSISTANT_LLM="none", GRADIO_SERVER_PORT=app_url.rsplit(":", 1)[1],
               GRADIO_ANALYTICS_ENABLED="False", HF_HUB_OFFLINE="1")
    r = subprocess.run([sys.executable, str(REPO / "app.py")], env=env, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr[-2000:]
    assert "error: cannot serve on" in r.stderr and "set GRADIO_SERVER_PORT" in r.stderr


def _client(url: str):
    from gradio_client import Client

    return Client(url, verbose=False)


def _text(message: dict) -> str:
    content = message["content"]
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content)


# --------------------------------------------------------------------------- gradio_client


def test_ask_endpoint_returns_markdown_with_numbered_sources(app_url):
    md = _client(app_url).predict(SPACE, api_name="/ask")
    text, _, sources = md.partition("\n\n**Sources**\n")
    assert text == "Table 2 marks “Space security and defence” as yes (✓) for Norway, Japan, South Korea [1]."
    assert sources.startswith("[1] *The EU's new bilateral security and defence partnerships* "
                              "(004_9baf95e9af139bdb.txt), Table 2, row 16: Space security and defence: “")


def test_chat_streams_and_answers_a_follow_up(app_url):
    client = _client(app_url)
    job = client.submit(SPACE, [], api_name="/chat")
    updates = [u for u in job]
    history, sources, markdown, box = job.result()
    streamed = [_text(u[0][-1]) for u in updates if u[0]]
    assert any("▌" in s for s in streamed), "tokens were not streamed"
    assert [m["role"] for m in history] == ["user", "assistant"] and _text(history[0]) == SPACE
    answer = _text(history[1])
    assert '<a class="cite" href="#src-1-1">[1]</a>' in answer and "Norway, Japan, South Korea" in answer
    assert "answered by openai · fake-llm" in answer
    assert "id='src-1-1'" in sources and "<mark>" in sources and "Space security and defence" in sources
    assert markdown.startswith("Table 2 marks") and "**Sources**" in markdown and box == ""

    job = client.submit(FOLLOW_UP, history, api_name="/chat")
    history, sources, markdown, _ = job.result()
    assert [_text(m) for m in history[::2]] == [SPACE, FOLLOW_UP]
    answer = _text(history[-1])
    assert "Follow-up understood as: <b>Which of Norway, Japan, South Korea also cover maritime security?</b>" \
        in answer
    assert "“Maritime security” as yes (✓) for Norway, Japan, South Korea" in answer and 'href="#src-2-1"' in answer
    assert "Q2: Which of Norway, Japan, South Korea also cover maritime security?" in sources
    assert "id='src-2-1'" in sources and "id='src-1-1'" in sources  # the panel keeps every turn's sources

    other = _client(app_url)  # another person: their conversation starts empty
    history2, sources2, _, _ = other.submit("Which SDPs cover deepening exchanges on consular matters?", [],
                                            api_name="/chat").result()
    assert len(history2) == 2 and "Q1: Which SDPs cover deepening" in sources2 and "Maritime" not in sources2


def test_four_users_at_once_get_their_own_answers_one_generation_at_a_time(app_url, fake_llm):
    from gradio_client.utils import Status

    fake_llm.max_active = 0
    clients = [_client(app_url) for _ in FOUR]
    t0 = time.perf_counter()
    jobs = [c.submit(q, [], api_name="/chat") for c, q in zip(clients, FOUR, strict=True)]
    ranks: list[set[int]] = [set() for _ in jobs]
    while not all(j.done() for j in jobs):
        for seen, j in zip(ranks, jobs, strict=True):
            st = j.status()
            if st.code == Status.IN_QUEUE and st.rank is not None:
                seen.add(st.rank)
        time.sleep(0.05)
    elapsed = time.perf_counter() - t0
    for (question, partners), job in zip(FOUR.items(), jobs, strict=True):
        history, sources, markdown, _ = job.result()
        assert [_text(m) for m in history[::2]] == [question]
        answer = _text(history[1])
        yes = re.search(r"yes \(✓\) for ([^<\[]+?) <a", answer)
        assert yes and yes.group(1).split(", ") == partners, answer
        assert sources.count("class='turn'") == 1
    assert fake_llm.max_active == 1, "two generations ran at once"
    assert any(r and max(r) >= 1 for r in ranks), f"nobody saw a place in the queue: {ranks}"
    assert elapsed >= 4 * fake_llm.delay  # one after the other


# --------------------------------------------------------------------------- a real browser


@pytest.fixture(scope="module")
def chromium() -> str:
    """Debian's chromium (installed with apt-get if missing and possible); skip with the reason if not."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path:
        return path
    apt = ["apt-get", "install", "-y", "chromium"]
    if os.geteuid() != 0:
        if not shutil.which("sudo"):
            pytest.skip("chromium is not installed and cannot be: not root and no sudo")
        apt = ["sudo", "-n", *apt]
    r = subprocess.run(apt, capture_output=True, text=True, timeout=600)
    path = shutil.which("chromium")
    if not path:
        pytest.skip(f"chromium could not be installed with {' '.join(apt)}: {r.stderr.strip()[-300:]}")
    return path


def test_browser_ask_click_marker_and_see_the_quote(app_url, chromium, fake_llm):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                                          "--disable-component-update", "--disable-sync", "--no-first-run"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(app_url)
            page.wait_for_selector("#question textarea", timeout=60_000)
            assert page.get_by_text(SPACE).first.is_visible()  # example questions on first load
            page.screenshot(path=str(ARTIFACTS / "ui-first-load.png"))
            page.fill("#question textarea", SPACE)
            page.click("#ask-btn")
            page.wait_for_selector("#chat a.cite", timeout=120_000)
            page.wait_for_selector("#chat .meta", timeout=30_000)
            assert "openai · fake-llm" in page.inner_text("#chat .meta")
            page.click("#chat a.cite >> nth=0")
            page.wait_for_selector("#sources .src.active", timeout=5_000)
            active = page.query_selector("#sources .src.active")
            assert active.get_attribute("id") == "src-1-1"
            quote = active.query_selector("mark").inner_text()
            assert "row 16 “Space security and defence” (Area of cooperation): yes (✓) for Norway, Japan, " \
                   "South Korea" in quote
            assert page.url.rstrip("/") == app_url  # the link scrolled the panel, it did not navigate
            page.screenshot(path=str(ARTIFACTS / "ui-answer-wide.png"), full_page=True)
            page.set_viewport_size({"width": 430, "height": 900})
            page.wait_for_timeout(500)
            page.screenshot(path=str(ARTIFACTS / "ui-answer-narrow.png"), full_page=True)

            page.set_viewport_size({"width": 1400, "height": 900})
            page.fill("#question textarea", "How much did the EU pay Georgia under its SDP in 2031?")
            page.click("#ask-btn")
            page.wait_for_selector("#chat .abstain", timeout=120_000)
            assert "closest passages" in page.inner_text("#chat .abstain").lower()
            page.screenshot(path=str(ARTIFACTS / "ui-abstention.png"), full_page=True)

            page.get_by_role("button", name="New conversation").click()
            page.wait_for_selector("#chat a.cite", state="detached", timeout=10_000)
            page.get_by_text("When did the EU and Japan sign their security and defence partnership?").click()
            page.wait_for_selector("#chat .meta", timeout=120_000)  # the example was asked, not just filled in
            assert "Q1: When did the EU and Japan sign" in page.inner_text("#sources")

            # a second person asking while the first is answered sees their place in the queue
            other = browser.new_page(viewport={"width": 1000, "height": 800})
            other.goto(app_url)
            other.wait_for_selector("#question textarea", timeout=60_000)
            fake_llm.delay = 4.0
            try:
                page.fill("#question textarea", "Which SDPs cover maritime security?")
                page.click("#ask-btn")
                page.wait_for_timeout(700)
                other.fill("#question textarea", "Which SDPs cover integrated border management?")
                other.click("#ask-btn")
                other.wait_for_function("document.querySelector('#chat').innerText.toLowerCase().includes('queue')",
                                        timeout=10_000)
                other.screenshot(path=str(ARTIFACTS / "ui-queued.png"))
                other.wait_for_selector("#chat .meta", timeout=120_000)
                assert "Moldova, Albania, North Macedonia" in other.inner_text("#chat")
                assert "maritime" not in other.inner_text("#chat").lower()
            finally:
                fake_llm.delay = 1.0
            page.wait_for_function("document.querySelectorAll('#chat .meta').length >= 2", timeout=120_000)

            page.get_by_role("tab", name="Documents").click()
            page.wait_for_selector("#doc-list", timeout=10_000)
            page.click("#doc-pick input")
            page.get_by_role("option", name=re.compile("bilateral security and defence partnerships$")).first.click()
            page.wait_for_selector("#doc-view table caption", timeout=30_000)
            assert "Table 2" in page.inner_text("#doc-view")
            page.screenshot(path=str(ARTIFACTS / "ui-documents.png"), full_page=False)
            page.locator("#doc-view .doc-table").nth(1).screenshot(path=str(ARTIFACTS / "ui-document-table.png"))
        finally:
            browser.close()
