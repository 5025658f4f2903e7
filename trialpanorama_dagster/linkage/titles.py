"""Title look-alikes across clusters: review candidates, never merges.

Titles are compared as sets of Latin-script words (stop words and one-letter words dropped);
titles with fewer than ``MIN_TOKENS`` such words (e.g. Chinese-only titles) are not compared.

A pair of records in different clusters is a candidate when a normalised title of one is similar
to a normalised title of the other (Dice coefficient on word sets >= ``TITLE_THRESHOLD``; brief and
official titles both count, the best pair wins) AND they share the sponsor (normalised names,
corporate suffixes dropped) or their start dates are at most ``MAX_DATE_GAP_DAYS`` apart.

Blocking keeps this far from O(n^2): each record is filed under every pair of its
``KEYS_PER_RECORD`` rarest title words (document frequency over all records, words seen once
skipped), so two records meet when they share two of their rarest words; a block of more than
``MAX_BLOCK`` records is too common to say anything and is skipped (counted in the figures). Only
pairs that share a block are scored; sponsor / date are checked before the title similarity.
"""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from itertools import combinations
from sys import intern
from typing import Sequence

from ..registries.ids import clean

TITLE_THRESHOLD = 0.8
MAX_DATE_GAP_DAYS = 366
KEYS_PER_RECORD = 3
MAX_BLOCK = 60
MIN_TOKENS = 4

_WORD = re.compile(r"[0-9a-z]+")
_STOP = frozenset("""a an and are as at be by for from in into is it of on or the to with versus vs
    study trial clinical randomised randomized controlled phase multicenter multicentre open label
    double blind placebo evaluate evaluating efficacy safety effect effects patients subjects""".split())
_CORP = frozenset("""inc incorporated ltd limited llc plc gmbh ag sa sas spa bv nv co corp corporation
    company kk the of and pharma pharmaceutical pharmaceuticals""".split())


@dataclass(frozen=True, order=True)
class ReviewCandidate:
    study_id_a: str
    study_id_b: str
    title_similarity: float
    sponsor_match: bool
    date_gap_days: int | None
    reason: str


def title_tokens(text: str | None) -> frozenset[str]:
    if not text:
        return frozenset()
    return frozenset(intern(w) for w in _WORD.findall(clean(text).lower()) if w not in _STOP and len(w) > 1)


def sponsor_tokens(text: str | None) -> frozenset[str]:
    if not text:
        return frozenset()
    return frozenset(w for w in _WORD.findall(clean(text).lower()) if w not in _CORP)


def dice(a: frozenset, b: frozenset) -> float:
    if not a or not b:
        return 0.0
    return 2 * len(a & b) / (len(a) + len(b))


def sponsors_match(a: frozenset, b: frozenset) -> bool:
    if not a or not b:
        return False
    small, big = (a, b) if len(a) <= len(b) else (b, a)
    return dice(a, b) >= 0.8 or (len(small) >= 2 and small <= big)


def review_candidates(records: Sequence, cluster_of: dict[str, str], figures: Counter | None = None
                      ) -> list[ReviewCandidate]:
    """Title look-alikes in different clusters that also share sponsor or start year (see module doc)."""
    figures = figures if figures is not None else Counter()
    variants: dict[str, list[frozenset]] = {}
    for r in records:
        vs = {t for t in (title_tokens(r.title), title_tokens(r.official_title)) if len(t) >= MIN_TOKENS}
        if vs:
            variants[r.study_id] = sorted(vs, key=sorted)
    df: Counter = Counter()
    for vs in variants.values():
        df.update(frozenset().union(*vs))
    blocks: dict[tuple, list[str]] = defaultdict(list)
    for sid in sorted(variants):
        words = sorted((w for w in frozenset().union(*variants[sid]) if df[w] >= 2), key=lambda w: (df[w], w))
        words = words[:KEYS_PER_RECORD]
        for key in (combinations(sorted(words), 2) if len(words) >= 2 else [tuple(words)] if words else []):
            blocks[key].append(sid)
    pairs: set[tuple[str, str]] = set()
    for ids in blocks.values():
        if len(ids) > MAX_BLOCK:
            figures["title_blocks_skipped_too_large"] += 1
            continue
        for a, b in combinations(ids, 2):
            if cluster_of.get(a) != cluster_of.get(b) or a not in cluster_of:
                pairs.add((a, b) if a < b else (b, a))
    figures["title_pairs_considered"] += len(pairs)
    by_id = {r.study_id: r for r in records}
    sponsors: dict[str, frozenset] = {}
    out = []
    for a, b in sorted(pairs):
        ra, rb = by_id[a], by_id[b]
        gap = abs((ra.start_date - rb.start_date).days) if ra.start_date and rb.start_date else None
        close = gap is not None and gap <= MAX_DATE_GAP_DAYS
        for sid, rec in ((a, ra), (b, rb)):
            if sid not in sponsors:
                sponsors[sid] = sponsor_tokens(rec.sponsor)
        same_sponsor = sponsors_match(sponsors[a], sponsors[b])
        if not (same_sponsor or close):
            continue
        sim = max((dice(x, y) for x in variants[a] for y in variants[b]
                   if 3 * min(len(x), len(y)) >= 2 * max(len(x), len(y))), default=0.0)  # Dice >= 0.8 needs it
        if sim < TITLE_THRESHOLD:
            continue
        why = [f"title similarity {sim:.2f}"]
        if same_sponsor:
            why.append("same sponsor")
        if close:
            why.append(f"start dates {gap} days apart")
        out.append(ReviewCandidate(a, b, round(sim, 4), same_sponsor, gap,
                                   " + ".join(why) + "; title evidence alone never merges"))
    return sorted(out)
