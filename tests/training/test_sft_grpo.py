"""SFT (full and LoRA) and GRPO (sample size, study search) runs of the smoke model on CPU, resume,
assistant-only loss masks, run configs and overrides, accelerate / DeepSpeed launch configs."""
import argparse
import json
from pathlib import Path

import duckdb
import pytest
import yaml

from tests.training import warehouse
from trialpanorama_dagster.training.config import ConfigError, apply_override, load_config

ACCEL = Path(__file__).resolve().parents[2] / "trialpanorama_dagster" / "training" / "accelerate"
CONFIGS = Path(__file__).resolve().parents[2] / "trialpanorama_dagster" / "training" / "configs"


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    return warehouse(tmp_path_factory)


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return tmp_path_factory.mktemp("training-runs")


def versions(db) -> dict:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return dict(con.execute("SELECT task, version FROM task_sets").fetchall())
    finally:
        con.close()


def run_cli(argv: list[str]) -> int:
    from trialpanorama_dagster import cli_train

    parser = argparse.ArgumentParser(prog="trialpanorama")
    cli_train.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def reload_and_generate(folder: str) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(folder)
    tok = AutoTokenizer.from_pretrained(folder)
    assert not any("lora" in name for name, _ in model.named_parameters())
    ids = tok.apply_chat_template([{"role": "user", "content": "How many participants?"}], add_generation_prompt=True,
                                  return_tensors="pt", return_dict=True)["input_ids"]
    with torch.no_grad():
        out = model.generate(ids, max_new_tokens=4, do_sample=False, pad_token_id=tok.pad_token_id)
    assert out.shape[1] > ids.shape[1]


@pytest.fixture(scope="module")
def stage1(db, root):
    """Smoke SFT stage 1 (full fine-tuning) through the CLI entry point."""
    assert run_cli(["train", "sft", "--config", "smoke_sft_stage1", "--db", str(db),
                    "--set", f"output_root={root}"]) == 0
    return json.loads((root / "smoke-sft-stage1" / "run_summary.json").read_text())


@pytest.mark.slow
def test_sft_full_through_cli(stage1, db, root):
    from trialpanorama_dagster.models.tiny import is_smoke_model
    from trialpanorama_dagster.training.callbacks import read_metrics

    assert stage1["steps"] == 3 and not stage1["lora"]
    assert stage1["base_model"] == str(root / "smoke-base") and is_smoke_model(stage1["base_model"])
    assert stage1["data_versions"] == {t: versions(db)[t] for t in stage1["task_counts"]}
    assert set(stage1["task_counts"]) == {"arm_design", "eligibility_criteria_design", "endpoint_design",
                                          "trial_completion_assessment", "sample_size_estimation"}
    assert stage1["train_samples"] == sum(stage1["task_counts"].values()) and stage1["eval_samples"] == 4
    assert stage1["final_loss"] > 0
    metrics = read_metrics(stage1["output_dir"])
    assert [r["step"] for r in metrics if "loss" in r] == [1, 2, 3]
    assert Path(stage1["plot"]).exists()
    assert is_smoke_model(stage1["final_dir"])
    reload_and_generate(stage1["final_dir"])


@pytest.mark.slow
def test_sft_lora_stage2_merges(stage1, db, root):
    from trialpanorama_dagster.training.sft import main

    summary = main("smoke_sft_stage2", [f"output_root={root}", f"data.db={db}", "lora.enabled=true",
                                        "train.max_steps=2"])
    assert summary["lora"] and summary["steps"] == 2
    assert summary["base_model"] == stage1["final_dir"]
    assert set(summary["task_counts"]) == {"study_search", "study_screening", "evidence_summary"}
    assert (Path(summary["adapter_dir"]) / "adapter_config.json").exists()
    reload_and_generate(summary["final_dir"])


def test_assistant_only_loss_masks(stage1, db, root):
    from trialpanorama_dagster.training.sft import build

    cfg = load_config("smoke_sft_stage1", [f"output_root={root}", f"data.db={db}", "train.output_dir=" +
                                           str(root / "masks")])
    run = build(cfg)
    trainer, tok = run.trainer, run.tokenizer
    chats = run.split.train["messages"]
    batch = trainer.data_collator([trainer.train_dataset[i] for i in range(3)])
    for labels, ids in zip(batch["labels"], batch["input_ids"]):
        kept, real = labels != -100, ids != tok.pad_token_id
        assert 0 < kept.sum() < real.sum()
        text = tok.decode(ids[real])
        (chat,) = [c for c in chats if tok.decode(tok(c[1]["content"])["input_ids"]) in text and
                   c[2]["content"] in text]
        assert tok.decode(ids[kept]) == chat[2]["content"] + "<|im_end|>"     # the answer and its end only
        assert text.startswith("<|im_start|>system\n" + chat[0]["content"])


