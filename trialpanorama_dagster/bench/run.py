"""Run a model (an LLM backend or a weight-free baseline) on task sample sets, score, and store.

A run reads a task's samples (``split``, by default test; ``limit`` draws a seeded subsample like
the reference's ``--num-samples``), asks the predictor for one raw output per sample, scores the
outputs with the task's scorer (the study-search scorer runs each query in the local search
environment) and returns a :class:`TaskRun`. :func:`store_runs` writes the figures to
``bench_results`` and the outputs to ``bench_predictions``; :func:`write_predictions` writes the
``{"id", "output"}`` JSONL that ``trialpanorama score`` reads, so any run can be rescored.
"""
from __future__ import annotations

import json
import random
import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Protocol

import duckdb

from ..warehouse.db import insert_rows, transaction
from .prompts import chat_for, decoding_for
from .scoring import score
from .types import Backend, Decoding, Generation

Log = Callable[[str], None]


@dataclass(frozen=True)
class BenchConfig:
    split: str = "test"
    limit: int | None = None           # a seeded subsample of this many samples
    seed: int = 42
    decoding: Decoding = Decoding()
    chunk_size: int = 32               # prompts per backend call (and per cache write)


class Predictor(Protocol):
    model: str                         # the name results are stored under
    backend: str                       # openai | transformers | vllm | baseline

    def prepare(self, task: str, con: duckdb.DuckDBPyConnection) -> None: ...

    def predict(self, task: str, records: list[dict], cfg: BenchConfig,
                progress: Callable[[int], None] | None = None) -> list[Generation]: ...

    def describe(self) -> dict: ...


class LLMPredictor:
    """A backend behind the generation cache (when given): a rerun only generates what is missing."""

    def __init__(self, backend: Backend, cache=None, model: str | None = None):
        self.llm, self.cache = backend, cache
        self.model, self.backend = model or backend.model, backend.name

    def prepare(self, task, con) -> None:
        pass

    def predict(self, task, records, cfg, progress=None):
        from .cache import cached_generate

        chats = [chat_for(task, r) for r in records]
        decoding = decoding_for(task, cfg.decoding)
        if self.cache is None:
            return self.llm.generate(chats, decoding, progress)
        return cached_generate(self.llm, chats, decoding, self.cache, chunk_size=cfg.chunk_size, progress=progress)

    def describe(self) -> dict:
        return {"backend": self.backend, "model": self.llm.model, "cache": str(getattr(self.cache, "path", ""))}


CACHE_FILE = "generations.sqlite"


def llm_predictor(kind: str, model: str, options: dict | None = None, cache_path: str | Path | None = None,
                  name: str | None = None) -> LLMPredictor:
    """A backend of ``kind`` serving ``model`` (``options``: the backend's), behind the generation
    cache at ``cache_path`` (none: no cache), storing results under ``name`` (default: the model)."""
    from .backends import make_backend
    from .cache import GenerationCache

    backend = make_backend(kind, model, **(options or {}))
    return LLMPredictor(backend, GenerationCache(Path(cache_path)) if cache_path else None, model=name)


class BaselinePredictor:
    """The task's weight-free baseline, fitted on the task's train split when a task starts."""

    backend = "baseline"

    def __init__(self, model: str = "baseline"):
        self.model = model
        self._fitted: dict[str, object] = {}

    def prepare(self, task, con) -> None:
        from .baselines import baseline_for

        self._fitted[task] = baseline_for(task).fit(load_records(con, task, "train")[0], con=con)

    def predict(self, task, records, cfg, progress=None):
        model = self._fitted[task]
        out = []
        for r in records:
            started = time.perf_counter()
            try:
                out.append(Generation(model.predict(r), seconds=time.perf_counter() - started))
            except Exception as exc:      # one bad record is an error row, not a lost run
                out.append(Generation("", error=f"{type(exc).__name__}: {exc}"))
            if progress:
                progress(1)
        return out

    def describe(self) -> dict:
        return {"backend": "baseline", "baselines": {t: getattr(m, "name", type(m).__name__)
                                                     for t, m in self._fitted.items()}}


@dataclass
class TaskRun:
    task: str
    model: str
    backend: str
    split: str
    set_version: str | None
    metrics: dict
    sample_ids: list[str]
    outputs: list[Generation]
    rows: list[dict]
    groups: dict = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def n(self) -> int:
        return len(self.sample_ids)

    @property
    def errors(self) -> int:
        return sum(1 for g in self.outputs if g.error)


