"""The five trial-design builders (arm, criteria, endpoint, sample size, completion) on the embedded warehouse."""
from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from dataclasses import replace
from datetime import date

import pytest

from trialpanorama_dagster.tasks import (arm_design, eligibility_criteria_design, endpoint_design,
                                         sample_size_estimation, trial_completion_assessment)
from trialpanorama_dagster.tasks.base import BuildConfig, cluster_of, stable_id
from trialpanorama_dagster.tasks.design_common import load_trials, norm
from trialpanorama_dagster.tasks.quality import answer_leakage, label_balance, schema_valid, split_leakage
from trialpanorama_dagster.tasks.registry import build_task
from trialpanorama_dagster.tasks.termination import CLASSES, OTHER
from trialpanorama_dagster.warehouse.db import connect

MC = (arm_design, eligibility_criteria_design, endpoint_design)
ALL = MC + (sample_size_estimation, trial_completion_assessment)
CFG = BuildConfig()
FORBIDDEN_LINES = ("status", "overall status", "recruitment status", "enrollment", "actual enrollment",
                   "why stopped", "results")


@pytest.fixture(scope="module")
def built(con):
    return {m.TASK: m.build(con, CFG) for m in ALL}


def strip_fence(text: str) -> dict:
    return json.loads(re.sub(r"^```json\s*|\s*```$", "", text.strip()))


def as_rows(samples):
    return [(s.sample_id, s.split, s.split_key, json.dumps(s.record, sort_keys=True, default=str),
             json.dumps(s.lineage, sort_keys=True), s.label) for s in samples]


@pytest.mark.parametrize("module", MC, ids=lambda m: m.TASK)
def test_multiple_choice_reference_shape_and_balanced_letters(module, built):
    samples = built[module.TASK]
    assert len(samples) > 300
    for s in samples:
        rec = s.record
        assert set(rec) == {"id", "question", "options", "answer"} and rec["id"] == s.sample_id
        assert list(rec["options"]) == list("ABCD")[:CFG.n_options] and rec["answer"] in rec["options"]
        assert s.label == rec["answer"]
        assert len({norm(v) for v in rec["options"].values()}) == CFG.n_options
    for part in (samples, [s for s in samples if s.split == "test"], [s for s in samples if s.split == "train"]):
        letters = Counter(s.label for s in part)
        assert set(letters) == set("ABCD") and max(letters.values()) - min(letters.values()) <= 1


@pytest.mark.parametrize("module", MC, ids=lambda m: m.TASK)
def test_multiple_choice_question_hides_the_element_status_enrollment_and_results(module, built, con):
    why = {sid: w for sid, w in con.execute("SELECT study_id, why_stopped FROM studies WHERE why_stopped IS NOT NULL")
           .fetchall()}
    texts = module.element_texts(con)
    for s in built[module.TASK]:
        question, sid = s.record["question"], s.lineage["source_ids"][0]
        assert norm(module.answer_text(s.record)) not in norm(module.input_text(s.record))
        assert module.answer_text(s.record) == texts[sid]
        heads = {line.split(":", 1)[0].strip().lower() for line in question.splitlines() if ":" in line}
        assert not heads & set(FORBIDDEN_LINES)
        assert sid not in why or norm(why[sid]) not in norm(question)
        if module is arm_design:
            assert "\nInterventions:" not in question
        if module is endpoint_design:
            assert "time frame" not in question.lower()


@pytest.mark.parametrize("module", MC, ids=lambda m: m.TASK)
def test_distractors_come_from_other_clusters_and_differ_from_the_answer(module, built, con):
    clusters, texts = cluster_of(con), module.element_texts(con)
    for s in built[module.TASK]:
        sid, rec = s.lineage["source_ids"][0], s.record
        dids = s.lineage["distractor_ids"]
        assert len(dids) == CFG.n_options - 1 and sid not in dids
        assert all(clusters[d] != clusters[sid] for d in dids)
        wrong = [v for k, v in rec["options"].items() if k != rec["answer"]]
        assert sorted(wrong) == sorted(texts[d] for d in dids)
        assert norm(rec["options"][rec["answer"]]) not in {norm(w) for w in wrong}