@pytest.mark.slow
def test_grpo_sample_size_with_think_prefill(stage1, db, root):
    from trialpanorama_dagster.training.callbacks import read_metrics
    from trialpanorama_dagster.training.grpo import main

    summary = main("smoke_grpo_sample_size", [f"output_root={root}", f"data.db={db}",
                                              "model.base={output_root}/smoke-sft-stage1/final",
                                              "grpo.max_completion_length=8"])
    assert summary["steps"] == 2 and summary["data_versions"] == {
        "sample_size_estimation": versions(db)["sample_size_estimation"]}
    logged = [r for r in read_metrics(summary["output_dir"]) if "reward" in r]
    assert logged and all(-2.0 <= r["reward"] <= 1.1 for r in logged)
    assert any("rewards/sample_size_reward/mean" in r for r in logged)
    reload_and_generate(summary["final_dir"])


@pytest.mark.slow
def test_grpo_search_runs_in_local_index(stage1, db, root):
    from trialpanorama_dagster.training.callbacks import read_metrics
    from trialpanorama_dagster.training.data import grpo_split
    from trialpanorama_dagster.training.grpo import main
    from trialpanorama_dagster.training.sft import load_tokenizer

    overrides = [f"output_root={root}", f"data.db={db}", "model.base={output_root}/smoke-sft-stage1/final",
                 "train.max_steps=1", "grpo.max_completion_length=8"]
    cfg = load_config("smoke_grpo_search", overrides)
    split = grpo_split(cfg, load_tokenizer(cfg, str(root / "smoke-sft-stage1" / "final")))
    row = split.train[0]
    assert row["prompt"].endswith("<|im_start|>assistant\n<answer>") and "Boolean" in row["prompt"]
    assert row["relevant_pmids"] and row["review_id"]
    # the run itself uses chat prompts (no prefill) and the think variant, as the Qwen recipe
    summary = main(load_config("smoke_grpo_search", overrides + ["grpo.prefill=null", "grpo.think=true"]))
    assert summary["steps"] == 1
    assert any("rewards/study_search_reward/mean" in r for r in read_metrics(summary["output_dir"]))


@pytest.mark.slow
def test_resume_continues_step_count(stage1, db, root):
    from trialpanorama_dagster.training.callbacks import read_metrics
    from trialpanorama_dagster.training.sft import main

    base = ["smoke_sft_stage1", f"output_root={root}", f"data.db={db}", f"train.output_dir={root / 'resume'}",
            "train.save_steps=2", "train.save_total_limit=3", "train.lr_scheduler_type=constant"]
    first = main(base[0], base[1:] + ["train.max_steps=2"])
    assert first["steps"] == 2 and (root / "resume" / "checkpoint-2").is_dir()
    second = main(base[0], base[1:] + ["train.max_steps=4", "train.resume_from_checkpoint=latest"])
    assert second["steps"] == 4 and second["resumed_from"].endswith("checkpoint-2")
    assert [r["step"] for r in read_metrics(second["output_dir"]) if "loss" in r] == [1, 2, 3, 4]


def test_shipped_run_configs_load():
    names = sorted(p.stem for p in CONFIGS.glob("*.yaml"))
    assert {"sft_stage1", "sft_stage2", "grpo_sample_size", "grpo_search", "smoke_sft_stage1", "smoke_sft_stage2",
            "smoke_grpo_sample_size", "smoke_grpo_search"} <= set(names)
    for name in names:
        cfg = load_config(name)
        assert cfg.kind in ("sft", "grpo")
        if not name.startswith("smoke"):
            assert cfg.model.base in ("Qwen/Qwen3-8B",) or "{output_root}" in cfg.model.base
            assert cfg.learning_rate() == 1e-6 and not cfg.lora.enabled
    s1, s2 = load_config("sft_stage1"), load_config("sft_stage2")
    assert s1.sft.max_length == 8192 and s1.train.num_train_epochs == 3 and s2.train.num_train_epochs == 10
    assert 4 * s1.train.per_device_train_batch_size * s1.train.gradient_accumulation_steps == 16
    assert 4 * s2.train.per_device_train_batch_size * s2.train.gradient_accumulation_steps == 16
    assert s2.model.base == "{output_root}/sft-stage1/final"
    size, search = load_config("grpo_sample_size"), load_config("grpo_search")
    assert size.grpo_shape() == (12, 1024) and search.grpo_shape() == (8, 512)
    assert size.grpo.beta == 0 and size.grpo.temperature == 0.6 and size.grpo.top_p == 0.95
    assert search.model.base == "{output_root}/grpo-sample-size/final"
    for cfg, n in ((size, 12), (search, 8)):    # 16 prompts per step on 4 GPUs
        assert 4 * cfg.train.per_device_train_batch_size * cfg.train.gradient_accumulation_steps == 16 * n


