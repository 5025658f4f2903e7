"""Local ClinicalTrials.gov files -> RawItems.

Reads what a user downloads: API v2 study JSON (one study per file, or an API page
``{"studies": [...]}``), the website's JSON array download (one study per line), the full
download zip of per-study JSON files, and legacy ``<clinical_study>`` XML — as files, folders
or zips. Each record's bytes are kept exactly as found; what cannot be read becomes a RawItem
with ``error`` set so the loader quarantines it and carries on.
"""
from __future__ import annotations

import datetime as dt
import os
import re
import zipfile
import zlib
from pathlib import Path
from typing import Iterable, Iterator

import orjson

from ..registries.formats import RawItem
from .zipstream import iter_local_headers

SOURCES = ("auto", "ctgov", "ctgov-xml")
_SUFFIXES = (".json", ".xml", ".zip")
_NCT_IN_NAME = re.compile(r"NCT\d{8}")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _id_from_name(name: str) -> str | None:
    m = _NCT_IN_NAME.search(os.path.basename(name))
    return m.group(0) if m else None


def _error(origin: str, reason: str, payload: bytes = b"", fmt: str = "ctgov-json") -> RawItem:
    return RawItem("ctgov", payload, fmt, origin, error=reason, source_id=_id_from_name(origin))


def expand_paths(paths: Iterable[str | os.PathLike]) -> list[Path]:
    """Files named directly, and the .json/.xml/.zip files under named folders (sorted)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in _SUFFIXES))
        elif p.exists():
            out.append(p)
        else:
            raise FileNotFoundError(f"no such file or folder: {p}")
    return out


def iter_local(paths: Iterable[str | os.PathLike], source: str = "auto") -> Iterator[RawItem]:
    if source not in SOURCES:
        raise ValueError(f"--source must be one of {', '.join(SOURCES)}, not {source!r}")
    for path in expand_paths(paths):
        if path.suffix.lower() == ".zip" or zipfile.is_zipfile(path):
            yield from _iter_zip(path, source)
        else:
            try:
                data = path.read_bytes()
            except OSError as exc:
                yield _error(str(path), f"unreadable file: {exc}")
                continue
            yield from items_from_bytes(data, str(path), source)


def _iter_zip(path: Path, source: str) -> Iterator[RawItem]:
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        # no central directory (a download cut short): recover the members that are whole
        yield from _iter_zip_stream(path, source, str(exc))
        return
    with zf:
        for info in zf.infolist():
            if info.is_dir() or not info.filename.lower().endswith((".json", ".xml")):
                continue
            origin = f"{path}!{info.filename}"
            try:
                data = zf.read(info)
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as exc:
                yield _error(origin, f"truncated or corrupt zip member: {exc}")
                continue
            yield from items_from_bytes(data, origin, source)


def _iter_zip_stream(path: Path, source: str, why: str) -> Iterator[RawItem]:
    found = False
    for name, data, err in iter_local_headers(path):
        found = True
        if not name.lower().endswith((".json", ".xml")):
            continue
        origin = f"{path}!{name}"
        if err:
            yield _error(origin, f"truncated or corrupt zip member: {err}")
        else:
            yield from items_from_bytes(data, origin, source)
    if not found:
        yield _error(str(path), f"not a readable zip archive: {why}")


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