def test_distractors_share_the_condition_branch_when_the_pool_has_one(built, con):
    """COVID-19 trials (MeSH D086382, many registries) get distractors from the same MeSH branch."""
    trials = {t.study_id: t for t in load_trials(con)}

    def branch(t):
        return {f for f in t.features if f[0] in "mat"}

    covid = [s for s in built["arm_design"] if "m:D086382" in trials[s.lineage["source_ids"][0]].features]
    assert len(covid) >= 20
    for s in covid:
        anchor = trials[s.lineage["source_ids"][0]]
        assert all(branch(anchor) & branch(trials[d]) for d in s.lineage["distractor_ids"])
    same_descriptor = sum("m:D086382" in trials[d].features for s in covid for d in s.lineage["distractor_ids"])
    assert same_descriptor >= 0.8 * 3 * len(covid)


@pytest.mark.parametrize("module", MC, ids=lambda m: m.TASK)
def test_multiple_choice_messages(module, built):
    for s in built[module.TASK][:50]:
        msgs = module.messages(s.record)
        assert [m["role"] for m in msgs] == ["system", "user", "assistant"]
        assert s.record["question"] in msgs[1]["content"]
        assert all(f"{k}. {v}" in msgs[1]["content"] for k, v in s.record["options"].items())
        target = strip_fence(msgs[2]["content"])
        assert target["answer_choice"] == s.record["answer"] and target["step_by_step_thinking"]


def test_sample_size_records_and_no_enrollment_in_the_question(built, con):
    samples = built["sample_size_estimation"]
    truth = dict(con.execute("SELECT s.study_id, s.actual_accrual FROM studies s JOIN outcomes o USING (study_id) "
                             "WHERE o.outcome_type = 'complete' AND s.accrual_type = 'ACTUAL' "
                             "AND s.actual_accrual > 0").fetchall())
    assert len(samples) == len(truth) > 100
    for s in samples:
        rec = s.record
        assert set(rec) == {"id", "question", "answer", "explanation", "answer_type", "trial_id", "pmid"}
        assert rec["answer"] == truth[rec["trial_id"]] and rec["answer_type"] == "integer"
        assert rec["answer"] not in sample_size_estimation.numbers(rec["question"])
        assert not re.search(rf"(?<![\w.,]){rec['answer']}(?![\w]|[.,]\d)", rec["question"])
        assert sample_size_estimation.answer_text(rec) not in sample_size_estimation.input_text(rec)
        assert rec["pmid"] == "" or rec["pmid"].isdigit()
        assert s.label == sample_size_estimation.bucket(rec["answer"])
        target = strip_fence(sample_size_estimation.messages(rec)[2]["content"])
        assert target == {"step_by_step_thinking": rec["explanation"], "sample_size_needed": rec["answer"]}
    assert sum(bool(s.record["explanation"]) for s in samples) >= 8
    assert sum(bool(s.record["pmid"]) for s in samples) >= 10


def test_sample_size_keeps_stated_assumptions_and_drops_sentences_with_the_enrolled_number(built):
    by_trial = {s.record["trial_id"]: s.record for s in built["sample_size_estimation"]}
    # NCT05999253 states its power calculation; it is kept as an assumption
    q = by_trial["NCT05999253"]["question"]
    assert "Stated assumptions:" in q and "power as 0.80" in q
    assert "power 0.80" in by_trial["NCT05999253"]["explanation"]
    # NCT04044092 enrolled 20 and says "The sample size was 20." -> dropped
    assert by_trial["NCT04044092"]["answer"] == 20 and "The sample size was" not in by_trial["NCT04044092"]["question"]
    # NCT05106231 enrolled 94: "a minimum sample size of 94 (47 for each group)" goes, the power sentence stays
    q = by_trial["NCT05106231"]["question"]
    assert "minimum sample size" not in q and "36 experimental and 36 control subjects" in q


