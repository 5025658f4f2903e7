"""Dictionaries for the linker, read from the warehouse's ontology tables.

Each dictionary is a frame with one row per concept name (concept_id, term, term_type,
concept_name, concept_type, release) for one ontology, restricted to what suits a domain:
conditions look at MeSH's disease-side descriptors, drugs at its chemical side, ATC only at
level-5 substances. MeSH also takes the descriptor names NLM attached to ClinicalTrials.gov
records (``mesh_terms``) for descriptors the loaded MeSH release lacks, with release
``registry:ctgov-derived``, so that other registries' terms link to the same descriptors.
"""
from __future__ import annotations

import duckdb
import polars as pl

from .model import ATC, DOID, DRUGBANK, HGNC, MESH, MONDO, RXNORM
from .store import loaded_releases

REGISTRY_DERIVED = "registry:ctgov-derived"
# ontologies searched per domain, in the order their links are reported
DOMAIN_ONTOLOGIES = {
    "condition": (MESH, MONDO, DOID),
    "drug": (DRUGBANK, RXNORM, ATC, MESH),
    "biomarker": (HGNC,),
}
# concept kinds that win a tie between two concepts sharing one name (lower is better)
CONCEPT_RANK = {"descriptor": 0, "topical": 0, "IN": 0, "PIN": 1, "MIN": 2, "BN": 3, "scr": 5,
                "supplementary": 5}

_BASE = """
SELECT t.concept_id, t.term, t.term_type, c.name AS concept_name, c.concept_type, r.release
FROM ontology_terms t
JOIN ontology_concepts c ON c.ontology = t.ontology AND c.concept_id = t.concept_id
JOIN ontology_releases r ON r.ontology = t.ontology
WHERE t.ontology = ? AND NOT coalesce(c.obsolete, false)
"""

# MeSH: which side of the tree a descriptor sits on (SCRs and tree-less records go both ways)
_MESH_SIDE = {
    "condition": "(len(c.tree_numbers) = 0 OR len(list_filter(c.tree_numbers, x -> x[1] IN ('C', 'F'))) > 0)",
    "drug": "(len(c.tree_numbers) = 0 OR len(list_filter(c.tree_numbers, x -> x[1] = 'D')) > 0)",
}


def release_of(con: duckdb.DuckDBPyConnection, ontology: str) -> str | None:
    return loaded_releases(con).get(ontology)


def loaded(con: duckdb.DuckDBPyConnection) -> set[str]:
    return set(loaded_releases(con))


def dictionary(con: duckdb.DuckDBPyConnection, ontology: str, domain: str) -> pl.DataFrame:
    sql = _BASE
    if ontology == MESH:
        sql += " AND " + _MESH_SIDE.get(domain, "true")
    elif ontology == ATC:
        # substances only; level-5 names like "combinations" or "various" name no substance
        sql += " AND length(c.concept_id) = 7 AND NOT regexp_matches(lower(t.term), '^(combinations|various)')"
    elif ontology in (MONDO, DOID):
        sql += " AND coalesce(c.concept_type, '') <> 'gene'"        # MONDO's HGNC import is not a disease
    elif ontology == RXNORM:
        sql += " AND c.concept_type IN ('IN', 'PIN', 'MIN', 'BN')"
    elif ontology == HGNC:
        sql += " AND t.term_type IN ('preferred', 'symbol', 'alias_symbol', 'prev_symbol')"
    frame = con.execute(sql, [ontology]).pl()
    if ontology == MESH:
        frame = pl.concat([frame, _registry_mesh(con, domain, set(frame["concept_id"].unique()))])
    return frame


def _registry_mesh(con, domain: str, known: set[str]) -> pl.DataFrame:
    side = "condition" if domain == "condition" else "intervention"
    rows = con.execute(
        "SELECT mesh_id, min(mesh_term) FROM mesh_terms WHERE domain = ? AND mesh_id IS NOT NULL "
        "AND mesh_term IS NOT NULL GROUP BY mesh_id ORDER BY mesh_id", [side]).fetchall()
    rows = [(i, n, "preferred", n, "descriptor" if i.startswith("D") else "scr", REGISTRY_DERIVED)
            for i, n in rows if i not in known]
    return pl.DataFrame(rows, schema={"concept_id": pl.String, "term": pl.String, "term_type": pl.String,
                                      "concept_name": pl.String, "concept_type": pl.String,
                                      "release": pl.String}, orient="row")


def xref_map(con: duckdb.DuckDBPyConnection, ontology: str, prefix: str) -> pl.DataFrame:
    """(target id without prefix, concept_id, concept_name) of ``ontology`` concepts that cross-
    reference ``prefix`` ids, e.g. MONDO concepts with MESH:D… xrefs."""
    return con.execute(
        "SELECT substr(x.xref, length(?) + 2) AS target, x.concept_id, c.name AS concept_name "
        "FROM ontology_xrefs x JOIN ontology_concepts c ON c.ontology = x.ontology AND c.concept_id = x.concept_id "
        "WHERE x.ontology = ? AND x.xref LIKE ? || ':%' AND NOT coalesce(c.obsolete, false) "
        "ORDER BY target, x.concept_id", [prefix, ontology, prefix]).pl()


def gene_dictionary(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """HGNC genes from any loaded ontology (the HGNC set, or MONDO's gene import): id, symbol, kind."""
    return con.execute(
        "SELECT DISTINCT t.concept_id, t.term, t.term_type, c.name AS symbol FROM ontology_terms t "
        "JOIN ontology_concepts c ON c.ontology = t.ontology AND c.concept_id = t.concept_id "
        "WHERE t.concept_id LIKE 'HGNC:%' AND NOT coalesce(c.obsolete, false) ORDER BY 1, 2").pl()
