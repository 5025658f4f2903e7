"""Raw items and the payload formats the warehouse knows how to parse.

A ``RawItem`` is one record as received (bytes untouched) with where it came from. A
``PayloadFormat`` says how to read such a payload: decode it, find its id and version, and
turn it into rows. The loader dispatches on ``RawItem.payload_format``.
"""
from __future__ import annotations

import datetime as dt
import importlib
from functools import lru_cache
from types import ModuleType
from dataclasses import dataclass, field
from typing import Any, Callable

import orjson

from .common import RecordError, StudyRows


@dataclass
class RawItem:
    source: str
    payload: bytes
    payload_format: str
    origin: str
    fetched_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))
    # set by a reader that could not even produce a payload (truncated zip member, unreadable file)
    error: str | None = None
    source_id: str | None = None
    # the reader's parsed object, when it had to parse to split a file (saves a second parse)
    decoded: Any = None


@dataclass(frozen=True)
class PayloadFormat:
    name: str
    source: str
    decode: Callable[[bytes], Any]
    study_id: Callable[[Any], str | None]
    version: Callable[[Any], str | None]
    parse: Callable[[Any, str | None], StudyRows]


def _decode_json(payload: bytes) -> Any:
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise RecordError(f"invalid JSON: {exc}") from None


def _ctgov_json() -> PayloadFormat:
    from . import ctgov_v2
    return PayloadFormat("ctgov-json", ctgov_v2.SOURCE, _decode_json, ctgov_v2.study_id_of,
                         ctgov_v2.source_version_of, ctgov_v2.parse_study)


def _ctgov_xml() -> PayloadFormat:
    from . import ctgov_xml
    return PayloadFormat("ctgov-xml", "ctgov", lambda b: b, ctgov_xml.study_id_of_xml,
                         ctgov_xml.source_version_of_xml, ctgov_xml.parse_clinical_study)


_FACTORIES: dict[str, Callable[[], PayloadFormat]] = {"ctgov-json": _ctgov_json, "ctgov-xml": _ctgov_xml}
_CACHE: dict[str, PayloadFormat] = {}

# Registry modules that follow the source-module contract (SOURCE, FORMATS, sniff, split, decode,
# record_id, record_version, parse), in sniffing order. ClinicalTrials.gov is sniffed last.
SOURCE_MODULE_NAMES = ("ictrp", "euctr", "ctis", "isrctn", "chictr")


@lru_cache(maxsize=None)
def source_modules() -> dict[str, ModuleType]:
    return {name: importlib.import_module(f"{__package__}.{name}") for name in SOURCE_MODULE_NAMES}


def module_for_format(fmt: str) -> ModuleType | None:
    return next((m for m in source_modules().values() if fmt in m.FORMATS), None)


def _from_module(fmt: str) -> PayloadFormat | None:
    mod = module_for_format(fmt)
    if mod is None:
        return None
    return PayloadFormat(fmt, mod.SOURCE, lambda payload: mod.decode(payload, fmt), mod.record_id,
                         mod.record_version, mod.parse)


def payload_format(name: str) -> PayloadFormat:
    if name not in _CACHE:
        fmt = _FACTORIES[name]() if name in _FACTORIES else _from_module(name)
        if fmt is None:
            raise KeyError(f"unknown payload format {name!r}; known: {known_formats()}")
        _CACHE[name] = fmt
    return _CACHE[name]


def known_formats() -> list[str]:
    return sorted(set(_FACTORIES) | {f for m in source_modules().values() for f in m.FORMATS})


def all_sources() -> list[str]:
    """Every extract (raw source) the warehouse knows: ClinicalTrials.gov first."""
    return ["ctgov", *source_modules()]


def batched(items, size: int):
    """Lists of up to ``size`` consecutive items (``itertools.batched`` arrives with Python 3.12)."""
    batch: list = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
