"""Trial completion assessment and rationalization (B8): will the trial complete, and if not, why.

One sample per primary record whose outcome is ``complete`` or ``terminate``, in the reference's
shape::

    {"id", "metadata": {"study_nctid"},
     "inputs": {"title", "allocation", "intervention_model", "observational_model", "primary_purpose",
                "time_perspective", "masking", "phase", "number_of_arms"},
     "context": [{"type": "eligibility_criteria", "criteria" ("~" for line breaks), "gender",
                  "minimum_age", "maximum_age", "healthy_volunteers"},
                 {"type": "arm_design", "arms": [{"title", "group_type", "description"}]}],
     "labels": {"outcome": "complete" | "terminate", "terminate_type", "terminate_reason_desc"}}

Inputs and context hold the design as registered: never the status, why it stopped, the actual
enrollment or results. ``terminate_type`` is :func:`.termination.classify_termination` of the
reason (``None`` with the reason for completed trials).
"""
from __future__ import annotations

import json
import re

import duckdb

from .base import BuildConfig, Sample, assign_split, stable_id
from .design_common import arm_rows, load_trials
from .termination import CLASSES, classify_termination

TASK = "trial_completion_assessment"
VERSION = "1"
SYSTEM = ("You are a helpful assistant for assessing clinical trials. Given a trial's design as registered, "
          "predict whether it will complete or terminate early, and if it terminates, the most likely reason, "
          "one of: " + ", ".join(f'"{c}"' for c in CLASSES) + '. Output JSON with the fields "outcome" '
          '("complete" or "terminate"), "confidence" (0-100), "termination_reason" (one of the classes, or null) '
          'and "explanation".')
_INPUTS = ("title", "allocation", "intervention_model", "observational_model", "primary_purpose",
           "time_perspective", "masking", "phase", "number_of_arms")


def tilde_lines(text: str | None) -> str:
    return re.sub(r"\s*\n\s*", "~", (text or "").replace("\r\n", "\n").strip())


def _why_stopped(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return {sid: why for sid, why in con.execute(
        "SELECT o.study_id, coalesce(nullif(trim(o.why_terminated), ''), nullif(trim(s.why_stopped), '')) "
        "FROM outcomes o JOIN studies s USING (study_id) WHERE o.outcome_type = 'terminate'").fetchall()}


def build(con: duckdb.DuckDBPyConnection, cfg: BuildConfig = BuildConfig()) -> list[Sample]:
    trials = load_trials(con, "o.outcome_type IN ('complete', 'terminate')")
    outcome = dict(con.execute("SELECT study_id, outcome_type FROM outcomes").fetchall())
    why = _why_stopped(con)
    arms = arm_rows(con)
    samples = []
    for t in trials:
        r = t.row
        sid = stable_id(TASK, t.study_id)
        out = outcome[t.study_id]
        reason = why.get(t.study_id) if out == "terminate" else None
        record = {
            "id": sid,
            "metadata": {"study_nctid": t.study_id},
            "inputs": {k: r.get(k) for k in _INPUTS},
            "context": [
                {"type": "eligibility_criteria", "criteria": tilde_lines(r.get("eligibility_criteria")),
                 "gender": r.get("sex"), "minimum_age": r.get("minimum_age"), "maximum_age": r.get("maximum_age"),
                 "healthy_volunteers": r.get("healthy_volunteers")},
                {"type": "arm_design", "arms": [{"title": a["title"], "group_type": a["group_type"],
                                                 "description": a["description"]} for a in arms.get(t.study_id, [])]},
            ],
            "labels": {"outcome": out,
                       "terminate_type": classify_termination(reason) if out == "terminate" else None,
                       "terminate_reason_desc": reason},
        }
        if not record["inputs"]["title"]:
            record["inputs"]["title"] = r.get("official_title")
        samples.append(Sample(TASK, sid, assign_split(t.cluster_id, cfg, key_date=r["start_date"]), t.cluster_id,
                              record, {"source_ids": [t.study_id], "cluster_id": t.cluster_id,
                                       "study_source": t.source}, out))
    return samples


def render(record: dict) -> str:
    """The user turn: the registered design, then eligibility and arms."""
    lines = ["# Trial design"] + [f"{k}: {v}" for k, v in record["inputs"].items() if v not in (None, "")]
    for ctx in record["context"]:
        if ctx["type"] == "eligibility_criteria":
            lines += ["", "# Eligibility"] + [f"{k}: {ctx[k]}" for k in ("gender", "minimum_age", "maximum_age",
                                                                          "healthy_volunteers") if ctx[k] is not None]
            lines.append(f"criteria: {ctx['criteria']}")
        else:
            lines += ["", "# Arms"] + [f"- {a['title'] or 'Arm'}" + (f" ({a['group_type']})" if a["group_type"] else "")
                                       + (f": {a['description']}" if a["description"] else "") for a in ctx["arms"]]
    return "\n".join(lines)


def messages(record: dict) -> list[dict]:
    labels = record["labels"]
    target = {"outcome": labels["outcome"], "termination_type": labels["terminate_type"]}
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": render(record)},
            {"role": "assistant", "content": json.dumps(target, ensure_ascii=False)}]


def answer_text(record: dict) -> str:
    """The stated reason of a terminated trial (the outcome word alone, e.g. "complete", may appear in
    any design text, as in "complete response"); empty for completed trials."""
    return record["labels"].get("terminate_reason_desc") or ""


def input_text(record: dict) -> str:
    return render(record)

