"""Ontology loading and term linkage over a warehouse, end to end (what ``trialpanorama link``
and the ``ontology/*`` and ``link/*`` assets run)."""
from __future__ import annotations

import time
from pathlib import Path

import duckdb

from .biomarkers import GeneLexicon, fill_biomarkers
from .dictionaries import gene_dictionary
from .link_fill import fill_conditions, fill_drug_moa, fill_drugs
from .link_quality import coverage
from .link_run import ADVERSE_EVENT, link_domain
from .linker import LinkOptions
from .store import store_release


def load_one(con: duckdb.DuckDBPyConnection, name: str, paths: list[str | Path] | None = None) -> dict:
    """Load one ontology (its configured files, else the embedded default) into the warehouse."""
    from .catalog import load_ontology
    started = time.perf_counter()
    rel = load_ontology(name, list(paths) if paths else None)
    counts = store_release(con, rel)
    return {"ontology": name, "release": rel.release, "source": rel.source, **counts,
            "skipped": rel.skipped, "seconds": round(time.perf_counter() - started, 3)}


def load_ontologies(con: duckdb.DuckDBPyConnection, paths: dict[str, list[str | Path]] | None = None,
                    names: list[str] | None = None) -> list[dict]:
    """Every ontology with an embedded default or a configured path."""
    from .catalog import ONTOLOGIES
    paths = paths or {}
    todo = names or sorted(set(ONTOLOGIES) | {n for n, p in paths.items() if p})
    return [load_one(con, n, paths.get(n)) for n in todo]


def link_conditions(con, options: LinkOptions = LinkOptions()) -> dict:
    report = link_domain(con, "condition", options)
    report["rows_filled"] = fill_conditions(con)
    return report


def link_drugs(con, options: LinkOptions = LinkOptions()) -> dict:
    report = link_domain(con, "drug", options)
    report["rows_filled"] = fill_drugs(con)
    report["drug_moa_rows"] = fill_drug_moa(con)
    return report


def link_adverse_events(con) -> dict:
    return link_domain(con, ADVERSE_EVENT)


def link_biomarkers(con) -> dict:
    started = time.perf_counter()
    lexicon = GeneLexicon(gene_dictionary(con))
    report = fill_biomarkers(con, lexicon)
    return {"domain": "biomarker", "genes_in_lexicon": len(lexicon), **report,
            "seconds": round(time.perf_counter() - started, 3)}


def run_linkage(con: duckdb.DuckDBPyConnection, options: LinkOptions = LinkOptions(),
                ontology_paths: dict[str, list[str | Path]] | None = None, load: bool = True) -> dict:
    """Load the ontologies (unless ``load`` is false), link every domain, fill the columns."""
    loaded = load_ontologies(con, ontology_paths) if load else []
    reports = [link_conditions(con, options), link_drugs(con, options), link_adverse_events(con),
               link_biomarkers(con)]
    return {"ontologies": loaded, "links": reports, "coverage": coverage(con)}
