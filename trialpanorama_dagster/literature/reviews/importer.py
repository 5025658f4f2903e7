"""Read any supported review collection and write it into the warehouse.

``read_reviews`` is pure (files in, :class:`ReviewImport` out); ``import_reviews`` writes the review
rows (upsert), the candidate articles (upsert; a richer PubMed copy is kept) and the review -> study
relations, replacing only the relations of the reviews it read (origin ``review:<collection>``), so
importing again is idempotent and re-importing one review leaves the others alone.
"""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import duckdb

from ..store import replace_relations, store_articles, upsert_reviews
from .clef_tar import read_clef_tar
from .cohen import read_cohen
from .model import ReviewFileError, ReviewImport
from .synergy import read_synergy
from .sysrev_seed import read_sysrev_seed
from .trialmind import read_trialmind

FORMATS = ("synergy", "cohen", "clef_tar", "sysrev_seed", "trialmind")
READERS = {"synergy": read_synergy, "cohen": read_cohen, "clef_tar": read_clef_tar,
           "sysrev_seed": read_sysrev_seed, "trialmind": read_trialmind}

DATA = Path(__file__).resolve().parents[2] / "data" / "reviews"
# the embedded default: real subsets of each collection (see data/reviews/PROVENANCE.md)
# Cohen/DERP CSVs carry a custom licence: they are read from a configured path, never shipped.
EMBEDDED: dict[str, list[Path]] = {fmt: [DATA / fmt] for fmt in FORMATS if (DATA / fmt).is_dir()}


def read_reviews(fmt: str, paths=None) -> ReviewImport:
    """Read reviews of one collection format from files or folders (default: the embedded copy).

    Raises :class:`ReviewFileError` (naming the file) when a path is missing or holds nothing of
    that format, or when every review file given is unreadable; a bad review among good ones, and
    bad lines or records, are returned as skipped items with their reasons instead."""
    if fmt not in READERS:
        raise ValueError(f"unknown review format {fmt!r}; one of {', '.join(FORMATS)}")
    if paths is None and fmt not in EMBEDDED:
        raise ValueError(f"{fmt} has no embedded copy (its licence keeps it out of the package): give its files")
    result = READERS[fmt](EMBEDDED[fmt] if paths is None else paths)
    if not result.reviews:
        unreadable = [s for s in result.skipped if s.reason.startswith("unreadable")]
        if unreadable:
            first = unreadable[0]
            raise ReviewFileError(first.path or first.item, first.reason.split(": ", 1)[1])
    return result


def write_reviews(con: duckdb.DuckDBPyConnection, result: ReviewImport) -> dict:
    """Write a read collection into the warehouse; returns what was written."""
    reviews = upsert_reviews(con, result.reviews)
    articles = store_articles(con, result.articles)
    relations = replace_relations(con, result.origin, result.relations, head_ids=result.review_ids) \
        if result.review_ids else 0
    return {"reviews_written": reviews, "articles_written": articles, "relations_written": relations}


def import_reviews(con: duckdb.DuckDBPyConnection, fmt: str, paths=None) -> dict:
    """Read and write one collection; returns the counts (totals, per review, skipped with reasons)."""
    result = read_reviews(fmt, paths)
    written = write_reviews(con, result)
    return {"format": fmt, "origin": result.origin, **result.counts(), **written,
            "per_review": result.per_review(),
            "skipped_items": [asdict(s) for s in result.skipped], "notes": list(result.notes)}
