"""Study-search benchmark: build and query the tantivy index over synthetic PubMed-like articles.

    .venv/bin/python benchmarks/bench_search.py                   # 1.6M articles (generated once, cached)
    .venv/bin/python benchmarks/bench_search.py --docs 400000     # a quicker run

In one run, against baselines measured in the same run:

1. build: ``build_index`` on the warehouse as a child process (wall, CPU, peak RSS of its process
   tree sampled with psutil, index size on disk, docs/s), versus DuckDB's FTS extension building
   its BM25 index over a sample (``--fts-docs``; docs/s and size per document);
2. version check: ``content_version`` (what the CLI runs before each search);
3. queries: ``--queries`` generated boolean queries shaped like systematic-review searches (2–3
   OR blocks ANDed, field tags [tiab]/[ti]/[mh]/[pt], phrases taken from titles, truncation,
   NOT), single-threaded, at k=100 and k=1000, versus the same queries as a DuckDB boolean scan
   (ILIKE substring per term, ``list_contains`` for headings; unranked, all threads) on a sample.

Goals: 1.6M documents built in <= 5 min within 8 GB; >= 100 queries/s. Results are printed and
written to ``benchmarks/out/bench_search_<docs>.json``. On demand only, never CI.

Run of ``.venv/bin/python benchmarks/bench_search.py`` (1.6M articles, 2 CPUs, other load on the
machine; the warehouse generated in 64 s, 1.0 GB): build 186 s (8,582 docs/s; process 194 s wall,
376 s CPU), peak RSS 2.92 GiB, index 1.49 GiB (998 B/doc); DuckDB FTS on 200k docs 25.9 s
(7,731 docs/s, 512 B/doc); version check 7.6 s; queries 108 q/s at k=100 and 103 q/s at k=1000 on
one thread (p50 6.9 ms, p95 22 ms), 215 q/s on two; DuckDB ILIKE scan 0.12 q/s (899x fewer).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
from generate_literature import FUNCTION, generate, mesh_tree, vocabulary  # noqa: E402
from measure import run_measured  # noqa: E402

from trialpanorama_dagster.search import And, Not, Or, Term, parse  # noqa: E402

OUT = HERE / "out"
GOAL_BUILD_S, GOAL_RSS, GOAL_QPS = 300.0, 8 * 1024**3, 100.0


def make_queries(db: Path, n: int, seed: int = 3) -> list[str]:
    rng = random.Random(seed)
    vocab = vocabulary(60_000)
    headings = [name for _, name, _ in mesh_tree(8_000, vocab, 11)]
    con = duckdb.connect(str(db), read_only=True)
    titles = [t for (t,) in con.execute("SELECT title FROM literature WHERE pmid::BIGINT % 499 = 0 "
                                        "LIMIT 5000").fetchall()]
    con.close()
    mid = vocab[150:15_000]
    function = set(FUNCTION)
    specific = headings[16:]
    long_words = [w for w in mid if len(w) >= 8]

    def item() -> str:
        r = rng.random()
        if r < 0.35:
            return f"{rng.choice(mid)}[tiab]"
        if r < 0.5:
            w = rng.choice(long_words)
            return f"{w[:rng.randint(5, 6)]}*[tiab]"
        if r < 0.7:  # two adjacent content words of a title (searchers do not phrase-search "of the")
            for _ in range(100):
                ws = rng.choice(titles).rstrip(".").lower().split()
                pairs = [(a, b) for a, b in zip(ws, ws[1:]) if a not in function and b not in function]
                if pairs:
                    return '"%s %s"[tiab]' % rng.choice(pairs)
            return f"{rng.choice(mid)}[tiab]"
        if r < 0.85:  # a heading below the 16 tree categories (those match every article once exploded)
            return f'"{specific[min(int(len(specific) ** rng.random()), len(specific) - 1)]}"[mh]'
        return f"{rng.choice(mid)}[ti]" if r < 0.93 else rng.choice(mid)

    queries = []
    for _ in range(n):
        q = " AND ".join("(" + " OR ".join(item() for _ in range(rng.randint(3, 8))) + ")"
                         for _ in range(rng.randint(2, 3)))
        if rng.random() < 0.3:
            q += " AND (randomized controlled trial[pt] OR placebo[tiab] OR randomi*[tiab])"
        if rng.random() < 0.3:
            q += f' NOT "{rng.choice(specific[:50])}"[mh]'
        queries.append(q)
    return queries


def child_build(db: str, index: str) -> None:
    from trialpanorama_dagster.search import build_index, content_version
    con = duckdb.connect(db, read_only=True)
    t0 = time.perf_counter()
    info = build_index(con, index)
    t1 = time.perf_counter()
    version, _ = content_version(con)
    t2 = time.perf_counter()
    assert version == info.version
    print(json.dumps({"build_s": t1 - t0, "version_check_s": t2 - t1, "documents": info.documents,
                      "version": info.version}))


def child_query(index: str, queries_file: str) -> None:
    from trialpanorama_dagster.search import SearchIndex
    t0 = time.perf_counter()
    ix = SearchIndex(index)
    ix.ids  # noqa: B018  (load the id list: part of opening)
    out = {"open_s": time.perf_counter() - t0}
    queries = json.loads(Path(queries_file).read_text())
    for k in (100, 1000):
        lat, found = [], 0
        t = time.perf_counter()
        for q in queries:
            q0 = time.perf_counter()
            found += len(ix.search(q, k))
            lat.append(time.perf_counter() - q0)
        wall = time.perf_counter() - t
        lat.sort()
        out[f"k{k}"] = {"queries": len(queries), "wall_s": wall, "qps": len(queries) / wall,
                        "p50_ms": 1000 * lat[len(lat) // 2], "p95_ms": 1000 * lat[int(len(lat) * 0.95)],
                        "mean_hits": found / len(queries)}
    threads = os.cpu_count() or 1
    with ThreadPoolExecutor(threads) as pool:   # tantivy releases the GIL while it searches
        t = time.perf_counter()
        list(pool.map(lambda q: ix.search(q, 100), queries))
        out["k100_threads"] = {"threads": threads, "qps": len(queries) / (time.perf_counter() - t)}
    print(json.dumps(out))


def to_sql(node, params: list) -> str:
    """The baseline's predicate: substring ILIKE per term, exact heading/publication type."""
    if isinstance(node, (And, Or)):
        return "(" + f" {type(node).__name__.upper()} ".join(to_sql(n, params) for n in node.items) + ")"
    if isinstance(node, Not):
        inc = to_sql(node.include, params) if node.include is not None else "TRUE"
        return f"({inc} AND NOT {to_sql(node.exclude, params)})"
    assert isinstance(node, Term)
    if node.fields == ("mh",):
        params.append(node.text)
        return "list_contains(mesh_terms, ?)"
    if node.fields == ("pt",):
        params.append(node.text.lower())
        return "list_contains(list_transform(publication_types, x -> lower(x)), ?)"
    cols = {("ti",): ["title"], ("ab",): ["abstract"]}.get(node.fields, ["title", "abstract"])
    params += ["%" + node.text.replace("*", "") + "%"] * len(cols)
    return "(" + " OR ".join(f"{c} ILIKE ?" for c in cols) + ")"


