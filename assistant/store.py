"""The only module that imports chromadb: build, swap and open the index, embedded or on a Chroma server.
The chunks themselves are llama-index nodes in a llama-index vector store (`vectors.py`): Chroma, or for an
embedded index Qdrant's local mode (`vector_store` setting; the build folder then holds qdrant/, not chroma/).

Embedded (default; `chroma_url` empty), layout of index_dir:
    CURRENT                 name of the active build folder (replaced atomically)
    .lock                   single-writer lock (flock); readers never take it
    build-<time>-<pid>/     chroma/ (PersistentClient), manifest.json, documents.json
A build is written into a fresh folder and becomes visible only when CURRENT is swapped, so readers
keep answering from the previous index and a crash mid-build leaves it intact (chromadb corrupts a
store that two processes write at once; see shared/OFFLINE.md).

Server (`chroma_url` set, e.g. http://127.0.0.1:8000; collections named after `chroma_collection`, "P"):
    P-<build>               the chunks of one build (vectors always passed in; Chroma never embeds)
    P-<build>-docs          one record per cleaned document, then the manifest (written last)
    P-current               one record "current" whose metadata names the active and the previous build
    P-lock                  exists while a writer works; metadata: holder, host, pid, lease expiry
Same discipline as embedded: a build is written into new collections and becomes visible only when the
"current" record is upserted (a single-record write, atomic on the server); the active and the previous
build are kept, older or half-written ones are dropped by the next writer. The lock cannot be a local
flock (writers may sit on different machines): it is the *creation* of the P-lock collection, which the
server grants to exactly one client (collection names are unique). The holder renews a lease every
LEASE_SECONDS / 6; a lock whose lease expired (its writer died, e.g. SIGKILL), or whose holder is a dead
process on this same host, is removed by the next writer.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .errors import IndexError_, IndexLockedError
from .types import Chunk, Document
from .vectors import ChunkStore, chroma_store, qdrant_store, release

__all__ = ["IndexHandle", "ServerBuild", "write_lock", "current_build", "open_index", "write_build", "list_builds",
           "damage", "readable_build", "remove_build", "LEASE_SECONDS", "REBUILD_HINT"]

COLLECTION = "chunks"
# HNSW graphs are built by several threads, so two builds of the same vectors differ; with the defaults
# (ef 100, 16 neighbours) a build occasionally missed one of the 30 nearest chunks, and the embedded and
# server indexes then ranked differently. Wider search and graph: same top 30 as an exact scan on the
# gold questions, ~2.5 ms a query at 517 chunks.
_HNSW = {"hnsw": {"space": "cosine", "ef_construction": 200, "ef_search": 200, "max_neighbors": 32}}
LEASE_SECONDS = 60.0  # a server lock not renewed for this long belongs to a dead writer
REBUILD_HINT = "run `assistant index --rebuild`"
_SQLITE_MAGIC = b"SQLite format 3\x00"


def _target(where: Any) -> tuple[Path | None, _Server | None]:
    """(index_dir, None) for the embedded store, (None, server) when settings name a Chroma server."""
    if isinstance(where, Path | str):
        return Path(where), None
    if getattr(where, "chroma_url", ""):
        return None, _Server(where.chroma_url.rstrip("/"), where.chroma_collection)
    return Path(where.index_dir), None


def _client(path: Path):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    return chromadb.PersistentClient(path=str(path), settings=ChromaSettings(anonymized_telemetry=False))


# --------------------------------------------------------------------------- the embedded store


@contextlib.contextmanager
def _flock(index_dir: Path, wait: float = 0.0) -> Iterator[None]:
    index_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(index_dir / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + wait
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "another process"
                    raise IndexLockedError(
                        f"the index at {index_dir} is being written by {holder}; try again when it finishes"
                        + ("" if wait else " (or pass --wait SECONDS)")
                    ) from None
                time.sleep(0.2)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}".encode(), 0)
        yield
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def write_lock(where, wait: float = 0.0):
    """Hold the single-writer lock of an index (a folder, or Settings naming a server); wait up to `wait`
    seconds, then raise IndexLockedError naming the holder."""
    index_dir, server = _target(where)
    return server.lock(wait) if server else _flock(index_dir, wait)  # type: ignore[arg-type]


def current_build(where) -> Path | ServerBuild | None:
    """The active build (a folder, or a ServerBuild), or None when there is no complete index."""
    index_dir, server = _target(where)
    if server:
        return server.current()
    pointer = index_dir / "CURRENT"  # type: ignore[operator]
    try:
        name = pointer.read_text().strip()
    except OSError:
        return None
    path = index_dir / name  # type: ignore[operator]
    return path if (path / "manifest.json").exists() else None


def list_builds(where) -> list:
    """All complete-or-partial build folders (or server builds), oldest first; partial folders excluded."""
    index_dir, server = _target(where)
    if server:
        return [ServerBuild(server.url, server.prefix, b) for b in server.builds()]
    return sorted(p for p in index_dir.glob("build-*")  # type: ignore[union-attr]
                  if p.is_dir() and not p.name.endswith(".partial"))


def damage(build: Path | ServerBuild) -> str:
    """Why an embedded build's Chroma store cannot be read ('' when it looks sound): its SQLite file missing,
    its header overwritten ('file is not a database'), or its schema unreadable. Reads the file with the
    standard library, in ~1 ms, without opening Chroma (which would raise InternalError deep in a query).
    Server builds are the server's to check: ''."""
    if isinstance(build, ServerBuild):
        return ""
    if _kind(build) == "qdrant":
        return "" if (build / "qdrant").is_dir() else "its qdrant folder is missing"
    db = build / "chroma" / "chroma.sqlite3"
    try:
        with db.open("rb") as f:
            head = f.read(len(_SQLITE_MAGIC))
    except OSError as e:
        return f"{db.name} cannot be read ({e.strerror})"
    if head != _SQLITE_MAGIC:
        return f"{db.name}: file is not a database"
    import sqlite3

    try:
        con = sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True)
        try:
            con.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            con.close()
    except sqlite3.DatabaseError as e:
        return f"{db.name}: {e}"
    return ""


