"""WHO ICTRP field vocabulary: column layouts, registry prefixes, ids, dates, ages, sizes, text.

Pure helpers for ``ictrp.py``. ICTRP re-publishes the records of every primary registry in one
flat layout, but each registry keeps its own spelling of dates ("17/05/2016", "2016-10-20",
"21-10-2013", "January 28, 2020", "2020/03/01"), ages ("18 Years", ">= 20age old", "19(Year)",
"no limit"), sample sizes ("group:n;group:n;") and markup (literal ``<br>``, ``&lt;br&gt;``,
bare CR). Column names differ between the search-XML, the COVID CSV, the 63-column full export
(no header) and files processed by third parties; ``canonical_cells`` maps them to one key set.
"""
from __future__ import annotations

import datetime as dt
import html
import re
from functools import lru_cache

from .common import RecordError, age_in_years, clean_text

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


# --- dates -------------------------------------------------------------------------------------

# registry -> native Date_registration format (who_ictrp/registry_prefixes_date_formats.csv).
# Every numeric day/month form there is day-first, so the patterns below need no registry: they
# read dd/mm/yyyy, dd-mm-yyyy, yyyy-mm-dd, yyyy/mm/dd, YYYYMMDD and the English month forms.
REGISTRY_DATE_FORMAT = {
    "anzctr": "%d/%m/%Y", "chictr": "%Y-%m-%d", "ctri": "%d-%m-%Y", "drks": "%d/%m/%Y",
    "euctr": "%d/%m/%Y", "irct": "%Y-%m-%d", "isrctn": "%d/%m/%Y", "jprn": "%d/%m/%Y",
    "cris": "%Y-%m-%d", "lbctr": "%d/%m/%Y", "ctgov": "%d/%m/%Y", "ntr": "%d/%m/%Y",
    "pactr": "%d/%m/%Y", "repec": "%d/%m/%Y", "rebec": "%d/%m/%Y", "rpcec": "%d/%m/%Y",
    "slctr": "%Y-%m-%d", "tctr": "%d/%m/%Y",
}
_MONTHS = {m: i for i, m in enumerate(["january", "february", "march", "april", "may", "june", "july",
                                       "august", "september", "october", "november", "december"], 1)}
_MONTHS.update({k[:3]: v for k, v in list(_MONTHS.items())})
_MONTHS["sept"] = 9
_D_PATTERNS: list[tuple[re.Pattern, str]] = [(re.compile(p), order) for p, order in [
    (r"(\d{4})(\d{2})(\d{2})", "ymd"),
    (r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", "ymd"),
    (r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})", "dmy"),
    (r"(\d{4})[-/](\d{1,2})", "ym"),
    (r"(\d{1,2})/(\d{4})", "my"),
    (r"(\d{4})", "y"),
    (r"(\d{1,2})[\s-]+([A-Za-z]+)\.?[\s,-]+(\d{4}|\d{2})", "dMy"),   # 17 February 2020, 15-Jul-19
    (r"([A-Za-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})", "Mdy"),  # January 28, 2020
    (r"([A-Za-z]+)\.?,?\s+(\d{4})", "My"),                           # August 2009
]]
_TIME = re.compile(r"(?:[T\s]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:[AP]M)?\s*(?:Z|[+-]\d{2}:?\d{2})?)$", re.I)
DATE_PLACEHOLDERS = {"", "na", "n/a", "null", "none", "-", "--", "not applicable", "not available", "unknown"}


def parse_ictrp_date(value, field: str, strict: bool = True) -> tuple[dt.date | None, str | None]:
    """(date, precision) of an ICTRP date in any registry's form.

    Placeholders give (None, None). An impossible date (31/02/2020) raises RecordError naming the
    field; unrecognised text raises too when ``strict`` (date fields), else gives (None, None).
    Year 1900 is ICTRP's "no date" filler (``1900-01-01``) and gives (None, None).
    """
    if value is None:
        return None, None
    text = re.sub(r"\s+", " ", str(value)).strip().strip('"').strip()
    if text.lower() in DATE_PLACEHOLDERS:
        return None, None
    text = _TIME.sub("", text) or text
    for pattern, order in _D_PATTERNS:
        m = pattern.fullmatch(text)
        if not m:
            continue
        try:
            if order in ("dMy", "Mdy", "My"):
                month_word = m[2] if order == "dMy" else m[1]
                month = _MONTHS.get(month_word.lower())
                if month is None:
                    break
                if order == "dMy":
                    year = int(m[3]) if len(m[3]) == 4 else 2000 + int(m[3]) if int(m[3]) < 70 else 1900 + int(m[3])
                    d, precision = dt.date(year, month, int(m[1])), "day"
                elif order == "Mdy":
                    d, precision = dt.date(int(m[3]), month, int(m[2])), "day"
                else:
                    d, precision = dt.date(int(m[2]), month, 1), "month"
            elif order == "ymd":
                d, precision = dt.date(int(m[1]), int(m[2]), int(m[3])), "day"
            elif order == "dmy":
                d, precision = dt.date(int(m[3]), int(m[2]), int(m[1])), "day"
            elif order == "ym":
                d, precision = dt.date(int(m[1]), int(m[2]), 1), "month"
            elif order == "my":
                d, precision = dt.date(int(m[2]), int(m[1]), 1), "month"
            else:
                d, precision = dt.date(int(m[1]), 1, 1), "year"
        except ValueError as exc:
            raise RecordError(f"{field}: impossible date {text!r} ({exc})") from None
        if d.year <= 1900:
            return None, None
        return d, precision
    if strict:
        raise RecordError(f"{field}: unrecognised date {text!r}")
    return None, None


