"""All eight task sets on the embedded warehouse: checks, versions, exports and the export verb."""
import json
import subprocess
import sys

import pyarrow.parquet as pq
import pytest

from tests.support.paths import ROOT
from tests.support.warehouse import build_embedded_warehouse
from trialpanorama_dagster.tasks import quality
from trialpanorama_dagster.tasks.base import TASKS, BuildConfig
from trialpanorama_dagster.tasks.export import export_tasks
from trialpanorama_dagster.tasks.registry import build_all, stale_tasks
from trialpanorama_dagster.warehouse.db import connect


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    db = build_embedded_warehouse(tmp_path_factory.mktemp("tasks") / "w.duckdb")
    con = connect(db)
    reports = {r["task"]: r for r in build_all(con)}
    yield db, con, reports
    con.close()


def test_every_task_builds_and_passes_its_checks(built):
    _, con, reports = built
    assert set(reports) == set(TASKS)
    for task in TASKS:
        assert reports[task]["train"] > 0, task
        for check in (quality.counts, quality.schema_valid, quality.split_leakage, quality.answer_leakage,
                      quality.label_balance):
            outcome = check(con, task)
            assert outcome.passed, (task, check.__name__, outcome.description, outcome.metadata)


def test_a_cluster_is_on_one_side_in_every_trial_task(built):
    _, con, _ = built
    crossing = con.execute("SELECT split_key FROM task_samples GROUP BY 1 HAVING count(DISTINCT split) > 1").fetchall()
    assert crossing == []
    assert con.execute("SELECT count(DISTINCT split_key) FROM task_samples WHERE split = 'test'").fetchone()[0] > 10


def test_checks_catch_leaks_and_broken_samples(built, tmp_path):
    _, con, _ = built
    task = "arm_design"
    sid, rec = con.execute("SELECT sample_id, record FROM task_samples WHERE task = ? AND split = 'test' "
                           "ORDER BY sample_id LIMIT 1", [task]).fetchone()
    rec = json.loads(rec)
    leaked = dict(rec, question=rec["question"] + "\n" + rec["options"][rec["answer"]])
    other = con.execute("SELECT split_key FROM task_samples WHERE task = ? AND split = 'train' LIMIT 1",
                        [task]).fetchone()[0]
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("UPDATE task_samples SET record = ?, split_key = ? WHERE task = ? AND sample_id = ?",
                    [json.dumps(leaked), other, task, sid])
        assert not quality.answer_leakage(con, task).passed
        assert not quality.split_leakage(con, task).passed
        con.execute("UPDATE task_samples SET record = ? WHERE task = ? AND sample_id = ?",
                    [json.dumps(dict(rec, answer="Z")), task, sid])
        assert not quality.schema_valid(con, task).passed
    finally:
        con.execute("ROLLBACK")
    assert quality.answer_leakage(con, task).passed


def test_versions_are_content_hashes_and_builds_are_reproducible(built):
    _, con, reports = built
    assert stale_tasks(con) == []
    again = {r["task"]: r["version"] for r in build_all(con)}
    assert again == {t: r["version"] for t, r in reports.items()}
    assert stale_tasks(con, cfg=BuildConfig(seed=7)) == list(TASKS)


def test_export_writes_reference_layout_parquet_sft_and_a_card(built, tmp_path):
    _, con, reports = built
    counts = export_tasks(con, tmp_path / "out")
    for task in TASKS:
        folder = tmp_path / "out" / task
        for split in ("train", "test"):
            lines = [json.loads(x) for x in (folder / f"{split}.jsonl").read_text().splitlines()]
            assert len(lines) == counts[task][split] == reports[task][split]
            assert all(x["lineage"]["split"] == split and x["id"] for x in lines)
            table = pq.read_table(folder / "data" / f"{split}-00000-of-00001.parquet")
            assert table.num_rows == len(lines)
            assert table.column("id").to_pylist() == [x["id"] for x in lines]
            sft = [json.loads(x) for x in (folder / f"sft_{split}.jsonl").read_text().splitlines()]
            assert [m["role"] for m in sft[0]["messages"]] == ["system", "user", "assistant"] if sft else True
    search = json.loads((tmp_path / "out" / "study_search" / "train.jsonl").read_text().splitlines()[0])
    assert set(search["inputs"]) == {"background", "objectives", "selection criteria"}
    card = (tmp_path / "out" / "README.md").read_text()
    assert all(f"| {t} |" in card for t in TASKS) and "Licences" in card


def test_export_verb_builds_what_is_missing_then_only_exports(tmp_path):
    db = build_embedded_warehouse(tmp_path / "w.duckdb")
    cmd = [sys.executable, "-m", "trialpanorama_dagster.cli", "export", "tasks", "--db", str(db),
           "--out", str(tmp_path / "out"), "--task", "arm_design", "--task", "trial_completion_assessment"]
    first = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr[-2000:]
    assert "built arm_design" in first.stdout and "wrote trial_completion_assessment" in first.stdout
    second = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0 and "built" not in second.stdout and "wrote arm_design" in second.stdout
    assert (tmp_path / "out" / "arm_design" / "test.jsonl").exists()
    bad = subprocess.run(cmd[:-4] + ["--task", "nonsense"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "unknown task" in bad.stderr
