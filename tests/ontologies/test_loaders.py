"""The ontology loaders on real fixture data (shared fixtures) and the hand-written RxNorm/HGNC files."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.support.paths import shared_fixtures
from trialpanorama_dagster.ontologies.atc import atc_level, atc_parent, load_atc
from trialpanorama_dagster.ontologies.drugbank import load_drugbank, remap_accessions
from trialpanorama_dagster.ontologies.hgnc import load_hgnc
from trialpanorama_dagster.ontologies.mesh_xml import load_mesh_xml
from trialpanorama_dagster.ontologies.obo import load_obo, normalise_id, normalise_xref
from trialpanorama_dagster.ontologies.rxnorm import load_rxnorm

ONTO = shared_fixtures() / "ontologies"
MESH_DIR, OBO, HERE = ONTO / "mesh", ONTO / "obo", Path(__file__).parent / "fixtures"


def by_id(rel):
    return {c.concept_id: c for c in rel.concepts}


def terms_of(rel, cid, kind=None):
    return {t for c, t, k in rel.terms if c == cid and (kind is None or k == kind)}


def xrefs_of(rel, cid):
    return {(x, k) for c, x, k in rel.xrefs if c == cid}


# ---------------------------------------------------------------- MeSH XML

@pytest.fixture(scope="module")
def mesh_xml():
    return load_mesh_xml([MESH_DIR / "desc-samples.xml", MESH_DIR / "supp-samples.xml"])


def test_mesh_descriptor(mesh_xml):
    c = by_id(mesh_xml)["D000001"]
    assert (c.name, c.concept_type, c.tree_numbers) == ("Calcimycin", "topical", ["D03.438.221.173"])
    # terms of the preferred and of the non-preferred concept M0353609, permuted ones too
    assert {"A-23187", "A 23187", "Antibiotic A23187", "A23187, Antibiotic", "A23187"} == terms_of(mesh_xml, "D000001", "entry")
    assert ("D000001", "Calcimycin", "preferred") in mesh_xml.terms
    assert c.attributes["pharmacological_actions"] == ["D000900", "D061207"]
    assert c.attributes["registry_numbers"] == ["37H9VM9WZL"]
    assert c.attributes["scope_note"].startswith("An ionophorous, polyether antibiotic from Streptomyces")


def test_mesh_parents_from_tree_numbers(mesh_xml):
    d = by_id(mesh_xml)
    assert d["D005138"].tree_numbers == ["A01.456.505.420.338", "A17.360.296"]
    assert d["D005138"].parents == ["D005123"]                    # Eyebrows -> Eye (A01.456.505.420)
    assert d["D048909"].parents == ["D003920"]                    # Diabetes Complications -> Diabetes Mellitus
    assert d["D005123"].parents == ["D005145", "D012679"]         # Eye -> Face, Sense Organs
    assert any("parent tree numbers held by no descriptor" in s and "A17.360" in s for s in mesh_xml.skipped)


def test_mesh_classes_and_release(mesh_xml, tmp_path):
    kinds = {}
    for c in mesh_xml.concepts:
        kinds[c.concept_type] = kinds.get(c.concept_type, 0) + 1
    assert kinds == {"topical": 34, "pubtype": 6, "check_tag": 1, "geographic": 2, "scr": 19}
    assert mesh_xml.release == "2014 (latest DateCreated)"
    named = tmp_path / "desc2026.xml"
    shutil.copy(MESH_DIR / "desc-samples.xml", named)
    assert load_mesh_xml([named]).release == "2026"


def test_mesh_scr_mapped_to(mesh_xml):
    c = by_id(mesh_xml)["C025735"]
    assert (c.name, c.concept_type, c.attributes["scr_class"]) == ("Aeron", "scr", "chemical")
    assert "72539-79-8" in c.attributes["registry_numbers"]
    # "*D001286" in the XML: the star is stripped
    assert xrefs_of(mesh_xml, "C025735") == {("MESH:D001286", "mapped_to"), ("MESH:D002164", "mapped_to"),
                                              ("MESH:D004338", "mapped_to"), ("MESH:D012602", "mapped_to")}
    assert ("MESH:D012314", "indexing_info") in xrefs_of(mesh_xml, "C111106")


def test_mesh_xml_external_entity_not_resolved(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET-CONTENT")
    xml = tmp_path / "desc-evil.xml"
    xml.write_text(f"""<?xml version="1.0"?>
