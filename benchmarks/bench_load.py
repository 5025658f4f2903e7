"""Load benchmark: ``trialpanorama load`` of a full-download-style zip against bare JSON parsing.

    python benchmarks/bench_load.py --studies 600000          # generates the zip if missing

In one run: (a) bare parse — open the zip, read and ``orjson.loads`` every member in this
process; (b) end to end — ``trialpanorama load ZIP --db <fresh file> --quiet`` as a child
process, with wall time, CPU time (user+sys of the child and everything it started, from
``getrusage(RUSAGE_CHILDREN)`` deltas), peak RSS (the process tree's summed RSS sampled every
0.2 s with psutil, and ``ru_maxrss``) and ``count(*) FROM studies`` checked against the zip;
(c) a reload of the same zip into the same file, which must change nothing. Prints a table,
checks the goals (>= 2,000 studies/s per core, <= 2x the bare-parse time, <= 6 GB peak RSS),
writes ``bench_load.json`` and ``bench_load.png`` to the work folder. On demand only, never CI.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import zipfile
from pathlib import Path

import duckdb
import orjson
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate_ctgov import generate  # noqa: E402
from measure import run_measured, trialpanorama_exe  # noqa: E402

GOAL_PER_CORE = 2000.0   # studies/s per core, end to end
GOAL_RATIO = 2.0         # end-to-end wall / bare-parse wall
GOAL_RSS = 6 * 1024**3   # bytes
TABLES = ("studies", "conditions", "drugs", "disposition", "endpoints", "outcomes", "adverse_events", "results",
          "relations", "arm_groups", "interventions", "secondary_ids", "mesh_terms", "locations", "biomarkers",
          "raw_records", "quarantine")


def bare_parse(zip_path: Path) -> dict:
    t0, c0 = time.perf_counter(), time.process_time()
    n = nbytes = 0
    with zipfile.ZipFile(zip_path) as zf:
        for info in zf.infolist():
            if info.filename.endswith(".json"):
                data = zf.read(info)
                orjson.loads(data)
                n += 1
                nbytes += len(data)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"studies": n, "json_bytes": nbytes, "wall_s": wall, "cpu_s": cpu, "studies_per_s": n / wall}


def run_load(zip_path: Path, db: Path, extra: list[str]) -> dict:
    cmd = [trialpanorama_exe(), "load", str(zip_path), "--db", str(db), "--quiet", *extra]
    result = run_measured(cmd)
    if result["returncode"] != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({result['returncode']}):\n{result['output']}")
    return result


def snapshot(db: Path) -> dict:
    """Row count and an order-independent content hash of every table."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {t: list(con.execute(f"SELECT count(*), coalesce(sum(hash(x)::HUGEINT), 0)::VARCHAR FROM {t} x")
                        .fetchone()) for t in TABLES}
    finally:
        con.close()


def figures(load: dict, n: int) -> dict:
    cores = min(os.cpu_count() or 1, max(1, load["processes"]))
    return {"studies_per_s": n / load["wall_s"], "per_core_cpu": n / load["cpu_s"],
            "cores_busy": load["cpu_s"] / load["wall_s"], "cores_used": cores,
            "per_core_wall": n / load["wall_s"] / cores}


