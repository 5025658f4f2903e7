"""Load benchmark: a WHO ICTRP full-export CSV (63 columns, no header) against bare CSV reading.

    python benchmarks/bench_ictrp.py --rows 100000        # generates the CSV if missing

In one run: (a) bare parse — Python's ``csv`` module reads every row of the file in this process;
(b) end to end — ``trialpanorama load CSV --db <fresh file> --quiet`` as a child process, with wall
time, CPU time (user+sys of the child and everything it started), peak RSS (the process tree's
summed RSS sampled every 0.2 s, and ``ru_maxrss``), rows/s and rows/s per core; (c) a reload of
the same CSV into the same file, which must change nothing. Afterwards DuckDB is asked for the
studies and distinct ``study_source`` values loaded, checked against the CSV (EU CTR rows of one
trial share a study id, so there are fewer studies than rows). Prints a table, writes
``bench_ictrp.json`` and ``bench_ictrp.png`` to the work folder. On demand only, never CI.

``--via`` picks the loader entry point: ``cli`` (``trialpanorama load``), ``api`` (a child
``python`` running ``load_items(iter_files([CSV], "ictrp"), "ictrp", workers=N)``, the reader the
Dagster raw assets use, with the core tables written as the CLI does) or ``auto`` (default:
``cli``, and ``api`` when the CLI cannot load the file; the JSON says which ran and why).
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import re
import sys
import time
from collections import Counter
from pathlib import Path

import duckdb
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_load import figures, snapshot  # noqa: E402
from generate_ictrp import generate  # noqa: E402
from measure import run_measured, trialpanorama_exe  # noqa: E402

_STATS = re.compile(r"(\d+) loaded, (\d+) unchanged, (\d+) older versions kept in raw only, (\d+) duplicates in "
                    r"input, (\d+) quarantined \((\d+) records read\)")
_STATS_KEYS = ("loaded", "unchanged", "older", "duplicates", "quarantined", "read")


def _csv_limit() -> None:
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


def bare_parse(path: Path) -> dict:
    """Every row of the file through ``csv.reader`` (UTF-8), nothing else: the floor for a load."""
    _csv_limit()
    t0, c0 = time.perf_counter(), time.process_time()
    n = cells = 0
    with open(path, encoding="utf-8", newline="") as fh:
        for row in csv.reader(fh):
            n += 1
            cells += len(row)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"rows": n, "cells": cells, "csv_bytes": path.stat().st_size, "wall_s": wall, "cpu_s": cpu,
            "rows_per_s": n / wall}


def expected(path: Path) -> dict:
    """What a correct load holds: rows, distinct study ids and registries (by the package's own
    TrialID rules), read from the CSV (not timed)."""
    from trialpanorama_dagster.registries.ictrp_fields import canonical_id, registry_of
    _csv_limit()
    ids: set[str] = set()
    by_source: Counter = Counter()
    n = 0
    with open(path, encoding="utf-8", newline="") as fh:
        for row in csv.reader(fh):
            n += 1
            tid = row[0].strip().strip('"')
            sid = canonical_id(tid)
            if sid not in ids:
                ids.add(sid)
                by_source[registry_of(tid)] += 1
    return {"rows": n, "studies": len(ids), "sources": len(by_source), "studies_by_source": dict(by_source.most_common())}


def load_command(via: str, csv_path: Path, db: Path, extra: list[str]) -> list[str]:
    if via == "cli":
        return [trialpanorama_exe(), "load", str(csv_path), "--db", str(db), "--quiet", *extra]
    return [sys.executable, str(Path(__file__).resolve()), "--child-load", str(csv_path), "--db", str(db), *extra]


def child_load(argv: list[str]) -> int:
    """``--via api``: the loader on the multi-registry reader, printing what ``trialpanorama load`` prints."""
    p = argparse.ArgumentParser(prog="bench_ictrp.py --child-load")
    p.add_argument("--child-load", type=Path, required=True)
    p.add_argument("--db", type=Path, required=True)
    p.add_argument("--workers", type=int, default=min(os.cpu_count() or 1, 4))
    p.add_argument("--batch-size", type=int, default=2000)
    p.add_argument("--quiet", action="store_true")
    a = p.parse_args(argv)
    from trialpanorama_dagster.cli import _print_stats
    from trialpanorama_dagster.resources.local_files import iter_files
    from trialpanorama_dagster.warehouse.db import connect
    from trialpanorama_dagster.warehouse.loader import load_items
    con = connect(a.db)
    try:
        stats = load_items(con, iter_files([a.child_load], "ictrp"), "ictrp", "load", [str(a.child_load)],
                           batch_size=a.batch_size, workers=a.workers)
    finally:
        con.close()
    _print_stats(stats)
    return 0 if stats.loaded + stats.unchanged + stats.older > 0 else 1


def load_stats(output: str) -> dict:
    m = _STATS.search(output or "")
    return dict(zip(_STATS_KEYS, map(int, m.groups()))) if m else {}


def fresh(db: Path) -> None:
    for f in (db, db.with_name(db.name + ".wal")):
        f.unlink(missing_ok=True)


def measure_load(via: str, csv_path: Path, db: Path, extra: list[str], rows: int) -> dict:
    run = run_measured(load_command(via, csv_path, db, extra))
    run["via"] = via
    run["stats"] = load_stats(run["output"])
    f = figures(run, rows)  # bench_load's figures count "studies"; here the unit is a CSV row
    run.update(rows_per_s=f["studies_per_s"], per_core_cpu=f["per_core_cpu"], cores_busy=f["cores_busy"],
               cores_used=f["cores_used"], per_core_wall=f["per_core_wall"])
    return run


def loaded(db: Path) -> dict:
    con = duckdb.connect(str(db), read_only=True)
    try:
        by_source = dict(con.execute("SELECT study_source, count(*) FROM studies GROUP BY 1 ORDER BY 2 DESC, 1")
                         .fetchall())
        return {"studies": sum(by_source.values()), "sources": len(by_source), "studies_by_source": by_source,
                "raw_records": con.execute("SELECT count(*) FROM raw_records").fetchone()[0],
                "quarantine": con.execute("SELECT count(*) FROM quarantine").fetchone()[0]}
    finally:
        con.close()


def plot(result: dict, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bp, e2e, rel = result["bare_parse"], result["end_to_end"], result["reload"]
    labels = ["bare parse\n(csv module, 1 core)", "load, wall", "load, per core\n(CPU time)",
              "load, per core\n(wall ÷ cores)"]
    values = [bp["rows_per_s"], e2e["rows_per_s"], e2e["per_core_cpu"], e2e["per_core_wall"]]
    if rel:
        labels.append("reload, wall")
        values.append(rel["rows_per_s"])
    fig, ax = plt.subplots(figsize=(9, 5))
    bars = ax.bar(labels, values, color=["#888888", "#1f77b4", "#2ca02c", "#98df8a", "#ff7f0e"][:len(values)])
    ax.bar_label(bars, labels=[f"{v:,.0f}" for v in values])
    ax.set_ylabel("CSV rows / s")
    ax.set_yscale("log")
    ax.set_title(f"trialpanorama load ({e2e['via']}), WHO ICTRP CSV: {result['rows']:,} rows, "
                 f"{result['loaded']['studies']:,} studies\n(load {result['ratio_wall']:.1f}x the bare parse; "
                 f"peak RSS {e2e['peak_rss_tree_bytes'] / 1024**3:.2f} GiB)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--child-load" in argv:
        return child_load(argv)
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--csv", type=Path, help="input CSV (reused if it exists; default <workdir>/ictrp_<N>.csv)")
    p.add_argument("--workdir", type=Path, default=Path(__file__).resolve().parent / "out")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quote-cells", action="store_true", help="generate cells wrapped in extra quotes (raw WHO style)")
    p.add_argument("--via", choices=["auto", "cli", "api"], default="auto")
    p.add_argument("--load-args", default="", help="extra load arguments, e.g. '--workers 1'")
    p.add_argument("--no-reload", action="store_true")
    a = p.parse_args(argv)
    a.workdir.mkdir(parents=True, exist_ok=True)
    csv_path = a.csv or a.workdir / f"ictrp_{a.rows}{'_quoted' if a.quote_cells else ''}.csv"
    gen = None
    if not csv_path.exists():
        gen = generate(a.rows, csv_path, seed=a.seed, quote_cells=a.quote_cells)
        print(f"generated {gen['rows']:,} rows ({gen['studies']:,} studies) in {gen['seconds']:.1f} s -> {csv_path}")
    db = a.workdir / "bench_ictrp.duckdb"
    extra = a.load_args.split()

    load_before = os.getloadavg()  # other work on the machine skews every figure: recorded with them
    print("(a) bare parse (csv module) ...", flush=True)
    bp = bare_parse(csv_path)
    n = bp["rows"]
    print(f"    {n:,} rows, {bp['csv_bytes'] / 1e6:,.0f} MB in {bp['wall_s']:.1f} s", flush=True)
    want = expected(csv_path)

    cli_attempt = None
    via = "cli" if a.via == "auto" else a.via
    print(f"(b) trialpanorama load ({via}) ...", flush=True)
    fresh(db)
    e2e = measure_load(via, csv_path, db, extra, n)
    if a.via == "auto" and (e2e["returncode"] != 0 or e2e["stats"].get("quarantined", 0) >= n):
        cli_attempt = {k: e2e[k] for k in ("command", "returncode", "wall_s", "stats")}
        cli_attempt["output"] = e2e["output"][:2000]
        print(f"    the CLI could not load the file (exit {e2e['returncode']}):\n      "
              + "\n      ".join(e2e["output"].splitlines()[:4]), flush=True)
        print("(b) loader API (api: iter_files + load_items, source ictrp) ...", flush=True)
        fresh(db)
        e2e = measure_load("api", csv_path, db, extra, n)
    if e2e["returncode"] != 0:
        print(e2e["output"])
        raise SystemExit(f"{e2e['command']} failed ({e2e['returncode']})")
    print(f"    {e2e['output'].splitlines()[0] if e2e['output'] else ''}", flush=True)
    got = loaded(db)
    before = snapshot(db)
    rel, same = {}, None
    if not a.no_reload:
        print("(c) reload of the same CSV ...", flush=True)
        rel = measure_load(e2e["via"], csv_path, db, extra, n)
        if rel["returncode"] != 0:
            print(rel["output"])
            raise SystemExit(f"reload failed ({rel['returncode']})")
        same = snapshot(db) == before and rel["stats"].get("loaded") == 0
    ratio = e2e["wall_s"] / bp["wall_s"]
    checks = {
        "count(*) FROM studies == distinct study ids in the CSV": got["studies"] == want["studies"],
        "distinct study_source == registries in the CSV": got["sources"] == want["sources"],
        "nothing quarantined": got["quarantine"] == 0 and e2e["stats"].get("quarantined", 0) == 0,
        "every row read": e2e["stats"].get("read") == n,
    }
    if not a.no_reload:
        checks["reload changes nothing (0 loaded, tables identical)"] = bool(same)
    result = {"rows": n, "csv": str(csv_path), "csv_bytes": bp["csv_bytes"], "generated": gen, "expected": want,
              "loaded": got, "bare_parse": bp, "end_to_end": e2e, "cli_attempt": cli_attempt, "reload": rel,
              "ratio_wall": ratio, "ratio_cpu": e2e["cpu_s"] / bp["cpu_s"], "reload_unchanged": same,
              "checks": checks, "tables": before,
              "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                          "duckdb": duckdb.__version__, "ram_bytes": psutil.virtual_memory().total,
                          "loadavg_before": load_before, "loadavg_after": os.getloadavg()}}

    gib = 1024**3
    st = e2e["stats"]
    table = [
        ("CSV rows / size", f"{n:,} rows, {bp['csv_bytes'] / 1e6:,.0f} MB"),
        ("load average (1 min) before / after", "{:.2f} / {:.2f}  ({} CPUs)".format(
            load_before[0], result["machine"]["loadavg_after"][0], os.cpu_count())),
        ("studies / registries expected", f"{want['studies']:,} / {want['sources']}"),
        ("bare parse (csv module, 1 process)", f"{bp['wall_s']:.1f} s wall, {bp['rows_per_s']:,.0f} rows/s"),
        ("load via", e2e["via"] + ("  (the CLI failed: see cli_attempt)" if cli_attempt else "")),
        ("load wall time", f"{e2e['wall_s']:.1f} s  ({e2e['rows_per_s']:,.0f} rows/s)"),
        ("load CPU time (user+sys, all processes)", f"{e2e['cpu_s']:.1f} s  ({e2e['cores_busy']:.2f} cores busy, "
                                                    f"{e2e['processes']} processes)"),
        ("rows/s per core = rows / CPU s", f"{e2e['per_core_cpu']:,.0f}"),
        ("rows/s per core = rows/s / cores used", f"{e2e['per_core_wall']:,.0f}  ({e2e['cores_used']} cores)"),
        ("ratio load wall / bare-parse wall", f"{ratio:.2f}x  (CPU: {result['ratio_cpu']:.2f}x)"),
        ("peak RSS (tree sum, sampled 0.2 s)", f"{e2e['peak_rss_tree_bytes'] / gib:.2f} GiB"),
        ("ru_maxrss (largest process)", f"{e2e['ru_maxrss_bytes'] / gib:.2f} GiB"),
        ("load output", e2e["output"].splitlines()[0] if e2e["output"] else ""),
        ("studies loaded / distinct study_source", f"{got['studies']:,} / {got['sources']}"
                                                   f"  (duplicates in input: {st.get('duplicates', '?'):,})"),
        ("raw_records / quarantine", f"{got['raw_records']:,} / {got['quarantine']:,}"),
    ]
    if rel:
        table += [("reload wall / CPU", f"{rel['wall_s']:.1f} s / {rel['cpu_s']:.1f} s  "
                                        f"({rel['rows_per_s']:,.0f} rows/s)"),
                  ("reload peak RSS", f"{rel['peak_rss_tree_bytes'] / gib:.2f} GiB"),
                  ("reload output", rel["output"].splitlines()[0] if rel["output"] else "")]
    width = max(len(k) for k, _ in table)
    print("\n" + "\n".join(f"  {k:<{width}}  {v}" for k, v in table))
    print("\nstudies by source: " + ", ".join(f"{k} {v:,}" for k, v in got["studies_by_source"].items()))
    print("\nchecks:")
    for name, ok in checks.items():
        print(f"  [{'PASS' if ok else 'FAIL'}] {name}")
    (a.workdir / "bench_ictrp.json").write_text(json.dumps(result, indent=2, default=str))
    plot(result, a.workdir / "bench_ictrp.png")
    print(f"\nwrote {a.workdir / 'bench_ictrp.json'} and {a.workdir / 'bench_ictrp.png'}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
