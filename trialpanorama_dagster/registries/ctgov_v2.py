"""ClinicalTrials.gov API v2 study JSON -> rows of the unified schema.

``parse_study(study)`` takes one study object (as returned by ``/api/v2/studies``, the
website's JSON download or the full-download zip) and returns ``StudyRows``. Malformed
records raise ``RecordError`` with the quarantine reason.
"""
from __future__ import annotations

import re

from .common import (
    STUDY_TYPE_TRIAL, RecordError, StudyRows, age_in_years, as_dict, as_float, as_int, as_list,
    clean_text, code, empty_rows, mesh_record_type, normalise_mesh_id, parse_date, unique,
)
from .ctgov_results import adverse_event_rows, result_rows

SOURCE = "ctgov"
NCT_ID = re.compile(r"^NCT\d{8}$")

OUTCOME_TYPE = {
    "COMPLETED": "complete", "TERMINATED": "terminate", "WITHDRAWN": "withdrawn",
    "SUSPENDED": "suspended", "UNKNOWN": "unknown",
    "RECRUITING": "ongoing", "NOT_YET_RECRUITING": "ongoing", "ACTIVE_NOT_RECRUITING": "ongoing",
    "ENROLLING_BY_INVITATION": "ongoing",
    "AVAILABLE": "expanded_access", "NO_LONGER_AVAILABLE": "expanded_access",
    "TEMPORARILY_NOT_AVAILABLE": "expanded_access", "APPROVED_FOR_MARKETING": "expanded_access",
    "WITHHELD": "expanded_access",
}
DRUG_TYPES = {"DRUG", "BIOLOGICAL"}
_NEOPLASM = re.compile(r"\b(?:tumou?rs?|cancers?|neoplasm)$")


def study_id_of(study: dict) -> str | None:
    """The NCT id of a study object, or None when it has none (cheap; used before parsing)."""
    try:
        return study["protocolSection"]["identificationModule"]["nctId"]
    except (KeyError, TypeError):
        return None


def source_version_of(study: dict) -> str | None:
    """The record's version: its last-update post date (what incremental queries filter on)."""
    try:
        return study["protocolSection"]["statusModule"]["lastUpdatePostDateStruct"]["date"]
    except (KeyError, TypeError):
        return None


def _date(struct: dict, field: str):
    struct = as_dict(struct, field)
    d, precision = parse_date(struct.get("date"), field)
    return d, precision, struct.get("type")


