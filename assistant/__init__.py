"""Offline, citation-first question answering over EU security and defence policy documents.

    >>> from assistant import answer
    >>> a = answer("Which SDPs cover space security?")  # doctest: +SKIP
"""

from __future__ import annotations

import os

# Offline by design: set before any library that might phone home is imported.
for _k, _v in {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
               "ANONYMIZED_TELEMETRY": "False", "GRADIO_ANALYTICS_ENABLED": "False",
               "TOKENIZERS_PARALLELISM": "false", "DO_NOT_TRACK": "1"}.items():
    os.environ.setdefault(_k, _v)

from .answer import StreamEvent, answer, retrieve, stream_answer  # noqa: E402
from .config import Settings  # noqa: E402
from .conversation import Rewrite, Turn, standalone_question  # noqa: E402
from .errors import AssistantError  # noqa: E402
from .feedback import record_feedback  # noqa: E402
from .indexer import IndexSummary, build_index  # noqa: E402
from .library import (  # noqa: E402
    UPLOAD_TYPES,
    DocumentInfo,
    add_document,
    document_html,
    get_document,
    list_documents,
    passage_html,
    prepare_index,
)
from .session import BACKEND_CHOICES, TOP_K_RANGE, check_backend, session_overrides  # noqa: E402
from .types import Answer, Chunk, Citation, Document, Hit  # noqa: E402

__all__ = ["answer", "stream_answer", "StreamEvent", "retrieve", "build_index", "IndexSummary", "Settings",
           "Answer", "Citation", "Chunk", "Document", "Hit", "AssistantError",
           # conversation and UI support (app.py uses only these)
           "standalone_question", "Turn", "Rewrite", "prepare_index", "list_documents", "DocumentInfo",
           "get_document", "document_html", "passage_html", "add_document", "record_feedback",
           "session_overrides", "check_backend", "BACKEND_CHOICES", "TOP_K_RANGE", "UPLOAD_TYPES"]
