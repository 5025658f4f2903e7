"""Live ClinicalTrials.gov extract into the warehouse, incremental and resumable.

State lives in ``sync_state`` (source ``ctgov``):
- ``last_update_date``: the newest LastUpdatePostDate of a finished run; the next incremental
  run asks for studies updated on or after it (that day is asked again: what is unchanged is
  recognised by its hash and changes nothing).
- ``resume_page_token`` / ``resume_since``: set while a run is under way, after each committed
  page. A run that dies resumes from the last committed page: nothing lost, nothing duplicated.
"""
from __future__ import annotations

import datetime as dt
from typing import Callable

import duckdb

from ..registries.ctgov_v2 import source_version_of
from ..registries.formats import RawItem
from .loader import LoadStats, Loader

SOURCE = "ctgov"


def get_state(con: duckdb.DuckDBPyConnection, key: str, source: str = SOURCE) -> str | None:
    row = con.execute("SELECT value FROM sync_state WHERE source = ? AND key = ?", [source, key]).fetchone()
    return row[0] if row else None


def set_state(con: duckdb.DuckDBPyConnection, key: str, value: str | None, source: str = SOURCE) -> None:
    if value is None:
        con.execute("DELETE FROM sync_state WHERE source = ? AND key = ?", [source, key])
    else:
        con.execute("INSERT OR REPLACE INTO sync_state VALUES (?, ?, ?, ?)",
                    [source, key, value, dt.datetime.now(dt.timezone.utc)])


def fetch_ctgov(con: duckdb.DuckDBPyConnection, client, since: dt.date | None = None, full: bool = False,
                write_core: bool = True, log: Callable[[str], None] | None = None,
                on_page: Callable[[LoadStats, int | None], None] | None = None,
                max_pages: int | None = None) -> LoadStats:
    """Fetch changed studies page by page, committing each page and the cursor after it.

    ``since`` overrides the stored cursor; ``full`` ignores it (everything). An interrupted run
    (``resume_page_token`` present) is resumed when the query it was running is asked again.
    """
    log = log or (lambda msg: None)
    cursor = get_state(con, "last_update_date")
    if since is None and not full and cursor:
        since = dt.date.fromisoformat(cursor[:10]) if len(cursor) >= 10 else dt.date.fromisoformat(cursor + "-01")
    since_key = since.isoformat() if since else "*"
    token = None
    if get_state(con, "resume_since") == since_key:
        token = get_state(con, "resume_page_token")
        if token:
            log(f"resuming the interrupted ClinicalTrials.gov extract (since {since_key}) at page token {token[:12]}…")
    newest = cursor
    inputs = [f"{getattr(client, 'base_url', 'api')} since={since_key}"]
    loader = Loader(con, SOURCE, kind="fetch", inputs=inputs, write_core=write_core)
    pages = 0
    with loader:
        for page in client.iter_pages(since=since, page_token=token):
            for payload, study in zip(page.payloads, page.studies):
                loader.add(RawItem(SOURCE, payload, "ctgov-json", page.url, decoded=study))
                version = source_version_of(study)
                if version and (newest is None or version > newest):
                    newest = version
            loader.flush()
            pages += 1
            if page.next_page_token:
                set_state(con, "resume_since", since_key)
                set_state(con, "resume_page_token", page.next_page_token)
            if on_page:
                on_page(loader.stats, page.total_count)
            log(f"page {pages}: {loader.stats.seen} studies seen, {loader.stats.loaded} loaded, "
                f"{loader.stats.quarantined} quarantined" + (f" of {page.total_count}" if page.total_count else ""))
            if max_pages is not None and pages >= max_pages and page.next_page_token:
                log(f"stopping after {pages} pages as asked; the next run resumes from here")
                return loader.stats
    set_state(con, "resume_page_token", None)
    set_state(con, "resume_since", None)
    if newest:
        set_state(con, "last_update_date", newest)
    return loader.stats

