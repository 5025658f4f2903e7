"""Study search (B1): from a systematic review's setup, write a PubMed query that finds its included studies.

One sample per review with at least one included study that has a PMID::

    {"id", "inputs": {"background", "objectives", "selection criteria"}, "labels": [PMID, ...],
     "metadata": {"review_pmid", "review_id", "collection"}}

Labels are the PMIDs of the review's included studies at its final stage (title/abstract stage when
it has no final labels; see :mod:`.review_data`), sorted numerically. The inputs fall back to the
title for a missing background and never show a label PMID. The SFT target is ``{"query": ...}``:
the review's own Boolean query when it has one, else :func:`.review_facts.keyword_query`.
"""
from __future__ import annotations

import json
from collections import Counter

import duckdb

from .base import BuildConfig, Sample, stable_id
from .review_data import Review, load_reviews, setup_inputs, setup_text
from .review_facts import keyword_query

TASK = "study_search"
VERSION = "1"

SYSTEM = ("Given the systematic review setup, formulate an effective search query to retrieve the relevant "
          "studies from PubMed. Use Boolean operators (AND, OR) and parentheses to combine the key concepts. "
          'Output JSON with the field "query".')


def _pmid_key(pmid: str) -> tuple:
    return (0, int(pmid), "") if pmid.isdigit() else (1, 0, pmid)


def target_query(review: Review) -> str:
    return review.boolean_query or keyword_query(review)


def sample_for(review: Review, cfg: BuildConfig) -> Sample | None:
    included = [c for c in review.included if c.pmid]
    if not included:
        return None
    labels = sorted({c.pmid for c in included}, key=_pmid_key)
    sid = stable_id(TASK, review.review_id)
    record = {"id": sid, "inputs": setup_inputs(review, hide_pmids=labels), "labels": labels,
              "metadata": {"review_pmid": review.review_pmid, "review_id": review.review_id,
                           "collection": review.collection, "query": target_query(review),
                           "query_source": "review" if review.boolean_query else "keywords"}}
    return Sample(TASK, sid, review.split(cfg), review.split_key, record,
                  review.lineage(c.article_id for c in included), label=str(len(labels)))


def build_with_report(con: duckdb.DuckDBPyConnection, cfg: BuildConfig) -> tuple[list[Sample], dict]:
    """The samples and what was left out: {reason: number of reviews}."""
    samples, skipped = [], Counter()
    for review in load_reviews(con):
        sample = sample_for(review, cfg)
        if sample is None:
            skipped["no included study with a PMID"] += 1
        else:
            samples.append(sample)
    return samples, dict(skipped)


def build(con: duckdb.DuckDBPyConnection, cfg: BuildConfig) -> list[Sample]:
    return build_with_report(con, cfg)[0]


def user_text(record: dict) -> str:
    return setup_text(record["inputs"])


def messages(record: dict) -> list[dict]:
    query = (record.get("metadata") or {}).get("query") or ""
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user_text(record)},
            {"role": "assistant", "content": json.dumps({"query": query}, ensure_ascii=False)}]


def answer_text(record: dict) -> str:
    """The target query (a setup that quotes its own search strategy would leak it)."""
    return (record.get("metadata") or {}).get("query") or ""


def input_text(record: dict) -> str:
    return user_text(record)
