"""literature/pubmed, literature/reviews and link/trial_articles."""
import dagster as dg

from ..literature import trial_links
from ..literature.pubmed_sync import load_pubmed_files, sync_pubmed
from ..literature.reviews.importer import EMBEDDED as REVIEWS_EMBEDDED
from ..literature.reviews.importer import FORMATS, import_reviews
from ..resources.literature import LiteratureResource
from ..resources.pubmed_local import PUBMED_EMBEDDED
from ..resources.warehouse import WarehouseResource
from ..warehouse.quality import CheckOutcome
from .checks import check_result
from .metadata import markdown_table

PUBMED_KEY = dg.AssetKey(["literature", "pubmed"])
REVIEWS_KEY = dg.AssetKey(["literature", "reviews"])
TRIAL_ARTICLES_KEY = dg.AssetKey(["link", "trial_articles"])


@dg.asset(key=PUBMED_KEY, group_name="literature", kinds={"duckdb", "python"},
          description="PubMed citations (PMID, title, labelled abstract, journal, year, publication types, MeSH "
                      "headings, DataBankList accessions) into the literature table: embedded samples, local "
                      "baseline/efetch XML files, or live E-utilities (history server, date slicing, resume).")
def pubmed(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
           literature: LiteratureResource) -> dg.MaterializeResult:
    mode = literature.pubmed_mode
    if mode == "off":
        return dg.MaterializeResult(metadata={"mode": mode, "articles": 0})
    with warehouse.connect() as con:
        if mode == "live":
            if not literature.pubmed_term:
                raise dg.Failure("pubmed_mode is live but no pubmed_term is configured")
            from ..resources.pubmed import EutilsClient
            with EutilsClient(log=context.log.info) as client:
                stats = sync_pubmed(con, client, term=literature.pubmed_term, mindate=literature.pubmed_mindate,
                                    maxdate=literature.pubmed_maxdate, link=False, log=context.log.info,
                                    on_batch=lambda s: context.log.info(s.summary()))
        else:
            paths = [PUBMED_EMBEDDED] if mode == "embedded" else literature.pubmed_paths
            if not paths:
                raise dg.Failure("pubmed_mode is local but no pubmed_paths are configured")
            stats = load_pubmed_files(con, paths, link=False, on_batch=lambda s: context.log.info(s.summary()))
        context.log.info(stats.summary())
        total = con.execute("SELECT count(*) FROM literature WHERE source = 'pubmed'").fetchone()[0]
        meta = {"mode": mode, "summary": stats.summary(), "articles_in_warehouse": total,
                "dagster/row_count": total,
                "preview": dg.MetadataValue.md(markdown_table(
                    con, "SELECT pmid, year, journal, title, databank_ids FROM literature WHERE source = 'pubmed' "
                         "ORDER BY len(databank_ids) DESC, pmid", limit=5))}
    return dg.MaterializeResult(metadata=meta)


@dg.asset(key=REVIEWS_KEY, group_name="literature", kinds={"duckdb", "python"},
          description="Systematic-review collections (SYNERGY, Cohen/DERP, CLEF TAR, sysrev-seed, TrialMind-SLR): "
                      "each review's setup in reviews, review -> candidate links with label and stage in "
                      "relations, candidate records with abstracts in literature.")
def reviews(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
            literature: LiteratureResource) -> dg.MaterializeResult:
    rows = []
    with warehouse.connect() as con:
        for fmt in FORMATS:
            paths = literature.review_paths.get(fmt)
            if not paths and not (literature.reviews_embedded and fmt in REVIEWS_EMBEDDED):
                continue
            counts = import_reviews(con, fmt, paths or None)
            context.log.info(f"{fmt}: {counts['reviews']} reviews, {counts['candidates']} candidates, "
                             f"{counts['included']} included, {len(counts.get('skipped_items') or [])} skipped")
            rows.append((fmt, counts["reviews"], counts["candidates"], counts["included"], counts["excluded"],
                         counts["articles"]))
        total = con.execute("SELECT count(*) FROM reviews").fetchone()[0]
        meta = {"reviews": total, "dagster/row_count": total,
                "collections": dg.MetadataValue.md(
                    "| collection | reviews | candidates | included | excluded | articles |\n|---|---|---|---|---|---|\n"
                    + "\n".join("| " + " | ".join(map(str, r)) + " |" for r in rows)),
                "preview": dg.MetadataValue.md(markdown_table(
                    con, "SELECT review_id, title, candidates, included, included_final FROM reviews ORDER BY 1",
                    limit=8))}
    return dg.MaterializeResult(metadata=meta)


