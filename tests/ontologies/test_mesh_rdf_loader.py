"""MeSH RDF: the rdflib and streaming readers agree, and agree with SPARQL over the fixture graph."""
from __future__ import annotations

import gzip
import importlib.util
import shutil
from pathlib import Path

import pytest
import rdflib

from tests.support.paths import ROOT, shared_fixtures
from trialpanorama_dagster.ontologies import mesh_rdf
from trialpanorama_dagster.ontologies.mesh_rdf import load_mesh_rdf

MESH_DIR = shared_fixtures() / "ontologies" / "mesh"
SUBSET, CNS = MESH_DIR / "mesh_rdf_subset.nt", MESH_DIR / "cns-disease-2014AB.nt"


def by_id(rel):
    return {c.concept_id: c for c in rel.concepts}


def as_tuple(rel):
    return rel.concepts, rel.terms, rel.xrefs, rel.release, rel.skipped


@pytest.fixture(scope="module")
def rdf():
    return load_mesh_rdf([SUBSET, CNS], method="rdflib")


@pytest.mark.parametrize("paths", [[SUBSET], [CNS], [SUBSET, CNS]], ids=["subset", "cns", "both"])
def test_stream_equals_rdflib(paths):
    a, b = load_mesh_rdf(paths, method="rdflib"), load_mesh_rdf(paths, method="stream")
    assert a.concepts and as_tuple(a) == as_tuple(b)


def test_stream_reads_gzip(tmp_path):
    gz = tmp_path / "mesh_rdf_subset.nt.gz"
    with open(SUBSET, "rb") as src, gzip.open(gz, "wb") as dst:
        shutil.copyfileobj(src, dst)
    plain = load_mesh_rdf([SUBSET], method="stream")
    for method in ("stream", "rdflib"):
        assert as_tuple(load_mesh_rdf([gz], method=method))[:3] == as_tuple(plain)[:3]


def test_matches_sparql_on_fixture(rdf):
    g = rdflib.Graph()
    g.parse(SUBSET, format="nt")
    assert len(g) == 691
    q = """PREFIX meshv: <http://id.nlm.nih.gov/mesh/vocab#>
           PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
           SELECT ?d ?label WHERE {
             VALUES ?cls { meshv:TopicalDescriptor meshv:PublicationType meshv:CheckTag meshv:GeographicalDescriptor }
             ?d a ?cls ; rdfs:label ?label . FILTER(lang(?label) = "en") }"""
    sparql_descriptors = {(str(d).rsplit("/", 1)[1], str(label)) for d, label in g.query(q)}
    loaded = {(c.concept_id, c.name) for c in rdf.concepts
              if c.concept_type in ("topical", "pubtype", "check_tag", "geographic")}
    assert loaded == sparql_descriptors
    assert ("D003920", "Diabetes Mellitus") in loaded and len(loaded) == 8   # 4 topical, 2 pubtype, 1 check tag, 1 geographic
    q_terms = """PREFIX meshv: <http://id.nlm.nih.gov/mesh/vocab#>
           SELECT DISTINCT ?label WHERE {
             <http://id.nlm.nih.gov/mesh/D009369> meshv:preferredConcept|meshv:concept ?c .
             ?c meshv:preferredTerm|meshv:term ?t . ?t meshv:prefLabel|meshv:altLabel ?label }"""
    sparql_terms = {str(r[0]) for r in g.query(q_terms)}
    loaded_terms = {t for c, t, k in rdf.terms if c == "D009369" and k in ("entry", "preferred")}
    assert loaded_terms == sparql_terms | {"Neoplasms"}
    assert {"Cancer", "Tumor", "Neoplasia", "Benign Neoplasms"} <= sparql_terms
    q_scr = """PREFIX meshv: <http://id.nlm.nih.gov/mesh/vocab#>
           SELECT ?s ?d WHERE { ?s meshv:preferredMappedTo ?d }"""
    sparql_mapped = {(str(s).rsplit("/", 1)[1], "MESH:" + str(d).rsplit("/", 1)[1].split("Q")[0]) for s, d in g.query(q_scr)}
    assert {(c, x) for c, x, k in rdf.xrefs if k == "mapped_to"} == sparql_mapped


