"""WHO ICTRP field vocabulary: column layouts, registry prefixes, ids, text (values: ``ictrp_values``).

Pure helpers for ``ictrp.py``. ICTRP re-publishes the records of every primary registry in one
flat layout, but each registry keeps its own spelling of dates ("17/05/2016", "2016-10-20",
"21-10-2013", "January 28, 2020", "2020/03/01"), ages ("18 Years", ">= 20age old", "19(Year)",
"no limit"), sample sizes ("group:n;group:n;") and markup (literal ``<br>``, ``&lt;br&gt;``,
bare CR). Column names differ between the search-XML, the COVID CSV, the 63-column full export
(no header) and files processed by third parties; ``canonical_cells`` maps them to one key set.
"""
from __future__ import annotations

import html
import re
from functools import lru_cache

from .common import RecordError, clean_text

# --- column layouts ---------------------------------------------------------------------------

# The full CSV export has no header row: the 62 names of ICTRP_export_datafields.txt with the
# undocumented ``last_updated`` (a "15 July 2019" date) as column 2 -> 63 columns.
FULL_EXPORT_COLUMNS: tuple[str, ...] = (
    "TrialID", "last_updated", "SecondaryIDs", "public_title", "Scientific_title", "url",
    "Public_Contact_Firstname", "Public_Contact_Lastname", "Public_Contact_Address",
    "Public_Contact_Email", "Public_Contact_Tel", "Public_Contact_Affiliation",
    "Scientific_Contact_Firstname", "Scientific_Contact_Lastname", "Scientific_Contact_Address",
    "Scientific_Contact_Email", "Scientific_Contact_Tel", "Scientific_Contact_Affiliation",
    "study_type", "study_design", "phase", "Date_registration", "Date_enrollement", "Target_size",
    "Recruitment_status", "Primary_sponsor", "Secondary_sponsors", "Source_Support", "Countries",
    "Conditions", "Interventions", "Agemin", "Agemax", "Gender", "Inclusion_Criteria",
    "Exclusion_Criteria", "Primary_Outcome", "Secondary_Outcomes", "Bridging_flag", "Bridged_type",
    "Childs", "type_enrolment", "Retrospective_flag", "results_actual_enrollment", "results_url_link",
    "results_summary", "results_date_posted", "results_date_first_publication",
    "results_baseline_char", "results_participant_flow", "results_adverse_events",
    "results_outcome_measures", "results_url_protocol", "results_IPD_plan",
    "results_IPD_description", "results_date_completed", "results_yes_no", "Ethics_Status",
    "Ethics_Approval_Date", "Ethics_Contact_Name", "Ethics_Contact_Address", "Ethics_Contact_Phone",
    "Ethics_Contact_Email",
)
assert len(FULL_EXPORT_COLUMNS) == 63

# The COVID-19 export (COVID19-web.csv) has this header row.
COVID_EXPORT_COLUMNS: tuple[str, ...] = (
    "TrialID", "Last Refreshed on", "Public title", "Scientific title", "Acronym", "Primary sponsor",
    "Date registration", "Date registration3", "Export date", "Source Register", "web address",
    "Recruitment Status", "other records", "Inclusion agemin", "Inclusion agemax", "Inclusion gender",
    "Date enrollement", "Target size", "Study type", "Study design", "Phase", "Countries",
    "Contact Firstname", "Contact Lastname", "Contact Address", "Contact Email", "Contact Tel",
    "Contact Affiliation", "Inclusion Criteria", "Exclusion Criteria", "Condition", "Intervention",
    "Primary outcome", "results date posted", "results date completed", "results url link",
    "Retrospective flag", "Bridging flag truefalse", "Bridged type", "results yes no",
)

