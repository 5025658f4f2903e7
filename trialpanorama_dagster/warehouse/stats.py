"""Figures about the warehouse: records per source, rows per table per source, quarantine, clusters."""
from __future__ import annotations

import duckdb

from .schema import STUDY_TABLES


def warehouse_stats(con: duckdb.DuckDBPyConnection) -> dict:
    studies = dict(con.execute("SELECT study_source, count(*) FROM studies GROUP BY 1 ORDER BY 2 DESC").fetchall())
    raw = {src: {"records": n, "versions": v} for src, n, v in con.execute(
        "SELECT source, count(DISTINCT source_id), count(*) FROM raw_records GROUP BY 1 ORDER BY 1").fetchall()}
    rows: dict[str, dict[str, int]] = {}
    for t in STUDY_TABLES:
        if t.name == "studies":
            rows[t.name] = studies
            continue
        rows[t.name] = dict(con.execute(
            f"SELECT s.study_source, count(*) FROM {t.name} c JOIN studies s USING (study_id) "
            f"GROUP BY 1 ORDER BY 2 DESC").fetchall())
    seen = dict(con.execute("SELECT source, sum(records_seen) FROM load_events WHERE kind IN ('load', 'fetch') "
                            "GROUP BY 1").fetchall())
    quarantine = [{"source": s, "reason": r, "records": n} for s, r, n in con.execute(
        "SELECT source, reason, count(*) FROM quarantine GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2").fetchall()]
    q_by_source = dict(con.execute("SELECT source, count(*) FROM quarantine GROUP BY 1").fetchall())
    out = {
        "distinct_study_sources": len(studies),
        "studies_by_source": studies,
        "raw_records_by_source": raw,
        "rows_by_table_and_source": rows,
        "quarantine_by_source": q_by_source,
        "quarantine_rate_by_source": {s: round(q_by_source.get(s, 0) / n, 4) for s, n in seen.items() if n},
        "quarantine_reasons": quarantine,
    }
    existing = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    if "trial_clusters" in existing:
        out["clusters"] = cluster_stats(con)
    return out


def cluster_stats(con: duckdb.DuckDBPyConnection) -> dict:
    n_clusters, multi, biggest = con.execute(
        "SELECT count(DISTINCT cluster_id), count(DISTINCT cluster_id) FILTER (WHERE cluster_size > 1), "
        "coalesce(max(cluster_size), 0) FROM trial_clusters").fetchone()
    evidence = dict(con.execute("SELECT evidence_type, count(*) FROM cluster_evidence GROUP BY 1 ORDER BY 2 DESC")
                    .fetchall())
    review = con.execute("SELECT count(*) FROM cluster_review").fetchone()[0]
    return {"clusters": n_clusters, "multi_record_clusters": multi, "largest_cluster": biggest,
            "evidence_mix": evidence, "review_candidates": review}


def format_stats(stats: dict) -> str:
    lines = [f"distinct study sources: {stats['distinct_study_sources']}", "", "records per source:"]
    raw = stats["raw_records_by_source"]
    for src, n in stats["studies_by_source"].items():
        lines.append(f"  {src:<10} {n:>9,} studies")
    for src, r in raw.items():
        lines.append(f"  raw/{src:<6} {r['records']:>9,} records ({r['versions']:,} versions)")
    lines += ["", "rows per table (by study source):"]
    for table, by_src in stats["rows_by_table_and_source"].items():
        total = sum(by_src.values())
        detail = ", ".join(f"{s} {n:,}" for s, n in by_src.items())
        lines.append(f"  {table:<15} {total:>9,}  {detail}")
    lines += ["", "quarantine:"]
    for src, n in stats["quarantine_by_source"].items():
        rate = stats["quarantine_rate_by_source"].get(src)
        lines.append(f"  {src:<10} {n:>6,}" + (f" ({rate:.2%} of records read)" if rate is not None else ""))
    for q in stats["quarantine_reasons"][:15]:
        lines.append(f"    {q['records']:>5} × [{q['source']}] {q['reason'][:100]}")
    if "clusters" in stats:
        c = stats["clusters"]
        lines += ["", f"clusters: {c['clusters']:,} ({c['multi_record_clusters']:,} with more than one record, "
                      f"largest {c['largest_cluster']}), {c['review_candidates']:,} title matches for review",
                  "  evidence: " + (", ".join(f"{k} {v:,}" for k, v in c["evidence_mix"].items()) or "none")]
    return "\n".join(lines)
