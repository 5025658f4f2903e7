"""Articles, reviews and linkage relations into the warehouse (idempotent upserts).

Parsers (PubMed XML, review-collection importers) produce :class:`Article`, review rows and
relation rows; these functions write them. ``relations`` rows written here always carry an
``origin`` (``pubmed``, ``review:<collection>``), so reloading a registry study never removes
them and re-importing the same origin replaces exactly its own rows.
"""
from __future__ import annotations

import hashlib
from dataclasses import astuple, dataclass, field

import duckdb

from ..warehouse.db import insert_rows, transaction
from ..warehouse.schema import table


@dataclass
class Article:
    article_id: str                       # "PMID:<n>" when the PMID is known, else "doi:...", "openalex:W..."
    pmid: str | None = None
    doi: str | None = None
    pmcid: str | None = None
    title: str | None = None
    abstract: str | None = None
    journal: str | None = None
    year: int | None = None
    publication_types: list[str] = field(default_factory=list)
    mesh_ids: list[str] = field(default_factory=list)
    mesh_terms: list[str] = field(default_factory=list)
    databank_ids: list[str] = field(default_factory=list)   # "ClinicalTrials.gov:NCT01234567"
    language: str | None = None
    source: str | None = None             # "pubmed", "synergy", "cohen", "clef_tar", ...
    payload_hash: str | None = None

    def row(self) -> tuple:
        return astuple(self)


def article_id_for(pmid: str | None = None, doi: str | None = None, other: str | None = None) -> str:
    if pmid:
        return f"PMID:{pmid}"
    if doi:
        return f"doi:{doi.lower()}"
    if other:
        return other
    raise ValueError("an article needs a PMID, a DOI or another identifier")


def relation_row(head_id: str, head_type: str, tail_id: str, tail_type: str, relation_type: str, *,
                 origin: str, study_id: str | None = None, label: str | None = None,
                 stage: str | None = None, evidence: str | None = None,
                 confidence: float | None = None, citation: str | None = None) -> tuple:
    values = dict(head_id=head_id, head_type=head_type, tail_id=tail_id, tail_type=tail_type,
                  relation_type=relation_type, reference_type=None, citation=citation, study_id=study_id,
                  label=label, stage=stage, evidence=evidence, confidence=confidence, origin=origin)
    return tuple(values[c] for c in table("relations").column_names)


def store_articles(con: duckdb.DuckDBPyConnection, articles: list[Article], *, keep_richer: bool = True) -> int:
    """Upsert articles by ``article_id``. With ``keep_richer`` a PubMed record is never replaced
    by a thinner copy of the same article from a review collection (one without an abstract)."""
    by_id: dict[str, Article] = {}
    for a in articles:
        prev = by_id.get(a.article_id)
        if prev is None or _richness(a) >= _richness(prev):
            by_id[a.article_id] = a
    if not by_id:
        return 0
    ids = list(by_id)
    with transaction(con):
        if keep_richer:
            # an already stored copy that is richer than the incoming one stays
            for aid, abstract, source in con.execute(
                    "SELECT article_id, abstract, source FROM literature WHERE list_contains(?, article_id)",
                    [ids]).fetchall():
                stored = (2 if abstract else 0) + (1 if source == "pubmed" else 0)
                if stored > _richness(by_id[aid]):
                    del by_id[aid]
        ids = list(by_id)
        con.execute("DELETE FROM literature WHERE list_contains(?, article_id)", [ids])
        insert_rows(con, "literature", [a.row() for a in by_id.values()])
    return len(ids)


def _richness(a: Article) -> int:
    return (2 if a.abstract else 0) + (1 if a.source == "pubmed" else 0)


def replace_relations(con: duckdb.DuckDBPyConnection, origin: str, rows: list[tuple],
                      head_ids: list[str] | None = None) -> int:
    """Replace the relations of one origin (optionally only those of some heads) with ``rows``."""
    rows = list(dict.fromkeys(rows))          # exact duplicates collapse, order kept
    with transaction(con):
        if head_ids is None:
            con.execute("DELETE FROM relations WHERE origin = ?", [origin])
        else:
            con.execute("DELETE FROM relations WHERE origin = ? AND list_contains(?, head_id)",
                        [origin, list(head_ids)])
        insert_rows(con, "relations", rows)
    return len(rows)


def upsert_reviews(con: duckdb.DuckDBPyConnection, rows: list[tuple]) -> int:
    """Insert or replace review rows (tuples in the ``reviews`` column order)."""
    if not rows:
        return 0
    ids = [r[0] for r in rows]
    with transaction(con):
        con.execute("DELETE FROM reviews WHERE list_contains(?, review_id)", [ids])
        insert_rows(con, "reviews", rows)
    return len(rows)


def payload_hash(data: bytes | str) -> str:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()[:16]
