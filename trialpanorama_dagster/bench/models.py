"""Which models the graph benchmarks: the baselines always, plus those configured in a YAML file.

The file is ``$TRIALPANORAMA_BENCH_MODELS``, else ``$TRIALPANORAMA_HOME/bench_models.yaml`` when it
exists::

    models:
      - name: gpt-4o-mini            # asset bench/gpt_4o_mini; results stored under this name
        backend: openai              # openai | transformers | vllm
        model: gpt-4o-mini
        options: {base_url: "https://api.openai.com/v1", api_key_env: OPENAI_API_KEY, max_concurrency: 8}
        limit: 1000                  # optional seeded subsample per task
        max_new_tokens: 4096         # optional (default 1024)
      - name: qwen3-8b-local
        backend: vllm
        model: /models/Qwen3-8B
        options: {tensor_parallel_size: 1, max_model_len: 16384}

API keys never go in this file: ``api_key_env`` names the environment variable that holds one.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..warehouse.db import home_dir

BACKENDS = ("openai", "transformers", "vllm")


@dataclass(frozen=True)
class ModelSpec:
    name: str
    backend: str
    model: str
    options: dict = field(default_factory=dict)
    limit: int | None = None
    max_new_tokens: int = 1024


def models_file() -> Path | None:
    env = os.environ.get("TRIALPANORAMA_BENCH_MODELS")
    if env:
        return Path(env)
    path = home_dir() / "bench_models.yaml"
    return path if path.exists() else None


def load_models(path: str | os.PathLike | None = None) -> list[ModelSpec]:
    """The configured models (none when there is no file); a clear error for a malformed entry."""
    path = Path(path) if path else models_file()
    if path is None:
        return []
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    entries = data.get("models") or []
    specs, names = [], set()
    for i, entry in enumerate(entries, 1):
        where = f"{path}: model {i}"
        if not isinstance(entry, dict) or not entry.get("name") or not entry.get("model"):
            raise ValueError(f"{where}: needs at least name and model")
        if entry.get("backend") not in BACKENDS:
            raise ValueError(f"{where} ({entry['name']}): backend must be one of {', '.join(BACKENDS)}")
        unknown = set(entry) - {"name", "backend", "model", "options", "limit", "max_new_tokens"}
        if unknown:
            raise ValueError(f"{where} ({entry['name']}): unknown keys {sorted(unknown)}")
        if any(k in (entry.get("options") or {}) for k in ("api_key", "key", "token")):
            raise ValueError(f"{where} ({entry['name']}): put the key in an environment variable and name it "
                             f"with options.api_key_env, never in this file")
        if entry["name"] in names or entry["name"] == "baseline":
            raise ValueError(f"{where}: the name {entry['name']!r} is taken")
        names.add(entry["name"])
        specs.append(ModelSpec(str(entry["name"]), entry["backend"], str(entry["model"]),
                               dict(entry.get("options") or {}), entry.get("limit"),
                               int(entry.get("max_new_tokens") or 1024)))
    return specs
