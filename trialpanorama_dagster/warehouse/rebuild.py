"""Rebuild the core tables from ``raw_records``: everything but raw is derived and idempotent.

``sync_core`` brings the core tables of one source up to date with the newest raw version of
each record: only records whose newest payload is not the one the core tables hold are parsed
again (``full=True`` re-parses everything, e.g. after a parser change).
"""
from __future__ import annotations

import datetime as dt

import duckdb

from ..registries.formats import RawItem
from .loader import LoadStats, Loader, delete_studies

_LATEST = """
SELECT source_id, payload, payload_format, origin, fetched_at FROM (
  SELECT *, row_number() OVER (PARTITION BY source_id
                               ORDER BY source_version DESC NULLS LAST, fetched_at DESC) AS rn
  FROM raw_records WHERE source = ?
) r
WHERE rn = 1 {stale}
ORDER BY source_id
"""
_STALE = "AND NOT EXISTS (SELECT 1 FROM studies s WHERE s.study_id = r.source_id AND s.payload_hash = r.payload_hash)"


def sync_core(con: duckdb.DuckDBPyConnection, source: str, full: bool = False, batch_size: int = 2000,
              on_batch=None) -> LoadStats:
    if full:
        con.execute("BEGIN TRANSACTION")
        # the studies whose rows came from this extract (an ICTRP row's study_source is its registry)
        ids = [r[0] for r in con.execute(
            "SELECT s.study_id FROM studies s WHERE EXISTS (SELECT 1 FROM raw_records r WHERE r.source = ? "
            "AND r.source_id = s.study_id AND r.payload_hash = s.payload_hash)", [source]).fetchall()]
        if ids:
            delete_studies(con, ids)
        con.execute("COMMIT")
    reader = con.cursor()
    try:
        result = reader.execute(_LATEST.format(stale="" if full else _STALE), [source])
        loader = Loader(con, source, kind="rebuild" if full else "sync", inputs=["raw_records"],
                        write_core=True, batch_size=batch_size, on_batch=on_batch)
        with loader:
            while chunk := result.fetchmany(batch_size):
                for sid, payload, fmt, origin, fetched_at in chunk:
                    if fetched_at is not None and fetched_at.tzinfo is None:
                        fetched_at = fetched_at.replace(tzinfo=dt.timezone.utc)
                    loader.add(RawItem(source, payload.encode("utf-8"), fmt, origin or "raw_records",
                                       fetched_at, source_id=sid))
    finally:
        reader.close()
    return loader.stats
