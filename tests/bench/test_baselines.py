"""The model-free baselines on the embedded warehouse's task sets: output formats, figures, fallbacks."""
import json
import re
import shutil
import statistics

import duckdb
import pytest
from sklearn.metrics import balanced_accuracy_score

from trialpanorama_dagster.bench.baselines import BASELINES, Baseline, baseline_for
from trialpanorama_dagster.bench.baselines.completion import DesignLR
from trialpanorama_dagster.bench.baselines.sample_size import DEFAULT_SIZE, MedianEnrollment, phase_of
from trialpanorama_dagster.bench.baselines.screening import ScreeningLR
from trialpanorama_dagster.bench.baselines.search_query import FALLBACK_QUERY, KeywordQuery
from trialpanorama_dagster.search.index import SearchIndex, default_index_path
from trialpanorama_dagster.search.query import parse
from trialpanorama_dagster.tasks.base import TASKS

try:
    from trialpanorama_dagster.bench.scoring import score
    from trialpanorama_dagster.bench.search_env import LocalSearchEnv
except ImportError:              # the scorer is optional for these tests
    score = None

MC_TASKS = ("evidence_summary", "arm_design", "eligibility_criteria_design", "endpoint_design")
_FENCED = re.compile(r"^```json\n(\{.*\})\n```$", re.S)


@pytest.fixture(scope="module")
def wh(bench_source_db, tmp_path_factory):
    """The embedded warehouse with its task sets and search index (built once per session by the
    bench conftest), read through a read-only connection to a private copy."""
    db = tmp_path_factory.mktemp("baselines") / "w.duckdb"
    shutil.copy(bench_source_db, db)
    con = duckdb.connect(str(db), read_only=True)
    data = {}
    for task in TASKS:
        rows = con.execute("SELECT record, split FROM task_samples WHERE task = ? ORDER BY sample_id",
                           [task]).fetchall()
        data[task] = {"train": [json.loads(r) for r, s in rows if s == "train"],
                      "test": [json.loads(r) for r, s in rows if s == "test"]}
    yield {"con": con, "data": data, "index": default_index_path(bench_source_db)}
    con.close()


def fenced(text: str) -> dict:
    m = _FENCED.match(text)
    assert m, text
    return json.loads(m.group(1))


def assert_scored(task, records, outputs, env=None) -> dict:
    if score is None:
        return {}
    metrics = score(task, records, outputs, env).metrics
    assert metrics["unparsed"] == 0, metrics
    return metrics


# ---------------------------------------------------------------- registry

def test_registry_covers_every_task():
    assert set(BASELINES) == set(TASKS)
    for task in TASKS:
        b = baseline_for(task)
        assert isinstance(b, Baseline) and b.task == task and b.name
        assert baseline_for(task) is not b
    with pytest.raises(KeyError, match="study_search"):
        baseline_for("no_such_task")


# ---------------------------------------------------------------- study search

def test_study_search_queries_parse_and_retrieve(wh):
    data = wh["data"]["study_search"]
    b = KeywordQuery().fit(data["train"], wh["con"])
    outputs = [b.predict(r) for r in data["test"]]
    for out in outputs:
        query = json.loads(out)["query"]
        assert set(json.loads(out)) == {"query"}
        parse(query)                                   # raises QueryError when invalid
        assert query != FALLBACK_QUERY and " AND " in query
    assert outputs == [KeywordQuery().fit(data["train"], wh["con"]).predict(r) for r in data["test"]]
    if score is not None:
        env = LocalSearchEnv(SearchIndex(wh["index"]))
        metrics = assert_scored("study_search", data["test"], outputs, env)
        trivial = score("study_search", data["test"], [json.dumps({"query": FALLBACK_QUERY})] * len(outputs), env)
        print("study_search test", {k: metrics[k] for k in ("recall@100", "recall@500", "n")},
              "trivial recall@100", trivial.metrics["recall@100"])
        assert metrics["query_errors"] == 0
        assert metrics["recall@100"] > trivial.metrics["recall@100"]


