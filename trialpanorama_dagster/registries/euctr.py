"""EU Clinical Trials Register (EudraCT) -> rows of the unified schema.

Inputs: the register's "full text" download (``euctr-text``: one "Summary / A.1 ...: value" block
PER MEMBER STATE, the EudraCT number repeated) and records converted to JSON by ctrdata
(``euctr-json``, keys such as ``a2_eudract_number``). The text is read into the same ctrdata-style
keys (code without dots + label slug: "E.7.3 Therapeutic confirmatory (Phase III)" ->
``e73_therapeutic_confirmatory_phase_iii``), so one ``parse`` collapses the member-state records
of one EudraCT number into one trial.

Decisions. The reader is line-oriented: a garbage value (ctrdata's injected ``JSON_ERROR_HERE``)
spoils only its field (unused Yes/No flags read as absent) and the trial loads; a block without an
EudraCT number becomes an error RawItem, quarantined alone. Status when member states disagree: a
results section's global end of trial wins, else a state still running anywhere (Ongoing/Restarted,
then Temporarily Halted), else Completed, Prematurely Ended, Not Authorised. Start date: actual
recruitment start from results (ACTUAL), else the earliest competent-authority authorisation, else
the earliest first-entered date (type NULL: a proxy). Enrollment: results subject counts (ACTUAL),
else the largest planned whole-trial / EEA number over the records (ESTIMATED). ``countries``: the
member states, then other countries named in E.8.6.3. No update date exists: version is None.
"""
from __future__ import annotations

import re
from collections import defaultdict
from typing import Iterator

import orjson

from . import vocab
from .common import (RecordError, StudyRows, STUDY_TYPE_TRIAL, age_in_years, empty_rows, make_row,
                     parse_date, unique)
from .ctgov_v2 import OUTCOME_TYPE
from .eu_rows import (add_conditions, add_intervention, add_secondary_ids, as_items, joined, labelled,
                      secondary_id_row, text_value)
from .euctr_text import parse_block, record_blocks
from .formats import RawItem

_t = text_value

SOURCE = "euctr"
FORMATS = ("euctr-text", "euctr-json")
EUDRACT = re.compile(r"^\d{4}-\d{6}-\d{2}$")
_FIRST_ENTERED = ("x6_first_entered", "x6_date_on_which_this_record_was_first_entered_in_the_eudract_database")
_COUNTRY_FIX = {"UK": "United Kingdom", "GB": "United Kingdom", "Czech Republic": "Czechia"}
_STATUS_RANK = {"ongoing": 0, "restarted": 0, "temporarily halted": 1, "suspended by ca": 1, "completed": 2,
                "prematurely ended": 3, "not authorised": 4, "prohibited by ca": 4}   # lower wins; others 9
_PHASES = (("e71_", "Human pharmacology (Phase I)"), ("e72_", "Therapeutic exploratory (Phase II)"),
           ("e73_", "Therapeutic confirmatory (Phase III)"), ("e74_", "Therapeutic use (Phase IV)"))
_AGES = (("f111_", "0 Days", "0 Days", "CHILD"), ("f112_", "0 Days", "27 Days", "CHILD"),   # F.1 flag prefix,
         ("f113_", "0 Days", "27 Days", "CHILD"), ("f114_", "28 Days", "23 Months", "CHILD"),  # min, max, std age
         ("f115_", "2 Years", "11 Years", "CHILD"), ("f116_", "12 Years", "17 Years", "CHILD"),
         ("f12_", "18 Years", "64 Years", "ADULT"), ("f13_", "65 Years", None, "OLDER_ADULT"))
_LAY = "a31_title_of_the_trial_for_lay_people_in_easily_understood_ie_nontechnical_language"


# -- reading ------------------------------------------------------------------------------------
def sniff(head: bytes, name: str) -> str | None:
    if b"A.1 Member State Concerned" in head or b"This file contains full details on each clinical trial" in head \
            or (b"\nSummary" in head and b"EudraCT Number:" in head):
        return "euctr-text"
    if head.lstrip()[:1] in (b"{", b"[") and re.search(rb'"a2_eudract_number"|"ctrname"\s*:\s*"EUCTR"', head):
        return "euctr-json"
    return None


