"""The code location: it loads, its asset keys are what the project promises, the whole graph runs."""
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb

from trialpanorama_dagster.definitions import build_definitions, defs
from trialpanorama_dagster.resources.bench import BenchResource
from trialpanorama_dagster.resources.training import TrainingResource
from trialpanorama_dagster.resources.warehouse import WarehouseResource

ROOT = Path(__file__).resolve().parents[1]

# A rename of any of these breaks users' selections, schedules and sensors: change it on purpose.
EXPECTED_ASSET_KEYS = [
    "bench/baseline", "bench/grpo_sample_size", "bench/grpo_search", "bench/report", "bench/sft_stage1",
    "bench/sft_stage2", "core/adverse_events", "core/arm_groups", "core/biomarkers", "core/conditions", "core/disposition",
    "core/drugs", "core/endpoints", "core/interventions", "core/locations", "core/mesh_terms", "core/outcomes",
    "core/relations", "core/results", "core/secondary_ids", "core/studies", "link/adverse_events",
    "link/biomarkers", "link/conditions", "link/drugs", "link/trial_articles", "link/trial_clusters",
    "literature/pubmed", "literature/reviews", "models/grpo_sample_size", "models/grpo_search", "models/sft_stage1",
    "models/sft_stage2", "ontology/atc", "ontology/doid", "ontology/drugbank", "ontology/hgnc",
    "ontology/hpo", "ontology/mesh", "ontology/mondo", "ontology/rxnorm", "raw/chictr", "raw/ctgov", "raw/ctis",
    "raw/euctr", "raw/ictrp", "raw/isrctn", "search/index", "tasks/arm_design", "tasks/eligibility_criteria_design",
    "tasks/endpoint_design", "tasks/evidence_summary", "tasks/sample_size_estimation", "tasks/study_screening",
    "tasks/study_search", "tasks/trial_completion_assessment",
]


