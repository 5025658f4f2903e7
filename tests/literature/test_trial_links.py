"""Article -> trial links on real PubMed records, and the link rows in a real DuckDB warehouse."""
from __future__ import annotations

from collections import Counter

from tests.support.paths import shared_fixtures
from trialpanorama_dagster.literature.pubmed_sync import load_pubmed_files
from trialpanorama_dagster.literature.pubmed_xml import parse_pubmed
from trialpanorama_dagster.literature.store import Article, store_articles
from trialpanorama_dagster.literature.trial_links import (article_trial_links, databank_hint, link_articles,
                                                          link_coverage, text_ids, trial_article_links)
from trialpanorama_dagster.registries.common import make_row
from trialpanorama_dagster.warehouse.db import connect, insert_rows

PUBMED = shared_fixtures() / "literature" / "pubmed"


def fixture_articles() -> dict[str, Article]:
    out = {}
    for path in sorted(PUBMED.glob("*.xml")):
        out.update((a.pmid, a) for a in parse_pubmed(path)[0])
    return out


def links_of(article: Article) -> dict[str, tuple[str, float]]:
    return {link.trial_id: (link.evidence, link.confidence) for link in article_trial_links(article)}


def test_databank_and_abstract_links_on_real_records():
    arts = fixture_articles()
    assert links_of(arts["29768149"]) == {"NCT02149199": ("DataBankList:ClinicalTrials.gov;abstract", 0.98)}
    assert links_of(arts["21933749"]) == {"NCT00585195": ("DataBankList:ClinicalTrials.gov", 0.98)}
    # EudraCT + ISRCTN in DataBankList, both also quoted in the abstract
    assert links_of(arts["25998582"]) == {"2010-019469-26": ("DataBankList:EudraCT;abstract", 0.98),
                                          "ISRCTN69423238": ("DataBankList:ISRCTN;abstract", 0.98)}
    # MEDLINE glues the id to the registry name: "ClinicalTrials.govNCT01844362."
    assert "ClinicalTrials.govNCT01844362" in arts["26231464"].abstract
    assert links_of(arts["26231464"]) == {"NCT01844362": ("DataBankList:ClinicalTrials.gov;abstract", 0.98)}
    # PDB / GEO / SRA accessions are not trials
    for pmid in ("25359777", "26022416", "26044300", "26487716"):
        assert arts[pmid].databank_ids and links_of(arts[pmid]) == {}
    total = [link for a in arts.values() for link in article_trial_links(a)]
    assert len(total) == 8 and len({link.pmid for link in total}) == 7


def test_abstract_only_title_and_placeholders():
    rejected: Counter = Counter()
    art = Article("PMID:1", pmid="1", title="Results of the ALPHA trial (ISRCTN 12949496)",
                  abstract="Registered as NCT00000000 (placeholder), NCT12345678 and nct 01234567; "
                           "the real one is NCT 02149199. Also ACTRN12620000445976p and PDB 1ABC.",
                  databank_ids=["ClinicalTrials.gov:NCT00000000", "PDB:1ABC", "GEO:GSE1", "DRKS:DRKS00012345",
                                "ANZCTR:ACTRN12620000445976"])
    got = {link.trial_id: link for link in article_trial_links(art, rejected)}
    assert set(got) == {"ISRCTN12949496", "NCT02149199", "DRKS00012345", "ACTRN12620000445976"}
    assert got["ISRCTN12949496"].evidence == "title" and got["ISRCTN12949496"].confidence == 0.9
    assert got["NCT02149199"].evidence == "abstract"
    assert got["ACTRN12620000445976"].evidence == "DataBankList:ANZCTR;abstract"
    assert got["DRKS00012345"].evidence == "DataBankList:DRKS" and got["DRKS00012345"].confidence == 0.98
    assert rejected == Counter({"ClinicalTrials.gov:NCT00000000": 1})
    assert article_trial_links(Article("doi:10.1/x", doi="10.1/x", abstract="NCT02149199")) == []


def test_databank_names_and_text_ids():
    assert databank_hint("ClinicalTrials.gov") == "nct" and databank_hint("UMIN-CTR") == "umin"
    assert databank_hint("JPRN") == "" and databank_hint("ChiCTR") == "chictr"
    for other in ("PDB", "GEO", "SRA", "GENBANK", "Dryad", "figshare", "dbGaP", "BioProject", ""):
        assert databank_hint(other) is None
    assert [r.id for r in text_ids("see ChiCTR2000034346, 2010-019469-26 and U1111-1234-5678")] == \
        ["ChiCTR2000034346", "2010-019469-26"]          # a UTRN is a key, not a trial


