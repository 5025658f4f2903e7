"""Training run configuration: dataclasses loaded from YAML, with ``--set key=value`` overrides.

One :class:`RunConfig` describes an SFT or a GRPO run (``kind``). Sections: ``model`` (the base),
``data`` (where the task sets come from and the stage's task mixture), ``train`` (optimiser,
schedule, checkpoints, precision), ``lora``, ``sft`` and ``grpo``. Overrides use dotted keys
(``train.learning_rate=2e-5``, ``data.caps.study_search=10``); a value is read as YAML (text
fields take it as written) and checked against the field's type; an unknown key is an error naming
the keys that exist.

``{output_root}`` in ``model.base`` and ``train.output_dir`` is replaced by ``output_root``
(default ``$TRIALPANORAMA_HOME/training``), so chained stages name each other's checkpoints:
stage 2 starts from ``{output_root}/sft-stage1/final``.
"""
from __future__ import annotations

import dataclasses
import os
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

STAGE1_TASKS = ("arm_design", "eligibility_criteria_design", "endpoint_design", "trial_completion_assessment",
                "sample_size_estimation")
STAGE2_TASKS = ("study_search", "study_screening", "evidence_summary")
GRPO_TASKS = ("sample_size_estimation", "study_search")
# per GRPO task: (num_generations, max_completion_length), spec C (verl n and max_response)
GRPO_DEFAULTS = {"sample_size_estimation": (12, 1024), "study_search": (8, 512)}
SMOKE = "smoke"
CONFIG_DIR = Path(__file__).parent / "configs"


class ConfigError(ValueError):
    """A configuration that cannot be used as written."""


@dataclass
class ModelSettings:
    base: str = SMOKE                    # a local directory, a hub id, or "smoke"
    revision: str | None = None
    dtype: str = "auto"                  # auto | bfloat16 | float16 | float32
    attn_implementation: str | None = None
    trust_remote_code: bool = False


@dataclass
class DataSettings:
    db: str | None = None                # the warehouse (default $TRIALPANORAMA_HOME/warehouse.duckdb)
    data_dir: str | None = None          # or exported task sets (trialpanorama export tasks)
    tasks: list[str] = field(default_factory=lambda: list(STAGE1_TASKS))
    weights: dict[str, float] = field(default_factory=dict)   # task -> repeat factor (default 1)
    caps: dict[str, int] = field(default_factory=dict)        # task -> at most this many train samples
    val_size: int = 100                  # validation items sliced off the train split by stable hash
    seed: int = 42
    index: str | None = None             # GRPO search: the local search index (default next to db)


@dataclass
class TrainSettings:
    output_dir: str | None = None        # default {output_root}/<name>
    num_train_epochs: float = 1.0
    max_steps: int = -1
    per_device_train_batch_size: int = 1
    per_device_eval_batch_size: int = 1
    gradient_accumulation_steps: int = 1
    learning_rate: float | None = None   # None: 1e-6 for full fine-tuning, 1e-4 with LoRA
    lr_scheduler_type: str = "cosine"
    warmup_ratio: float = 0.0            # a fraction of the steps (< 1) or a number of steps (>= 1)
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    logging_steps: int = 10
    save_steps: int = 500
    save_total_limit: int | None = 2
    eval_steps: int | None = None        # None: no evaluation during training
    seed: int = 42
    precision: str = "auto"              # auto (bf16 on a GPU that has it, else fp32) | bf16 | fp16 | fp32
    use_cpu: bool | None = None          # None: when no GPU is present
    gradient_checkpointing: bool = True
    resume_from_checkpoint: str | None = None   # a checkpoint folder, or "latest" in output_dir
    deepspeed: str | None = None         # a DeepSpeed JSON (usually set by the accelerate config instead)
    report_to: list[str] = field(default_factory=list)
    dataloader_num_workers: int = 0
    save_final: bool = True


