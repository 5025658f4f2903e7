"""Metric functions of the benchmark: pure Python, no state, ``None`` for what an input cannot define.

Retrieval (study search), as the reference computes them:

* ``recall_at(ranked, relevant, k) = |set(ranked[:k]) ∩ relevant| / |relevant|``; None when there
  is no relevant id (undefined), 0.0 for an empty ranking.
* ``precision_at(ranked, relevant, k) = |set(ranked[:k]) ∩ relevant| / k`` (divided by k even when
  fewer than k ids came back, as the reference does); ``k`` must be at least 1.

Binary classification (:func:`binary_metrics`, :class:`Confusion`): ``gold`` holds booleans
(True = positive), ``pred`` booleans or None. A None prediction (an answer that could not be read)
is wrong whatever the gold: a false negative for a positive, a false positive for a negative.
Accuracy ``(tp+tn)/n``, precision ``tp/(tp+fp)``, recall ``tp/(tp+fn)``, F1 ``2tp/(2tp+fp+fn)``,
specificity ``tn/(tn+fp)``; a zero denominator gives 0.0 (sklearn's ``zero_division=0``); no
sample at all gives None for every figure.

Multi-class (labels are any hashable values; a None prediction matches no label):

* :func:`accuracy`: share of exact matches.
* :func:`macro_f1`: the unweighted mean over ``labels`` (default: the labels present in ``gold``)
  of each label's F1 ``2tp/(2tp+fp+fn)`` (0.0 when that denominator is 0). A prediction outside
  the label set (or None) still counts as a miss for its gold label. With ``labels=None`` this is
  sklearn's ``f1_score(average="macro", labels=sorted(set(gold)), zero_division=0)``.
* :func:`balanced_accuracy`: the mean recall over the gold classes present (sklearn's
  ``balanced_accuracy_score``, which also leaves out classes that are only predicted).

Regression: :func:`mae` is the mean absolute error over the pairs where both values are numbers.

Sample size (reference rule, also the RL reward's): :func:`within_tolerance` is
``(1 - tol) * y <= pred <= (1 + tol) * y`` computed in floating point exactly as written (so with
``tol=0.2`` the bounds are the reference's ``0.8 * y`` and ``1.2 * y``). False for a missing,
boolean, non-numeric, non-finite or zero prediction, and for a missing, non-numeric, non-finite or
non-positive target (an enrollment is a positive count). Numeric strings ("240", "1,200") are read
as numbers; anything else is non-numeric.
"""
from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass

from .parsing import numbers


def _hits(ranked: Sequence[str], relevant: Iterable[str], k: int) -> tuple[int, int]:
    if k < 1:
        raise ValueError(f"k must be at least 1, not {k}")
    rel = set(relevant)
    return len(set(list(ranked)[:k]) & rel), len(rel)


def recall_at(ranked: Sequence[str], relevant: Iterable[str], k: int) -> float | None:
    hits, n_rel = _hits(ranked, relevant, k)
    return hits / n_rel if n_rel else None


def precision_at(ranked: Sequence[str], relevant: Iterable[str], k: int) -> float:
    return _hits(ranked, relevant, k)[0] / k


def _ratio(num: float, den: float) -> float:
    return num / den if den else 0.0


@dataclass(frozen=True)
class Confusion:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    @classmethod
    def of(cls, gold: Sequence[bool], pred: Sequence[bool | None]) -> "Confusion":
        _check(gold, pred)
        tp = fp = fn = tn = 0
        for g, p in zip(gold, pred):
            if p is None:                 # unreadable: wrong either way
                p = not g
            if g and p:
                tp += 1
            elif g:
                fn += 1
            elif p:
                fp += 1
            else:
                tn += 1
        return cls(tp, fp, fn, tn)

    @property
    def n(self) -> int:
        return self.tp + self.fp + self.fn + self.tn

    def metrics(self) -> dict[str, float | None]:
        if not self.n:
            return {k: None for k in ("accuracy", "precision", "recall", "f1", "specificity")}
        return {"accuracy": (self.tp + self.tn) / self.n,
                "precision": _ratio(self.tp, self.tp + self.fp),
                "recall": _ratio(self.tp, self.tp + self.fn),
                "f1": _ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn),
                "specificity": _ratio(self.tn, self.tn + self.fp)}


