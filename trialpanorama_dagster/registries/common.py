"""Shared pieces of every registry parser: the row container, errors, dates, ages, placeholders.

A parser turns one raw payload into a ``StudyRows``: for each warehouse table, a list of row
tuples in the column order of ``warehouse.schema``. Parsers are pure: no Dagster, no I/O.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

from ..warehouse.schema import STUDY_TABLES

StudyRows = dict[str, list[tuple]]

STUDY_TYPE_TRIAL = "trial"


class RecordError(ValueError):
    """A record that cannot be loaded; the message is the quarantine reason."""


def empty_rows() -> StudyRows:
    return {t.name: [] for t in STUDY_TABLES}


_PLACEHOLDERS = {
    "", "n/a", "na", "n.a.", "null", "none", "nil", "nil known", "not applicable", "-", "--",
    "not available", "unknown", "not specified", "no", "nan",
}
_PLACEHOLDERS_KEEP_NO = _PLACEHOLDERS - {"no", "unknown"}
_PLACEHOLDER_MAX = max(map(len, _PLACEHOLDERS_KEEP_NO))  # lower() never shortens a text


def clean_text(value: Any) -> str | None:
    """Strip a text value; placeholders ("N/A", "Nil known", "none", "-") become None."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise RecordError(f"expected text, got {type(value).__name__}: {str(value)[:60]!r}")
    text = value.strip()
    if len(text) <= _PLACEHOLDER_MAX and text.lower() in _PLACEHOLDERS_KEEP_NO:
        return None
    return text


def code(value: Any, field: str = "value") -> str | None:
    """An enumerated code as the registry gives it (``NA``, ``NONE`` are real codes, not placeholders)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise RecordError(f"{field}: expected a code string, got {type(value).__name__}: {str(value)[:60]!r}")
    return value.strip() or None


_DATE_FULL = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_DATE_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_DATE_YEAR = re.compile(r"^(\d{4})$")
_MONTHS = {m.lower(): i for i, m in enumerate(
    ["January", "February", "March", "April", "May", "June", "July", "August", "September",
     "October", "November", "December"], start=1)}
_MONTHS.update({k[:3]: v for k, v in list(_MONTHS.items())})
_DATE_WORDS = re.compile(r"^([A-Za-z]+)\.?\s+(?:(\d{1,2}),?\s+)?(\d{4})$")


_DATES_SEEN: dict[str, tuple[dt.date | None, str | None]] = {}  # dates recur: parse each text once


def parse_date(value: Any, field: str = "date") -> tuple[dt.date | None, str | None]:
    """Parse ISO (YYYY-MM-DD, YYYY-MM, YYYY) or "Month [D,] YYYY" dates.

    Returns (date, precision) with precision "day", "month" or "year"; a partial date takes
    day 1 / month 1. Impossible dates raise RecordError naming the field.
    """
    if type(value) is str:
        done = _DATES_SEEN.get(value)
        if done is None:
            done = _parse_date(value, field)
            if len(_DATES_SEEN) < 200_000:
                _DATES_SEEN[value] = done
        return done
    return _parse_date(value, field)


def _parse_date(value: Any, field: str) -> tuple[dt.date | None, str | None]:
    if value is None:
        return None, None
    if not isinstance(value, str):
        raise RecordError(f"{field}: expected a date string, got {type(value).__name__} {value!r}")
    text = value.strip()
    if not text:
        return None, None
    try:
        if m := _DATE_FULL.match(text):
            return dt.date(int(m[1]), int(m[2]), int(m[3])), "day"
        if m := _DATE_MONTH.match(text):
            return dt.date(int(m[1]), int(m[2]), 1), "month"
        if m := _DATE_YEAR.match(text):
            return dt.date(int(m[1]), 1, 1), "year"
        if m := _DATE_WORDS.match(text):
            month = _MONTHS.get(m[1].lower())
            if month is None:
                raise ValueError(f"unknown month {m[1]!r}")
            if m[2]:
                return dt.date(int(m[3]), month, int(m[2])), "day"
            return dt.date(int(m[3]), month, 1), "month"
    except ValueError as exc:
        raise RecordError(f"{field}: impossible date {text!r} ({exc})") from None
    raise RecordError(f"{field}: unrecognised date {text!r}")


_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]+)?\s*$")
_AGE_UNITS = {
    "year": 1.0, "years": 1.0, "yr": 1.0, "yrs": 1.0, "y": 1.0,
    "month": 1 / 12, "months": 1 / 12, "week": 7 / 365.25, "weeks": 7 / 365.25,
    "day": 1 / 365.25, "days": 1 / 365.25, "hour": 1 / 8766, "hours": 1 / 8766,
    "minute": 1 / 525960, "minutes": 1 / 525960,
}


def age_in_years(value: str | None) -> float | None:
    """"18 Years" -> 18.0, "6 Months" -> 0.5; None when absent or not a plain age."""
    if not value:
        return None
    m = _AGE.match(value)
    if not m:
        return None
    unit = (m[2] or "years").lower()
    factor = _AGE_UNITS.get(unit)
    if factor is None:
        return None
    return round(float(m[1]) * factor, 4)


def as_int(value: Any, field: str) -> int | None:
    """An integer field that may arrive as int, integral float or digit string."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise RecordError(f"{field}: expected an integer, got a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d[\d,]*\s*", value):
        return int(value.replace(",", ""))
    raise RecordError(f"{field}: expected an integer, got {value!r}")


