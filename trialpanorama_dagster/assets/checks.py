"""Asset checks gating the core tables (thin wrappers over warehouse.quality)."""

import dagster as dg

from ..resources.warehouse import WarehouseResource
from ..warehouse import quality


def _result(outcome: quality.CheckOutcome, severity=dg.AssetCheckSeverity.ERROR) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=outcome.passed, description=outcome.description,
                               metadata=outcome.metadata, severity=severity)


@dg.asset_check(asset=dg.AssetKey(["core", "studies"]), blocking=True,
                description="study_id is unique in studies")
def studies_unique_ids(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.connect(read_only=True) as con:
        return _result(quality.unique_study_ids(con))


@dg.asset_check(asset=dg.AssetKey(["core", "studies"]), blocking=True,
                description="study_id, study_source, study_type and title are present")
def studies_required_fields(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.connect(read_only=True) as con:
        return _result(quality.required_study_fields(con))


@dg.asset_check(asset=dg.AssetKey(["core", "studies"]), blocking=True,
                description="one study per raw record, holding the newest raw payload")
def studies_match_raw(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.connect(read_only=True) as con:
        return _result(quality.counts_match_raw(con))


@dg.asset_check(asset=dg.AssetKey(["raw", "ctgov"]),
                description="records quarantined by the latest ClinicalTrials.gov load (warning)")
def raw_ctgov_quarantine(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.connect(read_only=True) as con:
        return _result(quality.latest_load_quarantine(con, "ctgov"), dg.AssetCheckSeverity.WARN)


def _orphan_check(name: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=dg.AssetKey(["core", name]), name=f"{name}_rows_have_study", blocking=True,
                    description=f"every {name} row belongs to a study")
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.connect(read_only=True) as con:
            return _result(quality.child_rows_have_study(con, name))
    return _check


CHECKS = [studies_unique_ids, studies_required_fields, studies_match_raw, raw_ctgov_quarantine,
          *(_orphan_check(n) for n in quality.CHILD_TABLES)]
