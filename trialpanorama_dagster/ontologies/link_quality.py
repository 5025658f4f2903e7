"""How good the links are: coverage per table and source, collisions, precision on a gold sample.

- coverage: the share of rows of ``conditions`` (MeSH id), ``drugs`` (DrugBank id),
  ``adverse_events`` (MedDRA term kept) with a link, per registry source;
- collisions: one normalised term linked to two different ids of one ontology, and one id
  reached from names that share no word (after normalisation) with each other or the concept;
- precision: the hand-labelled sample (``tests/ontologies/linker_gold.csv``: domain, term,
  ontology, expected_id) against ``term_links``: correct links / links made; a ``NONE`` row that
  gets linked counts as wrong. Recall on the sample is reported beside it.
"""
from __future__ import annotations

import csv
from pathlib import Path

import duckdb

from ..warehouse.quality import CheckOutcome

GOLD_PATH = Path(__file__).resolve().parents[2] / "tests" / "ontologies" / "linker_gold.csv"

COVERAGE_SQL = {
    "conditions": ("SELECT s.study_source, count(*), count(c.condition_mesh_id) FROM conditions c "
                   "JOIN studies s USING (study_id) GROUP BY 1 ORDER BY 1"),
    "drugs": ("SELECT s.study_source, count(*), count(d.drugbank_id) FROM drugs d "
              "JOIN studies s USING (study_id) GROUP BY 1 ORDER BY 1"),
    "adverse_events": ("SELECT s.study_source, count(*), count(l.method) FROM adverse_events a "
                       "JOIN studies s USING (study_id) LEFT JOIN term_links l ON l.domain = 'adverse_event' "
                       "AND l.ontology = 'meddra' AND l.term = a.adverse_event_name GROUP BY 1 ORDER BY 1"),
    "biomarkers": ("SELECT s.study_source, count(*), count(*) FILTER (WHERE len(b.biomarker_genes) > 0) "
                   "FROM biomarkers b JOIN studies s USING (study_id) GROUP BY 1 ORDER BY 1"),
}


def coverage(con: duckdb.DuckDBPyConnection, tables=tuple(COVERAGE_SQL)) -> dict[str, dict]:
    """{table: {"rows", "linked", "share", "by_source": {source: {"rows", "linked", "share"}}}}."""
    out = {}
    for name in tables:
        sql = COVERAGE_SQL[name]
        by = {}
        for source, rows, linked in con.execute(sql).fetchall():
            by[source] = {"rows": rows, "linked": linked, "share": round(linked / rows, 4) if rows else None}
        rows = sum(v["rows"] for v in by.values())
        linked = sum(v["linked"] for v in by.values())
        out[name] = {"rows": rows, "linked": linked, "share": round(linked / rows, 4) if rows else None,
                     "by_source": by}
    return out


def methods(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, int]]:
    """{domain/ontology: {method or 'unlinked': distinct terms}}."""
    out: dict[str, dict[str, int]] = {}
    for domain, onto, method, n in con.execute(
            "SELECT domain, ontology, coalesce(method, 'unlinked'), count(*) FROM term_links "
            "GROUP BY ALL ORDER BY ALL").fetchall():
        out.setdefault(f"{domain}/{onto}", {})[method] = n
    return out


def top_unlinked(con: duckdb.DuckDBPyConnection, domain: str, ontology: str, limit: int = 15) -> list[tuple]:
    """(term, rows using it, reason) of the most used terms left unlinked."""
    uses = {"condition": "SELECT condition_name AS t, count(*) AS n FROM conditions GROUP BY 1",
            "drug": "SELECT drug_name AS t, count(*) AS n FROM drugs GROUP BY 1",
            "adverse_event": "SELECT adverse_event_name AS t, count(*) AS n FROM adverse_events GROUP BY 1"}[domain]
    return con.execute(
        f"SELECT l.term, u.n, l.reason FROM term_links l JOIN ({uses}) u ON u.t = l.term "
        "WHERE l.domain = ? AND l.ontology = ? AND l.concept_id IS NULL AND (l.method IS NULL) "
        "ORDER BY u.n DESC, l.term LIMIT ?", [domain, ontology, limit]).fetchall()


def collisions(con: duckdb.DuckDBPyConnection, limit: int = 50, domain: str | None = None) -> dict[str, list]:
    """Same normalised term -> different ids; one id -> names sharing no word with each other."""
    scope = "domain = ?" if domain else "true"
    args = [domain] if domain else []
    term_to_ids = con.execute(f"""
        SELECT domain, ontology, norm_term, list(DISTINCT concept_id ORDER BY concept_id) AS ids
        FROM term_links WHERE {scope} AND concept_id IS NOT NULL AND norm_term IS NOT NULL AND norm_term <> ''
        GROUP BY ALL HAVING count(DISTINCT concept_id) > 1 ORDER BY ALL LIMIT ?""", args + [limit]).fetchall()
    ambiguous = con.execute(f"""
        SELECT domain, ontology, term, reason FROM term_links WHERE {scope} AND reason LIKE 'ambiguous%'
        ORDER BY ALL LIMIT ?""", args + [limit]).fetchall()
    id_to_terms = con.execute(f"""
        SELECT domain, ontology, concept_id, any_value(concept_name),
               list(DISTINCT norm_term ORDER BY norm_term) AS names
        FROM term_links WHERE {scope} AND concept_id IS NOT NULL AND method IN ('fuzzy', 'normalised', 'synonym')
        GROUP BY domain, ontology, concept_id HAVING count(DISTINCT norm_term) > 1 ORDER BY ALL""", args).fetchall()
    unrelated = []
    for dom, onto, cid, name, names in id_to_terms:
        words = [set(n.split()) for n in names]
        if any(not (w & other) for i, w in enumerate(words) for other in words[i + 1:]):
            unrelated.append((dom, onto, cid, name, names))
    return {"term_to_ids": term_to_ids, "ambiguous": ambiguous, "id_to_unrelated_names": unrelated[:limit]}


