"""The legacy ClinicalTrials.gov XML parser, on the 46 real ``<clinical_study>`` fixtures.

Spot values below were read by hand from the fixture files. No NCT id is present both in the
legacy-XML and the API v2 fixtures, so the two formats are compared through their vocabularies
(every categorical value the XML parser emits must be an API v2 enum name) rather than per record.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from trialpanorama_dagster.registries.common import RecordError
from trialpanorama_dagster.registries.ctgov_xml import (
    parse_clinical_study, source_version_of_xml, study_id_of_xml,
)
from trialpanorama_dagster.warehouse.schema import TABLES
from tests.support.paths import CTGOV_LEGACY_XML


FIXTURES = CTGOV_LEGACY_XML  # byte-identical copies of the shared legacy XML fixtures
FILES = sorted(FIXTURES.glob("*.xml"))


def _parse(name: str):
    rows = parse_clinical_study((FIXTURES / f"{name}.xml").read_bytes(), payload_hash="h")
    return rows, dict(zip(TABLES["studies"].column_names, rows["studies"][0]))


def _rows(rows, table: str) -> list[dict]:
    return [dict(zip(TABLES[table].column_names, r)) for r in rows[table]]


def test_all_fixtures_present():
    assert len(FILES) == 46


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_every_fixture_parses_to_one_study(path: Path):
    xml = path.read_bytes()
    nct = path.stem[:11]
    rows = parse_clinical_study(xml, payload_hash="abc")
    assert [r[0] for r in rows["studies"]] == [nct]
    assert len(rows["outcomes"]) == 1
    for table, table_rows in rows.items():
        width = len(TABLES[table].columns)
        assert all(len(r) == width for r in table_rows), table
        assert all(r[TABLES[table].column_names.index("study_id")] == nct for r in table_rows
                   if "study_id" in TABLES[table].column_names), table
    study = dict(zip(TABLES["studies"].column_names, rows["studies"][0]))
    assert study["study_source"] == "ctgov" and study["study_type"] == "trial"
    assert study["payload_hash"] == "abc"
    assert study["has_results"] == (b"<clinical_results>" in xml)
    assert study_id_of_xml(xml) == nct
    assert source_version_of_xml(xml) == study["source_version"]
    assert study["source_version"] == study["last_update_posted_date"].isoformat()
    # text input (with its encoding declaration) parses the same as bytes
    assert parse_clinical_study(xml.decode("utf-8"), payload_hash="abc") == rows


@pytest.mark.parametrize("nct,why", [
    ("NCT00277524", "Ended follow-up after four years"),
    ("NCT02654730", "Enrollment took longer than anticipated; it was financially and logistically "
                    "impossible to recruit the final cohort (G6PDd 0.4mg/kg PQ)."),
])
def test_terminated_with_why_stopped(nct, why):
    rows, s = _parse(nct)
    assert s["recruitment_status"] == "TERMINATED" and s["recruitment_status_original"] == "Terminated"
    assert s["why_stopped"] == why
    assert rows["outcomes"] == [(nct, "trial", "TERMINATED", "terminate", why, s["has_results"])]


def test_withdrawn():
    rows, s = _parse("NCT02591810")
    assert s["recruitment_status"] == "WITHDRAWN"
    assert rows["outcomes"][0][2:4] == ("WITHDRAWN", "withdrawn")
    assert s["phase"] == "NA" and s["phase_original"] == "N/A"


def test_expanded_access():
    rows, s = _parse("NCT03245528")
    assert s["trial_type"] == "EXPANDED_ACCESS"
    assert s["recruitment_status"] == "AVAILABLE" and s["recruitment_status_original"] == "Available"
    assert rows["outcomes"][0][3] == "expanded_access"
    # an old-format record (lastchanged_date alongside last_update_posted)
    assert s["source_version"] == "2017-08-10" and s["first_submitted_date"] == dt.date(2017, 8, 7)


def test_unknown_status_and_last_known_status():
    statuses = {}
    for path in FILES:
        _, s = _parse(path.stem)
        statuses[s["recruitment_status_original"]] = s["recruitment_status"]
    assert statuses["Unknown status"] == "UNKNOWN"
    assert statuses["Active, not recruiting"] == "ACTIVE_NOT_RECRUITING"
    assert statuses["Not yet recruiting"] == "NOT_YET_RECRUITING"


def test_phases():
    _, s = _parse("NCT00023673")
    assert (s["phase"], s["phase_original"]) == ("PHASE1/PHASE2", "Phase 1/Phase 2")
    _, s = _parse("NCT02654730")
    assert s["phase"] == "PHASE2/PHASE3"
    _, s = _parse("NCT00277524")  # observational, no <phase>
    assert (s["phase"], s["phase_original"]) == (None, None)


def test_dates_and_precision():
    _, s = _parse("NCT02699827")  # <start_date>March 2016</start_date>, no type
    assert (s["start_date"], s["start_date_precision"], s["start_date_type"], s["start_year"]) == \
        (dt.date(2016, 3, 1), "month", None, 2016)
    _, s = _parse("NCT03191552")  # <start_date type="Actual">June 20, 2017</start_date>
    assert (s["start_date"], s["start_date_precision"], s["start_date_type"]) == (dt.date(2017, 6, 20), "day", "ACTUAL")
    _, s = _parse("NCT02654730")
    assert (s["completion_date"], s["completion_date_type"]) == (dt.date(2016, 12, 1), "ESTIMATED")  # Anticipated
    assert (s["primary_completion_date"], s["primary_completion_date_type"]) == (dt.date(2016, 9, 1), "ACTUAL")
    assert s["first_submitted_date"] == dt.date(2016, 1, 5) and s["first_posted_date"] == dt.date(2016, 1, 13)
    assert s["last_update_posted_date"] == dt.date(2016, 9, 9) and s["source_version"] == "2016-09-09"


def test_design_eligibility_and_sponsor():
    rows, s = _parse("NCT02970669")
    assert (s["allocation"], s["intervention_model"], s["primary_purpose"]) == ("RANDOMIZED", "PARALLEL", "OTHER")
    assert (s["masking"], s["who_masked"]) == ("DOUBLE", ["PARTICIPANT", "INVESTIGATOR"])
    assert (s["actual_accrual"], s["accrual_type"]) == (136, "ESTIMATED")
    assert (s["sex"], s["minimum_age"], s["maximum_age"]) == ("ALL", "18 Years", "80 Years")
    assert (s["minimum_age_years"], s["maximum_age_years"], s["healthy_volunteers"]) == (18.0, 80.0, False)
    assert s["std_ages"] == ["ADULT", "OLDER_ADULT"]
    _, s = _parse("NCT01380080")
    assert (s["sponsor"], s["sponsor_class"]) == ("AIDS Clinical Trials Group", "OTHER")
    assert s["collaborators"] == ["National Institute of Allergy and Infectious Diseases (NIAID)"]
    assert (s["masking"], s["who_masked"]) == ("NONE", [])  # None (Open Label)
    assert (s["maximum_age"], s["maximum_age_years"]) == (None, None)  # N/A
    assert s["org_study_id"] == "ACTG A5274"
    assert s["countries"][:2] == ["Brazil", "Haiti"] and len(s["countries"]) == 10
    # hard-wrapped text blocks are de-indented, paragraphs kept apart by one blank line
    assert s["abstract"].startswith("People with HIV have a high chance of becoming infected with TB, "
                                    "especially when they live in\nareas where TB")
    assert "\n\nThis study is being done" in s["abstract"]
    assert s["eligibility_criteria"].startswith("Inclusion Criteria:\n\n-  HIV-1 infection\n\n")
    rows, _ = _parse("NCT01380080")
    assert _rows(rows, "secondary_ids") == [{"study_id": "NCT01380080", "secondary_id": "1U01AI068636",
                                             "id_type": None, "domain": None, "link": None}]


def test_conditions_mesh_by_term():
    rows, _ = _parse("NCT00277524")
    conds = {c["condition_name"]: c for c in _rows(rows, "conditions")}
    assert [c["condition_order"] for c in conds.values()] == [0, 1, 2, 3, 4]
    assert conds["Bradycardia"]["condition_mesh_term"] == "Bradycardia"
    assert conds["Bradycardia"]["mesh_match"] == "term" and conds["Bradycardia"]["condition_mesh_id"] is None
    assert conds["Heart Failure, Congestive"]["condition_mesh_term"] is None  # no exact term
    mesh = _rows(rows, "mesh_terms")
    assert {m["mesh_term"] for m in mesh} == {"Heart Failure", "Tachycardia", "Ventricular Dysfunction",
                                              "Bradycardia", "Ventricular Fibrillation", "Tachycardia, Ventricular"}
    assert all(m["domain"] == "condition" and m["mesh_id"] is None and m["is_ancestor"] is False for m in mesh)


def test_arms_interventions_disposition():
    rows, s = _parse("NCT01380080")
    arms = _rows(rows, "arm_groups")
    assert [(a["label"], a["group_type"]) for a in arms] == [("Arm A: Empiric", "EXPERIMENTAL"),
                                                            ("Arm B: IPT", "EXPERIMENTAL")]
    assert arms[1]["intervention_names"] == ["Drug: Atripla (r)", "Drug: Efavirenz", "Drug: Truvada", "Drug: Isoniazid"]
    assert len(rows["interventions"]) == 6 and len(rows["drugs"]) == 6
    disp = _rows(rows, "disposition")
    assert len(disp) == 5 + 4  # arm x intervention via arm_group_label
    # number_of_subjects from the baseline group of the same title (424 / 426)
    assert {(d["group_label"], d["number_of_subjects"]) for d in disp} == {("Arm A: Empiric", 424), ("Arm B: IPT", 426)}
    assert s["number_of_arms"] == 2


def test_endpoints():
    rows, _ = _parse("NCT00277524")
    ends = _rows(rows, "endpoints")
    assert [e["endpoint_type"] for e in ends].count("PRIMARY") == 4
    first = ends[0]
    assert (first["measure"], first["time_frame"], first["primary_endpoint"]) == \
        ("Implanted Systems Frequencies", "Baseline", "Implanted Systems Frequencies")


def test_references():
    rows, _ = _parse("NCT01029262")
    rel = _rows(rows, "relations")
    result_refs = [r for r in rel if r["reference_type"] == "RESULT"]
    assert [r["tail_id"] for r in result_refs] == ["27354480"]
    assert result_refs[0]["citation"].startswith("Santini V, Almeida A")
    assert all((r["head_id"], r["head_type"], r["tail_type"], r["relation_type"]) ==
               ("NCT01029262", "trial", "pubmed", "trial_reference") for r in rel)


def test_results_and_adverse_events():
    rows, s = _parse("NCT01380080")
    assert s["has_results"] is True and rows["outcomes"][0][5] is True
    res = _rows(rows, "results")
    first = res[0]
    assert (first["outcomes"], first["interventions"], first["group_id"], first["outcome_type"]) == \
        ("Cumulative Probability of Death or Unknown Vital Status by Week 24", "Arm A: Empiric", "O1", "PRIMARY")
    assert (first["param_type"], first["dispersion_type"], first["unit_of_measure"]) == \
        ("NUMBER", "95% Confidence Interval", "Cumulative probablity per 100 persons")
    assert (first["value"], first["value_numeric"], first["lower_limit"], first["upper_limit"], first["participants"]) == \
        ("5.2", 5.2, "3.5", "7.8", 424)
    assert first["group_type"] == "EXPERIMENTAL" and first["time_frame"] == "From study entry to week 24"
    ae = _rows(rows, "adverse_events")
    # serious "Anaemia": E1 8/424 + E2 7/426
    (anaemia,) = [a for a in ae if a["adverse_event_name"] == "Anaemia" and a["is_serious"]]
    assert (anaemia["num_affected"], anaemia["num_at_risk"], anaemia["num_events"]) == (15, 850, None)
    assert anaemia["organ_system"] == "Blood and lymphatic system disorders"
    assert (anaemia["source_vocabulary"], anaemia["vocabulary_version"], anaemia["meddra_id_type"]) == \
        ("MedDRA 18.0", "18.0", "PT")
    assert anaemia["assessment_type"] == "SYSTEMATIC_ASSESSMENT"
    assert not any((a["adverse_event_name"] or "").startswith("Total,") for a in ae)  # per-group totals left out


def test_adverse_event_counts_events_and_vocabulary():
    rows, _ = _parse("NCT01065844")
    ae = {a["adverse_event_name"]: a for a in _rows(rows, "adverse_events")}
    ev = ae["Investigations - Other, liver enzymes increased, grade 3"]
    assert (ev["is_serious"], ev["num_affected"], ev["num_at_risk"], ev["num_events"]) == (False, 2, 15, 2)
    assert ev["adverse_event_description"] == "Marked elevations across liver function tests considered severe (grade 3)"
    assert (ev["source_vocabulary"], ev["vocabulary_version"], ev["meddra_id_type"]) == ("CTCAE (3.0)", "3.0", None)


# API v2 enum names (ctg-oas-v2 / registries.md) for every categorical column the parser fills
V2_ENUMS = {
    "trial_type": {"INTERVENTIONAL", "OBSERVATIONAL", "EXPANDED_ACCESS"},
    "recruitment_status": {"NOT_YET_RECRUITING", "RECRUITING", "ENROLLING_BY_INVITATION", "ACTIVE_NOT_RECRUITING",
                           "SUSPENDED", "TERMINATED", "COMPLETED", "WITHDRAWN", "UNKNOWN", "AVAILABLE",
                           "NO_LONGER_AVAILABLE", "TEMPORARILY_NOT_AVAILABLE", "APPROVED_FOR_MARKETING", "WITHHELD"},
    "sponsor_class": {"INDUSTRY", "NIH", "FED", "OTHER_GOV", "INDIV", "NETWORK", "OTHER", "UNKNOWN"},
    "allocation": {"RANDOMIZED", "NON_RANDOMIZED"},
    "intervention_model": {"SINGLE_GROUP", "PARALLEL", "CROSSOVER", "FACTORIAL", "SEQUENTIAL"},
    "observational_model": {"COHORT", "CASE_CONTROL", "CASE_ONLY", "CASE_CROSSOVER", "ECOLOGIC_OR_COMMUNITY",
                            "FAMILY_BASED", "DEFINED_POPULATION", "NATURAL_HISTORY", "OTHER"},
    "time_perspective": {"PROSPECTIVE", "RETROSPECTIVE", "CROSS_SECTIONAL", "OTHER"},
    "primary_purpose": {"TREATMENT", "PREVENTION", "DIAGNOSTIC", "ECT", "SUPPORTIVE_CARE", "SCREENING",
                        "HEALTH_SERVICES_RESEARCH", "BASIC_SCIENCE", "DEVICE_FEASIBILITY", "OTHER"},
    "masking": {"NONE", "SINGLE", "DOUBLE", "TRIPLE", "QUADRUPLE"},
    "sex": {"ALL", "MALE", "FEMALE"},
    "accrual_type": {"ACTUAL", "ESTIMATED"},
    "start_date_type": {"ACTUAL", "ESTIMATED"},
    "completion_date_type": {"ACTUAL", "ESTIMATED"},
    "primary_completion_date_type": {"ACTUAL", "ESTIMATED"},
}
PHASES = {"EARLY_PHASE1", "PHASE1", "PHASE2", "PHASE3", "PHASE4", "NA"}
WHO_MASKED = {"PARTICIPANT", "CARE_PROVIDER", "INVESTIGATOR", "OUTCOMES_ASSESSOR"}
ARM_TYPES = {"EXPERIMENTAL", "ACTIVE_COMPARATOR", "PLACEBO_COMPARATOR", "SHAM_COMPARATOR", "NO_INTERVENTION", "OTHER"}
INTERVENTION_TYPES = {"DRUG", "DEVICE", "BIOLOGICAL", "PROCEDURE", "RADIATION", "BEHAVIORAL", "GENETIC",
                      "DIETARY_SUPPLEMENT", "COMBINATION_PRODUCT", "DIAGNOSTIC_TEST", "OTHER"}


def test_vocabulary_matches_api_v2_enums():
    seen: dict[str, set] = {}
    for path in FILES:
        rows, s = _parse(path.stem)
        for col in V2_ENUMS:
            seen.setdefault(col, set()).add(s[col])
        assert not s["phase"] or set(s["phase"].split("/")) <= PHASES, s["phase"]
        assert set(s["who_masked"]) <= WHO_MASKED
        assert {a["group_type"] for a in _rows(rows, "arm_groups")} <= ARM_TYPES | {None}
        assert {i["intervention_type"] for i in _rows(rows, "interventions")} <= INTERVENTION_TYPES
        assert {loc["status"] for loc in _rows(rows, "locations")} <= V2_ENUMS["recruitment_status"] | {None}
    for col, allowed in V2_ENUMS.items():
        assert seen[col] - {None} <= allowed, (col, seen[col] - allowed)
    assert {"INTERVENTIONAL", "OBSERVATIONAL", "EXPANDED_ACCESS"} <= seen["trial_type"]


# ---- malformed input -----------------------------------------------------------------------

MINIMAL = ('<?xml version="1.0" encoding="UTF-8"?>\n<clinical_study><id_info><nct_id>{nct}</nct_id></id_info>'
           '{extra}</clinical_study>')


def test_minimal_record_and_sponsor_class_mapping():
    xml = MINIMAL.format(nct="NCT01234567", extra=(
        "<sponsors><lead_sponsor><agency>WRAIR</agency><agency_class>U.S. Fed</agency_class></lead_sponsor></sponsors>"
        "<overall_status>Enrolling by invitation</overall_status><phase>Early Phase 1</phase>"
        "<study_design_info><intervention_model>Factorial Assignment</intervention_model>"
        "<primary_purpose>Health Services Research</primary_purpose></study_design_info>"
        "<eligibility><healthy_volunteers>Accepts Healthy Volunteers</healthy_volunteers></eligibility>"))
    rows = parse_clinical_study(xml)
    s = dict(zip(TABLES["studies"].column_names, rows["studies"][0]))
    assert (s["sponsor"], s["sponsor_class"]) == ("WRAIR", "FED")
    assert (s["recruitment_status"], rows["outcomes"][0][3]) == ("ENROLLING_BY_INVITATION", "ongoing")
    assert s["phase"] == "EARLY_PHASE1"
    assert (s["intervention_model"], s["primary_purpose"]) == ("FACTORIAL", "HEALTH_SERVICES_RESEARCH")
    assert s["healthy_volunteers"] is True and s["has_results"] is False
    assert s["source_version"] is None


@pytest.mark.parametrize("xml,reason", [
    (b"", "malformed XML"),
    (b"<clinical_study><id_info><nct_id>NCT01234567</nct_id></id_info>", "malformed XML"),
    (b"<clinical_studies><clinical_study/></clinical_studies>", "root element is <clinical_studies>"),
    (MINIMAL.format(nct="", extra=""), "id_info/nct_id missing or malformed"),
    ("<clinical_study><brief_title>x</brief_title></clinical_study>", "id_info/nct_id missing or malformed"),
    (MINIMAL.format(nct="NCT123", extra=""), "id_info/nct_id missing or malformed"),
    (MINIMAL.format(nct="NCT01234567", extra="<start_date>February 30, 2014</start_date>"), "impossible date"),
    (MINIMAL.format(nct="NCT01234567", extra='<enrollment type="Actual">about 40</enrollment>'),
     "enrollment: expected an integer"),
    (MINIMAL.format(nct="NCT01234567", extra="<eligibility><healthy_volunteers>Maybe</healthy_volunteers></eligibility>"),
     "healthy_volunteers"),
])
def test_bad_records_raise_record_error(xml, reason):
    with pytest.raises(RecordError, match=reason) as exc:
        parse_clinical_study(xml)
    assert "\n" not in str(exc.value)


def test_cheap_accessors_on_bad_input():
    assert study_id_of_xml(b"<clinical_study>") is None
    assert study_id_of_xml(b"<other/>") is None
    assert source_version_of_xml(MINIMAL.format(nct="NCT01234567", extra="")) is None
    assert source_version_of_xml(MINIMAL.format(
        nct="NCT01234567", extra="<lastchanged_date>May 2014</lastchanged_date>")) == "2014-05"


def test_external_entities_are_not_resolved(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET")
    xml = (f'<!DOCTYPE clinical_study [<!ENTITY e SYSTEM "{secret.as_uri()}">]>'
           '<clinical_study><id_info><nct_id>NCT01234567</nct_id></id_info><brief_title>a&e;</brief_title>'
           '</clinical_study>')
    rows = parse_clinical_study(xml)
    assert "SECRET" not in repr(rows)