@dataclass
class LoraSettings:
    enabled: bool = False                # False: full fine-tuning
    r: int = 16
    alpha: int = 32
    dropout: float = 0.05
    target_modules: list[str] = field(default_factory=lambda: [
        "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])
    merge: bool = True                   # also save base+adapter merged as a plain model in final/


@dataclass
class SFTSettings:
    max_length: int = 8192               # spec C: cutoff_len 8192
    packing: bool = False
    assistant_only_loss: bool = True     # needs {% generation %} markers in the chat template


@dataclass
class GRPOSettings:
    task: str = "sample_size_estimation"
    num_generations: int | None = None   # None: 12 for sample size, 8 for search
    max_completion_length: int | None = None   # None: 1024 for sample size, 512 for search
    temperature: float = 0.6
    top_p: float = 0.95
    beta: float = 0.0                    # no KL term (spec C)
    loss_type: str = "dapo"              # token-level mean over the batch, like verl's token-mean
    epsilon: float = 0.2
    scale_rewards: str = "group"
    num_iterations: int = 1
    mask_truncated_completions: bool = False
    generation_batch_size: int | None = None
    prefill: str | None = None           # e.g. "<think>" or "<answer>": start of the assistant turn
    think: bool = False                  # study search: require <think>...</think> before the answer
    use_vllm: bool = False
    vllm_mode: str = "colocate"
    vllm_gpu_memory_utilization: float = 0.6
    vllm_tensor_parallel_size: int = 1
    log_completions: bool = False


@dataclass
class RunConfig:
    kind: str = "sft"                    # sft | grpo
    name: str = "run"
    output_root: str | None = None
    model: ModelSettings = field(default_factory=ModelSettings)
    data: DataSettings = field(default_factory=DataSettings)
    train: TrainSettings = field(default_factory=TrainSettings)
    lora: LoraSettings = field(default_factory=LoraSettings)
    sft: SFTSettings = field(default_factory=SFTSettings)
    grpo: GRPOSettings = field(default_factory=GRPOSettings)

    # -- resolved values -------------------------------------------------------------------
    def root(self) -> Path:
        if self.output_root:
            return Path(self.output_root)
        from ..warehouse.db import home_dir
        return home_dir() / "training"

    def _expand(self, text: str) -> str:
        return text.replace("{output_root}", str(self.root()))

    def output_dir(self) -> Path:
        return Path(self._expand(self.train.output_dir)) if self.train.output_dir else self.root() / self.name

    def base(self) -> str:
        return self._expand(self.model.base)

    def learning_rate(self) -> float:
        if self.train.learning_rate is not None:
            return self.train.learning_rate
        return 1e-4 if self.lora.enabled else 1e-6

    def grpo_shape(self) -> tuple[int, int]:
        n, length = GRPO_DEFAULTS.get(self.grpo.task, (8, 512))
        return self.grpo.num_generations or n, self.grpo.max_completion_length or length

    def db_path(self) -> Path:
        if self.data.db:
            return Path(self.data.db)
        from ..warehouse.db import default_db_path
        return default_db_path()

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


# -- loading and overrides --------------------------------------------------------------------
def _coerce(value: Any, tp: Any, key: str) -> Any:
    """``value`` (as YAML read it) checked against, and where lossless converted to, ``tp``."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in (a for a in args if a is not type(None)):
            try:
                return _coerce(value, arg, key)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(errors[0] if errors else f"{key}: cannot be {value!r}")
    if origin is list:
        (item,) = typing.get_args(tp)
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key}: expected a list, got {value!r}")
        return [_coerce(v, item, f"{key}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        _, vt = typing.get_args(tp)
        if not isinstance(value, dict):
            raise ConfigError(f"{key}: expected a mapping, got {value!r}")
        return {str(k): _coerce(v, vt, f"{key}.{k}") for k, v in value.items()}
    if tp is bool and isinstance(value, bool):
        return value
    if tp is int and isinstance(value, (int, float)) and not isinstance(value, bool) and float(value).is_integer():
        return int(value)
    if tp is float and not isinstance(value, bool):
        try:
            return float(value)          # YAML 1.1 reads 1e-6 (no dot) as a string
        except (TypeError, ValueError):
            pass
    if tp is str and isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return str(value)
    expected = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}
    raise ConfigError(f"{key}: expected {expected.get(tp, repr(tp))}, got {value!r}")


def _build(cls, data: dict, prefix: str = ""):
    if not isinstance(data, dict):
        raise ConfigError(f"{prefix or 'config'}: expected a mapping, got {data!r}")
    hints = typing.get_type_hints(cls)
    unknown = sorted(set(data) - set(hints))
    if unknown:
        raise ConfigError(f"unknown key {prefix + unknown[0]!r}; {prefix or 'top-level '}keys: {', '.join(hints)}")
    kwargs = {}
    for name, value in data.items():
        tp = hints[name]
        if dataclasses.is_dataclass(tp):
            kwargs[name] = _build(tp, value or {}, f"{prefix}{name}.")
        else:
            kwargs[name] = _coerce(value, tp, prefix + name)
    return cls(**kwargs)


def apply_override(cfg: RunConfig, assignment: str) -> None:
    """Set one ``dotted.key=value`` on ``cfg`` in place (the value read as YAML, typed by the field)."""
    if "=" not in assignment:
        raise ConfigError(f"--set expects key=value, got {assignment!r}")
    key, raw = assignment.split("=", 1)
    key = key.strip()
    parts = key.split(".")
    target, walked = cfg, []
    for i, part in enumerate(parts):
        hints = typing.get_type_hints(type(target))
        if part not in hints:
            where = ".".join(walked)
            raise ConfigError(f"unknown key {key!r}: {where + ' has' if where else 'the keys are'} "
                              f"{', '.join(hints)}")
        walked.append(part)
        tp = hints[part]
        last = i == len(parts) - 1
        if dataclasses.is_dataclass(tp):
            if last:
                setattr(target, part, _build(tp, _read(raw, tp, key) or {}, key + "."))
                return
            target = getattr(target, part)
            continue
        if typing.get_origin(tp) is dict and i == len(parts) - 2:
            _, vt = typing.get_args(tp)
            getattr(target, part)[parts[-1]] = _coerce(_read(raw, vt, key), vt, key)
            return
        if not last:
            raise ConfigError(f"unknown key {key!r}: {'.'.join(walked)} has no sub-keys")
        setattr(target, part, _coerce(_read(raw, tp, key), tp, key))


def _read(raw: str, tp, key: str):
    """An override's text as the value for a field of type ``tp``: text fields take it as written
    (``{output_root}/x`` is not YAML), other fields read it as YAML; empty or null is None."""
    text = raw.strip()
    if text in ("", "null", "None", "~"):
        return None
    if tp is str or (typing.get_origin(tp) in (typing.Union, types.UnionType)
                     and set(typing.get_args(tp)) <= {str, type(None)}):
        return text[1:-1] if len(text) > 1 and text[0] == text[-1] and text[0] in "'\"" else text
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{key}: cannot read {raw!r} ({exc.problem})") from None


def load_config(path: str | os.PathLike | None = None, overrides: list[str] | tuple = (),
                kind: str | None = None) -> RunConfig:
    """The config in ``path`` (a YAML file, or the name of a shipped config such as ``sft_stage1``)
    with ``overrides`` applied; ``kind`` checks it is an SFT or a GRPO config."""
    data: dict = {}
    if path is not None:
        p = resolve_config_path(path)
        data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    if kind is not None:
        data.setdefault("kind", kind)
    cfg = _build(RunConfig, data)
    for assignment in overrides:
        apply_override(cfg, assignment)
    validate(cfg, kind)
    return cfg


def resolve_config_path(path: str | os.PathLike) -> Path:
    p = Path(path)
    if p.exists():
        return p
    shipped = CONFIG_DIR / (p.name if p.suffix else f"{p.name}.yaml")
    if shipped.exists():
        return shipped
    raise ConfigError(f"no config file {path} (shipped configs: "
                      f"{', '.join(sorted(q.stem for q in CONFIG_DIR.glob('*.yaml')))})")


CHOICES = {"kind": ("sft", "grpo"), "grpo.task": GRPO_TASKS, "train.precision": ("auto", "bf16", "fp16", "fp32"),
           "model.dtype": ("auto", "bfloat16", "float16", "float32"), "grpo.scale_rewards": ("group", "batch", "none"),
           "grpo.vllm_mode": ("colocate", "server")}


def validate(cfg: RunConfig, kind: str | None = None) -> None:
    from ..tasks.base import TASKS

    for key, allowed in CHOICES.items():
        section, _, name = key.rpartition(".")
        value = getattr(getattr(cfg, section) if section else cfg, name)
        if value not in allowed:
            raise ConfigError(f"{key} must be one of {', '.join(allowed)}, not {value!r}")
    if kind is not None and cfg.kind != kind:
        raise ConfigError(f"this is a {cfg.kind} config; the {kind} entry point needs kind: {kind}")
    unknown = sorted((set(cfg.data.tasks) | set(cfg.data.weights) | set(cfg.data.caps)) - set(TASKS))
    if unknown:
        raise ConfigError(f"unknown task(s) {', '.join(unknown)}; tasks: {', '.join(TASKS)}")
    if any(w < 0 for w in cfg.data.weights.values()) or any(c < 0 for c in cfg.data.caps.values()):
        raise ConfigError("data.weights and data.caps must not be negative")