def test_study_search_query_shape():
    record = {"inputs": {"background": "Inhaled corticosteroids for bronchiectasis",
                         "objectives": "To evaluate the efficacy and safety of inhaled corticosteroids (ICS) in "
                                       "children and adults with stable state bronchiectasis.",
                         "selection criteria": ""}}
    query = KeywordQuery().predict(record)
    q = json.loads(query)["query"]
    assert q == '("inhaled corticosteroid*"[tiab] OR "ICS"[tiab]) AND ("bronchiectasis"[tiab])'
    parse(q)


def test_study_search_queries_parse_on_any_text(wh):
    """Article titles and abstracts as review setups: every query is valid and uses no fallback
    unless the text has no content word."""
    b = KeywordQuery().fit(wh["data"]["study_search"]["train"], wh["con"])
    seen = 0
    for r in wh["data"]["study_screening"]["train"]:
        for c in r["context"]:
            record = {"inputs": {"background": c["title"], "objectives": (c.get("abstract") or "")[:400],
                                 "selection criteria": (c.get("abstract") or "")[400:1200]}}
            parse(b.query(record))
            seen += 1
    assert seen > 100


# ---------------------------------------------------------------- study screening

def test_study_screening_lr(wh):
    data = wh["data"]["study_screening"]
    assert not data["test"]                            # the embedded set has no test reviews: train is used
    records = data["train"]
    b = ScreeningLR().fit(records)
    assert b.model is not None and 0 < b.threshold < 1
    outputs = [b.predict(r) for r in records]
    gold, pred = [], []
    for r, out in zip(records, outputs):
        results = json.loads(out)["results"]
        assert [x["PMID"] for x in results] == [c["PMID"] for c in r["context"]]
        assert all(x["decision"] in ("included", "excluded") and 0 <= x["confidence"] <= 100 for x in results)
        label = {x["PMID"]: x["label"] for x in r["labels"]}
        gold += [label[x["PMID"]] for x in results]
        pred += [x["decision"] for x in results]
    bacc = balanced_accuracy_score(gold, pred)
    print("study_screening train balanced accuracy", round(bacc, 3), "threshold", round(b.threshold, 3))
    assert bacc > 0.5
    metrics = assert_scored("study_screening", records, outputs)
    if metrics:
        print("study_screening train", {k: metrics[k] for k in ("accuracy", "precision", "recall", "f1")})


def test_study_screening_similarity_fallback(wh):
    records = wh["data"]["study_screening"]["train"]
    only_excluded = [{**r, "labels": [{**x, "label": "excluded"} for x in r["labels"]]} for r in records]
    for train in ([], only_excluded):
        b = ScreeningLR().fit(train)
        assert b.model is None
        results = json.loads(b.predict(records[0]))["results"]
        assert len(results) == len(records[0]["context"])
        assert {x["decision"] for x in results} == {"included", "excluded"}


# ---------------------------------------------------------------- multiple choice

@pytest.mark.parametrize("task", MC_TASKS)
def test_multiple_choice_similarity(wh, task):
    data = wh["data"][task]
    b = baseline_for(task).fit(data["train"])
    outputs = [b.predict(r) for r in data["test"]]
    letters = [fenced(o)["answer_choice"] for o in outputs]
    acc = statistics.mean(p == r["answer"] for p, r in zip(letters, data["test"]))
    n_options = len(data["test"][0]["options"])
    print(task, "test accuracy", round(acc, 3), "n", len(outputs), "chance", 1 / n_options)
    assert acc > 1 / n_options
    metrics = assert_scored(task, data["test"], outputs)
    if metrics:
        assert metrics["accuracy"] == pytest.approx(acc)


# ---------------------------------------------------------------- sample size

def _question(phase: str, condition: str) -> str:
    return f"Estimate the total number of participants.\n\nTitle: T\nConditions: {condition}\nPhase: {phase}\n"


