"""Baselines that need no model weights, one per task, so the benchmark gives real numbers anywhere.

``baseline_for(task)`` gives a fresh, unfitted baseline; ``fit(train, con=None)`` learns from the
task's train records (``task_samples.record`` dicts; ``con`` an optional read-only warehouse
connection for lookups), and ``predict(record)`` answers with raw text in the task's answer format:

=============================  =====================  ==============================================
task                           baseline               rule (module)
=============================  =====================  ==============================================
study_search                   keyword-query          Boolean query of setup concepts (search_query)
study_screening                tfidf-lr               TF-IDF + logistic regression (screening)
evidence_summary, arm_design,  tfidf-similarity       option most similar to the question
eligibility_criteria_design,                          (multiple_choice)
endpoint_design
sample_size_estimation         median-enrollment      median by phase x condition group (sample_size)
trial_completion_assessment    design-lr              logistic regression on the design (completion)
=============================  =====================  ==============================================
"""
from __future__ import annotations

from ...tasks.base import TASKS
from .base import Baseline
from .completion import DesignLR
from .multiple_choice import (ArmDesignSimilarity, CriteriaDesignSimilarity, EndpointDesignSimilarity,
                              EvidenceSummarySimilarity, TfidfSimilarity)
from .sample_size import MedianEnrollment
from .screening import ScreeningLR
from .search_query import KeywordQuery

BASELINES: dict[str, type] = {
    "study_search": KeywordQuery,
    "study_screening": ScreeningLR,
    "evidence_summary": EvidenceSummarySimilarity,
    "arm_design": ArmDesignSimilarity,
    "eligibility_criteria_design": CriteriaDesignSimilarity,
    "endpoint_design": EndpointDesignSimilarity,
    "sample_size_estimation": MedianEnrollment,
    "trial_completion_assessment": DesignLR,
}
assert set(BASELINES) == set(TASKS)


def baseline_for(task: str) -> Baseline:
    """A fresh, unfitted baseline for ``task``."""
    if task not in BASELINES:
        raise KeyError(f"no baseline for task {task!r}; tasks: {', '.join(BASELINES)}")
    return BASELINES[task]()


__all__ = ["BASELINES", "Baseline", "DesignLR", "KeywordQuery", "MedianEnrollment", "ScreeningLR", "TfidfSimilarity",
           "baseline_for"]
