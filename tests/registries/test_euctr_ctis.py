"""EU CTR (full-text download, ctrdata JSON) and CTIS JSON -> unified rows, checked against values
read in the real records of the shared fixtures."""
import datetime as dt
import json

import pytest

from trialpanorama_dagster.registries import ctis, euctr, vocab
from trialpanorama_dagster.registries.common import RecordError
from trialpanorama_dagster.warehouse.schema import STUDY_TABLES, TABLES
from tests.support.paths import CTGOV_V2_STUDIES, shared_fixtures

EUCTR = shared_fixtures() / "registries" / "euctr"
CTIS = shared_fixtures() / "registries" / "ctis"
TEXT = EUCTR / "euctr_full_text_download_ctrdata_test.txt"


def col(row: tuple, table: str, name: str):
    return row[TABLES[table].column_names.index(name)]


def items_of(mod, path):
    data = path.read_bytes()
    fmt = mod.sniff(data[:8192].lstrip(), path.name)
    assert fmt in mod.FORMATS, path.name
    return fmt, list(mod.split(data, str(path), fmt))


def load(mod, path) -> dict:
    """study_id -> rows for every trial of one fixture file."""
    fmt, items = items_of(mod, path)
    out = {}
    for item in items:
        assert item.error is None and item.source == mod.SOURCE, (item.origin, item.error)
        obj = mod.decode(item.payload, fmt)
        assert mod.record_id(obj) == item.source_id
        rows = mod.parse(obj, "hash")
        out[col(rows["studies"][0], "studies", "study_id")] = rows
    return out


def study(rows) -> dict:
    return dict(zip(TABLES["studies"].column_names, rows["studies"][0]))


def sec_ids(rows) -> dict:
    return {col(r, "secondary_ids", "secondary_id"): col(r, "secondary_ids", "id_type") for r in rows["secondary_ids"]}


def test_sniffing_tells_the_eu_formats_apart():
    for path in sorted(EUCTR.iterdir()) + sorted(CTIS.iterdir()) + sorted(CTGOV_V2_STUDIES.glob("*.json"))[:5]:
        head = path.read_bytes()[:8192].lstrip()
        expected = {".txt": ("euctr-text", None), ".csv": (None, None)}.get(path.suffix) or (
            ("euctr-json", None) if "euctr" in path.name else (None, "ctis-json") if "ctis" in path.name else (None, None))
        assert (euctr.sniff(head, path.name), ctis.sniff(head, path.name)) == expected, path.name


def test_every_fixture_parses_into_rows_of_the_declared_width():
    files = [(euctr, p) for p in sorted(EUCTR.glob("*")) if p.suffix != ".csv"] + [(ctis, p) for p in sorted(CTIS.glob("*"))]
    assert len(files) == 8
    for mod, path in files:
        for sid, rows in load(mod, path).items():
            assert col(rows["studies"][0], "studies", "study_source") == mod.SOURCE
            for t in STUDY_TABLES:
                assert all(len(r) == len(t.columns) for r in rows[t.name]), (path.name, t.name)
                key = "head_id" if t.name == "relations" else "study_id"
                assert all(r[t.column_names.index(key)] == sid for r in rows[t.name]), (path.name, t.name)