def test_definitions_load_and_asset_keys_are_stable():
    dg.Definitions.validate_loadable(defs)
    keys = sorted(k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys())
    assert keys == EXPECTED_ASSET_KEYS
    groups = {k.to_user_string(): defs.resolve_assets_def(k).group_names_by_key[k]
              for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {k.split("/")[0]: g for k, g in groups.items()} == {"core": "core", "raw": "raw", "link": "link", "ontology": "ontology",
                                                               "literature": "literature", "search": "search",
                                                               "tasks": "tasks", "bench": "bench",
                                                               "models": "models"}
    live = ("ctgov", "isrctn", "ctis", "euctr")
    assert {j.name for j in defs.resolve_all_job_defs()} >= {"materialize_everything", "train_and_evaluate",
                                                              *(f"{s}_refresh" for s in live)}
    sensor = defs.resolve_sensor_def("retrain_on_new_task_sets")
    assert sensor.default_status == dg.DefaultSensorStatus.STOPPED and sensor.job_name == "train_and_evaluate"
    graph = defs.resolve_asset_graph()
    assert dg.AssetKey(["models", "sft_stage1"]) in graph.get(dg.AssetKey(["models", "sft_stage2"])).parent_keys
    assert dg.AssetKey(["models", "grpo_search"]) in graph.get(dg.AssetKey(["bench", "grpo_search"])).parent_keys
    assert dg.AssetKey(["bench", "sft_stage1"]) in graph.get(dg.AssetKey(["bench", "report"])).parent_keys
    for source in live:
        schedule = defs.resolve_schedule_def(f"nightly_{source}_refresh")
        assert schedule.job_name == f"{source}_refresh"
        assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    assert defs.resolve_schedule_def("nightly_ctgov_refresh").cron_schedule == "30 2 * * *"


def test_materialising_everything_passes_every_check(tmp_path):
    db = tmp_path / "w.duckdb"
    local = build_definitions(WarehouseResource(path=str(db)), bench=BenchResource(folder=str(tmp_path / "bench")),
                              training=TrainingResource(output_root=str(tmp_path / "training"), bench_limit=4,
                                                        bench_max_new_tokens=16))
    result = local.resolve_job_def("materialize_everything").execute_in_process(
        instance=dg.DagsterInstance.ephemeral())
    assert result.success
    checks = list(result.get_asset_check_evaluations())
    assert len(checks) == 76 and all(c.passed for c in checks), [c.description for c in checks if not c.passed]
    mats = {m.asset_key.to_user_string(): m for m in result.get_asset_materialization_events()}
    studies_meta = mats["core/studies"].materialization.metadata
    assert studies_meta["dagster/row_count"].value == 404
    assert studies_meta["distinct_sources"].value >= 15
    raw_meta = mats["raw/ctgov"].materialization.metadata
    assert raw_meta["records_seen"].value == 226 and raw_meta["quarantined"].value == 0
    assert mats["raw/ictrp"].materialization.metadata["raw_records_distinct"].value > 150
    assert mats["link/trial_clusters"].materialization.metadata["clusters"].value == 404
    assert mats["ontology/mesh"].materialization.metadata["concepts"].value > 50
    assert mats["ontology/atc"].materialization.metadata["loaded"].value is False   # not embedded (licence)
    assert mats["link/conditions"].materialization.metadata["rows_linked"].value > 250
    assert mats["literature/reviews"].materialization.metadata["reviews"].value == 67
    assert mats["tasks/arm_design"].materialization.metadata["test"].value > 0
    assert mats["search/index"].materialization.metadata["documents"].value > 2500
    bench = mats["bench/baseline"].materialization.metadata
    assert bench["arm_design/accuracy"].value > 0.25 and bench["backend_errors"].value == 0
    assert (tmp_path / "bench" / "baseline" / "arm_design.jsonl").exists()
    assert (tmp_path / "bench" / "report" / "report.md").exists()
    assert "paper v1" in mats["bench/report"].materialization.metadata["report"].value
    # the smoke training chain: each stage trained from the previous one's checkpoint, then benchmarked
    previous = None
    for stage in ("sft_stage1", "sft_stage2", "grpo_sample_size", "grpo_search"):
        meta = mats[f"models/{stage}"].materialization.metadata
        assert meta["smoke_model"].value is True and meta["steps"].value >= 2
        assert (Path(meta["checkpoint"].value) / "config.json").exists()
        assert previous is None or meta["base_model"].value == previous
        previous = meta["checkpoint"].value
        assert "data:image/png;base64," in meta["curves"].value
        assert mats[f"bench/{stage}"].materialization.metadata["samples"].value > 0
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM studies WHERE phase = 'PHASE2/PHASE3'").fetchone()[0] >= 1
    linked_tables = [con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()
                     for t in ("term_links", "conditions", "drugs", "drug_moa", "biomarkers", "relations")]
    con.close()
    # a second run changes nothing and still passes
    again = local.resolve_job_def("materialize_everything").execute_in_process(instance=dg.DagsterInstance.ephemeral())
    mats = {m.asset_key.to_user_string(): m for m in again.get_asset_materialization_events()}
    assert mats["raw/ctgov"].materialization.metadata["new_versions"].value == 0
    assert mats["core/studies"].materialization.metadata["dagster/row_count"].value == 404
    con = duckdb.connect(str(db), read_only=True)
    assert linked_tables == [con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()
                             for t in ("term_links", "conditions", "drugs", "drug_moa", "biomarkers", "relations")]
    con.close()


def test_trialpanorama_run_prints_the_summary(tmp_path):
    env = {**os.environ, "TRIALPANORAMA_HOME": str(tmp_path / "home")}
    env.pop("DAGSTER_HOME", None)
    out = subprocess.run([sys.executable, "-m", "trialpanorama_dagster.cli", "run", "--quiet"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "main job succeeded" in out.stdout and "checks: 76 passed, 0 failed" in out.stdout
    assert f"warehouse: {tmp_path / 'home' / 'warehouse.duckdb'}" in out.stdout
    assert (tmp_path / "home" / "dagster" / "dagster.yaml").exists()
