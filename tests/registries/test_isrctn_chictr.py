"""ISRCTN (ctrdata JSON and API XML) and ChiCTR (native XML export) parsers on the shared fixtures.

Spot values were read by hand from the fixture files. There is no ISRCTN XML fixture: the XML
documents below are written from fixture JSON with ISRCTN's element names (plus one hand-written
record in the API's current shape), and both paths must give identical rows. The ChiCTR fixture
is English only; the bilingual documents below are hand-written from the ICTRP row of
ChiCTR2000029542 (``ICTRP-Results_18Mar2020_chictr_only.xml``) with an illustrative Chinese version.
"""
from __future__ import annotations

import datetime as dt
import json

import pytest
from lxml import etree

from tests.support.paths import shared_fixtures
from trialpanorama_dagster.registries import chictr, isrctn
from trialpanorama_dagster.registries.common import RecordError
from trialpanorama_dagster.warehouse.schema import TABLES

ISRCTN_DIR = shared_fixtures() / "registries" / "isrctn"
CHICTR_FILE = shared_fixtures() / "registries" / "chictr" / "ChiCTR2000034346.xml"
NS = "http://www.67bricks.com/isrctn"

# digits, title, condition description, diseaseClass1 (read from the fixture files)
ISRCTN_RECORDS = [
    ("12949496", "Using milrinone in babies with high blood pressure in the lungs soon after birth",
     "Persistent pulmonary hypertension of the newborn (PPHN)", "Circulatory System"),
    ("13281214", "Closing patent ductus arteriosus in preterm babies by using a risk-based score",
     "Patent ductus arteriosus, preterm infants", "Circulatory System"),
    ("17473621", "Effectiveness of the blanket model of light emitting diode “BLUI blanket” phototherapy on "
     "decreasing serum bilirubin levels in physiological jaundice at gestational age ≥ 35 weeks",
     "Neonatal jaundice", "Pregnancy and Childbirth"),
    ("20343063", "Cranberry and enterocolitis in premature infants", "Necrotising enterocolitis", "Pregnancy and Childbirth"),
    ("61070850", "Efficacy and safety of preterm formula supplemented with energy substrates for the nutrition of "
     "infants of very low birth weight", "Very low birth weight", "Pregnancy and Childbirth"),
    ("76463425", "Speed of Increasing milk Feeds Trial", "Neonatal feeding, preterm infants, very low birth weight "
     "infants, necrotising enterocolitis, late-onset invasive infection", "Pregnancy and Childbirth"),
    ("80181452", "Neonatal European Study of Inhaled Steroids", "Bronchopulmonary dysplasia", "Neonatal Diseases"),
    ("88261002", "Enteral LactoFerrin In Neonates", "Preterm infants, necrotising enterocolitis, late-onset invasive "
     "infection, lactoferrin", "Digestive System"),
    ("96912679", "Treatment to prevent the narrowing of the oesophagus in a condition called oesophageal atresia (a "
     "disorder present at birth in which the oesophagus, the tube that carries food from the mouth to the stomach, "
     "does not develop properly)", "Infants born with oesophageal artesia (OA) with distal-oesophageal fistula (TOF) "
     "who have undergone primary repair", "Digestive System"),
]


def _rows(rows, table: str) -> list[dict]:
    return [dict(zip(TABLES[table].column_names, r)) for r in rows[table]]


def _isrctn(digits: str):
    path = ISRCTN_DIR / f"ctrdata_isrctn_{digits}.json"
    data = path.read_bytes()
    fmt = isrctn.sniff(data[:8192], path.name)
    items = list(isrctn.split(data, str(path), fmt))
    assert fmt == "isrctn-json" and len(items) == 1 and items[0].error is None
    rows = isrctn.parse(isrctn.decode(items[0].payload, fmt), payload_hash="h")
    return items[0], rows, _rows(rows, "studies")[0]


