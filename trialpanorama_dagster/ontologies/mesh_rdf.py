"""MeSH RDF N-Triples (``mesh.nt`` / ``mesh2026.nt``, plain or .gz) -> one ``mesh`` release.

Two readers feed one builder, so they can only differ in how triples are parsed:

* ``method="rdflib"``: ``rdflib.Graph().parse(format="nt")``, then graph traversal
  (``g.triples((None, p, None))`` for each needed predicate). Exact, but the whole graph lives in
  memory: fine for samples, not for the full release (~15-20 M triples, many GB and many minutes).
* ``method="stream"``: reads the file line by line, takes the predicate IRI out of the raw line with
  two ``str.find`` calls and drops the line unless the predicate is one of :data:`PREDICATES` (about
  half of a real file); for kept lines it uses rdflib's own N-Triples pieces
  (``ntriples.r_literal``, ``unquote``, ``uriquote``: the exact unescaping ``W3CNTriplesParser``
  applies), so terms come out as rdflib makes them. Memory is what the builder keeps (labels of
  descriptors/SCRs, term labels, the concept/term links), not a graph.
* ``method="auto"`` (default) streams when the files together exceed :data:`STREAM_ABOVE_BYTES`
  (a ``.gz`` file counts 8x its size) and uses rdflib below.

Chosen: streaming above 8 MiB (about 70k triples) and rdflib below, because
``benchmarks/bench_mesh_rdf.py`` (synthetic MeSH-shaped N-Triples, 300,022 triples / 35.7 MiB, one
run) measured: rdflib ``Graph.parse`` alone (baseline) 9.03 s wall, 33k triples/s, 420 MB peak RSS;
rdflib parse + traversal + build 9.55 s (1.06x), 455 MB (1.08x); stream 0.99 s (0.11x), 304k
triples/s, 66 MB (0.16x). The rdflib Graph grows with every triple (~1.4 kB each), so the full
release (~15-20 M triples) would need tens of GB; below the threshold rdflib costs little and
parses the complete N-Triples grammar (blank nodes included). The tests check that both
readers give identical releases on the fixtures, and the rdflib path against a SPARQL query.
Strictness of the streaming reader: one triple per line, IRI or literal objects; lines with a
blank-node subject or object are skipped (MeSH has none); the predicate IRI is compared raw
(MeSH predicates carry no escapes); a kept line without the final ``.`` raises ``ValueError``.

What is read: descriptors (meshv:TopicalDescriptor / PublicationType / CheckTag /
GeographicalDescriptor -> concept_type topical / pubtype / check_tag / geographic; a ``D\\d{6}``
subject with an rdfs:label but no type -> ``descriptor``), SCRs (meshv:SCR_Chemical / _Disease /
_Protocol / _Organism -> ``scr`` with ``scr_class``), English rdfs:label as the name (other
languages as terms ``label@<lang>``), meshv:treeNumber, parents = meshv:broaderDescriptor plus the
descriptors holding each parent tree number, preferredConcept/concept -> preferredTerm/term ->
prefLabel/altLabel as ``entry`` terms, scopeNote (preferred concept), pharmacologicalAction,
registryNumber, and for SCRs meshv:preferredMappedTo -> xref ``mapped_to``, meshv:mappedTo ->
``indexing_info`` (a descriptor/qualifier pair ``D005147Q000002`` maps to ``MESH:D005147``).
Release: the year in the file name (``mesh2026.nt``), else ``"<year> (latest DateCreated)"`` from
the latest meshv:dateCreated of a descriptor or SCR (worded as the XML loader words it).
"""
from __future__ import annotations

import gzip
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.plugins.parsers import ntriples as _nt

from .model import MESH, Concept, OntologyRelease, file_hash

STREAM_ABOVE_BYTES = 8 * 2**20
BASE = "http://id.nlm.nih.gov/mesh/"
MESHV = BASE + "vocab#"
PREDICATES = {
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#type": "type",
    "http://www.w3.org/2000/01/rdf-schema#label": "label",
    MESHV + "treeNumber": "tree", MESHV + "broaderDescriptor": "broader",
    MESHV + "preferredConcept": "pconcept", MESHV + "concept": "concept",
    MESHV + "preferredTerm": "term", MESHV + "term": "term",
    MESHV + "prefLabel": "term_label", MESHV + "altLabel": "term_label",
    MESHV + "preferredMappedTo": "mapped_to", MESHV + "mappedTo": "indexing_info",
    MESHV + "scopeNote": "scope_note", MESHV + "pharmacologicalAction": "pa",
    MESHV + "registryNumber": "rn", MESHV + "dateCreated": "created",
}
DESCRIPTOR_TYPES = {"TopicalDescriptor": "topical", "PublicationType": "pubtype", "CheckTag": "check_tag",
                    "GeographicalDescriptor": "geographic"}
