"""Task scorers: each task's own SFT target scores perfectly on real samples; hand-computed cases for
parsing variants, unparsed outputs and every metric; study search against the real local index."""
import json
import re

import pytest

from tests.support.warehouse import build_embedded_warehouse
from trialpanorama_dagster.bench.scoring import Parsed, Scores, score, scorer
from trialpanorama_dagster.bench.search_env import LocalSearchEnv, QueryError, SearchEnv
from trialpanorama_dagster.search.index import default_index_path, ensure_index
from trialpanorama_dagster.tasks.base import TASKS
from trialpanorama_dagster.tasks.registry import build_all, builder
from trialpanorama_dagster.tasks.termination import CLASSES
from trialpanorama_dagster.warehouse.db import connect

CHOICE = ("evidence_summary", "arm_design", "eligibility_criteria_design", "endpoint_design")


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    db = build_embedded_warehouse(tmp_path_factory.mktemp("scoring") / "w.duckdb")
    con = connect(db)
    build_all(con)
    ensure_index(con, default_index_path(db))
    records = {t: [json.loads(r) for (r,) in con.execute(
        "SELECT record FROM task_samples WHERE task = ? ORDER BY sample_id", [t]).fetchall()] for t in TASKS}
    titles = dict(con.execute("SELECT pmid, title FROM literature WHERE pmid IS NOT NULL").fetchall())
    con.close()
    return {"db": db, "records": records, "titles": titles}


@pytest.fixture(scope="module")
def env(warehouse):
    return LocalSearchEnv.open(warehouse["db"])


def target(task, record):
    return builder(task).messages(record)[-1]["content"]


# --- every task's SFT target ----------------------------------------------------------------------

@pytest.mark.parametrize("task", [t for t in TASKS if t != "study_search"])
def test_sft_targets_score_perfectly(warehouse, task):
    records = warehouse["records"][task]
    assert len(records) >= 10
    result = score(task, records, [target(task, r) for r in records])
    assert isinstance(result, Scores) and result.task == task
    m = result.metrics
    assert m["n"] == len(records) and m["unparsed"] == 0
    figures = {k: v for k, v in m.items() if k not in ("n", "unparsed", "n_candidates", "mae")}
    assert figures and all(v == 1.0 for v in figures.values()), m
    assert all(r["parsed"] for r in result.rows)
    json.dumps(result.rows)
    json.dumps(result.groups)
    if task == "sample_size_estimation":
        assert m["mae"] == 0.0
    if task == "study_screening":
        assert m["n_candidates"] == sum(len(r["labels"]) for r in records)
        assert {g for r in result.rows for g in r["gold"]} == {True, False}
        assert set(result.groups) == {r["metadata"]["review_id"] for r in records}
    if task == "trial_completion_assessment":
        assert {r["gold_outcome"] for r in result.rows} == {"complete", "terminate"}
        assert any(r["gold_reason"] in CLASSES for r in result.rows)


def test_sft_target_wrong_answers_score_zero(warehouse):
    records = warehouse["records"]["arm_design"]
    wrong = [target("arm_design", r).replace(f'"answer_choice": "{r["answer"]}"',
                                             f'"answer_choice": "{"B" if r["answer"] == "A" else "A"}"')
             for r in records]
    m = score("arm_design", records, wrong).metrics
    assert m["accuracy"] == 0.0 and m["macro_f1"] == 0.0 and m["unparsed"] == 0


def test_search_sft_target_parses_to_the_query(warehouse):
    s = scorer("study_search")
    for r in warehouse["records"]["study_search"]:
        parsed = s.parse(target("study_search", r))
        assert parsed == Parsed(r["metadata"]["query"], True)


# --- study search ---------------------------------------------------------------------------------

class FixedEnv:
    def __init__(self, ranked):
        self.ranked, self.calls = ranked, []

    def search(self, query, k):
        self.calls.append((query, k))
        if query == "BAD":
            raise QueryError("cannot read", 0)
        return self.ranked[:k]


