"""GRPO with verifiable rewards (spec C, RL stages): sample size estimation, then study search.

``main(config) -> summary`` has the shape of :func:`.sft.main`: run config -> tokenizer and base
model (full, or LoRA) -> prompt dataset (:func:`.data.grpo_split`, RL prompts, optional prefill)
-> TRL ``GRPOTrainer`` with the task's reward (:mod:`.rewards`; search queries run in the local
index) -> train (resuming when asked) -> ``<output_dir>/final`` and ``run_summary.json``.

The reference's verl settings map onto ``GRPOConfig``: no KL (``beta`` 0, no reference model is
loaded), clip 0.2, token-level loss averaging (``loss_type`` dapo), group-normalised advantages
(``scale_rewards`` group), one optimiser update per generation batch (``steps_per_generation`` =
gradient accumulation, TRL's default). Per step, ``per_device_train_batch_size x GPUs x
gradient_accumulation_steps`` completions are generated, ``num_generations`` per prompt; that
number must divide by ``num_generations``.

Run it as ``python -m trialpanorama_dagster.training.grpo --config FILE [--set key=value ...]``
(or under ``accelerate launch``), or ``trialpanorama train grpo``.
"""
from __future__ import annotations

import os
import sys

from .config import ConfigError, RunConfig
from .sft import Run, cli, common_args, load_model, load_tokenizer, lora_config, prepare, train


def grpo_args(cfg: RunConfig, out, has_eval: bool):
    from trl import GRPOConfig

    g = cfg.grpo
    n, length = cfg.grpo_shape()
    per_step = cfg.train.per_device_train_batch_size * int(os.environ.get("WORLD_SIZE", "1")) \
        * cfg.train.gradient_accumulation_steps
    if (g.generation_batch_size or per_step) % n:
        raise ConfigError(f"the generation batch ({g.generation_batch_size or per_step} completions: per-device batch "
                          f"x processes x gradient accumulation) must be divisible by num_generations ({n})")
    vllm = {}
    if g.use_vllm:
        vllm = dict(use_vllm=True, vllm_mode=g.vllm_mode, vllm_gpu_memory_utilization=g.vllm_gpu_memory_utilization,
                    vllm_tensor_parallel_size=g.vllm_tensor_parallel_size)
    return GRPOConfig(**common_args(cfg, out, has_eval), num_generations=n, max_completion_length=length,
                      temperature=g.temperature, top_p=g.top_p, beta=g.beta, loss_type=g.loss_type,
                      epsilon=g.epsilon, scale_rewards=g.scale_rewards, num_iterations=g.num_iterations,
                      mask_truncated_completions=g.mask_truncated_completions,
                      generation_batch_size=g.generation_batch_size, log_completions=g.log_completions, **vllm)


def reward_function(cfg: RunConfig):
    from .rewards import reward_for

    g = cfg.grpo
    if g.task == "study_search":
        if cfg.data.index:
            return reward_for(g.task, think=g.think, prefill=g.prefill, index=cfg.data.index)
        db = cfg.db_path()
        if not db.exists():
            raise ConfigError(f"the study-search reward runs queries in the warehouse's local index: no warehouse at "
                              f"{db} (set data.db or data.index)")
        return reward_for(g.task, think=g.think, prefill=g.prefill, db=db)
    return reward_for(g.task, prefill=g.prefill)


def ensure_search_index(cfg: RunConfig) -> None:
    """Build the warehouse's search index when it is missing or stale (search GRPO only)."""
    if cfg.grpo.task != "study_search" or cfg.data.index:
        return
    from ..search.index import default_index_path, ensure_index
    from ..warehouse.db import connect

    db = cfg.db_path()
    if not db.exists():
        return
    con = connect(db, read_only=True)
    try:
        ensure_index(con, default_index_path(db))
    finally:
        con.close()


def build(cfg: RunConfig) -> Run:
    """Tokenizer, prompts, reward, GRPOConfig, model and GRPOTrainer of a GRPO run (nothing trained yet)."""
    from trl import GRPOTrainer

    from .callbacks import MetricsCallback
    from .data import grpo_split

    out, base, resumed = prepare(cfg)
    tokenizer = load_tokenizer(cfg, base)
    split = grpo_split(cfg, tokenizer)
    ensure_search_index(cfg)
    reward = reward_function(cfg)
    args = grpo_args(cfg, out, split.eval is not None)
    model = load_model(cfg, base)
    callback = MetricsCallback(out, cfg.name)
    trainer = GRPOTrainer(model=model, reward_funcs=[reward], args=args, train_dataset=split.train,
                          eval_dataset=split.eval if args.eval_strategy != "no" else None,
                          processing_class=tokenizer, peft_config=lora_config(cfg), callbacks=[callback])
    return Run(cfg, trainer, tokenizer, split, base, out, resumed, callback)


def main(config: RunConfig | str | os.PathLike, overrides=()) -> dict:
    """Run GRPO as ``config`` (a RunConfig, a YAML path or a shipped config name) says; returns the
    run summary (also written to ``<output_dir>/run_summary.json``)."""
    return train(build, config, overrides, "grpo")


if __name__ == "__main__":
    sys.exit(cli(kind="grpo"))