SCR_TYPES = {"SCR_Chemical": "chemical", "SCR_Disease": "disease", "SCR_Protocol": "protocol",
             "SCR_Organism": "organism"}
_RECORD = re.compile(r"D\d{6}|C\d{6}(?:\d{3})?")
_DESCRIPTOR_PART = re.compile(r"(D\d+)(?:Q\d+)?")
_NAME_YEAR = re.compile(r"mesh(\d{4})", re.I)


def load_mesh_rdf(paths: Iterable[str | Path], method: str = "auto", source: str | None = None) -> OntologyRelease:
    """Read MeSH N-Triples files into one release; ``method`` is ``auto``, ``rdflib`` or ``stream``."""
    paths = [Path(p) for p in paths]
    if method == "auto":
        size = sum(p.stat().st_size * (8 if p.suffix == ".gz" else 1) for p in paths)
        method = "stream" if size > STREAM_ABOVE_BYTES else "rdflib"
    reader = {"rdflib": rdflib_triples, "stream": stream_triples}.get(method)
    if reader is None:
        raise ValueError(f"unknown MeSH RDF method {method!r} (auto, rdflib or stream)")
    acc = _Accumulator()
    for p in paths:
        for s, key, o, lang in reader(p):
            acc.add(s, key, o, lang)
    rel = acc.build(source or ",".join(map(str, paths)))
    rel.release = next((m.group(1) for p in paths if (m := _NAME_YEAR.search(p.name))), None) or (
        f"{acc.latest_created[:4]} (latest DateCreated)" if acc.latest_created else None)
    rel.content_hash = file_hash(*paths)
    return rel


def rdflib_triples(path: str | Path) -> Iterator[tuple[str, str, str, str | None]]:
    """(subject, predicate key, object, language) of the needed predicates, via an rdflib Graph."""
    g = Graph()
    with _open(path, "rb") as f:
        g.parse(f, format="nt")
    for iri, key in PREDICATES.items():
        for s, _, o in g.triples((None, URIRef(iri), None)):
            if isinstance(s, BNode) or isinstance(o, BNode):
                continue
            yield str(s), key, str(o), (o.language if isinstance(o, Literal) else None)


def stream_triples(path: str | Path) -> Iterator[tuple[str, str, str, str | None]]:
    """The same tuples as :func:`rdflib_triples`, read line by line (see the module docstring)."""
    unquote, uriquote, literal = _nt.unquote, _nt.uriquote, _nt.r_literal
    with _open(path, "rt") as f:
        for n, line in enumerate(f, 1):
            if not line.startswith("<"):
                continue                                  # blank line, comment or blank-node subject
            s_end = line.find(">")
            p_start = line.find("<", s_end + 1)
            p_end = line.find(">", p_start + 1)
            key = PREDICATES.get(line[p_start + 1:p_end])
            if key is None:
                continue
            obj = line[p_end + 1:].strip()
            if not obj.endswith("."):
                raise ValueError(f"{path}:{n}: not an N-Triples line: {line[:120]!r}")
            obj = obj[:-1].rstrip()
            s = uriquote(unquote(line[1:s_end]))
            if obj.startswith("<"):
                yield s, key, uriquote(unquote(obj[1:-1])), None
            elif obj.startswith('"'):
                m = literal.fullmatch(obj)
                if m is None:
                    raise ValueError(f"{path}:{n}: bad literal: {obj[:120]!r}")
                yield s, key, unquote(m.group(1)), m.group(2) or None