# -- ISRCTN: every fixture ---------------------------------------------------------------------------
def test_all_isrctn_fixtures_listed():
    assert sorted(p.stem.rsplit("_", 1)[1] for p in ISRCTN_DIR.glob("*.json")) == [r[0] for r in ISRCTN_RECORDS]


@pytest.mark.parametrize("digits,title,condition,disease_class", ISRCTN_RECORDS, ids=[r[0] for r in ISRCTN_RECORDS])
def test_every_isrctn_record_id_title_conditions(digits, title, condition, disease_class):
    item, rows, study = _isrctn(digits)
    assert item.source_id == study["study_id"] == f"ISRCTN{digits}"
    assert (study["study_source"], study["study_type"], study["trial_type"]) == ("isrctn", "trial", "INTERVENTIONAL")
    assert study["title"] == title
    names = [c["condition_name"] for c in _rows(rows, "conditions")]
    assert names[:2] == [condition, disease_class]
    assert study["phase"] == "PHASE3" and study["phase_original"] == "Phase III"
    assert study["sex"] == "ALL" and study["std_ages"] == ["CHILD"]
    assert len(rows["outcomes"]) == 1 and rows["endpoints"]
    assert all(len(r) == len(TABLES[t].columns) for t, rs in rows.items() for r in rs)


def test_isrctn_external_refs_become_typed_secondary_ids():
    _, rows, study = _isrctn("76463425")
    ids = {(r["secondary_id"], r["id_type"], r["domain"]) for r in _rows(rows, "secondary_ids")}
    assert ids == {("NCT01727609", "REGISTRY", "ClinicalTrials.gov"), ("HTA 11/01/25", "OTHER", "Protocol serial number")}
    _, rows, _ = _isrctn("12949496")   # EudraCT number repeated in secondaryNumbers: kept once
    assert [(r["secondary_id"], r["id_type"]) for r in _rows(rows, "secondary_ids")] == [
        ("2014-002988-16", "EUDRACT_NUMBER"), ("MINT-2014-01", "OTHER")]
    _, rows, study = _isrctn("17473621")   # "Nil known" everywhere
    assert rows["secondary_ids"] == [] and study["org_study_id"] is None
    _, rows, _ = _isrctn("96912679")
    assert [(r["secondary_id"], r["domain"]) for r in _rows(rows, "secondary_ids")] == [("1005191", "IRAS")]


def test_isrctn_enrollment_countries_dates_status():
    _, rows, s = _isrctn("76463425")
    assert (s["actual_accrual"], s["accrual_type"]) == (2804, "ACTUAL")   # totalFinalEnrolment over target 2800
    assert s["countries"] == ["United Kingdom", "England", "Ireland"]
    assert (s["start_date"], s["completion_date"], s["recruitment_status"]) == (
        dt.date(2013, 6, 1), dt.date(2018, 5, 10), "COMPLETED")
    assert (s["allocation"], s["masking"], s["primary_purpose"], s["org_study_id"]) == (
        "RANDOMIZED", "NONE", "PREVENTION", "HTA 11/01/25")
    _, rows, s = _isrctn("80181452")
    assert (s["actual_accrual"], s["accrual_type"]) == (850, "ESTIMATED")
    assert s["countries"][:3] == ["United Kingdom", "Czech Republic", "Finland"]
    _, rows, s = _isrctn("12949496")   # recruitmentStatusOverride "Stopped"
    assert (s["recruitment_status"], s["recruitment_status_original"], s["why_stopped"]) == (
        "TERMINATED", "Stopped", "Participant recruitment issue")
    assert (s["actual_accrual"], s["accrual_type"], s["masking"]) == (9, "ACTUAL", "DOUBLE")
    assert _rows(rows, "outcomes")[0]["outcome_type"] == "terminate"
    _, rows, s = _isrctn("96912679")   # recruiting 2025-11 .. 2030-10, as of the ctrdata import 2026-03-08
    assert (s["recruitment_status"], s["recruitment_status_original"]) == ("RECRUITING", None)
    assert (s["start_date_type"], s["completion_date"], s["completion_date_type"]) == (
        "ACTUAL", dt.date(2031, 10, 31), "ESTIMATED")
    _, _, s = _isrctn("13281214")
    assert (s["maximum_age"], s["maximum_age_years"]) == ("29 Weeks", round(29 * 7 / 365.25, 4))
    _, _, s = _isrctn("20343063")   # "Not provided at time of registration" is no abstract
    assert s["abstract"] is None and s["source_version"] is None and s["last_update_posted_date"] is None


