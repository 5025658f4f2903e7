"""GRPO rewards with verifiable answers (spec C), scored by the benchmark's own scorers.

Both are callables with TRL's reward signature ``(prompts, completions, **columns) -> list[float]``;
completions may be text or conversational (``[{"role": "assistant", "content": ...}]``). The
dataset's ground-truth columns arrive as keyword lists (``target`` for sample size;
``relevant_pmids`` and ``review_id`` for search).

Prefill. A prompt may end with the start of the assistant turn (``grpo.prefill``, e.g. ``<think>``
or ``<answer>``); the model's completion then lacks that text, so it is put back in front of the
completion before the format is checked. The prefill is the configured one, else read off the
prompt: a text prompt (or a chat whose last turn is the assistant's) ending with ``<think>`` or
``<answer>``. The reference's Llama sample-size prompt ended with ``<think>`` while its reward
never re-added it, so every well-formed completion scored -2; here it scores as intended.

Sample size (reference scheme): the format is ok when the completion holds exactly one each of
``<think>``, ``</think>``, ``<answer>``, ``</answer>`` in that order. R = 1.1 when ok and the
answer is within ±20 % of the target (the benchmark's sample-size scorer on the answer, i.e.
:func:`..bench.metrics.within_tolerance`), 0 when ok but wrong or unreadable, -2 when the format
is bad or the target is missing or not a number.

Study search: the format is ok when the completion holds exactly one ``<answer>`` and one
``</answer>`` in order and no think tags (with ``think``: exactly one ``<think>…</think>`` before
the answer). The query runs in the LOCAL search environment (the warehouse's index, never a live
service) through the benchmark's study-search scorer; R = 0.1 + recall@100 when recall > 0, else 0;
-2 for a bad format. A query the environment cannot read (QueryError) scores 0 like a query that
finds nothing: the format was kept, the search failed, as the reference counts a failed search.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

THINK_TAGS = ("<think>", "</think>")
ANSWER_TAGS = ("<answer>", "</answer>")
BAD_FORMAT = -2.0
PREFILL_TAGS = ("<think>", "<answer>")


def completion_text(completion) -> str:
    """The text of a completion: a string, or the assistant content of a conversational one."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, dict):
        return str(completion.get("content") or "")
    if isinstance(completion, (list, tuple)):
        return "".join(completion_text(m) for m in completion if not isinstance(m, dict)
                       or m.get("role", "assistant") == "assistant")
    return "" if completion is None else str(completion)


def prompt_tail(prompt) -> str:
    """The text the assistant turn starts from: a text prompt, or a chat's final assistant turn."""
    if isinstance(prompt, str):
        return prompt
    if isinstance(prompt, (list, tuple)) and prompt and isinstance(prompt[-1], dict):
        last = prompt[-1]
        return str(last.get("content") or "") if last.get("role") == "assistant" else ""
    return ""


def prefill_of(prompt, configured: str | None) -> str:
    """What the prompt already wrote of the assistant turn (to prepend to the completion)."""
    if configured:
        return configured
    tail = prompt_tail(prompt).rstrip()
    return next((tag for tag in PREFILL_TAGS if tail.endswith(tag)), "")


def _tags_in_order(text: str, tags: tuple[str, ...]) -> bool:
    """Each tag exactly once, in the given order."""
    positions = []
    for tag in tags:
        if text.count(tag) != 1:
            return False
        positions.append(text.index(tag))
    return positions == sorted(positions)


def sample_size_format_ok(text: str) -> bool:
    return _tags_in_order(text, THINK_TAGS + ANSWER_TAGS)


def search_format_ok(text: str, think: bool = False) -> bool:
    if think:
        return _tags_in_order(text, THINK_TAGS + ANSWER_TAGS)
    return _tags_in_order(text, ANSWER_TAGS) and not any(t in text for t in THINK_TAGS)


