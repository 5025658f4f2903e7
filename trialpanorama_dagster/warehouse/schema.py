"""The unified warehouse schema, defined once.

Every table the project writes is declared here as an ordered list of (column, DuckDB type).
The DDL, the writers (which build Arrow tables in this column order) and the checks all read
these declarations, so SQL identifiers only ever come from this fixed list.

The eleven TrialPanorama tables keep the spec's column names (``studies``, ``conditions``,
``drugs``, ``drug_moa``, ``disposition``, ``endpoints``, ``biomarkers``, ``outcomes``,
``adverse_events``, ``results``, ``relations``); the columns after them carry what the task
builders need. Supporting tables (``arm_groups``, ``interventions``, ``secondary_ids``,
``mesh_terms``, ``locations``) hold the trial design at the grain the tasks read it.

``study_type`` is the kind of record (``trial`` for a registry record); the registry's own
study type (INTERVENTIONAL / OBSERVATIONAL / EXPANDED_ACCESS) is ``trial_type``.
"""
from __future__ import annotations

from dataclasses import dataclass

SCHEMA_VERSION = "3"


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[tuple[str, str], ...]
    primary_key: tuple[str, ...] = ()
    # tables keyed by study: rebuilt per study, atomically, when a study changes
    per_study: bool = True
    description: str = ""
    # which rows a study's registry record owns (SQL predicate); other rows (linkage) outlive a reload
    registry_rows: str = "true"

    @property
    def column_names(self) -> list[str]:
        return [c for c, _ in self.columns]

    def ddl(self) -> str:
        cols = [f"{c} {t}" for c, t in self.columns]
        if self.primary_key:
            cols.append(f"PRIMARY KEY ({', '.join(self.primary_key)})")
        return f"CREATE TABLE IF NOT EXISTS {self.name} (\n  " + ",\n  ".join(cols) + "\n)"


def _t(name, cols, pk=(), per_study=True, description="", registry_rows="true"):
    parsed = tuple(tuple(part.strip() for part in c.split(" ", 1)) for c in cols)
    return Table(name, parsed, tuple(pk), per_study, description, registry_rows)


STUDIES = _t("studies", [
    "study_id VARCHAR NOT NULL", "study_source VARCHAR NOT NULL", "study_type VARCHAR",
    "trial_type VARCHAR", "title VARCHAR", "official_title VARCHAR", "acronym VARCHAR",
    "abstract VARCHAR", "detailed_description VARCHAR",
    "sponsor VARCHAR", "sponsor_class VARCHAR", "collaborators VARCHAR[]",
    "start_date DATE", "start_date_precision VARCHAR", "start_date_type VARCHAR", "start_year INTEGER",
    "primary_completion_date DATE", "primary_completion_date_type VARCHAR",
    "completion_date DATE", "completion_date_type VARCHAR",
    "first_submitted_date DATE", "first_posted_date DATE", "results_first_posted_date DATE",
    "last_update_posted_date DATE",
    "recruitment_status VARCHAR", "recruitment_status_original VARCHAR", "last_known_status VARCHAR",
    "why_stopped VARCHAR",
    "phase VARCHAR", "phase_original VARCHAR",
    "actual_accrual INTEGER", "accrual_type VARCHAR",
    "allocation VARCHAR", "intervention_model VARCHAR", "observational_model VARCHAR",
    "time_perspective VARCHAR", "primary_purpose VARCHAR", "masking VARCHAR", "who_masked VARCHAR[]",
    "number_of_arms INTEGER",
    "eligibility_criteria VARCHAR", "sex VARCHAR", "minimum_age VARCHAR", "maximum_age VARCHAR",
    "minimum_age_years DOUBLE", "maximum_age_years DOUBLE", "healthy_volunteers BOOLEAN",
    "std_ages VARCHAR[]", "keywords VARCHAR[]", "countries VARCHAR[]",
    "org_study_id VARCHAR", "nct_aliases VARCHAR[]", "has_results BOOLEAN",
    "source_version VARCHAR", "payload_hash VARCHAR",
], pk=("study_id",), description="One row per registry record (the paper's studies table).")

CONDITIONS = _t("conditions", [
    "study_id VARCHAR NOT NULL", "study_type VARCHAR", "condition_name VARCHAR",
    "condition_mesh_id VARCHAR", "condition_mesh_type VARCHAR", "condition_mesh_term VARCHAR",
    "mesh_match VARCHAR", "condition_order INTEGER",
], description="One row per listed condition; MeSH id from the registry's own mapping where it gives one.")