def test_isrctn_interventions_drugs_relations_endpoints():
    _, rows, _ = _isrctn("96912679")
    assert [d["drug_name"] for d in _rows(rows, "drugs")] == ["Omeprazole", "esomeprazole"]
    assert _rows(rows, "interventions")[0]["intervention_type"] == "DRUG"
    _, rows, _ = _isrctn("17473621")   # a device: no drug rows
    assert rows["drugs"] == [] and _rows(rows, "interventions")[0]["intervention_name"] == "BLUI Blanket"
    _, rows, _ = _isrctn("12949496")
    assert [(r["tail_id"], r["reference_type"]) for r in _rows(rows, "relations")] == [
        ("36385642", "RESULT"), ("30524749", "PROTOCOL")]
    _, rows, _ = _isrctn("61070850")   # numbered list + "Measured at 21 days."
    prim = [e for e in _rows(rows, "endpoints") if e["endpoint_type"] == "PRIMARY"]
    assert [e["measure"] for e in prim][:2] == ["Number of days required to reach 1800 g in weight",
                                                "Type of treatment administered"]
    assert len(prim) == 6 and {e["description"] for e in prim} == {"Measured at 21 days."}
    _, rows, _ = _isrctn("76463425")   # "Current … as of 28/04/2016" kept, "Previous …" dropped
    sec = [e["measure"] for e in _rows(rows, "endpoints") if e["endpoint_type"] == "SECONDARY"]
    assert len(sec) == 9 and sec[0] == "Survival to discharge home"


# -- ISRCTN: the XML path ----------------------------------------------------------------------------
def _xml_el(tag: str, value):
    el = etree.Element(f"{{{NS}}}{tag}")
    if isinstance(value, dict):
        for key, v in value.items():
            if key.startswith("@"):
                el.set(key[1:], v)
                continue
            for one in v if isinstance(v, list) else [v]:
                el.append(_xml_el(key, one))
    else:
        el.text = value
    return el


def _as_api_record(digits: str) -> dict:
    """A fixture as the API would carry it: ctrdata's own keys out, the <trial> attributes in."""
    obj = json.loads((ISRCTN_DIR / f"ctrdata_isrctn_{digits}.json").read_text(encoding="utf-8"))
    for key in ("ctrname", "record_last_import"):
        obj.pop(key)
    return {"@lastUpdated": "2026-03-08T17:34:31.000Z", "@version": "7", **obj}


def test_isrctn_xml_and_json_give_identical_rows():
    records = [_as_api_record(d) for d in ("76463425", "12949496")]
    root = etree.Element(f"{{{NS}}}allTrials", nsmap={None: NS}, totalCount="2")
    for rec in records:
        full = etree.SubElement(root, f"{{{NS}}}fullTrial")
        full.append(_xml_el("trial", rec))
    doc = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    assert isrctn.sniff(doc[:8192], "isrctn.xml") == "isrctn-xml"
    items = list(isrctn.split(doc, "isrctn.xml", "isrctn-xml"))
    assert [i.source_id for i in items] == ["ISRCTN76463425", "ISRCTN12949496"]
    for item, rec in zip(items, records):
        assert item.error is None and item.payload in doc   # bytes as in the document
        assert isrctn.decode(item.payload, "isrctn-xml") == rec
        json_payload = json.dumps(rec).encode()
        assert isrctn.parse(isrctn.decode(item.payload, "isrctn-xml"), "h") == \
            isrctn.parse(isrctn.decode(json_payload, "isrctn-json"), "h")
        assert isrctn.record_version(item.decoded) == "2026-03-08"
    rows = isrctn.parse(items[0].decoded, "h")
    assert _rows(rows, "studies")[0]["last_update_posted_date"] == dt.date(2026, 3, 8)


