"""Study screening: include or exclude each candidate study of a review.

Parsing (``<think>`` blocks ignored), first found wins:

1. the reference's JSON ``{"results": [{"PMID", "decision"}, ...]}`` (fenced or bare; also a bare
   list of such entries, or such entries scattered as separate objects when the outer object does
   not decode);
2. a mapping of candidate to decision: the SFT target's Python dict repr
   ``{'1': 'INCLUDED', '2': 'EXCLUDED'}`` keyed by candidate order in ``record["context"]``
   (1-based), or the same keyed by PMID; a value may also be an object with a ``decision``.

Decisions read as included: "included", "include", "INCLUDED", "yes", "true", true; as excluded:
"excluded", "exclude", "no", "false", false. A mapping key that is a candidate's PMID is that
candidate; otherwise a whole number 1..n is the n-th candidate.

Scoring, as the reference: an unparseable output excludes every candidate (and is counted in
``unparsed``); a candidate without a decision is excluded; a PMID that is not among the gold
labels is ignored. Candidates are pooled over all samples, positive = included:
``accuracy``, ``precision``, ``recall``, ``f1``, ``specificity`` (:func:`..metrics.binary_metrics`,
zero division 0.0), with ``n`` = samples and ``n_candidates`` = pooled candidates.

Per review (``groups``): samples are grouped by ``metadata["review_id"]`` (else
``metadata["PMID"]``, the review's PMID, else the sample id), pooling the candidates of a
review's samples (its chunks and both variants). ``review_accuracy`` is the mean over reviews of
the share of their candidates decided right (the reference's average per-review accuracy, one
sample per review there) and ``review_all_correct`` the share of reviews with every candidate
right (the reference's "macro" accuracy). Reviews without candidates are left out of both.
"""
from __future__ import annotations

import re

from ..metrics import binary_metrics, mean
from ..parsing import find_key, json_lists, json_objects, strip_think
from .base import Parsed, TaskScorer, unparsed

_PMID = re.compile(r"^\s*(?:pmid\s*[:#]?\s*)?(\d+)\s*$", re.I)
_YES = {"included", "include", "includes", "inclusion", "yes", "y", "true", "1", "relevant", "accept", "accepted"}
_NO = {"excluded", "exclude", "excludes", "exclusion", "no", "n", "false", "0", "irrelevant", "reject", "rejected"}


def decision(value) -> bool | None:
    """True (included), False (excluded) or None for a value that states neither."""
    if isinstance(value, bool):
        return value
    if isinstance(value, dict):
        return decision(find_key(value, "decision", "label", "included", "include"))
    if not isinstance(value, (str, int)):
        return None
    s = re.sub(r"[^a-z0-9]+", " ", str(value).lower()).strip()
    if s in _YES or s.startswith("includ"):
        return True
    if s in _NO or s.startswith("exclud"):
        return False
    return None


def _pmid(value) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    m = _PMID.match(str(value))
    return m.group(1) if m else (str(value).strip() or None)


def _entries(items) -> dict[str, bool | None] | None:
    """{PMID: decision} of a list of result entries; None when no entry names a PMID."""
    out = {}
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict):
            pmid = _pmid(find_key(item, "PMID", "pmid", "id", "study_id", "study"))
            if pmid is not None:
                out[pmid] = decision(find_key(item, "decision", "label", "included", "include"))
    return out or None


def _mapping(obj: dict) -> dict[str, bool | None] | None:
    out = {str(k).strip(): decision(v) for k, v in obj.items()}
    return out if any(v is not None for v in out.values()) else None


def parse_decisions(output: str) -> Parsed:
    text = strip_think(output)
    objects = list(json_objects(text))
    for obj in objects:
        results = find_key(obj, "results", "decisions", "studies")
        entries = _entries(results)
        if entries is not None:
            return Parsed({"pmid": entries, "keys": {}}, True)
    for lst in json_lists(text):
        entries = _entries(lst)
        if entries is not None:
            return Parsed({"pmid": entries, "keys": {}}, True)
    loose = _entries([o for o in objects if find_key(o, "decision", "label") is not None])
    if loose is not None:
        return Parsed({"pmid": loose, "keys": {}}, True)
    for obj in objects:
        mapping = _mapping(obj)
        if mapping is not None:
            return Parsed({"pmid": {}, "keys": mapping}, True)
    return unparsed("no screening decisions found")


def review_key(record: dict) -> str:
    meta = record.get("metadata") or {}
    return str(meta.get("review_id") or meta.get("PMID") or record.get("id"))


class ScreeningScorer(TaskScorer):
    task = "study_screening"

    def _parse(self, output: str) -> Parsed:
        return parse_decisions(output)

    def score_sample(self, record: dict, output: str, env=None) -> dict:
        parsed = self.parse(output)
        labels = [(str(x["PMID"]), x["label"] == "included") for x in record.get("labels") or []]
        gold_pmids = {p for p, _ in labels}
        order = [str(c["PMID"]) for c in record.get("context") or []]
        said: dict[str, bool | None] = {}
        if parsed.ok:
            for key, d in parsed.value["keys"].items():
                if key in gold_pmids:
                    said[key] = d
                elif key.isdigit() and 1 <= int(key) <= len(order):
                    said.setdefault(order[int(key) - 1], d)
            said.update({p: d for p, d in parsed.value["pmid"].items() if p in gold_pmids})
        row = self.base_row(record, parsed)
        pred = [said.get(p) is True for p, _ in labels]
        gold = [g for _, g in labels]
        row.update(review=review_key(record), pmids=[p for p, _ in labels], gold=gold, pred=pred,
                   decided=sum(p in said and said[p] is not None for p, _ in labels),
                   correct=sum(g == p for g, p in zip(gold, pred)), n_candidates=len(labels))
        return row

    def groups(self, rows: list[dict]) -> dict:
        out: dict[str, dict] = {}
        for r in rows:
            g = out.setdefault(r["review"], {"samples": 0, "candidates": 0, "correct": 0})
            g["samples"] += 1
            g["candidates"] += r["n_candidates"]
            g["correct"] += r["correct"]
        for g in out.values():
            g["accuracy"] = g["correct"] / g["candidates"] if g["candidates"] else None
            g["all_correct"] = g["candidates"] > 0 and g["correct"] == g["candidates"]
        return out

    def aggregate(self, rows: list[dict]) -> dict:
        gold = [g for r in rows for g in r["gold"]]
        pred = [p for r in rows for p in r["pred"]]
        reviews = [g for g in self.groups(rows).values() if g["candidates"]]
        out = binary_metrics(gold, pred)
        out.update(review_accuracy=mean(g["accuracy"] for g in reviews),
                   review_all_correct=mean(float(g["all_correct"]) for g in reviews) if reviews else None,
                   n_candidates=len(gold), **self.counts(rows))
        return out
