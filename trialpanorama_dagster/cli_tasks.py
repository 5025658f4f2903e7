"""``trialpanorama export tasks``: build the task sets when missing or stale, then write them out."""
from __future__ import annotations

import sys
from datetime import date
from pathlib import Path


def cmd_export(args) -> int:
    from .tasks.base import TASKS, BuildConfig
    from .tasks.export import export_tasks
    from .tasks.registry import build_all, stale_tasks
    from .warehouse.db import connect, default_db_path

    db = Path(args.db) if args.db else default_db_path()
    if not db.exists():
        print(f"error: no warehouse at {db}", file=sys.stderr)
        return 2
    tasks = args.task or list(TASKS)
    unknown = sorted(set(tasks) - set(TASKS))
    if unknown:
        print(f"error: unknown task(s) {', '.join(unknown)}; tasks: {', '.join(TASKS)}", file=sys.stderr)
        return 2
    cfg = BuildConfig(seed=args.seed, test_fraction=args.test_fraction,
                      date_cutoff=date.fromisoformat(args.date_cutoff) if args.date_cutoff else None)
    con = connect(db)
    try:
        todo = tasks if args.rebuild else stale_tasks(con, tasks, cfg)
        for report in build_all(con, todo, cfg):
            print(f"built {report['task']:<30} train {report['train']:>6}  test {report['test']:>5}  "
                  f"version {report['version']}  ({report['seconds']} s)")
        counts = export_tasks(con, args.out, tasks)
    finally:
        con.close()
    for task, c in counts.items():
        print(f"wrote {task:<30} train {c['train']:>6}  test {c['test']:>5}")
    print(f"dataset card: {Path(args.out) / 'README.md'}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("export", help="export derived data sets")
    what = p.add_subparsers(dest="what", required=True)
    t = what.add_parser("tasks", help="the eight task sets as JSONL, Parquet and SFT chat files, with a card")
    t.add_argument("--db", help="warehouse file (default: $TRIALPANORAMA_HOME/warehouse.duckdb)")
    t.add_argument("--out", required=True, help="output folder")
    t.add_argument("--task", action="append", help="only this task (repeatable; default: all eight)")
    t.add_argument("--rebuild", action="store_true", help="rebuild the task sets even when current")
    t.add_argument("--seed", type=int, default=42)
    t.add_argument("--test-fraction", type=float, default=0.2)
    t.add_argument("--date-cutoff", help="YYYY-MM-DD: train before, test on or after (instead of hashing)")
    t.set_defaults(func=cmd_export)
