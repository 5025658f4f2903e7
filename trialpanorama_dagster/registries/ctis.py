"""EU Clinical Trials Information System (CTIS) trial JSON -> rows of the unified schema.

Input: one trial as the CTIS public API gives it (search overview merged with ``/retrieve/<ct>``,
as ctrdata stores it), in either shape: before the 2024-06 relaunch (``authorizedPartI`` /
``authorizedPartsII`` at top level, ``ctStatus`` as text) or after (under ``authorizedApplication``,
``ctStatus`` / ``ctPublicStatusCode`` as codes 1-12). Dates come as ``dd/mm/yyyy`` or ISO.

Decisions: status text is ``ctPublicStatusCode``'s label (codes as ctrdata reads them) or the old
text; "Ended" with an early-termination notice in every member state -> TERMINATED. Start date:
``startDateEU`` or the earliest start-of-trial notice (ACTUAL), else the estimated recruitment
start (ESTIMATED). Enrollment: planned EEA subjects (part II) + rest of world (ESTIMATED).
``countries``: member states (part II), then rest-of-world countries. Secondary ids: every number
under ``secondaryIdentifyingNumbers`` plus the EudraCT number of a transitioned trial.
"""
from __future__ import annotations

import re
from typing import Iterator

import orjson

from . import vocab
from .common import (RecordError, StudyRows, STUDY_TYPE_TRIAL, age_in_years, empty_rows, make_row, parse_date,
                     unique)
from .ctgov_v2 import OUTCOME_TYPE
from .eu_rows import (add_conditions, add_intervention, add_secondary_ids, joined, labelled, secondary_id_row,
                      text_value as _s)
from .formats import RawItem
from .ids import find_ids

SOURCE = "ctis"
FORMATS = ("ctis-json",)
CT_NUMBER = re.compile(r"^\d{4}-5\d{5}-\d{2}-\d{2}$")
STATUS_CODES = {1: "Under evaluation", 2: "Authorised, recruitment pending", 3: "Authorised, recruiting",
                4: "Ongoing, recruiting", 5: "Ongoing, recruitment ended", 6: "Temporarily halted", 7: "Suspended",
                8: "Ended", 9: "Expired", 10: "Revoked", 11: "Not authorised", 12: "Cancelled"}
PHASE_CODES = {"1": "Human Pharmacology (Phase I) - First administration to humans",
               "2": "Human Pharmacology (Phase I) - Bioequivalence Study", "3": "Human Pharmacology (Phase I) - Other",
               "4": "Therapeutic exploratory (Phase II)", "5": "Therapeutic confirmatory (Phase III)",
               "6": "Therapeutic use (Phase IV)",
               "7": "Phase I and Phase II (Integrated) - First administration to humans",
               "8": "Phase I and Phase II (Integrated) - Bioequivalence Study",
               "9": "Phase I and Phase II (Integrated) - Other", "10": "Phase II and Phase III (Integrated)",
               "11": "Phase III and phase IV (Integrated)"}
_AGE_CODES = {"2": "0-17 years", "3": "18-64 years", "4": "65+ years"}
_ROLES = {"1": "Test", "2": "Comparator", "3": "Placebo"}
_ID_HINTS = {"nct": "nct", "isrctn": "isrctn", "who": "utrn", "utn": "utrn", "eudract": "eudract"}


def sniff(head: bytes, name: str) -> str | None:
    if head.lstrip()[:1] in (b"{", b"[") and re.search(rb'"ctNumber"|"ctrname"\s*:\s*"CTIS"', head):
        return "ctis-json"
    return None