# --- ages, sizes, categorical fields -------------------------------------------------------------

_NO_AGE_LIMIT = re.compile(r"no\s*limit|no\s*(?:maximum|minimum|max|min)\b|not\s*applicable|^none$|"
                           r"^n/?a\b|^-+$|not\s*stated|no\s*age", re.I)
_AGE_VALUE = re.compile(r"^(?:[<>]=?|[≦≧≤≥=])?\s*(\d+(?:\.\d+)?)\s*(.*)$")
_AGE_UNIT = {"": "years", "y": "years", "yr": "years", "yrs": "years", "year": "years", "years": "years",
             "m": "months", "mo": "months", "month": "months", "months": "months",
             "w": "weeks", "wk": "weeks", "week": "weeks", "weeks": "weeks",
             "d": "days", "day": "days", "days": "days", "h": "hours", "hour": "hours", "hours": "hours"}


def age_years(text: str | None) -> float | None:
    """ICTRP age text -> years: "18 Years", "18Y", "19(Year)", "19 Year(s)", ">= 20age old",
    "20years-old", "28 Days"; "no limit", "Not applicable", "None" -> None."""
    if not text or _NO_AGE_LIMIT.search(text.strip()):
        return None
    m = _AGE_VALUE.match(text.strip().lower())
    if not m:
        return None
    unit = re.sub(r"\(s\)|[\s()\-.]", "", m[2])
    unit = re.sub(r"old$", "", unit)
    unit = re.sub(r"^age|age$", "", unit)
    if unit not in _AGE_UNIT:
        return None
    return age_in_years(f"{m[1]} {_AGE_UNIT[unit]}")


def labelled_parts(text: str | None) -> list[tuple[str, str]] | None:
    """ChiCTR-style "label:value;label:value;" -> [(label, value)], None unless every part has a label."""
    if not text:
        return None
    parts = [p.strip() for p in text.split(";") if p.strip()]
    out = []
    for p in parts:
        label, sep, value = p.rpartition(":")
        if not sep or not label.strip():
            return None
        out.append((re.sub(r"\s+", " ", label).strip(), value.strip()))
    return out or None


def target_size(text: str | None) -> int | None:
    """Target_size -> int: "508", "1,000"; ChiCTR/RPCEC "group:n;group:n;" -> the sum; else None."""
    t = line(text)
    if not t:
        return None
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+|\d+", t):
        return int(t.replace(",", ""))
    parts = labelled_parts(t)
    if parts and all(re.fullmatch(r"\d+", v) for _, v in parts):
        return sum(int(v) for _, v in parts)
    return None


def group_sizes(text: str | None) -> dict[str, int]:
    parts = labelled_parts(line(text) or "") or []
    return {label.lower(): int(v) for label, v in parts if re.fullmatch(r"\d+", v)}


_OBSERVATIONAL_TYPES = {"epidemilogical research", "epidemiological research", "cause/relative factors study",
                        "relative factors research", "prognosis study", "case control study", "cohort study"}
_INTERVENTIONAL_TYPES = {"treatment study", "prevention", "treatment"}


def trial_type(text: str | None) -> str | None:
    """Study_type -> INTERVENTIONAL / OBSERVATIONAL / EXPANDED_ACCESS (None when it says neither,
    e.g. ChiCTR "Basic Science", "Diagnostic test")."""
    t = (line(text) or "").lower()
    if not t:
        return None
    if "expanded access" in t:
        return "EXPANDED_ACCESS"
    if "observ" in t or t in _OBSERVATIONAL_TYPES:
        return "OBSERVATIONAL"
    if "interven" in t or t in _INTERVENTIONAL_TYPES:
        return "INTERVENTIONAL"
    return None


def date_type(text: str | None) -> str | None:
    """type_enrolment (actual / anticipated first-enrolment date) -> ACTUAL / ESTIMATED."""
    t = (line(text) or "").lower()
    if t.startswith("actual"):
        return "ACTUAL"
    if t.startswith(("anticipated", "estimated", "expected")):
        return "ESTIMATED"
    return None
