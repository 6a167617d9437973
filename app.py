"""Minimal Gradio UI over `assistant.stream_answer` (the full research UI is a separate issue).

Offline: analytics off, no share link, binds 127.0.0.1 (GRADIO_SERVER_PORT, default 7860).
"""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import gradio as gr  # noqa: E402

from assistant import AssistantError, Settings, stream_answer  # noqa: E402
from assistant.answer import get_retriever  # noqa: E402

EXAMPLES = ["Which SDPs cover space security?",
            "When did the EU sign its security and defence partnership with Moldova?",
            "What does the Strategic Compass say about partnerships with NATO?"]


def _sources_md(a) -> str:
    if not a.citations:
        return ""
    lines = ["", "**Sources**"]
    for c in a.citations:
        lines.append(f"{c.n}. *{c.title}* — {c.locator}  \n> {c.quote}")
    return "\n".join(lines)


def respond(message: str, history: list):
    """Stream the raw generation, then replace it with the checked, cited answer."""
    shown = ""
    try:
        for ev in stream_answer(message):
            if ev.kind == "status":
                yield f"_{ev.text}_"
            elif ev.kind == "token":
                shown += ev.text
                yield shown
            elif ev.kind == "answer":
                a = ev.answer
                foot = f"\n\n<sub>{a.backend} {a.model} · {a.seconds:.1f} s</sub>"
                notice = f"\n\n> ⚠ {a.notice}" if a.notice else ""
                yield a.text + notice + "\n" + _sources_md(a) + foot
    except AssistantError as e:
        yield f"**Error:** {e}"


def ask(question: str) -> str:
    """API endpoint /ask: answer Markdown with [n] markers followed by the numbered sources."""
    from assistant import answer

    try:
        return answer(question).to_markdown()
    except AssistantError as e:
        return f"Error: {e}"


def build() -> gr.Blocks:
    with gr.Blocks(title="EU security & defence partnerships — cited answers") as demo:
        gr.Markdown("## EU security & defence partnerships — cited answers\nEvery sentence is backed by a quote "
                    "from the documents, or the assistant says the documents don't say.")
        gr.ChatInterface(respond, examples=EXAMPLES, api_name="chat")
        with gr.Row(visible=False):
            q, out = gr.Textbox(), gr.Markdown()
            gr.Button().click(ask, q, out, api_name="ask")
    return demo


def main() -> None:
    get_retriever(Settings.load(), progress=True)  # builds the index with a progress bar if missing
    port = int(os.environ.get("GRADIO_SERVER_PORT", "7860"))
    build().queue(default_concurrency_limit=4).launch(server_name="127.0.0.1", server_port=port, share=False)


if __name__ == "__main__":
    main()
