"""MeSH RDF benchmark: rdflib Graph parse vs the streaming N-Triples reader of ``ontologies.mesh_rdf``.

    python benchmarks/bench_mesh_rdf.py                    # 300k triples (default)
    python benchmarks/bench_mesh_rdf.py --triples 1000000 --keep

Generates a synthetic MeSH-shaped N-Triples file (descriptors with tree numbers, concepts, terms
with prefLabel/altLabel, allowable qualifiers, notes, dates, SCRs mapped to descriptors; some
``\\uXXXX`` escapes; the predicate mix of the real ``mesh.nt``), then runs, each in a fresh child
process measured by ``measure.run_measured`` (wall time, CPU; peak RSS = the larger of the tree's
sampled RSS and the child's own ``ru_maxrss``):

* ``rdflib_parse`` (baseline): ``rdflib.Graph().parse(path, format="nt")`` only;
* ``rdflib``: ``load_mesh_rdf([path], method="rdflib")`` (parse + traversal + build);
* ``stream``: ``load_mesh_rdf([path], method="stream")``.

Prints wall s, triples/s, peak RSS and the ratios to the baseline of this same run, checks that
both loader paths produced the same release (a digest of concepts/terms/xrefs), and writes
``benchmarks/out/bench_mesh_rdf.json``. On demand only, never CI.
"""
from __future__ import annotations

import argparse
import json
import platform
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import run_measured  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out"
M = "http://id.nlm.nih.gov/mesh/"
V = M + "vocab#"
TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
LABEL = "<http://www.w3.org/2000/01/rdf-schema#label>"
DATE = "<http://www.w3.org/2001/XMLSchema#date>"
WORDS = ("Neoplasms", "Diabetes", "Mellitus", "Acid", "Syndrome", "Receptor", "Kinase", "Inhibitor", "Protein",
         "Disease", "Hepatic", "Renal", "Agents", "Caf\\u00E9", "Na\\u00EFve", "Cells", "Type 2", "Chronic")