def readable_build(where) -> tuple[Path | ServerBuild, str]:
    """The build answers should come from, and a note when it is not the current one: a damaged current
    build gives way to the previous build if that one is sound ("answering from the previous build ...");
    IndexError_ naming the fix when there is no index or none is sound."""
    build = current_build(where)
    if build is None:
        index_dir, server = _target(where)
        place = f"the Chroma server {server.url} (collections {server.prefix}-*)" if server else str(index_dir)
        raise IndexError_(f"no index in {place}; run `assistant index`")
    why = damage(build)
    if not why:
        return build, ""
    for older in reversed(list_builds(where)):
        if older != build and (older / "manifest.json").exists() and not damage(older):
            made = json.loads((older / "manifest.json").read_text()).get("created", older.name)
            return older, (f"the current index is damaged ({why}); answering from the previous build "
                           f"({made}), which may miss recent changes: run `assistant index` to rebuild")
    raise IndexError_(f"the index at {build} is damaged ({why}); {REBUILD_HINT}")


def remove_build(build: Path | ServerBuild) -> None:
    """Delete an embedded build folder (a damaged one, once a sound build replaced it)."""
    if isinstance(build, Path):
        release(build / "qdrant")
        shutil.rmtree(build, ignore_errors=True)


@contextlib.contextmanager
def _readable(path: Path | ServerBuild) -> Iterator[None]:
    """Chroma failing on a damaged embedded store (InternalError: file is not a database, a missing segment)
    becomes one IndexError_ naming the fix, not a traceback."""
    try:
        yield
    except (IndexError_, IndexLockedError):
        raise
    except Exception as e:
        if isinstance(path, ServerBuild) or not type(e).__module__.startswith("chromadb"):
            raise
        raise IndexError_(f"the index at {path} cannot be read ({type(e).__name__}: {e}); {REBUILD_HINT}") from e


def _load_documents(raw_docs: list[dict]) -> dict[str, Document]:
    return {d["source"]: Document.from_dict(d) for d in raw_docs}


