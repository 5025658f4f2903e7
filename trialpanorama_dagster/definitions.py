"""The code location: every asset, check, resource, job, schedule and sensor of the project."""
from __future__ import annotations

import dagster as dg

from .assets.bench import BENCH_KEYS, MODEL_BENCHES, baseline_bench, report_asset
from .assets.checks import CHECKS
from .assets.core import core_tables
from .assets.link import LINK_ASSETS, LINK_CHECKS
from .assets.models import CHECKPOINT_BENCHES, STAGE_ASSETS, retrain_on_new_task_sets, train_and_evaluate
from .assets.literature import LITERATURE_ASSETS, LITERATURE_CHECKS
from .assets.ontology import LINKER_ASSETS, LINKER_CHECKS, ONTOLOGY_ASSETS
from .assets.raw import RAW_ASSETS
from .assets.search import SEARCH_ASSETS, SEARCH_CHECKS
from .assets.tasks import TASK_ASSETS, TASK_CHECKS
from .registries.formats import all_sources
from .resources.bench import BenchResource
from .resources.sources import LIVE_CLIENTS, RegistrySourceResource
from .resources.training import TrainingResource

from .resources.tasks import TaskBuildResource
from .resources.literature import LiteratureResource
from .resources.ontologies import OntologyResource
from .resources.warehouse import WarehouseResource

ASSETS = [*RAW_ASSETS, core_tables, *LINK_ASSETS, *ONTOLOGY_ASSETS, *LINKER_ASSETS, *LITERATURE_ASSETS,
          *SEARCH_ASSETS, *TASK_ASSETS, baseline_bench, *MODEL_BENCHES, *STAGE_ASSETS, *CHECKPOINT_BENCHES]
ASSETS.append(report_asset(list(BENCH_KEYS)))

# DuckDB takes one writing process per file: every job runs its steps in one process.
materialize_everything = dg.define_asset_job(
    "materialize_everything", selection=dg.AssetSelection.all(), executor_def=dg.in_process_executor,
    description="The main job: every asset on the configured sources (the embedded records by default).")

def _refresh_job(source: str) -> dg.UnresolvedAssetJobDefinition:
    return dg.define_asset_job(
        f"{source}_refresh", selection=dg.AssetSelection.assets(dg.AssetKey(["raw", source])).downstream(),
        executor_def=dg.in_process_executor,
        config={"resources": {source: {"config": {"mode": "live"}}}},
        description=f"Incremental {source} refresh from the registry's live API (from the stored cursor).")

REFRESH_JOBS = {source: _refresh_job(source) for source in LIVE_CLIENTS}
# Nightly, staggered so runs do not queue behind each other (one run at a time on the warehouse).
NIGHTLY_CRON = {"ctgov": "30 2 * * *", "isrctn": "0 3 * * *", "ctis": "30 3 * * *", "euctr": "0 4 * * *"}
SCHEDULES = [
    dg.ScheduleDefinition(
        name=f"nightly_{source}_refresh", job=job, cron_schedule=NIGHTLY_CRON[source],
        execution_timezone="UTC", default_status=dg.DefaultScheduleStatus.STOPPED,
        description=f"Every night: {source} records updated since the last run. Off by default: it needs the "
                    f"network, so turn it on where the registry is reachable.")
    for source, job in REFRESH_JOBS.items()
]

def build_definitions(warehouse: WarehouseResource | None = None,
                      sources: dict[str, RegistrySourceResource] | None = None,
                      ontologies: OntologyResource | None = None,
                      literature: LiteratureResource | None = None,
                      bench: BenchResource | None = None,
                      training: TrainingResource | None = None) -> dg.Definitions:
    sources = sources or {}
    return dg.Definitions(
        assets=ASSETS,
        asset_checks=[*CHECKS, *LINK_CHECKS, *LINKER_CHECKS, *LITERATURE_CHECKS, *SEARCH_CHECKS,
                      *TASK_CHECKS],
        jobs=[materialize_everything, train_and_evaluate, *REFRESH_JOBS.values()],
        schedules=SCHEDULES,
        sensors=[retrain_on_new_task_sets],
        resources={"warehouse": warehouse or WarehouseResource(),
                   "ontologies": ontologies or OntologyResource(),
                   "literature": literature or LiteratureResource(),
                   "task_build": TaskBuildResource(),
                   "bench": bench or BenchResource(),
                   "training": training or TrainingResource(),
                   "pipes_subprocess_client": dg.PipesSubprocessClient(),
                   **{s: sources.get(s) or RegistrySourceResource() for s in all_sources()}},
        executor=dg.in_process_executor,
    )

defs = build_definitions()
