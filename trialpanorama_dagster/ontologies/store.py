"""Write an ontology release into the warehouse, replacing the previous release of that ontology."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import duckdb

from ..warehouse.db import insert_rows, transaction
from .model import OntologyRelease

_PER_ONTOLOGY = ("ontology_concepts", "ontology_terms", "ontology_xrefs")


def store_release(con: duckdb.DuckDBPyConnection, rel: OntologyRelease) -> dict[str, int]:
    """Replace ``rel.ontology`` in the ontology tables, in one transaction; returns row counts."""
    name = rel.ontology
    concepts = [(name, c.concept_id, c.name, c.concept_type, list(c.parents), list(c.tree_numbers),
                 bool(c.obsolete), json.dumps(c.attributes, sort_keys=True) if c.attributes else None)
                for c in rel.concepts]
    # one row per (concept, term); the first term type seen wins (preferred before synonyms)
    seen_terms, terms = set(), []
    for cid, term, kind in rel.terms:
        if term and (cid, term) not in seen_terms:
            seen_terms.add((cid, term))
            terms.append((name, cid, term, kind))
    xrefs = sorted({(name, cid, x, kind) for cid, x, kind in rel.xrefs if x}, key=lambda r: (r[1], r[2]))
    with transaction(con):
        for t in _PER_ONTOLOGY:
            con.execute(f"DELETE FROM {t} WHERE ontology = ?", [name])
        con.execute("DELETE FROM ontology_releases WHERE ontology = ?", [name])
        insert_rows(con, "ontology_concepts", _unique_concepts(concepts))
        insert_rows(con, "ontology_terms", terms)
        insert_rows(con, "ontology_xrefs", xrefs)
        insert_rows(con, "ontology_releases", [(
            name, rel.release, rel.source, rel.content_hash, datetime.now(timezone.utc),
            len(concepts), len(terms), len(xrefs), "; ".join(rel.skipped) or None)])
    return {"concepts": len(concepts), "terms": len(terms), "xrefs": len(xrefs)}


def _unique_concepts(rows: list[tuple]) -> list[tuple]:
    """A concept declared twice (OBO files sometimes repeat a stanza) keeps its first declaration."""
    seen, out = set(), []
    for r in rows:
        if r[1] not in seen:
            seen.add(r[1])
            out.append(r)
    return out


def loaded_releases(con: duckdb.DuckDBPyConnection) -> dict[str, str | None]:
    """{ontology: release} of what the warehouse holds now."""
    return dict(con.execute("SELECT ontology, release FROM ontology_releases ORDER BY ontology").fetchall())
