"""Checks on the task sets: counts, schema of every sample, split leakage, answers in inputs, balance."""
from __future__ import annotations

import json
import re
from collections import Counter

import duckdb

from ..warehouse.quality import CheckOutcome
from .base import LETTERS
from .registry import builder

MULTIPLE_CHOICE = ("evidence_summary", "arm_design", "eligibility_criteria_design", "endpoint_design")


def _records(con, task: str, split: str | None = None) -> list[tuple[str, str, dict]]:
    sql = "SELECT sample_id, split, record FROM task_samples WHERE task = ?" + (" AND split = ?" if split else "")
    return [(i, s, json.loads(r)) for i, s, r in con.execute(sql + " ORDER BY sample_id",
                                                              [task, split] if split else [task]).fetchall()]


def counts(con: duckdb.DuckDBPyConnection, task: str) -> CheckOutcome:
    """Train holds samples; test holds samples whenever the split keys make that expected (with k
    keys and test fraction f, a test side is required once k * f >= 3: two reviews cannot promise one)."""
    by = dict(con.execute("SELECT split, count(*) FROM task_samples WHERE task = ? GROUP BY 1", [task]).fetchall())
    keys = con.execute("SELECT count(DISTINCT split_key) FROM task_samples WHERE task = ?", [task]).fetchone()[0]
    cfg = con.execute("SELECT config FROM task_sets WHERE task = ?", [task]).fetchone()
    fraction = json.loads(cfg[0]).get("test_fraction", 0.2) if cfg else 0.2
    expect_test = keys * fraction >= 3
    ok = by.get("train", 0) > 0 and (by.get("test", 0) > 0 or not expect_test)
    note = "" if by.get("test", 0) or expect_test else f" (only {keys} split keys: no test side expected)"
    return CheckOutcome(ok, f"train {by.get('train', 0)}, test {by.get('test', 0)} samples from {keys} split keys"
                            + note, {"counts": by, "split_keys": keys})


def _problems(task: str, rec: dict) -> list[str]:
    out = []
    if not isinstance(rec.get("id"), str) or not rec["id"]:
        out.append("no id")
    if task in MULTIPLE_CHOICE:
        opts = rec.get("options")
        if not isinstance(rec.get("question"), str) or not rec["question"].strip():
            out.append("no question")
        if not isinstance(opts, dict) or len(opts) < 2 or any(k not in LETTERS for k in opts):
            out.append("options are not a letter -> text map of 2+")
        elif rec.get("answer") not in opts:
            out.append("answer is not an option letter")
        elif len({str(v).strip().lower() for v in opts.values()}) != len(opts):
            out.append("two options have the same text")
    elif task in ("study_search", "study_screening"):
        inputs = rec.get("inputs") or {}
        if set(inputs) != {"background", "objectives", "selection criteria"}:
            out.append("inputs are not background / objectives / selection criteria")
        if not isinstance(rec.get("labels"), list) or not rec["labels"]:
            out.append("no labels")
        if task == "study_screening":
            ctx = rec.get("context")
            if not isinstance(ctx, list) or not ctx:
                out.append("no candidates")
            else:
                labelled = {str(x.get("PMID")) for x in rec.get("labels") or []}
                if any(str(c.get("PMID")) not in labelled for c in ctx):
                    out.append("a candidate has no label")
                if any(x.get("label") not in ("included", "excluded") for x in rec.get("labels") or []):
                    out.append("a label is not included/excluded")
    elif task == "sample_size_estimation":
        if not isinstance(rec.get("question"), str) or not rec["question"].strip():
            out.append("no question")
        if not isinstance(rec.get("answer"), int) or rec["answer"] <= 0:
            out.append("answer is not a positive integer")
    elif task == "trial_completion_assessment":
        labels = rec.get("labels") or {}
        if labels.get("outcome") not in ("complete", "terminate"):
            out.append("outcome is not complete/terminate")
        if not isinstance(rec.get("inputs"), dict) or not isinstance(rec.get("context"), list):
            out.append("inputs/context missing")
        if not (rec.get("metadata") or {}).get("study_nctid"):
            out.append("no metadata.study_nctid")
    return out


def schema_valid(con: duckdb.DuckDBPyConnection, task: str) -> CheckOutcome:
    bad = []
    rows = _records(con, task)
    for sid, _, rec in rows:
        problems = _problems(task, rec)
        if rec.get("id") != sid:
            problems.append("record id differs from sample id")
        if problems:
            bad.append((sid, problems))
    return CheckOutcome(not bad, f"{len(bad)} of {len(rows)} samples break the {task} schema",
                        {"invalid": [f"{s}: {', '.join(p)}" for s, p in bad[:20]]})


def split_leakage(con: duckdb.DuckDBPyConnection, task: str) -> CheckOutcome:
    """No split key (dedup cluster, review) on both sides, in this task or across task sets."""
    within = [r[0] for r in con.execute(
        "SELECT split_key FROM task_samples WHERE task = ? GROUP BY 1 HAVING count(DISTINCT split) > 1 "
        "ORDER BY 1 LIMIT 20", [task]).fetchall()]
    across = [f"{k} ({o})" for k, o in con.execute(
        "SELECT DISTINCT a.split_key, b.task FROM task_samples a JOIN task_samples b "
        "ON a.split_key = b.split_key AND a.split <> b.split WHERE a.task = ? AND b.task <> ? "
        "ORDER BY 1, 2 LIMIT 20", [task, task]).fetchall()]
    return CheckOutcome(not within and not across,
                        f"{len(within)} keys on both sides within {task}, {len(across)} across task sets",
                        {"within": within, "across": across})


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", str(text)).strip().lower()


def answer_leakage(con: duckdb.DuckDBPyConnection, task: str) -> CheckOutcome:
    """A test question's answer text must not appear in its own inputs."""
    module = builder(task)
    leaks, checked = [], 0
    for sid, _, rec in _records(con, task, "test"):
        answer, inputs = _norm(module.answer_text(rec)), _norm(module.input_text(rec))
        if not answer:
            continue
        checked += 1
        if answer in inputs:
            leaks.append(sid)
    return CheckOutcome(not leaks, f"{len(leaks)} of {checked} test samples show their answer in their inputs",
                        {"leaking": leaks[:20]})


def label_distribution(con: duckdb.DuckDBPyConnection, task: str) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for split, label, n in con.execute("SELECT split, coalesce(label, '∅'), count(*) FROM task_samples "
                                       "WHERE task = ? GROUP BY ALL ORDER BY ALL", [task]).fetchall():
        out.setdefault(split, {})[label] = n
    return out


def label_balance(con: duckdb.DuckDBPyConnection, task: str) -> CheckOutcome:
    """Multiple choice: each answer letter is the answer equally often over the set (max - min <= 1)."""
    dist = label_distribution(con, task)
    if task not in MULTIPLE_CHOICE:
        return CheckOutcome(True, "labels (not multiple choice): " + json.dumps(dist), {"distribution": dist})
    totals = Counter()
    for c in dist.values():
        totals.update(c)
    spread = max(totals.values()) - min(totals.values()) if totals else 0
    return CheckOutcome(spread <= 1, f"answer letters over the set {dict(sorted(totals.items()))} (spread {spread}); "
                                     f"per split {json.dumps(dist)}", {"distribution": dist, "spread": spread})
