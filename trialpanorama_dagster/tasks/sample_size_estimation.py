"""Sample size estimation (B7): how many participants does the trial need.

One sample per primary record that COMPLETED with an ACTUAL enrollment count above zero::

    {"id", "question", "answer": <actual enrollment>, "explanation", "answer_type": "integer",
     "trial_id", "pmid"}

The question is the design as registered (title, conditions, phase, allocation, masking, arms,
primary endpoints, an eligibility summary) plus the registration's own statistical assumptions:
sentences of the brief summary or detailed description that mention power, alpha, significance
level, effect size, sample size, dropout or attrition together with a number.

The enrollment number never appears in the question as a number token: any sentence that states
it (a stated N, an age bound, a dose that happens to be equal) is dropped. ``explanation`` is a
short rationale from the parameters found (power, alpha, effect size, dropout) and the enrollment,
or empty when the registration states no assumption. ``pmid`` is a linked publication (results,
then derived, then PubMed-linked, then protocol), or "".
"""
from __future__ import annotations

import json
import re

import duckdb

from .base import BuildConfig, Sample, assign_split, stable_id
from .design_common import (arm_rows, clip, human, load_trials, primary_endpoints, registered_text, render_arms,
                            render_endpoints)

TASK = "sample_size_estimation"
VERSION = "1"
SYSTEM = ("You are a helpful assistant for designing clinical trials. Estimate the total number of participants "
          "the trial described by the user needs to enroll. Output your answer as "
          '```json {"step_by_step_thinking": Str(explanation), "sample_size_needed": Int}```.')
INSTRUCTION = "Estimate the total number of participants this clinical trial needs to enroll."
MAX_ASSUMPTIONS = 8
BUCKETS = ((50, "1-49"), (100, "50-99"), (200, "100-199"), (500, "200-499"), (1000, "500-999"))

_NUM = re.compile(r"(?<![\w.,])\d+(?:,\d{3})*(?:\.\d+)?(?!\w)")
_ASSUME = re.compile(r"\bpower(?:ed)?\b(?!-)|\balpha\b|α|\bsignificance level\b|\beffect sizes?\b|\bsample size"
                     r"|\bdrop-?outs?\b|\bdrop out\b|\battrition\b|\bloss to follow|\btype (?:i|1|ii|2) error"
                     r"|\bstandard deviation\b|\bconfidence level\b", re.I)
_PARAMS = (
    ("power", re.compile(r"power\D{0,25}?(\d{2}(?:\.\d+)?\s*%?|0\.\d+)|(\d{2}(?:\.\d+)?\s*%)\s*power", re.I)),
    ("alpha", re.compile(r"(?:alpha|α|significance level|type (?:i|1) error)\D{0,25}?(0?\.\d+|\d+(?:\.\d+)?\s*%)",
                         re.I)),
    ("effect size", re.compile(r"effect size\D{0,25}?(\d*\.\d+|\d+)", re.I)),
    ("dropout", re.compile(r"(?:drop-?\s?outs?|attrition|loss to follow-up)\D{0,40}?(\d+(?:\.\d+)?\s*%)"
                           r"|(\d+(?:\.\d+)?\s*%)\s*(?:\w+\s+){0,4}?(?:drop|attrition|loss)", re.I)),
)
_PMID_RANK = {"RESULT": 0, "DERIVED": 1, None: 2, "PROTOCOL": 3, "OTHER": 4}


def numbers(text: str) -> set[int]:
    """The integers written as number tokens (1,200 reads as 1200; decimals and parts of words are not)."""
    return {int(m.group().replace(",", "")) for m in _NUM.finditer(text or "") if "." not in m.group()}


def sentences(text: str) -> list[str]:
    return [s.strip() for line in (text or "").replace("\r\n", "\n").split("\n")
            for s in re.split(r"(?<=[.!?;])\s+", line) if s.strip()]


def without_number(text: str, n: int) -> str:
    """The text, line by line, less every sentence that writes ``n`` as a number token."""
    out = []
    for line in text.split("\n"):
        kept = [s for s in re.split(r"(?<=[.!?;])\s+", line) if n not in numbers(s)]
        if any(k.strip() for k in kept) or not line.strip():
            out.append(" ".join(kept))
    return "\n".join(out)


def assumptions(text: str, n: int) -> list[str]:
    found = []
    for s in sentences(text):
        if _ASSUME.search(s) and re.search(r"\d", s) and n not in numbers(s) and s not in found:
            found.append(clip(s, 400))
    return found[:MAX_ASSUMPTIONS]