def read_gold(path: str | Path = GOLD_PATH) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return [r for r in csv.DictReader(f) if r.get("term")]


def precision(con: duckdb.DuckDBPyConnection, gold: list[dict]) -> dict:
    """Precision and recall of ``term_links`` on the gold rows, overall and per domain."""
    links = {(d, o, t): cid for d, o, t, cid in con.execute(
        "SELECT domain, ontology, term, concept_id FROM term_links").fetchall()}
    per: dict[str, dict] = {}
    wrong = []
    for g in gold:
        dom = g["domain"]
        s = per.setdefault(dom, {"gold": 0, "present": 0, "linked": 0, "correct": 0, "expected_links": 0})
        s["gold"] += 1
        key = (dom, g["ontology"], g["term"])
        expected = (g.get("expected_id") or "").strip()
        expected = None if expected.upper() == "NONE" else expected
        s["expected_links"] += expected is not None
        if key not in links:
            continue
        s["present"] += 1
        got = links[key]
        if got is not None:
            s["linked"] += 1
            if got == expected:
                s["correct"] += 1
            else:
                wrong.append({"domain": dom, "term": g["term"], "expected": expected, "got": got})
    for s in per.values():
        s["precision"] = round(s["correct"] / s["linked"], 4) if s["linked"] else None
        s["recall"] = round(s["correct"] / s["expected_links"], 4) if s["expected_links"] else None
    tot = {k: sum(s[k] for s in per.values()) for k in ("gold", "present", "linked", "correct", "expected_links")}
    tot["precision"] = round(tot["correct"] / tot["linked"], 4) if tot["linked"] else None
    tot["recall"] = round(tot["correct"] / tot["expected_links"], 4) if tot["expected_links"] else None
    return {"overall": tot, "by_domain": per, "wrong": wrong}


# ---- check outcomes (the asset checks are thin wrappers over these) ----

# Floors for the embedded sample vocabularies (a few hundred concepts); with full releases of MeSH
# and DrugBank raise them (coverage is then several times higher).
COVERAGE_FLOORS = {"conditions": 0.25, "drugs": 0.05, "adverse_events": 0.5}


def registry_ids_kept(con: duckdb.DuckDBPyConnection) -> CheckOutcome:
    # a registry match keeps its heading (id, or at least the heading name legacy records give)
    lost = con.execute(
        "SELECT count(*) FROM conditions WHERE condition_mesh_id IS NULL AND condition_mesh_term IS NULL "
        "AND mesh_match IS NOT NULL AND NOT mesh_match LIKE 'linker:%'").fetchone()[0]
    disagree = con.execute(
        "SELECT count(*) FROM conditions c LEFT JOIN term_links l ON l.domain = 'condition' AND l.ontology = 'mesh' "
        "AND l.term = CASE WHEN c.mesh_match LIKE 'linker:%:%' THEN c.condition_mesh_term ELSE c.condition_name END "
        "WHERE c.mesh_match LIKE 'linker:%' "
        "AND (l.concept_id IS NULL OR l.concept_id <> c.condition_mesh_id)").fetchone()[0]
    return CheckOutcome(lost == 0 and disagree == 0,
                        f"{lost} registry-matched rows lost their MeSH id; {disagree} linker-filled rows "
                        f"disagree with term_links", {"lost": lost, "disagree": disagree})


def precision_outcome(con: duckdb.DuckDBPyConnection, gold_path: str | Path = GOLD_PATH,
                      floor: float = 0.9) -> CheckOutcome:
    if not Path(gold_path).exists():
        return CheckOutcome(False, f"gold sample not found at {gold_path}", {})
    result = precision(con, read_gold(gold_path))
    tot = result["overall"]
    ok = tot["linked"] > 0 and (tot["precision"] or 0) >= floor
    return CheckOutcome(ok, f"precision {tot['precision']} over {tot['linked']} links of {tot['gold']} labelled "
                            f"terms (recall {tot['recall']}); floor {floor}",
                        {"overall": tot, "by_domain": result["by_domain"], "wrong": result["wrong"][:30]})


def collision_outcome(con: duckdb.DuckDBPyConnection, domain: str) -> CheckOutcome:
    pick = collisions(con, domain=domain)
    n = sum(len(v) for v in pick.values())
    return CheckOutcome(n == 0, f"{len(pick['term_to_ids'])} terms with two ids, {len(pick['ambiguous'])} "
                                f"ambiguous terms left unlinked, {len(pick['id_to_unrelated_names'])} ids reached "
                                f"from unrelated names",
                        {k: [list(map(str, r)) for r in v[:20]] for k, v in pick.items()})


def coverage_outcome(con: duckdb.DuckDBPyConnection, table: str) -> CheckOutcome:
    cov = coverage(con, [table])[table]
    if table == "biomarkers":
        bad = con.execute("SELECT count(*) FROM biomarkers WHERE origin = 'linker' AND "
                          "(biomarker_genes IS NULL OR len(biomarker_genes) = 0)").fetchone()[0]
        return CheckOutcome(bad == 0, f"{cov['rows']} biomarker rows, {bad} without an HGNC symbol",
                            {"rows": cov["rows"], "without_gene": bad, "by_source": cov["by_source"]})
    floor = COVERAGE_FLOORS[table]
    share = cov["share"]
    ok = share is None or share >= floor
    return CheckOutcome(ok, f"{cov['linked']}/{cov['rows']} {table} rows linked ({share}); floor {floor}",
                        {"share": share, "by_source": cov["by_source"]})
