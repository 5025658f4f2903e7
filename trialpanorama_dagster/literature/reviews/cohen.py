"""Cohen et al. 2006 (DERP drug class reviews) as kept by SYNERGY: one CSV per drug class.

``<SynergyKey>__Cohen_<Class>_titles_abstracts.csv`` (or the upstream ``<Class>.csv``): record_id,
pubmedID, title, authors, abstract, year, label_included (final, full-text inclusion),
label_abstract_screening (title/abstract inclusion). Beside it, optionally: ``<SynergyKey>_ids.csv``
(pmid, doi, openalex_id as URLs), ``reviews.json`` (per CSV: key, topic, eligibility criteria,
publication DOI, expected counts), ``synergy_datasets.toml`` (criteria and ``compose.py <Class>
--name <key>``) and ``Cohen_2006_<Class>_metadata.json``. The review id is ``cohen:<Class>``.
"""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

from .common import (clean, csv_header, doi_of, existing, guarded, make_article, pmid_of, read_csv, read_json,
                     read_text, registry_ids, year_of)
from .model import FINAL, TITLE_ABSTRACT, ReviewBuilder, ReviewFileError, ReviewImport

COLLECTION = "cohen"
REQUIRED = ("pubmedID", "label_included")
_NAME = re.compile(r"^(?:(?P<key>.+?)__)?(?:Cohen_)?(?P<cls>[^_]+?)(?:_titles_abstracts)?\.csv$")


def read_cohen(paths) -> ReviewImport:
    """Reviews from Cohen CSVs: the files themselves or the folders holding them."""
    result = ReviewImport(COLLECTION)
    for path in record_files(existing(paths)):
        guarded(result, path, _read_review, path, result)
    return result


def is_record_file(path: Path) -> bool:
    return path.suffix.lower() == ".csv" and all(c in csv_header(path) for c in REQUIRED)


def record_files(paths: list[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        if p.is_file():
            if not is_record_file(p):
                raise ReviewFileError(p, f"not a Cohen records CSV (needs columns {', '.join(REQUIRED)})")
            out.append(p)
        else:
            found = sorted(f for f in p.glob("*.csv") if is_record_file(f))
            if not found:
                raise ReviewFileError(p, "no Cohen records CSV here (*_titles_abstracts.csv)")
            out += found
    return list(dict.fromkeys(out))


def _folder_metadata(folder: Path) -> tuple[dict[str, dict], dict[str, dict]]:
    """reviews.json entries by records file, and synergy_datasets.toml datasets by key."""
    by_file: dict[str, dict] = {}
    if (folder / "reviews.json").is_file():
        data = read_json(folder / "reviews.json")
        for entry in data if isinstance(data, list) else []:
            if isinstance(entry, dict) and entry.get("records_file"):
                by_file[entry["records_file"]] = entry
    by_key: dict[str, dict] = {}
    toml_path = folder / "synergy_datasets.toml"
    if toml_path.is_file():
        try:
            datasets = tomllib.loads(read_text(toml_path)).get("datasets", [])
        except tomllib.TOMLDecodeError as exc:
            raise ReviewFileError(toml_path, f"not valid TOML: {exc}") from exc
        for d in datasets:
            compose = str((d.get("scripts") or {}).get("compose", ""))
            m = re.match(r"compose\.py\s+(\S+)", compose)
            d = {**d, "drug_class": m.group(1) if m else None}
            by_key[d.get("key", "")] = d
            if m:
                by_key.setdefault(f"class:{m.group(1)}", d)
    return by_file, by_key


def _read_review(path: Path, result: ReviewImport) -> None:
    rows = read_csv(path, required=REQUIRED)
    by_file, by_key = _folder_metadata(path.parent)
    m = _NAME.match(path.name)
    entry = by_file.get(path.name, {})
    drug_class = m.group("cls") if m else path.stem
    key = entry.get("key") or (m.group("key") if m else None)
    dataset = by_key.get(key or "") or by_key.get(f"class:{drug_class}") or {}
    key = key or dataset.get("key")
    meta_path = path.parent / f"Cohen_2006_{drug_class}_metadata.json"
    meta = read_json(meta_path) if meta_path.is_file() else {}
    publication = dataset.get("publication") or {}
    b = ReviewBuilder(COLLECTION, drug_class, path,
                      title=clean(entry.get("topic")) or f"{meta.get('topic') or drug_class} "
                                                          "(Cohen 2006 drug class review)",
                      selection_criteria=clean(entry.get("eligibility_criteria")
                                               or publication.get("eligibility_criteria")),
                      doi=doi_of(entry.get("publication_doi") or publication.get("doi")))
    dois = _dois(path.parent / f"{key}_ids.csv") if key else {}
    has_abstract_level = "label_abstract_screening" in rows[0] if rows else False
    articles = []
    for line, row in enumerate(rows, 2):
        where = f"{path.name}:{line}"
        pmid = pmid_of(row.get("pubmedID"))
        if pmid is None:
            b.skip(where, f"no id: pubmedID {row.get('pubmedID', '')!r} is not a PMID", path)
            continue
        final = row.get("label_included", "").strip()
        screening = row.get("label_abstract_screening", "").strip() if has_abstract_level else final
        if final not in ("0", "1") or screening not in ("0", "1"):
            b.skip(where, f"bad label: label_included {final!r}, label_abstract_screening {screening!r}", path)
            continue
        aid = f"PMID:{pmid}"
        ids = registry_ids(row.get("title"), row.get("abstract"))
        study_id = ids[0] if ids else None
        if has_abstract_level:
            b.label(aid, TITLE_ABSTRACT, screening == "1", item=where, study_id=study_id,
                    evidence="label_abstract_screening")
        b.label(aid, FINAL, final == "1", item=where, study_id=study_id, evidence="label_included")
        art = make_article(COLLECTION, pmid=pmid, doi=dois.get(pmid), title=row.get("title"),
                           abstract=row.get("abstract"), year=year_of(row.get("year")), raw=row)
        if art:
            articles.append(art)
    _check(b, entry)
    b.finish(result)
    result.articles += articles


def _dois(ids_path: Path) -> dict[str, str]:
    if not ids_path.is_file():
        return {}
    out = {}
    for row in read_csv(ids_path, required=("pmid",)):
        pmid, doi = pmid_of(row.get("pmid")), doi_of(row.get("doi"))
        if pmid and doi:
            out[pmid] = doi
    return out


def _check(b: ReviewBuilder, entry: dict) -> None:
    got = {"n_records": len(b.candidate_ids()),
           "n_included_title_abstract": len({a for (a, s), lab in b.labels.items()
                                             if s == TITLE_ABSTRACT and lab.label == "included"}),
           "n_included_final": len({a for (a, s), lab in b.labels.items() if s == FINAL and lab.label == "included"})}
    for k, n in got.items():
        if isinstance(entry.get(k), int) and entry[k] != n:
            b.notes.append(f"{b.review_id}: reviews.json says {k} = {entry[k]}, the CSV gives {n}")
