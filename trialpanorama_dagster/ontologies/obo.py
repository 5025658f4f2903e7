"""OBO ontologies (MONDO, DOID, HPO, and OBO fragments such as MONDO's ``hgnc_import.obo``) via pronto.

pronto is always called with ``import_depth=0`` on a cleaned in-memory copy of the file, never on the
file itself, because pronto raises ``KeyError`` on any reference to an id the file does not declare
(slices, single-term MONDO files, ``hgnc_import.obo`` whose genes are ``is_a: SO:0000704``). The
copy is made by :func:`prescan`, which reads the OBO text once and

* drops ``import:`` header lines (never followed: no network);
* drops ``is_a`` / ``relationship`` / ``intersection_of`` / ``union_of`` / ``equivalent_to`` /
  ``disjoint_from`` / ``replaced_by`` / ``consider`` (and Typedef ``inverse_of`` /
  ``transitive_over`` / ``domain`` / ``range``) lines that name an undeclared term or relation (all
  ``intersection_of`` lines of a stanza go together, pronto needs at least two);
* remembers what pronto would lose: dangling ``is_a`` targets (kept as parent ids), every
  ``relationship`` (kept in ``attributes["relationships"]``), xref qualifiers
  (``{source="MONDO:equivalentTo"}`` -> xref_type ``equivalent``; pronto drops qualifiers).

Everything dropped is listed in ``release.skipped``. Concepts get the name, synonyms (term_type =
scope: exact/narrow/broad/related), xrefs normalised to ``PREFIX:ID`` (``MSH:``/``MeSH:`` -> ``MESH:``,
``UMLS_CUI:`` -> ``UMLS:``, ``http://identifiers.org/hgnc/9069`` -> ``HGNC:9069``, other prefixes as
given), ``alt_id`` as xrefs of type ``alt_id``, parents (superclasses at distance 1 plus dangling
``is_a`` ids), the obsolete flag, definition / subsets / replaced_by / relationships in attributes;
HGNC targets of relationships also become xrefs typed with the relation name.
Release: the date in ``data-version:`` (else its text), else ``date:`` as YYYY-MM-DD.
"""
from __future__ import annotations

import io
import re
import warnings
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pronto

from .model import DOID, HPO, MONDO, Concept, OntologyRelease, file_hash

PREFIX_ALIASES = {"MSH": "MESH", "MeSH": "MESH", "Mesh": "MESH", "UMLS_CUI": "UMLS"}
ONTOLOGY_BY_PREFIX = {"MONDO": MONDO, "DOID": DOID, "HP": HPO, "HPO": HPO}
_HGNC_IRI = re.compile(r"https?://identifiers\.org/hgnc/(\d+)")
_TERM_REFS = {"is_a", "union_of", "equivalent_to", "disjoint_from", "replaced_by", "consider"}
_TYPEDEF_REFS = {"inverse_of", "transitive_over"}
_CLASS_REFS = {"domain", "range"}
_SCOPES = {"EXACT": "exact", "NARROW": "narrow", "BROAD": "broad", "RELATED": "related"}
_SYNONYM = re.compile(r'(synonym:\s*"(?:[^"\\]|\\.)*"\s+(?:EXACT|NARROW|BROAD|RELATED))\s+([^\s\[]+)(\s*\[.*)$')


@dataclass
class Prescan:
    header: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    text: str = ""                                        # what pronto is given
    dangling_parents: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    relationships: dict[str, list[tuple[str, str]]] = field(default_factory=lambda: defaultdict(list))
    equivalent: set[tuple[str, str]] = field(default_factory=set)
    replaced_by: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    removed: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))


