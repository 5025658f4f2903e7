"""``trialpanorama import-reviews FORMAT [PATH...] --db FILE``: systematic-review collections into the
warehouse (``cli.py`` calls :func:`register` on its sub-parsers)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .literature.reviews.importer import FORMATS, import_reviews
from .literature.reviews.model import ReviewFileError
from .warehouse.db import connect, default_db_path

_COLUMNS = (("review_id", "review"), ("candidates", "candidates"), ("included", "included"),
            ("included_final", "final"), ("excluded", "excluded"), ("seeds", "seeds"), ("articles", "articles"),
            ("skipped", "skipped"))


def register(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("import-reviews", help="import a systematic-review collection (reviews, candidate "
                                                     "studies and their labels) into the warehouse")
    p.add_argument("format", choices=FORMATS, metavar="FORMAT", help=f"one of {', '.join(FORMATS)}")
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help="files or folders of that collection (default: the embedded copy)")
    p.add_argument("--db", default=str(default_db_path()), help="warehouse file (default: %(default)s)")
    p.add_argument("--max-skipped", type=int, default=10, help="skipped items to list (default: %(default)s)")
    p.set_defaults(func=cmd_import_reviews)
    return p


def format_table(counts: dict) -> str:
    rows = [[str(r[k]) for k, _ in _COLUMNS] for r in counts["per_review"]]
    total = ["total"] + [str(counts[k]) for k, _ in _COLUMNS[1:-2]] + [str(counts["articles"]),
                                                                        str(counts["skipped"])]
    header = [h for _, h in _COLUMNS]
    widths = [max(len(x) for x in col) for col in zip(header, total, *rows)]

    def line(cells):
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))
    out = [line(header), line(["-" * w for w in widths]), *map(line, rows), line(["-" * w for w in widths]),
           line(total)]
    return "\n".join(out)


def cmd_import_reviews(args) -> int:
    con = connect(args.db)
    try:
        counts = import_reviews(con, args.format, args.paths or None)
    except (ReviewFileError, ValueError) as exc:
        print(f"trialpanorama: error: {exc}", file=sys.stderr)
        return 2
    finally:
        con.close()
    print(f"{counts['format']}: {counts['reviews']} reviews, {counts['relations']} relations "
          f"(origin {counts['origin']}), {counts['articles']} articles with text")
    print(format_table(counts))
    if counts["skipped"]:
        reasons = ", ".join(f"{k} {n}" for k, n in sorted(counts["skipped_reasons"].items()))
        print(f"skipped {counts['skipped']}: {reasons}")
        for s in counts["skipped_items"][:args.max_skipped]:
            print(f"  {s['review_id'] or '-'}  {s['item']}: {s['reason']}")
    for note in counts["notes"][:args.max_skipped]:
        print(f"note: {note}")
    print(f"warehouse: {Path(args.db).resolve()}")
    return 0 if counts["reviews"] else 1


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry (``python -m trialpanorama_dagster.cli_reviews``) until cli.py registers the verb."""
    parser = argparse.ArgumentParser(prog="trialpanorama")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
