"""`trialpanorama bench` and `trialpanorama score` end to end on the embedded task sets."""
import json

import pytest

from tests.support.db import q
from trialpanorama_dagster.bench.paper import HEADLINE, PAPER_V1
from trialpanorama_dagster.bench.report import build_report
from trialpanorama_dagster.bench.run import load_records
from trialpanorama_dagster.cli import main
from trialpanorama_dagster.tasks.base import TASKS
from trialpanorama_dagster.warehouse.db import connect


def _bench(capsys, *argv) -> dict:
    capsys.readouterr()
    assert main(["bench", *argv, "--quiet"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.slow
def test_baselines_on_every_task_store_figures_and_rescore_identically(bench_db, tmp_path, capsys):
    out = _bench(capsys, "--task", "all", "--backend", "baseline", "--db", str(bench_db), "--out", str(tmp_path / "p"))
    assert set(out["results"]) == set(TASKS)
    tests = dict(q(bench_db, "SELECT task, test FROM task_sets"))
    for task, metrics in out["results"].items():
        assert metrics["n"] == tests[task]
        assert metrics["backend_errors"] == 0
        for name in HEADLINE[task]:
            assert name in metrics
            if tests[task]:
                assert metrics[name] is not None
        if tests[task]:
            assert metrics["unparsed"] == 0, task          # baselines answer in each task's own format
    # figures stored once per (task, metric), under one run id, with the set version they ran on
    rows = q(bench_db, "SELECT DISTINCT run_id, model, backend FROM bench_results")
    assert rows == [(out["run_id"], "baseline", "baseline")]
    versions = dict(q(bench_db, "SELECT task, version FROM task_sets"))
    assert dict(q(bench_db, "SELECT DISTINCT task, set_version FROM bench_results")) == versions
    assert q(bench_db, "SELECT count(*) FROM bench_predictions")[0][0] == sum(tests.values())
    # multiple-choice baselines beat chance on the embedded test sets
    for task in ("arm_design", "eligibility_criteria_design", "endpoint_design"):
        assert out["results"][task]["accuracy"] > 0.25, task

    # the predictions files rescore to the same figures against an exported gold file
    assert main(["export", "tasks", "--db", str(bench_db), "--out", str(tmp_path / "export")]) == 0
    for task in ("arm_design", "sample_size_estimation", "trial_completion_assessment", "study_search"):
        capsys.readouterr()
        assert main(["score", "--task", task, "--predictions", str(tmp_path / "p" / f"{task}.jsonl"),
                     "--gold", str(tmp_path / "export" / task / "test.jsonl"), "--db", str(bench_db)]) == 0
        scored = json.loads(capsys.readouterr().out)
        assert scored["missing_predictions"] == 0 and scored["unknown_ids"] == 0
        for name in HEADLINE[task]:
            assert scored[name] == pytest.approx(out["results"][task][name]), (task, name)


def test_limit_draws_a_seeded_subsample(bench_db):
    con = connect(bench_db, read_only=True)
    try:
        full, version = load_records(con, "arm_design", "test")
        a, _ = load_records(con, "arm_design", "test", limit=10, seed=42)
        b, _ = load_records(con, "arm_design", "test", limit=10, seed=42)
        c, _ = load_records(con, "arm_design", "test", limit=10, seed=7)
    finally:
        con.close()
    assert len(a) == 10 and [r["id"] for r in a] == [r["id"] for r in b]
    assert [r["id"] for r in a] != [r["id"] for r in c]
    assert {r["id"] for r in a} <= {r["id"] for r in full} and version


def test_score_reports_missing_and_unknown_predictions(bench_db, tmp_path, capsys):
    assert main(["export", "tasks", "--db", str(bench_db), "--out", str(tmp_path / "x"), "--task", "arm_design"]) == 0
    gold = [json.loads(line) for line in (tmp_path / "x" / "arm_design" / "test.jsonl").read_text().splitlines()]
    preds = [{"id": g["id"], "output": '```json\n{"answer_choice": "%s"}\n```' % g["answer"]} for g in gold[:-2]]
    preds.append({"id": "not-a-sample", "output": "A"})
    path = tmp_path / "preds.jsonl"
    path.write_text("\n".join(json.dumps(p) for p in preds) + "\n")
    capsys.readouterr()
    assert main(["score", "--task", "arm_design", "--predictions", str(path),
                 "--gold", str(tmp_path / "x" / "arm_design" / "test.jsonl")]) == 0
    scored = json.loads(capsys.readouterr().out)
    assert scored["missing_predictions"] == 2 and scored["unknown_ids"] == 1
    assert scored["n"] == len(gold) and scored["unparsed"] == 2
    assert scored["accuracy"] == pytest.approx((len(gold) - 2) / len(gold))


def test_score_rejects_bad_input(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "output": "A"}\nnot json\n')
    assert main(["score", "--task", "arm_design", "--predictions", str(bad), "--gold", str(bad)]) == 2
    assert "line 2: not JSON" in capsys.readouterr().err
    assert main(["score", "--task", "nope", "--predictions", str(bad), "--gold", str(bad)]) == 2
    assert main(["score", "--task", "study_search", "--predictions", str(tmp_path / "missing.jsonl"),
                 "--gold", str(bad)]) == 2


def test_report_puts_ours_beside_the_paper(bench_db, tmp_path, capsys):
    _bench(capsys, "--task", "arm_design", "--task", "sample_size_estimation", "--backend", "baseline",
           "--db", str(bench_db), "--out", str(tmp_path / "p"))
    con = connect(bench_db, read_only=True)
    try:
        report = build_report(con, tmp_path / "report")
    finally:
        con.close()
    text = report.path.read_text()
    assert "| baseline (baseline) |" in text and "| o3-mini (paper v1) | 1000 | 85.9 | 86.1 |" in text
    assert "_No run of ours on study_search yet._" in text
    acc = report.ours["arm_design"]["baseline"]["accuracy"]
    assert f"{100 * acc:,.1f}" in text.split("## arm_design")[1].split("##")[0]
    assert set(report.plots) == set(TASKS) | {"overview"}
    for png in report.plots.values():
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert PAPER_V1["sample_size_estimation"]["GPT-4o-mini"]["mae"] == 411.4


def test_openai_backend_run_resumes_from_the_cache_and_keeps_the_key_secret(bench_db, tmp_path, capsys, monkeypatch):
    from tests.support.openai_server import OpenAITestServer, answer_for
    from trialpanorama_dagster.bench.prompts import chat_for

    monkeypatch.setenv("TP_TEST_KEY", "sk-test-do-not-print")
    args = ["--task", "arm_design", "--task", "sample_size_estimation", "--backend", "openai", "--model", "echo-model",
            "--api-key-env", "TP_TEST_KEY", "--limit", "5", "--db", str(bench_db), "--cache", str(tmp_path / "c.sqlite"),
            "--out", str(tmp_path / "p"), "--option", "backoff_base=0.01"]
    with OpenAITestServer(require_key="sk-test-do-not-print", faults={2: "500", 5: "drop"}) as srv:
        capsys.readouterr()
        assert main(["bench", *args, "--base-url", srv.base_url, "--quiet"]) == 0
        captured = capsys.readouterr()
        first = json.loads(captured.out)
        assert "sk-test-do-not-print" not in captured.out + captured.err
        asked = len(srv.chat_requests())
        assert asked == 12                                  # 10 prompts, two of them retried once
        assert all(r.headers.get("Authorization") == "Bearer sk-test-do-not-print" for r in srv.chat_requests())
        # a second run answers every prompt from the generation cache: no request reaches the server
        assert main(["bench", *args, "--base-url", srv.base_url, "--quiet"]) == 0
        second = json.loads(capsys.readouterr().out)
        assert len(srv.chat_requests()) == asked
    assert first["results"] == second["results"]
    assert first["results"]["arm_design"]["n"] == 5 and first["results"]["arm_design"]["backend_errors"] == 0
    con = connect(bench_db, read_only=True)
    try:
        records, _ = load_records(con, "arm_design", "test", limit=5, seed=42)
        stored = dict(con.execute("SELECT sample_id, output FROM bench_predictions WHERE run_id = ? AND "
                                  "task = 'arm_design'", [second["run_id"]]).fetchall())
    finally:
        con.close()
    assert stored == {r["id"]: answer_for(chat_for("arm_design", r)) for r in records}


def test_screening_is_scored_per_review_too(bench_db, tmp_path, capsys):
    """The embedded screening set has no test sample, so the train split is benchmarked here."""
    out = _bench(capsys, "--task", "study_screening", "--split", "train", "--backend", "baseline",
                 "--db", str(bench_db), "--out", str(tmp_path / "p"), "--no-store")
    result = out["results"]["study_screening"]
    reviews = result["per_review"]
    assert len(reviews) == 2 and result["n"] == sum(r["samples"] for r in reviews.values())
    assert result["n_candidates"] == sum(r["candidates"] for r in reviews.values())
    pooled = sum(r["correct"] for r in reviews.values()) / result["n_candidates"]
    assert result["accuracy"] == pytest.approx(pooled)
    assert result["review_accuracy"] == pytest.approx(sum(r["accuracy"] for r in reviews.values()) / 2)
    assert q(bench_db, "SELECT count(*) FROM bench_results")[0][0] == 0      # --no-store
