"""Logistic regression on the registered design for trial completion assessment.

Features of a record (all from its inputs and context, never its labels): one-hot allocation,
intervention model, observational model, primary purpose, time perspective, masking, phase,
gender and healthy volunteers (``None`` is a value of its own); numbers, log-scaled: number of
arms (as registered), arm groups listed, eligibility criteria characters and lines, title words,
minimum and maximum age in years (with a flag for a missing one).

Rule: outcome = a logistic regression (``class_weight="balanced"``, C=1, lbfgs) over the
standardised features, "terminate" when its probability is at least 0.5; confidence = 100 × the
probability of the predicted outcome. The termination reason, for a predicted termination, is a
second such regression over the terminated train samples' ``terminate_type`` (whatever classes
they hold, ``other`` included) when at least :data:`MIN_REASON_SAMPLES` of them show two classes
or more, else their most frequent type (ties: alphabetical), else :data:`DEFAULT_REASON`.
With one outcome class in train (or none) the outcome is always that class ("complete" for none).
"""
from __future__ import annotations

import json
import math
import re
from collections import Counter

import numpy as np
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from .base import Baseline

MIN_REASON_SAMPLES = 10
DEFAULT_REASON = "enrollment issues"   # the commonest reason trials stop early
_CATEGORICAL = ("allocation", "intervention_model", "observational_model", "primary_purpose", "time_perspective",
                "masking", "phase")
_UNITS = {"year": 1.0, "month": 1 / 12, "week": 1 / 52, "day": 1 / 365, "hour": 1 / 8760, "minute": 1 / 525600}


def age_years(text) -> float | None:
    m = re.search(r"(\d+(?:\.\d+)?)\s*([a-z]+)?", str(text or "").lower())
    if not m:
        return None
    unit = next((v for k, v in _UNITS.items() if (m.group(2) or "year").startswith(k)), 1.0)
    return float(m.group(1)) * unit


def _context(record: dict, kind: str) -> dict:
    return next((c for c in record.get("context") or [] if isinstance(c, dict) and c.get("type") == kind), {})


def features(record: dict) -> dict[str, float]:
    inputs = record.get("inputs") or {}
    elig, arms = _context(record, "eligibility_criteria"), _context(record, "arm_design")
    f: dict[str, float] = {}
    for key in _CATEGORICAL:
        f[f"{key}={inputs.get(key)}"] = 1.0
    f[f"gender={elig.get('gender')}"] = 1.0
    f[f"healthy_volunteers={elig.get('healthy_volunteers')}"] = 1.0
    try:
        n_arms = float(inputs.get("number_of_arms") or 0)
    except (TypeError, ValueError):
        n_arms = 0.0
    criteria = elig.get("criteria") or ""
    f["log_number_of_arms"] = math.log1p(max(0.0, n_arms))
    f["number_of_arms_missing"] = float(not n_arms)
    f["log_arm_groups"] = math.log1p(len(arms.get("arms") or []))
    f["log_criteria_chars"] = math.log1p(len(criteria))
    f["log_criteria_lines"] = math.log1p(criteria.count("~") + bool(criteria))
    f["log_title_words"] = math.log1p(len(str(inputs.get("title") or "").split()))
    for key in ("minimum_age", "maximum_age"):
        years = age_years(elig.get(key))
        f[f"log_{key}_years"] = math.log1p(years) if years is not None else 0.0
        f[f"{key}_missing"] = float(years is None)
    return f


def _model():
    return make_pipeline(DictVectorizer(sparse=False), StandardScaler(),
                         LogisticRegression(class_weight="balanced", C=1.0, max_iter=2000, random_state=0))


def _most_frequent(values: list[str]) -> str | None:
    counts = Counter(values)
    return min(counts, key=lambda v: (-counts[v], v)) if counts else None


class DesignLR(Baseline):
    name = "design-lr"
    task = "trial_completion_assessment"

    def __init__(self):
        self.outcome_model = None
        self.constant_outcome = "complete"
        self.reason_model = None
        self.constant_reason = DEFAULT_REASON

    def fit(self, train: list[dict], con=None) -> "DesignLR":
        rows = [(features(r), (r.get("labels") or {}).get("outcome"), (r.get("labels") or {}).get("terminate_type"))
                for r in train]
        rows = [x for x in rows if x[1] in ("complete", "terminate")]
        outcomes = sorted({o for _, o, _ in rows})
        self.outcome_model, self.reason_model = None, None
        self.constant_outcome = outcomes[0] if len(outcomes) == 1 else "complete"
        if len(outcomes) == 2:
            self.outcome_model = _model().fit([f for f, _, _ in rows], [o for _, o, _ in rows])
        stopped = [(f, t) for f, o, t in rows if o == "terminate" and t]
        self.constant_reason = _most_frequent([t for _, t in stopped]) or DEFAULT_REASON
        if len(stopped) >= MIN_REASON_SAMPLES and len({t for _, t in stopped}) >= 2:
            self.reason_model = _model().fit([f for f, _ in stopped], [t for _, t in stopped])
        return self

    def outcome(self, record: dict) -> tuple[str, float]:
        """(predicted outcome, its probability)."""
        if self.outcome_model is None:
            return self.constant_outcome, 1.0
        proba = self.outcome_model.predict_proba([features(record)])[0]
        p_term = float(proba[list(self.outcome_model.classes_).index("terminate")])
        return ("terminate", p_term) if p_term >= 0.5 else ("complete", 1.0 - p_term)

    def reason(self, record: dict) -> str:
        if self.reason_model is None:
            return self.constant_reason
        proba = self.reason_model.predict_proba([features(record)])[0]
        classes = list(self.reason_model.classes_)
        best = int(np.argmax(proba))      # argmax keeps the first (alphabetical) class on ties
        return str(classes[best])

    def predict(self, record: dict) -> str:
        outcome, p = self.outcome(record)
        reason = self.reason(record) if outcome == "terminate" else None
        explanation = (f"A logistic regression on the registered design gives {outcome} a probability of {p:.2f}"
                       + (f"; the likeliest termination reason for such designs is {reason}." if reason else "."))
        return json.dumps({"outcome": outcome, "confidence": int(round(100 * p)), "termination_reason": reason,
                           "termination_type": reason, "explanation": explanation}, ensure_ascii=False)
