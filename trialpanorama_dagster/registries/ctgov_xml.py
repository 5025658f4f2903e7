"""ClinicalTrials.gov legacy XML (``<clinical_study>``, public.xsd) -> rows of the unified schema.

The format of the retired ``AllPublicXML.zip`` and ``/ct2/show/NCT...?displayxml=true``.
``parse_clinical_study(xml)`` returns the same ``StudyRows`` as ``ctgov_v2.parse_study``: the
display texts ("Active, not recruiting", "Phase 1/Phase 2", "Parallel Assignment") become API
v2 enum names, and the parts that have a v2 table builder (conditions, arms / interventions /
disposition, endpoints, results, adverse events) are read into the v2 JSON shape and built by
that same code, so both formats land identically. The original status and phase texts are kept
in ``recruitment_status_original`` / ``phase_original``.
"""
from __future__ import annotations

import datetime as dt
import re

from lxml import etree

from ..warehouse.schema import STUDIES
from .common import (
    STUDY_TYPE_TRIAL, RecordError, StudyRows, age_in_years, as_int, clean_text, empty_rows, enum_name,
    parse_date, unique,
)
from .ctgov_results import adverse_event_rows, result_rows
from .ctgov_v2 import NCT_ID, OUTCOME_TYPE, SOURCE, add_arms_and_interventions, add_conditions, add_endpoints
from .ctgov_xml_results import results_section, text
from .xml_dict import xml_root

_STATUS = {"UNKNOWN_STATUS": "UNKNOWN"}
_DATE_TYPE = {"ANTICIPATED": "ESTIMATED", "ESTIMATE": "ESTIMATED"}
_SPONSOR_CLASS = {"U_S_FED": "FED", "INDIVIDUAL": "INDIV"}
_SEX = {"BOTH": "ALL"}
_WHO_MASKED = {"SUBJECT": "PARTICIPANT", "CAREGIVER": "CARE_PROVIDER"}
_HEALTHY = {"accepts healthy volunteers": True, "yes": True, "no": False}
# CT.gov's age groups: child 0-17, adult 18-64, older adult 65+ (a range overlapping a group gets it)
_STD_AGES = (("CHILD", 0.0, 18.0), ("ADULT", 18.0, 65.0), ("OLDER_ADULT", 65.0, float("inf")))


def _root(xml: bytes | str) -> etree._Element:
    if isinstance(xml, str):
        xml = xml.encode("utf-8")
    if not isinstance(xml, (bytes, bytearray)):
        raise RecordError(f"expected XML bytes or text, got {type(xml).__name__}")
    root = xml_root(xml)
    if root.tag != "clinical_study":
        raise RecordError(f"root element is <{root.tag}>, expected <clinical_study>")
    return root


def study_id_of_xml(xml: bytes | str) -> str | None:
    """The NCT id of a legacy record, or None when it has none or is not a record."""
    try:
        return text(_root(xml), "id_info/nct_id")
    except RecordError:
        return None


def _iso(d: dt.date | None, precision: str | None) -> str | None:
    if d is None:
        return None
    return {"day": d.isoformat(), "month": d.isoformat()[:7]}.get(precision, str(d.year))


def source_version_of_xml(xml: bytes | str) -> str | None:
    """The record's version: its last-update post date (``lastchanged_date`` in old records)."""
    try:
        return _iso(*_date(_root(xml), "last_update_posted", "lastchanged_date")[:2])
    except RecordError:
        return None


def _date(root, *tags: str) -> tuple[dt.date | None, str | None, str | None]:
    """(date, precision, type) of the first present tag; type Actual -> ACTUAL, Anticipated -> ESTIMATED."""
    for tag in tags:
        el = root.find(tag)
        if el is not None and (el.text or "").strip():
            d, precision = parse_date(el.text, tag)
            kind = enum_name(el.get("type"))
            return d, precision, _DATE_TYPE.get(kind, kind)
    return None, None, None


def _block(root, path: str) -> str | None:
    """A hard-wrapped ``textblock``, de-indented: lines stripped, one blank line between paragraphs."""
    raw = root.findtext(path)
    if raw is None:
        return None
    lines: list[str] = []
    for line in raw.splitlines():
        line = line.strip()
        if line or (lines and lines[-1]):
            lines.append(line)
    return clean_text("\n".join(lines))


def _unwrapped(root, path: str) -> str | None:
    """A short field the XML export wrapped over lines (``why_stopped``), as one line."""
    raw = root.findtext(path)
    return clean_text(" ".join(line.strip() for line in raw.splitlines() if line.strip())) if raw else None


