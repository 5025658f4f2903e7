"""The training resource's launch commands and the retraining sensor (the assets run in test_definitions)."""
import sys

import dagster as dg
import duckdb
import pytest

from trialpanorama_dagster.assets.models import retrain_on_new_task_sets
from trialpanorama_dagster.resources.training import ACCELERATE_DIR, TrainingResource
from trialpanorama_dagster.resources.warehouse import WarehouseResource
from trialpanorama_dagster.warehouse.db import connect


def test_commands_launch_the_entry_points(tmp_path):
    db = tmp_path / "w.duckdb"
    plain = TrainingResource(output_root=str(tmp_path / "t"), overrides=["train.max_steps=1"],
                             stage_overrides={"grpo_search": ["grpo.num_generations=2"]})
    cmd = plain.command("sft_stage1", db)
    assert cmd[:3] == [sys.executable, "-m", "trialpanorama_dagster.training.sft"]
    assert cmd[3:5] == ["--config", "smoke_sft_stage1"]
    assert f"output_root={tmp_path / 't'}" in cmd and f"data.db={db}" in cmd and "train.max_steps=1" in cmd
    assert "grpo.num_generations=2" in plain.command("grpo_search", db)
    assert "grpo.num_generations=2" not in plain.command("grpo_sample_size", db)
    # the configs the commands name load, with the overrides applied
    cfg = plain.load("grpo_search", db)
    assert cfg.kind == "grpo" and cfg.train.max_steps == 1 and cfg.grpo.num_generations == 2
    assert cfg.base() == str(tmp_path / "t" / "smoke-grpo-sample-size" / "final")

    full = TrainingResource(profile="full", launcher="accelerate", accelerate_config="zero3", num_processes=4,
                            base_model="/models/Qwen3-8B")
    cmd = full.command("sft_stage1", db)
    assert cmd[:5] == [sys.executable, "-m", "accelerate.commands.launch", "--config_file",
                       str(ACCELERATE_DIR / "zero3.yaml")]
    assert cmd[5:7] == ["--num_processes", "4"]
    assert cmd[7:11] == ["-m", "trialpanorama_dagster.training.sft", "--config", "sft_stage1"]
    assert "model.base=/models/Qwen3-8B" in cmd
    assert "model.base=/models/Qwen3-8B" not in full.command("sft_stage2", db)
    with pytest.raises(ValueError, match="no accelerate config"):
        TrainingResource(launcher="accelerate", accelerate_config="zero9").command("sft_stage1", db)
    with pytest.raises(ValueError, match="profile"):
        TrainingResource(profile="huge").command("sft_stage1", db)


def test_sensor_proposes_training_when_a_task_set_changes(tmp_path):
    db = tmp_path / "w.duckdb"
    connect(db).close()
    resources = {"warehouse": WarehouseResource(path=str(db))}

    def evaluate(cursor=None):
        ctx = dg.build_sensor_context(cursor=cursor, resources=resources)
        return retrain_on_new_task_sets(ctx), ctx.cursor

    result, cursor = evaluate()
    assert isinstance(result, dg.SkipReason) and "no task sets" in result.skip_message
    con = duckdb.connect(str(db))
    con.execute("INSERT INTO task_sets (task, version) VALUES ('arm_design', 'v1'), ('study_search', 's1')")
    con.close()
    result, cursor = evaluate(cursor)
    assert isinstance(result, dg.SkipReason) and "first look" in result.skip_message
    result, cursor = evaluate(cursor)
    assert isinstance(result, dg.SkipReason) and "unchanged" in result.skip_message
    con = duckdb.connect(str(db))
    con.execute("UPDATE task_sets SET version = 'v2' WHERE task = 'arm_design'")
    con.close()
    result, cursor = evaluate(cursor)
    assert isinstance(result, dg.RunRequest)
    assert result.tags["trialpanorama/changed_task_sets"] == "arm_design"
    assert result.run_key == "arm_design:v2-study_search:s1"
    result, _ = evaluate(cursor)
    assert isinstance(result, dg.SkipReason)
