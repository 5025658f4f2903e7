"""core/<table>: the unified tables, rebuilt from raw_records (only what changed, or everything)."""

import dagster as dg

from ..registries.formats import all_sources
from ..resources.warehouse import WarehouseResource
from ..warehouse.rebuild import sync_core
from ..warehouse.schema import STUDY_TABLES
from .metadata import markdown_table
from .raw import RAW_KEYS
PREVIEW_COLUMNS = {
    "studies": "study_id, study_source, title, phase, recruitment_status, start_year, actual_accrual",
    "conditions": "study_id, condition_name, condition_mesh_id, condition_mesh_term",
    "outcomes": "study_id, overall_status, outcome_type, why_terminated",
}


class CoreBuildConfig(dg.Config):
    full_rebuild: bool = False


@dg.multi_asset(
    specs=[dg.AssetSpec(["core", t.name], deps=RAW_KEYS, group_name="core", kinds={"duckdb"},
                        description=t.description) for t in STUDY_TABLES],
    name="core_tables", can_subset=False,
)
def core_tables(context: dg.AssetExecutionContext, config: CoreBuildConfig, warehouse: WarehouseResource):
    with warehouse.connect() as con:
        for source in all_sources():
            stats = sync_core(con, source, full=config.full_rebuild,
                              on_batch=lambda s: context.log.info(f"{source}: {s.seen} records parsed"))
            context.log.info(f"{source}: {stats.loaded} studies (re)built, {stats.quarantined} quarantined, "
                             f"{'full rebuild' if config.full_rebuild else 'changed records only'}")
        n_studies = con.execute("SELECT count(*) FROM studies").fetchone()[0]
        by_source = dict(con.execute("SELECT study_source, count(*) FROM studies GROUP BY 1").fetchall())
        for t in STUDY_TABLES:
            rows, covered = con.execute(f"SELECT count(*), count(DISTINCT study_id) FROM {t.name}").fetchone()
            meta = {"dagster/row_count": rows, "studies_covered": covered,
                    "coverage": round(covered / n_studies, 4) if n_studies else 0.0}
            if t.name == "studies":
                meta["studies_by_source"] = dg.MetadataValue.json(by_source)
                meta["distinct_sources"] = len(by_source)
            cols = PREVIEW_COLUMNS.get(t.name, ", ".join(t.column_names[:6]))
            meta["preview"] = dg.MetadataValue.md(markdown_table(con, f"SELECT {cols} FROM {t.name} LIMIT 5"))
            yield dg.MaterializeResult(asset_key=["core", t.name], metadata=meta)
