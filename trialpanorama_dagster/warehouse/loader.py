"""The load pipeline: RawItems -> raw_records, quarantine and the core tables, in batches.

Each batch is one transaction: new payload versions are appended to ``raw_records``; a study
whose current version changed has all its rows in every per-study table replaced together, so a
reader never sees half a study. A payload already loaded is recognised by its hash and changes
nothing. Bad input goes to ``quarantine`` with its reason and the load carries on.

Items are parsed in chunks straight into Arrow (``prepare_chunk``, a pure function); the writer
keeps the per-batch decisions. ``load_items(..., workers=N)`` runs the parsing — and, for inputs
that can be split (``local_files.iter_files``'s zips), the reading — in N worker processes while this process
writes, with the same rows, order and statistics as a load in one process.
"""
from __future__ import annotations

import datetime as dt
import gc
import uuid
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterable

import duckdb
import pyarrow as pa

from ..registries.formats import RawItem
from .db import insert_arrow, insert_rows
from .load_chunks import CHUNK, QUARANTINE_PAYLOAD_MAX, Chunk, payload_hash, prepare_chunk  # noqa: F401
from .schema import STUDY_TABLES

# While loading: commit batches to the WAL and checkpoint every GiB, not on every large commit
# (DuckDB's default, which rewrites the growing last row group each time); one DuckDB thread, as
# the inserts hardly parallelise and the other cores parse. Restored when the load closes.
_LOAD_SETTINGS = {"checkpoint_threshold": "'1GiB'", "auto_checkpoint_skip_wal_threshold": "1000000000000",
                  "threads": "1"}


@dataclass
class LoadStats:
    load_id: str
    source: str
    kind: str
    inputs: list[str]
    started_at: dt.datetime
    finished_at: dt.datetime | None = None
    seen: int = 0
    loaded: int = 0
    unchanged: int = 0
    older: int = 0
    duplicates: int = 0
    shadowed: int = 0
    quarantined: int = 0
    newest_version: str | None = None
    loaded_by_source: Counter = field(default_factory=Counter)
    rows: Counter = field(default_factory=Counter)
    reasons: Counter = field(default_factory=Counter)
    status: str = "running"

    def summary(self) -> dict:
        return {"load_id": self.load_id, "source": self.source, "seen": self.seen, "loaded": self.loaded,
                "unchanged": self.unchanged, "older_versions": self.older,
                "duplicates_in_input": self.duplicates, "shadowed_by_registry_record": self.shadowed,
                "quarantined": self.quarantined,
                "status": self.status}


def precedence(source: str | None) -> int:
    """A registry's own record outranks the copy WHO ICTRP republishes of it."""
    return 0 if source == "ictrp" else 1


@dataclass
class _Pending:
    study_id: str
    source: str
    version: str | None
    hash: str
    chunk: Chunk
    j: int


