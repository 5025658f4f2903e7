"""The linker on the embedded registries and ontologies: methods, fills, quality, idempotence, CLI."""
import subprocess
import sys

import duckdb
import polars as pl
import pytest

from tests.support.paths import REGISTRY_FOLDERS, ROOT, shared_fixtures
from trialpanorama_dagster.cli import main
from trialpanorama_dagster.ontologies import link_quality
from trialpanorama_dagster.ontologies.catalog import load_ontology
from trialpanorama_dagster.ontologies.dictionaries import CONCEPT_RANK, dictionary
from trialpanorama_dagster.ontologies.linker import LinkOptions, OntologyIndex
from trialpanorama_dagster.ontologies.pipeline import run_linkage
from trialpanorama_dagster.ontologies.store import store_release
from trialpanorama_dagster.warehouse.db import connect

DATA = ROOT / "trialpanorama_dagster" / "data"
ATC_CSV = shared_fixtures() / "ontologies" / "atc" / "who_atc_ddd_2026-04-25_subset.csv"
LINKED_TABLES = ("term_links", "conditions", "drugs", "drug_moa", "biomarkers")


def snapshot(con):
    return [con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in LINKED_TABLES]


@pytest.fixture(scope="module")
def linked(tmp_path_factory):
    db = tmp_path_factory.mktemp("link") / "w.duckdb"
    assert main(["load", *map(str, REGISTRY_FOLDERS), "--db", str(db), "--quiet", "--workers", "0"]) == 0
    con = connect(db)
    report = run_linkage(con, ontology_paths={"atc": [ATC_CSV]})
    first = snapshot(con)
    again = run_linkage(con, ontology_paths={"atc": [ATC_CSV]})
    yield con, report, first, again
    con.close()


def links(con, domain, ontology):
    return {t: (cid, m) for t, cid, m in con.execute(
        "SELECT term, concept_id, method FROM term_links WHERE domain = ? AND ontology = ?",
        [domain, ontology]).fetchall()}


def test_linking_twice_gives_identical_tables(linked):
    con, report, first, again = linked
    for name, before, now in zip(LINKED_TABLES, first, snapshot(con)):
        assert before == now, (name, [r for r in before if r not in now][:3], [r for r in now if r not in before][:3])
    assert [o["ontology"] for o in report["ontologies"]] == ["atc", "doid", "drugbank", "hpo", "mesh", "mondo"]


def test_every_term_of_every_registry_gets_a_row_with_an_id_or_a_reason(linked):
    con = linked[0]
    n_conditions = con.execute("SELECT count(DISTINCT condition_name) FROM conditions").fetchone()[0]
    for ontology in ("mesh", "mondo", "doid"):
        rows = con.execute("SELECT count(*), count(*) FILTER (WHERE concept_id IS NULL AND reason IS NULL "
                           "AND method IS NULL) FROM term_links WHERE domain = 'condition' AND ontology = ?",
                           [ontology]).fetchone()
        assert rows[0] >= n_conditions and rows[1] == 0
    assert con.execute("SELECT count(*) FROM term_links WHERE concept_id IS NOT NULL AND method IS NULL").fetchone()[0] == 0
    reasons = {r[0].split(" (")[0].split(":")[0] for r in con.execute(
        "SELECT DISTINCT reason FROM term_links WHERE reason IS NOT NULL").fetchall()}
    assert {"no match", "rxnorm not loaded", "registry vocabulary is not MedDRA"} <= reasons


def test_methods_on_real_terms(linked):
    con = linked[0]
    mesh = links(con, "condition", "mesh")
    assert mesh["Diabetes Mellitus"] == ("D003920", "source")          # the registry's own id
    assert mesh["Coronavirus infection"] == ("D018352", "normalised")   # plural
    assert mesh["Type 2 diabetes mellitus"] == ("D003924", "normalised")  # word order (MeSH: "..., Type 2")
    assert mesh["Intervertebral Disk Degeneration"] == ("D055959", "fuzzy")
    drugs = links(con, "drug", "drugbank")
    assert drugs["Atorvastatin 40mg/Day"] == ("DB01076", "normalised")  # dosage words
    assert drugs["Csa"] == ("DB00091", "synonym")
    assert drugs["Bevacizumab"] == ("DB00112", "exact")
    assert drugs["Placebo"][0] is None
    doid = links(con, "condition", "doid")
    assert doid["Cardiovascular Diseases"] == ("DOID:1287", "xref")     # through DOID's MeSH xref
    assert doid["Prostate Cancer"] == ("DOID:10283", "exact")
    score = con.execute("SELECT score FROM term_links WHERE method = 'fuzzy' AND term = "
                        "'Intervertebral Disk Degeneration'").fetchone()[0]
    assert 90 <= score < 100


