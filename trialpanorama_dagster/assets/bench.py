"""bench/<model>: a model on every task set, scored and stored; bench/report: ours beside the paper.

``bench/baseline`` (the weight-free baselines) always exists; each model configured in
``bench_models.yaml`` (see :mod:`..bench.models`) adds ``bench/<model>``; training adds one per
checkpoint. Every bench asset writes ``bench_results`` / ``bench_predictions`` and the
``<task>.jsonl`` predictions (rescorable with ``trialpanorama score``).
"""

import base64
from typing import Callable

import dagster as dg

from ..bench.models import ModelSpec, load_models
from ..bench.paper import HEADLINE
from ..bench.run import BenchConfig, BaselinePredictor, llm_predictor, new_run_id, run_task, slug, store_runs, \
    write_predictions
from ..bench.types import Decoding
from ..resources.bench import BenchResource
from ..resources.training import TrainingResource
from ..resources.warehouse import WarehouseResource
from ..search.index import default_index_path
from ..tasks.base import TASKS

TASK_KEYS = [dg.AssetKey(["tasks", t]) for t in TASKS]
SEARCH_KEY = dg.AssetKey(["search", "index"])
BENCH_KEYS: list[dg.AssetKey] = []


def _table(runs) -> str:
    lines = ["| task | n | metrics | backend errors |", "|---|---:|---|---:|"]
    for run in runs:
        shown = ", ".join(f"{m} {run.metrics.get(m):.3f}" if isinstance(run.metrics.get(m), float)
                          else f"{m} –" for m in HEADLINE[run.task])
        lines.append(f"| {run.task} | {run.n} | {shown} | {run.errors} |")
    return "\n".join(lines)


def bench_asset(name: str, make_predictor: Callable[..., object], *, deps=(), limit: int | None = None,
                max_new_tokens: int = 1024, description: str = "", group: str = "bench",
                settings: Callable[[TrainingResource], tuple] | None = None) -> dg.AssetsDefinition:
    """An asset ``bench/<name>`` that benchmarks ``make_predictor(bench, training, warehouse)`` on the
    eight task sets; ``settings(training)`` -> (limit, max_new_tokens) decided at run time (checkpoints)."""
    key = dg.AssetKey(["bench", slug(name)])
    BENCH_KEYS.append(key)

    @dg.asset(key=key, group_name=group, kinds={"python", "duckdb"}, deps=[*TASK_KEYS, SEARCH_KEY, *deps],
              description=description or f"{name} on the eight task sets' test splits, scored with the tasks' "
                                         f"scorers (study search in the local search environment).")
    def _bench(context: dg.AssetExecutionContext, warehouse: WarehouseResource, bench: BenchResource,
               training: TrainingResource) -> dg.MaterializeResult:
        from ..bench.search_env import LocalSearchEnv
        from ..search.index import SearchIndex

        predictor = make_predictor(bench, training, warehouse)
        run_limit, run_tokens = settings(training) if settings else (limit, max_new_tokens)
        cfg = BenchConfig(split=bench.split, limit=run_limit or bench.limit,
                          decoding=Decoding(max_new_tokens=run_tokens))
        env = LocalSearchEnv(SearchIndex(default_index_path(warehouse.db_path())))
        folder = bench.root() / slug(predictor.model)
        run_id, runs = new_run_id(predictor.model), []
        try:
            with warehouse.connect() as con:
                for task in TASKS:
                    done = [0]

                    def progress(k: int, task=task, done=done) -> None:
                        done[0] += k
                        if done[0] % 50 < k:
                            context.log.info(f"{task}: {done[0]} samples answered")
                    run = run_task(con, task, predictor, cfg, env, progress=progress, log=context.log.info)
                    runs.append(run)
                    write_predictions(run, folder)
                store_runs(con, runs, run_id, {"split": cfg.split, "limit": cfg.limit, **predictor.describe()})
        finally:
            llm = getattr(predictor, "llm", None)
            if llm is not None:
                llm.close()
        metadata = {"run_id": run_id, "model": predictor.model, "limit": cfg.limit or "all", "predictions": dg.MetadataValue.path(str(folder)),
                    "results": dg.MetadataValue.md(_table(runs)),
                    "samples": sum(r.n for r in runs), "backend_errors": sum(r.errors for r in runs)}
        for run in runs:
            for metric in HEADLINE[run.task]:
                value = run.metrics.get(metric)
                if isinstance(value, (int, float)):
                    metadata[f"{run.task}/{metric}"] = float(value)
        return dg.MaterializeResult(metadata=metadata)
    return _bench


def llm_predictor_factory(spec: ModelSpec) -> Callable[..., object]:
    def make(bench: BenchResource, training=None, warehouse=None):
        return llm_predictor(spec.backend, spec.model, spec.options, bench.cache_path(), name=spec.name)
    return make


baseline_bench = bench_asset(
    "baseline", lambda *resources: BaselinePredictor("baseline"),
    description="The weight-free baselines (keyword Boolean query, TF-IDF + logistic regression screening, TF-IDF "
                "option similarity, median enrollment by phase x condition group, logistic regression on design "
                "features) on the eight task sets: real figures on any machine.")
MODEL_BENCHES = [bench_asset(s.name, llm_predictor_factory(s), limit=s.limit, max_new_tokens=s.max_new_tokens,
                             description=f"{s.name} ({s.backend}: {s.model}) on the eight task sets.")
                 for s in load_models()]


def _image(path) -> str:
    return f"![{path.stem}](data:image/png;base64,{base64.b64encode(path.read_bytes()).decode()})"


def report_asset(deps: list[dg.AssetKey]) -> dg.AssetsDefinition:
    @dg.asset(key=dg.AssetKey(["bench", "report"]), group_name="bench", kinds={"python"}, deps=deps,
              description="Our newest benchmark figures per model and task beside the paper's v1 results: a markdown "
                          "table and one PNG per task (written to $TRIALPANORAMA_HOME/bench/report).")
    def bench_report(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                     bench: BenchResource) -> dg.MaterializeResult:
        from ..bench.report import build_report

        with warehouse.connect(read_only=True) as con:
            report = build_report(con, bench.root() / "report")
        context.log.info(f"benchmark report: {report.path}")
        metadata = {"report": dg.MetadataValue.md(report.markdown), "path": dg.MetadataValue.path(str(report.path)),
                    "models": len({m for t in report.ours.values() for m in t}),
                    "plots": dg.MetadataValue.md("\n\n".join(_image(p) for p in report.plots.values()))}
        return dg.MaterializeResult(metadata=metadata)
    return bench_report
