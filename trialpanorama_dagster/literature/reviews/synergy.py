"""SYNERGY release layout: one folder per review.

``<Name>/labels.csv`` (openalex_id, doi, pmid, label_included; ids as URLs) is the candidate list and
its final inclusion label; ``records.jsonl`` (the OpenAlex works flattened: openalex_id, doi, pmid,
title, abstract, publication_year, type) gives the text; ``review.json`` the review (review_title,
review_abstract, eligibility_criteria, review_pmid, review_doi); ``metadata.json`` the expected
counts; ``CITATION.txt`` the citation. A candidate's id is the PMID of labels.csv, else that of the
record, else the DOI, else the OpenAlex id.
"""
from __future__ import annotations

import re
from pathlib import Path

from .common import (clean, doi_of, existing, guarded, make_article, objective_of, openalex_of, pmid_of,
                     read_csv, read_json, read_jsonl, read_text, registry_ids, resolve_id, year_of)
from .model import FINAL, ReviewBuilder, ReviewFileError, ReviewImport

COLLECTION = "synergy"
FILES = ("labels.csv", "records.jsonl", "review.json", "metadata.json", "CITATION.txt")


def read_synergy(paths) -> ReviewImport:
    """Reviews from SYNERGY folders: a review's folder, a folder of review folders, or files of one."""
    result = ReviewImport(COLLECTION)
    for folder in review_folders(existing(paths)):
        guarded(result, folder, _read_review, folder, result)
    return result


def review_folders(paths: list[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        if p.is_file():
            if p.name not in FILES:
                raise ReviewFileError(p, f"not a SYNERGY review file (one of {', '.join(FILES)})")
            out.append(p.parent)
        elif (p / "labels.csv").is_file():
            out.append(p)
        else:
            subs = sorted(d for d in p.iterdir() if d.is_dir() and (d / "labels.csv").is_file())
            if not subs:
                raise ReviewFileError(p, "no SYNERGY review here (expected <Name>/labels.csv)")
            out += subs
    return list(dict.fromkeys(out))


def _optional_json(path: Path) -> dict:
    if not path.is_file():
        return {}
    data = read_json(path)
    if not isinstance(data, dict):
        raise ReviewFileError(path, "expected a JSON object")
    return data


def _citation_title(folder: Path) -> str | None:
    path = folder / "CITATION.txt"
    if not path.is_file():
        return None
    m = re.search(r"\(\d{4}[a-z]?\)\.\s*(.+?[.?!])\s", read_text(path))
    return clean(m.group(1).rstrip(".")) if m else None


def _read_review(folder: Path, result: ReviewImport) -> None:
    labels_path = folder / "labels.csv"
    labels = read_csv(labels_path, required=("openalex_id", "label_included"))
    records: dict[str, dict] = {}
    if (folder / "records.jsonl").is_file():
        for _, obj in read_jsonl(folder / "records.jsonl"):
            oa = openalex_of(obj.get("openalex_id"))
            if oa:
                records[oa] = obj
    review = _optional_json(folder / "review.json")
    metadata = _optional_json(folder / "metadata.json")
    key = review.get("key") or metadata.get("key") or folder.name
    abstract = clean(review.get("review_abstract"))
    b = ReviewBuilder(COLLECTION, key, folder,
                      title=clean(review.get("review_title")) or _citation_title(folder),
                      background=abstract, objectives=objective_of(abstract),
                      selection_criteria=clean(review.get("eligibility_criteria")),
                      review_pmid=pmid_of(review.get("review_pmid")),
                      doi=doi_of(review.get("review_doi") or (metadata.get("publication") or {}).get("doi")))
    articles = []
    for line, row in enumerate(labels, 2):
        where = f"{labels_path.name}:{line}"
        label = row.get("label_included", "").strip()
        if label not in ("0", "1"):
            b.skip(where, f"bad label: label_included {label!r} is neither 0 nor 1", labels_path)
            continue
        oa = openalex_of(row.get("openalex_id"))
        rec = records.get(oa, {}) if oa else {}
        pmid, rec_pmid = pmid_of(row.get("pmid")), pmid_of(rec.get("pmid"))
        if pmid and rec_pmid and pmid != rec_pmid:
            b.notes.append(f"{b.review_id}: {oa} has PMID {pmid} in labels.csv but {rec_pmid} in records.jsonl; "
                           "labels.csv kept")
        pmid = pmid or rec_pmid
        doi = doi_of(row.get("doi")) or doi_of(rec.get("doi"))
        aid = resolve_id(pmid, doi, oa)
        if aid is None:
            b.skip(where, "no id: the row has no PMID, DOI or OpenAlex id", labels_path)
            continue
        study_ids = registry_ids(rec.get("title"), rec.get("abstract"))
        b.label(aid, FINAL, label == "1", item=oa or where, evidence="labels.csv label_included",
                study_id=study_ids[0] if study_ids else None)
        art = make_article(COLLECTION, pmid=pmid, doi=doi, openalex=oa, title=rec.get("title"),
                           abstract=rec.get("abstract"), year=year_of(rec.get("publication_year")), raw=rec)
        if art:
            articles.append(art)
    expected = (metadata.get("data") or {}).get("n_records")
    if isinstance(expected, int) and expected != len(labels):
        b.notes.append(f"{b.review_id}: metadata.json says {expected} records, labels.csv has {len(labels)}")
    b.finish(result)
    result.articles += articles