def parse_study(study: dict, payload_hash: str | None = None) -> StudyRows:
    if not isinstance(study, dict):
        raise RecordError(f"study is not a JSON object but {type(study).__name__}")
    ps = study.get("protocolSection")
    if ps is None:
        raise RecordError("study has no protocolSection")
    ps = as_dict(ps, "protocolSection")
    ident = as_dict(ps.get("identificationModule"), "identificationModule")
    nct = ident.get("nctId")
    if not isinstance(nct, str) or not NCT_ID.match(nct):
        raise RecordError(f"identificationModule.nctId missing or malformed: {nct!r}")
    status = as_dict(ps.get("statusModule"), "statusModule")
    sponsor_mod = as_dict(ps.get("sponsorCollaboratorsModule"), "sponsorCollaboratorsModule")
    desc = as_dict(ps.get("descriptionModule"), "descriptionModule")
    cond_mod = as_dict(ps.get("conditionsModule"), "conditionsModule")
    design = as_dict(ps.get("designModule"), "designModule")
    design_info = as_dict(design.get("designInfo"), "designInfo")
    masking = as_dict(design_info.get("maskingInfo"), "maskingInfo")
    enroll = as_dict(design.get("enrollmentInfo"), "enrollmentInfo")
    elig = as_dict(ps.get("eligibilityModule"), "eligibilityModule")
    arms_mod = as_dict(ps.get("armsInterventionsModule"), "armsInterventionsModule")
    derived = as_dict(study.get("derivedSection"), "derivedSection")
    results = as_dict(study.get("resultsSection"), "resultsSection")

    rows = empty_rows()
    start, start_prec, start_type = _date(status.get("startDateStruct"), "startDateStruct")
    pcd, _, pcd_type = _date(status.get("primaryCompletionDateStruct"), "primaryCompletionDateStruct")
    comp, _, comp_type = _date(status.get("completionDateStruct"), "completionDateStruct")
    first_sub, _ = parse_date(status.get("studyFirstSubmitDate"), "studyFirstSubmitDate")
    first_post, _, _ = _date(status.get("studyFirstPostDateStruct"), "studyFirstPostDateStruct")
    res_post, _, _ = _date(status.get("resultsFirstPostDateStruct"), "resultsFirstPostDateStruct")
    last_post, _, _ = _date(status.get("lastUpdatePostDateStruct"), "lastUpdatePostDateStruct")

    phases = [code(p, "phases") for p in as_list(design.get("phases"), "phases")]
    phase = "/".join(p for p in phases if p) or None
    overall = code(status.get("overallStatus"))
    why = clean_text(status.get("whyStopped"))
    has_results = bool(study.get("hasResults")) or bool(results)
    lead = as_dict(sponsor_mod.get("leadSponsor"), "leadSponsor")
    collaborators = unique(clean_text(as_dict(c, "collaborators").get("name"))
                           for c in as_list(sponsor_mod.get("collaborators"), "collaborators"))
    arm_groups = as_list(arms_mod.get("armGroups"), "armGroups")
    interventions = as_list(arms_mod.get("interventions"), "interventions")
    locations = as_list(as_dict(ps.get("contactsLocationsModule"), "contactsLocationsModule")
                        .get("locations"), "locations")
    min_age, max_age = clean_text(elig.get("minimumAge")), clean_text(elig.get("maximumAge"))
    hv = elig.get("healthyVolunteers")
    if hv is not None and not isinstance(hv, bool):
        raise RecordError(f"eligibilityModule.healthyVolunteers: expected a boolean, got {hv!r}")
    n_arms = as_int(design_info.get("numberOfArms") or design.get("numberOfArms"), "numberOfArms")

    rows["studies"].append((
        nct, SOURCE, STUDY_TYPE_TRIAL, code(design.get("studyType")),
        clean_text(ident.get("briefTitle")), clean_text(ident.get("officialTitle")),
        clean_text(ident.get("acronym")),
        clean_text(desc.get("briefSummary")), clean_text(desc.get("detailedDescription")),
        clean_text(lead.get("name")), code(lead.get("class")), collaborators,
        start, start_prec, start_type, start.year if start else None,
        pcd, pcd_type, comp, comp_type, first_sub, first_post, res_post, last_post,
        overall, overall, code(status.get("lastKnownStatus")), why,
        phase, phase,
        as_int(enroll.get("count"), "enrollmentInfo.count"), code(enroll.get("type")),
        code(design_info.get("allocation")), code(design_info.get("interventionModel")),
        code(design_info.get("observationalModel")), code(design_info.get("timePerspective")),
        code(design_info.get("primaryPurpose")), code(masking.get("masking")),
        [m for m in as_list(masking.get("whoMasked"), "whoMasked") if m],
        n_arms if n_arms is not None else (len(arm_groups) or None),
        clean_text(elig.get("eligibilityCriteria")), code(elig.get("sex")), min_age, max_age,
        age_in_years(min_age), age_in_years(max_age), hv,
        [a for a in as_list(elig.get("stdAges"), "stdAges") if a],
        unique(clean_text(k) for k in as_list(cond_mod.get("keywords"), "keywords")),
        unique(clean_text(as_dict(loc, "locations").get("country")) for loc in locations),
        clean_text(as_dict(ident.get("orgStudyIdInfo"), "orgStudyIdInfo").get("id")),
        [a for a in as_list(ident.get("nctIdAliases"), "nctIdAliases") if a],
        has_results, source_version_of(study), payload_hash,
    ))
    rows["outcomes"].append((nct, STUDY_TYPE_TRIAL, overall, OUTCOME_TYPE.get(overall or ""), why, has_results))
    add_conditions(nct, cond_mod, derived, rows)
    add_arms_and_interventions(nct, arm_groups, interventions, results, rows)
    add_endpoints(nct, as_dict(ps.get("outcomesModule"), "outcomesModule"), rows)
    for ref in as_list(as_dict(ps.get("referencesModule"), "referencesModule").get("references"), "references"):
        ref = as_dict(ref, "references")
        pmid = clean_text(str(ref["pmid"])) if ref.get("pmid") is not None else None
        if pmid and pmid.isdigit():
            rows["relations"].append((nct, "trial", pmid, "pubmed", "trial_reference",
                                      clean_text(ref.get("type")), clean_text(ref.get("citation")), nct,
                                      None, None, "registry reference list", None, None))
    for sid in as_list(ident.get("secondaryIdInfos"), "secondaryIdInfos"):
        sid = as_dict(sid, "secondaryIdInfos")
        if clean_text(sid.get("id")):
            rows["secondary_ids"].append((nct, sid["id"].strip(), clean_text(sid.get("type")),
                                          clean_text(sid.get("domain")), clean_text(sid.get("link"))))
    for loc in locations:
        rows["locations"].append((nct, clean_text(loc.get("facility")), clean_text(loc.get("city")),
                                  clean_text(loc.get("state")), clean_text(loc.get("country")),
                                  code(loc.get("status"))))
    if results:
        rows["results"].extend(result_rows(nct, results, arm_groups))
        rows["adverse_events"].extend(adverse_event_rows(nct, results))
    return rows