def test_full_text_download_collapses_member_state_records_into_two_trials():
    data = TEXT.read_bytes()
    _, items = items_of(euctr, TEXT)
    assert [i.source_id for i in items] == ["2022-002568-62", "2021-002179-21"]
    # payloads are the records' exact bytes (the file minus its 2-line preamble), each trial's records together
    assert b"".join(i.payload for i in items) == data[data.index(b"Summary\n"):]
    assert [i.payload.count(b"\nSummary\n") + i.payload.startswith(b"Summary\n") for i in items] == [3, 7]
    trials = load(euctr, TEXT)
    assert list(trials) == ["2022-002568-62", "2021-002179-21"]
    # ctrdata's injected garbage (A.7 / A.8 values) spoils only those unused fields: both trials load
    assert b"JSON_ERROR_HERE" in items[0].payload and b"JSON_ERROR_HERE" in items[1].payload
    assert "JSON_ERROR_HERE" not in repr(trials)

    s = study(trials["2022-002568-62"])
    assert s["countries"][:2] == ["Spain", "Sweden"] and "United States" in s["countries"]
    assert s["title"].startswith("A Phase 1/2 Open-Label, Ascending Dose, Multicenter Study to Evaluate the Safety")
    assert s["official_title"] == s["title"] and "Estudio" not in s["title"]
    assert "(es) Estudio de fase 1/2, abierto" in s["detailed_description"]      # translations kept, not as title
    assert s["abstract"].startswith("A study to test whether AVB-101 is both safe and efficacious")
    assert (s["phase"], s["recruitment_status"], s["recruitment_status_original"]) == (
        "PHASE1/PHASE2", "ACTIVE_NOT_RECRUITING", "Ongoing")
    assert (s["sponsor"], s["sponsor_class"], s["org_study_id"]) == ("AviadoBio Ltd", "INDUSTRY", "AVB-PGRN-001")
    assert s["start_date"] == dt.date(2023, 4, 13) and s["start_date_type"] is None      # earliest authorisation (SE)
    assert s["first_submitted_date"] == dt.date(2023, 1, 16)
    assert (s["actual_accrual"], s["accrual_type"]) == (15, "ESTIMATED")
    assert (s["sex"], s["minimum_age"], s["maximum_age"], s["std_ages"]) == ("ALL", "18 Years", None, ["ADULT", "OLDER_ADULT"])
    assert s["eligibility_criteria"].startswith("Inclusion Criteria:\n1. Male or female, 30 to 75 years of age")
    assert "Exclusion Criteria:\n1. Classification of the mutation in the GRN gene" in s["eligibility_criteria"]
    rows = trials["2022-002568-62"]
    (drug,) = rows["drugs"]
    assert col(drug, "drugs", "drug_name") == "Recombinant AAV-9 vector expressing the human progranulin protein"
    assert col(drug, "drugs", "other_names") == ["AVB-101"] and col(drug, "drugs", "intervention_type") == "BIOLOGICAL"
    assert [(col(e, "endpoints", "endpoint_type"), col(e, "endpoints", "time_frame")) for e in rows["endpoints"]] == [
        ("PRIMARY", "26 weeks and 5 years"), ("SECONDARY", "26 weeks and 5 years")]
    assert "Number and incidence of AEs, SAEs" in col(rows["endpoints"][0], "endpoints", "measure")

    s = study(trials["2021-002179-21"])
    assert s["countries"][:6] == ["France", "Spain", "Greece", "Poland", "Portugal", "Hungary"]
    assert (s["phase"], s["sponsor"], s["masking"], s["allocation"]) == ("PHASE3", "AB Science", "DOUBLE", "RANDOMIZED")
    assert (s["actual_accrual"], s["start_date"]) == (600, dt.date(2022, 9, 22))
    rows = trials["2021-002179-21"]
    assert [col(c, "conditions", "condition_name") for c in rows["conditions"]] == [
        "Alzheimer's disease", "Patients with mild-to-moderate Alzheimer’s disease",
        "Alzheimer's disease (incl subtypes)", "Early onset Alzheimer's disease"]
    (drug,) = rows["drugs"]                       # 100 mg and 200 mg IMPs of 7 records: one drug
    assert col(drug, "drugs", "drug_name") == "Masitinib" and "CAS: 790299-79-5" in col(drug, "drugs", "description")
    assert col(drug, "drugs", "other_names") == ["Masitinib mesilate", "AB1010"]
    assert [col(i, "interventions", "intervention_name") for i in rows["interventions"]] == ["Masitinib", "Placebo"]
    assert sec_ids(rows) == {"AB21004": "SPONSOR_PROTOCOL"}
    assert euctr.record_version(euctr.decode(items[1].payload, "euctr-text")) is None


