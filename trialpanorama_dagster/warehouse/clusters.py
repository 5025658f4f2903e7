"""Cross-registry dedup clusters in the warehouse: read studies, link them, replace three tables.

``build_clusters(con)`` reads ``studies`` (ids, titles, sponsor, dates, NCT aliases, a count of
non-null core fields), ``secondary_ids`` and the free-text fields that can name an id, runs
``linkage.clusters.build`` and replaces ``trial_clusters``, ``cluster_evidence`` and
``cluster_review`` in one transaction. Free text is pre-filtered in DuckDB (only values that look
like they hold a registry id travel to Python), so the 1.6M-record warehouse stays cheap to scan.
"""
from __future__ import annotations

import duckdb

from ..linkage.clusters import Record, build
from ..registries.ids import SOURCE_FAMILY
from .db import insert_rows

# non-null core fields counted for the primary rule ("the more complete record wins")
CORE_FIELDS = ("title", "official_title", "abstract", "detailed_description", "sponsor", "start_date",
               "completion_date", "first_submitted_date", "recruitment_status", "phase", "actual_accrual",
               "eligibility_criteria", "trial_type")
FREE_TEXT_FIELDS = ("title", "official_title", "acronym", "abstract", "detailed_description")
# RE2 pre-filter: anything that could start a registry id (find_ids decides)
_PREFILTER = (r"(?i)(\b(nct|isrctn|actrn|drks|ctri|chictr|umin|jrct|japic|jma|kct|irct|pactr|rbr|rpcec|lbctr|"
              r"tctr|nl-?omon|ntr|nl\d|per-\d|slctr|itmctr|u ?1111)|international standard randomi|"
              r"\d{4}\D\d{6}\D\d{2}|[\x{FF10}-\x{FF5A}])")
# id_type / domain words that tell which registry a bare secondary id belongs to
_TYPE_HINTS = {"EUDRACT_NUMBER": "eudract", "CTIS": "ctis", "NCT": "nct", "ISRCTN": "isrctn", "WHO_UTRN": "utrn"}
_DOMAIN_HINTS = (("isrctn", "isrctn"), ("clinicaltrials.gov", "nct"), ("anzctr", "actrn"), ("drks", "drks"),
                 ("umin", "umin"), ("cris", "kct"), ("pactr", "pactr"), ("eudract", "eudract"),
                 ("ctis", "ctis"), ("trialregister.nl", "ntr"), ("ntr", "ntr"), ("omon", "nl_omon"))


def _hint(id_type: str | None, domain: str | None) -> str | None:
    if id_type and id_type.upper() in _TYPE_HINTS:
        return _TYPE_HINTS[id_type.upper()]
    low = (domain or "").strip().lower()
    if low in SOURCE_FAMILY:                       # parsers put the registry code in domain
        return SOURCE_FAMILY[low]
    return next((fam for word, fam in _DOMAIN_HINTS if word in low), None)


def read_records(con: duckdb.DuckDBPyConnection) -> list[Record]:
    core = " + ".join(f"({c} IS NOT NULL)::INTEGER" for c in CORE_FIELDS)
    records: dict[str, Record] = {}
    for sid, src, title, official, sponsor, start, registered, aliases, n_core in con.execute(
            f"SELECT study_id, study_source, title, official_title, sponsor, start_date, first_submitted_date, "
            f"nct_aliases, {core} FROM studies ORDER BY study_id").fetchall():
        records[sid] = Record(sid, src, title, official, sponsor, start, registered, [], [],
                              tuple(a for a in aliases or () if a), n_core)
    for sid, value, id_type, domain in con.execute(
            "SELECT study_id, secondary_id, id_type, domain FROM secondary_ids "
            "WHERE secondary_id IS NOT NULL ORDER BY ALL").fetchall():
        if sid in records:
            fld = "secondary_ids" + (f":{id_type}" if id_type else "")
            records[sid].secondary_ids.append((value, fld, _hint(id_type, domain)))
    union = " UNION ALL ".join(
        f"SELECT study_id, '{c}' AS field, {c} AS text FROM studies "
        f"WHERE {c} IS NOT NULL AND regexp_matches({c}, ?)" for c in FREE_TEXT_FIELDS)
    for sid, fld, text in con.execute(f"SELECT * FROM ({union}) ORDER BY study_id, field",
                                      [_PREFILTER] * len(FREE_TEXT_FIELDS)).fetchall():
        records[sid].free_text.append((fld, text))
    return list(records.values())


def build_clusters(con: duckdb.DuckDBPyConnection, review: bool = True) -> dict:
    """Rebuild the three cluster tables from the current studies; returns figures."""
    result = build(read_records(con), review=review)
    cluster_rows = [(m.study_id, m.study_source, m.cluster_id, m.is_primary, m.cluster_size, m.confidence,
                     m.primary_rule) for m in result.members]
    evidence_rows = [(cid, e.study_a, e.study_b, e.evidence_type, e.shared_id, e.field, e.confidence)
                     for cid, e in result.evidence]
    review_rows = [(c.study_id_a, c.study_id_b, c.title_similarity, c.sponsor_match, c.date_gap_days, c.reason)
                   for c in result.review]
    con.execute("BEGIN TRANSACTION")
    try:
        for name in ("trial_clusters", "cluster_evidence", "cluster_review"):
            con.execute(f"DELETE FROM {name}")
        insert_rows(con, "trial_clusters", cluster_rows)
        insert_rows(con, "cluster_evidence", evidence_rows)
        insert_rows(con, "cluster_review", review_rows)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    figures = dict(result.figures)
    figures["clusters_with_two_nct"] = con.execute(
        "SELECT count(*) FROM (SELECT cluster_id FROM trial_clusters WHERE regexp_full_match(study_id, 'NCT\\d{8}') "
        "GROUP BY cluster_id HAVING count(*) > 1)").fetchone()[0]
    figures["evidence_mix"] = {k[len("evidence_"):]: v for k, v in sorted(figures.items())
                               if k.startswith("evidence_") and k != "evidence_mix"}
    return figures
