"""``trialpanorama train sft|grpo``: run a training stage from a config file (the shipped ones by name).

``--config`` takes a YAML file or a shipped config name (``sft_stage1``, ``smoke_grpo_search``, ...);
``--set key=value`` overrides one value (dotted keys, repeatable); ``--db`` names the warehouse.
The same ``main`` runs under ``python -m trialpanorama_dagster.training.sft`` and
``accelerate launch`` for several GPUs.
"""
from __future__ import annotations


def cmd_train(args) -> int:
    from .training.sft import run_from_args

    return run_from_args(args, args.stage)


def register(sub) -> None:
    from .training.sft import add_arguments

    p = sub.add_parser("train", help="fine-tune a model on the task sets (SFT, GRPO)")
    stages = p.add_subparsers(dest="stage", required=True)
    for stage, text in (("sft", "supervised fine-tuning (stage 1: design tasks, stage 2: review tasks)"),
                        ("grpo", "GRPO with verifiable rewards (sample size, then study search)")):
        s = stages.add_parser(stage, help=text)
        add_arguments(s)
        s.set_defaults(func=cmd_train)
