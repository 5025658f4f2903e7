"""Study screening (B2): decide for each candidate study whether the systematic review includes it.

Sample (the reference's fields plus ours in ``metadata``)::

    {"id", "inputs": {"background", "objectives", "selection criteria"},
     "context": [{"PMID", "title", "abstract"}, ...], "labels": [{"PMID", "label": "included"|"excluded"}, ...],
     "metadata": {"PMID": review_pmid, "review_id", "collection", "variant", "chunk", "chunks"}}

Candidates are the review's labelled candidates (final stage when it has one, see
:mod:`.review_data`) that have a PMID and a title; labels follow the context order. Two variants,
both in the one task set (their ids differ):

``natural``   every usable candidate, dealt into ``ceil(n / max_candidates)`` samples: included first,
              then excluded, each list in a seeded order, dealt round-robin, so every sample holds at
              most ``max_candidates`` and the review's prevalence (± one study per class).
``balanced``  as many included as excluded (``m = min`` of the two, a seeded choice of the larger
              side), ``max_candidates // 2`` of each per sample at most — like the reference test set.

A review needs an excluded candidate for either variant (the reference's negatives are the excluded
candidates; none are invented) and an included one for ``balanced``; what is left out is counted by
reason in :func:`build_with_report`. The candidate order inside a sample is seeded.
"""
from __future__ import annotations

import math
from collections import Counter

import duckdb

from .base import BuildConfig, Sample, rng_for, stable_id
from .review_data import Candidate, Review, load_reviews, setup_inputs, setup_text

TASK = "study_screening"
VERSION = "1"
VARIANTS = ("natural", "balanced")

SYSTEM = ("You are an expert in systematic reviews and evidence-based medicine. Given the setup of a "
          "systematic review (its background, objectives and selection criteria: population, intervention, "
          "comparison, outcomes and study design) and a list of candidate studies, decide for each candidate "
          "whether it meets the criteria and should be included in the review. "
          'Output JSON: {"results": [{"PMID": str, "decision": "included" | "excluded", "confidence": 0-100}]}.')


def usable(review: Review, skipped: Counter) -> tuple[list[Candidate], list[Candidate]]:
    """(included, excluded) candidates with a PMID and a title, each in PMID order."""
    out: dict[str, list[Candidate]] = {"included": [], "excluded": []}
    seen: set[str] = set()
    for c in review.candidates:
        if not c.pmid:
            skipped["candidate without a PMID"] += 1
        elif not c.title:
            skipped["candidate without a title"] += 1
        elif c.pmid in seen:
            skipped["candidate PMID repeated"] += 1
        else:
            seen.add(c.pmid)
            out[c.label].append(c)
    return out["included"], out["excluded"]


def _chunks(review: Review, cfg: BuildConfig, variant: str, inc: list[Candidate],
            exc: list[Candidate]) -> list[list[Candidate]]:
    rng = rng_for(cfg, TASK, review.review_id, variant)
    inc, exc = list(inc), list(exc)
    rng.shuffle(inc)
    rng.shuffle(exc)
    if variant == "natural":
        k = math.ceil((len(inc) + len(exc)) / max(1, cfg.max_candidates))
        order = inc + exc
        return [order[j::k] for j in range(k)]
    m = min(len(inc), len(exc))
    k = math.ceil(m / max(1, cfg.max_candidates // 2))
    return [inc[:m][j::k] + exc[:m][j::k] for j in range(k)]


def _sample(review: Review, cfg: BuildConfig, variant: str, j: int, k: int, chunk: list[Candidate],
            inputs: dict[str, str]) -> Sample:
    chunk = list(chunk)
    rng_for(cfg, TASK, review.review_id, variant, j).shuffle(chunk)
    sid = stable_id(TASK, review.review_id, variant, j)
    n_inc = sum(c.label == "included" for c in chunk)
    record = {"id": sid, "inputs": dict(inputs),
              "context": [{"PMID": c.pmid, "title": c.title, "abstract": c.abstract or ""} for c in chunk],
              "labels": [{"PMID": c.pmid, "label": c.label} for c in chunk],
              "metadata": {"PMID": review.review_pmid, "review_id": review.review_id,
                           "collection": review.collection, "variant": variant, "chunk": j, "chunks": k}}
    return Sample(TASK, sid, review.split(cfg), review.split_key, record,
                  review.lineage(c.article_id for c in chunk), label=f"{variant}:{n_inc / len(chunk):.1f}")


def build_variant(con: duckdb.DuckDBPyConnection, cfg: BuildConfig, variant: str,
                  reviews: list[Review] | None = None, skipped: Counter | None = None) -> list[Sample]:
    if variant not in VARIANTS:
        raise ValueError(f"unknown screening variant {variant!r}; one of {', '.join(VARIANTS)}")
    if cfg.max_candidates < 2:
        raise ValueError("study screening needs max_candidates >= 2")
    skipped = Counter() if skipped is None else skipped
    samples = []
    for review in reviews if reviews is not None else load_reviews(con):
        counted = Counter()
        inc, exc = usable(review, counted)
        if variant == "natural":          # candidate-level reasons once per review, not once per variant
            skipped.update(counted)
        if not exc:
            skipped[f"{variant}: review without an excluded candidate (PMID and title)"] += 1
            continue
        if variant == "balanced" and not inc:
            skipped["balanced: review without an included candidate (PMID and title)"] += 1
            continue
        chunks = _chunks(review, cfg, variant, inc, exc)
        inputs = setup_inputs(review, hide_pmids=[c.pmid for c in review.candidates if c.pmid])
        samples += [_sample(review, cfg, variant, j, len(chunks), ch, inputs) for j, ch in enumerate(chunks)]
    return samples


def build_with_report(con: duckdb.DuckDBPyConnection, cfg: BuildConfig) -> tuple[list[Sample], dict]:
    """Both variants and what was left out: {reason: number of reviews or candidates}."""
    reviews, skipped = load_reviews(con), Counter()
    samples = [s for v in VARIANTS for s in build_variant(con, cfg, v, reviews, skipped)]
    return samples, dict(skipped)


def build(con: duckdb.DuckDBPyConnection, cfg: BuildConfig) -> list[Sample]:
    return build_with_report(con, cfg)[0]


def user_text(record: dict) -> str:
    parts = ["# Systematic Review Setup", setup_text(record["inputs"]), "", "# Candidate Studies"]
    for i, c in enumerate(record["context"], 1):
        parts.append(f"## Study {i} (PMID: {c['PMID']})\n### Title\n{c['title']}\n"
                     f"### Abstract\n{c.get('abstract') or ''}")
    return "\n".join(parts)


def target(record: dict) -> str:
    """The reference's SFT target: a Python dict repr indexed by candidate order."""
    label = {x["PMID"]: x["label"] for x in record["labels"]}
    return str({str(i): label[c["PMID"]].upper() for i, c in enumerate(record["context"], 1)})


def messages(record: dict) -> list[dict]:
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user_text(record)},
            {"role": "assistant", "content": target(record)}]


def answer_text(record: dict) -> str:
    return target(record)


def input_text(record: dict) -> str:
    return user_text(record)
