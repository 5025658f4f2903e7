"""``load_ontology``: embedded defaults, dispatch by suffix, merging, errors; ``store_release`` into DuckDB."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.support.paths import shared_fixtures
from trialpanorama_dagster.ontologies.catalog import (
    EMBEDDED, ONTOLOGIES, OntologyFileError, OntologyLoadError, load_ontology)
from trialpanorama_dagster.ontologies.model import file_hash
from trialpanorama_dagster.ontologies.store import loaded_releases, store_release
from trialpanorama_dagster.warehouse.db import connect

ONTO = shared_fixtures() / "ontologies"
HERE = Path(__file__).parent / "fixtures"
ATC_CSV = ONTO / "atc" / "who_atc_ddd_2026-04-25_subset.csv"


def test_embedded_defaults_are_the_shared_fixtures():
    assert ONTOLOGIES == ("mesh", "mondo", "doid", "hpo", "drugbank")
    assert "atc" not in EMBEDDED and "rxnorm" not in EMBEDDED
    shared = {p.name: p for p in ONTO.rglob("*") if p.is_file()}
    for name, files in EMBEDDED.items():
        for f in files:
            assert f.is_file(), f
            assert file_hash(f) == file_hash(shared[f.name]), f"{f} differs from the shared fixture"
    assert (EMBEDDED["mesh"][0].parent.parent / "PROVENANCE.md").is_file()
    assert not list(EMBEDDED["mesh"][0].parents[1].rglob("*atc*"))     # non-commercial subset not shipped


@pytest.mark.parametrize("name,concepts,probe", [
    ("mesh", 63, ("D003920", "Diabetes Mellitus")),
    ("mondo", 3796, ("MONDO:0007032", "prune belly syndrome")),
    ("doid", 147, ("DOID:0014667", "disease of metabolism")),
    ("hpo", 2, ("HP:0009381", "Short finger")),
    ("drugbank", 177, ("DB00006", "Bivalirudin")),
])
def test_load_embedded(name, concepts, probe):
    rel = load_ontology(name)
    assert rel.ontology == name and rel.source == f"embedded:{name}"
    assert rel.content_hash == file_hash(*EMBEDDED[name])
    assert rel.release
    assert len({c.concept_id for c in rel.concepts}) == len(rel.concepts) == concepts
    assert {c.concept_id: c.name for c in rel.concepts}[probe[0]] == probe[1]


def test_mesh_merges_xml_and_rdf():
    rel = load_ontology("mesh")
    d = {c.concept_id: c for c in rel.concepts}
    assert d["D000001"].attributes["scope_note"].startswith("An ionophorous")      # from the XML (first)
    assert "C535927" in d and "C025735" in d                                       # RDF SCR and XML SCR
    assert ("D002493", "Zentralnervensystemkrankheiten", "label@de") in rel.terms
    assert rel.release == "2014 (latest DateCreated)"
    assert any(s.startswith("desc-samples.xml: ") for s in rel.skipped)
    assert any(s.startswith("mesh_rdf_subset.nt: ") for s in rel.skipped)


def test_mondo_embedded_has_genes_and_reports_skips():
    rel = load_ontology("mondo")
    d = {c.concept_id: c for c in rel.concepts}
    assert (d["HGNC:9069"].name, d["HGNC:9069"].concept_type) == ("PLEC", "gene")
    assert ("MONDO:0016198", "Orphanet:209196", "equivalent") in rel.xrefs
    assert "2021-08-18" in rel.release and rel.release.count("sha256:") == 2    # two header-less files
    assert any("mondo_hgnc_import.obo: is_a to terms not declared" in s and "SO:0000704 (3788x)" in s
               for s in rel.skipped)


def test_configured_paths_atc_rxnorm_hgnc(tmp_path):
    atc = load_ontology("atc", [ATC_CSV])
    assert (atc.release, atc.source, len(atc.concepts)) == ("2026-04-25", str(ATC_CSV), 445)
    rx = load_ontology("rxnorm", [HERE / "rxnorm"])                    # the folder holding the RRF files
    assert ("153165", "RXNORM:83367", "tradename_of") in rx.xrefs
    assert rx.content_hash == file_hash(HERE / "rxnorm" / "RXNCONSO.RRF", HERE / "rxnorm" / "RXNREL.RRF")
    hg = load_ontology("hgnc", [HERE / "hgnc" / "hgnc_complete_set_handwritten.txt",
                                EMBEDDED["mondo"][2]])                  # TSV + MONDO's hgnc_import.obo
    d = {c.concept_id: c for c in hg.concepts}
    assert d["HGNC:3236"].name == "EGFR" and d["HGNC:10001"].name == "RGS5"
    assert d["HGNC:9069"].concept_type == "protein-coding gene"                # TSV first: its concept wins
    assert hg.ontology == "hgnc"
    assert load_ontology("HP", [EMBEDDED["hpo"][0]]).ontology == "hpo"


def test_errors_name_path_and_ontology(tmp_path):
    missing = tmp_path / "nope" / "mondo.obo"
    with pytest.raises(OntologyFileError, match=r"ontology 'mondo'.*nope/mondo.obo.*does not exist"):
        load_ontology("mondo", [missing])
    with pytest.raises(OntologyFileError, match=rf"ontology 'doid'.*{tmp_path}.*not a file"):
        load_ontology("doid", [tmp_path])
    with pytest.raises(OntologyFileError, match="ontology 'atc' has no embedded default.*non-commercial"):
        load_ontology("atc")
    with pytest.raises(OntologyFileError, match=r"ontology 'mesh': cannot read .*hp_slice_pronto.obo"):
        load_ontology("mesh", [EMBEDDED["hpo"][0]])
    broken = tmp_path / "desc2026.xml"
    broken.write_text("<DescriptorRecordSet><DescriptorRecord>")
    with pytest.raises(OntologyLoadError, match=r"ontology 'mesh': could not load .*desc2026.xml"):
        load_ontology("mesh", [broken])
    not_csv = tmp_path / "atc.csv"
    not_csv.write_text("code,name\nA,x\n")
    with pytest.raises(OntologyLoadError, match=r"ontology 'atc'.*atc.csv.*not an ATC CSV"):
        load_ontology("atc", [not_csv])
    with pytest.raises(ValueError, match="unknown ontology 'snomed'"):
        load_ontology("snomed")
    with pytest.raises(OntologyFileError, match="no files given"):
        load_ontology("hpo", [])


def test_store_release_round_trip_and_replace(tmp_path):
    db = tmp_path / "wh.duckdb"
    con = connect(db)
    doid = load_ontology("doid")
    counts = store_release(con, doid)
    assert counts == {"concepts": 147, "terms": len({(c, t) for c, t, _ in doid.terms}),
                      "xrefs": len(set(doid.xrefs))}
    assert store_release(con, doid) == counts                              # reload: same rows, not doubled
    n = lambda t: con.execute(f"SELECT count(*) FROM {t} WHERE ontology = 'doid'").fetchone()[0]  # noqa: E731
    assert (n("ontology_concepts"), n("ontology_terms"), n("ontology_xrefs")) == tuple(counts.values())
    row = con.execute("SELECT name, parents, attributes FROM ontology_concepts WHERE concept_id = 'DOID:3329'").fetchone()
    assert row[0] and isinstance(row[1], list) and "definition" in json.loads(row[2])
    assert con.execute("SELECT xref_type FROM ontology_xrefs WHERE concept_id = 'DOID:0014667' "
                       "AND xref = 'MESH:D008659'").fetchone() == ("xref",)
    # a smaller release of the same ontology replaces the previous one
    one = tmp_path / "doid_DO_CFDE_slim.obo"
    shutil.copy(EMBEDDED["doid"][0], one)
    smaller = store_release(con, load_ontology("doid", [one]))
    assert smaller["concepts"] == 44 and n("ontology_concepts") == 44
    rel_row = con.execute("SELECT release, source, content_hash, concepts, skipped FROM ontology_releases "
                          "WHERE ontology = 'doid'").fetchone()
    assert rel_row == ("2026-07-31", str(one), file_hash(one), 44, None)
    mondo = load_ontology("mondo")
    store_release(con, mondo)
    skipped = con.execute("SELECT skipped FROM ontology_releases WHERE ontology = 'mondo'").fetchone()[0]
    assert "SO:0000704" in skipped and "MONDO:0016139" in skipped
    assert loaded_releases(con) == {"doid": "2026-07-31", "mondo": mondo.release}
    con.close()
    con = connect(db)                                                       # persisted in the file
    assert con.execute("SELECT count(*) FROM ontology_concepts WHERE ontology = 'mondo'").fetchone()[0] == 3796
    con.close()