def test_ctrdata_euctr_json_records():
    rows = load(euctr, EUCTR / "ctrdata_euctr_2016-004489-24-DE.json")["2016-004489-24"]
    s = study(rows)
    assert (s["phase"], s["recruitment_status"], s["sponsor"], s["sponsor_class"]) == (
        "PHASE3", "COMPLETED", "Instituto Grifols, S.A", "INDUSTRY")
    assert s["title"].startswith("A Prospective, Randomised, Active-Controlled, Single-blind, Parallel Group")
    assert (s["start_date"], s["start_date_type"], s["completion_date"]) == (dt.date(2019, 1, 18), "ACTUAL", dt.date(2022, 5, 20))
    assert s["has_results"] is True and s["accrual_type"] == "ACTUAL" and s["countries"] == ["Germany"]
    assert sec_ids(rows) == {"NCT03461406": "NCT", "IG1405": "SPONSOR_PROTOCOL"}
    assert [col(d, "drugs", "drug_name") for d in rows["drugs"]] == ["FS Grifols", "Evicel"]

    s = study(load(euctr, EUCTR / "ctrdata_euctr_2013-000615-24-BE.json")["2013-000615-24"])
    assert (s["recruitment_status"], s["recruitment_status_original"], s["phase"]) == ("TERMINATED", "Prematurely Ended", "PHASE4")
    assert (s["sponsor"], s["sponsor_class"], s["countries"]) == ("Cliniques universitaires Saint-Luc", "OTHER", ["Belgium"])
    assert (s["minimum_age"], s["maximum_age"], s["std_ages"]) == ("0 Days", "17 Years", ["CHILD"])

    rows = load(euctr, EUCTR / "ctrdata_euctr_2022-000099-20-DE.json")["2022-000099-20"]
    s = study(rows)
    assert (s["acronym"], s["healthy_volunteers"], s["primary_purpose"]) == ("HARMONIE", True, "PREVENTION")
    assert sec_ids(rows) == {"U1111-1272-2514": "WHO_UTRN", "NCT05437510": "NCT", "VAS00006": "SPONSOR_PROTOCOL"}


CTIS_EXPECTED = {
    # ctNumber: (title start, phase, a condition, countries, secondary ids, status, original)
    "2022-500244-37-00": ("A 4-week double-blind, randomized, placebo-controlled, phase II study", "PHASE2", "COVID-19",
                          ["Germany", "Switzerland"], {"KIN001-204": "SPONSOR_PROTOCOL"},
                          "NOT_YET_RECRUITING", "Authorised, not started"),
    "2023-505613-24-00": ("A Phase 2, Open-Label, Single-Arm, Sequential-Panel Study", "PHASE2", "Fungal infection",
                          ["Belgium", "Poland", "Greece", "Philippines", "Israel", "United States", "Russian Federation",
                           "Mexico", "Peru"],
                          {"NCT04665037": "NCT", "2019-003842-34": "EUDRACT_NUMBER", "75,061; 125,097": "REGISTRY",
                           "MK-5592-127": "SPONSOR_PROTOCOL"}, "RECRUITING", "Ongoing, recruiting"),
    "2023-508143-51-01": ("Pulmonary function and sleep related disorders during cervical admission", "PHASE4",
                          "Spinal cord Injury", ["Netherlands"],
                          {"2021-004994-30": "EUDRACT_NUMBER", "NL 68837.091.21": "SPONSOR_PROTOCOL"},
                          "NOT_YET_RECRUITING", "Authorised, not started"),
    "2024-510663-34-00": ("An open label, single arm study to evaluate single and multiple dose pharmacokinetics", "PHASE2",
                          "Influenza, Human", ["Spain", "Italy"],
                          {"NCT04494412": "NCT", "2019-001588-63": "EUDRACT_NUMBER", "200925": "SPONSOR_PROTOCOL"},
                          "RECRUITING", "Ongoing, recruiting"),
}


@pytest.mark.parametrize("ct_number", sorted(CTIS_EXPECTED))
def test_ctis_records(ct_number):
    title, phase, condition, countries, ids, status, original = CTIS_EXPECTED[ct_number]
    rows = load(ctis, CTIS / f"ctrdata_ctis_{ct_number}.json")[ct_number]
    s = study(rows)
    assert s["title"].startswith(title) and s["study_source"] == "ctis"
    assert s["phase"] == phase and s["phase_original"].startswith("Therapeutic")
    assert condition in [col(c, "conditions", "condition_name") for c in rows["conditions"]]
    assert s["countries"] == countries
    assert sec_ids(rows) == ids
    assert (s["recruitment_status"], s["recruitment_status_original"]) == (status, original)
    assert s["sex"] == "ALL" and s["trial_type"] == "INTERVENTIONAL"


