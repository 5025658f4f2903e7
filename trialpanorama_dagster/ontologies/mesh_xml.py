"""MeSH descriptor (``desc<YYYY>.xml``) and supplementary concept record (``supp<YYYY>.xml``) XML.

Both files are streamed with ``lxml.etree.iterparse`` (entities not resolved, no network, no DTD
loaded) and every record is cleared once read, so the ~300 MB descriptor file never sits in memory
as a tree. One :class:`OntologyRelease` (ontology ``mesh``) holds what all given files contain:

* descriptors (``D\\d{6}``): name, ``concept_type`` from ``DescriptorClass`` (1 topical, 2 pubtype,
  3 check_tag, 4 geographic), tree numbers, parents = the descriptors holding each tree number's
  parent tree number (a parent tree number no file holds is reported in ``skipped``), every Term
  string of every concept as an ``entry`` term; scope note (preferred concept), pharmacological
  actions and registry numbers in ``attributes``;
* SCRs (``C\\d{6}`` / ``C\\d{9}``, kept as given): ``concept_type`` ``scr``, their terms, the
  ``HeadingMappedToList`` descriptors as xrefs ``MESH:D…`` of type ``mapped_to`` (the leading ``*``
  of a mapped UI stripped, a qualifier dropped) and ``IndexingInformationList`` ones as
  ``indexing_info``.

Release: the year in the file name (``desc2026.xml`` -> ``2026``). The XML itself states no release
(the root carries only ``LanguageCode``), so without such a name the release is the latest
``DateCreated`` year of the records, written as ``"2014 (latest DateCreated)"`` to say so.
"""
from __future__ import annotations

import gzip
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from lxml import etree

from .model import MESH, Concept, OntologyRelease, file_hash

DESCRIPTOR_CLASSES = {"1": "topical", "2": "pubtype", "3": "check_tag", "4": "geographic"}
SCR_CLASSES = {"1": "chemical", "2": "protocol", "3": "disease", "4": "organism"}
_NAME_YEAR = re.compile(r"(?:desc|supp|qual|pa)(\d{4})", re.I)
_MAPPED_UI = re.compile(r"\*?(D\d+)")


def load_mesh_xml(paths: Iterable[str | Path], source: str | None = None) -> OntologyRelease:
    """Read MeSH descriptor and/or SCR XML files (plain or .gz) into one release."""
    paths = [Path(p) for p in paths]
    rel = OntologyRelease(ontology=MESH, release=None, source=source or ",".join(map(str, paths)))
    tree_owner: dict[str, str] = {}
    descriptors: list[Concept] = []
    latest_created = ""
    for path in paths:
        for kind, rec in iter_mesh_records(path):
            latest_created = max(latest_created, rec.pop("date_created", "") or "")
            concept = rec.pop("concept")
            rel.add(concept, [(t, "entry") for t in rec.pop("terms")])
            rel.xrefs.extend(rec.pop("xrefs"))
            if kind == "descriptor":
                descriptors.append(concept)
                for tn in concept.tree_numbers:
                    tree_owner.setdefault(tn, concept.concept_id)
    rel.skipped.extend(_link_parents(descriptors, tree_owner))
    rel.release = mesh_release(paths, latest_created)
    rel.content_hash = file_hash(*paths)
    return rel


def mesh_release(paths: Iterable[Path], latest_created: str = "") -> str | None:
    """The MeSH year from a ``desc2026.xml``-like file name, else the latest DateCreated year."""
    for p in paths:
        m = _NAME_YEAR.search(Path(p).name)
        if m:
            return m.group(1)
    return f"{latest_created[:4]} (latest DateCreated)" if latest_created else None


def iter_mesh_records(path: str | Path) -> Iterator[tuple[str, dict]]:
    """(``"descriptor"`` | ``"scr"``, record dict) for each record of one MeSH XML file."""
    with _open(path) as f:
        ctx = etree.iterparse(f, events=("end",), tag=("DescriptorRecord", "SupplementalRecord"),
                              resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True,
                              remove_comments=True, remove_pis=True)
        for _, el in ctx:
            if el.tag == "DescriptorRecord":
                yield "descriptor", _descriptor(el)
            else:
                yield "scr", _scr(el)
            el.clear()
            while el.getprevious() is not None:   # drop finished siblings from the root too
                del el.getparent()[0]