class _Accumulator:
    """Keeps what the builder needs, keyed by MeSH local names (D000001, M0000001, T000002)."""

    def __init__(self) -> None:
        self.types: dict[str, str] = {}
        self.labels: dict[str, list[tuple[str, str]]] = defaultdict(list)   # record -> (lang, label)
        self.links: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        self.latest_created = ""

    def add(self, s: str, key: str, o: str, lang: str | None) -> None:
        s = _local(s)
        if key == "type":
            cls = o.rsplit("#", 1)[-1]
            if o.startswith(MESHV) and (cls in DESCRIPTOR_TYPES or cls in SCR_TYPES):
                self.types[s] = cls
        elif key == "label":
            if _RECORD.fullmatch(s):
                self.labels[s].append(((lang or "").lower(), o))
        elif key == "created":
            if _RECORD.fullmatch(s) and o > self.latest_created:
                self.latest_created = o
        elif key in ("term_label", "scope_note"):
            if not lang or lang.lower() == "en":
                self.links[key][s].append(o)
        else:
            self.links[key][s].append(o if key == "rn" else _local(o))

    def build(self, source: str) -> OntologyRelease:
        rel = OntologyRelease(ontology=MESH, release=None, source=source)
        records = sorted(set(self.types) | set(self.labels))
        link = self.links
        tree_owner: dict[str, str] = {}
        for r in records:
            if r.startswith("D"):
                for tn in sorted(link["tree"].get(r, ())):
                    tree_owner.setdefault(tn, r)
        missing: set[str] = set()
        for r in records:
            cls = self.types.get(r)
            labels = self.labels.get(r, [])
            name = next((t for lang, t in labels if lang == "en"), None) or next(
                (t for lang, t in labels if not lang), None)
            pconcepts = link["pconcept"].get(r, [])
            concepts = list(dict.fromkeys(pconcepts + link["concept"].get(r, [])))
            term_ids = set(link["term"].get(r, ()))
            for c in concepts:
                term_ids.update(link["term"].get(c, ()))
            entries = sorted({t for tid in term_ids for t in link["term_label"].get(tid, ())})
            attrs: dict = {}
            notes = [n for c in pconcepts for n in link["scope_note"].get(c, ())]
            if notes:
                attrs["scope_note"] = " ".join(sorted(notes)[0].split())
            if link["pa"].get(r):
                attrs["pharmacological_actions"] = sorted(set(link["pa"][r]))
            numbers = {n for c in concepts for n in link["rn"].get(c, ())} - {"", "0"}
            if numbers:
                attrs["registry_numbers"] = sorted(numbers)
            trees = sorted(set(link["tree"].get(r, ())))
            if r.startswith("C"):
                if cls in SCR_TYPES:
                    attrs["scr_class"] = SCR_TYPES[cls]
                concept = Concept(r, name, "scr", attributes=attrs or None)
                for key in ("mapped_to", "indexing_info"):
                    for d in sorted({m.group(1) for x in link[key].get(r, ()) if (m := _DESCRIPTOR_PART.fullmatch(x))}):
                        rel.xrefs.append((r, f"MESH:{d}", key))
            else:
                parents = set(link["broader"].get(r, ()))
                for tn in trees:
                    if "." in tn:
                        owner = tree_owner.get(tn.rsplit(".", 1)[0])
                        if owner is None:
                            missing.add(tn.rsplit(".", 1)[0])
                        elif owner != r:
                            parents.add(owner)
                concept = Concept(r, name, DESCRIPTOR_TYPES.get(cls or "", "descriptor"), parents=sorted(parents),
                                  tree_numbers=trees, attributes=attrs or None)
            translations = sorted((f"label@{lang}", t) for lang, t in labels if lang not in ("", "en"))
            rel.add(concept, [(t, "entry") for t in entries] + [(t, kind) for kind, t in translations])
        if missing:
            shown = ", ".join(sorted(missing)[:10])
            more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
            rel.skipped.append(f"{len(missing)} parent tree numbers held by no descriptor in these files "
                               f"(no parent recorded for them): {shown}{more}")
        return rel


def _local(iri: str) -> str:
    """``http://id.nlm.nih.gov/mesh/2026/D000001`` -> ``D000001``; other IRIs unchanged."""
    return iri.rsplit("/", 1)[-1] if iri.startswith(BASE) and not iri.startswith(MESHV) else iri


def _open(path: str | Path, mode: str):
    path = Path(path)
    enc = {"encoding": "utf-8"} if "t" in mode else {}
    return gzip.open(path, mode, **enc) if path.suffix == ".gz" else open(path, mode, **enc)