DRUGS = _t("drugs", [
    "study_id VARCHAR NOT NULL", "study_type VARCHAR", "drug_moa_id VARCHAR", "drug_name VARCHAR",
    "rx_normalized_name VARCHAR", "rx_source VARCHAR", "rx_mapping_id DOUBLE",
    "drugbank_name VARCHAR", "drugbank_id VARCHAR", "drugbank_mesh_id VARCHAR",
    "intervention_type VARCHAR", "other_names VARCHAR[]", "description VARCHAR",
], description="One row per drug or biological intervention; ontology columns are filled by the linker.")

DRUG_MOA = _t("drug_moa", [
    "drug_moa_id VARCHAR NOT NULL", "drug_name VARCHAR", "target_name VARCHAR", "gene VARCHAR",
    "swissprot VARCHAR", "organism VARCHAR", "act_value DOUBLE", "act_unit VARCHAR", "act_type VARCHAR",
    "act_comment VARCHAR", "act_source VARCHAR", "action_type VARCHAR", "moa VARCHAR",
], per_study=False, description="Drug mechanism of action / targets, keyed by drug_moa_id.")

DISPOSITION = _t("disposition", [
    "study_id VARCHAR NOT NULL", "intervention_type VARCHAR", "group_type VARCHAR",
    "intervention_name VARCHAR", "intervention_description VARCHAR", "study_type VARCHAR",
    "number_of_subjects INTEGER", "group_label VARCHAR", "group_description VARCHAR",
], description="One row per arm group x intervention (an arm with no intervention, or an "
               "intervention with no arm, gets one row with the other side NULL).")

ENDPOINTS = _t("endpoints", [
    "study_id VARCHAR NOT NULL", "study_type VARCHAR", "endpoint_type VARCHAR", "endpoint_order INTEGER",
    "measure VARCHAR", "description VARCHAR", "time_frame VARCHAR",
    "primary_endpoint VARCHAR", "primary_endpoint_domain VARCHAR", "primary_endpoint_subdomain VARCHAR",
], description="One row per outcome measure (PRIMARY / SECONDARY / OTHER).")

BIOMARKERS = _t("biomarkers", [
    "study_id VARCHAR NOT NULL", "study_type VARCHAR", "biomarker_type VARCHAR",
    "biomarker_name VARCHAR", "biomarker_genes VARCHAR[]", "origin VARCHAR",
], description="Biomarkers named by a study, with their HGNC gene symbols; origin 'linker' for those "
               "the linker read from criteria, conditions and titles.")

OUTCOMES = _t("outcomes", [
    "study_id VARCHAR NOT NULL", "study_type VARCHAR", "overall_status VARCHAR", "outcome_type VARCHAR",
    "why_terminated VARCHAR", "has_results BOOLEAN",
], pk=("study_id",), description="The trial's outcome: status, completion class and why it stopped.")

ADVERSE_EVENTS = _t("adverse_events", [
    "study_id VARCHAR NOT NULL", "study_type VARCHAR", "adverse_event_name VARCHAR",
    "adverse_event_description VARCHAR", "is_serious BOOLEAN", "meddra_id VARCHAR", "meddra_id_type VARCHAR",
    "organ_system VARCHAR", "source_vocabulary VARCHAR", "vocabulary_version VARCHAR",
    "assessment_type VARCHAR", "num_affected INTEGER", "num_at_risk INTEGER", "num_events INTEGER",
], description="One row per reported adverse-event term (serious and other), totals over groups.")

RESULTS = _t("results", [
    "study_id VARCHAR NOT NULL", "study_type VARCHAR", "population VARCHAR", "interventions VARCHAR",
    "outcomes VARCHAR", "group_type VARCHAR", "outcome_type VARCHAR", "group_id VARCHAR",
    "param_type VARCHAR", "dispersion_type VARCHAR", "unit_of_measure VARCHAR", "time_frame VARCHAR",
    "class_title VARCHAR", "category_title VARCHAR", "value VARCHAR", "value_numeric DOUBLE",
    "spread VARCHAR", "lower_limit VARCHAR", "upper_limit VARCHAR", "participants INTEGER",
], description="Reported outcome results: one row per outcome measure x group x class/category.")