@dg.asset(key=TRIAL_ARTICLES_KEY, group_name="link", kinds={"duckdb", "python"},
          deps=[PUBMED_KEY, REVIEWS_KEY, dg.AssetKey(["core", "studies"]), dg.AssetKey(["core", "relations"])],
          description="Trial <-> article links: registry ids in PubMed DataBankList, abstracts and titles "
                      "(relations with origin 'pubmed' and their evidence), beside the registries' own "
                      "reference lists.")
def trial_articles(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.connect() as con:
        report = trial_links.link_articles(con)
        coverage = trial_links.link_coverage(con)
        context.log.info(f"{report} {coverage}")
        meta = {**{k: v for k, v in report.items() if isinstance(v, int)},
                "by_evidence": dg.MetadataValue.json(report["by_evidence"]),
                "coverage": dg.MetadataValue.json(coverage), "dagster/row_count": report["links"],
                "preview": dg.MetadataValue.md(markdown_table(
                    con, "SELECT head_id, tail_id, evidence, confidence, study_id FROM relations "
                         "WHERE origin = 'pubmed' ORDER BY confidence DESC, head_id", limit=8))}
    return dg.MaterializeResult(metadata=meta)


@dg.asset_check(asset=REVIEWS_KEY, blocking=True,
                description="each review's included/candidate counts equal its labelled relations")
def review_counts_match_relations(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.connect(read_only=True) as con:
        bad = con.execute("""
            SELECT r.review_id, r.candidates, r.included, count(DISTINCT l.tail_id) AS linked,
                   count(DISTINCT l.tail_id) FILTER (WHERE l.label = 'included') AS linked_included
            FROM reviews r LEFT JOIN relations l ON l.head_id = r.review_id AND l.relation_type = 'review_candidate'
            GROUP BY ALL HAVING linked <> r.candidates OR linked_included <> r.included
            ORDER BY 1 LIMIT 20""").fetchall()
        n = con.execute("SELECT count(*) FROM reviews").fetchone()[0]
        return check_result(CheckOutcome(not bad, f"{len(bad)} of {n} reviews disagree with their relations",
                                         {"disagreeing": [list(map(str, b)) for b in bad]}))


@dg.asset_check(asset=TRIAL_ARTICLES_KEY, blocking=True,
                description="article->trial links name a loaded study only when it exists (links to trials "
                            "not loaded keep a NULL study_id and are counted)")
def trial_article_links_valid(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.connect(read_only=True) as con:
        total, unloaded, dangling = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE r.study_id IS NULL), "
            "count(*) FILTER (WHERE r.study_id IS NOT NULL AND s.study_id IS NULL) "
            "FROM relations r LEFT JOIN studies s ON s.study_id = r.study_id WHERE r.origin = 'pubmed'").fetchone()
        examples = [r[0] for r in con.execute("SELECT DISTINCT head_id FROM relations WHERE origin = 'pubmed' AND "
                                              "study_id IS NULL ORDER BY 1 LIMIT 10").fetchall()]
        return check_result(CheckOutcome(
            dangling == 0, f"{total} links: {dangling} name a study that does not exist; {unloaded} cite a trial "
                           f"not in the warehouse", {"links": total, "dangling": dangling,
                                                     "trial_not_loaded": unloaded, "examples": examples}))


LITERATURE_ASSETS = [pubmed, reviews, trial_articles]
LITERATURE_CHECKS = [review_counts_match_relations, trial_article_links_valid]
