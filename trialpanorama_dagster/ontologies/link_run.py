"""Link every registry term of one domain in a warehouse and store the links in ``term_links``.

``link_domain(con, "condition")`` reads the distinct condition names of every registry, links
them to MeSH (the registry's own MeSH id first: method ``source``), MONDO and DOID (by name, else
through their MeSH cross-references: method ``xref``), and replaces the domain's rows of
``term_links``. Drugs go to DrugBank, RxNorm, ATC and MeSH; adverse events keep the MedDRA term
and version the registry gave. Filling the study tables from the links is ``link_fill``.
"""
from __future__ import annotations

import time

import duckdb
import polars as pl

from ..warehouse.db import insert_arrow, transaction
from ..warehouse.schema import table
from .dictionaries import CONCEPT_RANK, DOMAIN_ONTOLOGIES, dictionary, loaded, release_of, xref_map
from .linker import LINK_SCHEMA, LinkOptions, OntologyIndex
from .model import DOID, MESH, MONDO

ADVERSE_EVENT = "adverse_event"
MEDDRA = "meddra"
LINKER_METHODS = ("exact", "synonym", "normalised", "fuzzy", "xref", "source")


def condition_terms(con) -> list[str]:
    """Condition names, and the MeSH heading names registries gave without an id (legacy CT.gov XML)."""
    return [r[0] for r in con.execute(
        "SELECT DISTINCT t FROM (SELECT condition_name AS t FROM conditions UNION ALL "
        "SELECT condition_mesh_term FROM conditions WHERE (condition_mesh_id IS NULL "
        "AND NOT coalesce(mesh_match, '') LIKE 'linker:%') OR mesh_match LIKE 'linker:%:%') "
        "WHERE t IS NOT NULL ORDER BY 1").fetchall()]


def drug_terms(con) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT DISTINCT t FROM (SELECT drug_name AS t FROM drugs UNION ALL "
        "SELECT unnest(other_names) FROM drugs) WHERE t IS NOT NULL ORDER BY 1").fetchall()]


def registry_condition_ids(con) -> pl.DataFrame:
    """term -> the MeSH id registries gave it most often (ties: the smallest id)."""
    return con.execute("""
        SELECT term, concept_id FROM (
            SELECT condition_name AS term, condition_mesh_id AS concept_id,
                   row_number() OVER (PARTITION BY condition_name ORDER BY count(*) DESC, condition_mesh_id) AS k
            FROM conditions
            WHERE condition_mesh_id IS NOT NULL AND NOT coalesce(mesh_match, '') LIKE 'linker:%'
            GROUP BY condition_name, condition_mesh_id)
        WHERE k = 1 ORDER BY term""").pl()


def _unlinked(terms: list[str], reason: str) -> pl.DataFrame:
    return pl.DataFrame({"term": terms}, schema={"term": pl.String}).with_columns(
        *[pl.lit(None, dtype=dt).alias(c) for c, dt in LINK_SCHEMA.items() if c not in ("term", "reason")],
        pl.lit(reason).alias("reason")).select(list(LINK_SCHEMA))


def link_to(con, terms: list[str], ontology: str, domain: str, options: LinkOptions) -> pl.DataFrame:
    """Link terms to one ontology (NULL + reason for every term when it is not loaded)."""
    if ontology not in loaded(con) and ontology != MESH:
        return _unlinked(terms, f"{ontology} not loaded")
    entries = dictionary(con, ontology, domain)
    if entries.is_empty():
        return _unlinked(terms, f"no {ontology} names for {domain}s")
    index = OntologyIndex(entries, "drug" if domain == "drug" else "condition", CONCEPT_RANK, options)
    out = index.link(terms)
    rel = release_of(con, ontology) or "registry-derived only"
    return out.with_columns(pl.col("release").fill_null(rel))


def _with_source(links: pl.DataFrame, given: pl.DataFrame, names: dict[str, str]) -> pl.DataFrame:
    """Registry-given ids override name matching (method ``source``)."""
    if given.is_empty():
        return links
    g = given.with_columns(pl.col("concept_id").replace_strict(names, default=None).alias("g_name"))
    m = links.join(g.rename({"concept_id": "g_id"}), on="term", how="left")
    has = pl.col("g_id").is_not_null()
    return m.with_columns(
        pl.when(has).then(pl.col("g_id")).otherwise(pl.col("concept_id")).alias("concept_id"),
        pl.when(has).then(pl.coalesce("g_name", "concept_name")).otherwise(pl.col("concept_name")).alias("concept_name"),
        pl.when(has).then(pl.lit("source")).otherwise(pl.col("method")).alias("method"),
        pl.when(has).then(None).otherwise(pl.col("score")).alias("score"),
        pl.when(has).then(None).otherwise(pl.col("reason")).alias("reason"),
    ).select(list(LINK_SCHEMA))