def test_ctis_dates_versions_products_and_sites():
    rows = load(ctis, CTIS / "ctrdata_ctis_2023-505613-24-00.json")["2023-505613-24-00"]
    s = study(rows)
    assert (s["start_date"], s["start_date_type"]) == (dt.date(2021, 4, 28), "ACTUAL")     # startDateEU "28/04/2021"
    assert (s["completion_date"], s["completion_date_type"]) == (dt.date(2025, 9, 22), "ESTIMATED")
    assert s["source_version"] == "2025-08-19" and s["last_update_posted_date"] == dt.date(2025, 8, 19)
    assert (s["actual_accrual"], s["accrual_type"]) == (13 + 19, "ESTIMATED")             # EEA parts II + rest of world
    assert (s["minimum_age"], s["maximum_age"], s["std_ages"]) == ("0 Years", "17 Years", ["CHILD"])
    assert [col(d, "drugs", "drug_name") for d in rows["drugs"]] == [
        "Noxafil 300 mg concentrate for solution for infusion", "Posaconazole"]
    assert "ATC: J02AC04" in col(rows["drugs"][0], "drugs", "description")
    assert ("UZ Leuven", "Leuven", "Belgium") in {(col(r, "locations", "facility"), col(r, "locations", "city"),
                                                   col(r, "locations", "country")) for r in rows["locations"]}
    assert len([e for e in rows["endpoints"] if col(e, "endpoints", "endpoint_type") == "PRIMARY"]) == 14

    rows = load(ctis, CTIS / "ctrdata_ctis_2022-500244-37-00.json")["2022-500244-37-00"]   # pre-2024 shape
    s = study(rows)
    assert (s["start_date"], s["start_date_type"], s["source_version"]) == (dt.date(2022, 6, 1), "ESTIMATED", "2022-08-03")
    assert (s["sponsor"], s["sponsor_class"], s["actual_accrual"]) == ("Kinarus AG", "INDUSTRY", 150 + 290)
    assert [col(d, "drugs", "drug_name") for d in rows["drugs"]] == ["pioglitazone hydrochloride", "pamapimod"]
    assert "Pamapimod Placebo" in [col(i, "interventions", "intervention_name") for i in rows["interventions"]]


def test_malformed_input_is_rejected_with_a_reason():
    # truncated JSON: an error RawItem from split, RecordError from decode
    for mod, path, fmt in ((euctr, EUCTR / "ctrdata_euctr_2013-000615-24-BE.json", "euctr-json"),
                           (ctis, CTIS / "ctrdata_ctis_2024-510663-34-00.json", "ctis-json")):
        cut = path.read_bytes()[:700]
        (item,) = mod.split(cut, "cut.json", fmt)
        assert item.error and item.error.startswith("invalid JSON")
        with pytest.raises(RecordError, match="invalid JSON"):
            mod.decode(cut, fmt)
    # a record block without its EudraCT number is quarantined alone; the other records still load
    data = TEXT.read_bytes()
    mark = b"Summary\nEudraCT Number: 2022-002568-62"
    second = data.index(mark, data.index(mark) + 1)
    first = b"\n".join(ln for ln in data[:second].split(b"\n")
                       if not ln.startswith((b"EudraCT Number:", b"A.2 EudraCT number:")))
    items = list(euctr.split(first + data[second:], "x.txt", "euctr-text"))
    bad = [i for i in items if i.error]
    assert len(bad) == 1 and "line 3 has no EudraCT number" in bad[0].error and bad[0].origin == "x.txt#line3"
    assert [i.source_id for i in items if not i.error] == ["2022-002568-62", "2021-002179-21"]
    assert study(euctr.parse(euctr.decode(items[1].payload, "euctr-text")))["countries"][0] == "Sweden"
    # an impossible date quarantines the trial (RecordError names the field)
    (good, _) = [i for i in euctr.split(data, "x.txt", "euctr-text")]
    broken = good.payload.replace(b"EudraCT database: 2023-01-16", b"EudraCT database: 2023-02-30")
    with pytest.raises(RecordError, match="impossible date '2023-02-30'"):
        euctr.parse(euctr.decode(broken, "euctr-text"))
    trial = json.loads((CTIS / "ctrdata_ctis_2023-505613-24-00.json").read_bytes())
    with pytest.raises(RecordError, match="startDateEU: impossible date"):
        ctis.parse({**trial, "startDateEU": "31/02/2021"})
    assert ctis.record_version({**trial, "lastUpdated": "31/02/2025"}) is None
    # ids: malformed, missing, or two trials in one payload
    with pytest.raises(RecordError, match="ctNumber missing or malformed"):
        ctis.parse({**trial, "ctNumber": "2023-505613-24"})
    with pytest.raises(RecordError, match="not a JSON object"):
        ctis.decode(b"[1, 2]", "ctis-json")
    with pytest.raises(RecordError, match="one EudraCT number"):
        euctr.parse(euctr.decode(data, "euctr-text"))
    with pytest.raises(RecordError, match="malformed EudraCT number"):
        euctr.parse(euctr.decode(b'{"a2_eudract_number": "2013-615-24"}', "euctr-json"))
    with pytest.raises(RecordError, match="no EU CTR record"):
        euctr.decode(b"nothing here\n", "euctr-text")
    (item,) = euctr.split(b"nothing here\n", "empty.txt", "euctr-text")
    assert item.error and "no EU CTR record" in item.error