def test_search_recall_precision_hand_computed():
    ranked = [str(i) for i in range(1, 601)]
    record = {"id": "s1", "labels": ["50", "150", "450", "9999"]}
    env = FixedEnv(ranked)
    assert isinstance(env, SearchEnv)
    row = scorer("study_search").score_sample(record, '{"query": "asthma AND child*"}', env)
    assert env.calls == [("asthma AND child*", 1000)]
    assert [row[f"recall@{k}"] for k in (100, 200, 300, 400, 500)] == [0.25, 0.5, 0.5, 0.5, 0.75]
    assert [row[f"precision@{k}"] for k in (100, 200, 300, 400, 500)] == [1 / 100, 2 / 200, 2 / 300, 2 / 400, 3 / 500]
    assert row["found"] == 3 and row["n_relevant"] == 4 and row["query_error"] is None


def test_search_failures_count_zero():
    env = FixedEnv([str(i) for i in range(100)])
    rec = {"id": "x", "labels": ["1", "2"]}
    outputs = ['{"query": "BAD"}', "I cannot write a query.", "<answer>q</answer>"]
    result = score("study_search", [rec, rec, rec], outputs, env)
    m = result.metrics
    assert (m["n"], m["unparsed"], m["query_errors"]) == (3, 1, 1)
    assert m["recall@100"] == pytest.approx(1 / 3)          # only the third sample finds both
    assert result.rows[0]["recall@100"] == 0.0 and result.rows[1]["recall@100"] == 0.0
    assert result.groups == {}


def test_search_needs_env():
    with pytest.raises(ValueError, match="search environment"):
        scorer("study_search").score_sample({"id": "x", "labels": ["1"]}, '{"query": "a"}')


@pytest.mark.parametrize("output,query", [
    ('{"query": "(asthma OR wheez*) AND child*"}', "(asthma OR wheez*) AND child*"),
    ("<think>plan</think><answer>(asthma OR wheez*) AND child*</answer>", "(asthma OR wheez*) AND child*"),
    ("(asthma OR wheez*) AND child*</answer>", "(asthma OR wheez*) AND child*"),
    ('{"search_query": "a OR b"}', "a OR b"),
    ('<answer>{"query": "a AND b"}</answer>', "a AND b"),
    ("Here is a query.\n\nQuery: (asthma OR wheez*) AND child*", "(asthma OR wheez*) AND child*"),
    ("Search strategy:\n```\nasthma[tiab] AND child*[tiab]\n```\nGood luck.", "asthma[tiab] AND child*[tiab]"),
    ('{"query": ["exp Asthma/", "asthma.ti,ab.", "1 or 2"]}', "exp Asthma/\nasthma.ti,ab.\n1 or 2"),
])
def test_search_query_parsing(output, query):
    assert scorer("study_search").parse(output) == Parsed(query, True)


@pytest.mark.parametrize("output", ["", "I cannot help with that.", '{"query": ""}', "<answer> </answer>"])
def test_search_query_unparsed(output):
    assert not scorer("study_search").parse(output).ok


def test_search_real_index_finds_labels(warehouse, env):
    """A query made of a labelled article's title words finds it; recall@k is the hand computation."""
    titles, s = warehouse["titles"], scorer("study_search")
    checked = 0
    for r in warehouse["records"]["study_search"]:
        pmid = next((p for p in r["labels"] if titles.get(p)), None)
        words = [w for w in re.findall(r"[A-Za-z]{5,}", titles.get(pmid) or "")][:4]
        if len(words) < 3:
            continue
        query = " AND ".join(f"{w}[ti]" for w in words)
        row = s.score_sample(r, json.dumps({"query": query}), env)
        ranked = env.index.search(query, k=1000, kind="article")
        assert pmid in ranked
        labels = set(r["labels"])
        for k in (100, 200, 300, 400, 500):
            assert row[f"recall@{k}"] == len(set(ranked[:k]) & labels) / len(labels)
            assert row[f"precision@{k}"] == len(set(ranked[:k]) & labels) / k
        assert row["recall@100"] >= 1 / len(labels)
        checked += 1
    assert checked >= 10


