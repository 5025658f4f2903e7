"""Every registry into one warehouse: `trialpanorama load` on the embedded records of all sources,
cross-registry clusters on real linked records, and the precedence of a registry's own record."""
import json

import pytest

from trialpanorama_dagster.cli import main
from trialpanorama_dagster.warehouse.clusters import build_clusters
from trialpanorama_dagster.warehouse.db import connect
from tests.support.db import q
from tests.support.paths import CTGOV_V2_STUDIES, REGISTRY_FOLDERS, ROOT

DATA = ROOT / "trialpanorama_dagster" / "data"


def restamped(nct: str, folder):
    """A real ClinicalTrials.gov record re-identified as ``nct`` (the fixtures hold the EU CTR side of
    a known pair, whose ICTRP row names NCT03778229, but not the CT.gov record itself)."""
    study = json.loads((CTGOV_V2_STUDIES / "NCT03275402.json").read_text())
    study["protocolSection"]["identificationModule"]["nctId"] = nct
    path = folder / f"{nct}.json"
    path.write_text(json.dumps(study))
    return path, study


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("all")
    db = tmp / "w.duckdb"
    assert main(["load", *map(str, REGISTRY_FOLDERS), "--db", str(db), "--quiet"]) == 0
    assert main(["load", str(restamped("NCT03778229", tmp)[0]), "--db", str(db), "--quiet"]) == 0
    con = connect(db)
    figures = build_clusters(con)
    con.close()
    return db, figures


def test_fifteen_registries_land_in_one_schema(loaded):
    db, _ = loaded
    sources = dict(q(db, "SELECT study_source, count(*) FROM studies GROUP BY 1"))
    assert len(sources) >= 15, sources
    assert {"ctgov", "euctr", "ctis", "isrctn", "chictr", "anzctr", "ctri", "drks", "jprn", "irct", "pactr",
            "rebec", "rpcec", "tctr", "ntr"} <= set(sources)
    assert set(dict(q(db, "SELECT source, count(*) FROM raw_records GROUP BY 1"))) == \
        {"ctgov", "ictrp", "euctr", "ctis", "isrctn", "chictr"}
    assert q(db, "SELECT count(*) FROM quarantine") == [(0,)]
    # one vocabulary: every phase is a combination of the API codes, every sex ALL/MALE/FEMALE
    phases = {p for (p,) in q(db, "SELECT DISTINCT phase FROM studies WHERE phase IS NOT NULL")}
    assert all(set(p.split("/")) <= {"EARLY_PHASE1", "PHASE1", "PHASE2", "PHASE3", "PHASE4", "NA"} for p in phases)
    assert {s for (s,) in q(db, "SELECT DISTINCT sex FROM studies WHERE sex IS NOT NULL")} <= {"ALL", "MALE", "FEMALE"}
    # originals are kept beside the mapped values
    assert q(db, "SELECT count(*) FROM studies WHERE study_source = 'irct' AND phase_original IS NOT NULL")[0][0] > 0


def test_eu_ctr_member_states_collapse_into_one_trial(loaded):
    db, _ = loaded
    (countries,) = q(db, "SELECT countries FROM studies WHERE study_id = '2021-002179-21'")[0]
    assert {"France", "Spain", "Greece", "Poland", "Portugal", "Hungary"} <= set(countries)
    assert q(db, "SELECT study_source FROM studies WHERE study_id = '2021-002179-21'") == [("euctr",)]


def test_known_cross_registry_pair_ends_in_one_cluster_with_its_evidence(loaded):
    db, figures = loaded
    assert figures["multi_record_clusters"] >= 1
    rows = q(db, """SELECT a.cluster_id, b.study_id FROM trial_clusters a JOIN trial_clusters b USING (cluster_id)
                    WHERE a.study_id = 'NCT03778229' ORDER BY 2""")
    assert [r[1] for r in rows] == ["2018-003012-51", "NCT03778229"]
    evidence = q(db, f"""SELECT study_id_a, study_id_b, evidence_type, shared_id, confidence FROM cluster_evidence
                         WHERE cluster_id = '{rows[0][0]}'""")
    # the EU CTR record (through its ICTRP row) names the NCT id in its secondary ids
    assert evidence == [("2018-003012-51", "NCT03778229", "secondary_id", "NCT03778229", 0.98)]
    primary = q(db, f"SELECT study_id FROM trial_clusters WHERE cluster_id = '{rows[0][0]}' AND is_primary")
    assert primary == [("NCT03778229",)]      # ClinicalTrials.gov first by the documented rule


def test_the_registrys_own_record_wins_over_its_ictrp_copy(tmp_path):
    """ICTRP re-publishes ClinicalTrials.gov records: the native record must not be replaced by it."""
    native_path, native = restamped("NCT04252885", tmp_path)
    db = tmp_path / "w.duckdb"
    ictrp = DATA / "ictrp" / "COVID19-1135-trials_ictrp_export_2020-04_subset.csv"
    assert "NCT04252885" in ictrp.read_text(encoding="utf-8")
    for order in ([native_path, ictrp], [ictrp, native_path]):
        if db.exists():
            db.unlink()
        for path in order:
            assert main(["load", str(path), "--db", str(db), "--quiet"]) == 0
        assert q(db, "SELECT title FROM studies WHERE study_id = 'NCT04252885'") == \
            [(native["protocolSection"]["identificationModule"]["briefTitle"],)]
        assert q(db, "SELECT count(DISTINCT source) FROM raw_records WHERE source_id = 'NCT04252885'") == [(2,)]


def test_stats_prints_sources_tables_quarantine_and_clusters(loaded, capsys):
    db, _ = loaded
    assert main(["stats", "--db", str(db), "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["distinct_study_sources"] >= 15
    assert stats["rows_by_table_and_source"]["conditions"]["isrctn"] > 0
    assert stats["clusters"]["multi_record_clusters"] >= 1 and "secondary_id" in stats["clusters"]["evidence_mix"]
    assert main(["stats", "--db", str(db)]) == 0
    text = capsys.readouterr().out
    assert "distinct study sources" in text and "clusters:" in text
