"""A warehouse with the eight task sets and the search index, built once for the benchmark tests."""
import shutil

import pytest

from trialpanorama_dagster.search.index import default_index_path
from trialpanorama_dagster.warehouse.embedded import build_embedded_warehouse


@pytest.fixture(scope="session")
def bench_source_db(tmp_path_factory):
    return build_embedded_warehouse(tmp_path_factory.mktemp("bench") / "warehouse.duckdb", tasks=True, index=True)


@pytest.fixture
def bench_db(bench_source_db, tmp_path):
    """A private copy (tests write bench results into it)."""
    db = tmp_path / "warehouse.duckdb"
    shutil.copy(bench_source_db, db)
    shutil.copytree(default_index_path(bench_source_db), default_index_path(db))
    return db
