"""The load pipeline: RawItems -> raw_records, quarantine and the core tables, in batches.

Each batch is one transaction: new payload versions are appended to ``raw_records``; a study
whose current version changed has all its rows in every per-study table replaced together, so a
reader never sees half a study. A payload already loaded is recognised by its hash and changes
nothing. Bad input goes to ``quarantine`` with its reason and the load carries on.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Iterable

import duckdb
import pyarrow as pa

from ..registries.common import RecordError, StudyRows
from ..registries.formats import RawItem, payload_format
from .db import insert_rows
from .schema import STUDY_TABLES

QUARANTINE_PAYLOAD_MAX = 1 << 20


def payload_hash(payload: bytes) -> str:
    return hashlib.blake2b(payload, digest_size=16).hexdigest()


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
    quarantined: int = 0
    rows: Counter = field(default_factory=Counter)
    reasons: Counter = field(default_factory=Counter)
    status: str = "running"

    def summary(self) -> dict:
        return {"load_id": self.load_id, "source": self.source, "seen": self.seen, "loaded": self.loaded,
                "unchanged": self.unchanged, "older_versions": self.older,
                "duplicates_in_input": self.duplicates, "quarantined": self.quarantined,
                "status": self.status}


@dataclass
class _Pending:
    study_id: str
    version: str | None
    hash: str
    raw: tuple
    rows: StudyRows | None


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

    # -- per item -----------------------------------------------------------------------------
    def add(self, item: RawItem) -> None:
        self.stats.seen += 1
        if item.error:
            self._reject(item, item.error)
            return
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
            self._reject(item, str(exc))
            return
        except Exception as exc:  # a parser bug must not stop the load: quarantine it, say what
            self._reject(item, f"parser error {type(exc).__name__}: {exc}")
            return
        raw = (item.source, sid, item.payload.decode("utf-8"), item.payload_format, h, item.fetched_at,
               version, item.origin, self.stats.load_id)
        prev = self._pending.get(sid)
        if prev is not None:
            self.stats.duplicates += 1
        if prev is None or (version or "") >= (prev.version or ""):
            self._pending[sid] = _Pending(sid, version, h, raw, rows if self.write_core else None)
        if len(self._pending) >= self.batch_size:
            self.flush()

    def _reject(self, item: RawItem, reason: str) -> None:
        self.stats.quarantined += 1
        self.stats.reasons[reason.split(":")[0][:80]] += 1
        text = item.payload[:QUARANTINE_PAYLOAD_MAX].decode("utf-8", "replace") if item.payload else None
        fp = payload_hash(f"{item.source}|{item.source_id}|{item.origin}|{reason}".encode())
        self._quarantine.append((item.source, item.source_id, item.origin, reason, text,
                                 dt.datetime.now(dt.timezone.utc), self.stats.load_id, fp))

    # -- per batch ----------------------------------------------------------------------------
    def flush(self) -> None:
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

    def _write(self, con, pending: list[_Pending]) -> None:
        keys = pa.table({"study_id": [p.study_id for p in pending], "payload_hash": [p.hash for p in pending]})
        con.register("_batch_keys", keys)
        try:
            in_raw = {r for (r,) in con.execute(
                "SELECT k.payload_hash FROM _batch_keys k JOIN raw_records r ON r.source = ? "
                "AND r.source_id = k.study_id AND r.payload_hash = k.payload_hash", [self.stats.source]).fetchall()}
            current = {}
            if self.write_core:
                current = {sid: (v, h) for sid, v, h in con.execute(
                    "SELECT s.study_id, s.source_version, s.payload_hash FROM studies s "
                    "JOIN _batch_keys k ON s.study_id = k.study_id").fetchall()}
        finally:
            con.unregister("_batch_keys")
        raw_rows, replace, existing = [], [], []
        for p in pending:
            raw_new = p.hash not in in_raw
            if raw_new:
                raw_rows.append(p.raw)
            cur = current.get(p.study_id)
            swap = self.write_core and (cur is None or (cur[1] != p.hash and (p.version or "") >= (cur[0] or "")))
            if swap:
                replace.append(p)
                if cur is not None:
                    existing.append(p.study_id)
            if swap or (not self.write_core and raw_new):
                self.stats.loaded += 1
            elif raw_new:
                self.stats.older += 1
            else:
                self.stats.unchanged += 1
        insert_rows(con, "raw_records", raw_rows, or_ignore=True)
        if existing:
            delete_studies(con, existing)
        for t in STUDY_TABLES:
            rows = [r for p in replace for r in p.rows[t.name]]
            self.stats.rows[t.name] += insert_rows(con, t.name, rows)

    def close(self, status: str = "ok", detail: str | None = None) -> LoadStats:
        self.flush()
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
            self.close(status="failed", detail=f"{exc_type.__name__}: {exc}")


def delete_studies(con: duckdb.DuckDBPyConnection, study_ids: list[str]) -> None:
    """Remove every per-study row of these studies (inside the caller's transaction)."""
    con.register("_del_ids", pa.table({"study_id": study_ids}))
    try:
        for t in STUDY_TABLES:
            con.execute(f"DELETE FROM {t.name} WHERE study_id IN (SELECT study_id FROM _del_ids)")
    finally:
        con.unregister("_del_ids")


def load_items(con, items: Iterable[RawItem], source: str, kind: str = "load", inputs=(),
               write_core: bool = True, batch_size: int = 2000, on_batch=None) -> LoadStats:
    """Run a whole stream of items through a Loader; a crash keeps every committed batch."""
    with Loader(con, source, kind, inputs, write_core, batch_size, on_batch) as loader:
        for item in items:
            loader.add(item)
    return loader.stats
