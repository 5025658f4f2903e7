"""``trialpanorama link``: load the ontologies and link every registry term of a warehouse."""
from __future__ import annotations

import json
import sys
from pathlib import Path


def _paths(specs: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for spec in specs or []:
        name, sep, path = spec.partition("=")
        if not sep or not name or not path:
            raise SystemExit(f"--ontology takes NAME=PATH (e.g. mesh=/data/desc2026.xml), got {spec!r}")
        out.setdefault(name.strip().lower(), []).append(path)
    return out


def cmd_link(args) -> int:
    from .ontologies.link_quality import coverage, methods
    from .ontologies.linker import LinkOptions
    from .ontologies.pipeline import run_linkage
    from .warehouse.db import connect, default_db_path

    db = Path(args.db) if args.db else default_db_path()
    if not db.exists():
        print(f"error: no warehouse at {db} (load registries first: trialpanorama load ...)", file=sys.stderr)
        return 2
    options = LinkOptions(fuzzy=not args.no_fuzzy, fuzzy_cutoff=args.fuzzy_cutoff)
    con = connect(db)
    try:
        report = run_linkage(con, options, _paths(args.ontology))
        if args.json:
            print(json.dumps({**report, "methods": methods(con)}, default=str, indent=2))
            return 0
        for o in report["ontologies"]:
            skipped = f"; skipped: {'; '.join(o['skipped'])}" if o["skipped"] else ""
            print(f"ontology {o['ontology']:<9} release {o['release']!s:<12} {o['concepts']:>8,} concepts "
                  f"{o['terms']:>9,} names {o['xrefs']:>8,} xrefs  ({o['source']}){skipped}")
        print()
        print(f"{'table':<16}{'rows':>9}{'linked':>9}{'share':>8}   by source")
        for table, c in coverage(con).items():
            by = ", ".join(f"{s} {v['share']:.0%}" for s, v in c["by_source"].items() if v["share"] is not None)
            share = f"{c['share']:.1%}" if c["share"] is not None else "-"
            print(f"{table:<16}{c['rows']:>9,}{c['linked']:>9,}{share:>8}   {by}")
        print()
        for key, counts in methods(con).items():
            print(f"{key:<24}" + ", ".join(f"{m} {n}" for m, n in counts.items()))
    finally:
        con.close()
    return 0


def register(sub) -> None:
    p = sub.add_parser("link", help="load ontologies and link conditions, drugs, adverse events and biomarkers")
    p.add_argument("--db", help="warehouse file (default: $TRIALPANORAMA_HOME/warehouse.duckdb)")
    p.add_argument("--ontology", action="append", metavar="NAME=PATH",
                   help="an ontology file instead of the embedded default (repeatable; names: mesh, mondo, doid, "
                        "hpo, drugbank, atc, rxnorm, hgnc)")
    p.add_argument("--no-fuzzy", action="store_true", help="exact, synonym and normalised matching only")
    p.add_argument("--fuzzy-cutoff", type=float, default=90.0, help="minimum fuzzy score, 0-100 (default 90)")
    p.add_argument("--json", action="store_true", help="print the full report as JSON")
    p.set_defaults(func=cmd_link)