CHILD = """
import hashlib, json, resource, sys, time
path, method = sys.argv[1], sys.argv[2]
t0 = time.perf_counter()
if method == "rdflib_parse":
    import rdflib
    g = rdflib.Graph(); g.parse(path, format="nt")
    print(json.dumps({"triples": len(g), "seconds": time.perf_counter() - t0,
                      "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
else:
    from trialpanorama_dagster.ontologies.mesh_rdf import load_mesh_rdf
    rel = load_mesh_rdf([path], method=method)
    digest = hashlib.sha256(repr((rel.concepts, rel.terms, rel.xrefs, rel.release)).encode()).hexdigest()[:16]
    print(json.dumps({"concepts": len(rel.concepts), "terms": len(rel.terms), "xrefs": len(rel.xrefs),
                      "digest": digest, "seconds": time.perf_counter() - t0,
                      "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def _words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def generate(path: Path, triples: int, seed: int = 7) -> int:
    """Write about ``triples`` MeSH-shaped N-Triples to ``path``; returns the exact count."""
    rng = random.Random(seed)
    n = 0
    d = 0
    with open(path, "w", encoding="utf-8") as f:
        def t(s: str, p: str, o: str) -> None:
            nonlocal n
            f.write(f"{s} {p} {o} .\n")
            n += 1
        while n < triples:
            d += 1
            desc, tree = f"<{M}D{d:06d}>", f"C{d % 26:02d}.{d % 997:03d}.{d:06d}"
            name = _words(rng, 2)
            t(desc, TYPE, f"<{V}{rng.choice(['TopicalDescriptor'] * 8 + ['PublicationType', 'CheckTag'])}>")
            t(desc, LABEL, f'"{name}"@en')
            t(desc, f"<{V}identifier>", f'"D{d:06d}"')
            t(desc, f"<{V}dateCreated>", f'"20{d % 25:02d}-01-01"^^{DATE}')
            t(desc, f"<{V}dateRevised>", f'"2024-0{d % 9 + 1}-01"^^{DATE}')
            t(desc, f"<{V}annotation>", f'"{_words(rng, 12)}"@en')
            for q in rng.sample(range(1, 90), 8):
                t(desc, f"<{V}allowableQualifier>", f"<{M}Q{q:06d}>")
            for k in range(2):
                tn = f"<{M}{tree}{'.' + str(k) if k else ''}>"
                t(desc, f"<{V}treeNumber>", tn)
                t(tn, TYPE, f"<{V}TreeNumber>")
                t(tn, LABEL, f'"{tree}"@en')
                t(tn, f"<{V}parentTreeNumber>", f"<{M}{tree.rsplit('.', 1)[0]}>")
            if d > 1:
                t(desc, f"<{V}broaderDescriptor>", f"<{M}D{rng.randint(1, d - 1):06d}>")
            for c in range(2):
                concept = f"<{M}M{d:07d}{c}>"
                t(desc, f"<{V}{'preferredConcept' if c == 0 else 'concept'}>", concept)
                t(concept, TYPE, f"<{V}Concept>")
                t(concept, LABEL, f'"{name if c == 0 else _words(rng, 2)}"@en')
                t(concept, f"<{V}identifier>", f'"M{d:07d}{c}"')
                t(concept, f"<{V}scopeNote>", f'"{_words(rng, 20)}"@en')
                t(concept, f"<{V}registryNumber>", f'"{rng.randint(10, 99999)}-{rng.randint(10, 99)}-{d % 10}"')
                for k in range(3):
                    term = f"<{M}T{d:06d}{c}{k}>"
                    if c == 0 and k == 0:
                        t(desc, f"<{V}preferredTerm>", term)
                    t(concept, f"<{V}{'preferredTerm' if k == 0 else 'term'}>", term)
                    t(term, TYPE, f"<{V}Term>")
                    t(term, f"<{V}prefLabel>", f'"{name if c == k == 0 else _words(rng, 3)}"@en')
                    t(term, f"<{V}altLabel>", f'"{_words(rng, 3)}"@en')
                    t(term, f"<{V}identifier>", f'"T{d:06d}{c}{k}"')
                    t(term, f"<{V}lexicalTag>", '"NON"@en')
                    t(term, f"<{V}dateCreated>", f'"1999-01-0{k + 1}"^^{DATE}')
            if d % 3 == 0:                                   # an SCR mapped to this descriptor
                scr = f"<{M}C{d:09d}>"
                t(scr, TYPE, f"<{V}SCR_Chemical>")
                t(scr, LABEL, f'"{_words(rng, 2)} compound"@en')
                t(scr, f"<{V}preferredMappedTo>", desc)
                t(scr, f"<{V}note>", f'"{_words(rng, 10)}"@en')
                t(scr, f"<{V}frequency>", '"1"^^<http://www.w3.org/2001/XMLSchema#int>')
    return n


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--triples", type=int, default=300_000)
    ap.add_argument("--file", type=Path, default=None, help="N-Triples file (default: generated in benchmarks/out)")
    ap.add_argument("--keep", action="store_true", help="keep the generated file")
    args = ap.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    path = args.file or OUT / f"mesh_synthetic_{args.triples}.nt"
    generated = args.file is None
    count = generate(path, args.triples) if generated else sum(1 for _ in open(path, encoding="utf-8"))
    results = {}
    for method in ("rdflib_parse", "rdflib", "stream"):
        r = run_measured([sys.executable, "-c", CHILD, str(path), method])
        if r["returncode"] != 0:
            raise SystemExit(f"{method} failed:\n{r['output']}")
        out = json.loads(r["output"].splitlines()[-1])
        peak = max(r["peak_rss_tree_bytes"], out.pop("maxrss_kb") * 1024)   # sampled tree vs the child's own
        results[method] = {"wall_s": round(r["wall_s"], 2), "in_process_s": round(out["seconds"], 2),
                           "cpu_s": round(r["cpu_s"], 2), "peak_rss_mb": round(peak / 2**20, 1),
                           "triples_per_s": round(count / r["wall_s"]), **{k: v for k, v in out.items() if k != "seconds"}}
    base = results["rdflib_parse"]
    for r in results.values():
        r["wall_vs_rdflib_parse"] = round(r["wall_s"] / base["wall_s"], 3)
        r["rss_vs_rdflib_parse"] = round(r["peak_rss_mb"] / base["peak_rss_mb"], 3)
    same = results["rdflib"]["digest"] == results["stream"]["digest"]
    report = {"file": str(path), "bytes": path.stat().st_size, "triples": count, "python": platform.python_version(),
              "machine": platform.machine(), "results": results, "rdflib_and_stream_identical": same}
    print(f"{count} triples, {path.stat().st_size / 2**20:.1f} MiB: {path}")
    print(f"{'method':<14}{'wall s':>9}{'triples/s':>12}{'peak RSS MB':>13}{'wall x':>9}{'RSS x':>8}")
    for m, r in results.items():
        print(f"{m:<14}{r['wall_s']:>9}{r['triples_per_s']:>12}{r['peak_rss_mb']:>13}"
              f"{r['wall_vs_rdflib_parse']:>9}{r['rss_vs_rdflib_parse']:>8}")
    print(f"rdflib and stream releases identical: {same} ({results['stream'].get('concepts')} concepts, "
          f"{results['stream'].get('terms')} terms, {results['stream'].get('xrefs')} xrefs)")
    (OUT / "bench_mesh_rdf.json").write_text(json.dumps(report, indent=1))
    if generated and not args.keep:
        path.unlink()
    if not same:
        raise SystemExit("rdflib and stream releases differ")
    return report


if __name__ == "__main__":
    main()
