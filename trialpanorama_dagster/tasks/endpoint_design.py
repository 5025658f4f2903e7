"""Endpoint design (B6): pick the trial's primary outcome measures among those of similar trials.

The question describes one trial (with its intervention names) without its outcome measures; the
options are its registered primary outcome measures (with time frames) and ``n_options - 1`` hard
distractors from other trials (see :mod:`.design_common`).
"""
from __future__ import annotations

import duckdb

from .base import BuildConfig, mc_answer_text, mc_question_text, Sample
from .design_common import build_multiple_choice, intervention_names, mc_messages, primary_endpoints, render_endpoints

TASK = "endpoint_design"
VERSION = "1"
INSTRUCTION = "Please select the outcome measures that belong to the clinical trial described below."


def element_texts(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return {sid: render_endpoints(items) for sid, items in primary_endpoints(con).items()}


def build(con: duckdb.DuckDBPyConnection, cfg: BuildConfig = BuildConfig()) -> list[Sample]:
    samples, _ = build_multiple_choice(con, cfg, TASK, INSTRUCTION, element_texts(con), intervention_names(con))
    return samples


def messages(record: dict) -> list[dict]:
    return mc_messages(record, "primary outcome measures")


# the leakage check compares the answer option with the question (shared by the multiple-choice tasks)
answer_text = mc_answer_text
input_text = mc_question_text