def _phase(raw: str | None) -> str | None:
    """"Phase 1/Phase 2" -> "PHASE1/PHASE2", "Early Phase 1" -> "EARLY_PHASE1", "N/A" -> "NA"."""
    if not raw:
        return None
    if raw.upper() in ("N/A", "NA"):
        return "NA"
    parts = (enum_name(re.sub(r"(?i)phase\s*", "PHASE", p)) for p in raw.split("/"))
    return "/".join(p for p in parts if p) or None


def _masking(raw: str | None) -> tuple[str | None, list[str]]:
    """"Double (Participant, Investigator)" -> ("DOUBLE", ["PARTICIPANT", "INVESTIGATOR"]);
    "None (Open Label)" and the older "Open Label" -> ("NONE", []); "Double Blind (Subject)" too."""
    m = re.match(r"^([^(]*?)\s*(?:\((.*)\))?\s*$", raw or "")
    if not raw or not m:
        return None, []
    level = enum_name(re.sub(r"(?i)\bblind\b", "", m[1])) or enum_name(m[1])
    who = [_WHO_MASKED.get(w, w) for w in (enum_name(p) for p in (m[2] or "").split(",")) if w and w != "OPEN_LABEL"]
    return ("NONE" if level in ("OPEN_LABEL", None) else level), who


def _std_ages(min_years: float | None, max_years: float | None) -> list[str]:
    lo = 0.0 if min_years is None else min_years
    hi = float("inf") if max_years is None else max_years
    return [name for name, start, end in _STD_AGES if lo < end and hi >= start]


def _all(root, path: str) -> list[str]:
    return unique(clean_text(el.text) for el in root.iterfind(path))


