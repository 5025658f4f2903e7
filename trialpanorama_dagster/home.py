"""The project home (``$TRIALPANORAMA_HOME``): the warehouse file and Dagster's instance folder."""
from __future__ import annotations

import os
from pathlib import Path

from .warehouse.db import home_dir

DAGSTER_YAML = """\
# Written by trialpanorama; edit freely (it is not overwritten).
telemetry:
  enabled: false
# DuckDB takes one writer per file: run one run at a time.
run_queue:
  max_concurrent_runs: 1
"""


def ensure_dagster_home() -> Path:
    """Point DAGSTER_HOME at ``$TRIALPANORAMA_HOME/dagster`` unless set, with a dagster.yaml there."""
    path = Path(os.environ.get("DAGSTER_HOME") or home_dir() / "dagster").resolve()
    path.mkdir(parents=True, exist_ok=True)
    cfg = path / "dagster.yaml"
    if not cfg.exists():
        cfg.write_text(DAGSTER_YAML)
    os.environ["DAGSTER_HOME"] = str(path)
    return path
