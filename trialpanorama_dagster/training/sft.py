"""Supervised fine-tuning on the task sets (spec C, SFT stages 1 and 2) with TRL's ``SFTTrainer``.

``main(config) -> summary`` builds the run config, loads the tokenizer and the base model (full
fine-tuning, or a LoRA adapter), builds the stage's chat mixture from the warehouse, trains
(resuming from a checkpoint when asked), saves the final model and tokenizer to
``<output_dir>/final`` (with LoRA: the adapter in ``<output_dir>/adapter`` and, by default, the
merged full model in ``final``, so downstream benchmarking loads a plain model) and writes
``<output_dir>/run_summary.json``. The helpers here are shared with :mod:`.grpo`.

Run it as ``python -m trialpanorama_dagster.training.sft --config FILE [--set key=value ...]``,
under ``accelerate launch --config_file <accelerate/*.yaml> -m ...`` for several GPUs, or as
``trialpanorama train sft``.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from .config import ConfigError, RunConfig, load_config
from .data import resolve_base

SUMMARY_FILE = "run_summary.json"


def on_gpu() -> bool:
    import torch
    return torch.cuda.is_available()


def using_deepspeed(cfg: RunConfig) -> bool:
    return bool(cfg.train.deepspeed) or os.environ.get("ACCELERATE_USE_DEEPSPEED", "").lower() == "true"


def precision_args(cfg: RunConfig) -> dict:
    """bf16 on a GPU that supports it (``auto``); fp32 and ``use_cpu`` without a GPU."""
    import torch

    gpu = on_gpu()
    use_cpu = (not gpu) if cfg.train.use_cpu is None else cfg.train.use_cpu
    mode = cfg.train.precision
    if mode == "auto":
        mode = "bf16" if gpu and not use_cpu and torch.cuda.is_bf16_supported() else "fp32"
    return {"use_cpu": use_cpu, "bf16": mode == "bf16", "fp16": mode == "fp16"}


def model_dtype(cfg: RunConfig):
    """Weights in fp32 unless told otherwise: mixed precision autocasts, and an optimiser on bf16
    weights loses lr-1e-6 updates; DeepSpeed keeps fp32 master weights itself, so it loads bf16."""
    import torch

    if cfg.model.dtype != "auto":
        return getattr(torch, cfg.model.dtype)
    return torch.bfloat16 if using_deepspeed(cfg) and on_gpu() else torch.float32


def common_args(cfg: RunConfig, out: Path, has_eval: bool) -> dict:
    """The TrainingArguments part of SFTConfig / GRPOConfig."""
    t = cfg.train
    evaluate = has_eval and bool(t.eval_steps)
    args = dict(
        output_dir=str(out), run_name=cfg.name, num_train_epochs=t.num_train_epochs, max_steps=t.max_steps,
        per_device_train_batch_size=t.per_device_train_batch_size,
        per_device_eval_batch_size=t.per_device_eval_batch_size,
        gradient_accumulation_steps=t.gradient_accumulation_steps, learning_rate=cfg.learning_rate(),
        lr_scheduler_type=t.lr_scheduler_type, warmup_steps=t.warmup_ratio, weight_decay=t.weight_decay,
        max_grad_norm=t.max_grad_norm, logging_steps=t.logging_steps, logging_first_step=True,
        save_strategy="steps", save_steps=t.save_steps, save_total_limit=t.save_total_limit,
        eval_strategy="steps" if evaluate else "no", seed=t.seed, data_seed=cfg.data.seed,
        gradient_checkpointing=t.gradient_checkpointing, report_to=t.report_to or "none",
        dataloader_num_workers=t.dataloader_num_workers, deepspeed=t.deepspeed, **precision_args(cfg))
    if evaluate:
        args["eval_steps"] = t.eval_steps
    return args


def load_tokenizer(cfg: RunConfig, base: str):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(base, revision=cfg.model.revision, trust_remote_code=cfg.model.trust_remote_code)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return tok


def load_model(cfg: RunConfig, base: str):
    """The base model (after the trainer config exists, so DeepSpeed ZeRO-3 partitions it on load)."""
    from transformers import AutoModelForCausalLM

    kwargs = {"revision": cfg.model.revision, "dtype": model_dtype(cfg), "trust_remote_code": cfg.model.trust_remote_code}
    if cfg.model.attn_implementation:
        kwargs["attn_implementation"] = cfg.model.attn_implementation
    return AutoModelForCausalLM.from_pretrained(base, **kwargs)


def lora_config(cfg: RunConfig):
    if not cfg.lora.enabled:
        return None
    from peft import LoraConfig

    return LoraConfig(r=cfg.lora.r, lora_alpha=cfg.lora.alpha, lora_dropout=cfg.lora.dropout,
                      target_modules=list(cfg.lora.target_modules), task_type="CAUSAL_LM")


def resume_target(cfg: RunConfig, out: Path) -> str | None:
    """``latest``: the newest checkpoint in ``out`` (None when there is none yet); else the path."""
    ref = cfg.train.resume_from_checkpoint
    if not ref:
        return None
    if ref == "latest":
        from transformers.trainer_utils import get_last_checkpoint
        return get_last_checkpoint(str(out)) if out.is_dir() else None
    if not Path(ref).is_dir():
        raise ConfigError(f"train.resume_from_checkpoint: no checkpoint folder {ref}")
    return ref


def reset_metrics(out: Path, resumed: str | None) -> None:
    """A fresh run starts a new ``metrics.jsonl``; a resumed one keeps the records up to its checkpoint."""
    from .callbacks import METRICS_FILE, read_metrics

    path = out / METRICS_FILE
    if not path.exists() or os.environ.get("RANK", "0") != "0":
        return
    if resumed is None:
        path.unlink()
        return
    try:
        step = int(Path(resumed).name.rsplit("-", 1)[-1])
    except ValueError:
        return
    kept = [r for r in read_metrics(out) if r.get("step", 0) <= step]
    path.write_text("".join(json.dumps(r) + "\n" for r in kept), encoding="utf-8")


def save_outputs(trainer, cfg: RunConfig, base: str, out: Path, tokenizer) -> dict:
    """Final model and tokenizer in ``out/final``; with LoRA the adapter in ``out/adapter`` and the
    merged model in ``final`` (base reloaded and merged on the main process)."""
    if not cfg.train.save_final:
        return {}
    final, adapter = out / "final", out / "adapter"
    if not cfg.lora.enabled:
        trainer.save_model(str(final))
        paths = {"final_dir": str(final)}
    else:
        trainer.save_model(str(adapter))
        paths = {"adapter_dir": str(adapter)}
        if cfg.lora.merge and trainer.is_world_process_zero():
            from peft import PeftModel
            from transformers import AutoModelForCausalLM

            merged = PeftModel.from_pretrained(
                AutoModelForCausalLM.from_pretrained(base, dtype="auto", revision=cfg.model.revision,
                                                     trust_remote_code=cfg.model.trust_remote_code),
                str(adapter)).merge_and_unload()
            merged.save_pretrained(str(final))
            paths["final_dir"] = str(final)
    if trainer.is_world_process_zero() and "final_dir" in paths:
        tokenizer.save_pretrained(str(final))
        marker = Path(base) / "smoke_model.json"
        if marker.exists():                       # a smoke model's descendants stay labelled smoke
            shutil.copy(marker, final / marker.name)
    trainer.accelerator.wait_for_everyone()
    return paths


@dataclass
class Run:
    """A prepared training run: the trainer and what the summary reports about it."""
    cfg: RunConfig
    trainer: object
    tokenizer: object
    split: object
    base: str
    out: Path
    resumed: str | None
    callback: object
    started: float = field(default_factory=time.time)


def prepare(cfg: RunConfig) -> tuple[Path, str, str | None]:
    """The output folder (created), the resolved base model and the checkpoint to resume from."""
    out = cfg.output_dir()
    out.mkdir(parents=True, exist_ok=True)
    base = resolve_base(cfg)
    resumed = resume_target(cfg, out)
    reset_metrics(out, resumed)
    return out, base, resumed


def finish(run: Run, train_result) -> dict:
    """Save the outputs, plot the curves and write ``run_summary.json``; returns the summary."""
    from .plots import plot_curves

    cfg, trainer, split, callback = run.cfg, run.trainer, run.split, run.callback
    paths = save_outputs(trainer, cfg, run.base, run.out, run.tokenizer)
    losses = [r["loss"] for r in callback.history if isinstance(r.get("loss"), (int, float))]
    summary = {
        "kind": cfg.kind, "name": cfg.name, "output_dir": str(run.out), **paths, "base_model": run.base,
        "requested_base": cfg.model.base, "steps": trainer.state.global_step, "max_steps": trainer.state.max_steps,
        "final_loss": losses[-1] if losses else train_result.training_loss,
        "train_loss": train_result.training_loss, "train_samples": len(split.train),
        "eval_samples": len(split.eval) if split.eval is not None else 0, "task_counts": split.counts,
        "data_versions": split.versions, "lora": cfg.lora.enabled, "resumed_from": run.resumed,
        "seconds": round(time.time() - run.started, 2), "metrics_file": str(callback.path), "config": cfg.to_dict()}
    if trainer.is_world_process_zero():
        plot = plot_curves(run.out, title=cfg.name)
        summary["plot"] = str(plot) if plot else None
        (run.out / SUMMARY_FILE).write_text(json.dumps(summary, indent=2, default=str), encoding="utf-8")
        callback.bridge.report({"kind": "training_summary", **{k: v for k, v in summary.items() if k != "config"}})
        callback.bridge.close()
    return summary


def as_config(config, overrides=(), kind: str = "sft") -> RunConfig:
    if isinstance(config, RunConfig):
        return config
    return load_config(config, overrides, kind=kind)


def build(cfg: RunConfig) -> Run:
    """Tokenizer, chat mixture, SFTConfig, model and SFTTrainer of an SFT run (nothing trained yet)."""
    from trl import SFTConfig, SFTTrainer

    from .callbacks import MetricsCallback
    from .data import sft_split

    out, base, resumed = prepare(cfg)
    tokenizer = load_tokenizer(cfg, base)
    split = sft_split(cfg)
    args = SFTConfig(**common_args(cfg, out, split.eval is not None), max_length=cfg.sft.max_length,
                     packing=cfg.sft.packing, assistant_only_loss=cfg.sft.assistant_only_loss)
    model = load_model(cfg, base)
    callback = MetricsCallback(out, cfg.name)
    trainer = SFTTrainer(model=model, args=args, train_dataset=split.train,
                         eval_dataset=split.eval if args.eval_strategy != "no" else None,
                         processing_class=tokenizer, peft_config=lora_config(cfg), callbacks=[callback])
    return Run(cfg, trainer, tokenizer, split, base, out, resumed, callback)


def train(build_run, config, overrides, kind: str) -> dict:
    """Build the run (``build_run(cfg)``), train (resuming when configured), save and summarise."""
    started = time.time()
    run = build_run(as_config(config, overrides, kind))
    run.started = started
    return finish(run, run.trainer.train(resume_from_checkpoint=run.resumed))


def main(config: RunConfig | str | os.PathLike, overrides=()) -> dict:
    """Run SFT as ``config`` (a RunConfig, a YAML path or a shipped config name) says; returns the
    run summary (also written to ``<output_dir>/run_summary.json``)."""
    return train(build, config, overrides, "sft")


def cli(argv: list[str] | None = None, kind: str = "sft") -> int:
    parser = argparse.ArgumentParser(prog=f"python -m trialpanorama_dagster.training.{kind}",
                                     description=f"{kind.upper()} on the TrialPanorama task sets")
    add_arguments(parser)
    args = parser.parse_args(argv)
    return run_from_args(args, kind)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, help="YAML file, or a shipped config name (e.g. smoke_sft_stage1)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config value (dotted key, e.g. train.max_steps=10); repeatable")
    parser.add_argument("--db", help="warehouse file (sets data.db)")


def run_from_args(args, kind: str) -> int:
    overrides = list(args.overrides) + ([f"data.db={args.db}"] if args.db else [])
    try:
        cfg = load_config(args.config, overrides, kind=kind)
        if kind == "sft":
            summary = main(cfg)
        else:
            from .grpo import main as grpo_main
            summary = grpo_main(cfg)
    except ConfigError as exc:
        print(f"trialpanorama train {kind}: error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps({k: v for k, v in summary.items() if k != "config"}, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(cli())
