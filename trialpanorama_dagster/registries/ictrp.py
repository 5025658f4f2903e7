"""WHO ICTRP exports -> rows of the unified schema.

Two payload formats:

* ``ictrp-xml``: one ``<Trial>`` element of the search export ``<Trials_downloaded_from_ICTRP>``,
  stored byte for byte as it stands in the file.
* ``ictrp-csv``: one row of a CSV export. A CSV row has no standalone form (its meaning depends on
  the file's header or column order), so it is stored as the compact JSON of its cells,
  ``{"layout": L, "cells": {column: value}}`` with every value exactly as read. Layouts:
  ``full-export`` (the 63-column full export, which has NO header row; column names from
  ``ICTRP_export_datafields.txt``), ``covid-export`` (the COVID-19 CSV with its header row) and
  ``header`` (any other header-bearing file, e.g. exports re-saved with extra columns).

``study_source`` is the registry that issued the record (``chictr``, ``euctr``, ...), never
"ictrp"; ``study_id`` is that registry's own id (EUCTR country rows collapse to the EudraCT number,
``JPRN-`` is dropped). The module is pure: no Dagster, no I/O.
"""
from __future__ import annotations

import csv
import io
import re
import sys
from typing import Iterator

import orjson
from lxml import etree

from . import ictrp_rows, vocab
from .common import STUDY_TYPE_TRIAL, RecordError, StudyRows, empty_rows, make_row, unique
from .ctgov_v2 import OUTCOME_TYPE
from .formats import RawItem
from .ictrp_fields import (
    COVID_EXPORT_COLUMNS, FULL_EXPORT_COLUMNS, REGISTRY_OF_PREFIX, canonical_cells, canonical_id, canonical_key,
    line, registry_of, registry_of_id, split_values,
)
from .ictrp_values import age_years, date_type, group_sizes, labelled_parts, parse_ictrp_date, target_size, trial_type

SOURCE = "ictrp"
FORMATS = ("ictrp-xml", "ictrp-csv")
__all__ = ["SOURCE", "FORMATS", "REGISTRY_OF_PREFIX", "registry_of", "canonical_id", "sniff", "split",
           "decode", "record_id", "record_version", "parse"]

# --- reading files -----------------------------------------------------------------------------

_XML_OPEN = re.compile(rb"<Trial(?=[\s>/])")
_XML_CLOSE = b"</Trial>"
_XML_ROOT = b"<Trials_downloaded_from_ICTRP"
_BOM = b"\xef\xbb\xbf"


def sniff(head: bytes, name: str) -> str | None:
    """``ictrp-xml`` / ``ictrp-csv`` when the file's first bytes look like an ICTRP export."""
    text = head[len(_BOM):] if head.startswith(_BOM) else head
    stripped = text.lstrip()
    if stripped[:1] in (b"{", b"["):  # JSON is never an ICTRP export: answer before parsing CSV
        return None
    if stripped.startswith(b"<"):
        if _XML_ROOT in text[:4096] or (b"<Trial>" in text and b"<TrialID>" in text):
            return "ictrp-xml"
        return None
    try:
        first = next(csv.reader(io.StringIO(text.decode("utf-8", errors="replace"), newline="")), None)
    except csv.Error:
        return None
    if not first:
        return None
    keys = {canonical_key(c) for c in first}
    if "trial_id" in keys:
        return "ictrp-csv" if len(keys & {"public_title", "scientific_title", "recruitment_status",
                                          "date_registration", "last_refreshed"}) >= 2 else None
    # the full export has no header: its first cell is a registry id (EUCTR…-DE, JPRN-…, NCT…)
    if registry_of_id(first[0].strip().strip('"')) and (len(first) >= 20 or b"\n" not in text):
        return "ictrp-csv"
    return None


