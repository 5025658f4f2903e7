"""Cross-registry clusters: known linked pairs, explainable evidence, review-only title matches, checks."""
import datetime as dt

import orjson

from trialpanorama_dagster.cli import main
from trialpanorama_dagster.linkage.clusters import MAX_SHARED, Record, build, cluster_id_for
from trialpanorama_dagster.registries.common import make_row
from trialpanorama_dagster.warehouse import quality
from trialpanorama_dagster.warehouse.clusters import build_clusters
from trialpanorama_dagster.warehouse.db import connect, insert_rows
from tests.support.paths import CTGOV_V2_STUDIES, EMBEDDED_CTGOV, shared_fixtures

D = dt.date


def study(sid, source, title, sponsor=None, start=None, registered=None, **more):
    return make_row("studies", study_id=sid, study_source=source, study_type="trial", title=title,
                    sponsor=sponsor, start_date=start, first_submitted_date=registered, **more)


def sec(sid, value, id_type=None, domain=None):
    return make_row("secondary_ids", study_id=sid, secondary_id=value, id_type=id_type, domain=domain)


def pubmed_registration_sentence():
    text = (shared_fixtures() / "literature" / "pubmed" / "medline16n0902_subset.xml").read_text()
    start = text.index("This trial is registered with the European Clinical Trials Database")
    return text[start:text.index("</AbstractText>", start)]


def ctgov_description(nct):
    study_json = orjson.loads((CTGOV_V2_STUDIES / f"{nct}.json").read_bytes())
    return study_json["protocolSection"]["descriptionModule"]["detailedDescription"]


