"""``trialpanorama``: a thin command line over the functions the Dagster assets call."""
from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import sys
from pathlib import Path

from tqdm import tqdm

from .warehouse.db import connect, default_db_path


def _fail(msg: str, code: int = 2) -> int:
    print(f"trialpanorama: error: {msg}", file=sys.stderr)
    return code


def _print_stats(stats) -> None:
    print(f"{stats.loaded} loaded, {stats.unchanged} unchanged, {stats.older} older versions kept in raw only, "
          f"{stats.duplicates} duplicates in input, {stats.quarantined} quarantined "
          f"({stats.seen} records read)")
    if stats.shadowed:
        print(f"  {stats.shadowed} ICTRP copies kept in raw only: the registry's own record fills the core tables")
    if len(stats.loaded_by_source) > 1:
        print("  loaded by extract: " + ", ".join(f"{s} {n}" for s, n in sorted(stats.loaded_by_source.items())))
    for reason, n in stats.reasons.most_common(10):
        print(f"  quarantined {n} × {reason}")


def cmd_load(args) -> int:
    from .resources.local_files import expand_paths, iter_files, parse_choice
    from .warehouse.loader import load_items

    try:
        files = expand_paths(args.paths)
        source, fmt = parse_choice(args.source)
    except (FileNotFoundError, ValueError) as exc:
        return _fail(str(exc))
    if not files:
        return _fail(f"no .json, .xml or .zip files under {' '.join(args.paths)}")
    con = connect(args.db)
    bar = tqdm(total=None, unit=" records", disable=args.quiet or None, desc="loading")

    def on_batch(stats):
        bar.update(stats.seen - bar.n)

    try:
        stats = load_items(con, iter_files(files, source, fmt), source, "load", [str(p) for p in args.paths],
                           batch_size=args.batch_size, on_batch=on_batch, workers=args.workers)
    except ValueError as exc:
        return _fail(str(exc))
    finally:
        bar.close()
        con.close()
    _print_stats(stats)
    print(f"warehouse: {Path(args.db).resolve()}")
    if stats.seen == 0:
        return _fail("no registry records found in the given files")
    if stats.loaded + stats.unchanged + stats.older == 0:
        return _fail(f"nothing usable: all {stats.quarantined} records were quarantined", 1)
    return 0


def cmd_fetch(args) -> int:
    from .resources.http_retry import RegistryApiError
    from .resources.sources import RegistrySourceResource
    from .warehouse.fetch import fetch_source

    since = None
    if args.since:
        try:
            since = dt.date.fromisoformat(args.since)
        except ValueError:
            return _fail(f"--since must be YYYY-MM-DD, not {args.since!r}")
    cfg = RegistrySourceResource(mode="live", base_url=args.base_url, page_size=args.page_size,
                                 requests_per_minute=args.requests_per_minute)
    con = connect(args.db)
    bar = tqdm(total=None, unit=" records", disable=args.quiet or None, desc=f"fetching {args.registry}")

    def on_page(stats, total):
        if total and bar.total is None:
            bar.total = total
        bar.update(stats.seen - bar.n)

    try:
        with cfg.live_client(args.registry, log=None if args.quiet else tqdm.write) as client:
            stats = fetch_source(con, client, args.registry, since=since, full=args.full, on_page=on_page,
                                 max_pages=args.max_pages, log=None if args.quiet else tqdm.write)
    except RegistryApiError as exc:
        return _fail(f"{exc} (committed pages are kept; run the same command again to resume)", 1)
    finally:
        bar.close()
        con.close()
    _print_stats(stats)
    return 0


def cmd_stats(args) -> int:
    import json

    from .warehouse.stats import format_stats, warehouse_stats
    if not Path(args.db).exists():
        return _fail(f"no warehouse at {args.db}")
    con = connect(args.db, read_only=True)
    try:
        stats = warehouse_stats(con)
    finally:
        con.close()
    print(json.dumps(stats, indent=2, default=str) if args.json else format_stats(stats))
    return 0