def split(data: bytes, origin: str, fmt: str) -> Iterator[RawItem]:
    """One RawItem per trial record; a record that cannot be cut out carries ``error``."""
    if fmt == "ictrp-xml":
        yield from _split_xml(data, origin)
    elif fmt == "ictrp-csv":
        yield from _split_csv(data, origin)
    else:
        raise ValueError(f"ictrp cannot split format {fmt!r}")


def _item(payload: bytes, fmt: str, origin: str, n: int, source_id=None, error=None, decoded=None) -> RawItem:
    return RawItem(source=SOURCE, payload=payload, payload_format=fmt, origin=f"{origin}#{n}",
                   source_id=source_id, error=error, decoded=decoded)


def _split_xml(data: bytes, origin: str) -> Iterator[RawItem]:
    n = 0
    m = _XML_OPEN.search(data)
    if m is None and _XML_ROOT not in data:
        yield _item(data[:4096], "ictrp-xml", origin, 0, error="not an ICTRP XML export (no <Trial> element)")
        return
    while m is not None:
        n += 1
        nxt = _XML_OPEN.search(data, m.end())
        close = data.find(_XML_CLOSE, m.end())
        if close == -1 or (nxt is not None and nxt.start() < close):
            end = nxt.start() if nxt is not None else len(data)
            yield _item(data[m.start():end], "ictrp-xml", origin, n, error="unterminated <Trial> element")
            m = nxt
            continue
        payload = data[m.start():close + len(_XML_CLOSE)]
        try:
            obj = decode(payload, "ictrp-xml")
            tid = record_id(obj)
            if tid is None:
                raise RecordError("<Trial> without TrialID")
            yield _item(payload, "ictrp-xml", origin, n, source_id=_trial_id_text(obj), decoded=obj)
        except RecordError as exc:
            yield _item(payload, "ictrp-xml", origin, n, error=str(exc))
        m = _XML_OPEN.search(data, close)


def _protect_cr(text: str) -> tuple[str, str]:
    """Bare CRs inside unquoted cells (R's write.csv leaves them) must not end a CSV record.

    In a file whose records end with LF every CR is data; with CRLF endings a CR not followed by
    LF is. Such CRs are swapped for a sentinel the csv reader ignores and swapped back per cell.
    """
    sentinel = next(c for c in ("\ufdd0", "\ufdd1", "\ufdd2", "\x00") if c not in text)
    first_nl = text.find("\n")
    crlf = first_nl > 0 and text[first_nl - 1] == "\r"
    return (re.sub(r"\r(?!\n)", sentinel, text) if crlf else text.replace("\r", sentinel)), sentinel


def _split_csv(data: bytes, origin: str) -> Iterator[RawItem]:
    if data.startswith(_BOM):
        data = data[len(_BOM):]
    text, sentinel = _protect_cr(data.decode("utf-8", errors="surrogateescape"))
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    reader = csv.reader(io.StringIO(text, newline=""))
    columns: tuple[str, ...] = FULL_EXPORT_COLUMNS
    layout = "full-export"
    n = 0
    first = True
    try:
        for values in reader:
            values = [v.replace(sentinel, "\r") for v in values]
            if first and _is_header(values):
                first = False
                columns = _dedupe([v.strip() for v in values])
                layout = ("covid-export" if tuple(columns) == COVID_EXPORT_COLUMNS else
                          "full-export" if tuple(columns) == FULL_EXPORT_COLUMNS else "header")
                continue
            if not any(v.strip() for v in values):
                continue
            first = False
            n += 1
            yield _csv_item(values, columns, layout, origin, n)
    except csv.Error as exc:
        yield _item(b"", "ictrp-csv", origin, n + 1, error=f"CSV syntax error near line {reader.line_num}: {exc}")


def _is_header(values: list[str]) -> bool:
    return any(canonical_key(v) == "trial_id" for v in values)


