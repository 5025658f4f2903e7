"""The sysrev-seed collection (Wang et al. 2022, ielab): 40 review topics with seed studies.

``overall_collection.jsonl``: per topic id, link_to_review, title, search_name, Date_from/Date_to,
query (the PubMed Boolean query), seed_studies, included_studies, edited_search.
``included_studies.qrels`` / ``seed_studies.qrels``: TREC qrels ``TOPIC 0 PMID 1`` (the sets the
collection's experiments use; where a topic's qrels and the JSONL disagree, the qrels win and the
JSONL-only PMIDs are reported as skipped). ``candidate_documents.res`` (``search/`` upstream): TREC
run ``TOPIC Q0 PMID RANK SCORE RUN`` of the documents the Boolean query retrieved.
``pmid_titles_included_and_seed.json``: {PMID: title} of included and seed studies.

Candidates (stage ``final``) are the retrieved documents, included when in the included set, plus
included studies the query did not retrieve; seed studies are ``review_seed`` relations. Without
the run file the candidates are the included studies alone.
"""
from __future__ import annotations

from pathlib import Path

from .common import clean, doi_of, existing, guarded, make_article, pmid_list, pmid_of, read_json, read_jsonl, read_text
from .model import FINAL, ReviewBuilder, ReviewFileError, ReviewImport

COLLECTION = "sysrev_seed"
NAMES = {"collection": "overall_collection.jsonl", "included": "included_studies.qrels",
         "seeds": "seed_studies.qrels", "run": "candidate_documents.res",
         "titles": "pmid_titles_included_and_seed.json"}


def read_sysrev_seed(paths) -> ReviewImport:
    """Topics from a collection folder, or from the given files (the collection JSONL among them)."""
    files = collection_files(existing(paths))
    result = ReviewImport(COLLECTION)
    guarded(result, files["collection"], _read, files, result)
    return result


def collection_files(paths: list[Path]) -> dict[str, Path]:
    files: dict[str, Path] = {}
    for p in paths:
        if p.is_dir():
            for kind, name in NAMES.items():
                for cand in (p / name, p / "search" / name):
                    if cand.is_file():
                        files.setdefault(kind, cand)
        elif p.suffix == ".jsonl":
            files["collection"] = p
        elif p.suffix == ".qrels":
            files["seeds" if "seed" in p.name else "included"] = p
        elif p.suffix == ".res":
            files["run"] = p
        elif p.suffix == ".json":
            files["titles"] = p
        else:
            raise ReviewFileError(p, "not a sysrev-seed file (.jsonl, .qrels, .res or the titles .json)")
    if "collection" not in files:
        where = ", ".join(str(p) for p in paths)
        raise ReviewFileError(paths[0], f"no {NAMES['collection']} among {where}")
    return files


def _trec(path: Path | None, fields: int, result: ReviewImport) -> dict[str, list[str]]:
    """PMIDs per topic from a qrels (4 fields, relevant lines only) or run (6 fields) file, in order."""
    out: dict[str, list[str]] = {}
    if path is None:
        return out
    for n, line in enumerate(read_text(path).splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        pmid = pmid_of(parts[2]) if len(parts) == fields else None
        if pmid is None or (fields == 4 and parts[3] not in ("0", "1")):
            result.skip(f"{path.name}:{n}", f"bad line: expected {fields} fields with a PMID third, "
                                            f"got {line.strip()[:80]!r}", path=path)
        elif fields == 6 or parts[3] == "1":
            out.setdefault(parts[0], []).append(pmid)
    dups = sum(len(v) - len(set(v)) for v in out.values())
    if dups:
        result.notes.append(f"{path.name}: {dups} repeated (topic, PMID) lines, each counted once")
    return out


def _review_ids(link: str | None) -> tuple[str | None, str | None]:
    link = (link or "").strip()
    return (pmid_of(link.rstrip("/")) if "pubmed" in link else None), (doi_of(link) if "doi" in link else None)


def _chosen(topic: str, listed, qrels: dict[str, list[str]], qrels_path: Path | None, what: str,
            b: ReviewBuilder, path: Path) -> list[str]:
    """The topic's PMIDs from the qrels when they cover it, else from the JSONL; disagreements reported."""
    from_jsonl = pmid_list(listed, b, what, path, prefix=topic)
    if topic not in qrels:
        return list(dict.fromkeys(from_jsonl))
    chosen = list(dict.fromkeys(qrels[topic]))
    have = set(chosen)
    only_jsonl = [p for p in dict.fromkeys(from_jsonl) if p not in have]
    for pmid in only_jsonl:
        b.skip(f"{topic}:{pmid}", f"not in qrels: {what} of the JSONL lists PMID {pmid}, {qrels_path.name} "
                                  "does not; the qrels are used", path)
    if only_jsonl or set(chosen) - set(from_jsonl):
        b.notes.append(f"{b.review_id}: {what} differ between the JSONL ({len(set(from_jsonl))}) and "
                       f"{qrels_path.name} ({len(chosen)}); the qrels are used")
    return chosen


def _read(files: dict[str, Path], result: ReviewImport) -> None:
    path = files["collection"]
    included_q = _trec(files.get("included"), 4, result)
    seeds_q = _trec(files.get("seeds"), 4, result)
    run = _trec(files.get("run"), 6, result)
    titles = read_json(files["titles"]) if "titles" in files else {}
    if not isinstance(titles, dict):
        raise ReviewFileError(files["titles"], "expected a JSON object {PMID: title}")
    used: set[str] = set()
    for n, topic in read_jsonl(path):
        tid = str(topic.get("id") or "").strip()
        if not tid:
            result.skip(f"{path.name}:{n}", "no id: the topic line has no id", path=path)
            continue
        review_pmid, doi = _review_ids(topic.get("link_to_review"))
        b = ReviewBuilder(COLLECTION, tid, path, title=clean(topic.get("title")),
                          boolean_query=clean(topic.get("query")), review_pmid=review_pmid, doi=doi)
        included = _chosen(tid, topic.get("included_studies"), included_q, files.get("included"),
                           "included_studies", b, path)
        seeds = _chosen(tid, topic.get("seed_studies"), seeds_q, files.get("seeds"), "seed_studies", b, path)
        inc = set(included)
        retrieved = run.get(tid, [])
        got = set(retrieved)
        source = files["included"].name if tid in included_q else "overall_collection.jsonl included_studies"
        for pmid in retrieved:
            b.label(f"PMID:{pmid}", FINAL, pmid in inc, item=pmid, evidence=files["run"].name)
        missed = "not retrieved by the Boolean query" if "run" in files else None
        for pmid in included:
            if pmid not in got:
                b.label(f"PMID:{pmid}", FINAL, True, item=pmid, evidence=f"{source}, {missed}" if missed else source)
        for pmid in seeds:
            b.seed(f"PMID:{pmid}", evidence=files["seeds"].name if tid in seeds_q else "overall_collection.jsonl")
        used |= {aid[5:] for aid in b.candidate_ids() | set(b.seeds)}
        b.finish(result)
    for pmid, title in titles.items():
        pmid = pmid_of(pmid)
        if pmid in used:
            art = make_article(COLLECTION, pmid=pmid, title=title, raw={pmid: title})
            if art:
                result.articles.append(art)
