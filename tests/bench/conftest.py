"""A warehouse with the eight task sets and the search index, built once for the benchmark tests."""
import shutil

import pytest

from tests.support.warehouse import build_embedded_warehouse
from trialpanorama_dagster.search.index import default_index_path, ensure_index
from trialpanorama_dagster.tasks.registry import build_all
from trialpanorama_dagster.warehouse.db import connect


@pytest.fixture(scope="session")
def bench_source_db(tmp_path_factory):
    db = build_embedded_warehouse(tmp_path_factory.mktemp("bench") / "warehouse.duckdb")
    con = connect(db)
    try:
        build_all(con)
        ensure_index(con, default_index_path(db))
    finally:
        con.close()
    return db


@pytest.fixture
def bench_db(bench_source_db, tmp_path):
    """A private copy (tests write bench results into it)."""
    db = tmp_path / "warehouse.duckdb"
    shutil.copy(bench_source_db, db)
    shutil.copytree(default_index_path(bench_source_db), default_index_path(db))
    return db