STUDIES = [
    # registries.md §6: EUCTR2018-003012-51-DK -> NCT03778229 (ICTRP SecondaryIDs "D5084C00007;NCT03778229")
    study("2018-003012-51", "euctr", "Durvalumab and tremelimumab in first-line urothelial cancer", "AstraZeneca AB",
          D(2019, 3, 21), D(2019, 3, 1)),
    study("NCT03778229", "ctgov", "A Study of Osimertinib With or Without Savolitinib", "AstraZeneca",
          D(2019, 1, 29), D(2018, 12, 18), official_title="SAVANNAH"),
    # DRKS00017475 -> 2018-001874-89;NCT03869385
    study("DRKS00017475", "drks", "Sepsis adjunctive therapy with hydrocortisone and fludrocortisone",
          "Universitätsklinikum Jena", D(2019, 7, 8)),
    study("NCT03869385", "ctgov", "Hydrocortisone Plus Fludrocortisone in Septic Shock", "University of Jena",
          D(2019, 7, 1), D(2019, 3, 6)),
    study("2018-001874-89", "euctr", "Corticosteroid therapy in septic shock", "University of Jena"),
    # PER-016-17 -> NCT02679573;2015-003026-14 (no EUCTR record: the EudraCT number is shared)
    study("PER-016-17", "repec", "Long-acting antiretroviral maintenance therapy", "ViiV", D(2017, 9, 4)),
    study("NCT02679573", "ctgov", "Zoledronic Acid in Peru cohort", "ViiV Healthcare", D(2016, 3, 1),
          D(2016, 2, 5)),
    # JPRN-jRCTs051180199 -> UMIN000027229 (UMIN -> jRCT id change)
    study("jRCTs051180199", "jprn", "Intraperitoneal paclitaxel for gastric cancer with peritoneal metastasis",
          "Hyogo College of Medicine", D(2017, 5, 1), D(2019, 3, 26), abstract="Phase II study", phase="PHASE2"),
    study("UMIN000027229", "jprn", "Intraperitoneal paclitaxel, gastric cancer", "Hyogo College of Medicine",
          D(2017, 5, 1), D(2017, 5, 1)),
    # free text (real PubMed sentence) names an EUCTR record; own ISRCTN id in it is ignored
    study("ISRCTN69423238", "isrctn", "Medical expulsive therapy in adults with ureteric colic",
          "NHS Grampian", D(2011, 1, 11), abstract=pubmed_registration_sentence()),
    study("2010-019469-26", "euctr", "Tamsulosin and nifedipine for ureteric stones", "NHS Grampian"),
    # free text naming a *separate* protocol (real CT.gov description): never merges
    study("NCT03630471", "ctgov", "Problem-solving Intervention for Adolescent Mental Health", "Sangath",
          D(2018, 8, 1), detailed_description=ctgov_description("NCT03630471")),
    study("NCT03633916", "ctgov", "Embedded recruitment trial in schools", "Sangath", D(2018, 8, 1)),
    # two registrations sharing a WHO UTRN
    study("ACTRN12620000421932", "anzctr", "Hydroxychloroquine prophylaxis for healthcare workers", "Monash"),
    study("ISRCTN14966673", "isrctn", "Prophylaxis of COVID-19 in healthcare workers", "Monash University"),
    # CTIS record (EudraCT transition) and a CT.gov record quoting its 3-part EU CT number
    study("2023-505613-24-00", "ctis", "Ibrutinib in CLL", "Janssen-Cilag", D(2021, 1, 1)),
    study("NCT04665037", "ctgov", "A Study of Ibrutinib in CLL", "Janssen", D(2021, 1, 5), D(2020, 12, 9)),
    # a title-only near-duplicate: same sponsor, near-identical titles, no shared id
    study("ACTRN12619000423112", "anzctr",
          "Efficacy of cilostazol on walking distance in peripheral arterial disease with intermittent claudication",
          "Gold Coast Hospital", D(2019, 4, 1)),
    study("ISRCTN40092247", "isrctn",
          "Efficacy of cilostazol on walking distance in peripheral artery disease with intermittent claudication",
          "Gold Coast Hospital and Health Service", D(2019, 9, 1)),
]
SECONDARY = [
    sec("2018-003012-51", "D5084C00007;NCT03778229"),
    sec("DRKS00017475", "2018-001874-89;NCT03869385;2018-1227"),
    sec("PER-016-17", "NCT02679573"), sec("PER-016-17", "2015-003026-14"),
    sec("NCT02679573", "2015-003026-14", "EUDRACT_NUMBER"),
    sec("jRCTs051180199", "UMIN000027229"),
    sec("ACTRN12620000421932", "U1111-1272-2514"), sec("ISRCTN14966673", "WHO UTN: U1111-1272-2514"),
    sec("2023-505613-24-00", "2019-003842-34", "EUDRACT_NUMBER"),
    sec("NCT04665037", "2023-505613-24", "CTIS"),
]


def make_db(path, studies=STUDIES, secondary=SECONDARY):
    con = connect(path)
    insert_rows(con, "studies", studies)
    insert_rows(con, "secondary_ids", secondary)
    return con


def clusters(con):
    out = {}
    for cid, sid in con.execute("SELECT cluster_id, study_id FROM trial_clusters ORDER BY ALL").fetchall():
        out.setdefault(cid, set()).add(sid)
    return out


def cluster_of(con, sid):
    return next(members for members in clusters(con).values() if sid in members)


def evidence(con, *ids):
    return con.execute("SELECT study_id_a, study_id_b, evidence_type, shared_id, field, confidence "
                       "FROM cluster_evidence WHERE list_contains(?, study_id_a) ORDER BY ALL", [list(ids)]).fetchall()


def primary(con, sid):
    return con.execute("SELECT p.study_id, p.primary_rule FROM trial_clusters c JOIN trial_clusters p "
                       "ON p.cluster_id = c.cluster_id AND p.is_primary WHERE c.study_id = ?", [sid]).fetchone()


