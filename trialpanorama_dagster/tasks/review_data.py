"""What the three systematic-review tasks read: reviews, their labelled candidates, setup inputs, splits.

Labels. A review's candidates are its ``review_candidate`` relations at one stage: ``final`` when the
review has any final-stage label, else ``title_abstract`` (a candidate labelled both ways at that
stage counts as included). A candidate's PMID is the article's ``pmid``, else the number of a
``PMID:<n>`` article id; its title, abstract and year come from ``literature`` when the article is
there.

Splits. The split key is a review id: the smallest id among the reviews that are the same review
(same ``review_pmid``, or the same title once case, spacing and punctuation are ignored). Collections
repeat reviews under several ids (sysrev-seed lists one review per search topic), and those copies
share included studies, so they must land on one side. The key's date is the review's publication
year when its own article is in ``literature``, else the year its id ends with (SYNERGY names reviews
``Author_Year``), else the newest year among its included studies (a lower bound of the review's
date); the latest date of a group counts.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

import duckdb

from .base import BuildConfig, assign_split

INPUT_KEYS = ("background", "objectives", "selection criteria")


@dataclass(frozen=True)
class Candidate:
    article_id: str
    pmid: str | None
    label: str                     # included | excluded
    title: str | None
    abstract: str | None
    year: int | None


@dataclass
class Review:
    review_id: str
    collection: str
    title: str | None
    background: str | None
    objectives: str | None
    criteria: str | None
    boolean_query: str | None
    review_pmid: str | None
    stage: str | None = None                   # the stage its labels come from
    candidates: list[Candidate] = field(default_factory=list)
    split_key: str = ""
    key_date: date | None = None

    @property
    def included(self) -> list[Candidate]:
        return [c for c in self.candidates if c.label == "included"]

    @property
    def excluded(self) -> list[Candidate]:
        return [c for c in self.candidates if c.label == "excluded"]

    def split(self, cfg: BuildConfig) -> str:
        return assign_split(self.split_key, cfg, key_date=self.key_date)

    def lineage(self, source_ids) -> dict:
        return {"review_id": self.review_id, "collection": self.collection, "source_ids": sorted(set(source_ids))}


_LABELS = """
WITH lab AS (
    SELECT head_id, tail_id, coalesce(stage, 'title_abstract') AS stage, label
    FROM relations WHERE head_type = 'review' AND relation_type = 'review_candidate'
      AND label IN ('included', 'excluded')),
st AS (SELECT head_id, CASE WHEN bool_or(stage = 'final') THEN 'final' ELSE 'title_abstract' END AS stage
       FROM lab GROUP BY head_id),
one AS (SELECT lab.head_id, lab.tail_id, st.stage, min(lab.label) AS label   -- 'included' < 'excluded'
        FROM lab JOIN st ON st.head_id = lab.head_id AND st.stage = lab.stage GROUP BY ALL)
SELECT one.head_id, one.stage, one.tail_id, one.label,
       coalesce(l.pmid, CASE WHEN one.tail_id LIKE 'PMID:%' THEN substr(one.tail_id, 6) END) AS pmid,
       l.title, l.abstract, l.year
FROM one LEFT JOIN literature l ON l.article_id = one.tail_id
ORDER BY one.head_id, one.tail_id
"""


def _blank(text: str | None) -> str | None:
    text = (text or "").strip()
    return text or None


def norm(text: str | None) -> str:
    """Case, spacing and edge punctuation ignored (for comparing titles and options)."""
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s]", " ", (text or "").lower())).strip()


def load_reviews(con: duckdb.DuckDBPyConnection) -> list[Review]:
    """Every review with its labelled candidates, split key and key date, in review-id order."""
    reviews = {r[0]: Review(r[0], r[1] or "", *map(_blank, r[2:8])) for r in con.execute(
        "SELECT review_id, collection, title, background, objectives, selection_criteria, boolean_query, "
        "review_pmid FROM reviews ORDER BY review_id").fetchall()}
    for rid, stage, aid, label, pmid, title, abstract, year in con.execute(_LABELS).fetchall():
        if rid in reviews:
            reviews[rid].stage = stage
            reviews[rid].candidates.append(Candidate(aid, _blank(pmid), label, _blank(title), _blank(abstract),
                                                     year))
    own_year = dict(con.execute("SELECT r.review_id, max(l.year) FROM reviews r JOIN literature l "
                                "ON l.pmid = r.review_pmid GROUP BY 1").fetchall())
    _group(list(reviews.values()), own_year)
    return list(reviews.values())


def _group(reviews: list[Review], own_year: dict[str, int]) -> None:
    parent = {r.review_id: r.review_id for r in reviews}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    first: dict[tuple[str, str], str] = {}
    for r in reviews:
        for key in (("pmid", r.review_pmid or ""), ("title", norm(r.title))):
            if not key[1]:
                continue
            if key in first:
                a, b = sorted((find(first[key]), find(r.review_id)))
                parent[b] = a
            else:
                first[key] = r.review_id
    years: dict[str, int] = {}
    for r in reviews:
        r.split_key = find(r.review_id)
        named = re.search(r"_((?:19|20)\d\d)$", r.review_id)
        year = own_year.get(r.review_id) or (int(named.group(1)) if named else None) \
            or max((c.year for c in r.included if c.year), default=None)
        if year:
            years[r.split_key] = max(year, years.get(r.split_key, year))
    for r in reviews:
        r.key_date = date(years[r.split_key], 1, 1) if r.split_key in years else None


def redact(text: str, pmids) -> str:
    """The text with any of these PMIDs (as whole numbers) replaced by ``[PMID]``."""
    pmids = set(pmids)
    return re.sub(r"\d+", lambda m: "[PMID]" if m.group(0) in pmids else m.group(0), text) if pmids else text


def setup_inputs(review: Review, hide_pmids=()) -> dict[str, str]:
    """The reference's three setup fields. A review without a background uses its title there (and
    a review with neither objectives nor criteria keeps them empty); the given PMIDs never appear."""
    background = review.background or review.title or ""
    values = (background, review.objectives or "", review.criteria or "")
    return {k: redact(v, hide_pmids) for k, v in zip(INPUT_KEYS, values)}


def setup_text(inputs: dict[str, str]) -> str:
    """``# key: value`` per field, as the reference prompts render the setup."""
    return "\n".join(f"# {k}: {inputs.get(k, '')}" for k in INPUT_KEYS)
