"""The WHO ICTRP parser on every real ICTRP fixture (search XML, COVID CSV, processed CSVs).

Spot values below were read by hand from the fixture files under ``shared/fixtures/registries``.
The 63-column full export (no header row) has no fixture of its own: the test writes the real rows
of ``ictrp_full_export_fields_processed_subset.csv`` in that column order and checks that they
parse to the same rows as the header-bearing file.
"""
from __future__ import annotations

import collections
import csv
import datetime as dt
import io
import re
from pathlib import Path

import orjson
import pytest

from trialpanorama_dagster.registries import ictrp
from trialpanorama_dagster.registries.common import RecordError
from trialpanorama_dagster.registries.ictrp_fields import FULL_EXPORT_COLUMNS
from trialpanorama_dagster.registries.ictrp_values import age_years, parse_ictrp_date
from trialpanorama_dagster.warehouse.schema import TABLES
from tests.support.paths import shared_fixtures

REGISTRIES = shared_fixtures() / "registries"
WHO = REGISTRIES / "who_ictrp"
FOLDERS = ("anzctr", "chictr", "ctri", "drks", "jprn_jrct", "cris_kct", "irct", "pactr", "rebec", "rpcec",
           "lbctr", "tctr", "ntr_nl", "reprec_peru", "isrctn", "euctr")
FILES = sorted({*WHO.glob("*.csv"), *WHO.glob("*.xml"),
                *(p for d in FOLDERS for p in (REGISTRIES / d).glob("ictrp_*.csv")),
                REGISTRIES / "chictr" / "ICTRP-Results_18Mar2020_chictr_only.xml"})
NOT_ICTRP = {"registry_prefixes_date_formats.csv"}
PROCESSED_FULL = WHO / "ictrp_full_export_fields_processed_subset.csv"


def _load(path: Path, hash_: str = "h") -> list[tuple[ictrp.RawItem, dict]]:
    """sniff + split + decode + parse, the way the loader runs them: [(item, rows)]."""
    data = path.read_bytes()
    fmt = ictrp.sniff(data[:4096], path.name)
    assert fmt in ictrp.FORMATS, path
    out = []
    for item in ictrp.split(data, str(path), fmt):
        assert item.error is None, (item.origin, item.error)
        assert item.source == "ictrp" and item.payload_format == fmt and item.origin.startswith(f"{path}#")
        obj = ictrp.decode(item.payload, fmt)
        assert obj == item.decoded
        out.append((item, ictrp.parse(obj, hash_)))
    return out


def _dicts(rows, table: str) -> list[dict]:
    return [dict(zip(TABLES[table].column_names, r)) for r in rows[table]]


def _study(records, trial_id: str) -> tuple[dict, dict]:
    rows = next(rows for item, rows in records if item.source_id == trial_id)
    return _dicts(rows, "studies")[0], rows


@pytest.fixture(scope="module")
def everything() -> dict[Path, list]:
    return {p: _load(p) for p in FILES if p.name not in NOT_ICTRP}


def test_fixture_inventory():
    assert len(FILES) == 42
    assert ictrp.sniff((WHO / "ICTRP_export_datafields.txt").read_bytes()[:4096], "ICTRP_export_datafields.txt") is None
    assert ictrp.sniff((WHO / "registry_prefixes_date_formats.csv").read_bytes(), "x.csv") is None
    ctgov_json = next((REGISTRIES / "clinicaltrials_gov_v2").rglob("*.json"))
    assert ictrp.sniff(ctgov_json.read_bytes()[:4096], ctgov_json.name) is None


def test_every_record_of_every_file_parses(everything):
    counts = {p.name if p.parent == WHO else f"{p.parent.name}/{p.name}": len(v) for p, v in everything.items()}
    assert counts["ICTRP-Results_18Mar2020_subset.xml"] == 18
    assert counts["chictr/ICTRP-Results_18Mar2020_chictr_only.xml"] == 8
    assert counts["COVID19-1135-trials_ictrp_export_2020-04_subset.csv"] == 35
    # bare CRs inside unquoted cells (R's write.csv) do not split rows: 40 rows, none broken
    assert counts["covid_all_processed_ictrp_rows_subset.csv"] == 40
    assert counts["ictrp_full_export_fields_processed_subset.csv"] == 33
    for records in everything.values():
        for item, rows in records:
            sid = ictrp.record_id(item.decoded)
            for table, table_rows in rows.items():
                cols = TABLES[table].column_names
                assert all(len(r) == len(cols) for r in table_rows), table
                assert all(r[cols.index("study_id")] == sid for r in table_rows), table
            study = _dicts(rows, "studies")[0]
            assert len(rows["studies"]) == 1 and len(rows["outcomes"]) == 1
            assert study["study_type"] == "trial" and study["payload_hash"] == "h"
            assert study["source_version"] == ictrp.record_version(item.decoded)
            assert study["last_update_posted_date"].isoformat() == study["source_version"]
            assert study["title"] and study["title"] == study["title"].strip()


