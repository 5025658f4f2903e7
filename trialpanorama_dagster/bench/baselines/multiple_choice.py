"""TF-IDF similarity for the four multiple-choice tasks (evidence summary, arm, eligibility
criteria and endpoint design).

Rule: the question and every option become TF-IDF vectors (:class:`.text.HashedTfidf`, document
frequencies from the train questions and options); the answer is the option most similar (cosine)
to the question; ties go to the earliest letter. Fitted on nothing, plain term-frequency cosine.
"""
from __future__ import annotations

import numpy as np

from .base import Baseline, mc_answer
from .text import HashedTfidf


class TfidfSimilarity(Baseline):
    name = "tfidf-similarity"
    task = ""

    def __init__(self):
        self.tfidf = HashedTfidf()

    def fit(self, train: list[dict], con=None) -> "TfidfSimilarity":
        texts = []
        for r in train:
            texts.append(r.get("question") or "")
            texts += [str(v or "") for v in (r.get("options") or {}).values()]
        self.tfidf = HashedTfidf().fit(texts)
        return self

    def scores(self, record: dict) -> dict[str, float]:
        options = {str(k): str(v or "") for k, v in (record.get("options") or {}).items()}
        if not options:
            return {}
        m = self.tfidf.transform([record.get("question") or ""] + list(options.values()))
        sims = np.asarray((m[1:] @ m[0].T).todense()).ravel()
        return {k: float(s) for k, s in zip(options, sims)}

    def predict(self, record: dict) -> str:
        scores = self.scores(record)
        if not scores:
            return mc_answer("A", "The record has no options; answering A.")
        letter = max(sorted(scores), key=lambda k: (scores[k], -ord(k[0])))
        return mc_answer(letter, f"Option {letter} shares the most distinctive words with the question "
                                 f"(TF-IDF cosine {scores[letter]:.3f}).")


class EvidenceSummarySimilarity(TfidfSimilarity):
    task = "evidence_summary"


class ArmDesignSimilarity(TfidfSimilarity):
    task = "arm_design"


class CriteriaDesignSimilarity(TfidfSimilarity):
    task = "eligibility_criteria_design"


class EndpointDesignSimilarity(TfidfSimilarity):
    task = "endpoint_design"
