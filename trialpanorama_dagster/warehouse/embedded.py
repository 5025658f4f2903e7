"""A warehouse built from every embedded source, as the main job builds it, without Dagster.

Benchmarks and tests use it: the registries, dedup clusters, ontologies and links, the PubMed
samples and review collections; optionally the eight task sets and the study-search index.
"""
from __future__ import annotations

from importlib import resources as ilr
from pathlib import Path

REGISTRIES = ("ctgov", "ictrp", "euctr", "ctis", "isrctn", "chictr")


def registry_folders() -> list[Path]:
    return [Path(str(ilr.files("trialpanorama_dagster") / "data" / name)) for name in REGISTRIES]


def build_embedded_warehouse(db: str | Path, *, tasks: bool = False, index: bool = False) -> Path:
    from ..cli import main
    from ..literature.pubmed_sync import load_pubmed_files
    from ..literature.reviews.importer import EMBEDDED as REVIEWS_EMBEDDED
    from ..literature.reviews.importer import import_reviews
    from ..literature.trial_links import link_articles
    from ..ontologies.pipeline import run_linkage
    from ..resources.pubmed_local import PUBMED_EMBEDDED
    from .clusters import build_clusters
    from .db import connect

    db = Path(db)
    if main(["load", *map(str, registry_folders()), "--db", str(db), "--quiet", "--workers", "0"]) != 0:
        raise RuntimeError(f"loading the embedded registries into {db} failed")
    con = connect(db)
    try:
        build_clusters(con)
        run_linkage(con)
        load_pubmed_files(con, [PUBMED_EMBEDDED], link=False)
        for fmt in REVIEWS_EMBEDDED:
            import_reviews(con, fmt)
        link_articles(con)
        if tasks:
            from ..tasks.registry import build_all
            build_all(con)
        if index:
            from ..search.index import default_index_path, ensure_index
            ensure_index(con, default_index_path(db))
    finally:
        con.close()
    return db
