"""The DuckDB warehouse as a Dagster resource."""

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional

import dagster as dg
import duckdb

from ..warehouse.db import connect, default_db_path


class WarehouseResource(dg.ConfigurableResource):
    """Where the warehouse file is. Empty path: ``$TRIALPANORAMA_HOME/warehouse.duckdb``.

    DuckDB allows one writing process per file, so the project's jobs run their steps in one
    process (in-process executor) and the instance queue runs one run at a time.
    """

    path: Optional[str] = None
    threads: Optional[int] = None

    def db_path(self) -> Path:
        return Path(self.path) if self.path else default_db_path()

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        con = connect(self.db_path(), read_only=read_only, threads=self.threads)
        try:
            yield con
        finally:
            con.close()
