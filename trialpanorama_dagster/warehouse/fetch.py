"""Live registry extracts into the warehouse, incremental and resumable (any source).

State lives in ``sync_state`` under the source's name:
- ``last_update_date``: the newest record version of a finished run; the next incremental run
  asks for records updated on or after it (that day is asked again: what is unchanged is
  recognised by its hash and changes nothing).
- ``resume_page_token`` / ``resume_since``: set after each committed page while a run is under
  way. A run that dies resumes from the last committed page: nothing lost, nothing duplicated.
"""
from __future__ import annotations

import datetime as dt
from typing import Callable

import duckdb

from ..registries.formats import RawItem
from .loader import LoadStats, Loader


def get_state(con: duckdb.DuckDBPyConnection, key: str, source: str = "ctgov") -> str | None:
    row = con.execute("SELECT value FROM sync_state WHERE source = ? AND key = ?", [source, key]).fetchone()
    return row[0] if row else None


def set_state(con: duckdb.DuckDBPyConnection, key: str, value: str | None, source: str = "ctgov") -> None:
    if value is None:
        con.execute("DELETE FROM sync_state WHERE source = ? AND key = ?", [source, key])
    else:
        con.execute("INSERT OR REPLACE INTO sync_state VALUES (?, ?, ?, ?)",
                    [source, key, value, dt.datetime.now(dt.timezone.utc)])


def _page_items(page, source: str) -> list[RawItem]:
    items = list(getattr(page, "items", None) or [])
    if not items and getattr(page, "payloads", None):  # ClinicalTrials.gov pages carry decoded studies
        items = [RawItem(source, payload, "ctgov-json", page.url, decoded=study)
                 for payload, study in zip(page.payloads, page.studies)]
    return items


def fetch_source(con: duckdb.DuckDBPyConnection, client, source: str, since: dt.date | None = None,
                 full: bool = False, write_core: bool = True, log: Callable[[str], None] | None = None,
                 on_page: Callable[[LoadStats, int | None], None] | None = None,
                 max_pages: int | None = None) -> LoadStats:
    """Fetch changed records page by page, committing each page and the resume token after it.

    ``since`` overrides the stored cursor; ``full`` ignores it. An interrupted run (resume token
    present) is resumed when the query it was running is asked again.
    """
    log = log or (lambda msg: None)
    cursor = get_state(con, "last_update_date", source)
    if since is None and not full and cursor:
        since = dt.date.fromisoformat(cursor[:10] if len(cursor) >= 10 else cursor + "-01")
    since_key = since.isoformat() if since else "*"
    token = None
    if get_state(con, "resume_since", source) == since_key:
        token = get_state(con, "resume_page_token", source)
        if token:
            log(f"{source}: resuming the interrupted extract (since {since_key}) at page token {token[:16]}…")
    inputs = [f"{getattr(client, 'base_url', 'api')} since={since_key}"]
    loader = Loader(con, source, kind="fetch", inputs=inputs, write_core=write_core)
    pages = 0
    with loader:
        for page in client.iter_pages(since=since, page_token=token):
            for item in _page_items(page, source):
                loader.add(item)
            loader.flush()
            pages += 1
            if page.next_page_token:
                set_state(con, "resume_since", since_key, source)
                set_state(con, "resume_page_token", page.next_page_token, source)
            if on_page:
                on_page(loader.stats, page.total_count)
            log(f"{source} page {pages}: {loader.stats.seen} records seen, {loader.stats.loaded} loaded, "
                f"{loader.stats.quarantined} quarantined" + (f" of {page.total_count}" if page.total_count else ""))
            if max_pages is not None and pages >= max_pages and page.next_page_token:
                log(f"{source}: stopping after {pages} pages as asked; the next run resumes from here")
                return loader.stats
    set_state(con, "resume_page_token", None, source)
    set_state(con, "resume_since", None, source)
    newest = max(filter(None, [cursor, loader.stats.newest_version]), default=None)
    if newest:
        set_state(con, "last_update_date", newest, source)
    return loader.stats