def test_ctis_split_handles_arrays_and_search_pages():
    trials = [json.loads(p.read_bytes()) for p in sorted(CTIS.glob("*.json"))]
    for data in (json.dumps(trials).encode(), json.dumps({"data": trials, "pagination": {}}).encode(),
                 b"\n".join(json.dumps(t).encode() for t in trials)):
        items = list(ctis.split(data, "page.json", "ctis-json"))
        assert [i.source_id for i in items] == sorted(CTIS_EXPECTED)
        assert all(ctis.parse(ctis.decode(i.payload, "ctis-json"))["studies"] for i in items)


def test_vocab_reads_eu_phase_and_status_wording():
    assert vocab.phase("Human Pharmacology (Phase I) - Bioequivalence Study") == "PHASE1"
    assert vocab.phase("Phase I and Phase II (Integrated) - First administration to humans") == "PHASE1/PHASE2"
    assert vocab.phase("Phase II/III") == "PHASE2/PHASE3" and vocab.phase("Phase IIb") == "PHASE2"
    assert [vocab.status(s) for s in ("Ongoing, recruiting", "Ongoing, recruitment ended", "Authorised, not started",
                                      "Restarted", "Not Authorised", "Ended", "Prematurely Ended")] == [
        "RECRUITING", "ACTIVE_NOT_RECRUITING", "NOT_YET_RECRUITING", "ACTIVE_NOT_RECRUITING", "WITHDRAWN",
        "COMPLETED", "TERMINATED"]


def test_ctis_retrieve_body_without_the_search_overview():
    """What the live client stores: ``/retrieve`` alone (no trialPhase, ageGroup, gender, lastUpdated)."""
    trial = json.loads((CTIS / "ctrdata_ctis_2023-505613-24-00.json").read_bytes())
    overview = {"shortTitle", "trialCountries", "decisionDateOverall", "therapeuticAreas", "sponsorType", "trialPhase",
                "ageRangeSecondary", "ageGroup", "gender", "totalNumberEnrolled", "resultsFirstReceived", "lastUpdated",
                "lastPublicationUpdate", "ctrname", "record_last_import"}
    body = {k: v for k, v in trial.items() if k not in overview}
    s = study(ctis.parse(body))
    assert (s["phase"], s["phase_original"]) == ("PHASE2", "Therapeutic exploratory (Phase II)")   # trialCategory code 4
    assert (s["sex"], s["minimum_age"], s["maximum_age"]) == ("ALL", "0 Years", "17 Years")
    assert s["countries"][:3] == ["Belgium", "Poland", "Greece"] and s["recruitment_status"] == "RECRUITING"
    assert ctis.record_version(body) == "2025-08-20"                                          # publishDate


def test_text_a5_identifiers_become_secondary_ids():
    """The fixture's records carry no A.5 lines: add them (the register's labels) to one record."""
    _, items = items_of(euctr, TEXT)
    a5 = (b"A.5.1 ISRCTN (International Standard Randomised Controlled Trial) Number: ISRCTN 40152749\n"
          b"A.5.2 US NCT (ClinicalTrials.gov registry) number: NCT05731089\n"
          b"A.5.3 WHO Universal Trial Reference Number (UTRN): U1111-1285-4321\n")
    payload = items[0].payload.replace(b"A.7 Trial is part of", a5 + b"A.7 Trial is part of", 1)
    rows = euctr.parse(euctr.decode(payload, "euctr-text"))
    assert sec_ids(rows) == {"ISRCTN40152749": "ISRCTN", "NCT05731089": "NCT", "U1111-1285-4321": "WHO_UTRN",
                             "AVB-PGRN-001": "SPONSOR_PROTOCOL"}