class Loader:
    """Feed RawItems with ``add``; call ``close`` at the end (or use as a context manager)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, source: str, kind: str = "load",
                 inputs: Iterable[str] = (), write_core: bool = True, batch_size: int = 2000,
                 on_batch: Callable[["LoadStats"], None] | None = None):
        self.con = con
        self.write_core = write_core
        self.batch_size = batch_size
        self.on_batch = on_batch
        self.stats = LoadStats(uuid.uuid4().hex[:16], source, kind, list(inputs), dt.datetime.now(dt.timezone.utc))
        self._pending: dict[str, _Pending] = {}
        self._quarantine: list[tuple] = []
        self._buffer: list[RawItem] = []
        self._settings = {k: con.execute(f"SELECT current_setting('{k}')").fetchone()[0] for k in _LOAD_SETTINGS}
        for k, v in _LOAD_SETTINGS.items():
            con.execute(f"SET {k} = {v}")

    # -- per item -----------------------------------------------------------------------------
    def add(self, item: RawItem) -> None:
        self.stats.seen += 1
        self._buffer.append(item)
        if len(self._buffer) >= min(CHUNK, self.batch_size):
            self._drain()

    def add_chunk(self, chunk: Chunk) -> None:
        """Take items parsed elsewhere (``prepare_chunk`` with this loader's load id)."""
        self.stats.seen += len(chunk.entries)
        self._accept(chunk)

    def _drain(self) -> None:
        items, self._buffer = self._buffer, []
        if items:
            self._accept(prepare_chunk(items, self.stats.load_id, self.write_core))

    def _accept(self, chunk: Chunk) -> None:
        stats = self.stats
        for sid, version, h, j, source in chunk.entries:
            if sid is None:
                stats.quarantined += 1
                stats.reasons[version.split(":")[0][:80]] += 1
                self._quarantine.append(h)
                continue
            if version and (stats.newest_version is None or version > stats.newest_version):
                stats.newest_version = version
            key = (source, sid)
            prev = self._pending.get(key)
            if prev is not None:
                stats.duplicates += 1
            if prev is None or (version or "") >= (prev.version or ""):
                self._pending[key] = _Pending(sid, source, version, h, chunk, j)
            if len(self._pending) >= self.batch_size:
                self._commit()

    # -- per batch ----------------------------------------------------------------------------
    def flush(self) -> None:
        self._drain()
        self._commit()

    def _commit(self) -> None:
        pending, self._pending = list(self._pending.values()), {}
        quarantine, self._quarantine = self._quarantine, []
        if not pending and not quarantine:
            return
        con = self.con
        con.execute("BEGIN TRANSACTION")
        try:
            insert_rows(con, "quarantine", quarantine, or_ignore=True)
            if pending:
                self._write(con, pending)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        if self.on_batch:
            self.on_batch(self.stats)

    def _lookup(self, con, pending: list[_Pending]) -> tuple[set, dict]:
        """Which payloads raw_records has already, and each study's current (version, hash, extract)."""
        keys = pa.table({"source": [p.source for p in pending], "study_id": [p.study_id for p in pending],
                         "payload_hash": [p.hash for p in pending]})
        con.register("_batch_keys", keys)
        try:
            in_raw = set(con.execute(
                "SELECT k.source, k.study_id, k.payload_hash FROM _batch_keys k JOIN raw_records r "
                "ON r.source = k.source AND r.source_id = k.study_id AND r.payload_hash = k.payload_hash").fetchall())
            current = {}
            if self.write_core:
                current = {sid: (v, h, src) for sid, v, h, src in con.execute(
                    "SELECT s.study_id, s.source_version, s.payload_hash, (SELECT any_value(r.source) FROM raw_records r "
                    " WHERE r.source_id = s.study_id AND r.payload_hash = s.payload_hash) FROM studies s "
                    "WHERE s.study_id IN (SELECT study_id FROM _batch_keys)").fetchall()}
        finally:
            con.unregister("_batch_keys")
        return in_raw, current

    def _write(self, con, pending: list[_Pending]) -> None:
        in_raw, current = self._lookup(con, pending)
        by_study: dict[str, list[_Pending]] = {}
        for p in pending:
            by_study.setdefault(p.study_id, []).append(p)
        raw_new_items, replace, existing = [], [], []
        stats = self.stats
        for sid, group in by_study.items():
            # the registry's own record first, then the newest version
            group.sort(key=lambda p: (precedence(p.source), p.version or ""), reverse=True)
            best, cur = group[0], current.get(sid)
            outranked = cur is not None and precedence(best.source) < precedence(cur[2])
            swap = self.write_core and (cur is None or (cur[1] != best.hash and not outranked and (
                precedence(best.source) > precedence(cur[2]) or (best.version or "") >= (cur[0] or ""))))
            if swap:
                replace.append(best)
                if cur is not None:
                    existing.append(sid)
            for p in group:
                raw_new = (p.source, sid, p.hash) not in in_raw
                if raw_new:
                    raw_new_items.append(p)
                if (p is best and swap) or (not self.write_core and raw_new):
                    stats.loaded += 1
                    stats.loaded_by_source[p.source] += 1
                elif p is not best or (self.write_core and outranked):
                    stats.shadowed += 1
                elif raw_new:
                    stats.older += 1
                else:
                    stats.unchanged += 1
        raw_new_items.sort(key=lambda p: (id(p.chunk), p.j))
        replace.sort(key=lambda p: (id(p.chunk), p.j))
        insert_arrow(con, "raw_records", _gather(raw_new_items, None), or_ignore=True)
        if existing:
            delete_studies(con, existing)
        for t in STUDY_TABLES:
            stats.rows[t.name] += insert_arrow(con, t.name, _gather(replace, t.name)) if replace else 0

    def close(self, status: str = "ok", detail: str | None = None) -> LoadStats:
        try:
            self.flush()
        finally:
            for k, v in self._settings.items():
                self.con.execute(f"SET {k} = '{v}'")
        s = self.stats
        s.finished_at = dt.datetime.now(dt.timezone.utc)
        s.status = status
        insert_rows(self.con, "load_events", [(
            s.load_id, s.source, s.kind, s.started_at, s.finished_at, s.inputs[:1000], s.seen, s.loaded,
            s.unchanged, s.quarantined, status, detail)])
        return s

    def __enter__(self) -> "Loader":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self._pending.clear()  # the open batch is dropped; committed batches stay
            self._buffer.clear()
            self.close(status="failed", detail=f"{exc_type.__name__}: {exc}")


def _gather(pending: list[_Pending], name: str | None) -> pa.Table | None:
    """The rows of these items (raw_records when ``name`` is None), in their order, as one table."""
    pieces, run, run_chunk = [], [], None
    for p in [*pending, None]:
        if p is not None and p.chunk is run_chunk:
            run.append(p.j)
            continue
        if run:
            src = run_chunk.raw if name is None else run_chunk.tables[name]
            off = None if name is None else run_chunk.offsets[name]
            start, stop = (run[0], run[-1] + 1) if off is None else (off[run[0]], off[run[-1] + 1])
            if run == list(range(run[0], run[0] + len(run))):  # consecutive items: one slice
                pieces.append(src.slice(start, stop - start))
            else:
                idx = run if off is None else [i for j in run for i in range(off[j], off[j + 1])]
                pieces.append(src.take(pa.array(idx, pa.int64())))
        if p is not None:
            run, run_chunk = [p.j], p.chunk
    return pa.concat_tables(pieces) if pieces else None


def delete_studies(con: duckdb.DuckDBPyConnection, study_ids: list[str]) -> None:
    """Remove every per-study row of these studies (inside the caller's transaction)."""
    con.register("_del_ids", pa.table({"study_id": study_ids}))
    try:
        for t in STUDY_TABLES:
            con.execute(f"DELETE FROM {t.name} WHERE study_id IN (SELECT study_id FROM _del_ids) "
                        f"AND {t.registry_rows}")
    finally:
        con.unregister("_del_ids")


@contextmanager
def _gc_paused():
    """The load allocates millions of short-lived, acyclic objects: cyclic GC passes only cost time."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def load_items(con, items: Iterable[RawItem], source: str, kind: str = "load", inputs=(),
               write_core: bool = True, batch_size: int = 2000, on_batch=None, workers: int = 0) -> LoadStats:
    """Run a whole stream of items through a Loader; a crash keeps every committed batch.

    ``workers`` > 0 parses (and, where the input can be split, reads) in that many processes."""
    with _gc_paused(), Loader(con, source, kind, inputs, write_core, batch_size, on_batch) as loader:
        if workers > 0:
            from .load_chunks import chunks_in_workers
            ahead = batch_size // CHUNK + 2 * workers + 1  # the next batch is parsed while one is written
            for chunk in chunks_in_workers(items, workers, loader.stats.load_id, write_core, ahead):
                loader.add_chunk(chunk)
        else:
            for item in items:
                loader.add(item)
    return loader.stats
