"""PubMed / MEDLINE XML parser on the real fixture files, gzip input, hostile and broken input."""
from __future__ import annotations

import gzip
import io

import pytest

from tests.support.paths import ROOT, shared_fixtures
from trialpanorama_dagster.literature.pubmed_xml import (ParseReport, element_text, iter_articles, parse_pubmed,
                                                         parse_root, pubmed_files, safe_root)

PUBMED = shared_fixtures() / "literature" / "pubmed"
NEJM = PUBMED / "pubmed-29768149.xml"
DTD2024 = PUBMED / "test_current_medline_2024dtd.xml"
MEDLINE16 = PUBMED / "medline16n0902_subset.xml"


def by_pmid(path) -> dict:
    arts, report = parse_pubmed(path)
    assert not report.skipped and not report.errors
    return {a.pmid: a for a in arts}


@pytest.mark.parametrize("path, count, first", [
    (NEJM, 1, "29768149"), (DTD2024, 4, "36400559"), (MEDLINE16, 19, "21933749")])
def test_articles_per_fixture_file(path, count, first):
    arts, report = parse_pubmed(path)
    assert len(arts) == count == report.articles
    assert arts[0].pmid == first
    assert len({a.pmid for a in arts}) == count
    assert report.books == 0 and report.deleted == [] and report.skipped == []
    assert all(a.article_id == f"PMID:{a.pmid}" and a.source == "pubmed" and a.payload_hash for a in arts)


def test_current_efetch_record_nejm():
    a = by_pmid(NEJM)["29768149"]
    assert a.title == "Inhaled Combined Budesonide-Formoterol as Needed in Mild Asthma."
    assert a.journal == "The New England journal of medicine"
    assert a.year == 2018 and a.language == "eng" and a.doi == "10.1056/NEJMoa1715274" and a.pmcid is None
    # labelled sections joined "LABEL: text", in document order, inline <sub> kept as text
    assert a.abstract.startswith("BACKGROUND: In patients with mild asthma, as-needed use of an inhaled "
                                 "glucocorticoid plus a fast-acting β 2-agonist")
    labels = [a.abstract.index(f"{x}: ") for x in ("BACKGROUND", "METHODS", "RESULTS", "CONCLUSIONS")]
    assert labels == sorted(labels)
    assert " METHODS: We conducted a 52-week, double-blind trial" in a.abstract
    assert "\n" not in a.abstract and "\t" not in a.abstract
    assert a.publication_types == ["Clinical Trial, Phase III", "Comparative Study", "Journal Article",
                                   "Multicenter Study", "Randomized Controlled Trial", "Research Support, Non-U.S. Gov't"]
    assert len(a.mesh_ids) == len(a.mesh_terms) == 23
    assert ("D001249", "Asthma") in zip(a.mesh_ids, a.mesh_terms)
    assert ("D000068759", "Formoterol Fumarate") in zip(a.mesh_ids, a.mesh_terms)
    assert a.databank_ids == ["ClinicalTrials.gov:NCT02149199"]


def test_2024_dtd_records():
    arts = by_pmid(DTD2024)
    assert set(arts) == {"36400559", "2930949", "11446611", "28786991"}
    a = arts["36400559"]
    assert a.title == "Back Pain: Differential Diagnosis and Management."
    assert a.year == 2023 and a.doi == "10.1016/j.ncl.2022.07.002" and a.journal == "Neurologic clinics"
    assert a.abstract.startswith("Back pain is a common condition") and ": " not in a.abstract[:20]
    assert a.publication_types == ["Journal Article", "Review"]
    # the PMC id is the record's own (PubmedData/ArticleIdList), never one of its references'
    assert arts["2930949"].pmcid == "PMC1306303" and arts["2930949"].doi is None
    assert arts["28786991"].pmcid == "PMC5546677" and arts["28786991"].doi == "10.1371/journal.pone.0180707"
    assert arts["28786991"].abstract.startswith("OBJECTIVE: To synthesize outputs and outcomes")
    assert "Meta-Analysis" in arts["28786991"].publication_types
    assert arts["11446611"].year == 2001      # PubDate Year + Season
    assert arts["11446611"].abstract is None


def test_old_medline_citation_set_format():
    arts = by_pmid(MEDLINE16)
    a = arts["21933749"]
    assert a.title.startswith("Effect of crizotinib on overall survival in patients with advanced non-small-cell")
    assert a.journal == "The Lancet. Oncology" and a.year == 2011
    assert a.doi == "10.1016/S1470-2045(11)70232-7"          # from ELocationID: no PubmedData here
    assert a.pmcid == "PMC3328296"                             # OtherID Source="NLM"
    assert a.abstract.startswith("BACKGROUND: ALK gene rearrangement defines a new molecular subtype")
    assert " FINDINGS: " in a.abstract and " INTERPRETATION: " in a.abstract
    assert a.databank_ids == ["ClinicalTrials.gov:NCT00585195"]
    assert arts["18621939"].year == 2008                       # <MedlineDate>2008 Jul-Aug</MedlineDate>
    assert arts["25998582"].databank_ids == ["EudraCT:2010-019469-26", "ISRCTN:ISRCTN69423238"]
    assert "Randomized Controlled Trial" in arts["25998582"].publication_types
    assert arts["26022416"].databank_ids == ["GEO:GSE60056", "GEO:GSE63116", "SRA:PRJNA257239"]
    assert arts["26487716"].databank_ids[:2] == ["PDB:1AKK", "PDB:1CRC"]
    # PMIDs of CommentsCorrections never become articles
    assert "19667264" not in arts and len(arts) == 19


