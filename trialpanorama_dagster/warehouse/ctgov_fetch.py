"""The live ClinicalTrials.gov extract: ``fetch_source`` for source ``ctgov`` (see ``fetch``)."""
from __future__ import annotations

import datetime as dt
from typing import Callable

import duckdb

from .fetch import fetch_source, get_state, set_state  # noqa: F401  (re-exported)
from .loader import LoadStats

SOURCE = "ctgov"


def fetch_ctgov(con: duckdb.DuckDBPyConnection, client, since: dt.date | None = None, full: bool = False,
                write_core: bool = True, log: Callable[[str], None] | None = None,
                on_page: Callable[[LoadStats, int | None], None] | None = None,
                max_pages: int | None = None) -> LoadStats:
    return fetch_source(con, client, SOURCE, since=since, full=full, write_core=write_core, log=log,
                        on_page=on_page, max_pages=max_pages)