# normalised column name (lower case, spaces -> "_") -> canonical key. Columns not listed
# (contacts, ethics, third-party additions such as Date_registration_format) are not read.
_ALIASES = {
    "trialid": "trial_id", "trial_id": "trial_id",
    "last_refreshed_on": "last_refreshed", "last_updated": "last_refreshed",
    "unknown": "last_refreshed",  # worcjamessmith's name for the full export's unnamed column 2
    "public_title": "public_title", "scientific_title": "scientific_title", "acronym": "acronym",
    "primary_sponsor": "primary_sponsor", "secondary_sponsors": "secondary_sponsors",
    "secondary_sponsor": "secondary_sponsors", "source_support": "source_support",
    "date_registration": "date_registration", "date_registration3": "date_registration3",
    "date_enrollement": "date_enrollment", "date_enrollment": "date_enrollment",
    "date_enrolment": "date_enrollment", "type_enrolment": "type_enrolment",
    "type_enrollment": "type_enrolment", "source_register": "source_register",
    "web_address": "url", "url": "url", "recruitment_status": "recruitment_status",
    "inclusion_agemin": "agemin", "agemin": "agemin", "inclusion_agemax": "agemax", "agemax": "agemax",
    "inclusion_gender": "gender", "gender": "gender", "target_size": "target_size",
    "study_type": "study_type", "study_design": "study_design", "phase": "phase",
    "countries": "countries", "inclusion_criteria": "inclusion_criteria",
    "exclusion_criteria": "exclusion_criteria", "condition": "conditions", "conditions": "conditions",
    "intervention": "interventions", "interventions": "interventions",
    "primary_outcome": "primary_outcome", "secondary_outcome": "secondary_outcomes",
    "secondary_outcomes": "secondary_outcomes", "secondaryids": "secondary_ids",
    "secondary_id": "secondary_ids", "secondary_ids": "secondary_ids",
    "bridging_flag": "bridging_flag", "bridging_flag_truefalse": "bridging_flag",
    "bridged_type": "bridged_type", "childs": "childs", "results_yes_no": "results_yes_no",
    "results_date_posted": "results_date_posted", "results_date_completed": "results_date_completed",
    "internal_number": "internal_number",
}


@lru_cache(maxsize=4096)
def canonical_key(column: str) -> str | None:
    return _ALIASES.get(re.sub(r"[\s-]+", "_", column.strip().lower()))


def canonical_cells(cells: dict, layout: str) -> dict[str, str]:
    """Cells under canonical keys; the first non-empty cell wins when two columns alias."""
    out: dict[str, str] = {}
    for col, value in cells.items():
        key = canonical_key(str(col))
        if key is None or value is None:
            continue
        if not isinstance(value, str):
            raise RecordError(f"{col}: expected text, got {type(value).__name__}")
        if layout == "full-export" and len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]  # the raw full export wraps cells in an extra pair of quotes
        if key not in out or (not out[key].strip() and value.strip()):
            out[key] = value
    return out


# --- registries and ids ------------------------------------------------------------------------

# TrialID prefix -> study_source code of the registry that issued the record
REGISTRY_OF_PREFIX: dict[str, str] = {
    "NCT": "ctgov", "EUCTR": "euctr", "CTIS": "ctis", "ISRCTN": "isrctn", "ACTRN": "anzctr",
    "ChiCTR": "chictr", "CTRI": "ctri", "DRKS": "drks", "JPRN": "jprn", "jRCT": "jprn",
    "UMIN": "jprn", "JapicCTI": "jprn", "JMA": "jprn", "KCT": "cris", "IRCT": "irct",
    "PACTR": "pactr", "RBR-": "rebec", "RPCEC": "rpcec", "LBCTR": "lbctr", "TCTR": "tctr",
    "NL-OMON": "ntr", "NTR": "ntr", "NL": "ntr", "PER-": "repec", "SLCTR": "slctr",
    "ITMCTR": "itmctr",
}
_PREFIXES = sorted(((p.upper(), code) for p, code in REGISTRY_OF_PREFIX.items()), key=lambda x: -len(x[0]))
OTHER = "other"

# Source_Register text -> study_source code (used when the TrialID prefix is unknown)
REGISTRY_OF_SOURCE_REGISTER = {
    "clinicaltrials.gov": "ctgov", "eu clinical trials register": "euctr", "euctr": "euctr",
    "isrctn": "isrctn", "anzctr": "anzctr", "chictr": "chictr", "ctri": "ctri",
    "german clinical trials register": "drks", "drks": "drks", "jprn": "jprn", "cris": "cris",
    "irct": "irct", "pactr": "pactr", "rebec": "rebec", "rpcec": "rpcec", "lbctr": "lbctr",
    "tctr": "tctr", "netherlands trial register": "ntr", "ntr": "ntr", "repec": "repec",
    "slctr": "slctr", "itmctr": "itmctr", "ctis": "ctis",
}