def split(data: bytes, origin: str, fmt: str) -> Iterator[RawItem]:
    """One RawItem per EudraCT number: its member-state records, bytes as in the file."""
    groups: dict[str | None, list] = defaultdict(list)
    if fmt == "euctr-json":
        try:
            obj = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            yield RawItem(SOURCE, data, fmt, origin, error=f"invalid JSON: {exc}")
            return
        if not isinstance(obj, list):
            yield RawItem(SOURCE, data, fmt, origin, source_id=_t(obj.get("a2_eudract_number")) if isinstance(obj, dict)
                          else None)
            return
        for rec in obj:
            groups[rec.get("a2_eudract_number") if isinstance(rec, dict) else None].append(rec)
        for eid, recs in groups.items():
            yield RawItem(SOURCE, orjson.dumps(recs), fmt, f"{origin}#{eid}", source_id=eid)
        return
    blocks = record_blocks(data)
    if not blocks:
        yield RawItem(SOURCE, data, fmt, origin, error="no EU CTR record ('Summary' block or coded field line) in file")
    for line, block in blocks:
        m = re.search(rb"^(?:EudraCT Number|A\.2 EudraCT number):[ \t]*(\S+)", block, re.M | re.I)
        if m is None:
            yield RawItem(SOURCE, block, fmt, f"{origin}#line{line}",
                          error=f"EU CTR record block at line {line} has no EudraCT number")
        else:
            groups[m[1].decode("utf-8", "replace")].append(block)
    for eid, parts in groups.items():
        yield RawItem(SOURCE, b"".join(parts), fmt, f"{origin}#{eid}", source_id=eid)


def decode(payload: bytes, fmt: str) -> dict:
    """``{"format": fmt, "records": [member-state record, ...]}`` with ctrdata-style keys."""
    if fmt == "euctr-json":
        try:
            obj = orjson.loads(payload)
        except orjson.JSONDecodeError as exc:
            raise RecordError(f"invalid JSON: {exc}") from None
        recs = obj if isinstance(obj, list) else [obj]
        if not recs or not all(isinstance(r, dict) for r in recs):
            raise RecordError("EU CTR JSON is not an object or a list of objects")
        return {"format": fmt, "records": recs}
    try:
        payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RecordError(f"payload is not valid UTF-8: {exc}") from None
    recs = [r for _, b in record_blocks(payload) if (r := parse_block(b.decode("utf-8")))]
    if not recs:
        raise RecordError("no EU CTR record in payload")
    return {"format": fmt, "records": recs}


def _ids(obj) -> list[str]:
    recs = obj.get("records") if isinstance(obj, dict) and isinstance(obj.get("records"), list) else []
    return unique(_t(r.get("a2_eudract_number")) or _t(r.get("x1_eudract_number"))
                  for r in recs if isinstance(r, dict))


def record_id(obj) -> str | None:
    return next(iter(_ids(obj)), None)


def record_version(obj) -> str | None:
    return None


# -- value readers ------------------------------------------------------------------------------
def _yes(value) -> bool | None:
    """A Yes/No flag; anything else (e.g. an injected garbage token) reads as absent."""
    v = value if isinstance(value, bool) else (_t(value) or "").lower()
    return v if isinstance(v, bool) else True if v in ("yes", "true") else False if v in ("no", "false") else None


def _flag(recs, prefix) -> bool | None:
    flags = [_yes(v) for r in recs for k, v in r.items() if k.startswith(prefix)]
    return True if True in flags else False if False in flags else None


def _first(recs, *keys):
    return next((v for r in recs for k in keys if (v := _t(r.get(k)))), None)


def _all(recs, *keys) -> list[str]:
    return unique(_t(r.get(k)) for r in recs for k in keys)


def _min_date(recs, *keys):
    dates = [parse_date(v[:10], keys[0])[0] for v in _all(recs, *keys)]
    return min(dates) if dates else None


def _int(value) -> int | None:
    v = _t(value)
    return int(v.replace(",", "")) if v and re.fullmatch(r"\d[\d,]*", v) else None


def _country(member_state: str | None) -> str | None:
    if not member_state or member_state.lower().startswith(("outside", "3rd")):
        return None
    name = member_state.split(" - ")[0].strip()
    return _COUNTRY_FIX.get(name, name)


def _translations(recs, key: str) -> list[str]:
    """Other-language variants ``<key>_<lang>`` as "(lang) text"."""
    return unique(f"({k[-2:]}) {v.strip()}" for r in recs for k, v in r.items()
                  if k.startswith(key + "_") and len(k) == len(key) + 3 and isinstance(v, str) and v.strip())