def test_search_real_review_queries(warehouse, env):
    records = warehouse["records"]["study_search"]
    result = score("study_search", records, [target("study_search", r) for r in records], env)
    m = result.metrics
    assert m["n"] == len(records) and m["unparsed"] == 0
    assert any(r["found"] > 0 for r in result.rows)
    assert m["recall@100"] == pytest.approx(sum(r["recall@100"] for r in result.rows) / len(records))
    assert 0 < m["recall@100"] <= m["recall@500"] <= 1
    bad = score("study_search", records[:2], ['{"query": "AND ("}', "asthma OR"], env).metrics
    assert bad["query_errors"] == 2 and bad["recall@500"] == 0.0


def test_local_env_open_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match="search index"):
        LocalSearchEnv.open(tmp_path / "none.duckdb")


# --- study screening ------------------------------------------------------------------------------

def screening_record(rid, review, labels):
    return {"id": rid, "context": [{"PMID": p, "title": "t", "abstract": ""} for p, _ in labels],
            "labels": [{"PMID": p, "label": lab} for p, lab in labels],
            "metadata": {"PMID": "r" + review, "review_id": review}}


def test_screening_parsing_and_pooled_metrics():
    r1 = screening_record("a", "rev1", [("11", "included"), ("12", "excluded"), ("13", "included"), ("14", "excluded")])
    r2 = screening_record("b", "rev1", [("21", "included"), ("22", "excluded")])
    r3 = screening_record("c", "rev2", [("31", "included"), ("32", "excluded")])
    r4 = screening_record("d", "rev3", [("41", "excluded")])
    outputs = [
        # 11 right, 12 wrong (fp), 13 without a decision -> excluded (fn), 14 right; 99 is not a candidate
        '```json\n{"results": [{"PMID": "11", "decision": "included", "confidence": 90}, '
        '{"PMID": 12, "decision": "INCLUDE"}, {"PMID": "14", "decision": "excluded"}, '
        '{"PMID": "99", "decision": "included"}]}\n```',
        "{'1': 'INCLUDED', '2': 'EXCLUDED'}",            # order keys: 21 right, 22 right
        "I think the first is relevant.",               # unparsed: both excluded -> 31 fn, 32 tn
        '{"results": [{"PMID": "41", "decision": "excluded"}]}',
    ]
    result = score("study_screening", [r1, r2, r3, r4], outputs)
    m = result.metrics
    # pooled: tp = 11, 21 (2); fp = 12 (1); fn = 13, 31 (2); tn = 14, 22, 32, 41 (4)
    assert m["accuracy"] == 6 / 9
    assert m["precision"] == 2 / 3 and m["recall"] == 2 / 4 and m["specificity"] == 4 / 5
    assert m["f1"] == pytest.approx(4 / 7)
    assert (m["n"], m["n_candidates"], m["unparsed"]) == (4, 9, 1)
    # per review: rev1 4/6 right, rev2 1/2, rev3 1/1
    assert result.groups["rev1"] == {"samples": 2, "candidates": 6, "correct": 4, "accuracy": 4 / 6,
                                     "all_correct": False}
    assert result.groups["rev3"]["all_correct"] is True
    assert m["review_accuracy"] == pytest.approx((4 / 6 + 1 / 2 + 1) / 3)
    assert m["review_all_correct"] == pytest.approx(1 / 3)
    assert result.rows[0]["pred"] == [True, True, False, False] and result.rows[0]["decided"] == 3
    assert result.rows[2]["parsed"] is False and result.rows[2]["pred"] == [False, False]


@pytest.mark.parametrize("output", [
    '[{"PMID": "11", "decision": "included"}, {"PMID": "12", "decision": "excluded"}]',
    '{"11": "included", "12": "excluded"}',
    "{'1': 'INCLUDED', '2': 'EXCLUDED'}",
    '<think>{"PMID": "12", "decision": "included"}</think>{"results": [{"PMID": "PMID: 11", "decision": "Include"}]}',
    '{"results": [{"PMID": "11", "decision": "included"}, {"PMID": "12", "decision": "excluded"}], oops}',
])
def test_screening_output_forms(output):
    record = screening_record("a", "rev", [("11", "included"), ("12", "excluded")])
    row = scorer("study_screening").score_sample(record, output)
    assert row["parsed"] and row["pred"] == [True, False] and row["correct"] == 2