def test_gzip_path_bytes_and_stream_give_the_same_articles(tmp_path):
    plain, _ = parse_pubmed(MEDLINE16)
    gz = tmp_path / "medline16n0902.xml.gz"
    gz.write_bytes(gzip.compress(MEDLINE16.read_bytes()))
    for source in (gz, str(gz), gz.read_bytes(), MEDLINE16.read_bytes(), io.BytesIO(gz.read_bytes())):
        arts, report = parse_pubmed(source)
        assert [a.row() for a in arts] == [a.row() for a in plain]
        assert report.articles == 19
    assert pubmed_files([tmp_path]) == [gz]


def _doc(*records: str, doctype: str = "") -> bytes:
    return (f'<?xml version="1.0"?>\n{doctype}<PubmedArticleSet>' + "".join(records) + "</PubmedArticleSet>").encode()


def _rec(pmid: str, title: str = "A trial", extra: str = "") -> str:
    return (f"<PubmedArticle><MedlineCitation><PMID Version=\"1\">{pmid}</PMID><Article><Journal><JournalIssue>"
            f"<PubDate><Year>2020</Year></PubDate></JournalIssue><Title>J</Title></Journal>"
            f"<ArticleTitle>{title}</ArticleTitle>{extra}</Article></MedlineCitation></PubmedArticle>")


def test_external_entities_are_never_resolved(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET-CONTENT")
    doctype = (f'<!DOCTYPE PubmedArticleSet [<!ENTITY xxe SYSTEM "file://{secret}">'
               f'<!ENTITY int "INTERNAL-EXPANSION">]>\n')
    data = _doc(_rec("111", "Hello &xxe; world &int; <i>in vivo</i>"), doctype=doctype)
    arts, report = parse_pubmed(data)
    assert [a.pmid for a in arts] == ["111"] and not report.skipped
    assert arts[0].title == "Hello world in vivo"
    root = safe_root(data)                      # the client's whole-document path
    (art,), _ = parse_root(root)
    assert art.title == "Hello world in vivo"
    for a in (arts[0], art):
        assert "TOPSECRET" not in repr(a.row()) and "INTERNAL-EXPANSION" not in repr(a.row())


def test_malformed_records_are_skipped_with_a_reason():
    data = _doc(_rec("1"), _rec(""), _rec("12ab"),
                "<PubmedArticle><MedlineCitation><PMID>4</PMID></MedlineCitation></PubmedArticle>",
                "<PubmedBookArticle><BookDocument><PMID>5</PMID></BookDocument></PubmedBookArticle>",
                _rec("6", "Last"),
                "<DeleteCitation><PMID Version=\"1\">700</PMID><PMID Version=\"1\">701</PMID></DeleteCitation>")
    arts, report = parse_pubmed(data)
    assert [a.pmid for a in arts] == ["1", "6"]
    assert report.articles == 2 and report.books == 1 and report.deleted == ["700", "701"]
    reasons = dict(report.skipped)
    assert reasons["#2"] == "no PMID"
    assert reasons["#3"].startswith("PMID is not a number")
    assert reasons["4"] == "no Article element"


def test_broken_xml_costs_only_the_broken_record():
    broken = _rec("2", "Broken <i>title</b>")           # not well-formed
    data = _doc(_rec("1"), broken, _rec("3", "After the break"), _rec("4"))
    report = ParseReport()
    arts = list(iter_articles(data, report))
    assert [a.pmid for a in arts] == ["1", "3", "4"]
    assert [a.title for a in arts][1] == "After the break"
    assert report.skipped and report.skipped[0][0] == "2" and report.skipped[0][1].startswith("malformed XML")
    assert report.errors and "syntax error" in report.errors[0]


def test_truncated_gzip_keeps_what_was_read(tmp_path):
    data = gzip.compress(MEDLINE16.read_bytes())
    cut = tmp_path / "cut.xml.gz"
    cut.write_bytes(data[: len(data) // 2])
    report = ParseReport()
    arts = list(iter_articles(cut, report))
    assert 0 < len(arts) < 19 and report.errors


def test_streaming_many_records_and_inline_markup():
    many = _doc(*(_rec(str(i), f"T<sup>{i}</sup> x") for i in range(1, 3001)))
    report = ParseReport()
    n = 0
    for a in iter_articles(many, report):
        n += 1
        assert a.title == f"T{a.pmid} x"
    assert n == report.articles == 3000


def test_element_text_keeps_markup_text_only():
    el = safe_root(b"<t>A <i>b</i><sup>2</sup> <!-- c --> d</t>")
    assert element_text(el) == "A b2 d"


def test_embedded_copy_matches_the_fixtures():
    embedded = ROOT / "trialpanorama_dagster" / "data" / "literature" / "pubmed"
    for path in (NEJM, DTD2024, MEDLINE16):
        assert (embedded / path.name).read_bytes() == path.read_bytes()
    assert (embedded / "PROVENANCE.md").exists()
