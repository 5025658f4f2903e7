"""``trialpanorama search "QUERY"``: run a PubMed boolean query against the local search index.

``register(subparsers)`` adds the ``search`` command to the main parser's subparsers:

* ``search "QUERY" --db FILE [--k 100] [--index DIR] [--rebuild] [--kind article|study] [--show]``
  prints the ranked ids (PMIDs, article ids, trial ids), one per line; ``--show`` adds the score
  and title. The index lives next to the warehouse (``<db>.search-index/``) unless ``--index``
  says otherwise; it is built when missing, when ``--rebuild`` is given, and when its version
  (a content hash of the indexed documents) differs from what the warehouse holds now.
  A multi-line search strategy can be passed as one argument or with ``--query-file FILE``.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _default_db() -> str:
    from .warehouse.db import default_db_path
    return str(default_db_path())


def _fail(msg: str, code: int = 2) -> int:
    print(f"trialpanorama: error: {msg}", file=sys.stderr)
    return code


def cmd_search(args) -> int:
    import duckdb

    from .search import QueryError, default_index_path, ensure_index, parse

    if args.k < 1:
        return _fail("--k must be at least 1")
    try:
        text = Path(args.query_file).read_text(encoding="utf-8") if args.query_file else args.query
    except OSError as exc:
        return _fail(f"cannot read the query file: {exc}")
    if not text:
        return _fail("give a query (QUERY or --query-file)")
    try:
        parsed = parse(text)
    except QueryError as exc:
        return _fail(f"query: {exc}")
    for warning in parsed.warnings:
        print(f"trialpanorama: note: {warning}", file=sys.stderr)
    if not Path(args.db).exists():
        return _fail(f"no warehouse at {args.db}")
    path = Path(args.index) if args.index else default_index_path(args.db)
    con = duckdb.connect(args.db, read_only=True)
    try:
        index, built = ensure_index(con, path, rebuild=args.rebuild)
    finally:
        con.close()
    if built and not args.quiet:
        print(f"trialpanorama: built the search index {path} ({index.info.documents} documents, "
              f"version {index.info.version})", file=sys.stderr)
    kind = None if args.kind == "all" else args.kind
    try:
        if args.show:
            for hit in index.hits(text, args.k, kind):
                print(f"{hit.id}\t{hit.score:.4f}\t{hit.kind}\t{hit.title or ''}")
        else:
            for doc_id in index.search(text, args.k, kind):
                print(doc_id)
    except QueryError as exc:
        return _fail(f"query: {exc}")
    return 0


def register(subparsers) -> argparse.ArgumentParser:
    """Add ``search`` to the main parser's subparsers."""
    search = subparsers.add_parser("search", help="run a PubMed boolean query on the local study-search index")
    search.add_argument("query", nargs="?", help='a PubMed query, e.g. \'"heart failure"[tiab] AND sglt2*\'')
    search.add_argument("--query-file", metavar="FILE", help="read the query (or a search strategy) from FILE")
    search.add_argument("--db", default=_default_db(), help="warehouse file (default: %(default)s)")
    search.add_argument("--k", type=int, default=100, help="how many ids to print (default: %(default)s)")
    search.add_argument("--index", metavar="DIR", help="index folder (default: <db>.search-index)")
    search.add_argument("--rebuild", action="store_true", help="rebuild the index even when it is current")
    search.add_argument("--kind", choices=["all", "article", "study"], default="all",
                        help="articles (PMIDs), trials (study ids) or both (default: %(default)s)")
    search.add_argument("--show", action="store_true", help="print score, kind and title after each id")
    search.add_argument("--quiet", action="store_true", help="no note when the index is built")
    search.set_defaults(func=cmd_search)
    return search
