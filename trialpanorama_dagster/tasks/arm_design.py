"""Arm design (B4): pick the trial's arms and interventions among arms of similar trials.

The question describes one trial without its arms or interventions; the options are its registered
arm groups (label, type, description, intervention names; the interventions where a registry lists
no arm groups) and ``n_options - 1`` hard distractors from other trials (see :mod:`.design_common`).
"""
from __future__ import annotations


import duckdb

from .base import BuildConfig, mc_answer_text, mc_question_text, Sample
from .design_common import arm_rows, build_multiple_choice, mc_messages, render_arms

TASK = "arm_design"
VERSION = "1"
INSTRUCTION = ("Please select the arm or intervention descriptions that belong to the clinical trial "
               "described below.")


def element_texts(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return {sid: render_arms(arms) for sid, arms in arm_rows(con).items()}


def build(con: duckdb.DuckDBPyConnection, cfg: BuildConfig = BuildConfig()) -> list[Sample]:
    samples, _ = build_multiple_choice(con, cfg, TASK, INSTRUCTION, element_texts(con))
    return samples


def messages(record: dict) -> list[dict]:
    return mc_messages(record, "arms and interventions")


# the leakage check compares the answer option with the question (shared by the multiple-choice tasks)
answer_text = mc_answer_text
input_text = mc_question_text