class IndexHandle:
    """A read-only view of one build: manifest, cleaned documents, chunks and the Chroma collection."""

    def __init__(self, path: Path | ServerBuild) -> None:
        self.path = path
        try:
            if isinstance(path, ServerBuild):
                self.manifest, raw_docs = path.server.read_build(path.name)
            else:
                self.manifest = json.loads((path / "manifest.json").read_text())
                raw_docs = json.loads((path / "documents.json").read_text())
            self.documents = _load_documents(raw_docs)
        except (OSError, json.JSONDecodeError, KeyError, TypeError) as e:
            raise IndexError_(f"index at {path} is unreadable ({e}); run `assistant index --rebuild`") from e
        self.kind = store_kind(self.manifest)
        self._store: ChunkStore | None = None
        self._count: int | None = None
        self._chunks: list[Chunk] | None = None

    @property
    def store(self) -> ChunkStore:
        """The build's chunks in their llama-index vector store (opened on first use)."""
        if self._store is None:
            if isinstance(self.path, ServerBuild):
                self._store = chroma_store(self.path.server.collection(self.path.name))
            elif self.kind == "qdrant":
                self._store = qdrant_store(self.path / "qdrant")
            else:
                with _readable(self.path):
                    self._store = chroma_store(_client(self.path / "chroma").get_collection(COLLECTION))
        return self._store

    @property
    def collection(self):
        """The Chroma collection of a Chroma build."""
        return self.store.collection  # type: ignore[attr-defined]

    def count(self) -> int:
        """Number of chunks (a build never changes, so it is asked once)."""
        if self._count is None:
            with _readable(self.path):
                self._count = self.store.count()
        return self._count

    def chunks(self) -> list[Chunk]:
        """Every chunk in the build (read once, page by page)."""
        if self._chunks is None:
            with _readable(self.path):
                self._chunks = sorted(self.store.chunks(), key=lambda c: c.id)
        return self._chunks

    def query(self, vector: list[float], k: int) -> list[tuple[str, float]]:
        """(chunk id, the store's similarity) of the k nearest chunks, nearest first."""
        k = min(k, self.count())
        if k <= 0:
            return []
        with _readable(self.path):
            return self.store.query(vector, k)

    def all_vectors(self) -> dict[str, dict[str, Any]]:
        """Every stored vector as {source: {chunk text: vector}} in one paged scan (one request per 5,000
        chunks instead of one per document: what an incremental build of a large library needs)."""
        with _readable(self.path):
            return self.store.vectors()


def store_kind(manifest: dict) -> str:
    """The vector store a build was written to: part of its fingerprint (Chroma for builds before Qdrant)."""
    return manifest.get("fingerprint", {}).get("vector_store", "chroma")


def _kind(build: Path) -> str:
    try:
        return store_kind(json.loads((build / "manifest.json").read_text()))
    except (OSError, ValueError):
        return "qdrant" if (build / "qdrant").is_dir() else "chroma"


def open_index(where) -> IndexHandle:
    """Open the active build; raises IndexError_ if there is none."""
    build = current_build(where)
    if build is None:
        index_dir, server = _target(where)
        place = f"the Chroma server {server.url} (collections {server.prefix}-*)" if server else str(index_dir)
        raise IndexError_(f"no index in {place}; run `assistant index`")
    return IndexHandle(build)


def write_build(where, manifest: dict, docs: list[Document], chunks: list[Chunk], vectors,
                progress=None) -> Path | ServerBuild:
    """Write a complete new build and swap it in; builds older than the previous one are removed.
    Call it while holding `write_lock(where)`."""
    index_dir, server = _target(where)
    if server:
        return server.write_build(manifest, docs, chunks, vectors, progress)
    assert index_dir is not None
    build = index_dir / f"build-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 10**6}"
    tmp = build.with_name(build.name + ".partial")
    tmp.mkdir(parents=True)
    try:
        if store_kind(manifest) == "qdrant":
            qdrant_store(tmp / "qdrant").add(chunks, vectors, progress)
            release(tmp / "qdrant")  # local mode holds the folder open: close it before the rename
        else:
            client = _client(tmp / "chroma")
            chroma_store(client.create_collection(COLLECTION, configuration=_HNSW)).add(chunks, vectors, progress)
            del client
        (tmp / "documents.json").write_text(json.dumps([d.to_dict() for d in docs], ensure_ascii=False))
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False))
        os.replace(tmp, build)
        pointer_tmp = index_dir / f".CURRENT.{os.getpid()}"
        pointer_tmp.write_text(build.name)
        os.replace(pointer_tmp, index_dir / "CURRENT")  # the atomic switch readers see
    except BaseException:
        release(tmp / "qdrant")
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    for old in list_builds(index_dir)[:-2]:  # keep the active and the previous build
        if old != build:
            release(old / "qdrant")
            shutil.rmtree(old, ignore_errors=True)
    for stale in index_dir.glob("build-*.partial"):
        shutil.rmtree(stale, ignore_errors=True)
    return build