<!DOCTYPE DescriptorRecordSet [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>
<DescriptorRecordSet LanguageCode="eng">
<DescriptorRecord DescriptorClass="1">
 <DescriptorUI>D000001</DescriptorUI>
 <DescriptorName><String>Calcimycin&xxe;</String></DescriptorName>
 <ConceptList><Concept PreferredConceptYN="Y"><ConceptUI>M0000001</ConceptUI><ScopeNote>&xxe;</ScopeNote>
  <TermList><Term><TermUI>T000002</TermUI><String>&xxe;</String></Term></TermList></Concept></ConceptList>
</DescriptorRecord>
</DescriptorRecordSet>
""")
    rel = load_mesh_xml([xml])
    assert [c.concept_id for c in rel.concepts] == ["D000001"]
    assert rel.concepts[0].name == "Calcimycin"
    assert "TOPSECRET" not in repr((rel.concepts, rel.terms, rel.xrefs))


# ---------------------------------------------------------------- OBO

def test_doid_mesh_xref_and_normalised_prefixes():
    rel = load_obo(OBO / "doid_DO_CFDE_slim.obo")
    assert (rel.ontology, rel.release, len(rel.concepts)) == ("doid", "2026-07-31", 44)
    c = by_id(rel)["DOID:0014667"]
    assert c.name == "disease of metabolism"
    assert terms_of(rel, "DOID:0014667", "exact") == {"metabolic disease"}
    x = xrefs_of(rel, "DOID:0014667")
    assert {("MESH:D008659", "xref"), ("UMLS:C0025517", "xref"), ("ICD10CM:E88.9", "xref"),
            ("SNOMEDCT_US_2025_09_01:75934005", "xref")} <= x               # UMLS_CUI: -> UMLS:
    assert ("DOID:10115", "alt_id") in xrefs_of(rel, "DOID:0050117")
    assert rel.skipped == []


def test_doid_undeclared_synonym_type_is_reported():
    rel = load_obo(OBO / "doid_DO_childhood_cancer_slim.obo")
    assert len(rel.concepts) == 103
    assert ("DOID:3329", "BCECTS", "exact") in rel.terms
    assert rel.skipped == ["synonym types not declared by synonymtypedef, removed from the synonyms "
                           "(synonyms kept): OMO:0003012 (2x)"]


def test_mondo_sample_mappings():
    rel = load_obo(OBO / "mondo_sample_mappings_oak.obo")
    assert (rel.ontology, rel.release, len(rel.concepts)) == ("mondo", None, 7)
    assert by_id(rel)["MONDO:0007032"].name == "prune belly syndrome"
    assert "triad syndrome" in terms_of(rel, "MONDO:0007032", "exact")
    assert "PBS" in terms_of(rel, "MONDO:0007032", "related")
    assert {("MESH:D011535", "xref"), ("MESH:C536477", "xref"), ("OMIM:100100", "xref"),
            ("Orphanet:2970", "xref")} <= xrefs_of(rel, "MONDO:0007032")


def test_mondo_term_equivalent_xrefs_hgnc_and_dangling_parent():
    rel = load_obo(OBO / "mondo_term_MONDO_0016198.obo")
    c = by_id(rel)["MONDO:0016198"]
    assert c.name == "neuromuscular disease caused by qualitative or quantitative defects of plectin"
    assert c.parents == ["MONDO:0016139"]                           # kept although not declared
    assert c.attributes["relationships"] == {"has_material_basis_in_germline_mutation_in": ["HGNC:9069"]}
    assert xrefs_of(rel, "MONDO:0016198") == {
        ("Orphanet:209196", "equivalent"), ("UMLS:C5680835", "equivalent"), ("MEDGEN:1842345", "equivalent"),
        ("GARD:20437", "xref"), ("HGNC:9069", "has_material_basis_in_germline_mutation_in")}
    assert terms_of(rel, "MONDO:0016198", "broad") == {
        "PLEC-related muscular dystrophy-epidermolysis bullosa simplex spectrum disorder"}
    assert rel.skipped == [
        "is_a to terms not declared in the file, not given to pronto (kept as parent ids): MONDO:0016139",
        "relationship lines with an undeclared relation or target, not given to pronto (kept in "
        "attributes.relationships): has_material_basis_in_germline_mutation_in http://identifiers.org/hgnc/9069"]


def test_mondo_hgnc_import_loads_without_network():
    rel = load_obo(OBO / "mondo_hgnc_import.obo")
    assert (rel.ontology, rel.release, len(rel.concepts)) == ("mondo", "2021-08-18", 3788)
    c = by_id(rel)["HGNC:10001"]
    assert (c.name, c.concept_type, c.parents) == ("RGS5", "gene", ["SO:0000704"])
    assert all(c.concept_id.startswith("HGNC:") for c in rel.concepts)
    assert rel.skipped == ["is_a to terms not declared in the file, not given to pronto (kept as parent ids): "
                           "SO:0000704 (3788x)"]
    assert load_obo(OBO / "mondo_hgnc_import.obo", ontology="hgnc").ontology == "hgnc"


def test_hpo_slice():
    rel = load_obo(OBO / "hp_slice_pronto.obo")
    assert (rel.ontology, rel.release) == ("hpo", "2020-08-11")
    c = by_id(rel)["HP:0009882"]
    assert (c.name, c.parents) == ("Short distal phalanx of finger", ["HP:0009381"])
    assert "Brachytelophalangy" in terms_of(rel, "HP:0009882", "exact")
    assert ("HP:0001198", "alt_id") in xrefs_of(rel, "HP:0009882")
    assert ("SNOMEDCT_US:249765007", "xref") in xrefs_of(rel, "HP:0009381")


def test_obo_fragment_with_imports_and_dangling_references(tmp_path):
    f = tmp_path / "fragment.obo"
    f.write_text("""format-version: 1.2
date: 05:03:2025 10:00
ontology: mondo
import: http://purl.obolibrary.org/obo/ro.owl

[Term]
id: MONDO:0000001
name: disease
xref: MSH:D004194 {source="MONDO:equivalentTo"}
xref: MeSH:D000001
xref: UMLS_CUI:C0012634

[Term]
id: MONDO:0000002
name: old disease
is_obsolete: true
replaced_by: MONDO:9999999
intersection_of: MONDO:0000001
intersection_of: RO:0004020 MONDO:8888888
relationship: part_of MONDO:0000001
""")
    rel = load_obo(f)
    assert rel.release == "2025-03-05"
    d = by_id(rel)
    assert d["MONDO:0000002"].obsolete and not d["MONDO:0000001"].obsolete
    assert d["MONDO:0000002"].attributes["replaced_by"] == ["MONDO:9999999"]
    assert d["MONDO:0000002"].attributes["relationships"] == {"part_of": ["MONDO:0000001"]}
    assert xrefs_of(rel, "MONDO:0000001") == {("MESH:D004194", "equivalent"), ("MESH:D000001", "xref"),
                                              ("UMLS:C0012634", "xref")}
    assert rel.skipped == [
        "import: lines not followed (no network): http://purl.obolibrary.org/obo/ro.owl",
        "intersection_of with undeclared ids, all intersection_of lines of those terms not given to pronto: "
        "RO:0004020 MONDO:8888888",
        "relationship lines with an undeclared relation or target, not given to pronto (kept in "
        "attributes.relationships): part_of MONDO:0000001",
        "replaced_by lines naming undeclared ids, not given to pronto: MONDO:9999999"]


def test_id_and_xref_normalisation():
    assert normalise_id("http://identifiers.org/hgnc/9069") == "HGNC:9069"
    assert normalise_xref("MSH:D003920") == "MESH:D003920"
    assert normalise_xref("MeSH:C535331") == "MESH:C535331"
    assert normalise_xref("UMLS_CUI:C0011849") == "UMLS:C0011849"
    assert normalise_xref("ICD10CM:E11") == "ICD10CM:E11"
    assert normalise_xref("https://example.org/x") == "https://example.org/x"


# ---------------------------------------------------------------- DrugBank

def test_drugbank_vocabulary(tmp_path):
    src = ONTO / "drugbank" / "drugbank_vocabulary_subset.csv"
    rel = load_drugbank(src)
    assert len(rel.concepts) == 177 and rel.release.startswith("sha256:")
    c = by_id(rel)["DB00001"]
    assert (c.name, c.concept_type, c.attributes) == ("Lepirudin", "drug", {"cas": "138068-37-8", "unii": "Y43GF64R34"})
    assert {"Desulfatohirudin", "Hirudin variant-1", "[Leu1, Thr2]-63-desulfohirudin"} <= terms_of(rel, "DB00001", "synonym")
    assert xrefs_of(rel, "DB00001") == {("CAS:138068-37-8", "cas"), ("UNII:Y43GF64R34", "unii"),
                                        ("DRUGBANK:BIOD00024", "accession"), ("DRUGBANK:BTD00024", "accession")}
    inchi = [x for c, x, k in rel.xrefs if k == "inchikey"]
    assert inchi and all(x.startswith("INCHIKEY:") and len(x) == len("INCHIKEY:") + 27 for x in inchi)
    remap = remap_accessions(rel)
    assert remap["DB02351"] == "DB00006" and remap["BIOD00024"] == "DB00001" and remap["DB02439"] == "DB00877"
    assert remap["DB00006"] == "DB00006"
    versioned = tmp_path / "drugbank_vocabulary_5.1.13.csv"
    shutil.copy(src, versioned)
    assert load_drugbank(versioned).release == "5.1.13"


# ---------------------------------------------------------------- ATC

def test_atc_levels_parents_and_route_dedup():
    rel = load_atc(ONTO / "atc" / "who_atc_ddd_2026-04-25_subset.csv")
    assert rel.release == "2026-04-25"
    d = by_id(rel)
    assert len(d) == len(rel.concepts) == 445                      # 459 rows, level-5 routes merged
    assert (d["A"].concept_type, d["A"].parents, d["A"].name) == ("atc_level_1", [], "ALIMENTARY TRACT AND METABOLISM")
    assert (d["A10"].concept_type, d["A10"].parents) == ("atc_level_2", ["A"])
    assert (d["A10B"].concept_type, d["A10B"].parents) == ("atc_level_3", ["A10"])
    assert (d["A10BA"].concept_type, d["A10BA"].parents) == ("atc_level_4", ["A10B"])
    assert (d["A10BA02"].name, d["A10BA02"].concept_type, d["A10BA02"].parents) == ("metformin", "atc_level_5", ["A10BA"])
    assert d["A10BA02"].attributes["ddd"] == [{"ddd": 2.0, "uom": "g", "adm_r": "O"}]
    assert [x["adm_r"] for x in d["N02BA01"].attributes["ddd"]] == ["O", "P", "R"]
    assert d["N02BA01"].attributes["ddd"][1]["note"] == "Expressed as lysine acetylsalisylate"
    assert sum(1 for c in rel.concepts if c.concept_id == "N02BA01") == 1
    assert (atc_level("L01FF02"), atc_parent("L01FF02"), atc_level("A1"), atc_parent("A")) == (5, "L01FF", None, None)


# ---------------------------------------------------------------- RxNorm, HGNC (hand-written files)

def test_rxnorm_hand_written():
    rel = load_rxnorm(HERE / "rxnorm" / "RXNCONSO.RRF", HERE / "rxnorm" / "RXNREL.RRF")
    d = by_id(rel)
    assert (d["6809"].name, d["6809"].concept_type) == ("metformin", "IN")
    assert (d["153165"].name, d["153165"].concept_type) == ("Lipitor", "BN")
    assert d["861007"].concept_type == "SCD"
    assert "999999999" not in d                                    # SUPPRESS=E
    assert terms_of(rel, "6809") == {"metformin"}                  # the SUPPRESS=O atom and MTHSPL row left out
    assert xrefs_of(rel, "6809") == {("ATC:A10BA02", "atc"), ("DRUGBANK:DB00331", "drugbank")}
    assert xrefs_of(rel, "1191") == {("ATC:B01AC06", "atc"), ("ATC:N02BA01", "atc"), ("DRUGBANK:DB00945", "drugbank")}
    assert xrefs_of(rel, "153165") == {("RXNORM:83367", "tradename_of")}
    assert not any(k == "has_tradename" for _, _, k in rel.xrefs)
    assert rel.release.startswith("sha256:")
    assert any("suppressed (E)" in s for s in rel.skipped) and any("other SAB" in s for s in rel.skipped)


def test_rxnorm_release_from_folder_name(tmp_path):
    folder = tmp_path / "RxNorm_full_04062026" / "rrf"
    folder.mkdir(parents=True)
    shutil.copy(HERE / "rxnorm" / "RXNCONSO.RRF", folder / "RXNCONSO.RRF")
    assert load_rxnorm(folder / "RXNCONSO.RRF").release == "2026-04-06"


def test_hgnc_hand_written():
    rel = load_hgnc(HERE / "hgnc" / "hgnc_complete_set_handwritten.txt")
    d = by_id(rel)
    assert {"HGNC:1100", "HGNC:3236", "HGNC:11998", "HGNC:3430", "HGNC:9069"} == set(d)
    assert (d["HGNC:1100"].name, d["HGNC:3236"].name, d["HGNC:11998"].name) == ("BRCA1", "EGFR", "TP53")
    assert terms_of(rel, "HGNC:1100", "alias_symbol") == {"RNF53", "BRCC1", "PPP1R53", "FANCS"}
    assert terms_of(rel, "HGNC:3236", "prev_symbol") == {"ERBB"}
    assert terms_of(rel, "HGNC:3236", "alias_symbol") == {"ERBB1", "HER1"}
    assert "epidermal growth factor receptor" in terms_of(rel, "HGNC:3236", "name")
    assert {("NCBIGene:7157", "entrez_id"), ("UniProtKB:P04637", "uniprot_ids"),
            ("ENSEMBL:ENSG00000141510", "ensembl_gene_id"), ("OMIM:191170", "omim_id")} == xrefs_of(rel, "HGNC:11998")
    assert d["HGNC:1100"].concept_type == "protein-coding gene" and not d["HGNC:1100"].obsolete