def as_float(value: Any) -> float | None:
    if value is None:
        return None
    try:
        return float(str(value).replace(",", ""))
    except ValueError:
        return None


def as_list(value: Any, field: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise RecordError(f"{field}: expected a list, got {type(value).__name__}")
    return value


def as_dict(value: Any, field: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RecordError(f"{field}: expected an object, got {type(value).__name__}")
    return value


_MESH_D = re.compile(r"^D0*(\d{6})$")
_MESH_SEEN: dict[str, str] = {}  # the same few hundred thousand ids recur across studies


def normalise_mesh_id(mesh_id: str | None) -> str | None:
    """MeSH descriptor ids in MeSH's own form: ``D000006937`` -> ``D006937``; C-ids stay as given."""
    if not mesh_id:
        return None
    if type(mesh_id) is str:
        done = _MESH_SEEN.get(mesh_id)
        if done is not None:
            return done
    text = mesh_id.strip()
    m = _MESH_D.match(text)
    out = "D" + m[1] if m else text
    if type(mesh_id) is str and len(_MESH_SEEN) < 1_000_000:
        _MESH_SEEN[mesh_id] = out
    return out


_MESH_TYPES = {"D": "descriptor", "C": "supplementary"}


def mesh_record_type(mesh_id: str | None) -> str | None:
    if not mesh_id:
        return None
    return _MESH_TYPES.get(mesh_id[0])


def unique(values):
    """Order-preserving de-duplication of non-empty values."""
    seen = set()
    out = []
    for v in values:
        if v and v not in seen:
            seen.add(v)
            out.append(v)
    return out


def enum_name(value: Any) -> str | None:
    """A registry's display text as an API-style enum name.

    ``"Active, not recruiting"`` -> ``"ACTIVE_NOT_RECRUITING"``, ``"Case-Control"`` ->
    ``"CASE_CONTROL"``; placeholders ("N/A", "none") give None.
    """
    text = clean_text(value)
    if not text:
        return None
    return re.sub(r"[^0-9A-Za-z]+", "_", text).strip("_").upper() or None


def make_row(table_name: str, **values) -> tuple:
    """A row tuple for a declared table from column=value pairs (unnamed columns are NULL).

    Parsers of sources with sparse fields use this so rows never depend on column positions.
    """
    from ..warehouse.schema import table
    t = table(table_name)
    unknown = set(values) - set(t.column_names)
    if unknown:
        raise KeyError(f"{table_name} has no column(s) {sorted(unknown)}")
    return tuple(values.get(c) for c in t.column_names)
