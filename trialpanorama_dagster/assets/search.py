"""search/index: the frozen study-search environment over the warehouse's articles and trials."""
import dagster as dg

from ..resources.warehouse import WarehouseResource
from ..search.documents import content_version
from ..search.index import default_index_path, ensure_index, read_info
from ..warehouse.quality import CheckOutcome
from .checks import check_result

SEARCH_KEY = dg.AssetKey(["search", "index"])


@dg.asset(key=SEARCH_KEY, group_name="search", kinds={"tantivy", "python"},
          deps=[dg.AssetKey(["literature", "pubmed"]), dg.AssetKey(["literature", "reviews"]),
                dg.AssetKey(["core", "studies"]), dg.AssetKey(["core", "conditions"])],
          description="A tantivy index over the literature table and the trial records that runs PubMed boolean "
                      "queries (AND/OR/NOT, phrases, [tiab]/[ti]/[ab]/[mh]/[pt] tags, truncation) offline and "
                      "ranks PMIDs deterministically; versioned by a content hash, rebuilt only when it changes.")
def search_index(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    path = default_index_path(warehouse.db_path())
    with warehouse.connect() as con:
        index, built = ensure_index(con, path)
        example = index.hits('randomized[tiab] AND trial[tiab]', k=5)
    info = read_info(path)
    context.log.info(f"search index {'built' if built else 'current'}: {info}")
    return dg.MaterializeResult(metadata={
        "version": info.version, "documents": info.documents, "articles": info.articles, "studies": info.studies,
        "built": built, "path": dg.MetadataValue.path(str(path)), "dagster/row_count": info.documents,
        "example_query": dg.MetadataValue.md(
            "`randomized[tiab] AND trial[tiab]`\n\n| id | kind | score | title |\n|---|---|---|---|\n" + "\n".join(
                f"| {h.id} | {h.kind} | {h.score:.2f} | {(h.title or '')[:80]} |" for h in example))})


@dg.asset_check(asset=SEARCH_KEY, blocking=True,
                description="the index holds exactly what the warehouse holds now (content hash)")
def search_index_current(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    path = default_index_path(warehouse.db_path())
    info = read_info(path)
    with warehouse.connect(read_only=True) as con:
        current = content_version(con)[0]
    ok = info is not None and info.version == current
    return check_result(CheckOutcome(ok, f"index version {info.version if info else None}, warehouse {current}",
                                     {"index": info.version if info else None, "warehouse": current}))


SEARCH_ASSETS = [search_index]
SEARCH_CHECKS = [search_index_current]
