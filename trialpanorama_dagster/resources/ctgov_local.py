"""ClinicalTrials.gov file contents -> RawItems (``local_files`` walks files, folders and zips).

Reads what a user downloads: API v2 study JSON (one study per file, or an API page
``{"studies": [...]}``), the website's JSON array download (one study per line), the members of
the full-download zip, and legacy ``<clinical_study>`` XML. Each record's bytes are kept exactly
as found; what cannot be read becomes a RawItem with ``error`` set so the loader quarantines it.
"""
from __future__ import annotations

import datetime as dt
import os
import re
from typing import Iterator

import orjson

from ..registries.formats import RawItem

_NCT_IN_NAME = re.compile(r"NCT\d{8}")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _id_from_name(name: str) -> str | None:
    m = _NCT_IN_NAME.search(os.path.basename(name))
    return m.group(0) if m else None


def _error(origin: str, reason: str, payload: bytes = b"", fmt: str = "ctgov-json") -> RawItem:
    return RawItem("ctgov", payload, fmt, origin, error=reason, source_id=_id_from_name(origin))


def items_from_bytes(data: bytes, origin: str, source: str = "auto") -> Iterator[RawItem]:
    """Sniff one file's bytes and yield its records."""
    head = data[:4096].lstrip()
    if head.startswith(b"\xef\xbb\xbf"):
        data = data.lstrip()[3:]
        head = head[3:]
    is_xml = head.startswith(b"<")
    if source == "ctgov-xml" or (source == "auto" and is_xml):
        if b"<clinical_study" not in data[:8192]:
            yield _error(origin, "not a ClinicalTrials.gov <clinical_study> XML document", data, "ctgov-xml")
        else:
            yield RawItem("ctgov", data, "ctgov-xml", origin, _now(), source_id=_id_from_name(origin))
        return
    if head.startswith(b"["):
        yield from _json_array(data, origin)
    elif head.startswith(b"{"):
        yield from _json_object(data, origin)
    elif not head:
        yield _error(origin, "empty file")
    else:
        yield _error(origin, "not JSON or XML (first bytes %r)" % head[:20], data)


def _json_object(data: bytes, origin: str) -> Iterator[RawItem]:
    try:
        obj = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        yield _error(origin, f"invalid JSON: {exc}", data)
        return
    if isinstance(obj, dict) and isinstance(obj.get("studies"), list):  # an API page saved to disk
        for i, study in enumerate(obj["studies"]):
            yield _record(orjson.dumps(study), f"{origin}#studies[{i}]", study)
    elif isinstance(obj, dict) and "FullStudiesResponse" in obj:
        yield _error(origin, "classic API JSON (FullStudiesResponse, retired 2024) is not a supported format", data)
    else:
        yield _record(data, origin, obj)


def _record(payload: bytes, origin: str, decoded=None) -> RawItem:
    return RawItem("ctgov", payload, "ctgov-json", origin, _now(), decoded=decoded)


def _json_array(data: bytes, origin: str) -> Iterator[RawItem]:
    """The website download: ``[\\n{...},\\n{...}\\n]``, one study per line; else any JSON array."""
    lines = data.split(b"\n")
    bodies = [ln.strip().rstrip(b",").rstrip() for ln in lines]
    bodies = [b for b in bodies if b not in (b"", b"[", b"]", b"[]")]
    if bodies and bodies[0].startswith(b"[{"):
        bodies[0] = bodies[0][1:]
    if bodies and bodies[-1].endswith(b"}]"):
        bodies[-1] = bodies[-1][:-1]
    if bodies and all(b.startswith(b"{") and b.endswith(b"}") for b in bodies):
        for n, body in enumerate(bodies, 1):
            yield _record(body, f"{origin}#{n}")
        return
    try:
        arr = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        yield _error(origin, f"invalid JSON array: {exc}", data)
        return
    for i, study in enumerate(arr):
        yield _record(orjson.dumps(study), f"{origin}#{i + 1}", study)
