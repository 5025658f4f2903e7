"""A trainer callback that keeps every log: ``metrics.jsonl``, progress lines, Dagster Pipes.

Each ``on_log`` call (loss, learning rate, grad norm, GRPO rewards...) becomes one JSON line in
``<output_dir>/metrics.jsonl`` with the global step and epoch, a short progress line on stdout and,
under Dagster Pipes, a log line and a custom message carrying the same record. Only the main
process writes (the others see the same logs in distributed runs).
"""
from __future__ import annotations

import json
import math
import time
from pathlib import Path

from transformers import TrainerCallback

from .pipes_bridge import PipesBridge

METRICS_FILE = "metrics.jsonl"
_SHOWN = ("loss", "eval_loss", "reward", "learning_rate", "grad_norm")


def _clean(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):
        return _clean(value.item())
    return value


def read_metrics(output_dir: str | Path) -> list[dict]:
    path = Path(output_dir) / METRICS_FILE
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


class MetricsCallback(TrainerCallback):
    def __init__(self, output_dir: str | Path, run_name: str = "", bridge: PipesBridge | None = None,
                 echo: bool = True):
        self.path = Path(output_dir) / METRICS_FILE
        self.run_name = run_name
        self.bridge = bridge if bridge is not None else PipesBridge()
        self.echo = echo
        self.started = time.time()
        self.history: list[dict] = []

    def _emit(self, record: dict, state) -> None:
        if not state.is_world_process_zero:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
        shown = "  ".join(f"{k} {record[k]:.4g}" for k in _SHOWN if isinstance(record.get(k), (int, float)))
        line = f"[{self.run_name}] step {record['step']}/{state.max_steps} {shown}".rstrip()
        if self.echo:
            print(line, flush=True)
        self.bridge.log(line)
        self.bridge.report({"kind": "training_metrics", "run": self.run_name, **record})

    def on_log(self, args, state, control, logs=None, **kwargs):
        logs = {k: _clean(v) for k, v in (logs or {}).items() if isinstance(_clean(v), (int, float, str, type(None)))}
        record = {"step": state.global_step, "epoch": _clean(state.epoch),
                  "elapsed_s": round(time.time() - self.started, 2), **logs}
        self.history.append(record)
        self._emit(record, state)

    def on_train_end(self, args, state, control, **kwargs):
        if state.is_world_process_zero:
            self.bridge.log(f"[{self.run_name}] training finished at step {state.global_step}")
