"""CLEF eHealth TAR (2019 intervention topics): per-topic folders or the derived JSONL.

Folder ``<CDxxxxxx>/``: ``task1_topic.txt`` (Topic, Title, Objective), ``task1_protocol.xml``
(Objectives, TypesofStudies/Participants/Interventions/OutcomeMeasures), ``task2_topic_boolean_query_
and_pids.txt`` (Title, Query, Pids: the candidates the Boolean query retrieved) and TREC qrels lines
``TOPIC 0 PMID LABEL``: ``task2_qrels_{abstract,content}_level.txt`` judge every candidate,
``task1_qrels_{abstract,content}_level.txt`` list the relevant PMIDs of all PubMed (some the query
missed). Abstract-level labels are the ``title_abstract`` stage, content-level the ``final`` stage.

Candidates are the query's PIDs plus the relevant PMIDs it missed (evidence says which). A study
included at content level passed abstract screening, so it is included at both stages.

JSONL (``clef_tar2019_intervention_reviews.jsonl``): one topic per line with the same facts, except
that of the task1 qrels only the content-level PMIDs are there. A folder holding topic folders is
read as folders; its JSONL only when it has none.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from .common import clean, existing, guarded, pmid_list, pmid_of, read_jsonl, read_text, strip_language_banner
from .model import FINAL, TITLE_ABSTRACT, ReviewBuilder, ReviewFileError, ReviewImport

COLLECTION = "clef_tar"
TOPIC_FILE = "task2_topic_boolean_query_and_pids.txt"
_SECTIONS = (("TypesofStudies", "Types of studies"), ("TypesofParticipants", "Types of participants"),
             ("TypesofInterventions", "Types of interventions"),
             ("TypesofOutcomeMeasures", "Types of outcome measures"))


def read_clef_tar(paths) -> ReviewImport:
    result = ReviewImport(COLLECTION)
    for kind, path in sources(existing(paths)):
        part = ReviewImport(COLLECTION)
        guarded(part, path, _read_folder if kind == "folder" else _read_jsonl, path, part)
        result.extend(part)     # a topic read twice (folder and JSONL) is kept once
    return result


def sources(paths: list[Path]) -> list[tuple[str, Path]]:
    out: list[tuple[str, Path]] = []
    for p in paths:
        if p.is_file():
            if p.suffix == ".jsonl":
                out.append(("jsonl", p))
            elif p.parent.joinpath(TOPIC_FILE).is_file():
                out.append(("folder", p.parent))
            else:
                raise ReviewFileError(p, "not a CLEF TAR file (a topic folder's file or a .jsonl)")
        elif (p / TOPIC_FILE).is_file():
            out.append(("folder", p))
        else:
            topics = sorted(d for d in p.iterdir() if (d / TOPIC_FILE).is_file())
            out += [("folder", d) for d in topics] or [("jsonl", f) for f in sorted(p.glob("*.jsonl"))]
            if not topics and not any(p.glob("*.jsonl")):
                raise ReviewFileError(p, f"no CLEF TAR topic here (<topic>/{TOPIC_FILE} or a .jsonl)")
    return list(dict.fromkeys(out))


def _fields(text: str) -> dict[str, str]:
    """``Key: value`` blocks of a topic file (a value runs to the next ``Key:`` line)."""
    out: dict[str, str] = {}
    key = None
    for line in text.splitlines():
        m = re.match(r"^(Topic|Title|Objective|Query|Pids):\s*(.*)$", line.strip())
        if m:
            key = m.group(1)
            out[key] = m.group(2).strip()
        elif key:
            out[key] += "\n" + line.rstrip()
    return {k: v.strip() for k, v in out.items()}


def _protocol(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    try:
        root = ET.fromstring(read_text(path).encode("utf-8"))
    except ET.ParseError as exc:
        raise ReviewFileError(path, f"not well-formed XML: {exc}") from exc
    return {child.tag: " ".join((child.text or "").split()) for child in root}


def criteria_text(sections: dict) -> str | None:
    parts = [f"{label}: {clean(sections[tag])}" for tag, label in _SECTIONS if clean(sections.get(tag))]
    return "\n".join(parts) or None


def _qrels(path: Path, topic: str, b: ReviewBuilder) -> tuple[set[str], set[str]]:
    """(PMIDs labelled 1, PMIDs labelled 0) of one topic; bad lines become skipped items."""
    rel: set[str] = set()
    nonrel: set[str] = set()
    if not path.is_file():
        return rel, nonrel
    for n, line in enumerate(read_text(path).splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 4 or pmid_of(parts[2]) is None or parts[3] not in ("0", "1"):
            b.skip(f"{path.name}:{n}", f"bad qrels line: expected 'TOPIC 0 PMID 0|1', got {line.strip()!r}", path)
        elif parts[0] != topic:
            b.skip(f"{path.name}:{n}", f"other topic: line of {parts[0]} in {topic}'s qrels", path)
        else:
            (rel if parts[3] == "1" else nonrel).add(pmid_of(parts[2]))
    return rel, nonrel


def _read_folder(folder: Path, result: ReviewImport) -> None:
    topic_path = folder / TOPIC_FILE
    t2 = _fields(read_text(topic_path))
    t1 = _fields(read_text(folder / "task1_topic.txt")) if (folder / "task1_topic.txt").is_file() else {}
    topic = t2.get("Topic") or t1.get("Topic") or folder.name
    if "Pids" not in t2:
        raise ReviewFileError(topic_path, "no 'Pids:' section")
    protocol = _protocol(folder / "task1_protocol.xml")
    b = ReviewBuilder(COLLECTION, topic, folder, title=clean(t2.get("Title") or t1.get("Title")),
                      objectives=strip_language_banner(clean(t1.get("Objective") or protocol.get("Objectives"))),
                      selection_criteria=criteria_text(protocol), boolean_query=clean(t2.get("Query")))
    pids: list[str] = []
    for token in t2["Pids"].split():
        pmid = pmid_of(token)
        if pmid:
            pids.append(pmid)
        else:
            b.skip(f"{topic_path.name}:{token}", f"no id: {token!r} in Pids is not a PMID", topic_path)
    abstract, content = set(), set()
    for name, target in (("task1_qrels_abstract_level.txt", abstract), ("task2_qrels_abstract_level.txt", abstract),
                         ("task1_qrels_content_level.txt", content), ("task2_qrels_content_level.txt", content)):
        target |= _qrels(folder / name, topic, b)[0]
    _label(b, pids, abstract, content, missed_evidence="task1 qrels, not retrieved by the Boolean query")
    b.finish(result)


def _label(b: ReviewBuilder, pids: list[str], abstract: set[str], content: set[str], missed_evidence: str) -> None:
    abstract = abstract | content
    retrieved = set(pids)
    missed = sorted(abstract - retrieved, key=int)
    for pmid in list(dict.fromkeys(pids)) + missed:
        evidence = "Boolean query PIDs" if pmid in retrieved else missed_evidence
        b.label(f"PMID:{pmid}", TITLE_ABSTRACT, pmid in abstract, item=pmid, evidence=evidence)
        b.label(f"PMID:{pmid}", FINAL, pmid in content, item=pmid, evidence=evidence)


def _read_jsonl(path: Path, result: ReviewImport) -> None:
    for n, obj in read_jsonl(path):
        topic = obj.get("review_id")
        if not topic:
            result.skip(f"{path.name}:{n}", "no review_id on this line", path=path)
            continue
        sections = obj.get("protocol_sections") or {}
        b = ReviewBuilder(COLLECTION, topic, path, title=clean(obj.get("title")),
                          objectives=strip_language_banner(clean(obj.get("objective") or sections.get("Objectives"))),
                          selection_criteria=criteria_text(sections),
                          boolean_query=clean(obj.get("boolean_query_ovid_medline")))
        pids = pmid_list(obj.get("candidate_pmids_from_boolean_query"), b, "candidate_pmids_from_boolean_query", path)
        abstract = {p for p, v in (obj.get("candidate_labels_abstract_level") or {}).items() if str(v) == "1"}
        content = {p for p, v in (obj.get("candidate_labels_content_level_final") or {}).items() if str(v) == "1"}
        content |= set(pmid_list(obj.get("included_pmids_task1_content_level"), b,
                                  "included_pmids_task1_content_level", path))
        _label(b, pids, {pmid_of(p) for p in abstract} - {None}, {pmid_of(p) for p in content} - {None},
               missed_evidence="task1 content-level qrels, not retrieved by the Boolean query")
        b.finish(result)
