"""TrialMind-SLR (Wang et al. 2024): one JSON per review, keyed by the review's PMID.

``search_screen/<pmid>.json``: title, pmid, date, text {abstract, results, conclusions}, PICO
{P, I, C, O}, PICO_terms, trials [{title, pdf_link, pmid, doi, nctid}] (the studies the review
included), forest_plot_path. ``study_characteristics/<pmid>.csv``: the review's table of included
studies, with a PMID column where the review gave one (cells may hold several PMIDs).

The files list included studies only, so every candidate is ``included`` (stage ``final``); a study
in the characteristics table but not in ``trials`` is included too (evidence says so); a table row
without a PMID is reported as skipped. The PICO statement is the review's selection criteria.
"""
from __future__ import annotations

import re
from pathlib import Path

from .common import (clean, doi_of, existing, guarded, make_article, objective_of, pmid_of, read_csv, read_json,
                     registry_ids, resolve_id)
from .model import FINAL, ReviewBuilder, ReviewFileError, ReviewImport

COLLECTION = "trialmind"
_PICO = (("P", "Population"), ("I", "Intervention"), ("C", "Comparison"), ("O", "Outcome"))


def read_trialmind(paths) -> ReviewImport:
    """Reviews from the dataset folder, its ``search_screen`` folder, or single review JSON files."""
    result = ReviewImport(COLLECTION)
    for path in review_files(existing(paths)):
        part = ReviewImport(COLLECTION)
        guarded(part, path, _read_review, path, part)
        result.extend(part)
    return result


def review_files(paths: list[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        if p.is_file():
            if p.suffix != ".json":
                raise ReviewFileError(p, "not a TrialMind-SLR review file (search_screen/<pmid>.json)")
            out.append(p)
        else:
            folder = p / "search_screen" if (p / "search_screen").is_dir() else p
            found = sorted(folder.glob("*.json"))
            if not found:
                raise ReviewFileError(p, "no TrialMind-SLR review here (search_screen/<pmid>.json)")
            out += found
    return list(dict.fromkeys(out))


def pico_text(pico) -> str | None:
    if not isinstance(pico, dict):
        return clean(pico)
    parts = [f"{label}: {clean(pico[k])}" for k, label in _PICO if clean(pico.get(k))]
    return "\n".join(parts) or None


def _read_review(path: Path, result: ReviewImport) -> None:
    data = read_json(path)
    if not isinstance(data, dict):
        raise ReviewFileError(path, "expected a JSON object")
    key = pmid_of(data.get("pmid")) or path.stem
    abstract = clean(re.sub(r"^\s*Abstract\b[\s:]*", "", str((data.get("text") or {}).get("abstract") or "")))
    b = ReviewBuilder(COLLECTION, key, path, title=clean(data.get("title")), background=abstract,
                      objectives=objective_of(abstract), selection_criteria=pico_text(data.get("PICO")),
                      review_pmid=pmid_of(data.get("pmid")))
    trials = data.get("trials") or []
    if not isinstance(trials, list):
        raise ReviewFileError(path, "'trials' is not a list")
    for i, trial in enumerate(trials):
        where = f"{path.name}:trials[{i}]"
        if not isinstance(trial, dict):
            b.skip(where, "bad record: a trial entry is not an object", path)
            continue
        pmid, doi, nct = pmid_of(trial.get("pmid")), doi_of(trial.get("doi")), clean(trial.get("nctid"))
        aid = resolve_id(pmid, doi)
        if aid is None:
            b.skip(where, f"no id: the trial has no PMID or DOI ({clean(trial.get('title')) or nct or 'untitled'})",
                   path)
            continue
        study = registry_ids(nct, trial.get("title"))
        b.label(aid, FINAL, True, item=where, evidence="search_screen trials", study_id=study[0] if study else None)
        art = make_article(COLLECTION, pmid=pmid, doi=doi, title=trial.get("title"), registry_texts=(nct,), raw=trial)
        if art:
            result.articles.append(art)
    table = path.parent.parent / "study_characteristics" / f"{path.stem}.csv"
    if table.is_file():
        _characteristics(table, b)
    b.finish(result)


def _characteristics(table: Path, b: ReviewBuilder) -> None:
    rows = read_csv(table)
    column = next((c for c in (rows[0] if rows else {}) if c.strip().lower() == "pmid"), None)
    if rows and column is None:
        b.skip(table.name, f"no PMID column: {len(rows)} study rows without ids", table)
        return
    known = b.candidate_ids()
    for line, row in enumerate(rows, 2):
        cell = row.get(column, "")
        pmids = [p for p in (pmid_of(tok) for tok in re.split(r"[,;\s]+", cell) if tok) if p]
        if not pmids:
            first = next((v for v in row.values() if v.strip()), "")
            b.skip(f"{table.name}:{line}", f"no id: study row {first.strip()[:60]!r} has no PMID", table)
            continue
        for pmid in pmids:
            if f"PMID:{pmid}" not in known:
                b.label(f"PMID:{pmid}", FINAL, True, item=f"{table.name}:{line}",
                        evidence="study_characteristics table, not in the trials list")
                known.add(f"PMID:{pmid}")
