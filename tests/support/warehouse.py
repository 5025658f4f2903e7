"""A warehouse built from every embedded source, as the main job builds it (for task and search tests)."""
from pathlib import Path

from trialpanorama_dagster.cli import main
from trialpanorama_dagster.literature.pubmed_sync import load_pubmed_files
from trialpanorama_dagster.literature.reviews.importer import EMBEDDED as REVIEWS_EMBEDDED
from trialpanorama_dagster.literature.reviews.importer import import_reviews
from trialpanorama_dagster.literature.trial_links import link_articles
from trialpanorama_dagster.ontologies.pipeline import run_linkage
from trialpanorama_dagster.resources.pubmed_local import PUBMED_EMBEDDED
from trialpanorama_dagster.warehouse.clusters import build_clusters
from trialpanorama_dagster.warehouse.db import connect

from .paths import REGISTRY_FOLDERS


def build_embedded_warehouse(db: Path) -> Path:
    """Registries, dedup clusters, ontologies and links, PubMed samples and review collections."""
    assert main(["load", *map(str, REGISTRY_FOLDERS), "--db", str(db), "--quiet", "--workers", "0"]) == 0
    con = connect(db)
    try:
        build_clusters(con)
        run_linkage(con)
        load_pubmed_files(con, [PUBMED_EMBEDDED], link=False)
        for fmt in REVIEWS_EMBEDDED:
            import_reviews(con, fmt)
        link_articles(con)
    finally:
        con.close()
    return db
