"""models/<stage>: the training stages as assets, each a subprocess launched through Dagster Pipes.

SFT stage 1 (design tasks) -> SFT stage 2 (review tasks) -> GRPO on sample size -> GRPO on study
search, each downstream of the task sets it trains on and of the stage it starts from. A stage runs
``python -m trialpanorama_dagster.training.<sft|grpo> --config ... --set ...`` (or the same under
``accelerate launch`` for several GPUs), so its logs and metrics stream into the run while it
trains; the asset records the checkpoint, base model, data versions, steps, losses and the loss
curve. ``bench/<stage>`` benchmarks each checkpoint with the transformers backend.

``train_and_evaluate`` materialises the stages, their benchmarks and the report;
``retrain_on_new_task_sets`` (off by default) proposes that job when a task set's version changes.
"""
import base64
import json
import shlex
from pathlib import Path

import dagster as dg

from ..resources.training import STAGES, TrainingResource
from ..resources.warehouse import WarehouseResource
from .bench import bench_asset

DESIGN_TASKS = ("arm_design", "eligibility_criteria_design", "endpoint_design", "trial_completion_assessment",
                "sample_size_estimation")
REVIEW_TASKS = ("study_search", "study_screening", "evidence_summary")


def _tasks(*names: str) -> list[dg.AssetKey]:
    return [dg.AssetKey(["tasks", t]) for t in names]


STAGE_DEPS = {
    "sft_stage1": _tasks(*DESIGN_TASKS),
    "sft_stage2": [dg.AssetKey(["models", "sft_stage1"]), *_tasks(*REVIEW_TASKS)],
    "grpo_sample_size": [dg.AssetKey(["models", "sft_stage2"]), *_tasks("sample_size_estimation")],
    "grpo_search": [dg.AssetKey(["models", "grpo_sample_size"]), *_tasks("study_search"),
                    dg.AssetKey(["search", "index"])],
}
STAGE_DOC = {
    "sft_stage1": "SFT stage 1: the high-volume design tasks (arm, criteria, endpoint, completion, sample size).",
    "sft_stage2": "SFT stage 2: from stage 1, the low-volume review tasks (search, screening, evidence summary).",
    "grpo_sample_size": "GRPO on sample-size estimation (reward: format + within ±20%), from SFT stage 2.",
    "grpo_search": "GRPO on study search (reward: format + 0.1 + recall@100 in the local search environment), "
                   "from the sample-size GRPO actor.",
}
SMOKE_NOTE = (" With the default training profile (smoke) this trains the tiny smoke model a few CPU steps: its "
              "checkpoints and their benchmark figures only show the pipeline working.")


def _image(path: Path) -> str:
    return f"![{path.stem}](data:image/png;base64,{base64.b64encode(path.read_bytes()).decode()})"


def _stage_asset(stage: str) -> dg.AssetsDefinition:
    @dg.asset(key=dg.AssetKey(["models", stage]), group_name="models", kinds={"pytorch", "python"},
              deps=STAGE_DEPS[stage], description=STAGE_DOC[stage] + SMOKE_NOTE)
    def _train(context: dg.AssetExecutionContext, warehouse: WarehouseResource, training: TrainingResource,
               pipes_subprocess_client: dg.PipesSubprocessClient) -> dg.MaterializeResult:
        db = warehouse.db_path()
        cfg = training.load(stage, db)             # a bad config fails here, before anything launches
        command = training.command(stage, db)
        context.log.info(f"{stage}: {shlex.join(command)}")
        invocation = pipes_subprocess_client.run(command=command, context=context, env=training.env())
        summary_file = cfg.output_dir() / "run_summary.json"
        summary = json.loads(summary_file.read_text(encoding="utf-8"))
        for message in invocation.get_custom_messages():
            if isinstance(message, dict) and message.get("kind") == "training_summary":
                context.log.info(f"{stage}: reported {message.get('steps')} steps, loss {message.get('final_loss')}")
        final = Path(summary.get("final_dir") or cfg.output_dir() / "final")
        metadata = {
            "checkpoint": dg.MetadataValue.path(str(final)), "config": training.config_name(stage),
            "base_model": summary["base_model"], "requested_base": summary["requested_base"],
            "smoke_model": (final / "smoke_model.json").exists(),
            "data_versions": dg.MetadataValue.json(summary.get("data_versions") or {}),
            "task_counts": dg.MetadataValue.json(summary.get("task_counts") or {}),
            "steps": summary["steps"], "train_samples": summary["train_samples"],
            "final_loss": float(summary["final_loss"]) if summary.get("final_loss") is not None else None,
            "seconds": summary["seconds"], "lora": summary["lora"], "command": shlex.join(command)}
        plot = summary.get("plot")
        if plot and Path(plot).exists():
            metadata["curves"] = dg.MetadataValue.md(_image(Path(plot)))
        return dg.MaterializeResult(metadata={k: v for k, v in metadata.items() if v is not None})
    return _train