RELATIONS = _t("relations", [
    "head_id VARCHAR NOT NULL", "head_type VARCHAR", "tail_id VARCHAR NOT NULL", "tail_type VARCHAR",
    "relation_type VARCHAR", "reference_type VARCHAR", "citation VARCHAR", "study_id VARCHAR",
    "label VARCHAR", "stage VARCHAR", "evidence VARCHAR", "confidence DOUBLE", "origin VARCHAR",
], description="Links between records. Registry rows (origin NULL): study -> PubMed reference. "
               "Linkage rows (origin 'pubmed' or 'review:<collection>'): article <-> trial with the "
               "evidence, and review -> candidate study with label (included/excluded) and stage.",
   registry_rows="origin IS NULL")

ARM_GROUPS = _t("arm_groups", [
    "study_id VARCHAR NOT NULL", "group_order INTEGER", "label VARCHAR", "group_type VARCHAR",
    "description VARCHAR", "intervention_names VARCHAR[]",
], description="Arm groups as registered, with the names of their interventions.")

INTERVENTIONS = _t("interventions", [
    "study_id VARCHAR NOT NULL", "intervention_order INTEGER", "intervention_type VARCHAR",
    "intervention_name VARCHAR", "description VARCHAR", "other_names VARCHAR[]", "arm_group_labels VARCHAR[]",
], description="Every registered intervention of any type.")

SECONDARY_IDS = _t("secondary_ids", [
    "study_id VARCHAR NOT NULL", "secondary_id VARCHAR", "id_type VARCHAR", "domain VARCHAR", "link VARCHAR",
], description="Secondary identifiers (other registries, grants, sponsor ids).")

MESH_TERMS = _t("mesh_terms", [
    "study_id VARCHAR NOT NULL", "domain VARCHAR", "mesh_id VARCHAR", "mesh_term VARCHAR", "is_ancestor BOOLEAN",
], description="MeSH descriptors the registry derived for conditions and interventions, with ancestors.")

LOCATIONS = _t("locations", [
    "study_id VARCHAR NOT NULL", "facility VARCHAR", "city VARCHAR", "state VARCHAR", "country VARCHAR",
    "status VARCHAR",
], description="Sites.")

# Tables filled from one study record, in load order.
STUDY_TABLES: tuple[Table, ...] = (
    STUDIES, CONDITIONS, DRUGS, DISPOSITION, ENDPOINTS, OUTCOMES, ADVERSE_EVENTS, RESULTS, RELATIONS,
    ARM_GROUPS, INTERVENTIONS, SECONDARY_IDS, MESH_TERMS, LOCATIONS, BIOMARKERS,
)
# The eleven tables of the paper, as published.
PAPER_TABLES = ("studies", "conditions", "drugs", "drug_moa", "disposition", "endpoints", "biomarkers",
                "outcomes", "adverse_events", "results", "relations")

RAW_RECORDS = _t("raw_records", [
    "source VARCHAR NOT NULL", "source_id VARCHAR NOT NULL", "payload VARCHAR NOT NULL",
    "payload_format VARCHAR NOT NULL", "payload_hash VARCHAR NOT NULL", "fetched_at TIMESTAMPTZ NOT NULL",
    "source_version VARCHAR", "origin VARCHAR", "load_id VARCHAR",
], pk=("source", "source_id", "payload_hash"), per_study=False,
   description="Every payload exactly as received; immutable, one row per distinct version.")

QUARANTINE = _t("quarantine", [
    "source VARCHAR", "source_id VARCHAR", "origin VARCHAR", "reason VARCHAR NOT NULL", "payload VARCHAR",
    "quarantined_at TIMESTAMPTZ", "load_id VARCHAR", "fingerprint VARCHAR NOT NULL",
], pk=("fingerprint",), per_study=False,
   description="Inputs that could not be loaded, with the reason; nothing in it reaches the core tables.")

LOAD_EVENTS = _t("load_events", [
    "load_id VARCHAR NOT NULL", "source VARCHAR", "kind VARCHAR", "started_at TIMESTAMPTZ",
    "finished_at TIMESTAMPTZ", "inputs VARCHAR[]", "records_seen INTEGER", "records_loaded INTEGER",
    "records_unchanged INTEGER", "records_quarantined INTEGER", "status VARCHAR", "detail VARCHAR",
], pk=("load_id",), per_study=False, description="One row per load or fetch run.")

SYNC_STATE = _t("sync_state", [
    "source VARCHAR NOT NULL", "key VARCHAR NOT NULL", "value VARCHAR", "updated_at TIMESTAMPTZ",
], pk=("source", "key"), per_study=False,
   description="Cursors of incremental extracts (last update date, page token of an interrupted run).")