def _check(gold: Sequence, pred: Sequence) -> None:
    if len(gold) != len(pred):
        raise ValueError(f"gold and pred differ in length: {len(gold)} != {len(pred)}")


def binary_metrics(gold: Sequence[bool], pred: Sequence[bool | None]) -> dict[str, float | None]:
    """accuracy, precision, recall, f1, specificity with positive = True (see module docstring)."""
    return Confusion.of(gold, pred).metrics()


def precision(gold: Sequence[bool], pred: Sequence[bool | None]) -> float | None:
    return binary_metrics(gold, pred)["precision"]


def recall(gold: Sequence[bool], pred: Sequence[bool | None]) -> float | None:
    return binary_metrics(gold, pred)["recall"]


def f1(gold: Sequence[bool], pred: Sequence[bool | None]) -> float | None:
    return binary_metrics(gold, pred)["f1"]


def specificity(gold: Sequence[bool], pred: Sequence[bool | None]) -> float | None:
    return binary_metrics(gold, pred)["specificity"]


def accuracy(gold: Sequence[Hashable], pred: Sequence[Hashable | None]) -> float | None:
    """Share of predictions equal to their gold label (None is never equal)."""
    _check(gold, pred)
    if not gold:
        return None
    return sum(p is not None and p == g for g, p in zip(gold, pred)) / len(gold)


def macro_f1(gold: Sequence[Hashable], pred: Sequence[Hashable | None],
             labels: Iterable[Hashable] | None = None) -> float | None:
    _check(gold, pred)
    labels = sorted(set(gold), key=repr) if labels is None else list(dict.fromkeys(labels))
    if not gold or not labels:
        return None
    scores = []
    for label in labels:
        tp = sum(g == label and p == label for g, p in zip(gold, pred))
        fp = sum(g != label and p == label for g, p in zip(gold, pred))
        fn = sum(g == label and p != label for g, p in zip(gold, pred))
        scores.append(_ratio(2 * tp, 2 * tp + fp + fn))
    return sum(scores) / len(scores)


def balanced_accuracy(gold: Sequence[Hashable], pred: Sequence[Hashable | None]) -> float | None:
    _check(gold, pred)
    if not gold:
        return None
    recalls = []
    for label in sorted(set(gold), key=repr):
        idx = [i for i, g in enumerate(gold) if g == label]
        recalls.append(sum(pred[i] is not None and pred[i] == label for i in idx) / len(idx))
    return sum(recalls) / len(recalls)


def _finite(value) -> float | None:
    """A value read as a finite number (numbers as they are, numeric strings by their one number)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip().replace(",", ""))
        except ValueError:
            found = numbers(value)
            if len(found) != 1:
                return None
            value = found[0]
    try:
        x = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return x if math.isfinite(x) else None


def mae(gold: Sequence, pred: Sequence) -> float | None:
    """Mean absolute error over the pairs where both are numbers; None when there is none."""
    _check(gold, pred)
    read = ((_finite(g), _finite(p)) for g, p in zip(gold, pred))
    pairs = [(g, p) for g, p in read if g is not None and p is not None]
    return sum(abs(g - p) for g, p in pairs) / len(pairs) if pairs else None


def within_tolerance(pred, target, tol: float = 0.2) -> bool:
    """The reference's sample-size rule ``0.8*y <= pred <= 1.2*y`` (see module docstring)."""
    y, p = _finite(target), _finite(pred)
    if y is None or p is None or y <= 0 or p == 0:
        return False
    return (1 - tol) * y <= p <= (1 + tol) * y


def mean(values: Iterable[float | None]) -> float | None:
    """The mean of the values that are not None; None when there is none."""
    vals = [v for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None