def cmd_run(args) -> int:
    from .main_job import run_main_job
    return run_main_job(quiet=args.quiet)


def cmd_ui(args) -> int:
    from .home import ensure_dagster_home
    home = ensure_dagster_home()
    target = ["-w", "workspace.yaml"] if Path("workspace.yaml").exists() else ["-m", "trialpanorama_dagster.definitions"]
    argv = ["dagster", "dev", *target, "-h", args.host, "-p", str(args.port)]
    print(f"Dagster UI on http://{args.host}:{args.port} (DAGSTER_HOME={home}, warehouse {default_db_path()})")
    # a shell's background job inherits SIGINT as ignored, and dagster routes SIGTERM through SIGINT
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    dagster_bin = Path(sys.executable).with_name("dagster")
    os.execv(str(dagster_bin), argv) if dagster_bin.exists() else os.execvp("dagster", argv)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="trialpanorama", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    load = sub.add_parser("load", help="load local registry files, folders or zips into the warehouse")
    load.add_argument("paths", nargs="+", help="files of any registry (the format of each is detected)")
    load.add_argument("--db", default=str(default_db_path()), help="warehouse file (default: %(default)s)")
    load.add_argument("--source", default="auto", metavar="auto|REGISTRY|FORMAT",
                      help="auto (detect), a registry (only its files: ctgov, ictrp, euctr, ctis, isrctn, chictr) "
                           "or a format to force (ctgov = API v2 JSON, ctgov-xml, ictrp-xml, ictrp-csv, euctr-text, "
                           "euctr-json, ctis-json, isrctn-xml, isrctn-json, chictr-xml)")
    load.add_argument("--batch-size", type=int, default=2000)
    load.add_argument("--workers", type=int, default=min(os.cpu_count() or 1, 4),
                      help="processes that read and parse while this one writes; 0: all in this process "
                           "(default: %(default)s)")
    load.add_argument("--quiet", action="store_true")
    load.set_defaults(func=cmd_load)

    fetch = sub.add_parser("fetch", help="fetch from a live registry API")
    fetch.add_argument("registry", choices=["ctgov", "isrctn", "ctis", "euctr"])
    fetch.add_argument("--db", default=str(default_db_path()))
    fetch.add_argument("--since", help="YYYY-MM-DD: studies updated on or after (default: the stored cursor)")
    fetch.add_argument("--full", action="store_true", help="ignore the stored cursor")
    fetch.add_argument("--base-url", help="API base URL (default: the registry's)")
    fetch.add_argument("--page-size", type=int, help="records per page (default: the registry's)")
    fetch.add_argument("--requests-per-minute", type=float, help="pacing (default: the registry's)")
    fetch.add_argument("--max-pages", type=int, help="stop after N pages (the next run resumes)")
    fetch.add_argument("--quiet", action="store_true")
    fetch.set_defaults(func=cmd_fetch)

    stats = sub.add_parser("stats", help="records per source, rows per table, quarantine, clusters")
    stats.add_argument("--db", default=str(default_db_path()))
    stats.add_argument("--json", action="store_true", help="print the figures as JSON")
    stats.set_defaults(func=cmd_stats)

    run = sub.add_parser("run", help="the main job: materialise every asset on the embedded data")
    run.add_argument("--quiet", action="store_true")
    run.set_defaults(func=cmd_run)

    ui = sub.add_parser("ui", help="start the Dagster UI (dagster dev) on the project home")
    ui.add_argument("--host", default="127.0.0.1")
    ui.add_argument("--port", type=int, default=3000)
    ui.set_defaults(func=cmd_ui)

    from . import cli_bench, cli_link, cli_pubmed, cli_reviews, cli_search, cli_tasks, cli_train
    for module in (cli_bench, cli_link, cli_pubmed, cli_reviews, cli_search, cli_tasks, cli_train):
        module.register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
