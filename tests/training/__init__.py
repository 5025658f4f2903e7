"""Training tests: rewards, configs, and SFT / GRPO runs of the smoke model on CPU.

:func:`warehouse` builds the embedded warehouse with its task sets and search index once per test
session (both test modules use it).
"""
from pathlib import Path

_BUILT: dict[str, Path] = {}


def warehouse(tmp_path_factory) -> Path:
    """The embedded warehouse with every task set and the local search index built."""
    if "db" not in _BUILT:
        from trialpanorama_dagster.warehouse.embedded import build_embedded_warehouse

        _BUILT["db"] = build_embedded_warehouse(tmp_path_factory.mktemp("training-warehouse") / "w.duckdb",
                                                tasks=True, index=True)
    return _BUILT["db"]