# --------------------------------------------------------------------------- the Chroma server


@dataclass(frozen=True)
class ServerBuild:
    """One build on a Chroma server (hashable: retrievers are cached per build)."""

    url: str
    prefix: str
    name: str

    @property
    def server(self) -> _Server:
        return _Server(self.url, self.prefix)

    def __str__(self) -> str:
        return f"{self.url} ({self.prefix}-{self.name})"


_clients: dict[str, Any] = {}
_clients_lock = threading.Lock()


def _http_client(url: str):
    with _clients_lock:
        if url not in _clients:
            import chromadb
            from chromadb.config import Settings as ChromaSettings

            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise IndexError_(f"chroma_url must look like http://host:port, got {url!r}")
            try:
                _clients[url] = chromadb.HttpClient(
                    host=parts.hostname, port=parts.port or (443 if parts.scheme == "https" else 8000),
                    ssl=parts.scheme == "https", settings=ChromaSettings(anonymized_telemetry=False))
            except Exception as e:  # chromadb raises ValueError/ConnectError/...: name the server instead
                raise IndexError_(f"cannot reach the Chroma server at {url}: {e}") from e
        return _clients[url]


def _exists_error(e: Exception) -> bool:
    return "already exists" in str(e).lower() or type(e).__name__ == "UniqueConstraintError"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class _Server:
    """The index as collections on a Chroma server (see the module docstring for the layout)."""

    def __init__(self, url: str, prefix: str) -> None:
        self.url = url
        self.prefix = prefix

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except (IndexError_, IndexLockedError):
            raise
        except Exception as e:  # the server went away, refused, or answered an error
            raise IndexError_(f"Chroma server at {self.url} failed: {type(e).__name__}: {e}") from e

    @property
    def client(self):
        return _http_client(self.url)

    def _name(self, build: str, part: str = "") -> str:
        return f"{self.prefix}-{build}{'-' + part if part else ''}"

    def collection(self, build: str):
        with self._errors():
            return self.client.get_collection(self._name(build))

    def _pointer(self):
        return self.client.get_or_create_collection(f"{self.prefix}-current")

    def _pointer_meta(self) -> dict:
        got = self._pointer().get(ids=["current"], include=["metadatas"])
        return (got["metadatas"] or [None])[0] or {}

    def current(self) -> ServerBuild | None:
        with self._errors():
            name = self._pointer_meta().get("build")
            if not name:
                return None
            return ServerBuild(self.url, self.prefix, name)

    def builds(self) -> list[str]:
        with self._errors():
            names = [c if isinstance(c, str) else c.name for c in self.client.list_collections()]
        head = f"{self.prefix}-b"
        return sorted(n[len(self.prefix) + 1:-len("-docs")] for n in names
                      if n.startswith(head) and n.endswith("-docs"))

    def read_build(self, build: str) -> tuple[dict, list[dict]]:
        with self._errors():
            col = self.client.get_collection(self._name(build, "docs"))
            got = col.get(include=["documents", "metadatas"])
        manifest, docs = None, []
        for i, text, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True):
            if i == "manifest":
                manifest = json.loads(text)
            else:
                docs.append((meta["n"], json.loads(text)))
        if manifest is None:
            raise IndexError_(f"build {build} on {self.url} has no manifest (half-written)")
        return manifest, [d for _, d in sorted(docs, key=lambda x: x[0])]

    def write_build(self, manifest: dict, docs: list[Document], chunks: list[Chunk], vectors,
                    progress=None) -> ServerBuild:
        build = f"b{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
        with self._errors():
            try:
                col = self.client.create_collection(self._name(build), configuration=_HNSW)
                chroma_store(col).add(chunks, vectors, progress)
                # Documents and the manifest in their own collection; the 1-d zero vectors are never queried
                # (Chroma requires a vector per record, and must never compute one itself).
                docs_col = self.client.create_collection(self._name(build, "docs"))
                for n, d in enumerate(docs):
                    docs_col.add(ids=[f"doc-{n}"], documents=[json.dumps(d.to_dict(), ensure_ascii=False)],
                                 metadatas=[{"n": n, "source": d.source}], embeddings=[[0.0]])
                docs_col.add(ids=["manifest"], documents=[json.dumps(manifest, ensure_ascii=False)],
                             metadatas=[{"n": -1}], embeddings=[[0.0]])
                previous = self._pointer_meta().get("build", "")
                self._pointer().upsert(ids=["current"], embeddings=[[0.0]], documents=[build],
                                       metadatas=[{"build": build, "previous": previous,
                                                   "swapped": time.strftime("%Y-%m-%dT%H:%M:%S")}])
            except BaseException:
                with contextlib.suppress(Exception):
                    self._drop(build)
                raise
            for old in self._all_builds():  # keep the active and the previous build; sweep the rest
                if old not in (build, previous):
                    with contextlib.suppress(Exception):
                        self._drop(old)
        return ServerBuild(self.url, self.prefix, build)

    def _all_builds(self) -> set[str]:
        """Every build with a collection on the server, complete or half-written."""
        names = [c if isinstance(c, str) else c.name for c in self.client.list_collections()]
        head = f"{self.prefix}-b"
        return {n[len(self.prefix) + 1:].removesuffix("-docs") for n in names if n.startswith(head)}

    def _drop(self, build: str) -> None:
        for name in (self._name(build), self._name(build, "docs")):
            with contextlib.suppress(Exception):
                self.client.delete_collection(name)

    # ------------------------------------------------------------------- the lock

    def _lock_name(self) -> str:
        return f"{self.prefix}-lock"

    def _stale(self, meta: dict) -> bool:
        if float(meta.get("expires", 0)) < time.time():
            return True
        return meta.get("host") == socket.gethostname() and not _pid_alive(int(meta.get("pid", 0)))

    @contextlib.contextmanager
    def lock(self, wait: float = 0.0) -> Iterator[None]:
        token = uuid.uuid4().hex
        host, pid = socket.gethostname(), os.getpid()

        def meta() -> dict:
            return {"holder": f"pid {pid} on {host}", "host": host, "pid": pid, "token": token,
                    "expires": time.time() + LEASE_SECONDS}

        deadline = time.monotonic() + wait
        with self._errors():
            while True:
                try:
                    col = self.client.create_collection(self._lock_name(), metadata=meta())
                    break
                except Exception as e:
                    if not _exists_error(e):
                        raise
                try:
                    held = self.client.get_collection(self._lock_name()).metadata or {}
                except Exception:  # released between our two calls: try again at once
                    continue
                if self._stale(held):
                    self._break(held)
                    continue
                if time.monotonic() >= deadline:
                    raise IndexLockedError(
                        f"the index on the Chroma server {self.url} ({self.prefix}-*) is being written by "
                        f"{held.get('holder', 'another process')}; try again when it finishes"
                        + ("" if wait else " (or pass --wait SECONDS)"))
                time.sleep(0.5)
        stop = threading.Event()

        def renew() -> None:
            while not stop.wait(LEASE_SECONDS / 6):
                with contextlib.suppress(Exception):
                    col.modify(metadata=meta())

        beat = threading.Thread(target=renew, name="chroma-lock-lease", daemon=True)
        beat.start()
        try:
            yield
        finally:
            stop.set()
            beat.join(timeout=5)
            with contextlib.suppress(Exception):
                held = self.client.get_collection(self._lock_name()).metadata or {}
                if held.get("token") == token:
                    self.client.delete_collection(self._lock_name())

    def _break(self, seen: dict) -> None:
        """Remove a dead writer's lock, unless someone replaced it since we looked."""
        with contextlib.suppress(Exception):
            now = self.client.get_collection(self._lock_name()).metadata or {}
            if now.get("token") == seen.get("token"):
                self.client.delete_collection(self._lock_name())
