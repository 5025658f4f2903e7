"""Per-task answer parsing and scoring, used by the benchmark and by the RL rewards.

``scorer(task)`` gives the task's :class:`TaskScorer`; ``score(task, records, outputs, env)``
parses and scores every output against its record and returns the metrics, the per-sample rows
and (for screening) the per-review figures. Each family's module documents its parsing rules and
metric definitions:

=================================================================  =========================
task                                                               module
=================================================================  =========================
study_search                                                       :mod:`.search`
study_screening                                                    :mod:`.screening`
evidence_summary, arm_design, eligibility_criteria_design,         :mod:`.choice`
endpoint_design
sample_size_estimation                                             :mod:`.sample_size`
trial_completion_assessment                                        :mod:`.completion`
=================================================================  =========================

Metric keys:

* study_search: ``recall@100`` … ``recall@500``, ``precision@100`` … ``precision@500``, ``n``,
  ``unparsed``, ``query_errors``
* study_screening: ``accuracy``, ``precision``, ``recall``, ``f1``, ``specificity``,
  ``review_accuracy``, ``review_all_correct``, ``n``, ``n_candidates``, ``unparsed``
* multiple choice: ``accuracy``, ``macro_f1``, ``n``, ``unparsed``
* sample_size_estimation: ``accuracy``, ``mae``, ``n``, ``unparsed``
* trial_completion_assessment: ``accuracy``, ``precision``, ``recall``, ``f1``,
  ``balanced_accuracy``, ``reason_balanced_accuracy``, ``reason_accuracy``, ``n``, ``unparsed``

A figure the samples cannot define (no samples, no relevant label, no terminated trial) is None.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ...tasks.base import TASKS
from ..search_env import SearchEnv
from .base import Parsed, TaskScorer
from .choice import TASKS as CHOICE_TASKS, ChoiceScorer
from .completion import CompletionScorer
from .sample_size import SampleSizeScorer
from .screening import ScreeningScorer
from .search import SearchScorer

__all__ = ["Parsed", "TaskScorer", "Scores", "scorer", "score", "TASKS"]


@dataclass
class Scores:
    task: str
    metrics: dict
    rows: list[dict]
    groups: dict = field(default_factory=dict)


def scorer(task: str) -> TaskScorer:
    """The scorer of ``task``; KeyError (naming the tasks) for an unknown one."""
    if task == "study_search":
        return SearchScorer()
    if task == "study_screening":
        return ScreeningScorer()
    if task in CHOICE_TASKS:
        return ChoiceScorer(task)
    if task == "sample_size_estimation":
        return SampleSizeScorer()
    if task == "trial_completion_assessment":
        return CompletionScorer()
    raise KeyError(f"no scorer for task {task!r}; tasks: {', '.join(TASKS)}")


def score(task: str, records: list[dict], outputs: list[str], env: SearchEnv | None = None) -> Scores:
    """Score each output against its record (same order and length)."""
    if len(records) != len(outputs):
        raise ValueError(f"{task}: {len(records)} records but {len(outputs)} outputs")
    s = scorer(task)
    rows = [s.score_sample(r, o, env) for r, o in zip(records, outputs)]
    return Scores(task, s.aggregate(rows), rows, s.groups(rows))
