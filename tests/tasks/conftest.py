"""One warehouse built from every embedded source, shared by the task tests (read by the builders)."""
import pytest

from tests.support.warehouse import build_embedded_warehouse
from trialpanorama_dagster.warehouse.db import connect


@pytest.fixture(scope="session")
def db(tmp_path_factory):
    return build_embedded_warehouse(tmp_path_factory.mktemp("tasks") / "warehouse.duckdb")


@pytest.fixture(scope="module")
def con(db):
    c = connect(db)
    yield c
    c.close()