API_RECORD = f"""<?xml version="1.0" encoding="UTF-8"?>
<fullTrial xmlns="{NS}">
  <trial lastUpdated="2024-09-08T10:00:22.861Z" version="3" isPublished="true">
    <isrctn dateAssigned="2021-02-01T12:00:00.000Z">15819396</isrctn>
    <trialDescription thirdPartyFilesAcknowledgement="true">
      <title>A drug for adults with asthma</title><scientificTitle>A phase II/III trial</scientificTitle>
      <primaryOutcomes><outcomeMeasure id="1"><variable>FEV1</variable><method>spirometry</method>
        <timepoints>12 weeks</timepoints></outcomeMeasure></primaryOutcomes>
      <secondaryOutcomes><outcomeMeasure><variable>Exacerbations</variable><method>diary</method>
        <timepoints>52 weeks</timepoints></outcomeMeasure><outcomeMeasure><variable>Quality of life</variable>
        <method>AQLQ</method><timepoints>52 weeks</timepoints></outcomeMeasure></secondaryOutcomes>
    </trialDescription>
    <externalRefs><doi>10.1186/ISRCTN15819396</doi><eudraCTNumber>N/A</eudraCTNumber>
      <clinicalTrialsGovNumber>NCT 04123456</clinicalTrialsGovNumber><protocolSerialNumber>Nil known</protocolSerialNumber>
      <secondaryNumbers><secondaryNumber numberType="ctgov">NCT04123456</secondaryNumber></secondaryNumbers></externalRefs>
    <trialDesign><primaryStudyDesign>Interventional</primaryStudyDesign>
      <secondaryStudyDesign>Randomised controlled trial</secondaryStudyDesign>
      <studyDesign>Multicentre double-blind parallel-group trial</studyDesign>
      <overallEndDate>2026-09-01T00:00:00.000Z</overallEndDate></trialDesign>
    <participants><recruitmentCountries><country>Germany</country><country>France</country></recruitmentCountries>
      <ageRange>Adult</ageRange><lowerAgeLimit value="18" unit="Years"/><upperAgeLimit value="75" unit="Years"/>
      <gender>Female</gender><healthyVolunteersAllowed>false</healthyVolunteersAllowed>
      <targetEnrolment>300</targetEnrolment>
      <recruitmentStart>2023-03-01T00:00:00.000Z</recruitmentStart><recruitmentEnd>2025-03-01T00:00:00.000Z</recruitmentEnd>
    </participants>
    <conditions><condition><description>Asthma</description><diseaseClass1>Respiratory</diseaseClass1></condition></conditions>
    <interventions><intervention><description>Tablet daily</description><interventionType>Drug</interventionType>
      <phase>Phase II/III</phase><drugNames>Drug A</drugNames></intervention></interventions>
  </trial>
  <sponsor id="s1"><organisation>Acme Pharma</organisation><sponsorType>Industry</sponsorType></sponsor>
  <funder id="f1"><name>Acme Pharma</name></funder><funder id="f2"><name>Asthma Research UK</name></funder>
  <contact id="c1"><forename>Jane</forename></contact>
</fullTrial>""".encode()