def test_descriptor_details(rdf):
    d = by_id(rdf)
    assert (d["D003920"].concept_type, d["D003920"].tree_numbers) == ("topical", ["C18.452.394.750", "C19.246"])
    assert d["D003920"].attributes["scope_note"].startswith("A heterogeneous group of disorders")
    assert (d["D005858"].concept_type, d["D005858"].parents) == ("geographic", ["D017516"])   # broaderDescriptor
    assert d["D005260"].concept_type == "check_tag" and d["D016449"].concept_type == "pubtype"
    assert d["D015242"].attributes["registry_numbers"] == ["A4P49JAZ9H", "I2UWV315WA"]   # of all its concepts
    assert d["D000001"].attributes["pharmacological_actions"] == ["D000900", "D061207"]
    assert {"Ofloxacine", "Tarivid", "DR-3355", "Hoe 280"} <= {t for c, t, _ in rdf.terms if c == "D015242"}
    # multilingual labels of an untyped descriptor (cns-disease file)
    assert (d["D002493"].name, d["D002493"].concept_type) == ("Central Nervous System Diseases", "descriptor")
    assert ("D002493", "Maladie du système nerveux central", "label@fr") in rdf.terms
    assert rdf.release == "2014 (latest DateCreated)"


def test_scr_mappings(rdf):
    d = by_id(rdf)
    assert (d["C535927"].name, d["C535927"].concept_type, d["C535927"].attributes["scr_class"]) == (
        "Chitayat Moore Del Bigio syndrome", "scr", "disease")
    assert {(x, k) for c, x, k in rdf.xrefs if c == "C535927"} == {
        ("MESH:D003616", "mapped_to"), ("MESH:D005147", "mapped_to"), ("MESH:D002658", "indexing_info")}
    assert d["C000588495"].attributes["scr_class"] == "chemical"


def test_release_from_file_name(tmp_path):
    named = tmp_path / "mesh2026.nt"
    shutil.copy(SUBSET, named)
    assert load_mesh_rdf([named]).release == "2026"


def test_auto_threshold_and_bad_input(tmp_path, monkeypatch):
    monkeypatch.setattr(mesh_rdf, "STREAM_ABOVE_BYTES", 0)             # forces the streaming reader
    calls = []
    real = mesh_rdf.stream_triples
    monkeypatch.setattr(mesh_rdf, "stream_triples", lambda p: calls.append(p) or real(p))
    assert as_tuple(load_mesh_rdf([SUBSET])) == as_tuple(load_mesh_rdf([SUBSET], method="rdflib"))
    assert calls == [SUBSET]
    with pytest.raises(ValueError, match="unknown MeSH RDF method"):
        load_mesh_rdf([SUBSET], method="sparql")
    bad = tmp_path / "bad.nt"
    bad.write_text('<http://id.nlm.nih.gov/mesh/D000001> <http://www.w3.org/2000/01/rdf-schema#label> "x"@en\n')
    with pytest.raises(ValueError, match="bad.nt:1"):
        load_mesh_rdf([bad], method="stream")


def test_synthetic_escapes_identical(tmp_path):
    spec = importlib.util.spec_from_file_location("bench_mesh_rdf", ROOT / "benchmarks" / "bench_mesh_rdf.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    path = tmp_path / "synthetic.nt"
    n = bench.generate(path, 5000)
    assert n >= 5000 and "\\u00E9" in path.read_text()
    a, b = load_mesh_rdf([path], method="rdflib"), load_mesh_rdf([path], method="stream")
    assert as_tuple(a) == as_tuple(b)
    assert any("Café" in t for _, t, _ in a.terms)
    assert all(c.parents for c in a.concepts if c.concept_id.startswith("D") and c.concept_id != "D000001")


def test_benchmark_script_exists():
    assert (Path(ROOT) / "benchmarks" / "bench_mesh_rdf.py").is_file()