def test_known_linked_pairs_end_in_one_cluster_each(tmp_path):
    con = make_db(tmp_path / "w.duckdb")
    figures = build_clusters(con)
    assert cluster_of(con, "NCT03778229") == {"2018-003012-51", "NCT03778229"}
    assert evidence(con, "2018-003012-51") == [
        ("2018-003012-51", "NCT03778229", "secondary_id", "NCT03778229", "secondary_ids", 0.98)]
    assert cluster_of(con, "DRKS00017475") == {"DRKS00017475", "NCT03869385", "2018-001874-89"}
    assert evidence(con, "DRKS00017475") == [
        ("DRKS00017475", "2018-001874-89", "secondary_id", "2018-001874-89", "secondary_ids", 0.98),
        ("DRKS00017475", "NCT03869385", "secondary_id", "NCT03869385", "secondary_ids", 0.98)]
    assert cluster_of(con, "PER-016-17") == {"PER-016-17", "NCT02679573"}
    assert evidence(con, "PER-016-17", "NCT02679573") == [
        ("NCT02679573", "PER-016-17", "shared_external_id", "2015-003026-14",
         "secondary_ids / secondary_ids:EUDRACT_NUMBER", 0.95),
        ("PER-016-17", "NCT02679573", "secondary_id", "NCT02679573", "secondary_ids", 0.98)]
    assert cluster_of(con, "jRCTs051180199") == {"jRCTs051180199", "UMIN000027229"}
    assert evidence(con, "jRCTs051180199") == [
        ("jRCTs051180199", "UMIN000027229", "secondary_id", "UMIN000027229", "secondary_ids", 0.98)]
    # primaries: CT.gov first; between two JPRN records the more complete one
    assert primary(con, "2018-003012-51") == ("NCT03778229", "source_priority")
    assert primary(con, "DRKS00017475") == ("NCT03869385", "source_priority")
    assert primary(con, "UMIN000027229") == ("jRCTs051180199", "more_core_fields")
    # other evidence kinds
    assert cluster_of(con, "ISRCTN69423238") == {"ISRCTN69423238", "2010-019469-26"}
    assert evidence(con, "ISRCTN69423238") == [
        ("ISRCTN69423238", "2010-019469-26", "free_text", "2010-019469-26", "abstract", 0.85)]
    assert cluster_of(con, "ISRCTN14966673") == {"ISRCTN14966673", "ACTRN12620000421932"}
    assert evidence(con, "ACTRN12620000421932")[0][2:4] == ("shared_external_id", "U1111-1272-2514")
    assert cluster_of(con, "NCT04665037") == {"NCT04665037", "2023-505613-24-00"}
    assert primary(con, "NCT04665037") == ("NCT04665037", "source_priority")
    # a mention of a "separate protocol" is a related trial, not the same one
    assert cluster_of(con, "NCT03630471") == {"NCT03630471"}
    assert figures["free_text_related_study_skipped"] >= 1
    # cluster confidence = weakest link holding the cluster together
    conf = dict(con.execute("SELECT study_id, confidence FROM trial_clusters").fetchall())
    assert conf["ISRCTN69423238"] == 0.85 and conf["PER-016-17"] == 0.98 and conf["NCT03630471"] == 1.0
    assert figures["studies"] == len(STUDIES) and figures["multi_record_clusters"] == 7
    assert figures["evidence_mix"] == {"free_text": 1, "secondary_id": 6, "shared_external_id": 2}
    assert quality.cluster_coverage(con).passed
    assert quality.clusters_with_two_nct(con).passed


def test_title_only_near_duplicate_goes_to_review_and_does_not_merge(tmp_path):
    con = make_db(tmp_path / "w.duckdb")
    figures = build_clusters(con)
    assert cluster_of(con, "ACTRN12619000423112") == {"ACTRN12619000423112"}
    assert cluster_of(con, "ISRCTN40092247") == {"ISRCTN40092247"}
    rows = con.execute("SELECT * FROM cluster_review").fetchall()
    assert [r[:5] for r in rows] == [("ACTRN12619000423112", "ISRCTN40092247", 0.875, True, 153)]
    assert "title evidence alone never merges" in rows[0][5]
    assert figures["review_candidates"] == 1
    assert not con.execute("SELECT count(*) FROM cluster_evidence WHERE evidence_type = 'title_sponsor_date'"
                           ).fetchone()[0]