def test_study_sources_cover_the_registries(everything):
    sources = collections.Counter(_dicts(rows, "studies")[0]["study_source"]
                                  for records in everything.values() for _, rows in records)
    assert "ictrp" not in sources and "other" not in sources
    assert len(sources) >= 14
    assert {"ctgov", "euctr", "isrctn", "anzctr", "chictr", "ctri", "drks", "jprn", "cris", "irct", "pactr",
            "rebec", "rpcec", "lbctr", "tctr", "ntr", "repec"} <= set(sources)


def test_xml_payloads_are_the_trial_elements_byte_for_byte():
    path = WHO / "ICTRP-Results_18Mar2020_subset.xml"
    data = path.read_bytes()
    items = list(ictrp.split(data, "f.xml", "ictrp-xml"))
    assert [i.origin for i in items[:2]] == ["f.xml#1", "f.xml#2"]
    assert items[0].source_id == "ChiCTR2000029953"
    for item in items:
        assert item.payload.startswith(b"<Trial>") and item.payload.endswith(b"</Trial>")
        assert item.payload in data and b"\r\n" in item.payload  # CRLF kept


def test_chictr_record_titles_dates_groups():
    records = _load(WHO / "ICTRP-Results_18Mar2020_subset.xml")
    s, rows = _study(records, "ChiCTR2000029953")
    assert (s["study_id"], s["study_source"], s["trial_type"]) == ("ChiCTR2000029953", "chictr", "OBSERVATIONAL")
    title = ("Construction and Analysis of Prognostic Predictive Model of Novel Coronavirus Pneumonia "
             "(COVID-19)")
    assert s["title"] == title and s["official_title"] == title  # right padding of Scientific_title gone
    assert s["first_submitted_date"] == dt.date(2020, 2, 17)
    assert (s["start_date"], s["start_date_precision"], s["start_year"]) == (dt.date(2020, 2, 1), "day", 2020)
    assert s["last_update_posted_date"] == dt.date(2020, 2, 17) and s["source_version"] == "2020-02-17"
    assert (s["recruitment_status"], s["recruitment_status_original"]) == ("ACTIVE_NOT_RECRUITING", "Not Recruiting")
    assert (s["phase"], s["phase_original"]) == ("NA", "N/A")
    assert s["actual_accrual"] == 400  # "survival group:200;died:200;"
    assert s["sex"] == "ALL" and s["countries"] == ["China"] and s["sponsor"] == "Zhongnan Hospital of Wuhan University"
    assert s["eligibility_criteria"].startswith("Inclusion criteria: 2019-nCoV-infected pneumonia")
    assert "\n\nExclusion criteria: Patients diagnosed with pneumonia of age <15 years" in s["eligibility_criteria"]
    assert [c["condition_name"] for c in _dicts(rows, "conditions")] == ["2019-nCoV Pneumonia"]
    assert [(d["group_label"], d["number_of_subjects"]) for d in _dicts(rows, "disposition")] == \
        [("survival group", 200), ("died", 200)]
    assert [e["measure"] for e in _dicts(rows, "endpoints")] == [
        "duration of in hospital", "in hospital mortality", "the 28s day' mortality after admission",
        "duration of ICU stay"]
    # "Case series:Treated with conventional treatment combined with Chloroquine Phosphate;"
    _, rows = _study(records, "ChiCTR2000029935")
    assert [(i["intervention_name"], i["arm_group_labels"]) for i in _dicts(rows, "interventions")] == \
        [("Treated with conventional treatment combined with Chloroquine Phosphate", ["Case series"])]


