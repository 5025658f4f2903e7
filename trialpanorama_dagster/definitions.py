"""The code location: every asset, check, resource, job, schedule and sensor of the project."""
from __future__ import annotations

import dagster as dg

from .assets.checks import CHECKS
from .assets.core import core_tables
from .assets.raw import raw_ctgov
from .resources.ctgov import CtgovSourceResource
from .resources.warehouse import WarehouseResource

ASSETS = [raw_ctgov, core_tables]

# DuckDB takes one writing process per file: every job runs its steps in one process.
materialize_everything = dg.define_asset_job(
    "materialize_everything", selection=dg.AssetSelection.all(), executor_def=dg.in_process_executor,
    description="The main job: every asset on the configured sources (the embedded records by default).")

ctgov_refresh = dg.define_asset_job(
    "ctgov_refresh", selection=dg.AssetSelection.assets(raw_ctgov).downstream(),
    executor_def=dg.in_process_executor,
    config={"resources": {"ctgov": {"config": {"mode": "live"}}}},
    description="Incremental ClinicalTrials.gov refresh from the live API v2 (from the stored cursor).")

nightly_ctgov_refresh = dg.ScheduleDefinition(
    name="nightly_ctgov_refresh", job=ctgov_refresh, cron_schedule="30 2 * * *", execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Every night at 02:30 UTC: studies updated since the last run. Off by default (needs network).")


def build_definitions(warehouse: WarehouseResource | None = None,
                      ctgov: CtgovSourceResource | None = None) -> dg.Definitions:
    return dg.Definitions(
        assets=ASSETS,
        asset_checks=CHECKS,
        jobs=[materialize_everything, ctgov_refresh],
        schedules=[nightly_ctgov_refresh],
        resources={"warehouse": warehouse or WarehouseResource(), "ctgov": ctgov or CtgovSourceResource()},
        executor=dg.in_process_executor,
    )


defs = build_definitions()