def baseline_scan(db: Path, queries: list[str]) -> dict:
    con = duckdb.connect(str(db), read_only=True)
    t = time.perf_counter()
    for q in queries:
        params: list = []
        con.execute(f"SELECT pmid FROM literature WHERE {to_sql(parse(q).node, params)} ORDER BY pmid LIMIT 100",
                    params).fetchall()
    wall = time.perf_counter() - t
    con.close()
    return {"queries": len(queries), "wall_s": wall, "qps": len(queries) / wall}


def child_fts(db: str, n_docs: int, work: str) -> None:
    import duckdb_extension_fts
    ext = next(Path(duckdb_extension_fts.__path__[0]).rglob("*.duckdb_extension"))
    Path(work).unlink(missing_ok=True)
    con = duckdb.connect(work)
    con.load_extension(str(ext))
    con.execute(f"ATTACH '{db}' AS src (READ_ONLY)")
    con.execute("CREATE TABLE s AS SELECT pmid, title, abstract FROM src.literature ORDER BY pmid LIMIT ?", [n_docs])
    con.execute("CHECKPOINT")
    size0 = os.path.getsize(work)
    t = time.perf_counter()
    con.execute("PRAGMA create_fts_index('s', 'pmid', 'title', 'abstract', stemmer='none', stopwords='none')")
    con.execute("CHECKPOINT")
    print(json.dumps({"docs": n_docs, "build_s": time.perf_counter() - t, "size_bytes": os.path.getsize(work) - size0}))
    con.close()
    Path(work).unlink()


def measured(*args: str) -> tuple[dict, dict]:
    m = run_measured([sys.executable, str(Path(__file__).resolve()), *args])
    if m["returncode"] != 0:
        raise SystemExit(f"{args[0]} failed:\n{m['output']}")
    return m, json.loads(m["output"].splitlines()[-1])


