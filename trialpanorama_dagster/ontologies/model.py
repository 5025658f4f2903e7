"""What every ontology loader returns: one release of one ontology as plain rows.

Loaders are pure (a path in, an :class:`OntologyRelease` out); ``ontologies.store`` writes a
release into the warehouse, replacing the previous release of the same ontology.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

# Names of the ontologies as stored in the warehouse's ``ontology`` columns.
MESH = "mesh"
MONDO = "mondo"
DOID = "doid"
HPO = "hpo"
DRUGBANK = "drugbank"
ATC = "atc"
RXNORM = "rxnorm"
HGNC = "hgnc"


@dataclass
class Concept:
    concept_id: str
    name: str | None
    concept_type: str | None = None       # descriptor / scr / term / drug / atc_level_3 / IN ...
    parents: list[str] = field(default_factory=list)
    tree_numbers: list[str] = field(default_factory=list)
    obsolete: bool = False
    attributes: dict | None = None        # stored as JSON text (scope note, CAS, UNII, DDD ...)


@dataclass
class OntologyRelease:
    ontology: str
    release: str | None                   # the release as the file states it (e.g. "2026", "2025-06-03")
    source: str                           # where it was read from (path or "embedded:<name>")
    concepts: list[Concept] = field(default_factory=list)
    # (concept_id, term, term_type): preferred names included, so the linker reads one table
    terms: list[tuple[str, str, str]] = field(default_factory=list)
    # (concept_id, xref as PREFIX:ID, xref_type)
    xrefs: list[tuple[str, str, str | None]] = field(default_factory=list)
    # what was left out and why ("3 dangling parents: SO:0000704 ...", "import: lines not followed")
    skipped: list[str] = field(default_factory=list)
    content_hash: str | None = None

    def add(self, concept: Concept, synonyms: list[tuple[str, str]] = ()) -> None:
        """Add a concept with its preferred name (as a ``preferred`` term) and synonyms."""
        self.concepts.append(concept)
        seen = set()
        if concept.name:
            self.terms.append((concept.concept_id, concept.name, "preferred"))
            seen.add(concept.name)
        for term, kind in synonyms:
            if term and term not in seen:
                seen.add(term)
                self.terms.append((concept.concept_id, term, kind))


def file_hash(*paths: str | Path) -> str:
    """sha256 over the bytes of the given files, in order (the release's content hash)."""
    h = hashlib.sha256()
    for p in paths:
        with open(p, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()
