"""link/trial_clusters: records of the same trial across registries, with their evidence."""
import dagster as dg

from ..resources.warehouse import WarehouseResource
from ..warehouse import quality
from ..warehouse.clusters import build_clusters
from .checks import check_result
from .metadata import markdown_table

CLUSTERS_KEY = dg.AssetKey(["link", "trial_clusters"])


@dg.asset(key=CLUSTERS_KEY, group_name="link", kinds={"duckdb", "python"},
          deps=[dg.AssetKey(["core", "studies"]), dg.AssetKey(["core", "secondary_ids"])],
          description="Dedup clusters: every registry record maps to one cluster; merges keep their evidence "
                      "(the shared id and the field it was in) and a confidence; one primary per cluster by "
                      "source priority, completeness, registration date. Title-only matches are never merged: "
                      "they are listed in cluster_review.")
def trial_clusters(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.connect() as con:
        figures = build_clusters(con)
        context.log.info(f"clusters: {figures}")
        meta = {k: v for k, v in figures.items() if isinstance(v, (int, float, str))}
        meta["figures"] = dg.MetadataValue.json(figures)
        meta["dagster/row_count"] = con.execute("SELECT count(*) FROM trial_clusters").fetchone()[0]
        meta["multi_record_clusters_preview"] = dg.MetadataValue.md(markdown_table(
            con, "SELECT c.cluster_id, string_agg(c.study_id || CASE WHEN c.is_primary THEN '*' ELSE '' END, ', ') "
                 "AS members, any_value(c.confidence) AS confidence FROM trial_clusters c WHERE c.cluster_size > 1 "
                 "GROUP BY c.cluster_id ORDER BY count(*) DESC, c.cluster_id", limit=10))
        meta["evidence_preview"] = dg.MetadataValue.md(markdown_table(
            con, "SELECT study_id_a, study_id_b, evidence_type, shared_id, field, confidence FROM cluster_evidence "
                 "ORDER BY confidence DESC, study_id_a", limit=10))
        meta["review_preview"] = dg.MetadataValue.md(markdown_table(
            con, "SELECT * FROM cluster_review ORDER BY title_similarity DESC", limit=10))
    return dg.MaterializeResult(metadata=meta)


@dg.asset_check(asset=CLUSTERS_KEY, blocking=True, description="every study in exactly one cluster with one primary")
def clusters_cover_every_study(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.connect(read_only=True) as con:
        return check_result(quality.cluster_coverage(con))


@dg.asset_check(asset=CLUSTERS_KEY, description="clusters holding two different NCT ids (listed for review)")
def clusters_with_two_nct_ids(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.connect(read_only=True) as con:
        return check_result(quality.clusters_with_two_nct(con), dg.AssetCheckSeverity.WARN)


LINK_ASSETS = [trial_clusters]
LINK_CHECKS = [clusters_cover_every_study, clusters_with_two_nct_ids]