def _dedupe(columns: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for c in columns:
        seen[c] = seen.get(c, 0) + 1
        out.append(c if seen[c] == 1 else f"{c}#{seen[c]}")
    return out


def _csv_item(values: list[str], columns, layout: str, origin: str, n: int) -> RawItem:
    try:
        if len(values) != len(columns):
            raise RecordError(f"CSV row has {len(values)} columns, the {layout} layout has {len(columns)}")
        cells = dict(zip(columns, values))
        payload = orjson.dumps({"layout": layout, "cells": cells})
    except (RecordError, TypeError, orjson.JSONEncodeError) as exc:
        reason = str(exc) if isinstance(exc, RecordError) else f"CSV row is not valid UTF-8 text ({exc})"
        try:
            raw = orjson.dumps({"layout": layout, "values": values})
        except orjson.JSONEncodeError:
            raw = ",".join(values).encode("utf-8", errors="surrogateescape")
        return _item(raw, "ictrp-csv", origin, n, error=reason)
    obj = {"layout": layout, "cells": cells}
    tid = _trial_id_text(obj)
    if not tid:
        return _item(payload, "ictrp-csv", origin, n, error="CSV row without TrialID")
    return _item(payload, "ictrp-csv", origin, n, source_id=tid, decoded=obj)


# --- decoding ----------------------------------------------------------------------------------

_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)


def decode(payload: bytes, fmt: str) -> dict:
    """Payload -> ``{"layout": ..., "cells": {column: text}}`` (XML: one cell per child element)."""
    if fmt == "ictrp-xml":
        try:
            root = etree.fromstring(payload, _XML_PARSER)
        except etree.XMLSyntaxError as exc:
            raise RecordError(f"invalid ICTRP <Trial> XML: {exc}") from None
        if root.tag != "Trial":
            raise RecordError(f"expected a <Trial> element, got <{root.tag}>")
        cells: dict[str, str] = {}
        for child in root:
            if not isinstance(child.tag, str):
                continue
            value = "".join(child.itertext())
            cells[child.tag] = f"{cells[child.tag]};{value}" if cells.get(child.tag) and value else \
                (value or cells.get(child.tag, ""))
        return {"layout": "xml", "cells": cells}
    if fmt == "ictrp-csv":
        try:
            obj = orjson.loads(payload)
        except orjson.JSONDecodeError as exc:
            raise RecordError(f"invalid ICTRP CSV row JSON: {exc}") from None
        if not isinstance(obj, dict) or not isinstance(obj.get("cells"), dict):
            raise RecordError("ICTRP CSV payload is not {'layout': ..., 'cells': {...}}")
        return obj
    raise RecordError(f"unknown ICTRP payload format {fmt!r}")


def _fields(obj) -> dict[str, str]:
    if not isinstance(obj, dict) or not isinstance(obj.get("cells"), dict):
        raise RecordError("ICTRP record is not {'layout': ..., 'cells': {...}}")
    # record_id, record_version and parse read the same record one after the other: compute once
    last_obj, last_fields = _LAST
    if last_obj is obj:
        return last_fields
    fields = canonical_cells(obj["cells"], str(obj.get("layout")))
    _LAST[:] = [obj, fields]
    return fields


_LAST: list = [None, None]  # (record, its canonical cells); holding the record keeps its id unique


def _trial_id_text(obj) -> str | None:
    try:
        return line(_fields(obj).get("trial_id"))
    except RecordError:
        return None


def record_id(obj) -> str | None:
    """The study_id the record will get (the registry's canonical id), None when it has no TrialID."""
    tid = _trial_id_text(obj)
    return canonical_id(tid) if tid else None


def record_version(obj) -> str | None:
    """ISO date of the record's last refresh at WHO (``Last_Refreshed_on`` / ``last_updated``)."""
    try:
        d, _ = parse_ictrp_date(_fields(obj).get("last_refreshed"), "last_refreshed", strict=False)
    except RecordError:
        return None
    return d.isoformat() if d else None


# --- parsing -----------------------------------------------------------------------------------