def _study(con, sid: str, source: str) -> None:
    insert_rows(con, "studies", [make_row("studies", study_id=sid, study_source=source, study_type="trial")])


def test_link_articles_into_the_warehouse_is_idempotent(tmp_path):
    con = connect(tmp_path / "wh.duckdb")
    stats = load_pubmed_files(con, [PUBMED], link=False)
    assert stats.articles == 24 and con.execute("SELECT count(*) FROM literature").fetchone()[0] == 24
    _study(con, "NCT02149199", "ctgov")
    _study(con, "2010-019469-26", "euctr")
    registry = [  # what a registry loader writes: origin NULL, trial_reference
        (("NCT02149199", "trial", "29768149", "pubmed", "trial_reference", "RESULT", "Beasley R et al.",
          "NCT02149199", None, None, "registry reference list", None, None)),
        (("NCT02149199", "trial", "99999999", "pubmed", "trial_reference", "BACKGROUND", "not in literature",
          "NCT02149199", None, None, "registry reference list", None, None)),
        (("NCT09999999", "trial", "21933749", "pubmed", "trial_reference", "BACKGROUND", "other trial",
          "NCT09999999", None, None, "registry reference list", None, None)),
    ]
    insert_rows(con, "relations", registry)
    first = link_articles(con)
    rows1 = sorted(con.execute("SELECT * FROM relations WHERE origin = 'pubmed'").fetchall())
    second = link_articles(con)
    rows2 = sorted(con.execute("SELECT * FROM relations WHERE origin = 'pubmed'").fetchall())
    assert first == second and rows1 == rows2 and len(rows1) == 8
    assert first["links"] == 8 and first["articles"] == 24 and first["linked_articles"] == 7
    assert first["with_study"] == 2 and first["by_evidence"]["DataBankList:ClinicalTrials.gov"] == 6
    assert first["by_evidence"]["abstract"] == 7
    nejm = con.execute("SELECT head_id, head_type, tail_id, tail_type, relation_type, study_id, evidence, confidence "
                       "FROM relations WHERE origin = 'pubmed' AND tail_id = '29768149'").fetchall()
    assert nejm == [("NCT02149199", "trial", "29768149", "pubmed", "trial_publication", "NCT02149199",
                     "DataBankList:ClinicalTrials.gov;abstract", 0.98)]
    no_study = con.execute("SELECT study_id FROM relations WHERE origin = 'pubmed' AND head_id = 'NCT00585195'").fetchall()
    assert no_study == [(None,)]
    assert con.execute("SELECT count(*) FROM relations WHERE origin IS NULL").fetchone()[0] == 3   # untouched

    union = {(r[0], r[1]): r for r in trial_article_links(con).fetchall()}
    assert len(union) == 9                       # 8 from PubMed + 1 registry-only (PMID in literature)
    both = union[("NCT02149199", "29768149")]
    assert both[2] == "NCT02149199" and both[3] is True and both[4] is True
    assert both[5] == "DataBankList:ClinicalTrials.gov;abstract;registry:RESULT" and both[6] == 0.98
    reg_only = union[("NCT09999999", "21933749")]
    assert reg_only[3] is False and reg_only[4] is True and reg_only[6] == 0.3
    assert ("NCT02149199", "99999999") not in union
    assert link_coverage(con) == {"links": 9, "pubmed_only": 7, "registry_only": 1, "both": 1,
                                  "trials": 9, "articles": 7}
    # an article that disappears loses its links on the next rebuild
    con.execute("DELETE FROM literature WHERE pmid = '29768149'")
    assert link_articles(con)["links"] == 7
    con.close()


def test_ctis_base_number_takes_the_stored_study_id(tmp_path):
    con = connect(tmp_path / "wh.duckdb")
    _study(con, "2023-505613-24-00", "ctis")
    store_articles(con, [Article("PMID:5", pmid="5", title="t", abstract="EU CT 2023-505613-24 reported.",
                                 source="pubmed")])
    link_articles(con)
    assert con.execute("SELECT head_id, study_id FROM relations WHERE origin = 'pubmed'").fetchall() == \
        [("2023-505613-24-00", "2023-505613-24-00")]
    con.close()