# -- parsing ------------------------------------------------------------------------------------
def parse(obj, payload_hash: str | None = None) -> StudyRows:
    ids = _ids(obj)
    if len(ids) != 1:
        raise RecordError(f"expected the records of one EudraCT number, found {ids or 'none'}")
    sid = ids[0]
    if not EUDRACT.match(sid):
        raise RecordError(f"malformed EudraCT number {sid!r}")
    recs = [r for r in obj["records"] if isinstance(r, dict)]
    info = [i for r in recs for i in as_items(r.get("trialInformation"))]   # results section (ctrdata)
    rows = empty_rows()

    titles = _translations(recs, "a3_full_title_of_the_trial")
    title = _first(recs, "a3_full_title_of_the_trial") or (titles[0].split(") ", 1)[1] if titles else None)
    others = unique(titles + _translations(recs, _LAY))
    description = joined("\n\n", labelled("Main objective", _first(recs, "e21_main_objective_of_the_trial")),
                         labelled("Secondary objectives", _first(recs, "e22_secondary_objectives_of_the_trial")),
                         "Titles in other languages:\n" + "\n".join(others) if others else None)

    states = [s for r in recs if (s := _t(r.get("p_end_of_trial_status")) or _t(r.get("x5_trial_status")))]
    status_text = min(states, key=lambda s: _STATUS_RANK.get(s.lower(), 9)) if states else None
    if any(_yes(i.get("globalEndOfTrialPremature")) for i in info):
        status_text = "Prematurely Ended"
    elif any(_yes(i.get("isGlobalEndOfTrialReached")) for i in info):
        status_text = "Completed"
    overall = vocab.status(status_text)
    flags = [(label, _flag(recs, prefix)) for prefix, label in _PHASES]
    phase_text = "; ".join(f"{label}: {'Yes' if f else 'No'}" for label, f in flags) \
        if any(f is not None for _, f in flags) else None

    actual_start = _first(info, "recruitmentStartDate")
    start = parse_date(actual_start[:10], "recruitmentStartDate")[0] if actual_start else (
        _min_date(recs, "n_date_of_competent_authority_decision") or _min_date(recs, *_FIRST_ENTERED))
    end = _first(recs, "p_date_of_the_global_end_of_the_trial") or _first(info, "globalEndOfTrialDate")
    completion = parse_date(end[:10], "date of the global end of the trial")[0] if end else None
    counts = [n for i in info for c in as_items((i.get("countrySubjectCounts") or {}).get("countrySubjectCount")
                                                if isinstance(i.get("countrySubjectCounts"), dict) else None)
              if (n := _int(c.get("subjects")))]
    planned = [n for r in recs for k in ("f422_in_the_whole_clinical_trial", "f421_in_the_eea")
               if (n := _int(r.get(k)))]
    accrual, accrual_type = (sum(counts), "ACTUAL") if counts else (max(planned), "ESTIMATED") if planned \
        else (None, None)

    sponsors = [s for r in recs for s in as_items(r.get("b1_sponsor"))]
    lead = _first(sponsors, "b11_name_of_sponsor")
    squash = lambda n: re.sub(r"[^a-z0-9]", "", (n or "").lower())  # noqa: E731
    members = unique(_country(_t(r.get("a1_member_state_concerned"))
                              or _t(r.get("x3_national_competent_authority"))) for r in recs)
    regions = unique(ln.strip() for r in recs for k, v in r.items() if k.startswith("e863_")   # ctrdata joins the
                     for ln in (_t(v) or "").splitlines() if len(ln.split()) <= 3)   # lines by spaces
    female, male = _flag(recs, "f21_"), _flag(recs, "f22_")
    ages = [a for a in _AGES if _flag(recs, a[0])]
    min_age, max_age = (ages[0][1], ages[-1][2]) if ages else (None, None)
    randomised = _flag(recs, "e811_")
    protocol = _first(recs, "a41_sponsors_protocol_code_number", "x2_sponsors_protocol_code_number")
    rows["studies"].append(make_row(
        "studies", study_id=sid, study_source=SOURCE, study_type=STUDY_TYPE_TRIAL, trial_type="INTERVENTIONAL",
        title=title, official_title=title, abstract=_first(recs, _LAY), detailed_description=description,
        acronym=_first(recs, "a32_name_or_abbreviated_title_of_the_trial_where_available"), sponsor=lead,
        sponsor_class={"commercial": "INDUSTRY", "non-commercial": "OTHER"}.get(
            (_first(sponsors, "b31_and_b32_status_of_the_sponsor") or "").lower()),
        collaborators=[n for n in _all(sponsors, "b11_name_of_sponsor") if squash(n) != squash(lead)],
        start_date=start, start_date_precision="day" if start else None,
        start_date_type="ACTUAL" if actual_start else None, start_year=start.year if start else None,
        completion_date=completion, completion_date_type="ACTUAL" if completion else None,
        first_submitted_date=_min_date(recs, *_FIRST_ENTERED),
        recruitment_status=overall, recruitment_status_original=status_text,
        phase=vocab.phase(phase_text), phase_original=phase_text, actual_accrual=accrual, accrual_type=accrual_type,
        allocation="RANDOMIZED" if randomised else (
            "NON_RANDOMIZED" if randomised is False and _flag(recs, "e81_") else None),
        intervention_model="CROSSOVER" if _flag(recs, "e816_") else "PARALLEL" if _flag(recs, "e815_") else None,
        masking="DOUBLE" if _flag(recs, "e814_") else "SINGLE" if _flag(recs, "e813_") else (
            "NONE" if _flag(recs, "e812_") else None),
        primary_purpose="TREATMENT" if _flag(recs, "e63_") else "PREVENTION" if _flag(recs, "e62_") else (
            "DIAGNOSTIC" if _flag(recs, "e61_") else None),
        number_of_arms=max((n for r in recs if (n := _int(r.get("e824_number_of_treatment_arms_in_the_trial")))),
                           default=None),
        eligibility_criteria=joined(
            "\n\n", labelled("Inclusion Criteria", _first(recs, "e3_principal_inclusion_criteria"), ":\n"),
            labelled("Exclusion Criteria", _first(recs, "e4_principal_exclusion_criteria"), ":\n")),
        sex=vocab.sex("both" if female and male else "female" if female else "male" if male else None),
        minimum_age=min_age, maximum_age=max_age, minimum_age_years=age_in_years(min_age),
        maximum_age_years=age_in_years(max_age), healthy_volunteers=_flag(recs, "f31_"),
        std_ages=unique(a[3] for a in ages), countries=unique(members + regions),
        keywords=_all(recs, "e111_medical_condition_in_easily_understood_language", "e112_therapeutic_area"),
        org_study_id=protocol, has_results=bool(info), payload_hash=payload_hash))
    rows["outcomes"].append(make_row("outcomes", study_id=sid, study_type=STUDY_TYPE_TRIAL, overall_status=overall,
                                     outcome_type=OUTCOME_TYPE.get(overall or ""), has_results=bool(info)))
    meddra = [m for r in recs for m in as_items(r.get("e12_meddra_classification"))]
    add_conditions(sid, _all(recs, "e11_medical_conditions_being_investigated") + _all(meddra, "e12_term"), rows)
    timepoints = "timepoints_of_evaluation_of_this_end_point"
    for etype, key, tf in (("PRIMARY", "e51_primary_end_points", "e511_" + timepoints),
                           ("SECONDARY", "e52_secondary_end_points", "e521_" + timepoints)):
        for rec in [r for r in recs if _t(r.get(key))][:1]:          # the first record that has them
            measure = _t(rec.get(key))
            rows["endpoints"].append(make_row(
                "endpoints", study_id=sid, study_type=STUDY_TYPE_TRIAL, endpoint_type=etype, endpoint_order=0,
                measure=measure, time_frame=_t(rec.get(tf)),
                primary_endpoint=measure if etype == "PRIMARY" else None))
    _products(sid, recs, rows)
    cands = [(v, fam) for prefix, fam in (("a51_", "isrctn"), ("a52_", "nct"), ("a53_", "utrn"), ("a54_", None))
             for r in recs for k, val in r.items() if k.startswith(prefix)
             for v in (_t(val) or "").splitlines()]
    cands += [(_t(i.get(k)), fam) for i in info for k, fam in (
        ("usctnIdentifier", "nct"), ("isrctnIdentifier", "isrctn"), ("whoIdentifier", "utrn"))]
    add_secondary_ids(rows, [secondary_id_row(sid, v, fam) for v, fam in cands] + [
        secondary_id_row(sid, protocol, None, domain=lead, id_type="SPONSOR_PROTOCOL")])
    return rows


