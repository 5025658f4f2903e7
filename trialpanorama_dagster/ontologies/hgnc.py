"""HGNC complete set (``hgnc_complete_set.txt``, TSV with header, CC0) -> one ``hgnc`` release.

One concept per ``hgnc_id`` (``HGNC:1100``) whose name is the approved ``symbol``
(``concept_type`` = ``locus_group``, e.g. ``protein-coding gene``, else ``gene``); synonyms:
``alias_symbol`` (term_type ``alias_symbol``), ``prev_symbol`` (``prev_symbol``), the approved long
``name`` (``name``) and ``alias_name`` / ``prev_name`` (same term types). Multi-valued cells are
``|``-separated and may be wrapped in double quotes. xrefs: ``NCBIGene:`` (entrez_id),
``ENSEMBL:`` (ensembl_gene_id), ``UniProtKB:`` (uniprot_ids), ``OMIM:`` (omim_id). Rows whose
``status`` is not ``Approved`` (when the column exists) are marked obsolete.
Release: a date in the file name (``hgnc_complete_set_2026-01-06.txt``), else ``sha256:`` + 12 hex.
"""
from __future__ import annotations

import csv
import re
from pathlib import Path

from .model import HGNC, Concept, OntologyRelease, file_hash

SYNONYM_COLUMNS = ("alias_symbol", "prev_symbol", "name", "alias_name", "prev_name")
XREF_COLUMNS = {"entrez_id": "NCBIGene", "ensembl_gene_id": "ENSEMBL", "uniprot_ids": "UniProtKB", "omim_id": "OMIM"}
ATTRIBUTE_COLUMNS = ("name", "locus_type", "location", "status")
_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})")


def load_hgnc(path: str | Path, source: str | None = None) -> OntologyRelease:
    path = Path(path)
    rel = OntologyRelease(ontology=HGNC, release=None, source=source or str(path))
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        if not {"hgnc_id", "symbol"} <= set(reader.fieldnames or []):
            raise ValueError(f"{path}: not an HGNC complete set TSV (needs hgnc_id and symbol columns)")
        for row in reader:
            hgnc_id = _one(row.get("hgnc_id"))
            if not hgnc_id:
                continue
            if not hgnc_id.startswith("HGNC:"):
                hgnc_id = f"HGNC:{hgnc_id}"
            status = _one(row.get("status"))
            attrs = {k: v for k in ATTRIBUTE_COLUMNS if (v := _one(row.get(k)))}
            concept = Concept(hgnc_id, _one(row.get("symbol")) or None, _one(row.get("locus_group")) or "gene",
                              obsolete=bool(status) and status != "Approved", attributes=attrs or None)
            rel.add(concept, [(v, col) for col in SYNONYM_COLUMNS for v in split_multi(row.get(col))])
            for col, prefix in XREF_COLUMNS.items():
                for v in split_multi(row.get(col)):
                    rel.xrefs.append((hgnc_id, f"{prefix}:{v}", col))
    rel.content_hash = file_hash(path)
    m = _DATE.search(path.name)
    rel.release = m.group(1) if m else f"sha256:{rel.content_hash[:12]}"
    return rel


def split_multi(cell: str | None) -> list[str]:
    cell = _one(cell)
    return list(dict.fromkeys(v.strip() for v in cell.split("|") if v.strip())) if cell else []


def _one(cell: str | None) -> str:
    cell = (cell or "").strip()
    if len(cell) >= 2 and cell[0] == cell[-1] == '"':
        cell = cell[1:-1].strip()
    return cell