def _compact(text: str) -> str:
    return "".join(ch for ch in text if ch.isalnum())


def add_conditions(nct: str, cond_mod: dict, derived: dict, rows: StudyRows) -> None:
    browse = as_dict(derived.get("conditionBrowseModule"), "conditionBrowseModule")
    meshes = [as_dict(m, "meshes") for m in as_list(browse.get("meshes"), "meshes")]
    by_term = {(m.get("term") or "").lower(): m for m in meshes}
    # browse leaves say which listed text NLM mapped to which MeSH heading
    found: list[tuple[str, dict]] = []
    for leaf in as_list(browse.get("browseLeaves"), "browseLeaves"):
        leaf = as_dict(leaf, "browseLeaves")
        mesh = by_term.get((leaf.get("name") or "").lower())
        if leaf.get("asFound") and mesh is not None:
            found.append((leaf["asFound"].lower(), mesh))
    for order, name in enumerate(as_list(cond_mod.get("conditions"), "conditions")):
        name = clean_text(name)
        if not name:
            continue
        key = name.lower()
        mesh, how = by_term.get(key), "term"
        if mesh is None:
            # the longest NLM-found wording inside the condition (or holding it) names its heading:
            # "Lumbar Disc Herniation" has both "Herniation" (Hernia) and "Disc Herniation" (Intervertebral
            # Disc Displacement); spacing and punctuation are ignored ("Type2 Diabetes")
            how, ckey = "as_found", _compact(key)
            mesh = next((m for text, m in found if text == key), None) or max(
                ((len(text), m) for text, m in found if ckey and (_compact(text) in ckey or ckey in _compact(text))),
                key=lambda c: c[0], default=(0, None))[1]
        if mesh is None:
            # NLM's own wording for a study's headings: "Liver Cancer" -> "Liver Neoplasms"
            how, mesh = "neoplasm_wording", by_term.get(_NEOPLASM.sub("neoplasms", key))
        mesh_id = normalise_mesh_id(mesh.get("id")) if mesh else None
        rows["conditions"].append((nct, STUDY_TYPE_TRIAL, name, mesh_id, mesh_record_type(mesh_id),
                                   mesh.get("term") if mesh else None, how if mesh else None, order))
    for domain, mod_name in (("condition", "conditionBrowseModule"), ("intervention", "interventionBrowseModule")):
        mod = as_dict(derived.get(mod_name), mod_name)
        for key, is_anc in (("meshes", False), ("ancestors", True)):
            append = rows["mesh_terms"].append
            for m in as_list(mod.get(key), key):
                if type(m) is not dict:
                    m = as_dict(m, key)
                append((nct, domain, normalise_mesh_id(m.get("id")), m.get("term"), is_anc))