def test_overrides_and_errors(tmp_path):
    cfg = load_config("smoke_sft_stage1", ["train.learning_rate=2e-5", "data.caps.study_search=5",
                                           "data.tasks=[arm_design, endpoint_design]", "lora.enabled=true",
                                           "lora.target_modules=q_proj,v_proj", "train.max_steps=7.0",
                                           "train.resume_from_checkpoint=latest", "output_root=" + str(tmp_path)])
    assert cfg.train.learning_rate == 2e-5 and cfg.data.caps["study_search"] == 5
    assert cfg.data.tasks == ["arm_design", "endpoint_design"] and cfg.lora.target_modules == ["q_proj", "v_proj"]
    assert cfg.train.max_steps == 7 and cfg.lora.enabled and cfg.output_dir() == tmp_path / "smoke-sft-stage1"
    assert load_config("sft_stage1", ["lora.enabled=true", "train.learning_rate="]).learning_rate() == 1e-4
    for bad, words in [("train.max_step=3", "train.max_step"), ("nope=1", "nope"), ("train.max_steps=abc", "integer"),
                       ("lora.enabled=maybe", "true or false"), ("data.tasks=[no_such_task]", "no_such_task"),
                       ("train.max_steps", "key=value"), ("train.max_steps.x=1", "no sub-keys"),
                       ("kind=grpo", "kind"), ("train.precision=fp8", "precision")]:
        with pytest.raises(ConfigError, match=words.replace(".", r"\.")):
            load_config("smoke_sft_stage1", [bad], kind="sft")
    (tmp_path / "bad.yaml").write_text("kind: sft\ntrain:\n  epochs: 3\n")
    with pytest.raises(ConfigError, match="train.epochs"):
        load_config(tmp_path / "bad.yaml")
    with pytest.raises(ConfigError, match="no config file"):
        load_config(tmp_path / "missing.yaml")
    cfg = load_config()
    apply_override(cfg, "grpo.task=study_search")
    assert cfg.grpo_shape() == (8, 512)


def test_cli_reports_config_errors(capsys):
    assert run_cli(["train", "grpo", "--config", "smoke_sft_stage1"]) == 2
    assert "kind: grpo" in capsys.readouterr().err
    assert run_cli(["train", "sft", "--config", "smoke_sft_stage1", "--set", "train.bogus=1"]) == 2
    assert "train.bogus" in capsys.readouterr().err


def test_offline_hub_model_names_where_to_put_weights(monkeypatch, tmp_path):
    from trialpanorama_dagster.training.data import resolve_base

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    cfg = load_config("sft_stage1", ["model.base=trialpanorama-tests/no-such-model", f"output_root={tmp_path}"])
    with pytest.raises(ConfigError, match="HF_HUB_OFFLINE.*local-dir"):
        resolve_base(cfg)
    cfg = load_config("sft_stage2", [f"output_root={tmp_path}"])
    with pytest.raises(ConfigError, match="not a directory"):
        resolve_base(cfg)


def test_accelerate_and_deepspeed_configs_load():
    from accelerate.commands.config.config_args import load_config_from_file
    from accelerate.utils import DeepSpeedPlugin
    from transformers.integrations import HfDeepSpeedConfig
    from transformers.integrations.deepspeed import unset_hf_deepspeed_config

    repo = ACCEL.parents[2]
    stages = {}
    for path in sorted(ACCEL.glob("*.yaml")):
        raw = yaml.safe_load(path.read_text())
        launch = load_config_from_file(str(path))
        assert launch.num_processes >= 1 and launch.mixed_precision == "bf16"
        if raw["distributed_type"] == "DEEPSPEED":
            ds_file = repo / raw["deepspeed_config"]["deepspeed_config_file"]
            assert ds_file.exists(), ds_file
            stages[path.stem] = ds_file
    assert set(stages) == {"zero2", "zero3", "zero3_offload"}
    try:
        for name, ds_file in stages.items():
            config = json.loads(ds_file.read_text())
            hf = HfDeepSpeedConfig(config)
            assert hf.is_zero3() == name.startswith("zero3") and hf.is_offload() == name.endswith("offload")
            assert config["train_micro_batch_size_per_gpu"] == "auto"
            plugin = DeepSpeedPlugin(hf_ds_config=str(ds_file))
            assert plugin.zero_stage == (3 if name.startswith("zero3") else 2)
    finally:
        unset_hf_deepspeed_config()        # leave no ZeRO-3 state to later model loads in this process


