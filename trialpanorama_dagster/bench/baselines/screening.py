"""TF-IDF + logistic regression for study screening.

Features of a candidate: the TF-IDF vector of its title and abstract (:class:`.text.HashedTfidf`,
document frequencies from the train candidates and review setups), its cosine similarity to the
review setup (objectives, selection criteria, background) and that similarity's percentile among
the sample's candidates (1 = the most similar). Train examples are the train candidates, once per
(review, PMID) however many samples repeat them; labels included/excluded.

Rule: a logistic regression (``class_weight="balanced"``, C=1, liblinear) gives p(included); the
candidate is included when p is at least a threshold picked on train to maximise balanced
accuracy over out-of-fold probabilities (review-grouped folds, at most 5; the threshold is the
midpoint between the best cut and the next lower probability). Confidence: p mapped so the
threshold sits at 50 (piecewise linear), as 100 × the chosen decision's side.

Fallback (fewer than :data:`MIN_PER_CLASS` train candidates of either class, e.g. an empty train
set): similarity only, each sample on its own — a candidate is included when its similarity is at
least the median similarity of the sample's candidates and above zero; confidence 50 + 50 × the
distance of its percentile from the median, on the decision's side.
"""
from __future__ import annotations

import json

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import GroupKFold, StratifiedKFold

from ..scoring.screening import review_key
from .base import Baseline
from .text import HashedTfidf, cosine_rows

MIN_PER_CLASS = 3
MAX_FOLDS = 5


def setup_text(record: dict) -> str:
    inputs = record.get("inputs") or {}
    return "\n".join(str(inputs.get(k) or "") for k in ("objectives", "selection criteria", "background"))


def candidate_text(c: dict) -> str:
    return f"{c.get('title') or ''}\n{c.get('abstract') or ''}"


def percentiles(values: np.ndarray) -> np.ndarray:
    """Each value's rank among the values, scaled to [0, 1] (1 = the largest; ties share the mean rank)."""
    if len(values) < 2:
        return np.ones(len(values))
    order = np.argsort(np.argsort(values, kind="stable"), kind="stable").astype(float)
    for v in np.unique(values):
        same = values == v
        order[same] = order[same].mean()
    return order / (len(values) - 1)


class ScreeningLR(Baseline):
    name = "tfidf-lr"
    task = "study_screening"

    def __init__(self):
        self.tfidf = HashedTfidf()
        self.model: LogisticRegression | None = None
        self.threshold = 0.5

    def _features(self, record: dict, context: list[dict]) -> tuple[sp.csr_matrix, np.ndarray]:
        """(the feature rows of the given candidates, their similarity to the setup)."""
        texts = [candidate_text(c) for c in context]
        if not texts:
            return sp.csr_matrix((0, self.tfidf.hasher.n_features + 2)), np.zeros(0)
        cand = self.tfidf.transform(texts)
        setup = self.tfidf.transform([setup_text(record)])
        sims = cosine_rows(cand, sp.vstack([setup] * len(texts)).tocsr())
        extra = sp.csr_matrix(np.column_stack([sims, percentiles(sims)]))
        return sp.hstack([cand, extra]).tocsr(), sims

    def fit(self, train: list[dict], con=None) -> "ScreeningLR":
        docs, seen, per_record = [], set(), []
        for r in train:
            label = {x.get("PMID"): x.get("label") for x in r.get("labels") or []}
            docs.append(setup_text(r))
            kept = []
            for c in r.get("context") or []:
                key = (review_key(r), c.get("PMID"))
                if isinstance(c, dict) and key not in seen and label.get(c.get("PMID")) in ("included", "excluded"):
                    seen.add(key)
                    docs.append(candidate_text(c))
                    kept.append((c, int(label[c.get("PMID")] == "included")))
            if kept:
                per_record.append((r, kept))
        self.tfidf = HashedTfidf().fit(docs)
        self.model, self.threshold = None, 0.5
        y = np.array([lab for _, kept in per_record for _, lab in kept], dtype=int)
        if len(y) == 0 or min(int(y.sum()), int(len(y) - y.sum())) < MIN_PER_CLASS:
            return self
        x = sp.vstack([self._features(r, [c for c, _ in kept])[0] for r, kept in per_record]).tocsr()
        groups = np.array([review_key(r) for r, kept in per_record for _ in kept])
        self.threshold = self._pick_threshold(x, y, groups)
        self.model = _lr().fit(x, y)
        return self

    @staticmethod
    def _pick_threshold(x: sp.csr_matrix, y: np.ndarray, groups: np.ndarray) -> float:
        n_groups = len(set(groups))
        if n_groups >= 2:
            folds = list(GroupKFold(n_splits=min(MAX_FOLDS, n_groups)).split(x, y, groups))
        else:
            folds = list(StratifiedKFold(n_splits=min(MAX_FOLDS, int(min(y.sum(), len(y) - y.sum()))),
                                         shuffle=True, random_state=0).split(x, y))
        p = np.full(len(y), np.nan)
        for tr, te in folds:
            if len(set(y[tr])) == 2:
                p[te] = _lr().fit(x[tr], y[tr]).predict_proba(x[te])[:, 1]
        ok = ~np.isnan(p)
        if ok.sum() == 0 or len(set(y[ok])) < 2:
            return 0.5
        cuts = np.unique(p[ok])
        scores = [balanced_accuracy_score(y[ok], (p[ok] >= c).astype(int)) for c in cuts]
        best = int(np.argmax(scores))            # the first (lowest) cut among equals
        lower = cuts[best - 1] if best > 0 else 0.0
        return float((cuts[best] + lower) / 2)

    def decide(self, record: dict) -> list[tuple[str, str, int]]:
        """(PMID, decision, confidence) for every candidate of the record, in context order."""
        context = [c for c in record.get("context") or [] if isinstance(c, dict)]
        x, sims = self._features(record, context)
        out = []
        if self.model is None:
            pct = percentiles(sims)
            median = float(np.median(sims)) if len(sims) else 0.0
            for c, s, q in zip(context, sims, pct):
                inc = bool(s >= median and s > 0)
                out.append((c.get("PMID"), "included" if inc else "excluded", int(round(50 + 50 * abs(q - 0.5)))))
            return out
        p = self.model.predict_proba(x)[:, 1] if len(context) else np.zeros(0)
        t = min(max(self.threshold, 1e-6), 1 - 1e-6)
        for c, pi in zip(context, p):
            scaled = 0.5 * pi / t if pi < t else 0.5 + 0.5 * (pi - t) / (1 - t)
            inc = pi >= t
            out.append((c.get("PMID"), "included" if inc else "excluded",
                        int(round(100 * (scaled if inc else 1 - scaled)))))
        return out

    def predict(self, record: dict) -> str:
        results = [{"PMID": str(pmid) if pmid is not None else "", "decision": d, "confidence": conf}
                   for pmid, d, conf in self.decide(record)]
        return json.dumps({"results": results}, ensure_ascii=False)


def _lr() -> LogisticRegression:
    return LogisticRegression(class_weight="balanced", C=1.0, solver="liblinear", random_state=0)