def test_screening_all_unparsed_and_empty():
    record = screening_record("a", "rev", [("11", "included"), ("12", "included")])
    m = score("study_screening", [record], ["garbage"]).metrics
    assert m["accuracy"] == 0.0 and m["precision"] == 0.0 and m["recall"] == 0.0 and m["specificity"] == 0.0
    assert m["unparsed"] == 1
    empty = score("study_screening", [], []).metrics
    assert empty["accuracy"] is None and empty["review_accuracy"] is None and empty["n"] == 0


# --- multiple choice ------------------------------------------------------------------------------

def test_choice_metrics_hand_computed():
    options = {"A": "a", "B": "b", "C": "c", "D": "d"}
    records = [{"id": str(i), "options": options, "answer": a} for i, a in enumerate("AABC")]
    outputs = ['```json\n{"answer_choice": "a"}\n```', "The answer is B.", "(B)", "Answer: E"]
    result = score("endpoint_design", records, outputs)
    m = result.metrics
    assert m["accuracy"] == 0.5 and m["unparsed"] == 1 and m["n"] == 4
    # A: tp1 fn1 -> 2/3; B: tp1 fp1 -> 2/3; C: unparsed -> 0
    assert m["macro_f1"] == pytest.approx((2 / 3 + 2 / 3 + 0) / 3)
    assert result.rows[3]["error"].startswith("option E is not one of")
    assert score("evidence_summary", [], []).metrics == {"accuracy": None, "macro_f1": None, "n": 0, "unparsed": 0}


# --- sample size ----------------------------------------------------------------------------------

@pytest.mark.parametrize("output,value", [
    ('```json\n{"step_by_step_thinking": "80% power", "sample_size_needed": 240}\n```', 240),
    ('{"sample_size_needed": "1,200"}', 1200),
    ('Thinking... {"step_by_step_thinking": "x", "sample_size_needed": 240.0} extra', 240),
    ("<think>maybe 100</think>\n<answer>N = 1 200 participants</answer>", 1200),
    ("With 80% power we need 150 per arm, 300 in total (90% CI).", 300),
    ("<answer>about 96</answer> (power 80%)", 96),
])
def test_sample_size_parsing(output, value):
    parsed = scorer("sample_size_estimation").parse(output)
    assert parsed.ok and parsed.value == value and type(parsed.value) is int


def test_sample_size_metrics_hand_computed():
    records = [{"id": str(i), "answer": y} for i, y in enumerate([100, 100, 200, 50])]
    outputs = ['{"sample_size_needed": 120}', "<answer>79</answer>", "no idea", '{"sample_size_needed": 0}']
    m = score("sample_size_estimation", records, outputs).metrics
    assert m["accuracy"] == 0.25                       # only 120 vs 100; 0 is always wrong
    assert m["mae"] == (20 + 21 + 50) / 3              # over parsed predictions
    assert m["unparsed"] == 1 and m["n"] == 4
    assert score("sample_size_estimation", records[:1], ["none"]).metrics["mae"] is None


# --- trial completion -----------------------------------------------------------------------------

@pytest.mark.parametrize("output,outcome,reason", [
    ('{"outcome": "complete", "termination_type": null}', "complete", None),
    ('{"outcome": "Terminated", "termination_reason": "insufficient_enrollment"}', "terminate", "enrollment issues"),
    ('{"outcome": "terminate", "termination_reason": "Regulatory / Approval"}', "terminate", "regulatory/approval"),
    ('{"outcome": "stopped early", "termination_reason": "lack_of_efficacy"}', "terminate", "lack of efficacy"),
    ('{"outcome": "termination", "termination_reason": "safety_issues"}', "terminate", "safety issues"),
    ('{"outcome": "terminate", "termination_type": "regulatory"}', "terminate", "regulatory/approval"),
    ('{"outcome": "terminate", "termination_reason": "Feasibility"}', "terminate", "feasibility"),
    ('{"outcome": "terminate", "termination_reason": "poor recruitment"}', "terminate", "enrollment issues"),
    ('{"outcome": "terminate", "termination_type": "other"}', "terminate", "other"),
    ('```json\n{"outcome": "Completed", "confidence": 80}\n```', "complete", None),
    ("<think>could stop</think>Outcome: terminate\nReason: slow accrual", "terminate", "enrollment issues"),
    ("The trial will likely complete.", "complete", None),
])
def test_completion_parsing(output, outcome, reason):
    parsed = scorer("trial_completion_assessment").parse(output)
    assert parsed.ok and parsed.value == {"outcome": outcome, "reason": reason}


