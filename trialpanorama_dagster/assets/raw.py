"""raw/<source>: registry extracts into ``raw_records`` (payloads as received) and ``quarantine``."""

import datetime as dt

import dagster as dg

from ..resources.ctgov import CtgovSourceResource
from ..resources.ctgov_local import iter_local
from ..resources.warehouse import WarehouseResource
from ..warehouse.ctgov_fetch import fetch_ctgov, get_state
from ..warehouse.loader import LoadStats, load_items
from .metadata import load_metadata


@dg.asset(
    key=["raw", "ctgov"], group_name="raw", kinds={"duckdb", "python"},
    description="ClinicalTrials.gov records as received (API v2 JSON or legacy XML) in raw_records; "
                "unreadable records in quarantine. Local files by default (the embedded records), "
                "the live API v2 with resource config ctgov.mode=live (incremental from the stored cursor).",
)
def raw_ctgov(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
              ctgov: CtgovSourceResource) -> dg.MaterializeResult:
    def progress(stats: LoadStats, total=None) -> None:
        context.log.info(f"{stats.seen} records read" + (f" of {total}" if total else "") +
                         f": {stats.loaded} new versions, {stats.unchanged} unchanged, {stats.quarantined} quarantined")

    with warehouse.connect() as con:
        if ctgov.mode == "live":
            since = dt.date.fromisoformat(ctgov.since) if ctgov.since else None
            with ctgov.live_client(log=context.log.info) as client:
                stats = fetch_ctgov(con, client, since=since, full=ctgov.full, write_core=False,
                                    log=context.log.info)
        elif ctgov.mode == "local":
            paths = ctgov.local_paths()
            context.log.info(f"reading ClinicalTrials.gov files from {', '.join(map(str, paths))}")
            stats = load_items(con, iter_local(paths, ctgov.local_format), "ctgov", "load",
                               [str(p) for p in paths], write_core=False, on_batch=progress)
        else:
            raise dg.Failure(f"ctgov.mode must be 'local' or 'live', not {ctgov.mode!r}")
        meta = load_metadata(con, stats, "ctgov")
        meta["mode"] = ctgov.mode
        meta["cursor_last_update_date"] = get_state(con, "last_update_date") or "none"
    return dg.MaterializeResult(metadata=meta)