def test_columns_of_the_spec_are_filled(linked):
    con = linked[0]
    row = con.execute("SELECT drugbank_id, drugbank_name, drug_moa_id FROM drugs WHERE drug_name = 'Bevacizumab' "
                      "LIMIT 1").fetchone()
    assert row == ("DB00112", "Bevacizumab", "DB00112")
    # a drug found through its other names: "Solu-Cortef" is named "hydrocortisone" too
    filled = con.execute("SELECT count(*) FROM conditions WHERE mesh_match LIKE 'linker:%'").fetchone()[0]
    assert filled > 10
    kept = link_quality.registry_ids_kept(con)
    assert kept.passed, kept.description
    atc = links(con, "drug", "atc")
    assert atc["Atorvastatin 40mg/Day"] == ("C10AA05", "normalised")
    assert atc["pioglitazone hydrochloride"] == ("A10BG03", "normalised")
    moa = con.execute("SELECT drug_moa_id, act_source, moa FROM drug_moa WHERE act_source LIKE 'ATC:%' "
                      "ORDER BY 1").fetchall()
    assert ("DB01076", "ATC:C10AA05", "HMG CoA reductase inhibitors") in moa


def test_adverse_events_keep_the_registry_meddra_term_and_version(linked):
    con = linked[0]
    ae = {t: (m, r, why) for t, m, r, why in con.execute(
        "SELECT term, method, release, reason FROM term_links WHERE domain = 'adverse_event'").fetchall()}
    assert ae["ABDOMINAL PAIN"] == ("source", "16.1", None)
    assert ae["Abdominal pain NOS"] == (None, "2.0", "registry vocabulary is not MedDRA: CTCAE (2.0)")


def test_biomarkers_are_genes_with_a_biomarker_context(linked):
    con = linked[0]
    rows = con.execute("SELECT study_id, biomarker_name, biomarker_genes FROM biomarkers WHERE origin = 'linker'"
                       ).fetchall()
    by_study = {}
    for sid, name, genes in rows:
        by_study.setdefault(sid, set()).update(genes)
    assert {"EGFR", "ALK"} <= by_study["NCT02679963"]
    assert "G6PD" in by_study["NCT02654730"]
    assert all(genes for _, _, genes in rows)


def test_precision_on_the_hand_labelled_sample(linked):
    con = linked[0]
    gold = link_quality.read_gold()
    assert len(gold) >= 150
    assert {g["domain"] for g in gold} == {"condition", "drug"}
    result = link_quality.precision(con, gold)
    overall = result["overall"]
    assert overall["present"] == overall["gold"]
    assert overall["precision"] >= 0.95, result["wrong"]
    assert overall["recall"] >= 0.4
    assert link_quality.precision_outcome(con).passed


def test_collisions_are_found(tmp_path):
    """Two concepts sharing a name are never guessed between: the term stays unlinked, reason given."""
    entries = pl.DataFrame({
        "concept_id": ["DB1", "DB2", "DB3"], "term": ["Xylo", "xylo", "Other"],
        "term_type": ["preferred", "preferred", "preferred"], "concept_name": ["Xylo", "xylo", "Other"],
        "concept_type": [None, None, None], "release": ["r1"] * 3})
    out = OntologyIndex(entries, "drug", CONCEPT_RANK).link(["XYLO", "other"]).sort("term")
    assert out.row(0, named=True)["reason"] == "ambiguous: DB1, DB2"
    assert out.row(1, named=True)["concept_id"] == "DB3"


def test_dictionary_from_a_loaded_ontology_links_brand_salt_and_accent_forms(tmp_path):
    con = connect(tmp_path / "w.duckdb")
    store_release(con, load_ontology("drugbank"))
    index = OntologyIndex(dictionary(con, "drugbank", "drug"), "drug", CONCEPT_RANK, LinkOptions(fuzzy=False))
    out = {r["term"]: (r["concept_id"], r["method"]) for r in index.link(
        ["Cétuximab", "CETUXIMAB 5 mg/mL solution for infusion", "Lepirudin recombinant", "unobtainium"]
    ).iter_rows(named=True)}
    assert out["Cétuximab"] == ("DB00002", "synonym")
    assert out["CETUXIMAB 5 mg/mL solution for infusion"] == ("DB00002", "normalised")
    assert out["Lepirudin recombinant"] == ("DB00001", "synonym")
    assert out["unobtainium"][0] is None
    con.close()


def test_link_cli_prints_coverage(tmp_path):
    db = tmp_path / "w.duckdb"
    assert main(["load", str(DATA / "ctgov"), "--db", str(db), "--quiet", "--workers", "0"]) == 0
    out = subprocess.run([sys.executable, "-m", "trialpanorama_dagster.cli", "link", "--db", str(db)],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "ontology mesh" in out.stdout and "conditions" in out.stdout and "condition/mesh" in out.stdout
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM term_links").fetchone()[0] > 100
    con.close()
    bad = subprocess.run([sys.executable, "-m", "trialpanorama_dagster.cli", "link", "--db", str(db),
                          "--ontology", "mesh=/nonexistent/desc.xml"], cwd=ROOT, capture_output=True, text=True,
                         timeout=300)
    assert bad.returncode != 0 and "/nonexistent/desc.xml" in bad.stderr