def test_chinese_text_is_kept():
    data = (WHO / "ICTRP-Results_18Mar2020_subset.xml").read_bytes()
    trial = next(i.payload for i in ictrp.split(data, "f", "ictrp-xml") if i.source_id == "ChiCTR2000029935")
    zh = "磷酸氯喹治疗新型冠状病毒肺炎的单臂临床试验"
    trial = re.sub(rb"<Public_title>.*?</Public_title>", f"<Public_title>{zh}</Public_title>".encode(), trial)
    s = _dicts(ictrp.parse(ictrp.decode(trial, "ictrp-xml")), "studies")[0]
    assert s["title"] == zh
    assert s["official_title"].startswith("A Single-arm Clinical Trial for Chloroquine Phosphate")


def test_euctr_country_row_collapses_to_the_eudract_number():
    records = _load(REGISTRIES / "euctr" / "ictrp_covid_export_2020-04_rows.csv")
    s, rows = _study(records, "EUCTR2020-001162-12-FR")
    assert (s["study_id"], s["study_source"]) == ("2020-001162-12", "euctr")
    assert ictrp.record_id(records[3][0].decoded) == "2020-001162-12"
    assert s["countries"] == ["France", "Canada", "Spain", "Russian Federation", "Israel", "Germany", "Japan", "Italy"]
    assert (s["phase"], s["recruitment_status_original"]) == ("PHASE2/PHASE3", "Authorised")
    s, rows = _study(records, "EUCTR2015-002340-14-NL")
    assert s["study_id"] == "2015-002340-14" and s["phase"] == "PHASE4" and s["sex"] == "ALL"
    assert [c["condition_name"] for c in _dicts(rows, "conditions")] == \
        ["Severe Community Acquired Pneumonia", "Community acquired pneumonia"]  # MedDRA term kept, no MeSH area
    drugs = [d["drug_name"] for d in _dicts(rows, "drugs")]
    assert drugs[:4] == ["LEVOFLOXACIN", "HYDROCORTISONE", "CEFTRIAXONE", "AZITHROMYCIN"]
    endpoint = _dicts(rows, "endpoints")[0]
    assert endpoint["measure"].startswith("The primary objective of this REMAP is, for adult patients")
    assert endpoint["time_frame"] == "90 Days from the date of enrolment."


def test_ctri_dates_and_icd_conditions():
    records = _load(REGISTRIES / "ctri" / "ictrp_covid_processed_rows.csv")
    s, rows = _study(records, "CTRI/2020/05/025335")  # Date_registration 24-05-2020, Date_enrollment 20-06-2020
    assert (s["study_id"], s["study_source"]) == ("CTRI/2020/05/025335", "ctri")
    assert s["first_submitted_date"] == dt.date(2020, 5, 24) and s["start_date"] == dt.date(2020, 6, 20)
    assert [c["condition_name"] for c in _dicts(rows, "conditions")] == \
        ["Health Condition 1: B972- Coronavirus as the cause of diseases classified elsewhere"]
    records = _load(REGISTRIES / "ctri" / "ictrp_full_fields_processed_rows.csv")  # no Date registration3 here
    s, _ = _study(records, "CTRI/2019/08/020943")
    assert s["first_submitted_date"] == dt.date(2019, 8, 28)  # "28-08-2019"
    assert s["start_date"] == dt.date(2020, 5, 15)  # "15-05-2020"


def test_phases_of_irct_pactr_repec_isrctn():
    s, _ = _study(_load(REGISTRIES / "irct" / "ictrp_covid_export_2020-04_rows.csv"), "IRCT20100228003449N27")
    assert (s["phase"], s["phase_original"]) == ("PHASE2/PHASE3", "2-3")
    assert (s["minimum_age_years"], s["maximum_age_years"]) == (18.0, 65.0)
    s, _ = _study(_load(REGISTRIES / "pactr" / "ictrp_covid_processed_rows.csv"), "PACTR202006760881890")
    assert (s["phase"], s["phase_original"]) == ("PHASE2", "Phase-2")
    assert (s["minimum_age"], s["minimum_age_years"], s["maximum_age_years"]) == ("19 Year(s)", 19.0, 44.0)
    s, _ = _study(_load(REGISTRIES / "reprec_peru" / "ictrp_covid_processed_rows.csv"), "PER-054-20")
    assert (s["study_source"], s["phase"], s["phase_original"]) == ("repec", "PHASE2", "II")
    phases = {(_dicts(rows, "studies")[0]["phase_original"], _dicts(rows, "studies")[0]["phase"])
              for _, rows in _load(REGISTRIES / "isrctn" / "ictrp_full_fields_processed_rows.csv")
              + _load(REGISTRIES / "isrctn" / "ictrp_covid_export_2020-04_rows.csv")}
    assert {("Phase II/III", "PHASE2/PHASE3"), ("Not Applicable", "NA")} <= phases


