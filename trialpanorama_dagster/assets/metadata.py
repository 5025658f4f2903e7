"""Materialisation metadata shared by the assets: counts, quarantine reasons, previews."""
from __future__ import annotations

import dagster as dg
import duckdb

from ..warehouse.loader import LoadStats


def markdown_table(con: duckdb.DuckDBPyConnection, sql: str, params=None, limit: int = 5) -> str:
    cur = con.execute(sql, params or [])
    cols = [d[0] for d in cur.description]
    rows = cur.fetchmany(limit)

    def cell(v) -> str:
        s = "" if v is None else str(v)
        s = s.replace("|", "\\|").replace("\n", " ")
        return s if len(s) <= 60 else s[:57] + "…"

    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(cell(v) for v in r) + " |" for r in rows]
    return "\n".join(lines)


def load_metadata(con: duckdb.DuckDBPyConnection, stats: LoadStats, source: str) -> dict:
    raw_total = con.execute("SELECT count(*), count(DISTINCT source_id) FROM raw_records WHERE source = ?",
                            [source]).fetchone()
    meta = {
        "records_seen": stats.seen, "new_versions": stats.loaded, "unchanged": stats.unchanged,
        "older_versions": stats.older, "duplicates_in_input": stats.duplicates,
        "quarantined": stats.quarantined, "raw_versions_total": raw_total[0], "raw_records_distinct": raw_total[1],
        "load_id": stats.load_id,
        "seconds": round((stats.finished_at - stats.started_at).total_seconds(), 2) if stats.finished_at else None,
    }
    if stats.quarantined:
        meta["quarantine_reasons"] = dg.MetadataValue.md(markdown_table(
            con, "SELECT reason, count(*) AS records, any_value(origin) AS example FROM quarantine "
                 "WHERE load_id = ? GROUP BY reason ORDER BY records DESC", [stats.load_id], limit=20))
    return meta