def test_isrctn_api_record_shape():
    assert isrctn.sniff(API_RECORD[:8192], "trial.xml") == "isrctn-xml"
    (item,) = isrctn.split(API_RECORD, "api", "isrctn-xml")
    assert item.payload == API_RECORD and item.source_id == "ISRCTN15819396"
    rows = isrctn.parse(item.decoded, "h")
    s = _rows(rows, "studies")[0]
    assert (s["sponsor"], s["sponsor_class"], s["collaborators"]) == ("Acme Pharma", "INDUSTRY", ["Asthma Research UK"])
    assert (s["minimum_age"], s["maximum_age_years"], s["sex"], s["healthy_volunteers"]) == ("18 Years", 75.0, "FEMALE", False)
    assert (s["phase"], s["intervention_model"], s["masking"]) == ("PHASE2/PHASE3", "PARALLEL", "DOUBLE")
    assert (s["first_posted_date"], s["source_version"], s["recruitment_status"]) == (
        dt.date(2021, 2, 1), "2024-09-08", "RECRUITING")
    assert (s["actual_accrual"], s["accrual_type"], s["countries"]) == (300, "ESTIMATED", ["Germany", "France"])
    ends = [(e["endpoint_type"], e["measure"], e["description"], e["time_frame"]) for e in _rows(rows, "endpoints")]
    assert ends[0] == ("PRIMARY", "FEV1", "spirometry", "12 weeks") and len(ends) == 3
    assert [(r["secondary_id"], r["id_type"]) for r in _rows(rows, "secondary_ids")] == [("NCT04123456", "REGISTRY")]


def test_isrctn_malformed_inputs():
    doc = b'<allTrials xmlns="%s" totalCount="2">' % NS.encode() + API_RECORD.split(b"?>", 1)[1].replace(
        b' xmlns="%s"' % NS.encode(), b"") + b"<fullTrial><trial><isrctn>123"
    items = list(isrctn.split(doc, "cut.xml", "isrctn-xml"))   # truncated download
    assert [i.source_id for i in items if not i.error] == ["ISRCTN15819396"]
    assert len(items) == 2 and "malformed XML" in items[-1].error
    with pytest.raises(RecordError, match="malformed XML"):
        isrctn.decode(b"<fullTrial><trial><isrctn>1", "isrctn-xml")
    bad_date = API_RECORD.replace(b"2023-03-01T00", b"2023-02-30T00")
    with pytest.raises(RecordError, match="recruitmentStart: impossible date"):
        isrctn.parse(isrctn.decode(bad_date, "isrctn-xml"))
    with pytest.raises(RecordError, match="isrctn number"):
        isrctn.parse(isrctn.decode(API_RECORD.replace(b">15819396<", b">1581<"), "isrctn-xml"))
    with pytest.raises(RecordError):
        isrctn.decode(b"[1, 2]", "isrctn-json")
    (err,) = isrctn.split(b'{"isrctn": "1', "x.json", "isrctn-json")
    assert err.error and "invalid JSON" in err.error
    assert isrctn.sniff(b'{"protocolSection": {}}', "NCT01.json") is None


# -- ChiCTR ------------------------------------------------------------------------------------------
def _chictr(data: bytes, name: str = "doc.xml"):
    items = list(chictr.split(data, name, "chictr-xml"))
    return items, [chictr.parse(i.decoded, "h") if i.decoded is not None else None for i in items]


def test_chictr_fixture():
    data = CHICTR_FILE.read_bytes()
    assert chictr.sniff(data[:8192], CHICTR_FILE.name) == "chictr-xml"
    (item,), (rows,) = _chictr(data)
    assert item.payload in data and item.payload.startswith(b"<Triall>")
    s = _rows(rows, "studies")[0]
    assert (item.source_id, s["study_id"], s["study_source"]) == ("ChiCTR2000034346", "ChiCTR2000034346", "chictr")
    assert s["title"] == s["official_title"] == \
        "Survey for Surgery status of a designated Hospital for COVID-19 management in Guangzhou"
    assert (s["actual_accrual"], s["accrual_type"], s["number_of_arms"]) == (2418 + 821, "ESTIMATED", 2)
    assert (s["start_date"], s["first_submitted_date"], s["start_year"]) == (dt.date(2020, 4, 10), dt.date(2020, 7, 2), 2020)
    assert (s["phase"], s["phase_original"], s["trial_type"], s["primary_purpose"], s["time_perspective"]) == (
        "NA", "Retrospective study", "OBSERVATIONAL", "HEALTH_SERVICES_RESEARCH", "RETROSPECTIVE")
    assert (s["recruitment_status"], s["sex"], s["countries"], s["sponsor"]) == ("COMPLETED", "ALL", ["China"], "Jianxing He")
    assert "(1) missing detailed information" in s["eligibility_criteria"]
    assert [c["condition_name"] for c in _rows(rows, "conditions")] == ["Novel Coronavirus Pneumonia (COVID-19)"]
    assert [(d["group_label"], d["number_of_subjects"], d["intervention_name"]) for d in _rows(rows, "disposition")] == [
        ("2019 Y", 2418, None), ("2020 Y", 821, None)]   # i_freetext "2019 Y:N/A;2020 Y:N/A;"
    assert [e["measure"] for e in _rows(rows, "endpoints")] == ["decrease"]
    assert rows["secondary_ids"] == [] and rows["interventions"] == []


