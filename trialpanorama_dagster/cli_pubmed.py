"""``trialpanorama pubmed load|fetch``: PubMed articles and their trial links into the warehouse.

``register(subparsers)`` adds the ``pubmed`` command to the main parser's subparsers:

* ``pubmed load [PATH ...] --db FILE``: PubMed/MEDLINE XML or XML.gz files or folders (no path:
  the embedded sample files).
* ``pubmed fetch --term QUERY | --pmids FILE --db FILE [--mindate D --maxdate D]``: live from
  NCBI E-utilities (``NCBI_API_KEY``/``NCBI_TOOL``/``NCBI_EMAIL`` from the environment) or, with
  ``--local DIR``, the same walk over local files. An interrupted fetch resumes when the same
  command is run again.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from tqdm import tqdm


def _default_db() -> str:
    from .warehouse.db import default_db_path
    return str(default_db_path())


def _fail(msg: str, code: int = 2) -> int:
    print(f"trialpanorama: error: {msg}", file=sys.stderr)
    return code


def _print(stats, db) -> None:
    links = stats.links or {}
    print(f"articles: {stats.articles} stored ({stats.found} found), links: {links.get('links', 0)} "
          f"({links.get('with_study', 0)} to warehouse studies, {links.get('linked_articles', 0)} articles), "
          f"skipped: {stats.skipped}, missing: {stats.missing}, books: {stats.books}, deleted: {stats.deleted}")
    for reason, n in stats.reasons.most_common(5):
        print(f"  skipped {n} × {reason}")
    for error in stats.errors[:5]:
        print(f"  {error}")
    print(f"warehouse: {Path(db).resolve()}")


def cmd_pubmed_load(args) -> int:
    from .literature.pubmed_sync import load_pubmed_files
    from .resources.pubmed import PUBMED_EMBEDDED
    from .warehouse.db import connect

    paths = args.paths or [PUBMED_EMBEDDED]
    con = connect(args.db)
    bar = tqdm(total=None, unit=" articles", disable=args.quiet or None, desc="loading PubMed")
    try:
        stats = load_pubmed_files(con, paths, on_batch=lambda s: bar.update(s.articles - bar.n))
    except FileNotFoundError as exc:
        return _fail(str(exc))
    finally:
        bar.close()
        con.close()
    _print(stats, args.db)
    if not (stats.found or stats.deleted):
        return _fail("no PubMed articles found in the given files", 1)
    return 0


def _read_pmids(path: str) -> list[str]:
    text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    return re.findall(r"(?<![\w.])\d{1,9}(?![\w.])", text)


def cmd_pubmed_fetch(args) -> int:
    from .literature.pubmed_sync import sync_pubmed
    from .resources.http_retry import RegistryApiError
    from .resources.pubmed import EutilsClient, LocalPubmed
    from .warehouse.db import connect

    try:
        pmids = _read_pmids(args.pmids) if args.pmids else None
    except OSError as exc:
        return _fail(f"cannot read the PMID list: {exc}")
    if args.pmids and not pmids:
        return _fail(f"no PMIDs in {args.pmids}")
    log = None if args.quiet else tqdm.write
    try:
        client = (LocalPubmed(args.local) if args.local else
                  EutilsClient(args.base_url, requests_per_second=args.requests_per_second,
                               max_retries=args.max_retries, log=log))
    except (FileNotFoundError, ValueError) as exc:
        return _fail(str(exc))
    con = connect(args.db)
    bar = tqdm(total=None, unit=" PMIDs", disable=args.quiet or None, desc="fetching PubMed")

    def on_batch(stats):
        if bar.total is None:
            bar.total = stats.found - (stats.resumed_at or 0)
        bar.update(stats.fetched - bar.n)

    try:
        with client:
            stats = sync_pubmed(con, client, term=args.term, pmids=pmids, on_batch=on_batch, mindate=args.mindate,
                                maxdate=args.maxdate, max_batches=args.max_batches, log=log)
    except RegistryApiError as exc:
        return _fail(f"{exc} (stored batches are kept; run the same command again to resume)", 1)
    except ValueError as exc:
        return _fail(str(exc))
    finally:
        bar.close()
        con.close()
    _print(stats, args.db)
    if not stats.done:
        print(f"stopped after {stats.batches} batches; run the same command again to resume")
    return 0


def register(subparsers) -> argparse.ArgumentParser:
    """Add ``pubmed`` (with ``load`` and ``fetch``) to the main parser's subparsers."""
    pubmed = subparsers.add_parser("pubmed", help="PubMed articles and their trial links (local files or E-utilities)")
    sub = pubmed.add_subparsers(dest="pubmed_command", required=True)

    load = sub.add_parser("load", help="load PubMed/MEDLINE XML(.gz) files or folders (default: the embedded samples)")
    load.add_argument("paths", nargs="*", help="files or folders (*.xml, *.xml.gz)")
    load.add_argument("--db", default=_default_db(), help="warehouse file (default: %(default)s)")
    load.add_argument("--quiet", action="store_true")
    load.set_defaults(func=cmd_pubmed_load)

    fetch = sub.add_parser("fetch", help="fetch articles from NCBI E-utilities (resumable)")
    what = fetch.add_mutually_exclusive_group(required=True)
    what.add_argument("--term", help='an Entrez query, e.g. "clinicaltrials.gov[si] AND randomized controlled trial[pt]"')
    what.add_argument("--pmids", metavar="FILE", help="a file of PMIDs (any separators; '-' = stdin)")
    fetch.add_argument("--db", default=_default_db(), help="warehouse file (default: %(default)s)")
    fetch.add_argument("--mindate", help="YYYY[/MM[/DD]]: Entrez date from (with --term)")
    fetch.add_argument("--maxdate", help="YYYY[/MM[/DD]]: Entrez date to (with --term)")
    fetch.add_argument("--base-url", help="E-utilities base URL (default: NCBI's)")
    fetch.add_argument("--requests-per-second", type=float, help="pacing (default: 3, or 10 with NCBI_API_KEY)")
    fetch.add_argument("--max-retries", type=int, default=8, help="retries of one request (default: %(default)s)")
    fetch.add_argument("--max-batches", type=int, help="stop after N batches of 200 (the next run resumes)")
    fetch.add_argument("--local", metavar="DIR", help="read local PubMed XML files instead of E-utilities")
    fetch.add_argument("--quiet", action="store_true")
    fetch.set_defaults(func=cmd_pubmed_fetch)
    return pubmed
