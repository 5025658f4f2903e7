"""Items -> Arrow chunks for the loader: ``prepare_chunk`` here, or in worker processes.

``prepare_chunk`` parses items straight into Arrow tables (pure: no database). For
``load_items(..., workers=N)`` the writing process hands out parts of the input (``local_files.iter_files``'s
zips as member ranges, which the workers read and decompress themselves; any other item stream as
lists of items). Each worker parses its part and writes the Arrow tables as IPC streams to a file
in shared memory; the writer maps that file (no copy, no unpickling) and deletes it. Chunks come
back in input order, so the load writes the same rows as one in a single process.
"""
from __future__ import annotations

import datetime as dt
import gc
import hashlib
import multiprocessing as mp
import os
import shutil
import tempfile
from collections import deque
from dataclasses import dataclass
from typing import Iterable, Iterator

import pyarrow as pa

from ..registries.common import RecordError
from ..registries.formats import RawItem, batched, payload_format
from .db import arrow_batch
from .schema import RAW_RECORDS, STUDY_TABLES

QUARANTINE_PAYLOAD_MAX = 1 << 20
CHUNK = 250  # items parsed together: the unit of work of a worker process


def payload_hash(payload: bytes) -> str:
    return hashlib.blake2b(payload, digest_size=16).hexdigest()


@dataclass
class Chunk:
    """Items parsed together. ``entries`` has one per item, in order: ``(study_id, version, hash, j,
    source)`` for the j-th parsed item, or ``(None, reason, quarantine_row, -1, source)``. Row j of ``raw`` and rows
    ``offsets[t][j]:offsets[t][j + 1]`` of ``tables[t]`` belong to the j-th parsed item."""
    entries: list[tuple]
    raw: pa.Table
    tables: dict[str, pa.Table]
    offsets: dict[str, list[int]]


def _quarantine_row(item: RawItem, reason: str, load_id: str) -> tuple:
    text = item.payload[:QUARANTINE_PAYLOAD_MAX].decode("utf-8", "replace") if item.payload else None
    fp = payload_hash(f"{item.source}|{item.source_id}|{item.origin}|{reason}".encode())
    return (item.source, item.source_id, item.origin, reason, text, dt.datetime.now(dt.timezone.utc), load_id, fp)


def prepare_chunk(items: Iterable[RawItem], load_id: str, write_core: bool = True) -> Chunk:
    """Parse items into a Chunk (pure: no database; runs in worker processes)."""
    entries: list[tuple] = []
    raw: list[tuple] = []
    rows_by_table = {t.name: [] for t in STUDY_TABLES} if write_core else {}
    offsets = {name: [0] for name in rows_by_table}
    for item in items:
        reason = item.error
        if not reason:
            try:
                fmt = payload_format(item.payload_format)
                try:
                    item.payload.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise RecordError(f"payload is not valid UTF-8: {exc}") from None
                obj = item.decoded if item.decoded is not None else fmt.decode(item.payload)
                h = payload_hash(item.payload)
                rows = fmt.parse(obj, h)
                sid = rows["studies"][0][0]
                version = fmt.version(obj)
            except RecordError as exc:
                reason = str(exc)
            except Exception as exc:  # a parser bug must not stop the load: quarantine it, say what
                reason = f"parser error {type(exc).__name__}: {exc}"
        if reason:
            entries.append((None, reason, _quarantine_row(item, reason, load_id), -1, item.source))
            continue
        entries.append((sid, version, h, len(raw), item.source))
        raw.append((item.source, sid, item.payload, item.payload_format, h, item.fetched_at, version,
                    item.origin, load_id))
        for name, acc in rows_by_table.items():
            acc.extend(rows.get(name, ()))
            offsets[name].append(len(acc))
    tables = {t.name: arrow_batch(t, rows_by_table[t.name]) for t in STUDY_TABLES if t.name in rows_by_table}
    return Chunk(entries, arrow_batch(RAW_RECORDS, raw), tables, offsets)




def chunks_in_workers(items, workers: int, load_id: str, write_core: bool, ahead: int) -> Iterator[Chunk]:
    """Chunks parsed by ``workers`` processes, in input order, at most ``ahead`` in flight."""
    parts = items.parts(CHUNK) if hasattr(items, "parts") else batched(items, CHUNK)
    shm = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    spill = tempfile.mkdtemp(prefix="trialpanorama-load-", dir=shm)
    try:
        # spawn, not fork: this process has DuckDB's threads running
        with mp.get_context("spawn").Pool(workers, initializer=gc.disable) as pool:
            window: deque = deque()
            for part in parts:
                window.append(pool.apply_async(_prepare_part, ((part, load_id, write_core, spill),)))
                if len(window) >= ahead:
                    yield _unspill(*window.popleft().get())
            while window:
                yield _unspill(*window.popleft().get())
            pool.close()
            pool.join()
    finally:
        shutil.rmtree(spill, ignore_errors=True)


def _prepare_part(args) -> tuple:
    """In a worker: read and parse one part, spill its tables; return what the writer needs."""
    part, load_id, write_core, spill = args
    chunk = prepare_chunk(part.read() if hasattr(part, "read") else part, load_id, write_core)
    fd, path = tempfile.mkstemp(dir=spill, suffix=".arrows")
    os.close(fd)
    spans = []
    with pa.OSFile(path, "wb") as f:
        for name, tbl in (("", chunk.raw), *chunk.tables.items()):
            start = f.tell()
            with pa.ipc.new_stream(f, tbl.schema) as writer:
                writer.write_table(tbl)
            spans.append((name, start, f.tell() - start))
    return chunk.entries, chunk.offsets, path, spans


def _unspill(entries: list, offsets: dict, path: str, spans: list) -> Chunk:
    """Map a spilled chunk (its tables point into the mapping, which lives as long as they do)."""
    buf = pa.memory_map(path).read_buffer()
    os.unlink(path)
    tables = {name: pa.ipc.open_stream(buf.slice(start, size)).read_all() for name, start, size in spans}
    raw = tables.pop("")
    return Chunk(entries, raw, tables, offsets)