CONTROL_TABLES: tuple[Table, ...] = (RAW_RECORDS, QUARANTINE, LOAD_EVENTS, SYNC_STATE)

# Cross-registry dedup clusters (rebuilt as a whole by warehouse.clusters.build_clusters).
TRIAL_CLUSTERS = _t("trial_clusters", [
    "study_id VARCHAR NOT NULL", "study_source VARCHAR", "cluster_id VARCHAR NOT NULL", "is_primary BOOLEAN",
    "cluster_size INTEGER", "confidence DOUBLE", "primary_rule VARCHAR",
], pk=("study_id",), per_study=False,
   description="Every study's cross-registry cluster (singletons included) and whether it is the primary.")

CLUSTER_EVIDENCE = _t("cluster_evidence", [
    "cluster_id VARCHAR NOT NULL", "study_id_a VARCHAR NOT NULL", "study_id_b VARCHAR NOT NULL",
    "evidence_type VARCHAR", "shared_id VARCHAR", "field VARCHAR", "confidence DOUBLE",
], per_study=False, description="Why two studies are in one cluster: the id that links them and where it was read.")

CLUSTER_REVIEW = _t("cluster_review", [
    "study_id_a VARCHAR NOT NULL", "study_id_b VARCHAR NOT NULL", "title_similarity DOUBLE",
    "sponsor_match BOOLEAN", "date_gap_days INTEGER", "reason VARCHAR",
], per_study=False, description="Title look-alikes in different clusters, for review (never merged automatically).")

LINKAGE_TABLES: tuple[Table, ...] = (TRIAL_CLUSTERS, CLUSTER_EVIDENCE, CLUSTER_REVIEW)

# Ontologies: one release per ontology at a time; every table is replaced per ontology on load.
ONTOLOGY_RELEASES = _t("ontology_releases", [
    "ontology VARCHAR NOT NULL", "release VARCHAR", "source VARCHAR", "content_hash VARCHAR",
    "loaded_at TIMESTAMPTZ", "concepts INTEGER", "terms INTEGER", "xrefs INTEGER", "skipped VARCHAR",
], pk=("ontology",), per_study=False, description="Which release of each ontology is loaded, from where.")

ONTOLOGY_CONCEPTS = _t("ontology_concepts", [
    "ontology VARCHAR NOT NULL", "concept_id VARCHAR NOT NULL", "name VARCHAR", "concept_type VARCHAR",
    "parents VARCHAR[]", "tree_numbers VARCHAR[]", "obsolete BOOLEAN", "attributes VARCHAR",
], pk=("ontology", "concept_id"), per_study=False,
   description="Concepts (MeSH descriptors and SCRs, OBO terms, DrugBank drugs, ATC codes, RxNorm concepts).")

ONTOLOGY_TERMS = _t("ontology_terms", [
    "ontology VARCHAR NOT NULL", "concept_id VARCHAR NOT NULL", "term VARCHAR NOT NULL", "term_type VARCHAR",
], per_study=False, description="Every name of a concept: preferred name, entry terms, synonyms, brand names.")

ONTOLOGY_XREFS = _t("ontology_xrefs", [
    "ontology VARCHAR NOT NULL", "concept_id VARCHAR NOT NULL", "xref VARCHAR NOT NULL", "xref_type VARCHAR",
], per_study=False, description="Cross-references as PREFIX:ID (MESH:D003920, UMLS:C0011849, DRUGBANK:DB00331 ...).")

TERM_LINKS = _t("term_links", [
    "domain VARCHAR NOT NULL", "term VARCHAR NOT NULL", "norm_term VARCHAR", "ontology VARCHAR NOT NULL",
    "concept_id VARCHAR", "concept_name VARCHAR", "method VARCHAR", "score DOUBLE", "release VARCHAR",
    "reason VARCHAR",
], pk=("domain", "term", "ontology"), per_study=False,
   description="Each distinct registry term linked to an ontology: the id, how (source/exact/synonym/"
               "normalised/fuzzy + score) and from which release, or NULL with the reason.")

