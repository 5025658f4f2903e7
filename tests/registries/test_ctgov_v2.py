"""API v2 study JSON -> unified rows, checked against values read from the real records."""
import json

import pytest

from trialpanorama_dagster.registries.common import RecordError
from trialpanorama_dagster.registries.ctgov_v2 import parse_study
from trialpanorama_dagster.warehouse.schema import STUDY_TABLES, TABLES
from tests.support.paths import CTGOV_V2_STUDIES

FILES = sorted(CTGOV_V2_STUDIES.glob("*.json"))


def study(nct: str) -> dict:
    return json.loads((CTGOV_V2_STUDIES / f"{nct}.json").read_text())


def col(row: tuple, table: str, name: str):
    return row[TABLES[table].column_names.index(name)]


def test_every_fixture_parses_into_rows_of_the_declared_width():
    assert len(FILES) == 170
    for path in FILES:
        rows = parse_study(json.loads(path.read_bytes()))
        assert [r[0] for r in rows["studies"]] == [path.stem]
        for t in STUDY_TABLES:
            assert all(len(r) == len(t.columns) for r in rows[t.name]), (path.stem, t.name)
            assert all(r[TABLES[t.name].column_names.index("study_id")] == path.stem for r in rows[t.name])


def test_terminated_study_keeps_why_stopped_and_joined_phases():
    rows = parse_study(study("NCT03275402"))
    s = rows["studies"][0]
    assert col(s, "studies", "phase") == "PHASE2/PHASE3"
    assert col(s, "studies", "recruitment_status") == "TERMINATED"
    assert col(s, "studies", "actual_accrual") == 52 and col(s, "studies", "accrual_type") == "ACTUAL"
    assert col(s, "studies", "start_year") == 2018
    assert col(s, "studies", "allocation") == "NA"          # a real code, not a placeholder
    assert col(s, "studies", "masking") == "NONE"
    (o,) = rows["outcomes"]
    assert o[2:5] == ("TERMINATED", "terminate", "Corporate business decision. Not due to safety or efficacy concerns.")
    assert [c[2] for c in rows["conditions"]] == ["Neuroblastoma", "CNS Metastases", "Leptomeningeal Metastases"]
    (d,) = rows["disposition"]
    assert (col(d, "disposition", "intervention_type"), col(d, "disposition", "group_type"),
            col(d, "disposition", "intervention_name")) == ("BIOLOGICAL", "EXPERIMENTAL", "131I-omburtamab")
    (drug,) = rows["drugs"]
    assert col(drug, "drugs", "drug_name") == "131I-omburtamab" and col(drug, "drugs", "other_names") == ["131I-8H9"]


def test_not_applicable_phase_and_masked_roles():
    s = parse_study(study("NCT00195884"))["studies"][0]
    assert col(s, "studies", "phase") == "NA"
    assert col(s, "studies", "who_masked") == ["OUTCOMES_ASSESSOR"]
    assert col(s, "studies", "start_date").isoformat() == "1999-09-01"
    assert col(s, "studies", "start_date_precision") == "month"


def test_condition_mesh_ids_are_normalised_to_meshs_own_form():
    rows = parse_study(study("NCT00007696"))
    (c,) = rows["conditions"]
    assert c[2:7] == ("Diabetes Mellitus", "D003920", "descriptor", "Diabetes Mellitus", "term")
    ancestors = {m[2] for m in rows["mesh_terms"] if m[4]}
    assert {"D044882", "D008659", "D004700"} <= ancestors
    # browse leaf "asFound" text maps a free-text condition to its heading
    (c,) = parse_study(study("NCT00124774"))["conditions"]
    assert c[2:7] == ("Herniated Disc", "D007405", "descriptor", "Intervertebral Disc Displacement", "as_found")
    names = {c[2]: c[3] for c in parse_study(study("NCT00716976"))["conditions"]}
    assert names["Liver Cancer"] == "D008113" and names["Childhood Germ Cell Tumor"] is None


def test_study_with_results_has_results_and_adverse_events():
    rows = parse_study(study("NCT00716976"))
    s = rows["studies"][0]
    assert col(s, "studies", "has_results") is True
    assert len(rows["adverse_events"]) == 39 + 69
    serious = [a for a in rows["adverse_events"] if a[2] == "Abdominal infection" and a[4]]
    assert [(col(a, "adverse_events", "organ_system"), col(a, "adverse_events", "num_affected"),
             col(a, "adverse_events", "num_at_risk")) for a in serious] == [("Infections and infestations", 1, 59)]
    assert rows["results"] and all(r[4] for r in rows["results"])  # every result row names its outcome measure
    # arm x intervention with the baseline count of the arm
    first = rows["disposition"][0]
    assert first[1:4] == ("DRUG", "EXPERIMENTAL", "sodium thiosulfate") and first[6] == 65


def test_references_become_relations():
    rels = parse_study(study("NCT00195884"))["relations"]
    assert ("NCT00195884", "trial", "17876019", "pubmed", "trial_reference", "DERIVED") in [r[:6] for r in rels]
    assert {r[5] for r in rels} == {"BACKGROUND", "DERIVED"}


@pytest.mark.parametrize("mutate, reason", [
    (lambda s: s.pop("protocolSection"), "no protocolSection"),
    (lambda s: s["protocolSection"]["identificationModule"].update(nctId="NCT123"), "nctId"),
    (lambda s: s["protocolSection"]["designModule"]["enrollmentInfo"].update(count="many"), "enrollmentInfo.count"),
    (lambda s: s["protocolSection"]["statusModule"]["startDateStruct"].update(date="2019-02-30"), "impossible date"),
    (lambda s: s["protocolSection"]["conditionsModule"].update(conditions="Asthma"), "conditions: expected a list"),
    (lambda s: s["protocolSection"]["eligibilityModule"].update(healthyVolunteers="maybe"), "healthyVolunteers"),
])
def test_malformed_records_raise_a_clear_reason(mutate, reason):
    s = study("NCT03275402")
    mutate(s)
    with pytest.raises(RecordError, match=reason):
        parse_study(s)
