"""ontology/<name> (loaders) and link/conditions|drugs|adverse_events|biomarkers (the linker)."""
import json

import dagster as dg

from ..ontologies import link_quality, pipeline
from ..ontologies.catalog import EMBEDDED
from ..resources.ontologies import OntologyResource
from ..resources.warehouse import WarehouseResource
from .checks import check_result
from .metadata import markdown_table

ONTOLOGY_NAMES = ("mesh", "mondo", "doid", "hpo", "drugbank", "atc", "rxnorm", "hgnc")
ONTOLOGY_DOC = {
    "mesh": "MeSH descriptors, entry terms, tree numbers and supplementary concepts (XML or RDF N-Triples).",
    "mondo": "MONDO disease ontology (OBO): names, synonyms, xrefs to MeSH/UMLS/ICD/DOID, and its HGNC genes.",
    "doid": "Human Disease Ontology (OBO): names, synonyms, MeSH/UMLS/ICD xrefs.",
    "hpo": "Human Phenotype Ontology (OBO).",
    "drugbank": "DrugBank open vocabulary (CC0): names, synonyms, CAS, UNII, retired accessions.",
    "atc": "WHO ATC classification (code, name, level, parent); configure a path (not embedded: licence).",
    "rxnorm": "RxNorm RXNCONSO concepts and names (brand names too); configure a path (UMLS licence).",
    "hgnc": "HGNC gene symbols, aliases and previous symbols; configure a path.",
}


def _ontology_asset(name: str) -> dg.AssetsDefinition:
    @dg.asset(key=dg.AssetKey(["ontology", name]), group_name="ontology", kinds={"duckdb", "python"},
              description=ONTOLOGY_DOC[name])
    def _asset(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
               ontologies: OntologyResource) -> dg.MaterializeResult:
        files = ontologies.files(name)
        if not files and not EMBEDDED.get(name):
            context.log.info(f"{name}: no files configured and no embedded default; nothing loaded "
                             f"(set resources.ontologies.config.paths.{name})")
            return dg.MaterializeResult(metadata={"loaded": False, "reason": "no files configured"})
        with warehouse.connect() as con:
            report = pipeline.load_one(con, name, files or None)
        context.log.info(f"{name}: release {report['release']} from {report['source']}: {report['concepts']} "
                         f"concepts, {report['terms']} names, {report['xrefs']} xrefs")
        for s in report["skipped"]:
            context.log.warning(f"{name}: skipped {s}")
        return dg.MaterializeResult(metadata={
            "loaded": True, "release": str(report["release"]), "source": report["source"],
            "concepts": report["concepts"], "terms": report["terms"], "xrefs": report["xrefs"],
            "skipped": dg.MetadataValue.json(report["skipped"]), "seconds": report["seconds"],
            "dagster/row_count": report["concepts"]})
    return _asset


ONTOLOGY_ASSETS = [_ontology_asset(n) for n in ONTOLOGY_NAMES]

CONDITIONS_KEY = dg.AssetKey(["link", "conditions"])
DRUGS_KEY = dg.AssetKey(["link", "drugs"])
ADVERSE_KEY = dg.AssetKey(["link", "adverse_events"])
BIOMARKERS_KEY = dg.AssetKey(["link", "biomarkers"])


def _o(*names):
    return [dg.AssetKey(["ontology", n]) for n in names]


def _link_metadata(con, report: dict, domain: str, ontology: str, table: str) -> dict:
    cov = link_quality.coverage(con, [table])[table]
    meta = {
        "report": dg.MetadataValue.json(report),
        "rows": cov["rows"], "rows_linked": cov["linked"], "coverage": cov["share"],
        "coverage_by_source": dg.MetadataValue.md(
            "| source | rows | linked | share |\n|---|---|---|---|\n" + "\n".join(
                f"| {s} | {v['rows']} | {v['linked']} | {v['share']} |" for s, v in cov["by_source"].items())),
        "methods": dg.MetadataValue.json(link_quality.methods(con)),
    }
    if domain != "biomarker":
        meta["top_unlinked"] = dg.MetadataValue.md(
            "| term | rows | reason |\n|---|---|---|\n" + "\n".join(
                f"| {t} | {n} | {r} |".replace("\n", " ") for t, n, r in
                link_quality.top_unlinked(con, domain, ontology)))
    return meta


@dg.asset(key=CONDITIONS_KEY, group_name="link", kinds={"duckdb", "python"},
          deps=[dg.AssetKey(["core", "conditions"]), dg.AssetKey(["core", "mesh_terms"]), *_o("mesh", "mondo", "doid")],
          description="Every registry condition -> MeSH descriptor (registry id first, then exact, synonym, "
                      "normalised, fuzzy), MONDO and DOID (by name or through their MeSH xrefs); fills "
                      "conditions.condition_mesh_id where the registry gave none.")