def test_jprn_ids_and_ages():
    records = _load(REGISTRIES / "jprn_jrct" / "ictrp_covid_export_2020-04_rows.csv")
    s, _ = _study(records, "JPRN-jRCTs031190227")
    assert (s["study_id"], s["study_source"]) == ("jRCTs031190227", "jprn")
    assert (s["minimum_age"], s["minimum_age_years"]) == (">= 20age old", 20.0)
    records = _load(REGISTRIES / "jprn_jrct" / "ictrp_full_fields_processed_rows.csv")
    s, rows = _study(records, "JPRN-jRCTs051180199")
    assert s["study_id"] == "jRCTs051180199"
    assert [(r["secondary_id"], r["domain"]) for r in _dicts(rows, "secondary_ids")] == [("UMIN000027229", "jprn")]
    assert age_years("20years-old") == 20.0 and age_years("< 80age old") == 80.0 and age_years("19(Year)") == 19.0
    assert age_years("no limit") is None and age_years("0 N/A (No limit)") is None and age_years("28 Days") == 0.0767


def test_drks_secondary_ids_name_their_registries():
    s, rows = _study(_load(REGISTRIES / "drks" / "ictrp_full_fields_processed_rows.csv"), "DRKS00017475")
    assert (s["study_id"], s["study_source"]) == ("DRKS00017475", "drks")
    assert [(r["secondary_id"], r["id_type"], r["domain"]) for r in _dicts(rows, "secondary_ids")] == [
        ("2018-001874-89", None, "euctr"), ("NCT03869385", None, "ctgov"), ("2018-1227", None, None)]


def test_ctgov_rows_and_bridged_children():
    records = _load(WHO / "ictrp_full_export_fields_processed_subset.csv")
    s, rows = _study(records, "NCT04032171")
    assert (s["study_source"], s["start_date"], s["sex"]) == ("ctgov", dt.date(2019, 9, 10), "ALL")
    assert s["first_submitted_date"] == dt.date(2019, 7, 23)  # "23/7/2019": day first, no zero padding
    assert s["collaborators"] == ["Merck KGaA, Darmstadt, Germany"]
    assert [(r["secondary_id"], r["id_type"]) for r in _dicts(rows, "secondary_ids")] == [
        ("2018-004700-19", None), ("MS200527_0074", None), ("EUCTR2018-004700-19-BG", "ICTRP_BRIDGED_CHILD")]
    assert [(i["intervention_type"], i["intervention_name"]) for i in _dicts(rows, "interventions")] == [
        ("DRUG", "Evobrutinib"), ("DRUG", "Avonex®"), ("DRUG", "Placebo")]
    assert len(rows["drugs"]) == 3
    covid = _load(WHO / "COVID19-1135-trials_ictrp_export_2020-04_subset.csv")
    s, _ = _study(covid, "NCT04252885")  # Date enrollement "January 28, 2020"
    assert (s["start_date"], s["start_date_precision"]) == (dt.date(2020, 1, 28), "day")
    assert s["first_submitted_date"] == dt.date(2020, 1, 30)  # Date registration3 20200130 (30/01/2020)


def test_target_sizes_and_statuses(everything):
    by_id = {ictrp.record_id(item.decoded): _dicts(rows, "studies")[0]
             for records in everything.values() for item, rows in records}
    assert by_id["RPCEC00000321"]["actual_accrual"] is None  # "All patients meeting selection criteria"
    assert by_id["ChiCTR2000038740"]["actual_accrual"] == 200  # "Jiexingjunzi granule group:100;Qibei…:100;"
    statuses = {s["recruitment_status_original"]: s["recruitment_status"] for s in by_id.values()}
    assert statuses["Pending"] == "NOT_YET_RECRUITING" and statuses["Complete"] == "COMPLETED"
    assert statuses["Closed to Recruitment of Participants"] == "ACTIVE_NOT_RECRUITING"
    assert statuses["Pending (Not yet recruiting)"] == "NOT_YET_RECRUITING"
    assert by_id["RBR-949z6v"]["sex"] is None and by_id["RBR-949z6v"]["maximum_age_years"] == 85.0


