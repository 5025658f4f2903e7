"""WHO ICTRP values in each registry's own spelling: dates, ages, sample sizes, categories.

Dates ("17/05/2016", "2016-10-20", "21-10-2013", "January 28, 2020", "2020/03/01"), ages
("18 Years", ">= 20age old", "19(Year)", "no limit") and sample sizes ("group:n;group:n;") as
``ictrp.py`` reads them.
"""
from __future__ import annotations

import datetime as dt
import re

from .common import RecordError, age_in_years
from .ictrp_fields import line

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
