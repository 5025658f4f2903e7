"""WHO ATC/DDD index as scraped CSV (``atc_code,atc_name,ddd,uom,adm_r,note``; ``NA`` = empty).

WHOCC publishes no bulk file; the scraped CSV (e.g. fabkury/atcd ``WHO ATC-DDD 2026-04-25.csv``)
is under a non-commercial licence, so no copy ships with the package. One concept per code:
``concept_type`` ``atc_level_<n>`` with the level from the code length (1/3/4/5/7 -> 1-5), the
parent = the code's prefix at the previous level (kept even when that code is not in the file;
such codes are listed in ``skipped``), the name as preferred term. A level-5 code repeats once per
DDD route: its rows become one concept with every DDD in ``attributes["ddd"]``
(``[{"ddd": 3.0, "uom": "g", "adm_r": "O", "note": ...}]``). Release: the date in the file name
(``who_atc_ddd_2026-04-25_subset.csv`` -> ``2026-04-25``), else ``sha256:`` + 12 hex digits.
"""
from __future__ import annotations

import csv
import re
from pathlib import Path

from .model import ATC, Concept, OntologyRelease, file_hash

LEVEL_BY_LENGTH = {1: 1, 3: 2, 4: 3, 5: 4, 7: 5}
PREFIX_LENGTH = {2: 1, 3: 3, 4: 4, 5: 5}          # level -> length of the parent code
_CODE = re.compile(r"[A-Z](?:\d\d(?:[A-Z](?:[A-Z](?:\d\d)?)?)?)?")
_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})")


def atc_level(code: str) -> int | None:
    return LEVEL_BY_LENGTH.get(len(code)) if _CODE.fullmatch(code) else None


def atc_parent(code: str) -> str | None:
    level = atc_level(code)
    return code[:PREFIX_LENGTH[level]] if level and level > 1 else None


def load_atc(path: str | Path, source: str | None = None) -> OntologyRelease:
    path = Path(path)
    rel = OntologyRelease(ontology=ATC, release=None, source=source or str(path))
    concepts: dict[str, Concept] = {}
    bad: list[str] = []
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        missing = {"atc_code", "atc_name"} - set(reader.fieldnames or [])
        if missing:
            raise ValueError(f"{path}: not an ATC CSV, missing columns {sorted(missing)}")
        for row in reader:
            row = {k: _na(v) for k, v in row.items() if k}
            code = (row.get("atc_code") or "").upper()
            level = atc_level(code)
            if level is None:
                bad.append(code or "<empty>")
                continue
            c = concepts.get(code)
            if c is None:
                parent = atc_parent(code)
                c = concepts[code] = Concept(code, row.get("atc_name"), f"atc_level_{level}",
                                             parents=[parent] if parent else [], attributes={"level": level})
            elif not c.name and row.get("atc_name"):
                c.name = row["atc_name"]
            if row.get("ddd"):
                dose = {"ddd": _number(row["ddd"]), "uom": row.get("uom"), "adm_r": row.get("adm_r"),
                        "note": row.get("note")}
                dose = {k: v for k, v in dose.items() if v is not None}
                if dose not in c.attributes.setdefault("ddd", []):
                    c.attributes["ddd"].append(dose)
    for c in concepts.values():
        rel.add(c)
    absent = sorted({p for c in concepts.values() for p in c.parents if p not in concepts})
    if absent:
        rel.skipped.append(f"{len(absent)} parent codes not in the file (kept as parent ids): {', '.join(absent)}")
    if bad:
        rel.skipped.append(f"{len(bad)} rows with a code that is not an ATC code: {', '.join(sorted(set(bad))[:20])}")
    rel.content_hash = file_hash(path)
    m = _DATE.search(path.name)
    rel.release = m.group(1) if m else f"sha256:{rel.content_hash[:12]}"
    return rel


def _na(v: str | None) -> str | None:
    v = (v or "").strip()
    return None if v in ("", "NA") else v


def _number(v: str) -> float | str:
    try:
        return float(v)
    except ValueError:
        return v