def test_cluster_with_two_nct_ids_is_flagged(tmp_path):
    studies = [study("NCT04494412", "ctgov", "Trial one", "X"), study("NCT04665037", "ctgov", "Trial two", "Y"),
               study("2024-510663-34-00", "ctis", "Trial one, EU part", "X")]
    secondary = [sec("2024-510663-34-00", "NCT04494412", "REGISTRY"), sec("2024-510663-34-00", "NCT04665037")]
    con = make_db(tmp_path / "w.duckdb", studies, secondary)
    assert build_clusters(con)["clusters_with_two_nct"] == 1
    outcome = quality.clusters_with_two_nct(con)
    assert not outcome.passed and outcome.metadata["clusters"] == 1
    assert "NCT04494412, NCT04665037" in outcome.metadata["examples"]
    assert quality.cluster_coverage(con).passed


def test_rebuilding_twice_gives_identical_tables_and_stable_ids(tmp_path):
    con = make_db(tmp_path / "w.duckdb")
    tables = ("trial_clusters", "cluster_evidence", "cluster_review")

    def snapshot():
        return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in tables}

    build_clusters(con)
    first = snapshot()
    build_clusters(con)
    assert snapshot() == first
    for cid, members in clusters(con).items():
        assert cid == cluster_id_for(members)
    # a study appears in the warehouse later: the untouched clusters keep their ids
    insert_rows(con, "studies", [study("KCT0004211", "cris", "Blood transfusion flow in cardiac surgery")])
    build_clusters(con)
    after = clusters(con)
    assert all(after[cid] == members for cid, members in clusters_from(first).items())
    assert quality.cluster_coverage(con).passed


def clusters_from(snapshot):
    out = {}
    for sid, _src, cid, *_ in snapshot["trial_clusters"]:
        out.setdefault(cid, set()).add(sid)
    return out


def test_cluster_coverage_fails_when_a_study_is_missing(tmp_path):
    con = make_db(tmp_path / "w.duckdb")
    build_clusters(con)
    insert_rows(con, "studies", [study("TCTR20200321001", "tctr", "Late arrival")])
    outcome = quality.cluster_coverage(con)
    assert not outcome.passed and outcome.metadata["studies_without_cluster"] == 1


def test_widely_shared_ids_link_nothing():
    records = [Record(f"ACTRN126200004{i:05d}", "anzctr", secondary_ids=[("U1111-1234-5670", "secondary_ids", None)])
               for i in range(MAX_SHARED + 1)]
    result = build(records)
    assert result.figures["multi_record_clusters"] == 0
    assert result.figures["shared_ids_skipped_too_common"] == 1


def test_real_ctgov_records_build_clusters(tmp_path):
    db = tmp_path / "w.duckdb"
    assert main(["load", str(EMBEDDED_CTGOV), "--db", str(db), "--quiet"]) == 0
    con = connect(db)
    figures = build_clusters(con)
    assert figures["studies"] == figures["clusters"] == 216
    assert quality.cluster_coverage(con).passed and quality.clusters_with_two_nct(con).passed
    # CT.gov records carry EudraCT numbers: once the EUCTR record is in the warehouse, they join
    nct, eudract = con.execute("SELECT study_id, secondary_id FROM secondary_ids WHERE id_type = 'EUDRACT_NUMBER' "
                               "ORDER BY ALL LIMIT 1").fetchone()
    insert_rows(con, "studies", [study(eudract, "euctr", "EU record")])
    figures = build_clusters(con)
    assert cluster_of(con, nct) == {nct, eudract}
    assert primary(con, eudract) == (nct, "source_priority")
    assert evidence(con, nct)[0][2:4] == ("secondary_id", eudract)
    assert figures["multi_record_clusters"] == 1 and quality.cluster_coverage(con).passed