def load_records(con: duckdb.DuckDBPyConnection, task: str, split: str = "test", limit: int | None = None,
                 seed: int = 42) -> tuple[list[dict], str | None]:
    """The task's samples of ``split`` in sample-id order (a seeded subsample of ``limit``), and the
    set's version."""
    rows = con.execute("SELECT sample_id, record FROM task_samples WHERE task = ? AND split = ? ORDER BY sample_id",
                       [task, split]).fetchall()
    if limit is not None and limit < len(rows):
        rows = sorted(random.Random(seed).sample(rows, limit))
    version = con.execute("SELECT version FROM task_sets WHERE task = ?", [task]).fetchone()
    return [json.loads(r) for _, r in rows], (version[0] if version else None)


def run_task(con: duckdb.DuckDBPyConnection, task: str, predictor: Predictor, cfg: BenchConfig = BenchConfig(),
             env=None, progress: Callable[[int], None] | None = None, log: Log | None = None) -> TaskRun:
    started = time.perf_counter()
    records, version = load_records(con, task, cfg.split, cfg.limit, cfg.seed)
    if log:
        log(f"{task}: {len(records)} {cfg.split} samples (set {version}) with {predictor.model}")
    predictor.prepare(task, con)
    outputs = predictor.predict(task, records, cfg, progress) if records else []
    scores = score(task, records, [g.text for g in outputs], env)
    run = TaskRun(task, predictor.model, predictor.backend, cfg.split, version, scores.metrics,
                  [r["id"] for r in records], outputs, scores.rows, scores.groups,
                  round(time.perf_counter() - started, 3))
    if log:
        shown = ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in run.metrics.items())
        log(f"{task}: {shown} ({run.errors} backend errors, {run.seconds} s)")
    return run


def new_run_id(model: str) -> str:
    return f"{slug(model)}-{datetime.now(timezone.utc):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


def slug(name: str) -> str:
    """A model name as a file and asset-key part: letters, digits and underscores."""
    return re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").lower() or "model"


def store_runs(con: duckdb.DuckDBPyConnection, runs: list[TaskRun], run_id: str, config: dict | None = None) -> int:
    """Write the runs' figures and outputs (one transaction); returns the number of figures."""
    now = datetime.now(timezone.utc)
    results, predictions = [], []
    for run in runs:
        conf = json.dumps({**(config or {}), "errors": run.errors}, sort_keys=True, default=str)
        for metric, value in run.metrics.items():
            results.append((run_id, run.model, run.backend, run.task, metric,
                            None if value is None else float(value), run.n, run.split, run.set_version, now,
                            run.seconds, conf))
        for sid, gen, row in zip(run.sample_ids, run.outputs, run.rows):
            predictions.append((run_id, run.model, run.task, sid, gen.text, bool(row.get("parsed")),
                                json.dumps(row, ensure_ascii=False, default=str), gen.error))
    with transaction(con):
        con.execute("DELETE FROM bench_results WHERE run_id = ?", [run_id])
        con.execute("DELETE FROM bench_predictions WHERE run_id = ?", [run_id])
        insert_rows(con, "bench_results", results)
        insert_rows(con, "bench_predictions", predictions)
    return len(results)


def write_predictions(run: TaskRun, folder: str | Path) -> Path:
    """``<folder>/<task>.jsonl`` of ``{"id", "output"}`` (``"error"`` where the backend gave up)."""
    path = Path(folder) / f"{run.task}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for sid, gen in zip(run.sample_ids, run.outputs):
            item = {"id": sid, "output": gen.text}
            if gen.error:
                item["error"] = gen.error
            f.write(json.dumps(item, ensure_ascii=False) + "\n")
    return path


def latest_results(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """(model, backend, task, metric, value, n, set_version, run_at) of each model's newest run per task."""
    return con.execute("""
        WITH newest AS (SELECT model, task, max(run_at) AS run_at FROM bench_results GROUP BY model, task)
        SELECT r.model, r.backend, r.task, r.metric, r.value, r.n, r.set_version, r.run_at
        FROM bench_results r JOIN newest USING (model, task, run_at)
        ORDER BY r.model, r.task, r.metric""").fetchall()