def plot(result: dict, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bp, e2e, rel = result["bare_parse"], result["end_to_end"], result["reload"]
    labels = ["bare parse\n(1 core)", "load, wall", "load, per core\n(CPU time)", "load, per core\n(wall ÷ cores)",
              "reload, wall"]
    values = [bp["studies_per_s"], e2e["studies_per_s"], e2e["per_core_cpu"], e2e["per_core_wall"],
              rel["studies_per_s"]]
    fig, ax = plt.subplots(figsize=(9, 5))
    bars = ax.bar(labels, values, color=["#888888", "#1f77b4", "#2ca02c", "#98df8a", "#ff7f0e"])
    ax.bar_label(bars, labels=[f"{v:,.0f}" for v in values])
    ax.axhline(GOAL_PER_CORE, color="red", ls="--", label=f"goal: {GOAL_PER_CORE:,.0f} studies/s per core")
    ax.axhline(bp["studies_per_s"] / GOAL_RATIO, color="purple", ls=":",
               label=f"goal: load wall ≥ bare parse / {GOAL_RATIO:g}")
    ax.set_ylabel("studies / s")
    ax.set_title(f"trialpanorama load, {result['studies']:,} studies "
                 f"(peak RSS {e2e['peak_rss_tree_bytes'] / 1024**3:.2f} GiB)")
    ax.legend(loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--studies", type=int, default=600_000)
    p.add_argument("--zip", type=Path, help="input zip (reused if it exists; default <workdir>/ctgov_<N>.zip)")
    p.add_argument("--workdir", type=Path, default=Path(__file__).resolve().parent / "out")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--indent", action="store_true", help="generate pretty-printed members")
    p.add_argument("--load-args", default="", help="extra arguments for trialpanorama load, e.g. '--workers 1'")
    p.add_argument("--no-reload", action="store_true")
    a = p.parse_args(argv)
    a.workdir.mkdir(parents=True, exist_ok=True)
    zip_path = a.zip or a.workdir / f"ctgov_{a.studies}{'_indent' if a.indent else ''}.zip"
    if not zip_path.exists():
        g = generate(a.studies, zip_path, seed=a.seed, indent=a.indent)
        print(f"generated {g['studies']:,} studies in {g['seconds']:.1f} s -> {zip_path}")
    db = a.workdir / "bench_load.duckdb"
    for f in (db, db.with_name(db.name + ".wal")):
        f.unlink(missing_ok=True)

    print("(a) bare parse ...", flush=True)
    bp = bare_parse(zip_path)
    n = bp["studies"]
    print(f"    {n:,} studies, {bp['json_bytes'] / 1e6:,.0f} MB JSON in {bp['wall_s']:.1f} s", flush=True)
    print("(b) trialpanorama load ...", flush=True)
    e2e = run_load(zip_path, db, a.load_args.split())
    e2e.update(figures(e2e, n))
    print(f"    {e2e['output'].splitlines()[0] if e2e['output'] else ''}", flush=True)
    before = snapshot(db)
    count_ok = before["studies"][0] == n
    rel, same = {}, None
    if not a.no_reload:
        print("(c) reload of the same zip ...", flush=True)
        rel = run_load(zip_path, db, a.load_args.split())
        rel.update(figures(rel, n))
        after = snapshot(db)
        same = after == before and f"0 loaded, {n} unchanged" in rel["output"]
    ratio = e2e["wall_s"] / bp["wall_s"]
    result = {"studies": n, "zip": str(zip_path), "zip_bytes": zip_path.stat().st_size, "bare_parse": bp,
              "end_to_end": e2e, "reload": rel, "ratio_wall": ratio, "ratio_cpu": e2e["cpu_s"] / bp["cpu_s"],
              "studies_count_ok": count_ok, "reload_unchanged": same, "tables": before,
              "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                          "duckdb": duckdb.__version__, "ram_bytes": psutil.virtual_memory().total}}
    goals = {
        f"studies/s per core (CPU) >= {GOAL_PER_CORE:,.0f}": e2e["per_core_cpu"] >= GOAL_PER_CORE,
        f"studies/s per core (wall / cores used) >= {GOAL_PER_CORE:,.0f}": e2e["per_core_wall"] >= GOAL_PER_CORE,
        f"end-to-end wall <= {GOAL_RATIO:g} x bare parse": ratio <= GOAL_RATIO,
        "peak RSS <= 6 GiB": max(e2e["peak_rss_tree_bytes"], e2e["ru_maxrss_bytes"]) <= GOAL_RSS,
        "count(*) FROM studies == studies in zip": count_ok,
    }
    if not a.no_reload:
        goals["reload changes nothing"] = bool(same)
    result["goals"] = goals

    gib = 1024**3
    rows = [
        ("studies", f"{n:,}"),
        ("zip / JSON size", f"{result['zip_bytes'] / 1e6:,.0f} MB / {bp['json_bytes'] / 1e6:,.0f} MB"),
        ("bare parse (unzip + orjson, 1 process)", f"{bp['wall_s']:.1f} s wall, {bp['studies_per_s']:,.0f} studies/s"),
        ("load wall time", f"{e2e['wall_s']:.1f} s  ({e2e['studies_per_s']:,.0f} studies/s)"),
        ("load CPU time (user+sys, all processes)", f"{e2e['cpu_s']:.1f} s  ({e2e['cores_busy']:.2f} cores busy, "
                                                    f"{e2e['processes']} processes)"),
        ("  of which writer process / workers (sampled)", f"{e2e['cpu_main_s']:.1f} s / {e2e['cpu_workers_s']:.1f} s"),
        ("studies/s per core = studies / CPU s", f"{e2e['per_core_cpu']:,.0f}"),
        ("studies/s per core = studies/s / cores used", f"{e2e['per_core_wall']:,.0f}  ({e2e['cores_used']} cores)"),
        ("ratio load wall / bare-parse wall", f"{ratio:.2f}x  (CPU: {result['ratio_cpu']:.2f}x)"),
        ("peak RSS (tree sum, sampled 0.2 s)", f"{e2e['peak_rss_tree_bytes'] / gib:.2f} GiB"),
        ("ru_maxrss (largest process)", f"{e2e['ru_maxrss_bytes'] / gib:.2f} GiB"),
        ("count(*) FROM studies", f"{before['studies'][0]:,}"),
    ]
    if rel:
        rows += [("reload wall / CPU", f"{rel['wall_s']:.1f} s / {rel['cpu_s']:.1f} s  "
                                      f"({rel['studies_per_s']:,.0f} studies/s; writer {rel['cpu_main_s']:.1f} s)"),
                 ("reload peak RSS", f"{rel['peak_rss_tree_bytes'] / gib:.2f} GiB"),
                 ("reload output", rel["output"].splitlines()[0] if rel["output"] else "")]
    width = max(len(k) for k, _ in rows)
    print("\n" + "\n".join(f"  {k:<{width}}  {v}" for k, v in rows))
    print("\ngoals:")
    for name, ok in goals.items():
        print(f"  [{'PASS' if ok else 'FAIL'}] {name}")
    (a.workdir / "bench_load.json").write_text(json.dumps(result, indent=2, default=str))
    plot(result, a.workdir / "bench_load.png")
    print(f"\nwrote {a.workdir / 'bench_load.json'} and {a.workdir / 'bench_load.png'}")
    return 0 if all(goals.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