def split(data: bytes, origin: str, fmt: str) -> Iterator[RawItem]:
    """One RawItem per trial: a single trial object (bytes kept), a JSON array, a search page
    ``{"data": [...]}``, or JSON lines (each element re-serialised)."""
    try:
        obj = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        lines = [ln for ln in data.splitlines() if ln.strip()]
        try:
            objs = [orjson.loads(ln) for ln in lines]
        except orjson.JSONDecodeError:
            yield RawItem(SOURCE, data, fmt, origin, error=f"invalid JSON: {exc}")
            return
        if len(objs) < 2:
            yield RawItem(SOURCE, data, fmt, origin, error=f"invalid JSON: {exc}")
            return
        obj = objs
    if isinstance(obj, dict) and not isinstance(obj.get("data"), list):
        yield RawItem(SOURCE, data, fmt, origin, source_id=_id(obj), decoded=obj)
        return
    items = obj["data"] if isinstance(obj, dict) else obj if isinstance(obj, list) else [obj]
    for n, trial in enumerate(items):
        yield RawItem(SOURCE, orjson.dumps(trial), fmt, f"{origin}#{n}", source_id=_id(trial),
                      decoded=trial if isinstance(trial, dict) else None)


def decode(payload: bytes, fmt: str) -> dict:
    try:
        obj = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise RecordError(f"invalid JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise RecordError(f"CTIS trial is not a JSON object but {type(obj).__name__}")
    return obj


def _id(obj) -> str | None:
    v = obj.get("ctNumber") if isinstance(obj, dict) else None
    return v.strip() if isinstance(v, str) else None


def record_id(obj) -> str | None:
    return _id(obj)


def record_version(obj) -> str | None:
    """``lastUpdated`` (search overview) else ``publishDate`` (retrieve body) as an ISO date; None if unreadable."""
    try:
        d = _updated(obj) if isinstance(obj, dict) else None
    except RecordError:
        return None
    return d.isoformat() if d else None


def _updated(obj: dict):
    return _date(obj.get("lastUpdated") or obj.get("lastPublicationUpdate") or obj.get("publishDate"), "lastUpdated")


def _d(value) -> dict:
    return value if isinstance(value, dict) else {}


def _l(value) -> list:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _date(value, field: str):
    """``dd/mm/yyyy``, ``yyyy-mm-dd`` or an ISO timestamp -> date; impossible dates raise RecordError."""
    v = _s(value)
    if not v:
        return None
    if m := re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", v):
        v = f"{m[3]}-{int(m[2]):02d}-{int(m[1]):02d}"
    elif re.match(r"\d{4}-\d{2}-\d{2}[T ]", v):
        v = v[:10]
    return parse_date(v, field)[0]


def _numbered(items: list, key: str) -> list[str]:
    items = sorted(items, key=lambda i: i.get("number") if isinstance(i.get("number"), int) else 0)
    return [t for i in items if (t := _s(i.get(key)))]


def parse(obj, payload_hash: str | None = None) -> StudyRows:
    if not isinstance(obj, dict):
        raise RecordError(f"CTIS trial is not a JSON object but {type(obj).__name__}")
    sid = _id(obj)
    if not sid or not CT_NUMBER.match(sid):
        raise RecordError(f"ctNumber missing or malformed: {obj.get('ctNumber')!r}")
    app = _d(obj.get("authorizedApplication")) or obj
    p1, parts2 = _d(app.get("authorizedPartI")), _l(app.get("authorizedPartsII"))
    details = _d(p1.get("trialDetails"))
    ident, info = _d(details.get("clinicalTrialIdentifiers")), _d(details.get("trialInformation"))
    rows = empty_rows()

    title = _s(ident.get("fullTitle")) or _s(obj.get("title")) or _s(obj.get("ctTitle"))
    translations = [f"({t.get('languageDescription') or t.get('language')}) {v}" for t in _l(
        ident.get("fullTitleTranslations")) if (v := _s(t.get("attributeTranslation")))]
    objective = _d(info.get("trialObjective"))
    secondary = _numbered(_l(objective.get("secondaryObjectives")), "secondaryObjective")
    description = joined("\n\n", labelled("Main objective", _s(objective.get("mainObjective"))),
                         labelled("Secondary objectives", "\n".join(secondary)),
                         labelled("Titles in other languages", "\n".join(translations), ":\n"))

    code = obj.get("ctPublicStatusCode", obj.get("ctStatus") if isinstance(obj.get("ctStatus"), int) else None)
    status_text = STATUS_CODES.get(int(code)) if str(code).isdigit() else None
    status_text = status_text or (_s(obj.get("ctStatus")) if isinstance(obj.get("ctStatus"), str) else None)
    overall = vocab.status(status_text)
    trial_events = _l(_d(obj.get("events")).get("trialEvents"))
    early = {e.get("mscName") for e in trial_events for n in _l(e.get("events"))
             if "EARLY_TERMINATION" in str(n.get("notificationType"))}
    notices = [str(n.get("notificationType", "")) for m in _l(obj.get("mscTrialNotificationsInfoList"))
               for n in _l(m.get("mscNotificationsListInfo"))]
    if overall == "COMPLETED" and ((early and len(early) == len(trial_events))
                                   or any("early termination" in n.lower() for n in notices)):
        overall = "TERMINATED"

    category = _d(info.get("trialCategory"))
    phase_text = _s(obj.get("trialPhase")) or PHASE_CODES.get(str(category.get("trialPhase")))

    start_eu = _date(obj.get("startDateEU"), "startDateEU")
    starts = [d for e in trial_events for n in _l(e.get("events")) if n.get("notificationType") == "START_OF_TRIAL"
              and (d := _date(n.get("date"), "START_OF_TRIAL"))]
    starts += [d for p in parts2 if (d := _date(_d(_d(p.get("mscInfo")).get("activeTrialPeriod")).get(
        "trialStartDate"), "trialStartDate"))]
    duration = _d(info.get("trialDuration"))
    start = start_eu or (min(starts) if starts else None)
    start_type = "ACTUAL" if start else None
    if start is None and (start := _date(duration.get("estimatedRecruitmentStartDate"), "estimatedRecruitmentStart")):
        start_type = "ESTIMATED"
    ends = [d for g in _l(app.get("trialGlobalEnd")) for k, v in g.items() if "date" in k.lower()
            and isinstance(v, str) and (d := _date(v, f"trialGlobalEnd.{k}"))]
    completion, completion_type = (max(ends), "ACTUAL") if ends else (
        _date(duration.get("estimatedGlobalEndDate") or duration.get("estimatedEndDate"), "estimatedEndDate"),
        "ESTIMATED")
    applications = _l(app.get("applicationInfo")) or _l(obj.get("applications"))
    submitted = [d for a in applications if (d := _date(a.get("submissionDate"), "submissionDate"))]
    first_submitted = _date(obj.get("submissionDate"), "submissionDate") or (min(submitted) if submitted else None)

    planned = sum(n for p in parts2 if isinstance(n := p.get("recruitmentSubjectCount"), int))
    planned += p1.get("rowSubjectCount") if isinstance(p1.get("rowSubjectCount"), int) else 0
    if not planned and str(obj.get("totalNumberEnrolled", "")).isdigit():
        planned = int(obj["totalNumberEnrolled"])

    sponsors = _l(p1.get("sponsors")) or _l([obj.get("primarySponsor")])
    lead_sp = next((s for s in sponsors if s.get("primary")), sponsors[0] if sponsors else {})
    lead_org = _d(lead_sp.get("organisation"))
    lead = _s(lead_org.get("name"))
    sponsor_class = "INDUSTRY" if lead_org.get("type") == "Pharmaceutical company" or lead_sp.get(
        "commercial") == "Commercial" else ("OTHER" if lead else None)
    collaborators = [n for n in unique(_s(_d(s.get("organisation")).get("name")) for s in sponsors + _l(
        obj.get("coSponsors"))) if n != lead]

    population = _d(info.get("populationOfTrialSubjects"))
    age_text = _s(obj.get("ageGroup")) or ", ".join(unique(_AGE_CODES.get(str(a.get("ageRangeCategory")))
                                                          for a in _l(population.get("ageRanges"))))
    bounds = [(int(m[1]), None if m[2] == "+" else int(m[3])) for m in re.finditer(
        r"(\d+)\s*(\+|-\s*(\d+))", age_text or "")]
    min_age = f"{min(lo for lo, _ in bounds)} Years" if bounds else None
    max_age = None if not bounds or any(hi is None for _, hi in bounds) else f"{max(hi for _, hi in bounds)} Years"
    std_ages = unique("CHILD" if lo < 18 else "ADULT" if lo < 65 else "OLDER_ADULT" for lo, _ in sorted(bounds))
    female, male = population.get("isFemaleSubjects"), population.get("isMaleSubjects")
    sex = vocab.sex(_s(obj.get("gender"))) or vocab.sex(
        "both" if female and male else "female" if female else "male" if male else None)
    groups = [str(g.get("name", "")).lower() for g in _l(population.get("clinicalTrialGroups"))]
    elig = _d(info.get("eligibilityCriteria"))
    inclusion = _numbered(_l(elig.get("principalInclusionCriteria")), "principalInclusionCriteria")
    exclusion = _numbered(_l(elig.get("principalExclusionCriteria")), "principalExclusionCriteria")
    criteria = joined("\n\n", *(labelled(label, "\n".join(f"{i}. {c}" for i, c in enumerate(items, 1)), ":\n")
                                for label, items in (("Inclusion Criteria", inclusion),
                                                     ("Exclusion Criteria", exclusion))))

    members = [_s(_d(p.get("mscInfo")).get("countryName")) or _s(_d(p.get("mscInfo")).get("mscName")) for p in parts2]
    members += [_s(m.get("countryName")) or _s(m.get("mscName")) for m in _l(app.get("memberStatesConcerned"))]
    trial_countries = obj.get("trialCountries")
    if isinstance(trial_countries, list):
        members += [_s(str(c).rsplit(":", 1)[0]) for c in trial_countries]
    areas = obj.get("therapeuticAreas")
    areas = [_s(a) for a in (areas if isinstance(areas, list) else [areas])]     # overview: text(s)
    areas += [_s(a.get("name")) for a in _l(p1.get("therapeuticAreas"))]

    has_results = bool(_d(obj.get("results"))) or obj.get("resultsFirstReceived") == "Yes"
    rows["studies"].append(make_row(
        "studies", study_id=sid, study_source=SOURCE, study_type=STUDY_TYPE_TRIAL, trial_type="INTERVENTIONAL",
        title=title, official_title=title, abstract=_s(ident.get("publicTitle")), detailed_description=description,
        sponsor=lead, sponsor_class=sponsor_class, collaborators=collaborators,
        start_date=start, start_date_precision="day" if start else None, start_date_type=start_type,
        start_year=start.year if start else None, completion_date=completion,
        completion_date_type=completion_type if completion else None, first_submitted_date=first_submitted,
        last_update_posted_date=_updated(obj),
        recruitment_status=overall, recruitment_status_original=status_text,
        phase=vocab.phase(phase_text), phase_original=phase_text,
        actual_accrual=planned or None, accrual_type="ESTIMATED" if planned else None,
        eligibility_criteria=criteria, sex=sex, minimum_age=min_age, maximum_age=max_age,
        minimum_age_years=age_in_years(min_age), maximum_age_years=age_in_years(max_age),
        healthy_volunteers=any("healthy" in g for g in groups) if groups else None, std_ages=std_ages,
        keywords=unique(areas), countries=unique(members + [_s(c.get("name")) for c in _l(p1.get("rowCountriesInfo"))]),
        org_study_id=_s(ident.get("shortTitle")) or _s(obj.get("shortTitle")),
        has_results=has_results,
        source_version=record_version(obj), payload_hash=payload_hash))
    rows["outcomes"].append(make_row("outcomes", study_id=sid, study_type=STUDY_TYPE_TRIAL, overall_status=overall,
                                     outcome_type=OUTCOME_TYPE.get(overall or ""),
                                     has_results=has_results))
    medical = _d(info.get("medicalCondition"))
    add_conditions(sid, [_s(c.get("medicalCondition")) for c in _l(medical.get("partIMedicalConditions"))
                         + _l(p1.get("medicalConditions"))]
                   + [_s(t.get("termName")) for t in _l(medical.get("meddraConditionTerms"))], rows)
    for etype, key in (("PRIMARY", "primaryEndPoints"), ("SECONDARY", "secondaryEndPoints")):
        for order, measure in enumerate(_numbered(_l(_d(info.get("endPoint")).get(key)), "endPoint")):
            rows["endpoints"].append(make_row("endpoints", study_id=sid, study_type=STUDY_TYPE_TRIAL,
                                              endpoint_type=etype, endpoint_order=order, measure=measure,
                                              primary_endpoint=measure if etype == "PRIMARY" else None))
    _products(sid, p1, rows)
    _secondary_ids(sid, obj, app, ident, lead, rows)
    for pmid in details.get("pubmedCode") if isinstance(details.get("pubmedCode"), list) else []:
        if str(pmid).strip().isdigit():
            rows["relations"].append(make_row("relations", head_id=sid, head_type="trial", tail_id=str(pmid).strip(),
                                              tail_type="pubmed", relation_type="trial_reference", study_id=sid,
                                              evidence="registry reference list"))
    seen = set()
    for site in (s for p in parts2 for s in _l(p.get("trialSites"))):
        org_addr = _d(site.get("organisationAddressInfo"))
        addr = _d(org_addr.get("address"))
        loc = (_s(_d(org_addr.get("organisation")).get("name")), _s(addr.get("city")), _s(addr.get("countryName")))
        if loc not in seen and any(loc):
            seen.add(loc)
            rows["locations"].append(make_row("locations", study_id=sid, facility=loc[0], city=loc[1], country=loc[2]))
    return rows


def _products(sid, p1, rows) -> None:
    roles = {p.get("id"): _s(g.get("productRoleName")) for g in _l(p1.get("productRoleGroupInfos"))
             for p in _l(g.get("products"))}
    seen: set[str] = set()
    for prod in _l(p1.get("products")):
        dic = _d(prod.get("productDictionaryInfo"))
        subs = unique([_s(prod.get("jsonActiveSubstanceNames")), _s(dic.get("activeSubstanceName")),
                       *(_s(s.get("actSubstName")) for s in _l(dic.get("productSubstances")))])
        name = _s(prod.get("productName")) or _s(dic.get("prodName")) or (subs[0] if subs else None)
        if not name or name.lower() in seen:
            continue
        seen.add(name.lower())
        role = roles.get(prod.get("id")) or _ROLES.get(str(prod.get("mpRoleInTrial")))
        biological = prod.get("anAdvancedTherapyMedicinalProduct") is True or any(
            "biolog" in str(s.get("substanceOrigin", "")).lower() for s in _l(dic.get("productSubstances")))
        itype = "BIOLOGICAL" if biological else "DRUG"
        other = [n for n in unique([*subs, _s(dic.get("sponsorProductCode"))]) if n.lower() != name.lower()]
        desc = joined("; ", labelled("role", role), labelled("active substance", ", ".join(subs)),
                      labelled("ATC", _s(dic.get("atcCode"))), labelled("EV code", _s(prod.get("evCode"))),
                      labelled("form", _s(prod.get("pharmaceuticalFormDisplay")) or _s(dic.get("pharmForm"))))
        add_intervention(sid, itype, name, desc, other, rows, drug=(role or "").lower() != "placebo")


def _secondary_ids(sid, obj, app, ident, sponsor, rows) -> None:
    cands: list[tuple[str | None, str | None, str | None]] = []   # (value, family hint, registry name)
    for key, val in _d(ident.get("secondaryIdentifyingNumbers")).items():
        hint = next((h for k, h in _ID_HINTS.items() if k in key.lower()), None)
        for item in [val] if isinstance(val, dict) else _l(val):
            cands.append((_s(str(item.get("number"))) if item.get("number") is not None else None, hint,
                          _s(item.get("otherRegistryName")) or key))
    for holder in (_d(app.get("eudraCt")), _d(obj.get("eudraCtInfo"))):
        cands.append((_s(holder.get("eudraCtCode")), "eudract", "EudraCT"))
    out = []
    for value, hint, registry in cands:
        found = find_ids(value) if value else []
        if found and hint is None or len(found) > 1:
            out += [secondary_id_row(sid, rid.id, None) for rid in found]
        else:
            out.append(secondary_id_row(sid, value, hint, domain=registry, id_type="REGISTRY"))
    out.append(secondary_id_row(sid, _s(ident.get("shortTitle")) or _s(obj.get("shortTitle")), None,
                                domain=sponsor, id_type="SPONSOR_PROTOCOL"))
    add_secondary_ids(rows, out)
