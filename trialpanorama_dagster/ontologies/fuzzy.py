"""Fuzzy lookup of a normalised key among a dictionary's normalised keys (rapidfuzz, token-blocked).

Scoring every query against a million names is too slow, so candidates are blocked by words:
a query is compared only with keys that share one of its informative words (a word carried by at
most ``max_postings`` keys); when all its words are common, with the keys of its rarest word.
Scores are rapidfuzz's ``ratio`` on the normalised keys (words already sorted), 0–100.
"""
from __future__ import annotations

from collections import defaultdict

from rapidfuzz import fuzz, process


class FuzzyMatcher:
    def __init__(self, keys: list[str], max_postings: int = 2000, max_candidates: int = 20000):
        self.keys = keys
        self.max_postings = max_postings
        self.max_candidates = max_candidates
        postings: dict[str, list[int]] = defaultdict(list)
        for i, key in enumerate(keys):
            for word in set(key.split()):
                postings[word].append(i)
        self.postings = dict(postings)

    def candidates(self, key: str) -> list[int]:
        lists = [self.postings[w] for w in set(key.split()) if w in self.postings]
        if not lists:
            return []
        informative = [p for p in lists if len(p) <= self.max_postings]
        if not informative:
            informative = [min(lists, key=len)]
        seen: set[int] = set()
        for p in sorted(informative, key=len):
            seen.update(p)
            if len(seen) >= self.max_candidates:
                break
        return sorted(seen)

    def best(self, key: str, cutoff: float) -> tuple[tuple[str, float] | None, float | None]:
        """(the best-scoring key at or above ``cutoff`` whose words agree with the query's, or None;
        the best score of any candidate, or None when nothing shares a word).

        A whole-string score alone lets one letter swap change the concept ("renal disease" vs
        "retinal diseases" scores 93), so every query word of 5+ letters must also be close
        (ratio >= ``word_cutoff``) to some word of the candidate.
        """
        idx = self.candidates(key)
        if not idx:
            return None, None
        top = process.extract(key, [self.keys[i] for i in idx], scorer=fuzz.ratio, limit=5)
        for choice, score, _ in top:
            if score >= cutoff and self._words_agree(key, choice):
                return (choice, round(float(score), 1)), round(float(top[0][1]), 1)
        return None, round(float(top[0][1]), 1)

    @staticmethod
    def _words_agree(query: str, candidate: str, word_cutoff: float = 85.0) -> bool:
        words = candidate.split()
        return all(max(fuzz.ratio(w, c) for c in words) >= word_cutoff
                   for w in query.split() if len(w) >= 5)