def _descriptor(el) -> dict:
    ui = _text(el, "DescriptorUI")
    attrs = _concept_attributes(el)
    cls = el.get("DescriptorClass")
    if cls and cls not in DESCRIPTOR_CLASSES:
        attrs["descriptor_class"] = cls
    concept = Concept(concept_id=ui, name=_text(el, "DescriptorName/String") or None,
                      concept_type=DESCRIPTOR_CLASSES.get(cls or "", "descriptor"),
                      tree_numbers=[t for t in (_clean(x.text) for x in el.iterfind("TreeNumberList/TreeNumber")) if t],
                      attributes=attrs or None)
    return {"concept": concept, "terms": _terms(el), "xrefs": [], "date_created": _date(el, "DateCreated")}


def _scr(el) -> dict:
    ui = _text(el, "SupplementalRecordUI")
    attrs = _concept_attributes(el)
    if el.get("SCRClass"):
        attrs["scr_class"] = SCR_CLASSES.get(el.get("SCRClass"), el.get("SCRClass"))
    note = _text(el, "Note")
    if note:
        attrs["note"] = note
    xrefs = []
    for path, kind in (("HeadingMappedToList/HeadingMappedTo", "mapped_to"),
                       ("IndexingInformationList/IndexingInformation", "indexing_info")):
        for ref in el.iterfind(f"{path}/DescriptorReferredTo/DescriptorUI"):
            m = _MAPPED_UI.fullmatch(_clean(ref.text))
            if m:
                xrefs.append((ui, f"MESH:{m.group(1)}", kind))
    concept = Concept(concept_id=ui, name=_text(el, "SupplementalRecordName/String") or None,
                      concept_type="scr", attributes=attrs or None)
    return {"concept": concept, "terms": _terms(el), "xrefs": list(dict.fromkeys(xrefs)),
            "date_created": _date(el, "DateCreated")}


def _concept_attributes(el) -> dict:
    """Scope note of the preferred concept, pharmacological actions, registry numbers."""
    attrs: dict = {}
    for concept in el.iterfind("ConceptList/Concept"):
        if concept.get("PreferredConceptYN") == "Y":
            note = _text(concept, "ScopeNote")
            if note:
                attrs["scope_note"] = note
    actions = [_clean(x.text) for x in el.iterfind(
        "PharmacologicalActionList/PharmacologicalAction/DescriptorReferredTo/DescriptorUI")]
    if actions:
        attrs["pharmacological_actions"] = sorted({a.lstrip("*") for a in actions if a})
    numbers = {_clean(x.text) for x in el.iterfind("ConceptList/Concept/RegistryNumber")}
    numbers |= {_clean(x.text) for x in el.iterfind("ConceptList/Concept/RegistryNumberList/RegistryNumber")}
    numbers -= {"", "0"}
    if numbers:
        attrs["registry_numbers"] = sorted(numbers)
    return attrs


def _terms(el) -> list[str]:
    """Every Term string of every concept, record-preferred first, in file order."""
    out = []
    for term in el.iterfind("ConceptList/Concept/TermList/Term"):
        s = _text(term, "String")
        if s:
            out.append(s)
    return list(dict.fromkeys(out))


def _link_parents(descriptors: list[Concept], tree_owner: dict[str, str]) -> list[str]:
    missing: set[str] = set()
    for c in descriptors:
        parents = []
        for tn in c.tree_numbers:
            if "." not in tn:
                continue                     # top of a tree (C04): its parent is a category, not a descriptor
            parent_tn = tn.rsplit(".", 1)[0]
            owner = tree_owner.get(parent_tn)
            if owner is None:
                missing.add(parent_tn)
            elif owner != c.concept_id:
                parents.append(owner)
        c.parents = list(dict.fromkeys(parents))
    if not missing:
        return []
    shown = ", ".join(sorted(missing)[:10])
    more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
    return [f"{len(missing)} parent tree numbers held by no descriptor in these files "
            f"(no parent recorded for them): {shown}{more}"]


def _date(el, path: str) -> str:
    d = el.find(path)
    if d is None:
        return ""
    y, m, day = (_text(d, k) for k in ("Year", "Month", "Day"))
    return f"{y}-{m or '01'}-{day or '01'}" if y else ""


def _text(el, path: str) -> str:
    found = el.find(path)
    return _clean(found.text) if found is not None else ""


def _clean(s: str | None) -> str:
    return " ".join(s.split()) if s else ""


def _open(path: str | Path):
    path = Path(path)
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")
