"""Asset checks gating the core tables (thin wrappers over warehouse.quality)."""

import dagster as dg

from ..registries.formats import all_sources
from ..resources.warehouse import WarehouseResource
from ..warehouse import quality


def check_result(outcome: quality.CheckOutcome, severity=dg.AssetCheckSeverity.ERROR) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=outcome.passed, description=outcome.description,
                               metadata=outcome.metadata, severity=severity)


@dg.asset_check(asset=dg.AssetKey(["core", "studies"]), blocking=True,
                description="study_id is unique in studies")
def studies_unique_ids(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.connect(read_only=True) as con:
        return check_result(quality.unique_study_ids(con))


@dg.asset_check(asset=dg.AssetKey(["core", "studies"]), blocking=True,
                description="study_id, study_source, study_type and title are present")
def studies_required_fields(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.connect(read_only=True) as con:
        return check_result(quality.required_study_fields(con))


@dg.asset_check(asset=dg.AssetKey(["core", "studies"]), blocking=True,
                description="one study per raw record, holding the newest raw payload")
def studies_match_raw(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.connect(read_only=True) as con:
        return check_result(quality.counts_match_raw(con))


def _quarantine_check(source: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=dg.AssetKey(["raw", source]), name=f"raw_{source}_quarantine",
                    description=f"records quarantined by the latest {source} load (warning)")
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.connect(read_only=True) as con:
            return check_result(quality.latest_load_quarantine(con, source), dg.AssetCheckSeverity.WARN)
    return _check


def _orphan_check(name: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=dg.AssetKey(["core", name]), name=f"{name}_rows_have_study", blocking=True,
                    description=f"every {name} row belongs to a study")
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.connect(read_only=True) as con:
            return check_result(quality.child_rows_have_study(con, name))
    return _check


CHECKS = [studies_unique_ids, studies_required_fields, studies_match_raw,
          *(_quarantine_check(s) for s in all_sources()),
          *(_orphan_check(n) for n in quality.CHILD_TABLES)]
