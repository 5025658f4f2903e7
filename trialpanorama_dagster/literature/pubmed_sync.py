"""PubMed into the warehouse: fetch (live or local client) or load files, store, link (Dagster-free).

``sync_pubmed(con, client, term=… | pmids=…)`` searches once, saves the PMID list and the batch
position in ``sync_state`` (source ``pubmed``), then fetches ``client.batch_size`` PMIDs at a
time, storing each batch (``store_articles``) before it moves the saved position on. A run that
dies is resumed by the next run asking the same thing: no new search, only the PMIDs after the
last committed batch. A finished run clears the cursor and rebuilds the links (``link_articles``).

``load_pubmed_files(con, paths)`` streams baseline / update files (``.xml``/``.xml.gz``) in
chunks; ``DeleteCitation`` PMIDs remove those PubMed articles.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import duckdb

from ..warehouse.fetch import get_state, set_state
from .pubmed_xml import ParseReport, iter_articles, pubmed_files
from .store import store_articles
from .trial_links import link_articles

SOURCE = "pubmed"
KEYS = ("resume_key", "resume_pmids", "resume_position")


@dataclass
class PubmedSyncStats:
    query: str = ""
    found: int = 0                 # PMIDs the search (or the list) gave
    resumed_at: int | None = None  # position of an interrupted run picked up again
    fetched: int = 0               # PMIDs asked for in this run
    batches: int = 0
    articles: int = 0              # articles stored
    missing: int = 0               # asked for, nothing came back
    skipped: int = 0               # records that could not be parsed
    books: int = 0
    deleted: int = 0               # articles removed by DeleteCitation
    done: bool = False
    reasons: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    links: dict = field(default_factory=dict)

    def add_report(self, report: ParseReport) -> None:
        self.skipped += len(report.skipped)
        self.books += report.books
        self.reasons.update(reason for _, reason in report.skipped)
        self.errors += report.errors

    def summary(self) -> str:
        links = self.links.get("links", 0)
        return (f"{self.articles} articles stored, {links} trial links, {self.skipped} skipped, "
                f"{self.missing} missing, {self.books} books skipped, {self.deleted} deleted")


def delete_articles(con: duckdb.DuckDBPyConnection, pmids: Iterable[str]) -> int:
    """Remove PubMed articles (``source='pubmed'``) by PMID: what a ``DeleteCitation`` asks."""
    pmids = sorted({p for p in pmids if p})
    if not pmids:
        return 0
    n = con.execute("SELECT count(*) FROM literature WHERE source = 'pubmed' AND list_contains(?, pmid)",
                    [pmids]).fetchone()[0]
    con.execute("DELETE FROM literature WHERE source = 'pubmed' AND list_contains(?, pmid)", [pmids])
    return n


def run_key(term: str | None, pmids: list[str] | None, mindate: Any, maxdate: Any) -> str:
    if term is not None:
        return f"term={term}|mindate={mindate or ''}|maxdate={maxdate or ''}"
    digest = hashlib.sha256(",".join(pmids or []).encode()).hexdigest()[:16]
    return f"pmids={len(pmids or [])}:{digest}"


def clear_cursor(con: duckdb.DuckDBPyConnection) -> None:
    for key in KEYS:
        set_state(con, key, None, SOURCE)


def sync_pubmed(con: duckdb.DuckDBPyConnection, client, term: str | None = None, pmids: Iterable[str] | None = None,
                on_batch: Callable[[PubmedSyncStats], None] | None = None, *, mindate: Any = None,
                maxdate: Any = None, max_batches: int | None = None, link: bool = True,
                log: Callable[[str], None] | None = None) -> PubmedSyncStats:
    """Fetch, parse and store the articles a query (``term``) or a PMID list names, then link them.

    ``max_batches`` stops after that many batches with the cursor saved (the next run resumes).
    """
    if (term is None) == (pmids is None):
        raise ValueError("give exactly one of term= or pmids=")
    log = log or (lambda msg: None)
    wanted = None if pmids is None else list(dict.fromkeys(str(p).strip() for p in pmids if str(p).strip()))
    key = run_key(term, wanted, mindate, maxdate)
    stats = PubmedSyncStats(query=term if term is not None else f"{len(wanted or [])} PMIDs")
    position = 0
    if get_state(con, "resume_key", SOURCE) == key and get_state(con, "resume_pmids", SOURCE) is not None:
        todo = [p for p in (get_state(con, "resume_pmids", SOURCE) or "").split(",") if p]
        position = int(get_state(con, "resume_position", SOURCE) or 0)
        stats.resumed_at = position
        log(f"pubmed: resuming {stats.query!r} at {position} of {len(todo)} PMIDs")
    else:
        todo = client.search_pmids(term, mindate=mindate, maxdate=maxdate) if term is not None else wanted
        clear_cursor(con)
        set_state(con, "resume_key", key, SOURCE)
        set_state(con, "resume_pmids", ",".join(todo), SOURCE)
        set_state(con, "resume_position", "0", SOURCE)
    stats.found = len(todo)
    size = int(getattr(client, "batch_size", 200))
    while position < len(todo):
        if max_batches is not None and stats.batches >= max_batches:
            log(f"pubmed: stopping after {stats.batches} batches as asked; the next run resumes at {position}")
            return stats
        batch = todo[position:position + size]
        result = client.fetch(batch)
        stats.articles += store_articles(con, result.articles)
        stats.deleted += delete_articles(con, result.report.deleted)
        position += len(batch)
        set_state(con, "resume_position", str(position), SOURCE)
        stats.fetched += len(batch)
        stats.batches += 1
        stats.missing += len(result.missing)
        stats.add_report(result.report)
        if on_batch:
            on_batch(stats)
    clear_cursor(con)
    set_state(con, "last_sync", dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), SOURCE)
    stats.done = True
    if link:
        stats.links = link_articles(con)
    return stats


def load_pubmed_files(con: duckdb.DuckDBPyConnection, paths: Iterable, *, chunk: int = 2000,
                      on_batch: Callable[[PubmedSyncStats], None] | None = None, link: bool = True) -> PubmedSyncStats:
    """Load PubMed/MEDLINE XML files (folders searched for ``*.xml``/``*.xml.gz``), then link."""
    files = pubmed_files(list(paths))
    stats = PubmedSyncStats(query=f"{len(files)} files")
    for path in files:
        report = ParseReport()
        pending = []
        for art in iter_articles(path, report):
            pending.append(art)
            if len(pending) >= chunk:
                stats.articles += store_articles(con, pending)
                stats.batches += 1
                pending = []
                if on_batch:
                    on_batch(stats)
        stats.articles += store_articles(con, pending)
        stats.batches += 1
        stats.deleted += delete_articles(con, report.deleted)
        stats.found += report.articles
        report.errors = [f"{path}: {e}" for e in report.errors]
        stats.add_report(report)
        if on_batch:
            on_batch(stats)
    stats.done = True
    if link:
        stats.links = link_articles(con)
    return stats