def test_sample_size_cell_backoff():
    train = ([{"question": _question("Phase 3", "Diabetes mellitus"), "answer": n} for n in (300, 400, 500)]
             + [{"question": _question("Phase 3", "Asthma"), "answer": n} for n in (10, 20)]
             + [{"question": _question("Phase 1", "Asthma"), "answer": n} for n in (1000, 1000, 1000)])
    b = MedianEnrollment().fit(train)
    assert b.estimate({"question": _question("Phase 3", "Diabetes type 2")}) == (400, "cell")
    assert b.estimate({"question": _question("Phase 3", "Asthma")}) == (300, "phase")       # cell of 2 too small
    assert b.estimate({"question": _question("Phase 2", "Asthma")}) == (450, "overall")  # (400 + 500) / 2
    assert fenced(b.predict({"question": _question("Phase 3", "Diabetes")}))["sample_size_needed"] == 400
    assert phase_of("no phase line") == "not given"


def test_sample_size_median(wh):
    data = wh["data"]["sample_size_estimation"]
    con = wh["con"]
    b = MedianEnrollment().fit(data["train"], con)
    diabetic = con.execute("SELECT study_id FROM conditions WHERE condition_mesh_id = 'D003920' ORDER BY 1").fetchall()
    record = next(r for r in data["train"] + data["test"] if (r["trial_id"],) in diabetic)
    assert b.group(record) == "mesh:C18"                # Diabetes Mellitus: C18.452.394.750 and C19.246
    outputs = [b.predict(r) for r in data["test"]]
    preds = [fenced(o)["sample_size_needed"] for o in outputs]
    acc = statistics.mean(0.8 * r["answer"] <= p <= 1.2 * r["answer"] for p, r in zip(preds, data["test"]))
    mae = statistics.mean(abs(p - r["answer"]) for p, r in zip(preds, data["test"]))
    print("sample_size test accuracy(±20%)", round(acc, 3), "MAE", round(mae, 1), "n", len(preds))
    assert all(isinstance(p, int) and p > 0 for p in preds)
    assert_scored("sample_size_estimation", data["test"], outputs)


# ---------------------------------------------------------------- trial completion

def test_completion_design_lr(wh):
    data = wh["data"]["trial_completion_assessment"]
    b = DesignLR().fit(data["train"])
    for split in ("train", "test"):
        records = data[split]
        outputs = [json.loads(b.predict(r)) for r in records]
        assert all(o["outcome"] in ("complete", "terminate") and 0 <= o["confidence"] <= 100 for o in outputs)
        assert all((o["termination_reason"] is None) == (o["outcome"] == "complete") for o in outputs)
        bacc = balanced_accuracy_score([r["labels"]["outcome"] for r in records], [o["outcome"] for o in outputs])
        print("completion", split, "balanced accuracy", round(bacc, 3), "n", len(records))
        if split == "train":
            assert bacc >= 0.5
        assert_scored("trial_completion_assessment", records, [json.dumps(o) for o in outputs])
    stopped = [r["labels"]["terminate_type"] for r in data["train"] if r["labels"]["outcome"] == "terminate"]
    assert b.reason_model is None and b.constant_reason == statistics.mode(sorted(stopped))


# ---------------------------------------------------------------- fallbacks

@pytest.mark.parametrize("task", TASKS)
def test_empty_train_and_missing_fields(wh, task):
    data = wh["data"][task]
    record = (data["test"] or data["train"])[0]
    for b in (baseline_for(task), baseline_for(task).fit([])):
        for rec in (record, {}, {"id": "x", "question": None, "inputs": None, "context": None, "options": None}):
            out = b.predict(rec)
            assert isinstance(out, str) and out
            if task in MC_TASKS:
                assert fenced(out)["answer_choice"] in "ABCDEFGHIJ"
            elif task == "sample_size_estimation":
                assert fenced(out)["sample_size_needed"] > 0
            elif task == "study_search":
                parse(json.loads(out)["query"])
            else:
                json.loads(out)
        assert_scored(task, [record], [b.predict(record)], None if task != "study_search" else _NoSearch())
    if task == "sample_size_estimation":
        assert MedianEnrollment().fit([]).estimate(record) == (DEFAULT_SIZE, "default")


class _NoSearch:
    def search(self, query, k=1000):
        parse(query)
        return []