def _products(sid, recs, rows) -> None:
    seen: set[str] = set()
    for imp in (i for r in recs for i in as_items(r.get("dimp"))):
        subs = as_items(imp.get("d38_imp_identification_details"))
        inns = _all(subs, "d38_inn__proposed_inn")
        trade = _t(imp.get("d2111_trade_name"))
        name = _t(imp.get("d31_product_name")) or trade or next(iter(inns), None)
        if not name or name.lower() in seen:
            continue
        seen.add(name.lower())
        bio = any(_yes(v) for k, v in imp.items() if k.startswith(("d3112_", "d3113_", "d3116_")))
        other = [n for n in unique([*inns, trade, _t(imp.get("d32_product_code")),
                                    *_all(subs, "d393_other_descriptive_name", "d392_current_sponsor_code")])
                 if n.lower() != name.lower()]
        desc = joined("; ", labelled("role", _t(imp.get("d12_and_d13_imp_role"))),
                      labelled("INN", ", ".join(inns)), labelled("CAS", ", ".join(_all(subs, "d391_cas_number"))),
                      labelled("form", _t(imp.get("d34_pharmaceutical_form"))),
                      labelled("route", _t(imp.get("d37_routes_of_administration_for_this_imp"))))
        add_intervention(sid, "BIOLOGICAL" if bio else "DRUG", name, desc, other, rows, drug=True)
    if any(_yes(r.get("e822_placebo")) or _yes(r.get("d81_is_a_placebo_used_in_this_trial")) for r in recs):
        add_intervention(sid, "DRUG", "Placebo", None, [], rows, drug=False)