LITERATURE = _t("literature", [
    "article_id VARCHAR NOT NULL", "pmid VARCHAR", "doi VARCHAR", "pmcid VARCHAR", "title VARCHAR",
    "abstract VARCHAR", "journal VARCHAR", "year INTEGER", "publication_types VARCHAR[]",
    "mesh_ids VARCHAR[]", "mesh_terms VARCHAR[]", "databank_ids VARCHAR[]", "language VARCHAR",
    "source VARCHAR", "payload_hash VARCHAR",
], pk=("article_id",), per_study=False,
   description="Articles (PubMed citations and review-collection records); article_id is PMID:<n> when known.")

REVIEWS = _t("reviews", [
    "review_id VARCHAR NOT NULL", "collection VARCHAR", "title VARCHAR", "background VARCHAR",
    "objectives VARCHAR", "selection_criteria VARCHAR", "boolean_query VARCHAR", "review_pmid VARCHAR",
    "doi VARCHAR", "candidates INTEGER", "included INTEGER", "included_final INTEGER", "source_path VARCHAR",
], pk=("review_id",), per_study=False,
   description="Systematic reviews: their setup (objectives, criteria, query) and label counts.")

ONTOLOGY_TABLES: tuple[Table, ...] = (ONTOLOGY_RELEASES, ONTOLOGY_CONCEPTS, ONTOLOGY_TERMS, ONTOLOGY_XREFS,
                                      TERM_LINKS)
LITERATURE_TABLES: tuple[Table, ...] = (LITERATURE, REVIEWS)

# Task sample sets: one row per sample, the reference-shaped record and our lineage as JSON text.
TASK_SAMPLES = _t("task_samples", [
    "task VARCHAR NOT NULL", "sample_id VARCHAR NOT NULL", "split VARCHAR NOT NULL", "split_key VARCHAR NOT NULL",
    "record VARCHAR NOT NULL", "lineage VARCHAR NOT NULL", "label VARCHAR", "builder_version VARCHAR NOT NULL",
], pk=("task", "sample_id"), per_study=False,
   description="Samples of the eight tasks: record (the reference's fields), lineage (sources, cluster, split "
               "key), label (for distributions), split train/test by a stable hash of split_key.")

TASK_SETS = _t("task_sets", [
    "task VARCHAR NOT NULL", "version VARCHAR NOT NULL", "builder_version VARCHAR", "config VARCHAR",
    "train INTEGER", "test INTEGER", "built_at TIMESTAMPTZ", "inputs_hash VARCHAR",
], pk=("task",), per_study=False,
   description="The current version of each task set: a content hash of its samples, counts, build config.")

TASK_TABLES: tuple[Table, ...] = (TASK_SAMPLES, TASK_SETS)

# Benchmark runs: one row per (run, task, metric); the newest run of a model and task is its result.
BENCH_RESULTS = _t("bench_results", [
    "run_id VARCHAR NOT NULL", "model VARCHAR NOT NULL", "backend VARCHAR NOT NULL", "task VARCHAR NOT NULL",
    "metric VARCHAR NOT NULL", "value DOUBLE", "n INTEGER", "split VARCHAR", "set_version VARCHAR",
    "run_at TIMESTAMPTZ", "seconds DOUBLE", "config VARCHAR",
], pk=("run_id", "task", "metric"), per_study=False,
   description="Benchmark figures: a model's metric on a task's sample set (version, split, n), per run.")

BENCH_PREDICTIONS = _t("bench_predictions", [
    "run_id VARCHAR NOT NULL", "model VARCHAR NOT NULL", "task VARCHAR NOT NULL", "sample_id VARCHAR NOT NULL",
    "output VARCHAR", "parsed BOOLEAN", "score VARCHAR", "error VARCHAR",
], pk=("run_id", "task", "sample_id"), per_study=False,
   description="What a model answered for each benchmark sample: raw output, parsed or not, the per-sample "
               "score row (JSON), and the backend's error when it gave up on the prompt.")

BENCH_TABLES: tuple[Table, ...] = (BENCH_RESULTS, BENCH_PREDICTIONS)
ALL_TABLES: tuple[Table, ...] = (STUDY_TABLES + (DRUG_MOA,) + CONTROL_TABLES + LINKAGE_TABLES
                                 + ONTOLOGY_TABLES + LITERATURE_TABLES + TASK_TABLES + BENCH_TABLES)
TABLES: dict[str, Table] = {t.name: t for t in ALL_TABLES}


def table(name: str) -> Table:
    """Look a table up by name; only declared tables exist (identifiers never come from users)."""
    try:
        return TABLES[name]
    except KeyError:
        raise KeyError(f"unknown warehouse table {name!r}; known: {sorted(TABLES)}") from None