@pytest.mark.parametrize("output", ["", "garbage", '{"confidence": 50}', "It may complete or terminate."])
def test_completion_unparsed(output):
    assert not scorer("trial_completion_assessment").parse(output).ok


def completion_record(i, outcome, reason=None):
    return {"id": str(i), "labels": {"outcome": outcome, "terminate_type": reason, "terminate_reason_desc": None}}


def test_completion_metrics_hand_computed():
    records = [completion_record(0, "complete"), completion_record(1, "complete"), completion_record(2, "complete"),
               completion_record(3, "terminate", "enrollment issues"),
               completion_record(4, "terminate", "enrollment issues"),
               completion_record(5, "terminate", "safety issues"), completion_record(6, "terminate", "other")]
    outputs = ['{"outcome": "complete"}', '{"outcome": "terminate", "termination_reason": "feasibility"}', "??",
               '{"outcome": "terminate", "termination_reason": "enrollment issues"}',
               '{"outcome": "complete"}',
               '{"outcome": "terminate", "termination_reason": "lack of efficacy"}',
               '{"outcome": "terminate", "termination_reason": "other"}']
    m = score("trial_completion_assessment", records, outputs).metrics
    # positive = complete. tp = 0; fn = 1 (pred terminate), 2 (unparsed); fp = 4; tn = 3, 5, 6
    assert m["accuracy"] == 4 / 7
    assert m["precision"] == 0.5 and m["recall"] == 1 / 3 and m["f1"] == pytest.approx(0.4)
    assert m["balanced_accuracy"] == pytest.approx((1 / 3 + 3 / 4) / 2)
    # BAcc-rt over samples 3, 4, 5 (gold in CLASSES): enrollment 1/2, safety 0/1
    assert m["reason_balanced_accuracy"] == pytest.approx((1 / 2 + 0) / 2)
    # reason accuracy over truly and predicted terminated: 3 (right), 5 (wrong), 6 (other = other)
    assert m["reason_accuracy"] == pytest.approx(2 / 3)
    assert (m["n"], m["unparsed"]) == (7, 1)


def test_completion_degenerate():
    only_complete = score("trial_completion_assessment", [completion_record(0, "complete")],
                          ['{"outcome": "complete"}']).metrics
    assert only_complete["accuracy"] == 1.0 and only_complete["balanced_accuracy"] == 1.0
    assert only_complete["reason_balanced_accuracy"] is None and only_complete["reason_accuracy"] is None
    empty = score("trial_completion_assessment", [], []).metrics
    assert empty["n"] == 0 and all(v is None for k, v in empty.items() if k not in ("n", "unparsed"))


# --- registry -------------------------------------------------------------------------------------

def test_scorer_registry():
    for task in TASKS:
        assert scorer(task).task == task
    with pytest.raises(KeyError, match="study_search"):
        scorer("nope")
    with pytest.raises(ValueError):
        score("arm_design", [{"id": "x", "options": {"A": "a"}, "answer": "A"}], [])


@pytest.mark.parametrize("task", TASKS)
def test_parse_never_raises(task):
    s = scorer(task)
    for text in ("", None, "{" * 3000, "<answer>", "</think>", "\x00", '{"query": 5, "results": 7, "outcome": 3}',
                 "{'sample_size_needed': [1], 'answer_choice': {}}"):
        parsed = s.parse(text)
        assert isinstance(parsed, Parsed)
