"""The paper's v1 results (arXiv 2505.16097 v1, Tables 2 and 3), for reports to show beside ours.

Values are as printed: percentages, except sample-size MAE (participants, lower is better).
``HEADLINE`` names, per task, the metrics the paper reports under our metric names; the benchmark
computes these exactly (see :mod:`.scoring`), in fractions, so reports multiply ours by 100.
"""
from __future__ import annotations

HEADLINE: dict[str, tuple[str, ...]] = {
    "study_search": ("recall@100", "recall@500"),
    "study_screening": ("accuracy", "precision", "recall"),
    "evidence_summary": ("accuracy", "macro_f1"),
    "arm_design": ("accuracy", "macro_f1"),
    "eligibility_criteria_design": ("accuracy", "macro_f1"),
    "endpoint_design": ("accuracy", "macro_f1"),
    "sample_size_estimation": ("accuracy", "mae"),
    "trial_completion_assessment": ("balanced_accuracy", "reason_balanced_accuracy"),
}
NOT_PERCENT = frozenset({"mae"})
LOWER_IS_BETTER = frozenset({"mae"})
PAPER_MODELS = ("Llama-8B", "Llama-70B", "GPT-4o-mini", "GPT-4o", "o3-mini")

# model -> the row of Table 2 (search R@100, R@500; screening Acc, Prec, Rec; evidence Acc, Macro-F1)
_TABLE2 = {
    "Llama-8B": (11.6, 16.0, 55.3, 46.8, 58.2, 70.4, 71.1),
    "Llama-70B": (25.1, 33.3, 60.7, 59.1, 70.5, 78.8, 76.7),
    "GPT-4o-mini": (17.3, 22.7, 60.2, 60.4, 60.5, 74.1, 73.1),
    "GPT-4o": (22.9, 27.3, 66.1, 64.4, 72.3, 72.8, 65.2),
    "o3-mini": (27.6, 37.8, 71.6, 71.9, 71.3, 72.7, 53.8),
}
# model -> the row of Table 3 (arm Acc, F1; criteria Acc, F1; endpoint Acc, F1; sample size Acc, MAE;
# completion BAcc-out, BAcc-rt)
_TABLE3 = {
    "Llama-8B": (79.9, 79.9, 55.0, 54.6, 52.1, 52.9, 3.3, 1760.6, 54.0, 15.7),
    "Llama-70B": (84.6, 84.7, 72.6, 73.1, 61.8, 62.5, 18.7, 633.3, 52.6, 17.9),
    "GPT-4o-mini": (78.4, 78.7, 55.8, 55.8, 62.2, 62.2, 22.8, 411.4, 51.3, 16.8),
    "GPT-4o": (85.0, 85.0, 76.3, 76.5, 69.1, 69.4, 22.9, 512.6, 59.3, 19.5),
    "o3-mini": (85.9, 86.1, 80.4, 80.6, 52.1, 60.7, 25.2, 452.1, 51.0, 17.0),
}
_T2_COLUMNS = (("study_search", "recall@100"), ("study_search", "recall@500"), ("study_screening", "accuracy"),
               ("study_screening", "precision"), ("study_screening", "recall"), ("evidence_summary", "accuracy"),
               ("evidence_summary", "macro_f1"))
_T3_COLUMNS = (("arm_design", "accuracy"), ("arm_design", "macro_f1"), ("eligibility_criteria_design", "accuracy"),
               ("eligibility_criteria_design", "macro_f1"), ("endpoint_design", "accuracy"),
               ("endpoint_design", "macro_f1"), ("sample_size_estimation", "accuracy"), ("sample_size_estimation", "mae"),
               ("trial_completion_assessment", "balanced_accuracy"),
               ("trial_completion_assessment", "reason_balanced_accuracy"))


def _table() -> dict[str, dict[str, dict[str, float]]]:
    out: dict[str, dict[str, dict[str, float]]] = {}
    for rows, columns in ((_TABLE2, _T2_COLUMNS), (_TABLE3, _T3_COLUMNS)):
        for model, values in rows.items():
            for (task, metric), value in zip(columns, values, strict=True):
                out.setdefault(task, {}).setdefault(model, {})[metric] = value
    return out


PAPER_V1: dict[str, dict[str, dict[str, float]]] = _table()   # task -> model -> metric -> value as printed


def as_printed(metric: str, value: float | None) -> float | None:
    """One of our values (a fraction, or MAE in participants) on the paper's scale."""
    if value is None:
        return None
    return value if metric in NOT_PERCENT else 100.0 * value
