"""DrugBank open vocabulary (``drugbank vocabulary.csv``, CC0; plain or inside its .zip).

Columns ``DrugBank ID, Accession Numbers, Common name, CAS, UNII, Synonyms, Standard InChI Key``;
multi-valued cells are split on ``" | "``. One concept per DrugBank id (``concept_type`` ``drug``),
the common name as preferred term and every synonym as a ``synonym`` term; xrefs ``CAS:``, ``UNII:``,
``INCHIKEY:`` and the retired/secondary accession numbers (``DB02351``, ``APRD…``, ``BIOD…``,
``BTD…``, ``EXPT…``, ``NUTR…``) as ``DRUGBANK:<accession>`` of type ``accession``, so an old id
read from a registry can be remapped with :func:`remap_accessions`.
Release: a version or date in the file name (``drugbank_vocabulary_5.1.13.csv`` -> ``5.1.13``),
else ``sha256:`` and the first 12 hex digits of the content hash.
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

from .model import DRUGBANK, Concept, OntologyRelease, file_hash

COLUMNS = ("DrugBank ID", "Accession Numbers", "Common name", "CAS", "UNII", "Synonyms", "Standard InChI Key")
_VERSION = re.compile(r"(?<!\d)(\d{4}-\d{2}-\d{2}|\d+[._-]\d+(?:[._-]\d+)*)(?!\d)")


def load_drugbank(path: str | Path, source: str | None = None) -> OntologyRelease:
    path = Path(path)
    rel = OntologyRelease(ontology=DRUGBANK, release=None, source=source or str(path))
    rows = csv.DictReader(io.StringIO(_read_text(path)))
    missing = [c for c in COLUMNS if c not in (rows.fieldnames or [])]
    if missing:
        raise ValueError(f"{path}: not a DrugBank vocabulary CSV, missing columns {missing}")
    for row in rows:
        dbid = (row["DrugBank ID"] or "").strip()
        if not dbid:
            rel.skipped.append("a row without DrugBank ID")
            continue
        cas, unii, inchikey = (_clean(row[c]) for c in ("CAS", "UNII", "Standard InChI Key"))
        attrs = {k: v for k, v in (("cas", cas), ("unii", unii), ("inchikey", inchikey)) if v}
        concept = Concept(dbid, _clean(row["Common name"]) or None, "drug", attributes=attrs or None)
        rel.add(concept, [(s, "synonym") for s in split_multi(row["Synonyms"])])
        for prefix, value in (("CAS", cas), ("UNII", unii), ("INCHIKEY", inchikey)):
            if value:
                rel.xrefs.append((dbid, f"{prefix}:{value}", prefix.lower()))
        for acc in split_multi(row["Accession Numbers"]):
            if acc != dbid:
                rel.xrefs.append((dbid, f"DRUGBANK:{acc}", "accession"))
    rel.content_hash = file_hash(path)
    rel.release = drugbank_release(path, rel.content_hash)
    return rel


def remap_accessions(release: OntologyRelease) -> dict[str, str]:
    """{retired or secondary accession: current DrugBank id}, e.g. ``{"DB02351": "DB00006"}``.

    Current ids map to themselves, so ``remap.get(x, x)`` is safe for any id. An accession listed
    under several drugs maps to the first in id order.
    """
    out = {c.concept_id: c.concept_id for c in release.concepts}
    for cid, xref, kind in sorted(release.xrefs):
        if kind == "accession":
            acc = xref.split(":", 1)[1]
            if acc not in out:
                out[acc] = cid
    return out


def drugbank_release(path: Path, content_hash: str) -> str:
    m = _VERSION.search(path.name)
    if m:
        v = m.group(1)
        return v if re.fullmatch(r"\d{4}-\d{2}-\d{2}", v) else re.sub(r"[_-]", ".", v)
    return f"sha256:{content_hash[:12]}"


def split_multi(cell: str | None) -> list[str]:
    return list(dict.fromkeys(v for v in (_clean(x) for x in (cell or "").split(" | ")) if v))


def _clean(s: str | None) -> str:
    return " ".join(s.split()) if s else ""


def _read_text(path: Path) -> str:
    if path.suffix.lower() == ".zip":
        with zipfile.ZipFile(path) as z:
            names = [n for n in z.namelist() if n.lower().endswith(".csv")]
            if not names:
                raise ValueError(f"{path}: no .csv inside the zip")
            return z.read(names[0]).decode("utf-8-sig")
    return path.read_text(encoding="utf-8-sig")