# whole-value id patterns, used to name the registry of a secondary id (stricter than prefixes:
# "NL67751.078.18" is a Dutch CCMO number, not an NTR id)
_ID_PATTERNS: list[tuple[str, re.Pattern]] = [(code, re.compile(p, re.I)) for code, p in [
    ("ctgov", r"NCT\d{8}"),
    ("ctis", r"(?:CTIS)?20(?:2[2-9]|[3-9]\d)-5\d{5}-\d{2}(?:-\d{2})?"),
    ("euctr", r"(?:EUCTR)?(?:19|20)\d{2}-\d{6}-\d{2}(?:-[A-Z]{2}|-3RD)?"),
    ("isrctn", r"ISRCTN\d{8}"), ("anzctr", r"ACTRN\d{14}P?"),
    ("chictr", r"ChiCTR-?(?:[A-Z]{3}-?)?\d{8,10}"), ("ctri", r"CTRI/\d{4}/\d{2,3}/\d{6}"),
    ("drks", r"DRKS\d{8}"),
    ("jprn", r"(?:JPRN-)?(?:jRCTs?\d{9,10}|UMIN\d{9}|JapicCTI-?\d{6}|JMA-?IIA\d{5})"),
    ("cris", r"KCT\d{7}"), ("irct", r"IRCT\d{10,14}N\d+"), ("pactr", r"PACTR\d{15}"),
    ("rebec", r"RBR-[0-9a-z]{6,8}"), ("rpcec", r"RPCEC\d{8}"), ("lbctr", r"LBCTR\d{10}"),
    ("tctr", r"TCTR\d{11}"), ("ntr", r"NL-OMON\d+|NL\d{1,5}|NTR\d{1,4}"), ("repec", r"PER-\d{3}-\d{2}"),
    ("slctr", r"SLCTR/\d{4}/\d{3}"), ("itmctr", r"ITMCTR\d+"),
]]


def registry_of(trial_id: str | None, source_register: str | None = None) -> str:
    """The study_source code of an ICTRP TrialID by its prefix ("JPRN-UMIN…" -> "jprn");
    the Source_Register text decides when the prefix is unknown; otherwise "other"."""
    tid = (trial_id or "").strip().upper()
    for prefix, code in _PREFIXES:
        if tid.startswith(prefix):
            return code
    if source_register:
        return REGISTRY_OF_SOURCE_REGISTER.get(source_register.strip().lower(), OTHER)
    return OTHER


def registry_of_id(value: str | None) -> str | None:
    """The registry a whole-value id belongs to ("2018-001874-89" -> euctr), None when not an id."""
    if not value:
        return None
    v = re.sub(r"\s+", "", value)
    return next((code for code, p in _ID_PATTERNS if p.fullmatch(v)), None)


_EUCTR_ID = re.compile(r"^EUCTR[\s-]?((?:19|20)\d{2}-\d{6}-\d{2})(?:[-/].*)?$", re.I)
_JPRN_ID = re.compile(r"^JPRN-(.+)$", re.I)


def canonical_id(trial_id: str) -> str:
    """The registry's own id: EUCTR country rows -> the EudraCT number (``EUCTR2020-001234-12-DE``
    -> ``2020-001234-12``), ``JPRN-jRCTs051180199`` -> ``jRCTs051180199``; others stripped."""
    tid = trial_id.strip()
    if m := _EUCTR_ID.match(tid):
        return m[1]
    if m := _JPRN_ID.match(tid):
        return m[1].strip()
    return tid


# --- text --------------------------------------------------------------------------------------

_BR = re.compile(r"<\s*br\s*/?\s*>", re.I)
_MANY_NL = re.compile(r"\n{3,}")


def block(value, placeholders: bool = True) -> str | None:
    """Multi-line text: ``<br>`` -> newline, CR/CRLF -> LF, entities decoded, lines trimmed;
    placeholders ("N/A", "NULL", "Nil known") -> None unless ``placeholders=False``."""
    if value is None:
        return None
    text = html.unescape(_BR.sub("\n", value)).replace("\r\n", "\n").replace("\r", "\n")
    text = _MANY_NL.sub("\n\n", "\n".join(line.strip() for line in text.split("\n"))).strip()
    return clean_text(text) if placeholders else (text or None)


def line(value) -> str | None:
    """One-line text (titles, names, ids): all whitespace and ``<br>`` collapse to one space."""
    text = block(value)
    return clean_text(re.sub(r"\s+", " ", text)) if text else None


def split_values(value, on_br: bool = False) -> list[str]:
    """``;``-separated (and optionally ``<br>``-separated) values, cleaned, placeholders dropped."""
    if not value:
        return []
    text = _BR.sub(";", value) if on_br else value
    return [v for v in (line(part) for part in text.split(";")) if v]
