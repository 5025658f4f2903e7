"""The generation cache: every finished generation stored in SQLite, so a benchmark run that stops
(interrupted, crashed, a machine lost) resumes where it was and no prompt is paid for twice.

A key is the sha256 of (model identity, :func:`~.types.chat_hash` of the chat, ``Decoding.key()``).
The model identity (:func:`model_identity`) is the backend's ``name`` and ``model``, and, where the
model is a local directory, a fingerprint of its ``config.json`` and tokenizer files and of its
weight files' sizes, modification times and first and last 64 KiB: a checkpoint retrained into the
same folder gets new keys.

Generations with ``error`` set are never stored (the next run asks again). The file is opened in
WAL mode; one connection guarded by a lock serves every thread of a backend, and several processes
can share the file.

:func:`cached_generate` answers the hits from the cache (``cached=True``) and generates the misses
``chunk_size`` at a time, storing each finished chunk before asking for the next.
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Iterable

from .types import Backend, Chat, Decoding, Generation, Progress, chat_hash

_SAMPLE = 64 * 1024
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf", ".ckpt")
_TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja",
                    "generation_config.json", "tokenizer.model", "vocab.json", "merges.txt")
_SCHEMA = """CREATE TABLE IF NOT EXISTS generations (
    key TEXT PRIMARY KEY,
    identity TEXT NOT NULL,
    text TEXT NOT NULL,
    prompt_tokens INTEGER,
    completion_tokens INTEGER,
    seconds REAL,
    created_at REAL NOT NULL)"""


def model_fingerprint(directory: str | Path) -> str:
    """A hash of a model folder's config and tokenizer files and, for each weight file directly
    inside it, its size, mtime and first and last 64 KiB."""
    root = Path(directory)
    h = hashlib.sha256()
    for name in ("config.json", *_TOKENIZER_FILES):
        path = root / name
        if path.is_file():
            h.update(f"{name}\0".encode() + path.read_bytes() + b"\0")
    for path in sorted(p for p in root.iterdir() if p.is_file() and p.name.endswith(_WEIGHT_SUFFIXES)):
        st = path.stat()
        h.update(f"{path.name}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
        with path.open("rb") as f:                  # and a sample of the bytes, for coarse clocks
            h.update(f.read(_SAMPLE))
            if st.st_size > 2 * _SAMPLE:
                f.seek(-_SAMPLE, 2)
                h.update(f.read(_SAMPLE))
    return h.hexdigest()[:16]


def model_identity(backend: Backend) -> str:
    """``name:model``, plus ``@fingerprint`` when the model is a local directory."""
    identity = f"{backend.name}:{backend.model}"
    path = Path(str(backend.model)).expanduser()
    try:
        if path.is_dir():
            identity += f"@{model_fingerprint(path)}"
    except OSError:
        pass
    return identity


def cache_key(identity: str, chat: Chat, decoding: Decoding) -> str:
    blob = json.dumps([identity, chat_hash(chat), decoding.key()], separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class GenerationCache:
    """Generations by key in one SQLite file (see the module docstring)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._con = sqlite3.connect(str(self.path), timeout=60.0, check_same_thread=False, isolation_level=None)
        with self._lock:
            self._con.execute("PRAGMA journal_mode=WAL")
            self._con.execute("PRAGMA synchronous=NORMAL")
            self._con.execute(_SCHEMA)

    def __repr__(self) -> str:
        return f"GenerationCache({str(self.path)!r})"

    def get_many(self, keys: Iterable[str]) -> dict[str, Generation]:
        """The stored generations among ``keys`` (``cached=True``); absent keys are left out."""
        wanted = list(dict.fromkeys(keys))
        found: dict[str, Generation] = {}
        with self._lock:
            for start in range(0, len(wanted), 500):
                part = wanted[start:start + 500]
                rows = self._con.execute(
                    "SELECT key, text, prompt_tokens, completion_tokens, seconds FROM generations "
                    f"WHERE key IN ({','.join('?' * len(part))})", part).fetchall()
                for key, text, pt, ct, seconds in rows:
                    found[key] = Generation(text=text, prompt_tokens=pt, completion_tokens=ct, cached=True,
                                            seconds=seconds)
        return found

    def put_many(self, items: Iterable[tuple[str, Generation]], identity: str = "") -> int:
        """Store ``(key, generation)`` pairs in one transaction; errors are skipped. -> rows written."""
        rows = [(key, identity, g.text, g.prompt_tokens, g.completion_tokens, g.seconds, time.time())
                for key, g in items if g.error is None]
        if not rows:
            return 0
        with self._lock:
            self._con.execute("BEGIN IMMEDIATE")
            try:
                self._con.executemany("INSERT OR REPLACE INTO generations VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
            except BaseException:
                self._con.execute("ROLLBACK")
                raise
            self._con.execute("COMMIT")
        return len(rows)

    def __len__(self) -> int:
        with self._lock:
            return self._con.execute("SELECT count(*) FROM generations").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._con.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def cached_generate(backend: Backend, chats: list[Chat], decoding: Decoding, cache: GenerationCache | None, *,
                    chunk_size: int = 32, progress: Progress | None = None) -> list[Generation]:
    """One generation per chat, in order: hits from ``cache``, misses from ``backend`` a chunk at a
    time (each chunk stored before the next is asked). A chat repeated in ``chats`` is generated once.
    ``cache=None``: every chat is generated, still chunk by chunk."""
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    identity = model_identity(backend)
    keys = [cache_key(identity, chat, decoding) for chat in chats]
    results: list[Generation | None] = [None] * len(chats)
    hits = cache.get_many(keys) if cache is not None else {}
    positions: dict[str, list[int]] = {}
    for i, key in enumerate(keys):
        if key in hits:
            results[i] = replace(hits[key])
        else:
            positions.setdefault(key, []).append(i)
    if progress and hits:
        progress(len(chats) - sum(len(v) for v in positions.values()))
    todo = list(positions)
    for start in range(0, len(todo), chunk_size):
        chunk = todo[start:start + chunk_size]
        generations = backend.generate([chats[positions[k][0]] for k in chunk], decoding, progress=progress)
        if len(generations) != len(chunk):
            raise RuntimeError(f"{backend.name} backend returned {len(generations)} generations "
                               f"for {len(chunk)} chats")
        if cache is not None:
            cache.put_many(zip(chunk, generations), identity=identity)
        repeats = 0
        for key, generation in zip(chunk, generations):
            for n, i in enumerate(positions[key]):
                results[i] = generation if n == 0 else replace(generation)
                repeats += n > 0
        if progress and repeats:
            progress(repeats)
    return results  # type: ignore[return-value]