def test_trial_completion_reference_shape(built, con):
    samples = built["trial_completion_assessment"]
    outcome = dict(con.execute("SELECT study_id, outcome_type FROM outcomes").fetchall())
    why = dict(con.execute("SELECT study_id, why_stopped FROM studies WHERE why_stopped IS NOT NULL").fetchall())
    status = dict(con.execute("SELECT study_id, overall_status FROM outcomes").fetchall())
    assert len(samples) == sum(v in ("complete", "terminate") for v in outcome.values())
    forbidden_keys = {"overall_status", "recruitment_status", "why_stopped", "why_terminated", "actual_accrual",
                      "enrollment", "results", "outcome_type"}
    for s in samples:
        rec, sid = s.record, s.record["metadata"]["study_nctid"]
        assert set(rec) == {"id", "metadata", "inputs", "context", "labels"}
        assert list(rec["inputs"]) == ["title", "allocation", "intervention_model", "observational_model",
                                       "primary_purpose", "time_perspective", "masking", "phase", "number_of_arms"]
        elig, arms = rec["context"]
        assert elig["type"] == "eligibility_criteria" and "\n" not in elig["criteria"]
        assert set(elig) == {"type", "criteria", "gender", "minimum_age", "maximum_age", "healthy_volunteers"}
        assert arms["type"] == "arm_design" and all(set(a) == {"title", "group_type", "description"}
                                                    for a in arms["arms"])
        labels = rec["labels"]
        assert labels["outcome"] == outcome[sid] == s.label
        if labels["outcome"] == "terminate":
            assert labels["terminate_type"] in (*CLASSES, OTHER) and labels["terminate_reason_desc"] == why.get(sid)
        else:
            assert labels["terminate_type"] is None and labels["terminate_reason_desc"] is None
        shown = json.dumps([rec["inputs"], rec["context"]]) + trial_completion_assessment.input_text(rec)
        assert not forbidden_keys & set(re.findall(r'"(\w+)":', shown))
        assert status[sid] not in shown
        assert sid not in why or why[sid] not in shown
        target = json.loads(trial_completion_assessment.messages(rec)[2]["content"])
        assert target == {"outcome": labels["outcome"], "termination_type": labels["terminate_type"]}
    by = Counter((s.label, s.record["labels"]["terminate_type"]) for s in samples)
    assert by[("terminate", "enrollment issues")] == 2 and by[("terminate", "feasibility")] == 2


def test_splits_follow_clusters_ids_are_stable_and_lineage_is_complete(built, con):
    clusters = cluster_of(con)
    sources = dict(con.execute("SELECT study_id, study_source FROM studies").fetchall())
    side: dict[str, set] = {}
    for task, samples in built.items():
        splits = Counter(s.split for s in samples)
        assert splits["train"] > 0 and splits["test"] > 0
        assert len({s.sample_id for s in samples}) == len(samples)
        for s in samples:
            sid = s.lineage["source_ids"][0]
            assert s.sample_id == stable_id(task, sid) and s.split_key == clusters[sid] == s.lineage["cluster_id"]
            assert s.lineage["study_source"] == sources[sid]
            side.setdefault(s.split_key, set()).add(s.split)
    assert all(len(v) == 1 for v in side.values())


def test_date_cutoff_puts_earlier_trials_in_train(con):
    cfg = replace(CFG, date_cutoff=date(2020, 1, 1))
    start = dict(con.execute("SELECT study_id, start_date FROM studies").fetchall())
    for s in endpoint_design.build(con, cfg):
        d = start[s.lineage["source_ids"][0]]
        assert s.split == ("train" if d is None or d < cfg.date_cutoff else "test")


def test_builds_are_deterministic(built, db):
    again = connect(db)
    try:
        for m in ALL:
            assert as_rows(m.build(again, CFG)) == as_rows(built[m.TASK])
        other_seed = arm_design.build(again, replace(CFG, seed=7))
    finally:
        again.close()
    assert [s.record["answer"] for s in other_seed] != [s.record["answer"] for s in built["arm_design"]]


def test_only_the_primary_record_of_a_cluster_is_used(db, tmp_path):
    """A trial registered twice: its secondary record is neither a sample nor a distractor of its twin."""
    copy = tmp_path / "twice.duckdb"
    shutil.copy(db, copy)
    c = connect(copy)
    try:
        first = {s.lineage["source_ids"][0]: s for s in arm_design.build(c, CFG)}
        primary = "NCT04341389"                              # a COVID-19 trial; its hardest distractor
        secondary = first[primary].lineage["distractor_ids"][0]   # becomes its second registration
        assert secondary in first
        cid = c.execute("SELECT cluster_id FROM trial_clusters WHERE study_id = ?", [primary]).fetchone()[0]
        c.execute("UPDATE trial_clusters SET cluster_id = ?, is_primary = (study_id = ?), cluster_size = 2 "
                  "WHERE study_id IN (?, ?)", [cid, primary, primary, secondary])
        for m in ALL:
            samples = m.build(c, CFG)
            ids = [s.lineage["source_ids"][0] for s in samples]
            assert secondary not in ids
            for s in samples:
                assert secondary not in s.lineage.get("distractor_ids", [])
    finally:
        c.close()


def test_stored_sets_pass_the_quality_checks(con):
    for m in ALL:
        report = build_task(con, m.TASK, CFG)
        assert report["train"] > 0 and report["test"] > 0
        for check in (schema_valid, answer_leakage, label_balance, split_leakage):
            outcome = check(con, m.TASK)
            assert outcome.passed, (m.TASK, check.__name__, outcome)