def parse(obj, payload_hash: str | None = None) -> StudyRows:
    f = _fields(obj)
    trial_id = line(f.get("trial_id"))
    if not trial_id:
        raise RecordError("ICTRP record without TrialID")
    registry = registry_of(trial_id, line(f.get("source_register")))
    sid = canonical_id(trial_id)
    rows = empty_rows()

    registered, _ = parse_ictrp_date(f.get("date_registration3"), "Date_registration3")
    if registered is None:
        registered, _ = parse_ictrp_date(f.get("date_registration"), "Date_registration")
    start, start_prec = parse_ictrp_date(f.get("date_enrollment"), "Date_enrollement")
    refreshed, _ = parse_ictrp_date(f.get("last_refreshed"), "Last_Refreshed_on")
    completed, _ = parse_ictrp_date(f.get("results_date_completed"), "results_date_completed", strict=False)
    posted, _ = parse_ictrp_date(f.get("results_date_posted"), "results_date_posted", strict=False)

    status_text = line(f.get("recruitment_status"))
    status = vocab.status(status_text)
    phase_text = ictrp_rows.phase_text(f.get("phase"))
    results = (line(f.get("results_yes_no")) or "").lower()
    has_results = True if results in ("yes", "true") else False if results in ("no", "false") else None
    min_age, max_age = line(f.get("agemin")), line(f.get("agemax"))
    min_years, max_years = age_years(min_age), age_years(max_age)
    if max_years == 0:
        max_years = None  # REBEC writes maximum age 0 for "no limit"
    countries = split_values(f.get("countries"))
    if registry == "jprn":
        countries = [c.strip() for v in countries for c in v.split(",") if c.strip()]
    groups = labelled_parts(line(f.get("interventions"))) if registry == "chictr" else None

    rows["studies"].append(make_row(
        "studies", study_id=sid, study_source=registry, study_type=STUDY_TYPE_TRIAL,
        trial_type=trial_type(f.get("study_type")), title=line(f.get("public_title")),
        official_title=line(f.get("scientific_title")), acronym=line(f.get("acronym")),
        sponsor=line(f.get("primary_sponsor")), collaborators=unique(split_values(f.get("secondary_sponsors"))),
        start_date=start, start_date_precision=start_prec, start_date_type=date_type(f.get("type_enrolment")),
        start_year=start.year if start else None, completion_date=completed,
        first_submitted_date=registered, results_first_posted_date=posted, last_update_posted_date=refreshed,
        recruitment_status=status, recruitment_status_original=status_text,
        phase=vocab.phase(re.sub(r"\s+", " ", phase_text)) if phase_text else None, phase_original=phase_text,
        actual_accrual=target_size(f.get("target_size")),
        number_of_arms=len(groups) if groups else None,
        eligibility_criteria=ictrp_rows.eligibility(f.get("inclusion_criteria"), f.get("exclusion_criteria")),
        sex=ictrp_rows.sex(f.get("gender")), minimum_age=min_age, maximum_age=max_age,
        minimum_age_years=min_years, maximum_age_years=max_years,
        countries=unique(c.rstrip("?").strip() for c in countries),
        has_results=has_results, source_version=refreshed.isoformat() if refreshed else None,
        payload_hash=payload_hash,
    ))
    rows["outcomes"].append(make_row("outcomes", study_id=sid, study_type=STUDY_TYPE_TRIAL, overall_status=status,
                                     outcome_type=OUTCOME_TYPE.get(status or ""), has_results=has_results))
    ictrp_rows.add_conditions(sid, f.get("conditions"), rows)
    if groups:
        ictrp_rows.add_groups(sid, groups, group_sizes(f.get("target_size")), rows)
    else:
        ictrp_rows.add_interventions(sid, f.get("interventions"), rows)
    ictrp_rows.add_endpoints(sid, "PRIMARY", f.get("primary_outcome"), rows)
    ictrp_rows.add_endpoints(sid, "SECONDARY", f.get("secondary_outcomes"), rows)
    ictrp_rows.add_secondary_ids(sid, trial_id, f, rows)
    return rows
