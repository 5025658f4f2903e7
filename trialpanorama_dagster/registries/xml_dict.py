"""Generic XML -> dict helpers shared by the ISRCTN and ChiCTR parsers.

``xml_root`` parses safely (no entities, no network); ``local`` is an element's tag without namespace;
``element_slices`` cuts complete elements out of a document as bytes; ``element_to_obj`` converts an
element the ctrdata way (ISRCTN) and ``element_lists`` to lists per child name (ChiCTR).
"""
from __future__ import annotations

import re
from typing import Any

from lxml import etree

from .common import RecordError


def xml_root(data: bytes) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True,
                             remove_comments=True, remove_pis=True)
    try:
        root = etree.fromstring(bytes(data), parser)
    except etree.XMLSyntaxError as exc:
        raise RecordError(f"malformed XML: {exc}") from None
    if root is None:
        raise RecordError("malformed XML: empty document")
    return root


def local(el) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def element_slices(data: bytes, tag: str) -> list[bytes]:
    """The complete ``<tag …>…</tag>`` elements of a document, as bytes (any namespace prefix)."""
    t = re.escape(tag.encode())
    return re.findall(rb"<(?:[\w.-]+:)?" + t + rb"\b(?:[^>]*[^/>])?>.*?</(?:[\w.-]+:)?" + t + rb"\s*>", data, re.S)


def element_to_obj(el) -> Any:
    kids = [c for c in el if isinstance(c.tag, str)]
    if not kids:
        if not el.text and el.get("value") is not None:
            return " ".join(v for v in (el.get("value"), el.get("unit")) if v)
        return el.text or ""
    out: dict[str, Any] = {f"@{etree.QName(k).localname}": v for k, v in el.attrib.items()}
    repeated: set[str] = set()
    for c in kids:
        key, value = local(c), element_to_obj(c)
        if key not in out:
            out[key] = value
        elif key in repeated:
            out[key].append(value)
        else:
            out[key] = [out[key], value]
            repeated.add(key)
    return out


def element_lists(el) -> dict[str, list]:
    """Child elements by local name, each a list: a nested element as such a dict, a leaf its text ("" when empty)."""
    out: dict[str, list] = {}
    for c in el:
        if isinstance(c.tag, str):
            nested = any(isinstance(k.tag, str) for k in c)
            out.setdefault(local(c), []).append(element_lists(c) if nested else (c.text or ""))
    return out