def parse_clinical_study(xml: bytes | str, payload_hash: str | None = None) -> StudyRows:
    root = _root(xml)
    nct = (root.findtext("id_info/nct_id") or "").strip()
    if not NCT_ID.match(nct):
        raise RecordError(f"id_info/nct_id missing or malformed: {nct or None!r}")
    rows = empty_rows()
    status_text = text(root, "overall_status")
    status = enum_name(status_text)
    status = _STATUS.get(status, status)
    why = _unwrapped(root, "why_stopped")
    has_results = root.find("clinical_results") is not None
    phase_text = (root.findtext("phase") or "").strip() or None
    masking, who_masked = _masking(text(root, "study_design_info/masking"))
    model = text(root, "study_design_info/intervention_model")
    min_age, max_age = text(root, "eligibility/minimum_age"), text(root, "eligibility/maximum_age")
    hv_text = text(root, "eligibility/healthy_volunteers")
    if hv_text is not None and hv_text.lower() not in _HEALTHY:
        raise RecordError(f"eligibility/healthy_volunteers: unrecognised value {hv_text!r}")
    enrollment = root.find("enrollment")
    accrual_type = enum_name(enrollment.get("type")) if enrollment is not None else None
    sponsor_class = enum_name(text(root, "sponsors/lead_sponsor/agency_class"))
    last_known = enum_name(text(root, "last_known_status"))
    sex = enum_name(text(root, "eligibility/gender"))
    start, start_prec, start_type = _date(root, "start_date")
    pcd, _, pcd_type = _date(root, "primary_completion_date")
    comp, _, comp_type = _date(root, "completion_date")
    last_post, last_prec, _ = _date(root, "last_update_posted", "lastchanged_date")

    interventions = [{
        "type": enum_name(text(iv, "intervention_type")), "name": text(iv, "intervention_name"),
        "description": text(iv, "description"), "otherNames": _all(iv, "other_name"),
        "armGroupLabels": _all(iv, "arm_group_label"), "display": text(iv, "intervention_type"),
    } for iv in root.iterfind("intervention")]
    arm_groups = []
    for arm in root.iterfind("arm_group"):
        label = text(arm, "arm_group_label")
        arm_groups.append({  # v2 names an arm's interventions "Drug: <name>"; the XML links them by label
            "label": label, "type": enum_name(text(arm, "arm_group_type")), "description": text(arm, "description"),
            "interventionNames": [f"{iv['display']}: {iv['name']}" if iv["display"] else iv["name"]
                                  for iv in interventions if label and label in iv["armGroupLabels"] and iv["name"]],
        })
    n_arms = as_int(text(root, "number_of_arms") or text(root, "number_of_groups"), "number_of_arms")

    study = {
        "study_id": nct, "study_source": SOURCE, "study_type": STUDY_TYPE_TRIAL,
        "trial_type": enum_name(text(root, "study_type")),
        "title": text(root, "brief_title"), "official_title": text(root, "official_title"),
        "acronym": text(root, "acronym"),
        "abstract": _block(root, "brief_summary/textblock"),
        "detailed_description": _block(root, "detailed_description/textblock"),
        "sponsor": text(root, "sponsors/lead_sponsor/agency"),
        "sponsor_class": _SPONSOR_CLASS.get(sponsor_class, sponsor_class),
        "collaborators": _all(root, "sponsors/collaborator/agency"),
        "start_date": start, "start_date_precision": start_prec, "start_date_type": start_type,
        "start_year": start.year if start else None,
        "primary_completion_date": pcd, "primary_completion_date_type": pcd_type,
        "completion_date": comp, "completion_date_type": comp_type,
        "first_submitted_date": _date(root, "study_first_submitted", "firstreceived_date")[0],
        "first_posted_date": _date(root, "study_first_posted")[0],
        "results_first_posted_date": _date(root, "results_first_posted")[0],
        "last_update_posted_date": last_post,
        "recruitment_status": status, "recruitment_status_original": status_text,
        "last_known_status": _STATUS.get(last_known, last_known), "why_stopped": why,
        "phase": _phase(phase_text), "phase_original": phase_text,
        "actual_accrual": as_int(text(root, "enrollment"), "enrollment"),
        "accrual_type": _DATE_TYPE.get(accrual_type, accrual_type),
        "allocation": enum_name(text(root, "study_design_info/allocation")),
        "intervention_model": enum_name(re.sub(r"(?i)\s*assignment$", "", model)) if model else None,
        "observational_model": enum_name(text(root, "study_design_info/observational_model")),
        "time_perspective": enum_name(text(root, "study_design_info/time_perspective")),
        "primary_purpose": enum_name(text(root, "study_design_info/primary_purpose")),
        "masking": masking, "who_masked": who_masked,
        "number_of_arms": n_arms if n_arms is not None else (len(arm_groups) or None),
        "eligibility_criteria": _block(root, "eligibility/criteria/textblock"),
        "sex": _SEX.get(sex, sex), "minimum_age": min_age, "maximum_age": max_age,
        "minimum_age_years": age_in_years(min_age), "maximum_age_years": age_in_years(max_age),
        "healthy_volunteers": _HEALTHY.get(hv_text.lower()) if hv_text else None,
        "std_ages": _std_ages(age_in_years(min_age), age_in_years(max_age)),
        "keywords": _all(root, "keyword"),
        "countries": unique(_all(root, "location_countries/country") + _all(root, "location/facility/address/country")),
        "org_study_id": text(root, "id_info/org_study_id"), "nct_aliases": _all(root, "id_info/nct_alias"),
        "has_results": has_results, "source_version": _iso(last_post, last_prec), "payload_hash": payload_hash,
    }
    rows["studies"].append(tuple(study[c] for c in STUDIES.column_names))
    rows["outcomes"].append((nct, STUDY_TYPE_TRIAL, status, OUTCOME_TYPE.get(status or ""), why, has_results))

    derived = {f"{domain}BrowseModule": {"meshes": [{"term": t} for t in _all(root, f"{domain}_browse/mesh_term")]}
               for domain in ("condition", "intervention")}
    add_conditions(nct, {"conditions": [el.text or "" for el in root.iterfind("condition")]}, derived, rows)
    results = results_section(root.find("clinical_results")) if has_results else {}
    add_arms_and_interventions(nct, arm_groups, interventions, results, rows)
    add_endpoints(nct, {key: [{"measure": text(o, "measure"), "description": text(o, "description"),
                            "timeFrame": text(o, "time_frame")} for o in root.iterfind(tag)]
                     for tag, key in (("primary_outcome", "primaryOutcomes"), ("secondary_outcome", "secondaryOutcomes"),
                                      ("other_outcome", "otherOutcomes"))}, rows)
    for tag, ref_type in (("reference", "BACKGROUND"), ("results_reference", "RESULT")):
        for ref in root.iterfind(tag):
            pmid = text(ref, "PMID")
            if pmid and pmid.isdigit():
                rows["relations"].append((nct, "trial", pmid, "pubmed", "trial_reference", ref_type,
                                          text(ref, "citation"), nct,
                                          None, None, "registry reference list", None, None))
    for sid in _all(root, "id_info/secondary_id"):
        rows["secondary_ids"].append((nct, sid, None, None, None))
    for loc in root.iterfind("location"):
        loc_status = enum_name(text(loc, "status"))
        rows["locations"].append((nct, text(loc, "facility/name"), text(loc, "facility/address/city"),
                                  text(loc, "facility/address/state"), text(loc, "facility/address/country"),
                                  _STATUS.get(loc_status, loc_status)))
    if has_results:
        rows["results"].extend(result_rows(nct, results, arm_groups))
        rows["adverse_events"].extend(adverse_event_rows(nct, results))
    return rows