def link_conditions(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                    ontologies: OntologyResource) -> dg.MaterializeResult:
    with warehouse.connect() as con:
        report = pipeline.link_conditions(con, ontologies.options())
        context.log.info(json.dumps(report))
        return dg.MaterializeResult(metadata=_link_metadata(con, report, "condition", "mesh", "conditions"))


@dg.asset(key=DRUGS_KEY, group_name="link", kinds={"duckdb", "python"},
          deps=[dg.AssetKey(["core", "drugs"]), *_o("drugbank", "rxnorm", "atc", "mesh")],
          description="Drug and biological interventions -> DrugBank (drugbank_id/name), MeSH (drugbank_mesh_id), "
                      "RxNorm (rx_normalized_name) and ATC; rebuilds drug_moa from MeSH pharmacological actions "
                      "and ATC classes.")
def link_drugs(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
               ontologies: OntologyResource) -> dg.MaterializeResult:
    with warehouse.connect() as con:
        report = pipeline.link_drugs(con, ontologies.options())
        context.log.info(json.dumps(report))
        meta = _link_metadata(con, report, "drug", "drugbank", "drugs")
        meta["drug_moa_preview"] = dg.MetadataValue.md(markdown_table(
            con, "SELECT drug_moa_id, drug_name, act_source, action_type, moa FROM drug_moa ORDER BY 1", limit=10))
        return dg.MaterializeResult(metadata=meta)


@dg.asset(key=ADVERSE_KEY, group_name="link", kinds={"duckdb", "python"},
          deps=[dg.AssetKey(["core", "adverse_events"])],
          description="Adverse-event terms keep the MedDRA term, code and version the registry gave (MedDRA "
                      "is licensed: no hierarchy is shipped); other vocabularies (CTCAE ...) are reported.")
def link_adverse_events(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.connect() as con:
        report = pipeline.link_adverse_events(con)
        context.log.info(json.dumps(report))
        return dg.MaterializeResult(metadata=_link_metadata(con, report, "adverse_event", "meddra", "adverse_events"))


@dg.asset(key=BIOMARKERS_KEY, group_name="link", kinds={"duckdb", "python"},
          deps=[dg.AssetKey(["core", "studies"]), dg.AssetKey(["core", "conditions"]), *_o("mondo", "hgnc")],
          description="Gene biomarkers stated in eligibility criteria, conditions and titles (a gene symbol "
                      "next to mutation/positive/expression/...), as HGNC symbols in biomarkers.")
def link_biomarkers(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.connect() as con:
        report = pipeline.link_biomarkers(con)
        context.log.info(json.dumps(report))
        meta = _link_metadata(con, report, "biomarker", "hgnc", "biomarkers")
        meta["preview"] = dg.MetadataValue.md(markdown_table(
            con, "SELECT study_id, biomarker_type, biomarker_name, biomarker_genes FROM biomarkers "
                 "WHERE origin = 'linker' ORDER BY 1, 3", limit=10))
        meta["dagster/row_count"] = report["biomarkers"]
        return dg.MaterializeResult(metadata=meta)


@dg.asset_check(asset=CONDITIONS_KEY, blocking=True,
                description="every MeSH id a registry gave is kept, and only linker-filled ids carry 'linker:'")
def registry_mesh_ids_kept(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.connect(read_only=True) as con:
        return check_result(link_quality.registry_ids_kept(con))


@dg.asset_check(asset=CONDITIONS_KEY, additional_deps=[DRUGS_KEY],
                description="precision on the hand-labelled sample (conditions and drugs) is at least 0.9")
def linker_precision(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.connect(read_only=True) as con:
        return check_result(link_quality.precision_outcome(con), dg.AssetCheckSeverity.WARN)


def _collision_check(key: dg.AssetKey, domain: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=key, name=f"{domain}_link_collisions",
                    description=f"{domain} terms: one normalised term -> two ids of one ontology, or one id "
                                f"reached from unrelated names (warning, listed)")
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.connect(read_only=True) as con:
            return check_result(link_quality.collision_outcome(con, domain), dg.AssetCheckSeverity.WARN)
    return _check


def _coverage_check(key: dg.AssetKey, table: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=key, name=f"{table}_link_coverage",
                    description=f"share of {table} rows linked, overall and per source (fails below the floor)")
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.connect(read_only=True) as con:
            return check_result(link_quality.coverage_outcome(con, table), dg.AssetCheckSeverity.WARN)
    return _check


LINKER_ASSETS = [link_conditions, link_drugs, link_adverse_events, link_biomarkers]
LINKER_CHECKS = [registry_mesh_ids_kept, linker_precision,
                 _collision_check(CONDITIONS_KEY, "condition"), _collision_check(DRUGS_KEY, "drug"),
                 _coverage_check(CONDITIONS_KEY, "conditions"), _coverage_check(DRUGS_KEY, "drugs"),
                 _coverage_check(ADVERSE_KEY, "adverse_events"), _coverage_check(BIOMARKERS_KEY, "biomarkers")]
