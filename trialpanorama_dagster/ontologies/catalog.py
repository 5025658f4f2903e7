"""One entry point for every ontology loader: ``load_ontology(name, paths)``.

``name`` picks the loader (mesh, mondo, doid, hpo, drugbank, atc, rxnorm, hgnc); ``paths`` are the
files to read, several files merging into one release (see :func:`merge_releases`); without
``paths`` the embedded default files under ``trialpanorama_dagster/data/ontologies/`` are read
(:data:`EMBEDDED`, provenance and licences in that folder's ``PROVENANCE.md``). ATC has no embedded
default (the scraped WHO ATC/DDD CSV is non-commercial), nor have RxNorm (UMLS licence) and HGNC
(MONDO's embedded ``hgnc_import.obo`` gives the MONDO release its genes). Files by suffix:

* mesh: ``.xml`` / ``.xml.gz`` (descriptor and SCR XML, read together) and ``.nt`` / ``.nt.gz``
  (RDF, read together); XML first when both are given;
* mondo / doid / hpo: ``.obo`` (and hgnc may be given an ``.obo`` such as ``hgnc_import.obo``);
* drugbank: ``.csv`` or its ``.zip``; atc: ``.csv``; hgnc: ``.txt`` / ``.tsv``;
* rxnorm: ``RXNCONSO.RRF`` (+ optional ``RXNREL.RRF``) or the folder holding them.

``content_hash`` is :func:`model.file_hash` over all files read; a release the files do not state
becomes ``sha256:`` + 12 hex digits of it. A missing or unreadable path raises
:class:`OntologyFileError`, a file the loader cannot parse :class:`OntologyLoadError`; both name
the ontology and the path.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

from . import atc, drugbank, hgnc, mesh_rdf, mesh_xml, obo, rxnorm
from .model import ATC, DOID, DRUGBANK, HGNC, HPO, MESH, MONDO, RXNORM, OntologyRelease, file_hash

DATA = Path(__file__).resolve().parents[1] / "data" / "ontologies"
EMBEDDED: dict[str, list[Path]] = {
    MESH: [DATA / "mesh" / f for f in ("desc-samples.xml", "supp-samples.xml", "mesh_rdf_subset.nt",
                                       "cns-disease-2014AB.nt")],
    MONDO: [DATA / "obo" / f for f in ("mondo_sample_mappings_oak.obo", "mondo_term_MONDO_0016198.obo",
                                       "mondo_hgnc_import.obo")],
    DOID: [DATA / "obo" / f for f in ("doid_DO_CFDE_slim.obo", "doid_DO_childhood_cancer_slim.obo")],
    HPO: [DATA / "obo" / "hp_slice_pronto.obo"],
    DRUGBANK: [DATA / "drugbank" / "drugbank_vocabulary_subset.csv"],
}
ONTOLOGIES: tuple[str, ...] = tuple(EMBEDDED)
ALL_ONTOLOGIES: tuple[str, ...] = (MESH, MONDO, DOID, HPO, DRUGBANK, ATC, RXNORM, HGNC)
_ALIASES = {"hp": HPO, "do": DOID, "disease_ontology": DOID}


class OntologyFileError(OSError):
    """A configured ontology file is missing or cannot be read."""


class OntologyLoadError(ValueError):
    """An ontology file was read but could not be parsed."""


def load_ontology(name: str, paths: Sequence[str | Path] | None = None) -> OntologyRelease:
    """Load ontology ``name`` from ``paths`` (default: the embedded files) into one release."""
    key = _ALIASES.get(name.strip().lower(), name.strip().lower())
    if key not in ALL_ONTOLOGIES:
        raise ValueError(f"unknown ontology {name!r}; known: {', '.join(ALL_ONTOLOGIES)}")
    embedded = paths is None
    if embedded:
        if key not in EMBEDDED:
            raise OntologyFileError(f"ontology {key!r} has no embedded default file; configure a path "
                                    f"({'non-commercial WHO ATC/DDD licence' if key == ATC else 'licence/size'})")
        paths = EMBEDDED[key]
    files = _check_paths(key, [Path(p) for p in paths])
    try:
        rel = _LOADERS[key](key, files)
    except OntologyFileError:
        raise
    except Exception as exc:     # lxml, pronto/fastobo, rdflib, csv, unicode: name the files
        raise OntologyLoadError(f"ontology {key!r}: could not load {', '.join(map(str, files))}: "
                                f"{type(exc).__name__}: {exc}") from exc
    rel.ontology = key
    rel.source = f"embedded:{key}" if embedded else ",".join(str(p) for p in files)
    rel.content_hash = file_hash(*files)
    if not rel.release:
        rel.release = f"sha256:{rel.content_hash[:12]}"
    return rel


def merge_releases(ontology: str, parts: list[tuple[Path | str, OntologyRelease]]) -> OntologyRelease:
    """Several files' releases as one: a concept id seen again keeps its first declaration (later
    files add terms and xrefs only); terms/xrefs deduplicated in order; the distinct releases joined
    with ``"; "`` (a file stating none counts as ``sha256:`` + 12 hex of its content); each
    ``skipped`` line prefixed with its file name when there are several files."""
    if len(parts) == 1:
        return parts[0][1]
    out = OntologyRelease(ontology=ontology, release=None, source=",".join(str(p) for p, _ in parts))
    seen: set[str] = set()
    releases: list[str] = []
    for label, rel in parts:
        for c in rel.concepts:
            if c.concept_id not in seen:
                seen.add(c.concept_id)
                out.concepts.append(c)
        out.terms.extend(rel.terms)
        out.xrefs.extend(rel.xrefs)
        out.skipped.extend(f"{Path(label).name}: {s}" for s in rel.skipped)
        stated = rel.release or f"sha256:{(rel.content_hash or file_hash(label))[:12]}"
        if stated not in releases:
            releases.append(stated)
    out.terms = list(dict.fromkeys(out.terms))
    out.xrefs = list(dict.fromkeys(out.xrefs))
    out.release = "; ".join(releases)
    return out


def _check_paths(name: str, paths: list[Path]) -> list[Path]:
    if not paths:
        raise OntologyFileError(f"ontology {name!r}: no files given")
    out = []
    for p in paths:
        if name == RXNORM and p.is_dir():
            found = [p / f for f in ("RXNCONSO.RRF", "RXNREL.RRF") if (p / f).is_file()]
            if not found:
                raise OntologyFileError(f"ontology {name!r}: folder {p} holds no RXNCONSO.RRF")
            out.extend(found)
            continue
        if not p.exists():
            raise OntologyFileError(f"ontology {name!r}: configured file {p} does not exist")
        if not p.is_file():
            raise OntologyFileError(f"ontology {name!r}: configured path {p} is not a file")
        if not os.access(p, os.R_OK):
            raise OntologyFileError(f"ontology {name!r}: configured file {p} is not readable")
        out.append(p)
    return out


def _suffix(p: Path) -> str:
    s = p.name.lower()
    return s[:-3].rsplit(".", 1)[-1] if s.endswith(".gz") else p.suffix.lower().lstrip(".")


def _unsupported(name: str, p: Path, expected: str) -> OntologyFileError:
    return OntologyFileError(f"ontology {name!r}: cannot read {p}: expected {expected}")


def _load_mesh(name: str, files: list[Path]) -> OntologyRelease:
    xml = [p for p in files if _suffix(p) == "xml"]
    nt = [p for p in files if _suffix(p) == "nt"]
    for p in files:
        if p not in xml and p not in nt:
            raise _unsupported(name, p, ".xml, .xml.gz, .nt or .nt.gz")
    parts = ([(xml[0], mesh_xml.load_mesh_xml(xml))] if xml else []) + (
        [(nt[0], mesh_rdf.load_mesh_rdf(nt))] if nt else [])
    return merge_releases(name, parts)


def _load_obo(name: str, files: list[Path]) -> OntologyRelease:
    for p in files:
        if _suffix(p) != "obo":
            raise _unsupported(name, p, ".obo")
    return merge_releases(name, [(p, obo.load_obo(p, ontology=name)) for p in files])


def _load_drugbank(name: str, files: list[Path]) -> OntologyRelease:
    for p in files:
        if _suffix(p) not in ("csv", "zip"):
            raise _unsupported(name, p, "the DrugBank vocabulary .csv or its .zip")
    return merge_releases(name, [(p, drugbank.load_drugbank(p)) for p in files])


def _load_atc(name: str, files: list[Path]) -> OntologyRelease:
    for p in files:
        if _suffix(p) != "csv":
            raise _unsupported(name, p, "an ATC .csv (atc_code,atc_name,ddd,uom,adm_r,note)")
    return merge_releases(name, [(p, atc.load_atc(p)) for p in files])


def _load_hgnc(name: str, files: list[Path]) -> OntologyRelease:
    parts = []
    for p in files:
        if _suffix(p) in ("txt", "tsv"):
            parts.append((p, hgnc.load_hgnc(p)))
        elif _suffix(p) == "obo":
            parts.append((p, obo.load_obo(p, ontology=name)))
        else:
            raise _unsupported(name, p, "hgnc_complete_set .txt/.tsv or an .obo")
    return merge_releases(name, parts)


def _load_rxnorm(name: str, files: list[Path]) -> OntologyRelease:
    conso = [p for p in files if p.name.upper().startswith("RXNCONSO")]
    rel = [p for p in files if p.name.upper().startswith("RXNREL")]
    for p in files:
        if p not in conso and p not in rel:
            raise _unsupported(name, p, "RXNCONSO.RRF / RXNREL.RRF or their folder")
    if len(conso) != 1 or len(rel) > 1:
        raise OntologyFileError(f"ontology {name!r}: need one RXNCONSO.RRF (and at most one RXNREL.RRF), "
                                f"got {', '.join(map(str, files))}")
    return rxnorm.load_rxnorm(conso[0], rel[0] if rel else None)


_LOADERS: dict[str, Callable[[str, list[Path]], OntologyRelease]] = {
    MESH: _load_mesh, MONDO: _load_obo, DOID: _load_obo, HPO: _load_obo,
    DRUGBANK: _load_drugbank, ATC: _load_atc, RXNORM: _load_rxnorm, HGNC: _load_hgnc,
}