def answer_content(text: str) -> str:
    found = re.findall(r"<answer>(.*?)</answer>", text, re.S)
    return found[-1].strip() if found else ""


def _target(value) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value) if value > 0 else None
    try:
        number = float(str(value).replace(",", "").strip())
    except ValueError:
        return None
    return number if number > 0 else None


def _column(kwargs: dict, name: str, n: int) -> list:
    values = kwargs.get(name)
    return list(values) if values is not None else [None] * n


class SampleSizeReward:
    """R = 1.1 (format ok, within ±20 %), 0 (format ok, wrong), -2 (bad format or no target)."""
    __name__ = "sample_size_reward"

    def __init__(self, prefill: str | None = None, tolerance: float = 0.2):
        self.prefill = prefill
        self.tolerance = tolerance

    def score(self, prompt, completion, target) -> float:
        from ..bench.metrics import within_tolerance
        from ..bench.scoring import scorer

        text = prefill_of(prompt, self.prefill) + completion_text(completion)
        y = _target(target)
        if y is None or not sample_size_format_ok(text):
            return BAD_FORMAT
        parsed = scorer("sample_size_estimation").parse(f"<answer>{answer_content(text)}</answer>")
        if not parsed.ok:
            return 0.0
        return 1.1 if within_tolerance(parsed.value, y, self.tolerance) else 0.0

    def __call__(self, prompts, completions, **kwargs) -> list[float]:
        targets = _column(kwargs, "target", len(completions))
        return [self.score(p, c, t) for p, c, t in zip(prompts, completions, targets)]


class SearchReward:
    """R = 0.1 + recall@100 (format ok, something found), 0 (nothing found or unreadable query),
    -2 (bad format); queries run in the local search environment of ``db`` or ``index``."""
    __name__ = "study_search_reward"

    def __init__(self, db: str | os.PathLike | None = None, index: str | os.PathLike | None = None,
                 think: bool = False, prefill: str | None = None, env=None):
        if env is None and db is None and index is None:
            raise ValueError("the search reward needs the warehouse (db), its index, or a search environment")
        self.db = str(db) if db is not None else None
        self.index = str(index) if index is not None else None
        self.think = think
        self.prefill = prefill
        self._env = env

    @property
    def env(self):
        if self._env is None:
            from ..bench.search_env import LocalSearchEnv
            if self.index is not None:
                from ..search.index import SearchIndex
                self._env = LocalSearchEnv(SearchIndex(Path(self.index)))
            else:
                self._env = LocalSearchEnv.open(self.db)
        return self._env

    def __getstate__(self):
        state = dict(self.__dict__)
        if self.db is not None or self.index is not None:
            state["_env"] = None            # reopened on first use (the index is not picklable)
        return state

    def score(self, prompt, completion, relevant, review_id=None) -> float:
        from ..bench.scoring import scorer

        text = prefill_of(prompt, self.prefill) + completion_text(completion)
        if not search_format_ok(text, self.think):
            return BAD_FORMAT
        record = {"id": review_id, "labels": [str(p) for p in relevant or []]}
        row = scorer("study_search").score_sample(record, f"<answer>{answer_content(text)}</answer>", self.env)
        recall = row.get("recall@100")
        return 0.1 + recall if recall else 0.0

    def __call__(self, prompts, completions, **kwargs) -> list[float]:
        n = len(completions)
        return [self.score(p, c, rel, rid) for p, c, rel, rid in zip(
            prompts, completions, _column(kwargs, "relevant_pmids", n), _column(kwargs, "review_id", n))]


def reward_for(task: str, *, prefill: str | None = None, think: bool = False, db=None, index=None):
    """The reward function of a GRPO task."""
    if task == "sample_size_estimation":
        return SampleSizeReward(prefill=prefill)
    if task == "study_search":
        return SearchReward(db=db, index=index, think=think, prefill=prefill)
    raise ValueError(f"no GRPO reward for task {task!r}")