def test_registry_date_formats_table():
    with open(WHO / "registry_prefixes_date_formats.csv", encoding="utf-8-sig", newline="") as fh:
        table = list(csv.DictReader(fh))
    assert len(table) == 20
    for row in table:
        example = row["Date Example"].strip('"')
        assert parse_ictrp_date(example, "x") == (dt.datetime.strptime(example, row["Format"]).date(), "day")
        dash = "-" if row["Prefix"] in ("PER", "RBR") else ""
        assert ictrp.registry_of(f"{row['Prefix']}{dash}0001") != "other", row["Prefix"]
    assert parse_ictrp_date("17 February 2020", "x") == (dt.date(2020, 2, 17), "day")
    assert parse_ictrp_date("15-Jul-19", "x") == (dt.date(2019, 7, 15), "day")
    assert parse_ictrp_date("August 2009", "x") == (dt.date(2009, 8, 1), "month")
    assert parse_ictrp_date("2020/03/01", "x") == (dt.date(2020, 3, 1), "day")
    assert parse_ictrp_date("1900-01-01", "x") == (None, None)
    with pytest.raises(RecordError, match="Date_enrollement: impossible date '31-02-2020'"):
        parse_ictrp_date("31-02-2020", "Date_enrollement")


def _full_export_rows() -> tuple[list[list[str]], list[str]]:
    """The processed rows in the 63-column order of the full export; the processed file renamed
    ``last_updated`` to ``Unknown`` and ``Date_enrollement`` to ``Date_enrollment``."""
    with open(PROCESSED_FULL, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    header = rows[0]
    index = {h.lower(): i for i, h in enumerate(header)}
    index["last_updated"], index["date_enrollement"] = index["unknown"], index["date_enrollment"]
    return [[r[index[c.lower()]] for c in FULL_EXPORT_COLUMNS] for r in rows[1:]], header


def test_headerless_63_column_full_export_parses_like_the_header_version(tmp_path):
    rows63, _ = _full_export_rows()
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows63)
    path = tmp_path / "ICTRPFullExport.csv"
    path.write_bytes(buf.getvalue().encode("utf-8"))
    assert ictrp.sniff(path.read_bytes()[:4096], path.name) == "ictrp-csv"
    headerless, with_header = _load(path), _load(PROCESSED_FULL)
    assert len(headerless) == len(with_header) == 33
    assert orjson.loads(headerless[0][0].payload)["layout"] == "full-export"
    assert list(orjson.loads(headerless[0][0].payload)["cells"]) == list(FULL_EXPORT_COLUMNS)
    assert orjson.loads(with_header[0][0].payload)["layout"] == "header"
    for (item63, rows63_), (item, rows) in zip(headerless, with_header):
        assert item63.source_id == item.source_id
        assert rows63_ == rows


def test_csv_cells_are_stored_unchanged():
    data = (WHO / "COVID19-1135-trials_ictrp_export_2020-04_subset.csv").read_bytes()
    items = list(ictrp.split(data, "c", "ictrp-csv"))
    cells = orjson.loads(items[0].payload)["cells"]
    assert orjson.loads(items[0].payload)["layout"] == "covid-export"
    assert cells["TrialID"] == "ChiCTR2000029953" and cells["Scientific title"].endswith("   ")
    assert cells["Bridged type"] == "          "
    items = list(ictrp.split((WHO / "covid_all_processed_ictrp_rows_subset.csv").read_bytes(), "c", "ictrp-csv"))
    item = next(i for i in items if i.source_id == "NCT04552951")
    cells = orjson.loads(item.payload)["cells"]
    assert cells["Inclusion Criteria"].startswith("\r<br>        Inclusion Criteria:\r<br>\r<br>")
    criteria = _dicts(ictrp.parse(item.decoded), "studies")[0]["eligibility_criteria"]
    assert criteria.startswith("Inclusion Criteria:\n\n-  > 18 year\n\n-  Diagnosis of COVID-19")
    assert "<br>" not in criteria and "\r" not in criteria


