"""Sample size estimation: the number of participants a trial needs.

Parsing, first found wins: ``"sample_size_needed"`` of a JSON object (fenced or bare; the value
an int, a float or a string such as "1,200"); else the first number inside the last ``<answer>``
tag (as the RL reward reads it); else the last number in the text, leaving out percentages (so a
closing "with 80% power" is not read as the answer). ``<think>`` blocks are ignored. Numbers may
carry thousands separators ("1,200", "1 200"); "240.0" reads as 240.

Metrics (gold: ``record["answer"]``):

* ``accuracy``: share of samples with ``0.8*y <= pred <= 1.2*y``
  (:func:`..metrics.within_tolerance`, the reference's rule); an unparsed or zero prediction is
  wrong. The reference applies ``int()`` to the predicted value, so a non-integral value there is
  wrong; here it is compared as the number it is (240.5 is within 20% of 240).
* ``mae``: the mean absolute error over the parsed predictions only (None when none parsed), so it
  reads together with ``unparsed``.
"""
from __future__ import annotations

from ..metrics import mae, mean, within_tolerance
from ..parsing import answer_tag, as_number, find_json, find_key, first_number, last_number, strip_think
from .base import Parsed, TaskScorer, unparsed

KEYS = ("sample_size_needed", "sample_size", "total_sample_size")


class SampleSizeScorer(TaskScorer):
    task = "sample_size_estimation"

    def _parse(self, output: str) -> Parsed:
        text = strip_think(output)
        obj = find_json(text, *KEYS)
        if obj is not None:
            value = as_number(find_key(obj, *KEYS))
            if value is not None:
                return Parsed(value, True)
        tag = answer_tag(text)
        if tag is not None:
            value = first_number(tag)
            if value is not None:
                return Parsed(value, True)
        value = last_number(text, skip_percent=True)
        return Parsed(value, True) if value is not None else unparsed("no number found")

    def score_sample(self, record: dict, output: str, env=None) -> dict:
        parsed = self.parse(output)
        gold = record.get("answer")
        pred = parsed.value if parsed.ok else None
        row = self.base_row(record, parsed)
        row.update(gold=gold, pred=pred, correct=within_tolerance(pred, gold),
                   abs_error=abs(pred - gold) if pred is not None and isinstance(gold, (int, float)) else None)
        return row

    def aggregate(self, rows: list[dict]) -> dict:
        return {"accuracy": mean(float(r["correct"]) for r in rows),
                "mae": mae([r["gold"] for r in rows], [r["pred"] for r in rows]), **self.counts(rows)}
