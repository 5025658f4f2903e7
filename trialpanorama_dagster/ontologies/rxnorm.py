"""RxNorm RRF: ``RXNCONSO.RRF`` (and optionally ``RXNREL.RRF``) -> one ``rxnorm`` release.

RRF files are pipe-delimited, UTF-8, without header, each line ending in ``|``. RXNCONSO has 18
columns (RXCUI|LAT|TS|LUI|STT|SUI|ISPREF|RXAUI|SAUI|SCUI|SDUI|SAB|TTY|CODE|STR|SRL|SUPPRESS|CVF).
Kept: rows with SAB=RXNORM and SUPPRESS=N -> one concept per RXCUI; its name is the STR chosen by
TTY preference (IN, PIN, MIN, then SCD, SBD, SCDC, SBDC, GPCK, BPCK, BN, SCDF, SBDF, DF, then
anything), stored as the ``preferred`` term like in every other ontology, and that TTY is the
``concept_type`` (a brand: ``BN``); every other STR is a term whose term_type is its TTY (BN, SY,
TMSY, PSN ...). Rows of SAB=ATC and SAB=DRUGBANK (present in the full release) become xrefs
``ATC:<CODE>`` / ``DRUGBANK:<CODE>`` on their RXCUI when that RXCUI is a kept concept. RXNREL
(16 columns, RXCUI1|RXAUI1|STYPE1|REL|RXCUI2|RXAUI2|STYPE2|RELA|RUI|SRUI|SAB|SL|DIR|RG|SUPPRESS|CVF;
RELA reads "RXCUI2 RELA RXCUI1") adds, for SAB=RXNORM rows not suppressed and RELA in
:data:`RELATIONS`, the xref ``RXNORM:<RXCUI1>`` with xref_type RELA on concept RXCUI2
(e.g. brand 153165 Lipitor --tradename_of--> 83367 atorvastatin).
Release: the date of an ``RxNorm_full_MMDDYYYY`` folder/file name (as YYYY-MM-DD), else ``sha256:``
and 12 hex digits of the content hash.
"""
from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

from .model import RXNORM, Concept, OntologyRelease, file_hash

TTY_PREFERENCE = ("IN", "PIN", "MIN", "SCD", "SBD", "SCDC", "SBDC", "GPCK", "BPCK", "BN", "SCDF", "SBDF",
                  "SCDG", "SBDG", "DF", "DFG", "PSN", "SY", "TMSY", "ET")
RELATIONS = frozenset({"has_ingredient", "tradename_of", "has_precise_ingredient", "has_ingredients"})
XREF_SABS = {"ATC": "ATC", "DRUGBANK": "DRUGBANK"}
CONSO_COLUMNS = 18
REL_COLUMNS = 16
_RELEASE = re.compile(r"RxNorm_\w*?_?(\d{2})(\d{2})(\d{4})", re.I)


def load_rxnorm(conso: str | Path, rel_path: str | Path | None = None, source: str | None = None) -> OntologyRelease:
    conso = Path(conso)
    paths = [conso] + ([Path(rel_path)] if rel_path else [])
    rel = OntologyRelease(ontology=RXNORM, release=None, source=source or ",".join(map(str, paths)))
    atoms: dict[str, list[tuple[str, str]]] = defaultdict(list)        # RXCUI -> [(TTY, STR)]
    xrefs: list[tuple[str, str, str]] = []
    counts = defaultdict(int)
    for n, f in _rrf(conso, CONSO_COLUMNS):
        if f is None:
            counts["malformed"] += 1
            continue
        rxcui, sab, tty, code, text, suppress = f[0], f[11], f[12], f[13], f[14], f[16]
        if sab == "RXNORM":
            if suppress == "N":
                atoms[rxcui].append((tty, text))
            else:
                counts[f"suppressed ({suppress})"] += 1
        elif sab in XREF_SABS and code:
            xrefs.append((rxcui, f"{XREF_SABS[sab]}:{code}", sab.lower()))
        else:
            counts["other SAB"] += 1
    rank = {t: i for i, t in enumerate(TTY_PREFERENCE)}
    for rxcui in sorted(atoms, key=_numeric):
        items = list(dict.fromkeys(atoms[rxcui]))
        tty, name = min(items, key=lambda a: (rank.get(a[0], len(rank)), a[1]))
        rel.add(Concept(rxcui, name, tty), [(text, t) for t, text in items if (t, text) != (tty, name)])
    rel.xrefs.extend(sorted(x for x in set(xrefs) if x[0] in atoms))
    counts["xrefs on RXCUIs not kept"] = sum(1 for x in set(xrefs) if x[0] not in atoms)
    if rel_path:
        rel.xrefs.extend(_relations(Path(rel_path), atoms, counts))
    rel.skipped = [f"{n} RXNCONSO/RXNREL rows: {what}" for what, n in sorted(counts.items()) if n]
    rel.content_hash = file_hash(*paths)
    m = next((m for p in paths for part in reversed(p.resolve().parts) if (m := _RELEASE.search(part))), None)
    rel.release = f"{m.group(3)}-{m.group(1)}-{m.group(2)}" if m else f"sha256:{rel.content_hash[:12]}"
    return rel


def _relations(path: Path, atoms: dict, counts: dict) -> list[tuple[str, str, str]]:
    out = set()
    for _, f in _rrf(path, REL_COLUMNS):
        if f is None:
            counts["malformed"] += 1
            continue
        rxcui1, rxcui2, rela, sab, suppress = f[0], f[4], f[7], f[10], f[14]
        if sab != "RXNORM" or rela not in RELATIONS or suppress not in ("", "N"):
            continue
        if rxcui2 in atoms and rxcui1 in atoms:
            out.add((rxcui2, f"RXNORM:{rxcui1}", rela))
        else:
            counts["relations to RXCUIs not kept"] += 1
    return sorted(out)


def _rrf(path: Path, columns: int):
    """(line number, fields) per line; fields None when the line does not have ``columns`` fields."""
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            line = line.rstrip("\r\n")
            if not line:
                continue
            fields = line.split("|")
            if fields and fields[-1] == "":
                fields.pop()                       # the trailing "|"
            yield n, (fields if len(fields) == columns else None)


def _numeric(rxcui: str):
    return (0, int(rxcui), "") if rxcui.isdigit() else (1, 0, rxcui)