def _through_xrefs(con, links: pl.DataFrame, mesh: pl.DataFrame, ontology: str) -> pl.DataFrame:
    """Terms that did not link to ``ontology`` by name take the concept whose MeSH xref is the term's
    MeSH descriptor (one concept only; several -> ambiguous)."""
    xm = xref_map(con, ontology, "MESH")
    if xm.is_empty():
        return links
    per = xm.group_by("target").agg(pl.col("concept_id").unique().sort(), pl.col("concept_name").first())
    m = (links.join(mesh.select("term", pl.col("concept_id").alias("mesh_id")), on="term", how="left")
         .join(per.rename({"concept_id": "x_ids", "concept_name": "x_name"}),
               left_on="mesh_id", right_on="target", how="left"))
    open_ = pl.col("concept_id").is_null() & pl.col("x_ids").is_not_null()
    one = open_ & (pl.col("x_ids").list.len() == 1)
    many = open_ & (pl.col("x_ids").list.len() > 1)
    return m.with_columns(
        pl.when(one).then(pl.col("x_ids").list.first()).otherwise(pl.col("concept_id")).alias("concept_id"),
        pl.when(one).then(pl.col("x_name")).otherwise(pl.col("concept_name")).alias("concept_name"),
        pl.when(one).then(pl.lit("xref")).otherwise(pl.col("method")).alias("method"),
        pl.when(one).then(None).when(many).then(
            pl.lit("ambiguous xref from MESH:") + pl.col("mesh_id") + ": " + pl.col("x_ids").list.join(", "))
        .otherwise(pl.col("reason")).alias("reason"),
    ).select(list(LINK_SCHEMA))


def link_domain(con: duckdb.DuckDBPyConnection, domain: str, options: LinkOptions = LinkOptions()) -> dict:
    """Rebuild ``term_links`` for one domain; returns per-ontology counts and timings."""
    started = time.perf_counter()
    if domain == ADVERSE_EVENT:
        frames = {MEDDRA: adverse_event_links(con)}
    else:
        terms = condition_terms(con) if domain == "condition" else drug_terms(con)
        frames = {}
        for ontology in DOMAIN_ONTOLOGIES[domain]:
            frames[ontology] = link_to(con, terms, ontology, domain, options)
        if domain == "condition":
            names = dict(con.execute("SELECT concept_id, name FROM ontology_concepts WHERE ontology = 'mesh'")
                         .fetchall())
            names.update(dict(con.execute("SELECT mesh_id, min(mesh_term) FROM mesh_terms "
                                          "GROUP BY mesh_id").fetchall()))
            frames[MESH] = _with_source(frames[MESH], registry_condition_ids(con), names)
            for onto in (MONDO, DOID):
                if onto in loaded(con):
                    frames[onto] = _through_xrefs(con, frames[onto], frames[MESH], onto)
    store_links(con, domain, frames)
    counts = {o: {"terms": f.height, "linked": int(f["concept_id"].is_not_null().sum())} for o, f in frames.items()}
    return {"domain": domain, "ontologies": counts, "seconds": round(time.perf_counter() - started, 3)}


def adverse_event_links(con) -> pl.DataFrame:
    """MedDRA is licensed: keep the term, code and version the registry gave (method ``source``)."""
    df = con.execute("""
        SELECT adverse_event_name AS term, min(meddra_id) AS concept_id,
               min(vocabulary_version) AS release, list(DISTINCT source_vocabulary ORDER BY source_vocabulary) AS vocabs
        FROM adverse_events WHERE adverse_event_name IS NOT NULL GROUP BY adverse_event_name ORDER BY 1""").pl()
    is_meddra = pl.col("vocabs").list.eval(pl.element().str.to_lowercase().str.contains("meddra")).list.any()
    return df.with_columns(
        pl.col("term").str.to_lowercase().alias("norm_term"),
        pl.when(is_meddra | pl.col("concept_id").is_not_null()).then(pl.col("term")).alias("concept_name"),
        pl.when(is_meddra | pl.col("concept_id").is_not_null()).then(pl.lit("source")).alias("method"),
        pl.lit(None, dtype=pl.Float64).alias("score"),
        pl.when(is_meddra | pl.col("concept_id").is_not_null()).then(None).otherwise(
            pl.lit("registry vocabulary is not MedDRA: ")
            + pl.col("vocabs").list.drop_nulls().list.join(", ").replace("", "none given")).alias("reason"),
    ).select(list(LINK_SCHEMA))


def store_links(con, domain: str, frames: dict[str, pl.DataFrame]) -> None:
    cols = table("term_links").column_names
    parts = [f.with_columns(pl.lit(domain).alias("domain"), pl.lit(o).alias("ontology")).select(cols)
             for o, f in frames.items()]
    with transaction(con):
        con.execute("DELETE FROM term_links WHERE domain = ?", [domain])
        if parts:
            insert_arrow(con, "term_links", pl.concat(parts).unique(["term", "ontology"], keep="first",
                                                                   maintain_order=True).to_arrow())
