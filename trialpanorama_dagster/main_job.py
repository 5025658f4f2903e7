"""``trialpanorama run``: materialise the whole graph on the configured sources and summarise it."""
from __future__ import annotations

import time

from .home import ensure_dagster_home
from .warehouse.db import connect, default_db_path, table_counts
from .warehouse.schema import ALL_TABLES


def _print_bench(db) -> None:
    """The newest benchmark figures of each model (first headline metric), and where the report is."""
    from .bench.paper import HEADLINE, as_printed
    from .bench.report import figures_by_task
    from .warehouse.db import home_dir

    con = connect(db, read_only=True)
    try:
        cells = figures_by_task(con)
    finally:
        con.close()
    if not cells:
        return
    models = sorted({m for t in cells.values() for m in t})
    print("benchmark (newest run per model; first headline metric, % or participants; n samples):")
    print(f"  {'task':<28} {'metric':<18}" + "".join(f" {m[:22]:>22}" for m in models))
    for task in sorted(cells):
        metric = HEADLINE[task][0]
        shown = []
        for m in models:
            c = cells[task].get(m)
            value = None if c is None else c.get(metric)
            shown.append("" if c is None else f"{as_printed(metric, value):.1f} (n={c['n']})" if value is not None
                         else f"- (n={c['n']})")
        print(f"  {task:<28} {metric:<18}" + "".join(f" {v:>22}" for v in shown))
    report = home_dir() / "bench" / "report" / "report.md"
    if report.exists():
        print(f"benchmark report: {report} (plots beside it)")


def run_main_job(quiet: bool = False) -> int:
    ensure_dagster_home()
    import dagster as dg

    from .definitions import defs

    started = time.monotonic()
    instance = dg.DagsterInstance.get()
    job = defs.resolve_job_def("materialize_everything")
    result = job.execute_in_process(
        instance=instance, raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING" if quiet else "INFO"}}}})
    seconds = time.monotonic() - started
    checks = list(result.get_asset_check_evaluations())
    failed = [c for c in checks if not c.passed]
    db = default_db_path()
    print()
    print(f"main job {'succeeded' if result.success else 'FAILED'} in {seconds:.1f} s (run {result.run_id})")
    if db.exists():
        con = connect(db, read_only=True)
        try:
            counts = table_counts(con, [t.name for t in ALL_TABLES])
            sources = con.execute("SELECT count(DISTINCT study_source) FROM studies").fetchone()[0]
        finally:
            con.close()
        width = max(map(len, counts))
        print(f"tables ({sources} registries in studies):")
        for name, n in counts.items():
            print(f"  {name:<{width}}  {n:>9,}")
        _print_bench(db)
    print(f"checks: {len(checks) - len(failed)} passed, {len(failed)} failed")
    for c in failed:
        print(f"  FAILED {c.asset_key.to_user_string()} {c.check_name} ({c.severity.value}): {c.description}")
    print(f"warehouse: {db}")
    blocking_failed = [c for c in failed if c.severity.value == "ERROR"]
    return 0 if result.success and not blocking_failed else 1