def test_malformed_csv_rows_become_error_items(tmp_path):
    rows63, _ = _full_export_rows()
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerows([rows63[0], rows63[1][:40], ["", *rows63[2][1:]]])
    items = list(ictrp.split(("\ufeff" + buf.getvalue()).encode(), "bad.csv", "ictrp-csv"))
    assert [i.error for i in items] == [None, "CSV row has 40 columns, the full-export layout has 63",
                                        "CSV row without TrialID"]
    assert items[1].origin == "bad.csv#2" and orjson.loads(items[1].payload)["values"] == rows63[1][:40]
    latin1 = buf.getvalue().replace("Peripheral", "P\xe9ripheral", 1).encode("latin-1", errors="replace")
    items = list(ictrp.split(latin1, "bad.csv", "ictrp-csv"))
    assert items[0].error.startswith("CSV row is not valid UTF-8 text") and b"P\xe9ripheral" in items[0].payload


def test_malformed_xml_and_impossible_dates():
    data = (WHO / "ICTRP-Results_18Mar2020_subset.xml").read_bytes()
    trial = next(ictrp.split(data, "f", "ictrp-xml")).payload
    no_id = re.sub(rb"<TrialID>[^<]*</TrialID>", b"", trial)
    bad = data.replace(trial, no_id, 1) + b"<Trial><TrialID>NCT04252885</TrialID>"  # truncated tail
    items = list(ictrp.split(bad, "f", "ictrp-xml"))
    assert items[0].error == "<Trial> without TrialID" and items[0].payload == no_id
    assert items[-1].error == "unterminated <Trial> element"
    assert all(i.error is None for i in items[1:-1])
    with pytest.raises(RecordError, match="TrialID"):
        ictrp.parse(ictrp.decode(no_id, "ictrp-xml"))
    with pytest.raises(RecordError, match="invalid ICTRP <Trial> XML"):
        ictrp.decode(trial[:-3], "ictrp-xml")
    impossible = trial.replace(b"<Date_registration3>20200217<", b"<Date_registration3>20200231<")
    with pytest.raises(RecordError, match="Date_registration3: impossible date '20200231'"):
        ictrp.parse(ictrp.decode(impossible, "ictrp-xml"))
    other_registration = trial.replace(b"<Date_registration>2020-02-17<", b"<Date_registration>2019-01-01<")
    assert _dicts(ictrp.parse(ictrp.decode(other_registration, "ictrp-xml")), "studies")[0][
        "first_submitted_date"] == dt.date(2020, 2, 17)  # Date_registration3 wins
    unrecognised = trial.replace(b"<Date_enrollement>2020-02-01<", b"<Date_enrollement>soon<")
    with pytest.raises(RecordError, match="Date_enrollement: unrecognised date 'soon'"):
        ictrp.parse(ictrp.decode(unrecognised, "ictrp-xml"))
    with pytest.raises(RecordError):
        ictrp.decode(b"[1, 2]", "ictrp-csv")


def test_registry_of_prefix():
    assert ictrp.REGISTRY_OF_PREFIX["ACTRN"] == "anzctr"
    cases = {"NCT04252885": "ctgov", "EUCTR2020-001162-12-FR": "euctr", "ISRCTN14966673": "isrctn",
             "ACTRN12620000421932": "anzctr", "ChiCTR-TRC-12001234": "chictr", "CTRI/2020/05/025335": "ctri",
             "DRKS00021134": "drks", "JPRN-UMIN000012345": "jprn", "JPRN-JapicCTI-205238": "jprn",
             "KCT0004211": "cris", "IRCT20100228003449N27": "irct", "PACTR202006760881890": "pactr",
             "RBR-949z6v": "rebec", "RPCEC00000321": "rpcec", "LBCTR2020043495": "lbctr",
             "TCTR20200321001": "tctr", "NL8490": "ntr", "NL-OMON12345": "ntr", "NTR1234": "ntr",
             "PER-054-20": "repec", "SLCTR/2020/011": "slctr", "ITMCTR2000003345": "itmctr", "XYZ123": "other"}
    assert {k: ictrp.registry_of(k) for k in cases} == cases
    assert ictrp.canonical_id(" JPRN-UMIN000012345 ") == "UMIN000012345"
    assert ictrp.canonical_id("EUCTR2020-001234-12-3RD") == "2020-001234-12"