TRIALL_EN = """<Triall><main><trial_id>ChiCTR2000029542</trial_id><reg_name>ChiCTR</reg_name>
<date_registration>2020-02-03</date_registration>
<primary_sponsor>Sun Yat sen Memorial Hospital of Sun Yat sen University</primary_sponsor>
<public_title>Study for the efficacy of chloroquine in patients with novel coronavirus pneumonia (COVID-19)</public_title>
<scientific_title>A prospective cohort study for the efficacy and safety of chloroquine in hospitalized patients with novel coronavirus pneumonia (COVID-19)</scientific_title>
<date_enrolment>2020-02-03</date_enrolment><target_size>Experimental group:10;control group:10;</target_size>
<recruitment_status>Recruiting</recruitment_status><study_type>Interventional study</study_type>
<study_design>Non randomized control</study_design><phase>4</phase>
<hc_freetext>novel coronavirus pneumonia (COVID-19)</hc_freetext>
<i_freetext>Experimental group:chloroquine;control group:conventional management;</i_freetext></main>
<countries><country2>China</country2></countries>
<criteria><inclusion_criteria>1. Aged &gt;=18 years old</inclusion_criteria><agemin>18</agemin><agemax>80</agemax>
<gender>Both</gender></criteria>
<primary_outcome><prim_outcome>viral negative-transforming time;30-day cause-specific mortality;</prim_outcome></primary_outcome>
<secondary_ids><secondary_id><sec_id>NCT 04303507</sec_id><issuing_authority>ClinicalTrials.gov</issuing_authority></secondary_id></secondary_ids>
</Triall>"""
TRIALL_ZH = """<Triall><main><trial_id>ChiCTR2000029542</trial_id>
<public_title>磷酸氯喹治疗新型冠状病毒肺炎的疗效研究</public_title>
<scientific_title>磷酸氯喹治疗住院新型冠状病毒肺炎患者有效性和安全性的前瞻性队列研究</scientific_title>
<target_size>试验组:10;对照组:10;</target_size><i_freetext>试验组:磷酸氯喹;对照组:常规治疗;</i_freetext>
<recruitment_status>正在进行</recruitment_status></main><criteria><gender>男女均可</gender></criteria></Triall>"""