def du(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--docs", type=int, default=1_600_000)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--baseline-queries", type=int, default=5)
    ap.add_argument("--fts-docs", type=int, default=200_000)
    ap.add_argument("--work", type=Path, default=OUT)
    args = ap.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    db, index = args.work / f"search_{args.docs}.duckdb", args.work / f"search_{args.docs}.search-index"
    if not db.exists():
        print(f"generating {args.docs:,} articles into {db} …", flush=True)
        print(generate(db, args.docs), flush=True)
    shutil.rmtree(index, ignore_errors=True)
    build_m, build = measured("_build", str(db), str(index))
    size = du(index)
    queries = make_queries(db, args.queries)
    qfile = args.work / f"search_{args.docs}_queries.json"
    qfile.write_text(json.dumps(queries, indent=0))
    query_m, query = measured("_query", str(index), str(qfile))
    scan = baseline_scan(db, queries[:args.baseline_queries])
    fts_m, fts = measured("_fts", str(db), str(min(args.fts_docs, args.docs)),
                          str(args.work / "fts_baseline.duckdb"))
    result = {"docs": args.docs, "cpus": os.cpu_count(),
              "build": {**build, "wall_s": build_m["wall_s"], "cpu_s": build_m["cpu_s"],
                        "peak_rss_tree_bytes": build_m["peak_rss_tree_bytes"], "index_bytes": size,
                        "docs_per_s": build["documents"] / build["build_s"]},
              "query": {**query, "peak_rss_tree_bytes": query_m["peak_rss_tree_bytes"]},
              "baseline_duckdb_scan": scan,
              "baseline_duckdb_fts_build": {**fts, "docs_per_s": fts["docs"] / fts["build_s"],
                                            "peak_rss_tree_bytes": fts_m["peak_rss_tree_bytes"]}}
    (args.work / f"bench_search_{args.docs}.json").write_text(json.dumps(result, indent=2))
    report(result)


def report(r: dict) -> None:
    gb, b, q, fts, scan = 1024**3, r["build"], r["query"], r["baseline_duckdb_fts_build"], r["baseline_duckdb_scan"]
    print(f"\nsearch benchmark: {r['docs']:,} synthetic articles, {r['cpus']} CPUs")
    print(f"build         {b['build_s']:7.1f} s  ({b['docs_per_s']:,.0f} docs/s; process wall {b['wall_s']:.1f} s, "
          f"cpu {b['cpu_s']:.1f} s), peak RSS {b['peak_rss_tree_bytes'] / gb:.2f} GiB, "
          f"index {b['index_bytes'] / gb:.2f} GiB ({b['index_bytes'] / b['documents']:,.0f} B/doc)")
    print(f"  vs DuckDB FTS on {fts['docs']:,} docs: {fts['build_s']:.1f} s ({fts['docs_per_s']:,.0f} docs/s, "
          f"{fts['size_bytes'] / fts['docs']:,.0f} B/doc, peak RSS {fts['peak_rss_tree_bytes'] / gb:.2f} GiB): "
          f"tantivy {b['docs_per_s'] / fts['docs_per_s']:.2f}x the docs/s")
    print(f"version check {b['version_check_s']:7.1f} s; open {q['open_s']:.2f} s")
    for k in (100, 1000):
        x = q[f"k{k}"]
        print(f"queries k={k:<5} {x['qps']:7.1f} q/s  (p50 {x['p50_ms']:.1f} ms, p95 {x['p95_ms']:.1f} ms, "
              f"{x['mean_hits']:.0f} ids/query, {x['queries']} queries, 1 thread)")
    par = q["k100_threads"]
    print(f"queries k=100  {par['qps']:7.1f} q/s  ({par['threads']} threads)")
    print(f"  vs DuckDB boolean ILIKE scan ({scan['queries']} queries, all threads): {scan['qps']:.2f} q/s: "
          f"{q['k100']['qps'] / scan['qps']:,.0f}x")
    scaled = b["wall_s"] * 1.6e6 / r["docs"]
    print(f"goals: build 1.6M <= {GOAL_BUILD_S:.0f} s: {'met' if scaled <= GOAL_BUILD_S else 'NOT met'}"
          f"{'' if r['docs'] == 1_600_000 else f' (scaled linearly: {scaled:.0f} s)'}; "
          f"RSS <= 8 GiB: {'met' if b['peak_rss_tree_bytes'] <= GOAL_RSS else 'NOT met'}; "
          f">= {GOAL_QPS:.0f} q/s: {'met' if q['k100']['qps'] >= GOAL_QPS else 'NOT met'} on 1 thread, "
          f"{'met' if par['qps'] >= GOAL_QPS else 'NOT met'} on {par['threads']}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_build":
        child_build(*sys.argv[2:])
    elif len(sys.argv) > 1 and sys.argv[1] == "_query":
        child_query(*sys.argv[2:])
    elif len(sys.argv) > 1 and sys.argv[1] == "_fts":
        child_fts(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        main()
