"""Local registry files of any source -> RawItems.

Files, folders and zips are read; each file's format is sniffed from its first bytes and name by
the registry modules (WHO ICTRP XML/CSV, EU CTR text/JSON, CTIS JSON, ISRCTN XML/JSON, ChiCTR
XML), falling back to ClinicalTrials.gov (API v2 JSON, JSON array download, legacy XML). A format
can be forced. What cannot be read becomes a RawItem with ``error`` set (quarantined by the loader).
"""
from __future__ import annotations

import os
import zipfile
import zlib
from pathlib import Path
from typing import Iterable, Iterator

from ..registries.formats import RawItem, batched, module_for_format, source_modules
from . import ctgov_local
from .zipstream import iter_local_headers

CTGOV_FORMATS = {"ctgov": "ctgov", "ctgov-json": "ctgov", "ctgov-xml": "ctgov-xml"}
_MEMBER_SUFFIXES = (".json", ".xml", ".csv", ".txt", ".tsv")
_SUFFIXES = (*_MEMBER_SUFFIXES, ".zip")


def expand_paths(paths: Iterable[str | os.PathLike]) -> list[Path]:
    """Files named directly, and the readable files under named folders (sorted)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in _SUFFIXES
                              and not f.name.startswith(".")))
        elif p.exists():
            out.append(p)
        else:
            raise FileNotFoundError(f"no such file or folder: {p}")
    return out


def format_choices() -> list[str]:
    """Values ``trialpanorama load --source`` accepts: auto, a registry, or a payload format."""
    fmts = {f for m in source_modules().values() for f in m.FORMATS} | set(CTGOV_FORMATS)
    return ["auto", *sorted(source_modules()), *sorted(fmts)]


def parse_choice(choice: str) -> tuple[str, str]:
    """A ``--source`` value -> (registry restriction, forced format). ``ctgov`` forces API v2 JSON."""
    if choice not in format_choices():
        raise ValueError(f"--source must be one of {', '.join(format_choices())}, not {choice!r}")
    if choice == "auto":
        return "auto", "auto"
    if choice in CTGOV_FORMATS:
        return "ctgov", CTGOV_FORMATS[choice]
    if choice in source_modules():
        return choice, "auto"
    return module_for_format(choice).SOURCE, choice


def iter_files(paths: Iterable[str | os.PathLike], source: str = "auto", fmt: str = "auto") -> "LocalItems":
    """Every record in the given files, in order. ``source`` keeps one registry's files (others are
    skipped); ``fmt`` forces a payload format instead of sniffing. See ``LocalItems``."""
    return LocalItems(expand_paths(paths), source, fmt)


class LocalItems:
    """Iterate for the RawItems; or ask ``parts()`` for the same items split into picklable parts
    that worker processes read themselves (a zip's members are decompressed and parsed there)."""

    def __init__(self, paths: list[Path], source: str, fmt: str):
        self.paths, self.source, self.fmt, self._it = paths, source, fmt, None

    def __iter__(self) -> "LocalItems":
        return self

    def __next__(self) -> RawItem:
        if self._it is None:
            self._it = (item for path in self.paths for item in _iter_path(path, self.source, self.fmt))
        return next(self._it)

    def parts(self, size: int = 250) -> Iterator["ZipPart | list[RawItem]"]:
        """The same items in the same order: ``ZipPart``s (ranges of a readable zip's members) and
        lists of RawItems read here (plain files, damaged zips)."""
        for path in self.paths:
            if _is_zip(path):
                try:
                    with zipfile.ZipFile(path) as zf:
                        n = len(zf.infolist())
                except (zipfile.BadZipFile, OSError):
                    yield from batched(_iter_path(path, self.source, self.fmt), size)
                    continue
                for a in range(0, n, size):
                    yield ZipPart(str(path), self.source, self.fmt, a, min(a + size, n))
            else:
                yield from batched(_iter_path(path, self.source, self.fmt), size)


class ZipPart:
    """Members ``start``..``stop`` of a zip, read by whoever calls ``read`` (a worker process)."""
    _open: dict[str, zipfile.ZipFile] = {}  # per process: each zip's directory is read once

    def __init__(self, path: str, source: str, fmt: str, start: int, stop: int):
        self.path, self.source, self.fmt, self.start, self.stop = path, source, fmt, start, stop

    def read(self) -> list[RawItem]:
        zf = self._open.get(self.path)
        if zf is None:
            for old in self._open.values():
                old.close()
            self._open.clear()
            zf = self._open[self.path] = zipfile.ZipFile(self.path)
        infos = zf.infolist()[self.start:self.stop]
        return list(_zip_members(zf, Path(self.path), infos, self.source, self.fmt))


def _is_zip(path: Path) -> bool:
    return path.suffix.lower() == ".zip" or zipfile.is_zipfile(path)


def _iter_path(path: Path, source: str, fmt: str) -> Iterator[RawItem]:
    if _is_zip(path):
        yield from _iter_zip(path, source, fmt)
        return
    try:
        data = path.read_bytes()
    except OSError as exc:
        yield _error(source, str(path), f"unreadable file: {exc}")
        return
    yield from items_from_bytes(data, str(path), source, fmt)


def items_from_bytes(data: bytes, origin: str, source: str = "auto", fmt: str = "auto") -> Iterator[RawItem]:
    if fmt in ("ctgov", "ctgov-xml"):
        yield from ctgov_local.items_from_bytes(data, origin, fmt)
        return
    if fmt != "auto":
        yield from module_for_format(fmt).split(data, origin, fmt)
        return
    head = data[:8192].lstrip(b"\xef\xbb\xbf \t\r\n")
    name = os.path.basename(origin.split("!")[-1])
    if head.startswith(b"{") and b'"protocolSection"' in head:  # a ClinicalTrials.gov study: the common case
        if source in ("auto", "ctgov"):
            yield from ctgov_local.items_from_bytes(data, origin, "auto")
        return
    for src, mod in source_modules().items():
        detected = mod.sniff(head, name)
        if detected:
            if source in ("auto", src):
                yield from mod.split(data, origin, detected)
            return
    if name.lower().endswith((".csv", ".tsv", ".txt")):
        if source == "auto":
            yield _error(source, origin, "unrecognised text file: not a WHO ICTRP CSV export nor an EU CTR "
                                         "full-text download")
        return
    if source in ("auto", "ctgov"):
        yield from ctgov_local.items_from_bytes(data, origin, "auto")


def _error(source: str, origin: str, reason: str) -> RawItem:
    return RawItem(source if source != "auto" else "unknown", b"", "unknown", origin, error=reason)


def _iter_zip(path: Path, source: str, fmt: str) -> Iterator[RawItem]:
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        # no central directory (a download cut short): recover the members that arrived whole
        found = False
        for name, data, err in iter_local_headers(path):
            found = True
            origin = f"{path}!{name}"
            if err:
                yield _error(source, origin, f"truncated or corrupt zip member: {err}")
            elif name.lower().endswith(_MEMBER_SUFFIXES):
                yield from items_from_bytes(data, origin, source, fmt)
        if not found:
            yield _error(source, str(path), f"not a readable zip archive: {exc}")
        return
    with zf:
        yield from _zip_members(zf, path, zf.infolist(), source, fmt)


def _zip_members(zf: zipfile.ZipFile, path: Path, infos, source: str, fmt: str) -> Iterator[RawItem]:
    for info in infos:
        if info.is_dir() or not info.filename.lower().endswith(_MEMBER_SUFFIXES):
            continue
        origin = f"{path}!{info.filename}"
        try:
            data = zf.read(info)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as exc:
            yield _error(source, origin, f"truncated or corrupt zip member: {exc}")
            continue
        yield from items_from_bytes(data, origin, source, fmt)
