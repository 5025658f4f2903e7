"""Data-quality checks on the warehouse, as plain functions (the Dagster checks wrap these).

Each returns a ``CheckOutcome``: passed or not, a one-line description and figures.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from .schema import STUDY_TABLES, table

REQUIRED_STUDY_FIELDS = ("study_id", "study_source", "study_type", "title")


@dataclass
class CheckOutcome:
    passed: bool
    description: str
    metadata: dict = field(default_factory=dict)


def unique_study_ids(con: duckdb.DuckDBPyConnection) -> CheckOutcome:
    dupes = con.execute("SELECT study_id, count(*) n FROM studies GROUP BY study_id HAVING n > 1 "
                        "ORDER BY n DESC LIMIT 20").fetchall()
    return CheckOutcome(not dupes, f"{len(dupes)} duplicated study ids",
                        {"duplicated_ids": [d[0] for d in dupes]})


def required_study_fields(con: duckdb.DuckDBPyConnection) -> CheckOutcome:
    missing = {c: con.execute(f"SELECT count(*) FROM studies WHERE {c} IS NULL").fetchone()[0]
               for c in REQUIRED_STUDY_FIELDS}
    bad = {c: n for c, n in missing.items() if n}
    return CheckOutcome(not bad, "required fields missing: " + (", ".join(f"{c}={n}" for c, n in bad.items()) or "none"),
                        {f"missing_{c}": n for c, n in missing.items()})


def child_rows_have_study(con: duckdb.DuckDBPyConnection, name: str) -> CheckOutcome:
    t = table(name)
    # only the rows registry records own (linkage rows may name a trial that is not loaded)
    orphans = con.execute(f"SELECT count(*) FROM {t.name} c WHERE NOT EXISTS "
                          f"(SELECT 1 FROM studies s WHERE s.study_id = c.study_id) "
                          f"AND {t.registry_rows}").fetchone()[0]
    rows = con.execute(f"SELECT count(*) FROM {t.name} WHERE {t.registry_rows}").fetchone()[0]
    return CheckOutcome(orphans == 0, f"{orphans} of {rows} {name} rows have no study",
                        {"orphan_rows": orphans, "rows": rows})


def counts_match_raw(con: duckdb.DuckDBPyConnection) -> CheckOutcome:
    """Every record in raw_records has a study, and every study holds a payload from raw_records.

    (One study may have raw records from two extracts — a registry's own record and its WHO ICTRP
    copy — so the check is by id, not by count per source.)"""
    per_source = con.execute("""
        SELECT r.source, count(DISTINCT r.source_id),
               count(DISTINCT r.source_id) FILTER (WHERE NOT EXISTS
                   (SELECT 1 FROM studies s WHERE s.study_id = r.source_id))
        FROM raw_records r GROUP BY 1 ORDER BY 1""").fetchall()
    stale = con.execute("""
        SELECT count(*) FROM studies s WHERE NOT EXISTS (
          SELECT 1 FROM raw_records r WHERE r.source_id = s.study_id AND r.payload_hash = s.payload_hash)""").fetchone()[0]
    missing = sum(m for _, _, m in per_source)
    desc = "; ".join(f"{src}: {n} raw ids, {m} without a study" for src, n, m in per_source) or "no raw records"
    return CheckOutcome(missing == 0 and stale == 0, desc + f"; {stale} studies without their raw payload",
                        {"studies_without_raw": stale, "raw_ids_without_study": missing,
                         **{f"{src}_raw_ids": n for src, n, _ in per_source}})


def latest_load_quarantine(con: duckdb.DuckDBPyConnection, source: str) -> CheckOutcome:
    row = con.execute("SELECT load_id, records_seen, records_quarantined FROM load_events WHERE source = ? AND kind IN ('load', 'fetch') "
                      "ORDER BY started_at DESC LIMIT 1", [source]).fetchone()
    if row is None:
        return CheckOutcome(False, f"no load of {source} recorded")
    load_id, seen, quarantined = row
    reasons = con.execute("SELECT reason, count(*) FROM quarantine WHERE load_id = ? GROUP BY reason "
                          "ORDER BY 2 DESC LIMIT 10", [load_id]).fetchall()
    return CheckOutcome(quarantined == 0, f"{quarantined} of {seen} records quarantined in the latest load",
                        {"quarantined": quarantined, "seen": seen,
                         "top_reasons": "\n".join(f"{n} × {r}" for r, n in reasons)})


CHILD_TABLES = tuple(t.name for t in STUDY_TABLES if t.name != "studies")


def clusters_with_two_nct(con: duckdb.DuckDBPyConnection) -> CheckOutcome:
    """A dedup cluster holding two ClinicalTrials.gov records: either CT.gov itself has a duplicate,
    or an id was mis-quoted somewhere (a master-protocol EudraCT, a typo). Listed for review."""
    rows = con.execute(r"""
        SELECT cluster_id, list(study_id ORDER BY study_id) FROM trial_clusters
        WHERE regexp_full_match(study_id, 'NCT\d{8}') GROUP BY cluster_id HAVING count(*) > 1
        ORDER BY cluster_id""").fetchall()
    return CheckOutcome(not rows, f"{len(rows)} clusters contain two or more NCT ids",
                        {"clusters": len(rows),
                         "examples": "\n".join(f"{cid}: {', '.join(ids)}" for cid, ids in rows[:20])})


def cluster_coverage(con: duckdb.DuckDBPyConnection) -> CheckOutcome:
    """Every study is in exactly one cluster, no cluster row is stale, every cluster has one primary."""
    missing = con.execute("SELECT count(*) FROM studies s WHERE NOT EXISTS "
                          "(SELECT 1 FROM trial_clusters c WHERE c.study_id = s.study_id)").fetchone()[0]
    stale = con.execute("SELECT count(*) FROM trial_clusters c WHERE NOT EXISTS "
                        "(SELECT 1 FROM studies s WHERE s.study_id = c.study_id)").fetchone()[0]
    bad_primary = con.execute("SELECT count(*) FROM (SELECT cluster_id FROM trial_clusters GROUP BY cluster_id "
                              "HAVING count(*) FILTER (WHERE is_primary) <> 1 OR count(*) <> max(cluster_size))"
                              ).fetchone()[0]
    studies = con.execute("SELECT count(*) FROM studies").fetchone()[0]
    ok = missing == 0 and stale == 0 and bad_primary == 0
    return CheckOutcome(ok, f"{missing} of {studies} studies without a cluster, {stale} stale cluster rows, "
                            f"{bad_primary} clusters without exactly one primary",
                        {"studies": studies, "studies_without_cluster": missing, "stale_rows": stale,
                         "clusters_bad_primary": bad_primary})