def _checkpoint_predictor(stage: str):
    def make(bench, training: TrainingResource, warehouse: WarehouseResource):
        from ..bench.run import llm_predictor

        cfg = training.load(stage, warehouse.db_path())
        final = cfg.output_dir() / "final"
        if not (final / "config.json").exists():
            raise FileNotFoundError(f"no checkpoint at {final}: materialise models/{stage} first")
        return llm_predictor("transformers", str(final), {"batch_size": 8}, bench.cache_path(), name=cfg.name)
    return make


STAGE_ASSETS = [_stage_asset(s) for s in STAGES]
CHECKPOINT_BENCHES = [
    bench_asset(stage, _checkpoint_predictor(stage), deps=[dg.AssetKey(["models", stage])],
                settings=lambda training: (training.bench_limit, training.bench_max_new_tokens),
                description=f"The models/{stage} checkpoint on the eight task sets (transformers backend; "
                            f"training.bench_limit samples per task, default 16)." + SMOKE_NOTE)
    for stage in STAGES]

train_and_evaluate = dg.define_asset_job(
    "train_and_evaluate",
    selection=dg.AssetSelection.groups("models") | dg.AssetSelection.assets(
        *[dg.AssetKey(["bench", s]) for s in STAGES], dg.AssetKey(["bench", "report"])),
    executor_def=dg.in_process_executor,
    description="Train every stage (SFT 1 -> SFT 2 -> GRPO sample size -> GRPO search), benchmark each checkpoint, "
                "and refresh the report.")


@dg.sensor(job=train_and_evaluate, minimum_interval_seconds=3600, default_status=dg.DefaultSensorStatus.STOPPED,
           description="Proposes train_and_evaluate when a task set's version changes (a rebuilt set with other "
                       "samples). Off by default: training is costly, turn it on where a GPU is at hand.")
def retrain_on_new_task_sets(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
    db = warehouse.db_path()
    if not db.exists():
        return dg.SkipReason(f"no warehouse at {db}")
    try:
        with warehouse.connect(read_only=True) as con:
            versions = dict(con.execute("SELECT task, version FROM task_sets ORDER BY task").fetchall())
    except Exception as exc:        # the file is locked by a running job: look again next time
        return dg.SkipReason(f"warehouse not readable now ({type(exc).__name__})")
    if not versions:
        return dg.SkipReason("no task sets built yet")
    previous = json.loads(context.cursor) if context.cursor else None
    context.update_cursor(json.dumps(versions, sort_keys=True))
    if previous is None:
        return dg.SkipReason("first look: task set versions recorded")
    changed = sorted(t for t in versions if previous.get(t) != versions[t])
    if not changed:
        return dg.SkipReason("task sets unchanged")
    key = "-".join(f"{t}:{versions[t]}" for t in sorted(versions))
    return dg.RunRequest(run_key=key, tags={"trialpanorama/changed_task_sets": ",".join(changed)})