def test_chictr_bilingual_record_and_intervention():
    doc = f'<?xml version="1.0" encoding="UTF-8"?>\n<trials subjects="2">\n{TRIALL_ZH}\n{TRIALL_EN}\n</trials>'.encode()
    (item,), (rows,) = _chictr(doc)   # two language versions of one trial -> one payload
    assert item.source_id == "ChiCTR2000029542" and item.payload.count(b"<Triall>") == 2
    s = _rows(rows, "studies")[0]
    assert s["title"] == "Study for the efficacy of chloroquine in patients with novel coronavirus pneumonia (COVID-19)"
    assert s["official_title"].startswith("A prospective cohort study for the efficacy and safety of chloroquine")
    assert s["detailed_description"] == ("Chinese title: 磷酸氯喹治疗新型冠状病毒肺炎的疗效研究\n"
                                         "Chinese scientific title: 磷酸氯喹治疗住院新型冠状病毒肺炎患者有效性和安全性的前瞻性队列研究")
    assert (s["actual_accrual"], s["accrual_type"]) == (20, "ESTIMATED")   # English target only, not doubled
    assert (s["phase"], s["trial_type"], s["allocation"], s["recruitment_status"]) == (
        "PHASE4", "INTERVENTIONAL", "NON_RANDOMIZED", "RECRUITING")
    assert (s["minimum_age"], s["maximum_age_years"], s["sex"]) == ("18 Years", 80.0, "ALL")
    ivs = _rows(rows, "interventions")
    assert [(i["intervention_name"], i["arm_group_labels"]) for i in ivs] == [
        ("chloroquine", ["Experimental group"]), ("conventional management", ["control group"])]
    assert [(d["group_label"], d["group_type"], d["intervention_name"], d["number_of_subjects"])
            for d in _rows(rows, "disposition")] == [("Experimental group", "EXPERIMENTAL", "chloroquine", 10),
                                                     ("control group", None, "conventional management", 10)]
    assert [e["measure"] for e in _rows(rows, "endpoints")] == ["viral negative-transforming time",
                                                                "30-day cause-specific mortality"]
    assert [(r["secondary_id"], r["id_type"]) for r in _rows(rows, "secondary_ids")] == [("NCT04303507", "REGISTRY")]
    # Chinese title in a language-suffixed element; a Chinese-only record keeps its Chinese title
    suffixed = TRIALL_EN.replace("</public_title>", "</public_title><public_title_cn>磷酸氯喹疗效研究</public_title_cn>")
    (_,), (rows,) = _chictr(suffixed.encode())
    assert _rows(rows, "studies")[0]["detailed_description"] == "Chinese title: 磷酸氯喹疗效研究"
    (_,), (rows,) = _chictr(TRIALL_ZH.encode())
    s = _rows(rows, "studies")[0]
    assert (s["title"], s["sex"], s["recruitment_status"]) == ("磷酸氯喹治疗新型冠状病毒肺炎的疗效研究", "ALL", "RECRUITING")


def test_chictr_malformed_inputs():
    good = CHICTR_FILE.read_bytes()
    cut = good.replace(b"</trials>", b"") + b"<Triall><main><trial_id>ChiCTR20000"
    items = list(chictr.split(cut, "cut.xml", "chictr-xml"))   # truncated: the complete record is kept
    assert [i.source_id for i in items if not i.error] == ["ChiCTR2000034346"]
    assert "malformed XML" in items[-1].error
    no_id = good.replace(b"<trial_id>ChiCTR2000034346</trial_id>", b"<trial_id/>")
    (item,) = chictr.split(no_id, "noid.xml", "chictr-xml")
    assert item.source_id is None
    with pytest.raises(RecordError, match="no main/trial_id"):
        chictr.parse(chictr.decode(item.payload))
    with pytest.raises(RecordError, match="date_enrolment: impossible date"):
        chictr.parse(chictr.decode(good.replace(b"2020-04-10", b"2020-02-30")))
    with pytest.raises(RecordError, match="not a ChiCTR id"):
        chictr.parse(chictr.decode(good.replace(b">ChiCTR2000034346<", b">ChiCTR20<")))
    old = chictr.parse(chictr.decode(good.replace(b">ChiCTR2000034346<", b">ChiCTR-TRC-10000934<")))
    assert old["studies"][0][0] == "ChiCTR-TRC-10000934"
    (err,) = chictr.split(b"<root><x/></root>", "other.xml", "chictr-xml")
    assert err.error
    ictrp = (shared_fixtures() / "registries" / "chictr" / "ICTRP-Results_18Mar2020_chictr_only.xml").read_bytes()
    assert chictr.sniff(ictrp[:8192], "ICTRP.xml") is None and isrctn.sniff(ictrp[:8192], "ICTRP.xml") is None
    assert chictr.sniff(good[:8192], "x.xml") == "chictr-xml" and isrctn.sniff(good[:8192], "x.xml") is None