def test_metrics_callback_forwards_to_pipes(tmp_path):
    from types import SimpleNamespace

    from trialpanorama_dagster.training.callbacks import MetricsCallback, read_metrics
    from trialpanorama_dagster.training.pipes_bridge import PipesBridge

    assert not PipesBridge().active                  # no DAGSTER_PIPES_CONTEXT: a no-op
    seen = []
    bridge = SimpleNamespace(log=lambda m: seen.append(("log", m)), report=lambda p: seen.append(("report", p)))
    cb = MetricsCallback(tmp_path, "t", bridge=bridge, echo=False)
    state = SimpleNamespace(global_step=5, epoch=0.5, max_steps=10, is_world_process_zero=True)
    cb.on_log(None, state, None, logs={"loss": 1.5, "learning_rate": 1e-6, "reward": float("nan")})
    (record,) = read_metrics(tmp_path)
    assert record["step"] == 5 and record["loss"] == 1.5 and record["reward"] is None
    assert seen[0][0] == "log" and "step 5/10" in seen[0][1] and seen[1] == ("report", {
        "kind": "training_metrics", "run": "t", **record})


def test_pipes_bridge_under_dagster_pipes(tmp_path):
    """In a process started by Dagster Pipes, logs and metrics go out as Pipes messages."""
    import os
    import subprocess
    import sys

    from dagster_pipes import DAGSTER_PIPES_CONTEXT_ENV_VAR, DAGSTER_PIPES_MESSAGES_ENV_VAR, encode_param

    messages = tmp_path / "messages.jsonl"
    context = {"asset_keys": ["sft_stage1"], "code_version_by_asset_key": None, "provenance_by_asset_key": None,
               "partition_key": None, "partition_key_range": None, "partition_time_window": None,
               "run_id": "test-run", "job_name": "train", "retry_number": 0, "extras": {}}
    env = {**os.environ, DAGSTER_PIPES_CONTEXT_ENV_VAR: encode_param({"data": context}),
           DAGSTER_PIPES_MESSAGES_ENV_VAR: encode_param({"path": str(messages)})}
    code = ("from trialpanorama_dagster.training.pipes_bridge import PipesBridge\n"
            "b = PipesBridge(); assert b.active\n"
            "b.log('step 1/2 loss 1.5'); b.report({'kind': 'training_metrics', 'step': 1, 'loss': 1.5}); b.close()\n")
    subprocess.run([sys.executable, "-c", code], env=env, check=True, cwd=Path(__file__).resolve().parents[2])
    sent = [json.loads(line) for line in messages.read_text().splitlines() if line.strip()]
    methods = [m["method"] for m in sent]
    assert "log" in methods and "report_custom_message" in methods and methods[-1] == "closed"
    (custom,) = [m for m in sent if m["method"] == "report_custom_message"]
    assert custom["params"]["payload"] == {"kind": "training_metrics", "step": 1, "loss": 1.5}


def test_exported_task_sets_give_the_same_data(db, tmp_path):
    from trialpanorama_dagster.tasks.export import export_tasks
    from trialpanorama_dagster.training.data import grpo_split, sft_split
    from trialpanorama_dagster.warehouse.db import connect

    con = connect(db, read_only=True)
    try:
        export_tasks(con, tmp_path / "export", ["study_search", "study_screening", "evidence_summary"])
    finally:
        con.close()
    from_db = load_config("smoke_sft_stage2", [f"data.db={db}"])
    from_dir = load_config("smoke_sft_stage2", [f"data.data_dir={tmp_path / 'export'}"])
    a, b = sft_split(from_db), sft_split(from_dir)
    assert a.counts == b.counts and a.train["messages"] == b.train["messages"]
    assert a.eval["messages"] == b.eval["messages"] and len(a.eval) == 4
    assert all(v.startswith("file-") for v in b.versions.values())
    assert not set(map(str, a.eval["messages"])) & set(map(str, a.train["messages"]))
    search = load_config("smoke_grpo_search", [f"data.data_dir={tmp_path / 'export'}", "grpo.prefill=null"])
    rows = grpo_split(search).train
    assert rows[0]["prompt"][0]["role"] == "user" and "Selection Criteria:" in rows[0]["prompt"][0]["content"]


def test_mixture_caps_and_weights(db):
    from trialpanorama_dagster.training.data import sft_split

    plain = sft_split(load_config("smoke_sft_stage2", [f"data.db={db}", "data.val_size=0"]))
    mixed = sft_split(load_config("smoke_sft_stage2", [f"data.db={db}", "data.val_size=0", "data.weights.study_search=2",
                                                       "data.weights.evidence_summary=0.5",
                                                       "data.caps.study_screening=3"]))
    assert plain.eval is None and plain.counts == {"study_search": 8, "study_screening": 8, "evidence_summary": 8}
    assert mixed.counts == {"study_search": 16, "study_screening": 3, "evidence_summary": 4}
    assert len(mixed.train) == 23
