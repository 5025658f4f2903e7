"""ISRCTN field readers and derivations used by ``isrctn.parse`` (design codes and secondary ids
are shared with the ChiCTR parser)."""
from __future__ import annotations

import datetime as dt
import re

from . import ids, vocab
from .common import RecordError, clean_text, make_row, parse_date

_ISO_TS = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[T ].*)?$")
_OVERRIDE = {"stopped": "TERMINATED", "suspended": "SUSPENDED", "withdrawn": "WITHDRAWN", "abandoned": "WITHDRAWN"}
_ID_DOMAIN = {"nct": "ClinicalTrials.gov", "eudract": "EudraCT", "ctis": "CTIS", "utrn": "WHO UTN"}


def secondary_id_row(study_id: str, value: str, field_type: str | None, domain: str | None, hint=None):
    """A secondary_ids row: a recognised registry id in canonical form, typed the CT.gov way."""
    rid = ids.normalise_id(value, hint)
    if rid is None:
        return make_row("secondary_ids", study_id=study_id, secondary_id=value, id_type=field_type, domain=domain)
    if rid.id == study_id:
        return None
    typ = {"eudract": "EUDRACT_NUMBER", "ctis": "CTIS", "utrn": "OTHER"}.get(rid.family, "REGISTRY")
    return make_row("secondary_ids", study_id=study_id, secondary_id=rid.id, id_type=typ,
                    domain=_ID_DOMAIN.get(rid.family) or rid.registry or domain)


# (pattern, column, code, "I"/"O": only unless the study is observational / interventional); first match per column
_DESIGN = [
    (r"non[- ]?random", "allocation", "NON_RANDOMIZED", "I"), (r"random", "allocation", "RANDOMIZED", "I"),
    (r"single[- ]?(?:arm|group)", "intervention_model", "SINGLE_GROUP", "I"),
    (r"parallel", "intervention_model", "PARALLEL", "I"), (r"cross[- ]?over", "intervention_model", "CROSSOVER", "I"),
    (r"factorial", "intervention_model", "FACTORIAL", "I"), (r"sequential", "intervention_model", "SEQUENTIAL", "I"),
    (r"case[- ]control", "observational_model", "CASE_CONTROL", "O"), (r"cohort", "observational_model", "COHORT", "O"),
    (r"case series|case[- ]only", "observational_model", "CASE_ONLY", "O"),
    (r"cross[- ]sectional", "time_perspective", "CROSS_SECTIONAL", "O"),
    (r"retrospective", "time_perspective", "RETROSPECTIVE", "O"), (r"prospective", "time_perspective", "PROSPECTIVE", "O"),
    (r"quadruple[- ]blind", "masking", "QUADRUPLE", ""), (r"triple[- ]blind", "masking", "TRIPLE", ""),
    (r"double[- ]blind", "masking", "DOUBLE", ""), (r"single[- ]blind", "masking", "SINGLE", ""),
    (r"open[- ]label|un-?blinded|non[- ]blinded", "masking", "NONE", ""),
]


def design_codes(text: str | None, trial_type: str | None) -> dict[str, str]:
    """Allocation / models / time perspective / masking where a design text makes them evident."""
    t, out = (text or "").lower(), {}
    skip = {"OBSERVATIONAL": "I", "INTERVENTIONAL": "O"}.get(trial_type or "")
    for pat, column, code, only in _DESIGN:
        if column not in out and (not only or only != skip) and re.search(pat, t):
            out[column] = code
    return out


def _d(obj: dict, key: str) -> dict:
    v = obj.get(key)
    if v is None or (isinstance(v, str) and not v.strip()):
        return {}
    if not isinstance(v, dict):
        raise RecordError(f"{key}: expected an object, got {type(v).__name__}")
    return v


def _l(v) -> list:
    return [] if v is None or v == "" else (v if isinstance(v, list) else [v])


def _date(value, field: str) -> dt.date | None:
    text = clean_text(value)
    if not text:
        return None
    m = _ISO_TS.match(text)
    return parse_date(m[1] if m else text, field)[0]


def _text(value) -> str | None:
    """clean_text, also dropping ISRCTN's "Not provided at time of registration"."""
    text = clean_text(value)
    return None if text and text.lower().startswith("not provided at time of registration") else text


def _count(value) -> int | None:
    m = re.match(r"\s*(\d[\d,]*)", value) if isinstance(value, str) else None
    return int(m[1].replace(",", "")) if m else (value if isinstance(value, int) else None)


def derive_status(override: str | None, start, rec_end, end, as_of, final_n) -> str:
    """ISRCTN's overall status, derived (the registry publishes none).

    1. ``recruitmentStatusOverride`` (else ``trialDesign.overallStatusOverride``) wins: "Stopped" ->
       TERMINATED (WITHDRAWN when the final enrolment is 0), "Suspended" -> SUSPENDED, others via
       ``vocab.status`` ("Not yet recruiting", "Completed", ...).
    2. Otherwise the dates are read as of the record's own date (``lastUpdated``, else ctrdata's
       ``record_last_import``), so one payload always gives one status: overall end date before it ->
       COMPLETED; recruitment start after it -> NOT_YET_RECRUITING; recruitment end before it ->
       ACTIVE_NOT_RECRUITING; recruitment started -> RECRUITING. No date to compare -> UNKNOWN.
    """
    if override:
        s = _OVERRIDE.get(override.strip().lower()) or vocab.status(override)
        if s == "TERMINATED" and final_n == 0:
            return "WITHDRAWN"
        if s:
            return s
    if as_of is None:
        return "UNKNOWN"
    if end and end < as_of:
        return "COMPLETED"
    if start and start > as_of:
        return "NOT_YET_RECRUITING"
    if rec_end and rec_end < as_of:
        return "ACTIVE_NOT_RECRUITING"
    return "RECRUITING" if start else "UNKNOWN"


def outcome_items(text: str | None) -> list[tuple[str, str | None]]:
    """An outcome text -> (measure, description) per numbered item; previous versions are dropped."""
    text = _text(text)
    if not text:
        return []
    text = re.split(r"\n\s*(?:previous|original|old)\b[^\n]*outcome measures?", text, maxsplit=1, flags=re.I)[0]
    text = re.sub(r"^\s*current\b[^\n]*outcome measures?[^\n]*:\s*\n", "", text, count=1, flags=re.I).strip()
    items: list[list] = []
    block, header = 0, None
    for para in re.split(r"\n\s*\n", text):
        lead, start = [], len(items)
        for line in filter(None, (ln.strip() for ln in para.splitlines())):
            m = re.match(r"^\(?\d{1,2}[.)]\s+(.+)$", line)
            if m:
                items.append([m[1], None])
            elif len(items) > start:
                items[-1][0] += " " + line
            else:
                lead.append(line)
        note = " ".join(lead) or None
        if len(items) > start:  # a numbered list, under its own lead line or a header paragraph
            for it in items[start:]:
                it[1] = note or header
            block, header = start, None
        elif note and (note.endswith(":") or not items):
            header = note
        elif note:  # a note after a list ("Measured at 21 days.") describes that list
            for it in items[block:]:
                it[1] = f"{it[1]} {note}" if it[1] else note
    if len(items) < 2:
        return [(text, None)]
    return [(m.strip(), d) for m, d in items]
