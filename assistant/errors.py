"""One error tree for the whole package; the CLI and UI catch `AssistantError` and show its message.

    AssistantError
    ├── ConfigError          bad setting or override (unknown key, out of range, unknown backend)
    ├── InputError           bad question (empty, too long)
    ├── CorpusError          corpus folder missing/empty, unreadable document
    ├── IndexError_          index missing, corrupt, or locked by another writer
    │   └── IndexLockedError
    ├── ModelError           model file missing or failing its checksum
    └── GeneratorError       LLM backend unreachable, timed out, or returned garbage
"""

from __future__ import annotations

__all__ = [
    "AssistantError",
    "ConfigError",
    "InputError",
    "CorpusError",
    "IndexError_",
    "IndexLockedError",
    "ModelError",
    "GeneratorError",
]


class AssistantError(Exception):
    """Base class: every error this package raises on purpose."""


class ConfigError(AssistantError, ValueError):
    """A setting or override is invalid."""


class InputError(AssistantError, ValueError):
    """The question (or another user input) is invalid."""


class CorpusError(AssistantError):
    """The corpus folder or a document in it cannot be used."""


class IndexError_(AssistantError):  # noqa: N801 - avoid shadowing the builtin IndexError
    """The index is missing, corrupt or cannot be written."""


class IndexLockedError(IndexError_):
    """Another process holds the index write lock."""


class ModelError(AssistantError):
    """A local model file is missing or fails verification."""


class GeneratorError(AssistantError):
    """The LLM backend failed (unreachable, timeout, bad response)."""