def add_arms_and_interventions(nct, arm_groups, interventions, results, rows) -> None:
    subjects = _baseline_counts(results)
    by_name: dict[str, dict] = {}
    for order, iv in enumerate(interventions):
        iv = as_dict(iv, "interventions")
        itype, name = code(iv.get("type")), clean_text(iv.get("name"))
        other = unique(clean_text(o) for o in as_list(iv.get("otherNames"), "otherNames"))
        desc = clean_text(iv.get("description"))
        labels = [lbl for lbl in as_list(iv.get("armGroupLabels"), "armGroupLabels") if lbl]
        rows["interventions"].append((nct, order, itype, name, desc, other, labels))
        if itype in DRUG_TYPES and name:
            rows["drugs"].append((nct, STUDY_TYPE_TRIAL, None, name, None, None, None, None, None, None,
                                  itype, other, desc))
        if name:
            by_name[f"{(itype or '').replace('_', ' ').title()}: {name}".lower()] = iv
            by_name.setdefault(name.lower(), iv)
    used: set[int] = set()
    for order, arm in enumerate(arm_groups):
        arm = as_dict(arm, "armGroups")
        label, gtype, gdesc = clean_text(arm.get("label")), code(arm.get("type")), clean_text(arm.get("description"))
        names = [n for n in as_list(arm.get("interventionNames"), "interventionNames") if n]
        rows["arm_groups"].append((nct, order, label, gtype, gdesc, names))
        n_sub = subjects.get((label or "").lower())
        matched = []
        for n in names:
            iv = by_name.get(n.lower()) or by_name.get(n.split(":", 1)[-1].strip().lower())
            matched.append((n, iv))
        # interventions that name this arm but are not named by it (older records)
        for iv in interventions:
            if label and label in (iv.get("armGroupLabels") or []) and all(iv is not m for _, m in matched):
                matched.append((iv.get("name"), iv))
        for n, iv in matched:
            if iv is not None:
                used.add(id(iv))
                rows["disposition"].append((nct, code(iv.get("type")), gtype, clean_text(iv.get("name")),
                                            clean_text(iv.get("description")), STUDY_TYPE_TRIAL, n_sub, label, gdesc))
            else:
                itype, _, iname = n.partition(":") if ":" in n else ("", "", n)
                rows["disposition"].append((nct, itype.strip().upper().replace(" ", "_") or None, gtype,
                                            iname.strip(), None, STUDY_TYPE_TRIAL, n_sub, label, gdesc))
        if not matched:
            rows["disposition"].append((nct, None, gtype, None, None, STUDY_TYPE_TRIAL, n_sub, label, gdesc))
    for iv in interventions:
        if id(iv) not in used:
            rows["disposition"].append((nct, code(iv.get("type")), None, clean_text(iv.get("name")),
                                        clean_text(iv.get("description")), STUDY_TYPE_TRIAL, None, None, None))


def _baseline_counts(results: dict) -> dict[str, int]:
    """Baseline participants per group title (lower-cased), to fill number_of_subjects."""
    base = as_dict(results.get("baselineCharacteristicsModule"), "baselineCharacteristicsModule")
    titles = {g.get("id"): (g.get("title") or "").lower() for g in as_list(base.get("groups"), "groups")}
    out: dict[str, int] = {}
    for denom in as_list(base.get("denoms"), "denoms"):
        for c in as_list(as_dict(denom, "denoms").get("counts"), "counts"):
            v = as_float(c.get("value"))
            if v is not None and c.get("groupId") in titles:
                out.setdefault(titles[c["groupId"]], int(v))
    return out


def add_endpoints(nct: str, mod: dict, rows: StudyRows) -> None:
    for key, etype in (("primaryOutcomes", "PRIMARY"), ("secondaryOutcomes", "SECONDARY"), ("otherOutcomes", "OTHER")):
        append = rows["endpoints"].append
        for order, o in enumerate(as_list(mod.get(key), key)):
            if type(o) is not dict:
                o = as_dict(o, key)
            measure = clean_text(o.get("measure"))
            append((nct, STUDY_TYPE_TRIAL, etype, order, measure, clean_text(o.get("description")),
                    clean_text(o.get("timeFrame")), measure if etype == "PRIMARY" else None, None, None))
