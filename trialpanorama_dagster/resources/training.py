"""How the graph trains: which configs, how they launch, where checkpoints go, how they are benchmarked."""

import os
import sys
from pathlib import Path
from typing import Dict, List, Optional

import dagster as dg
from pydantic import Field

from ..warehouse.db import home_dir

# stage -> (entry point module, shipped config, shipped smoke config)
STAGES = {
    "sft_stage1": ("sft", "sft_stage1", "smoke_sft_stage1"),
    "sft_stage2": ("sft", "sft_stage2", "smoke_sft_stage2"),
    "grpo_sample_size": ("grpo", "grpo_sample_size", "smoke_grpo_sample_size"),
    "grpo_search": ("grpo", "grpo_search", "smoke_grpo_search"),
}
ACCELERATE_DIR = Path(__file__).resolve().parents[1] / "training" / "accelerate"


class TrainingResource(dg.ConfigurableResource):
    """``profile: smoke`` (default) trains the tiny smoke model a few CPU steps per stage, so the whole
    graph runs anywhere; ``profile: full`` uses the shipped real configs (Qwen3-8B, the paper's
    hyperparameters) or the files in ``configs``. ``launcher: accelerate`` runs each stage under
    ``accelerate launch --config_file <accelerate_config>`` (single_gpu, multi_gpu, zero2, zero3,
    zero3_offload, or a file), e.g. on a multi-GPU node."""

    profile: str = Field(default="smoke", description="smoke | full")
    configs: Dict[str, str] = Field(default_factory=dict, description="stage -> config file (replaces the shipped one)")
    overrides: List[str] = Field(default_factory=list, description="key=value applied to every stage")
    stage_overrides: Dict[str, List[str]] = Field(default_factory=dict, description="stage -> key=value list")
    base_model: Optional[str] = Field(default=None, description="model.base of the first stage (dir or hub id)")
    output_root: Optional[str] = Field(default=None, description="default: $TRIALPANORAMA_HOME/training")
    launcher: str = Field(default="python", description="python | accelerate")
    accelerate_config: str = Field(default="single_gpu", description="shipped name or file (launcher=accelerate)")
    num_processes: Optional[int] = None
    bench_limit: Optional[int] = Field(default=16, description="samples per task when benchmarking a checkpoint "
                                                               "(None: the whole test split)")
    bench_max_new_tokens: int = 64

    def root(self) -> Path:
        return Path(self.output_root) if self.output_root else home_dir() / "training"

    def config_name(self, stage: str) -> str:
        if stage in self.configs:
            return self.configs[stage]
        if self.profile not in ("smoke", "full"):
            raise ValueError(f"training.profile must be smoke or full, not {self.profile!r}")
        return STAGES[stage][2 if self.profile == "smoke" else 1]

    def stage_overrides_for(self, stage: str, db: Path) -> list[str]:
        sets = [f"output_root={self.root()}", f"data.db={db}", *self.overrides, *self.stage_overrides.get(stage, [])]
        if stage == "sft_stage1" and self.base_model:
            sets.append(f"model.base={self.base_model}")
        return sets

    def load(self, stage: str, db: Path):
        from ..training.config import load_config

        return load_config(self.config_name(stage), self.stage_overrides_for(stage, db), kind=STAGES[stage][0])

    def command(self, stage: str, db: Path) -> list[str]:
        module = f"trialpanorama_dagster.training.{STAGES[stage][0]}"
        args = ["--config", self.config_name(stage)]
        for assignment in self.stage_overrides_for(stage, db):
            args += ["--set", assignment]
        if self.launcher == "python":
            return [sys.executable, "-m", module, *args]
        if self.launcher != "accelerate":
            raise ValueError(f"training.launcher must be python or accelerate, not {self.launcher!r}")
        cfg = Path(self.accelerate_config)
        if not cfg.exists():
            cfg = ACCELERATE_DIR / (cfg.name if cfg.suffix else f"{cfg.name}.yaml")
        if not cfg.exists():
            raise ValueError(f"no accelerate config {self.accelerate_config!r} (shipped: "
                             f"{', '.join(sorted(p.stem for p in ACCELERATE_DIR.glob('*.yaml')))})")
        launch = [sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(cfg)]
        if self.num_processes:
            launch += ["--num_processes", str(self.num_processes)]
        return [*launch, "-m", module, *args]

    def env(self) -> dict:
        """The subprocess environment: this one, offline-safe defaults kept (HF_HUB_OFFLINE is respected)."""
        env = dict(os.environ)
        env.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
        env.setdefault("TOKENIZERS_PARALLELISM", "false")
        return env
