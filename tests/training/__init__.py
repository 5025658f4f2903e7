"""Training tests: rewards, configs, and SFT / GRPO runs of the smoke model on CPU.

:func:`warehouse` builds the embedded warehouse with its task sets and search index once per test
session (both test modules use it).
"""
from pathlib import Path

_BUILT: dict[str, Path] = {}


def warehouse(tmp_path_factory) -> Path:
    """The embedded warehouse with every task set and the local search index built."""
    if "db" not in _BUILT:
        from tests.support.warehouse import build_embedded_warehouse
        from trialpanorama_dagster.search.index import default_index_path, ensure_index
        from trialpanorama_dagster.tasks.registry import build_all
        from trialpanorama_dagster.warehouse.db import connect

        db = build_embedded_warehouse(tmp_path_factory.mktemp("training-warehouse") / "w.duckdb")
        con = connect(db)
        try:
            build_all(con)
            ensure_index(con, default_index_path(db))
        finally:
            con.close()
        _BUILT["db"] = db
    return _BUILT["db"]
