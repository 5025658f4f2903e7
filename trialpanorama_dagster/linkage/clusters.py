"""Explainable cross-registry clusters by union-find over registry-id evidence.

Edges (``Evidence``), each with the id that proves it and the field it was read from:

* ``secondary_id`` (0.98): record A lists record B's id (or B's NCT alias, or B's EudraCT /
  UMIN / NTR number when B is the CTIS / jRCT / NL-OMON successor that lists it in turn) in a
  secondary-id field: CT.gov secondaryIdInfos, ICTRP SecondaryIDs/Bridging, ISRCTN externalRefs,
  EUCTR A.5, CTIS eudraCt / nctNumber. Registry id changes (UMIN->jRCT, NTR->NL-OMON,
  EudraCT->CTIS) arrive this way: the successor record names its predecessor.
* ``shared_external_id`` (0.95): A and B both list the same id in secondary-id fields and no
  record in the warehouse owns it (a WHO UTRN, a CCMO number, a EudraCT number without an
  EUCTR record). An id listed by more than ``MAX_SHARED`` records is a programme or master-protocol
  number, not a registration: it links nothing and is counted in the figures.
* ``free_text`` (0.85): A's title / summary / description names B's id. A mention preceded
  (within 60 characters) by "extension", "follow-up", "parent", "previous", "sub-study", "separate",
  "see", "compared", ... names a
  related trial, not the same one: it links nothing and is counted.

Title look-alikes never merge (``titles.review_candidates`` returns them for review).

A cluster's ``confidence`` is its bottleneck: the weakest edge of a maximum spanning tree, i.e.
the weakest link that is needed to hold the members together (1.0 for a singleton).

Primary rule (first criterion that separates the primary from the runner-up is recorded in
``primary_rule``): ``source_priority`` (``SOURCE_PRIORITY``: ctgov > euctr > ctis > isrctn >
anzctr > drks > jprn > chictr > ctri > ... > unknown sources), then ``more_core_fields``
(more non-null core fields), then ``earliest_registration`` (first submitted date, missing last),
then ``smallest_id``; ``singleton`` for one-record clusters.

``cluster_id`` = ``TPC-`` + first 12 hex of sha1(smallest member study_id): it depends on
membership only, so rebuilding with unchanged membership gives the same id.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from ..registries.ids import clean, find_ids, find_ids_with_spans, match_key, normalise_id

CONFIDENCE = {"secondary_id": 0.98, "shared_external_id": 0.95, "free_text": 0.85}
SOURCE_PRIORITY = ("ctgov", "euctr", "ctis", "isrctn", "anzctr", "drks", "jprn", "chictr", "ctri", "cris",
                   "ntr", "irct", "pactr", "rebec", "tctr", "lbctr", "rpcec", "repec", "slctr", "itmctr")
MAX_SHARED = 10
_RANK = {s: i for i, s in enumerate(SOURCE_PRIORITY)}
_RELATED = re.compile(
    r"\b(?:extension|extended|follow[- ]?up|roll[- ]?over|parent|previous(?:ly)?|preceding|core (?:study|trial)|"
    r"feeder|lead[- ]in|sub[- ]?stud(?:y|ies)|ancillary|companion|predecessor|antecedent|OLE|separate|see|"
    r"compar(?:ed|ison|ing))\b", re.I)
_RELATED_WINDOW = 60


@dataclass(slots=True)
class Record:
    """One study as the linkage sees it."""
    study_id: str
    study_source: str
    title: str | None = None
    official_title: str | None = None
    sponsor: str | None = None
    start_date: dt.date | None = None
    registered: dt.date | None = None                      # first submitted / registration date
    secondary_ids: Sequence[tuple[str, str, str | None]] = ()  # (value, field, family hint)
    free_text: Sequence[tuple[str, str]] = ()                # (field, text)
    aliases: Sequence[str] = ()                              # other ids of this very record (NCT aliases)
    core_fields: int = 0                                     # non-null core fields (primary rule)


@dataclass(frozen=True, order=True)
class Evidence:
    study_a: str          # the record that names the id (for shared ids: the smaller study id)
    study_b: str          # the record the id belongs to (for shared ids: the other lister)
    evidence_type: str
    shared_id: str
    field: str
    confidence: float


@dataclass(frozen=True)
class Member:
    study_id: str
    study_source: str
    cluster_id: str
    is_primary: bool
    cluster_size: int
    confidence: float
    primary_rule: str


@dataclass
class ClusterResult:
    members: list[Member]
    evidence: list[tuple[str, Evidence]]          # (cluster_id, evidence)
    review: list = field(default_factory=list)    # titles.ReviewCandidate
    figures: dict = field(default_factory=dict)


def cluster_id_for(member_ids: Iterable[str]) -> str:
    return "TPC-" + hashlib.sha1(min(member_ids).encode()).hexdigest()[:12].upper()


def _own_keys(rec: Record) -> set[str]:
    keys = {rec.study_id}
    for value in (rec.study_id, *rec.aliases):
        rid = normalise_id(value, rec.study_source)
        if rid is not None:
            keys.add(match_key(rid))
        elif value:
            keys.add(value)
    return keys


def _mentions(value: str, hint: str | None):
    found = find_ids(value)
    if not found:
        rid = normalise_id(value, hint)
        found = [rid] if rid else []
    return found


def find_evidence(records: Sequence[Record], figures: Counter) -> list[Evidence]:
    """Every id-based edge between the records, deduplicated and sorted."""
    own = {r.study_id: _own_keys(r) for r in records}
    index: dict[str, list[str]] = defaultdict(list)
    for r in records:
        for key in own[r.study_id]:
            index[key].append(r.study_id)
    edges: set[Evidence] = set()
    listed: dict[str, dict[str, str]] = defaultdict(dict)     # key -> {study_id: field}
    shown: dict[str, str] = {}                                 # key -> id as written canonically
    for r in records:
        mine = own[r.study_id]
        for value, fld, hint in r.secondary_ids:
            for rid in _mentions(value, hint):
                key = match_key(rid)
                if key in mine:
                    continue
                listed[key].setdefault(r.study_id, fld)
                shown.setdefault(key, rid.id)
                for other in index.get(key, ()):
                    if other != r.study_id:
                        edges.add(Evidence(r.study_id, other, "secondary_id", rid.id, fld, CONFIDENCE["secondary_id"]))
        for fld, text in r.free_text:
            text = clean(text)
            for rid, start, _ in find_ids_with_spans(text):
                key = match_key(rid)
                targets = [o for o in index.get(key, ()) if o != r.study_id]
                if key in mine or not targets:
                    continue
                if _RELATED.search(text[max(0, start - _RELATED_WINDOW):start]):
                    figures["free_text_related_study_skipped"] += 1
                    continue
                for other in targets:
                    edges.add(Evidence(r.study_id, other, "free_text", rid.id, fld, CONFIDENCE["free_text"]))
    for key, listers in listed.items():
        if len(listers) < 2 or key in index:
            continue                  # an owned id links its listers to the owner directly
        if len(listers) > MAX_SHARED:
            figures["shared_ids_skipped_too_common"] += 1
            continue
        ids = sorted(listers)
        for other in ids[1:]:
            flds = {listers[ids[0]], listers[other]}
            edges.add(Evidence(ids[0], other, "shared_external_id", shown[key], " / ".join(sorted(flds)),
                               CONFIDENCE["shared_external_id"]))
    return sorted(edges)


class _UnionFind:
    def __init__(self, items: Iterable[str]):
        self.parent = {i: i for i in items}
        self.conf = dict.fromkeys(self.parent, 1.0)

    def find(self, x: str) -> str:
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: str, b: str, conf: float) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        if rb < ra:
            ra, rb = rb, ra
        self.parent[rb] = ra
        # edges arrive strongest first, so the joining edge is the new bottleneck
        self.conf[ra] = min(self.conf[ra], self.conf[rb], conf)


def _primary_key(r: Record):
    return (_RANK.get(r.study_source, len(_RANK)), -r.core_fields, r.registered or dt.date.max, r.study_id)


def _primary_rule(ranked: list[Record]) -> str:
    if len(ranked) == 1:
        return "singleton"
    first, second = _primary_key(ranked[0]), _primary_key(ranked[1])
    for rule, a, b in zip(("source_priority", "more_core_fields", "earliest_registration", "smallest_id"),
                          first, second):
        if a != b:
            return rule
    return "smallest_id"


def build(records: Sequence[Record], review: bool = True) -> ClusterResult:
    """Cluster the records; ``review`` also runs the title-only look-alike search."""
    by_id: dict[str, Record] = {}
    for r in records:
        by_id.setdefault(r.study_id, r)
    records = list(by_id.values())
    figures: Counter = Counter()
    edges = find_evidence(records, figures)
    uf = _UnionFind(by_id)
    for e in sorted(edges, key=lambda e: (-e.confidence, e.study_a, e.study_b)):
        uf.union(e.study_a, e.study_b, e.confidence)
    groups: dict[str, list[str]] = defaultdict(list)
    for sid in sorted(by_id):
        groups[uf.find(sid)].append(sid)
    members: list[Member] = []
    cluster_of: dict[str, str] = {}
    for root, ids in groups.items():
        cid = cluster_id_for(ids)
        ranked = sorted((by_id[i] for i in ids), key=_primary_key)
        rule = _primary_rule(ranked)
        for r in ranked:
            cluster_of[r.study_id] = cid
            members.append(Member(r.study_id, r.study_source, cid, r is ranked[0], len(ids),
                                  round(uf.conf[root], 4), rule))
    members.sort(key=lambda m: (m.cluster_id, not m.is_primary, m.study_id))
    evidence = sorted(((cluster_of[e.study_a], e) for e in edges), key=lambda x: (x[0], x[1]))
    candidates = []
    if review:
        from .titles import review_candidates
        candidates = review_candidates(records, cluster_of, figures)
    sizes = Counter(len(v) for v in groups.values())
    figures.update({
        "studies": len(by_id), "clusters": len(groups),
        "multi_record_clusters": sum(n for size, n in sizes.items() if size > 1),
        "studies_in_multi_record_clusters": sum(size * n for size, n in sizes.items() if size > 1),
        "largest_cluster": max(sizes, default=0), "evidence": len(edges),
        "review_candidates": len(candidates),
    })
    for e in edges:
        figures[f"evidence_{e.evidence_type}"] += 1
    return ClusterResult(members, evidence, candidates, dict(figures))
