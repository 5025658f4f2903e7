"""raw/<source>: one extract per registry into ``raw_records`` (payloads as received) and ``quarantine``."""
import datetime as dt

import dagster as dg

from ..registries.formats import all_sources
from ..resources.local_files import iter_files
from ..resources.sources import LIVE_CLIENTS, RegistrySourceResource
from ..warehouse.fetch import fetch_source, get_state
from ..warehouse.loader import LoadStats, load_items
from .metadata import load_metadata

DESCRIPTIONS = {
    "ctgov": "ClinicalTrials.gov: API v2 study JSON, the JSON download, the full-download zip, legacy XML.",
    "ictrp": "WHO ICTRP exports (XML, the 63-column CSV, the COVID CSV): the secondary registries "
             "(ANZCTR, ChiCTR, CTRI, DRKS, JPRN, CRiS, IRCT, PACTR, ReBEC, RPCEC, LBCTR, TCTR, NTR, REPEC…). "
             "The bulk export needs a WHO account: set ictrp.mode=local and ictrp.paths to your download.",
    "euctr": "EU Clinical Trials Register: full-text downloads (member-state records collapsed into one trial).",
    "ctis": "EU CTIS public API JSON.",
    "isrctn": "ISRCTN registry records (API XML or JSON).",
    "chictr": "Chinese Clinical Trial Registry native XML exports.",
}


def make_raw_asset(source: str) -> dg.AssetsDefinition:
    live = " Live API with mode=live." if source in LIVE_CLIENTS else " File-only source (mode=local with paths)."

    @dg.asset(key=["raw", source], group_name="raw", kinds={"duckdb", "python"},
              required_resource_keys={"warehouse", source},
              description=DESCRIPTIONS.get(source, source) + live + " Default: the embedded records.")
    def _raw(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        warehouse = context.resources.warehouse
        cfg: RegistrySourceResource = getattr(context.resources, source)

        def progress(stats: LoadStats, total=None) -> None:
            context.log.info(f"{source}: {stats.seen} records read" + (f" of {total}" if total else "") +
                             f": {stats.loaded} new versions, {stats.unchanged} unchanged, "
                             f"{stats.quarantined} quarantined")

        if cfg.mode == "off":
            context.log.warning(f"{source} is switched off (mode=off): nothing extracted")
            return dg.MaterializeResult(metadata={"mode": "off", "records_seen": 0})
        if cfg.mode == "local" and not cfg.paths:
            msg = (f"no input configured for {source}: set resources.{source}.config.paths to the files, "
                   f"folders or zips you obtained (or mode=embedded for the shipped records)")
            context.log.warning(msg)
            return dg.MaterializeResult(metadata={"mode": "local", "records_seen": 0,
                                                  "input": dg.MetadataValue.md(f"**{msg}**")})
        with warehouse.connect() as con:
            if cfg.mode == "live":
                since = dt.date.fromisoformat(cfg.since) if cfg.since else None
                with cfg.live_client(source, log=context.log.info) as client:
                    stats = fetch_source(con, client, source, since=since, full=cfg.full, write_core=False,
                                         log=context.log.info)
            elif cfg.mode in ("local", "embedded"):
                paths = cfg.input_paths(source)
                context.log.info(f"reading {source} records from {', '.join(map(str, paths))}")
                stats = load_items(con, iter_files(paths, source, cfg.local_format), source, "load", [str(p) for p in paths],
                                   write_core=False, on_batch=progress)
            else:
                raise dg.Failure(f"{source}.mode must be one of embedded, local, live, off, not {cfg.mode!r}")
            meta = load_metadata(con, stats, source)
            meta["mode"] = cfg.mode
            meta["cursor_last_update_date"] = get_state(con, "last_update_date", source) or "none"
        return dg.MaterializeResult(metadata=meta)

    return _raw


RAW_ASSETS = [make_raw_asset(s) for s in all_sources()]
RAW_KEYS = [dg.AssetKey(["raw", s]) for s in all_sources()]