def parameters(found: list[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    for name, pattern in _PARAMS:
        for s in found:
            m = pattern.search(s)
            if m:
                params[name] = re.sub(r"\s+", "", next(g for g in m.groups() if g))
                break
    return params


def bucket(n: int) -> str:
    return next((label for top, label in BUCKETS if n < top), "1000+")


def _pmids(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    best: dict[str, tuple] = {}
    for sid, pmid, ref in con.execute(
            "SELECT head_id, tail_id, reference_type FROM relations WHERE head_type = 'trial' AND tail_type = "
            "'pubmed' AND relation_type IN ('trial_reference', 'trial_publication') "
            "AND coalesce(reference_type, '') <> 'BACKGROUND'").fetchall():
        key = (_PMID_RANK.get(ref, 5), int(pmid) if str(pmid).isdigit() else 1 << 40, str(pmid))
        if sid not in best or key < best[sid]:
            best[sid] = key
    return {sid: k[2] for sid, k in best.items()}


def _question(t, arms, endpoints, found) -> str:
    r = t.row
    lines = [INSTRUCTION, "", f"Title: {clip(r['title'] or r['official_title'], 500)}"]
    if t.conditions:
        lines.append(f"Conditions: {clip('; '.join(t.conditions), 400)}")
    lines.append(f"Phase: {human(r['phase']) or 'Not given'}")
    for label, col in (("Study type", "trial_type"), ("Allocation", "allocation"),
                       ("Intervention model", "intervention_model"), ("Masking", "masking"),
                       ("Primary purpose", "primary_purpose")):
        if r.get(col):
            lines.append(f"{label}: {human(r[col])}")
    if arms:
        lines += ["Arms:", render_arms(arms)]
    if endpoints:
        lines += ["Primary endpoints:", render_endpoints(endpoints)]
    ages = " to ".join(a for a in (r.get("minimum_age"), r.get("maximum_age")) if a)
    elig = "; ".join(x for x in (f"sex: {human(r['sex'])}" if r.get("sex") else "", f"ages: {ages}" if ages else "",
                                 "healthy volunteers: " + ("yes" if r["healthy_volunteers"] else "no")
                                 if r.get("healthy_volunteers") is not None else "") if x)
    if elig:
        lines.append(f"Eligibility: {elig}")
    if r.get("eligibility_criteria"):
        lines += ["Key criteria:", clip(r["eligibility_criteria"], 800)]
    if found:
        lines += ["Stated assumptions:"] + [f"- {s}" for s in found]
    return "\n".join(lines)


def _explanation(t, arms, found: list[str], n: int) -> str:
    if not found:
        return ""
    params = parameters(found)
    r = t.row
    design = ", ".join(x for x in (human(r.get("allocation")), human(r.get("intervention_model")),
                                   f"{len(arms)} arm(s)" if arms else "",
                                   human(r.get("phase")) if r.get("phase") not in (None, "NA") else "") if x)
    stated = ("The registration states " + ", ".join(f"{k} {v}" for k, v in params.items()) + "." if params
              else "The registration gives a sample-size justification without all its parameters.")
    return f"{stated} Design: {design or 'not detailed'}. The trial enrolled {n} participants."


def build(con: duckdb.DuckDBPyConnection, cfg: BuildConfig = BuildConfig()) -> list[Sample]:
    trials = load_trials(con, "o.outcome_type = 'complete' AND s.accrual_type = 'ACTUAL' AND s.actual_accrual > 0")
    arms, endpoints, pmids = arm_rows(con), primary_endpoints(con), _pmids(con)
    samples = []
    for t in trials:
        n = int(t.row["actual_accrual"])
        text = "\n".join(registered_text(t.row.get(c)) for c in ("abstract", "detailed_description"))
        found = assumptions(text, n)
        a = arms.get(t.study_id, [])
        question = without_number(_question(t, a, endpoints.get(t.study_id, []), found), n)
        if n in numbers(question):
            raise ValueError(f"{t.study_id}: the enrollment number is still in the question")
        sid = stable_id(TASK, t.study_id)
        record = {"id": sid, "question": question, "answer": n, "explanation": _explanation(t, a, found, n),
                  "answer_type": "integer", "trial_id": t.study_id, "pmid": pmids.get(t.study_id, "")}
        samples.append(Sample(TASK, sid, assign_split(t.cluster_id, cfg, key_date=t.row["start_date"]), t.cluster_id,
                              record, {"source_ids": [t.study_id], "cluster_id": t.cluster_id,
                                       "study_source": t.source}, bucket(n)))
    return samples


def messages(record: dict) -> list[dict]:
    target = {"step_by_step_thinking": record.get("explanation") or "", "sample_size_needed": record["answer"]}
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": record["question"]},
            {"role": "assistant", "content": "```json\n" + json.dumps(target, ensure_ascii=False) + "\n```"}]


def answer_text(record: dict) -> str:
    """The answer as a marked number token, compared with :func:`input_text` (numbers marked the same
    way), so 20 is found in "n = 20" but not in "2020" or "20.5"."""
    return f"<{record['answer']}>"


def input_text(record: dict) -> str:
    return _NUM.sub(lambda m: f"<{m.group().replace(',', '')}>", record["question"])
