"""Eligibility criteria design (B5): pick the trial's criteria among criteria of similar trials.

The question describes one trial (with its intervention names) without its eligibility criteria;
the options are its registered criteria text and ``n_options - 1`` hard distractors from other
trials (see :mod:`.design_common`).
"""
from __future__ import annotations

import duckdb

from .base import BuildConfig, mc_answer_text, mc_question_text, Sample
from .design_common import MAX_OPTION_CHARS, build_multiple_choice, clip, intervention_names, mc_messages

TASK = "eligibility_criteria_design"
VERSION = "1"
INSTRUCTION = "Please select the eligibility criteria that belong to the clinical trial described below."


def element_texts(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    rows = con.execute("SELECT study_id, eligibility_criteria FROM studies "
                       "WHERE nullif(trim(eligibility_criteria), '') IS NOT NULL").fetchall()
    return {sid: clip(text, MAX_OPTION_CHARS) for sid, text in rows}


def build(con: duckdb.DuckDBPyConnection, cfg: BuildConfig = BuildConfig()) -> list[Sample]:
    samples, _ = build_multiple_choice(con, cfg, TASK, INSTRUCTION, element_texts(con), intervention_names(con))
    return samples


def messages(record: dict) -> list[dict]:
    return mc_messages(record, "eligibility criteria")


# the leakage check compares the answer option with the question (shared by the multiple-choice tasks)
answer_text = mc_answer_text
input_text = mc_question_text