def load_obo(path: str | Path, ontology: str | None = None, source: str | None = None) -> OntologyRelease:
    """One OBO file -> a release; ``ontology`` overrides the name inferred from the header / ids."""
    path = Path(path)
    scan = prescan(path.read_text(encoding="utf-8"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        onto = pronto.Ontology(io.BytesIO(scan.text.encode("utf-8")), import_depth=0)
        terms = sorted(onto.terms(), key=lambda t: t.id)
    rel = OntologyRelease(ontology=ontology or infer_ontology(scan, [t.id for t in terms], path),
                          release=obo_release(scan.header), source=source or str(path))
    for t in terms:
        raw_id, cid = t.id, normalise_id(t.id)
        attrs: dict = {}
        if t.definition:
            attrs["definition"] = str(t.definition)
        if t.subsets:
            attrs["subsets"] = sorted(t.subsets)
        if scan.replaced_by.get(raw_id):
            attrs["replaced_by"] = [normalise_id(x) for x in scan.replaced_by[raw_id]]
        rels = defaultdict(list)
        for name, target in scan.relationships.get(raw_id, ()):
            rels[name].append(normalise_id(target))
            if normalise_id(target).startswith("HGNC:"):
                rel.xrefs.append((cid, normalise_id(target), name))
        if rels:
            attrs["relationships"] = {k: sorted(set(v)) for k, v in sorted(rels.items())}
        parents = {normalise_id(p.id) for p in t.superclasses(distance=1, with_self=False)}
        parents |= {normalise_id(p) for p in scan.dangling_parents.get(raw_id, ())}
        concept = Concept(cid, t.name or None, "gene" if cid.startswith("HGNC:") else "term",
                          parents=sorted(parents), obsolete=bool(t.obsolete), attributes=attrs or None)
        synonyms = sorted(((s.description, _SCOPES.get(s.scope or "", "related")) for s in t.synonyms),
                          key=lambda x: (x[1] != "exact", x[0]))
        rel.add(concept, synonyms)
        for x in sorted(t.xrefs, key=lambda x: x.id):
            kind = "equivalent" if (raw_id, _unescape(x.id)) in scan.equivalent else "xref"
            rel.xrefs.append((cid, normalise_xref(x.id), kind))
        for alt in sorted(t.alternate_ids):
            rel.xrefs.append((cid, normalise_id(alt), "alt_id"))
    rel.skipped = describe_skipped(scan)
    rel.content_hash = file_hash(path)
    return rel


def prescan(text: str) -> Prescan:
    """Read the OBO text once: header, what pronto cannot take, what it would lose (see module doc)."""
    scan = Prescan()
    stanzas: list[list[str]] = [[]]
    for line in text.splitlines():
        if line.startswith("["):
            stanzas.append([])
        stanzas[-1].append(line)
    terms, typedefs = set(), set()
    for block in stanzas[1:]:
        sid = next((_value(x) for x in block if x.startswith("id:")), None)
        (typedefs if block[0].strip() == "[Typedef]" else terms).add(sid)
    out = []
    for line in stanzas[0]:
        tag, _, value = line.partition(":")
        if tag == "import":
            scan.removed["import"][value.strip()] += 1
            continue
        if tag and value and not line.startswith("!"):
            scan.header[tag.strip()].append(value.strip())
        out.append(line)
    for block in stanzas[1:]:
        out.extend(_clean_stanza(block, terms, typedefs, scan, _declared_synonym_types(scan.header)))
    scan.text = "\n".join(out) + "\n"
    return scan


def _declared_synonym_types(header: dict[str, list[str]]) -> set[str]:
    return {v.split()[0] for v in header.get("synonymtypedef", ()) if v.split()}


def _clean_stanza(block: list[str], terms: set, typedefs: set, scan: Prescan, syn_types: set) -> list[str]:
    sid = next((_value(x) for x in block if x.startswith("id:")), "")
    is_typedef = block[0].strip() == "[Typedef]"
    kept, drop_intersections = [], False
    for line in block:
        tag = line.partition(":")[0].strip()
        value = _value(line)
        tokens = value.split()
        m = _SYNONYM.match(line) if tag == "synonym" else None
        if m and m.group(2) not in syn_types:        # pronto raises on an undeclared synonym type
            scan.removed["synonym type"][m.group(2)] += 1
            line = m.group(1) + m.group(3)
        if tag == "xref" and tokens and "MONDO:equivalentTo" in line.partition("{")[2]:
            scan.equivalent.add((sid, _unescape(tokens[0])))
        if tag == "relationship" and len(tokens) >= 2:
            scan.relationships[sid].append((tokens[0], tokens[1]))
            if tokens[0] not in typedefs or tokens[1] not in terms:
                scan.removed["relationship"][f"{tokens[0]} {tokens[1]}"] += 1
                continue
        elif tag == "intersection_of" and tokens:
            rel_ok = len(tokens) == 1 or tokens[0] in typedefs
            if not rel_ok or tokens[-1] not in terms:
                scan.removed["intersection_of"][" ".join(tokens[:2])] += 1
                drop_intersections = True
        elif tag in _TERM_REFS and tokens:
            if tag == "replaced_by":
                scan.replaced_by[sid].append(tokens[0])
            if tokens[0] not in (typedefs if is_typedef and tag == "is_a" else terms):
                if tag == "is_a" and not is_typedef:
                    scan.dangling_parents[sid].append(tokens[0])
                scan.removed[tag][tokens[0]] += 1
                continue
        elif is_typedef and tag in _TYPEDEF_REFS | _CLASS_REFS and tokens:
            if tokens[0] not in (typedefs if tag in _TYPEDEF_REFS else terms):
                scan.removed[tag][tokens[0]] += 1
                continue
        kept.append(line)
    if drop_intersections:
        kept = [x for x in kept if x.partition(":")[0].strip() != "intersection_of"]
    return kept


def describe_skipped(scan: Prescan) -> list[str]:
    """One line per kind of thing left out of pronto's input, naming every id and how often."""
    what = {"import": "import: lines not followed (no network)",
            "is_a": "is_a to terms not declared in the file, not given to pronto (kept as parent ids)",
            "relationship": "relationship lines with an undeclared relation or target, not given to pronto "
                            "(kept in attributes.relationships)",
            "synonym type": "synonym types not declared by synonymtypedef, removed from the synonyms "
                            "(synonyms kept)",
            "intersection_of": "intersection_of with undeclared ids, all intersection_of lines of those "
                               "terms not given to pronto"}
    out = []
    for tag, targets in sorted(scan.removed.items()):
        items = ", ".join(f"{k} ({n}x)" if n > 1 else k for k, n in sorted(targets.items()))
        out.append(f"{what.get(tag, f'{tag} lines naming undeclared ids, not given to pronto')}: {items}")
    return out


def normalise_id(term_id: str) -> str:
    """``http://identifiers.org/hgnc/9069`` -> ``HGNC:9069``; anything else as given."""
    m = _HGNC_IRI.fullmatch(term_id.strip())
    return f"HGNC:{m.group(1)}" if m else term_id.strip()


def normalise_xref(xref: str) -> str:
    """``PREFIX:ID`` with MSH/MeSH -> MESH and UMLS_CUI -> UMLS; HGNC IRIs -> ``HGNC:n``."""
    x = normalise_id(_unescape(xref))
    if "://" in x or ":" not in x:
        return x
    prefix, local = x.split(":", 1)
    return f"{PREFIX_ALIASES.get(prefix, prefix)}:{local.strip()}"


def obo_release(header: dict[str, list[str]]) -> str | None:
    version = (header.get("data-version") or [""])[0]
    m = re.search(r"\d{4}-\d{2}-\d{2}", version)
    if m:
        return m.group(0)
    if version:
        return version
    m = re.match(r"(\d{2}):(\d{2}):(\d{4})", (header.get("date") or [""])[0])
    return f"{m.group(3)}-{m.group(2)}-{m.group(1)}" if m else None


def infer_ontology(scan: Prescan, ids: list[str], path: Path) -> str:
    """From the ``ontology:`` header (``doid/subsets/...`` -> doid, ``hp.obo`` -> hpo), else the ids."""
    head = (scan.header.get("ontology") or [""])[0].split("/")[0].removesuffix(".obo").upper()
    if head in ONTOLOGY_BY_PREFIX:
        return ONTOLOGY_BY_PREFIX[head]
    counts: dict[str, int] = defaultdict(int)
    for i in ids:
        counts[i.split(":", 1)[0]] += 1
    for prefix, _ in sorted(counts.items(), key=lambda kv: -kv[1]):
        if prefix in ONTOLOGY_BY_PREFIX:
            return ONTOLOGY_BY_PREFIX[prefix]
    return path.stem.lower()


def _value(line: str) -> str:
    """A tag's value without trailing ``{qualifiers}`` and ``! comment``."""
    value = line.partition(":")[2]
    value = re.sub(r"\s+!.*$", "", value)
    value = re.sub(r"\s*\{[^}]*\}\s*$", "", value)
    return value.strip()


def _unescape(s: str) -> str:
    return re.sub(r"\\(.)", r"\1", s)
