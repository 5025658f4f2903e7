"""Multiple-choice tasks: evidence summary, arm design, eligibility criteria design, endpoint design.

Parsing: the option letter from the reference's JSON ``{"answer_choice": "B"}`` (in a fence or
bare, any case), else from ``<answer>`` tags, "Answer: B", "The answer is (B).", a bare "B"
(:func:`..parsing.option_letter`). A letter that is not one of the record's options counts as
unparsed.

Metrics (gold: ``record["answer"]``):

* ``accuracy``: share of samples whose letter equals the answer (the reference's exact match of
  ``answer_choice.lower()`` with ``answer.lower()``); an unparsed sample is wrong.
* ``macro_f1`` (the paper's Macro-F1; not in the reference code): the mean over the answer letters
  that occur as gold in the scored samples of each letter's F1, an unparsed sample counting as a
  miss for its gold letter (:func:`..metrics.macro_f1`). Letters never gold are left out, so a
  model is not scored on classes the sample set does not hold.
"""
from __future__ import annotations

from ..metrics import accuracy, macro_f1
from ..parsing import LETTERS, option_letter
from .base import Parsed, TaskScorer, unparsed

TASKS = ("evidence_summary", "arm_design", "eligibility_criteria_design", "endpoint_design")


class ChoiceScorer(TaskScorer):
    def __init__(self, task: str):
        self.task = task

    def _parse(self, output: str) -> Parsed:
        letter = option_letter(output, LETTERS)
        return Parsed(letter, True) if letter else unparsed("no option letter found")

    def score_sample(self, record: dict, output: str, env=None) -> dict:
        parsed = self.parse(output)
        options = {str(k).strip().upper() for k in (record.get("options") or {})}
        if parsed.ok and parsed.value not in options:
            parsed = unparsed(f"option {parsed.value} is not one of {', '.join(sorted(options))}")
        gold = str(record.get("answer", "")).strip().upper()
        row = self.base_row(record, parsed)
        row.update(gold=gold, pred=parsed.value, correct=parsed.ok and parsed.value == gold)
        return row

    def aggregate(self, rows: list[dict]) -> dict:
        gold = [r["gold"] for r in rows]
        pred = [r["pred"] for r in rows]
        return {"accuracy": accuracy(gold, pred), "macro_f1": macro_f1(gold, pred), **self.counts(rows)}
