"""Metric functions against hand-computed values (and sklearn where it defines the same figure)."""
import math
import random

import pytest
from sklearn.metrics import (accuracy_score, balanced_accuracy_score, f1_score, mean_absolute_error,
                             precision_score, recall_score)

from trialpanorama_dagster.bench.metrics import (Confusion, accuracy, balanced_accuracy, binary_metrics, f1, macro_f1,
                                                 mae, mean, precision, precision_at, recall, recall_at, specificity,
                                                 within_tolerance)

# --- retrieval ------------------------------------------------------------------------------------


def test_recall_and_precision_at_k():
    ranked = ["1", "2", "3", "4", "5", "6"]
    relevant = {"2", "5", "9", "10"}
    assert recall_at(ranked, relevant, 3) == 1 / 4
    assert recall_at(ranked, relevant, 5) == 2 / 4
    assert recall_at(ranked, relevant, 100) == 2 / 4
    assert precision_at(ranked, relevant, 3) == 1 / 3
    assert precision_at(ranked, relevant, 100) == 2 / 100      # divided by k, as the reference


def test_retrieval_degenerate_cases():
    assert recall_at([], ["1"], 10) == 0.0
    assert precision_at([], ["1"], 10) == 0.0
    assert recall_at(["1"], [], 10) is None                   # no relevant id: undefined
    assert precision_at(["1"], [], 10) == 0.0
    assert recall_at(["1", "1", "2"], ["1", "2"], 2) == 0.5    # duplicates count once
    with pytest.raises(ValueError):
        recall_at(["1"], ["1"], 0)


# --- binary ---------------------------------------------------------------------------------------

def test_binary_hand_computed():
    gold = [True, True, True, False, False, False, False]
    pred = [True, False, True, True, False, False, False]
    # tp=2 fn=1 fp=1 tn=3
    assert Confusion.of(gold, pred) == Confusion(tp=2, fp=1, fn=1, tn=3)
    m = binary_metrics(gold, pred)
    assert m == {"accuracy": 5 / 7, "precision": 2 / 3, "recall": 2 / 3, "f1": 4 / 6, "specificity": 3 / 4}
    assert (precision(gold, pred), recall(gold, pred), f1(gold, pred), specificity(gold, pred)) == \
        (2 / 3, 2 / 3, 4 / 6, 3 / 4)


def test_binary_unparsed_prediction_is_wrong_either_way():
    # a None for a positive is a false negative, for a negative a false positive
    assert Confusion.of([True, False], [None, None]) == Confusion(tp=0, fp=1, fn=1, tn=0)
    assert binary_metrics([True, False], [None, None])["accuracy"] == 0.0


def test_binary_degenerate():
    assert binary_metrics([], []) == {k: None for k in ("accuracy", "precision", "recall", "f1", "specificity")}
    # no positives at all: precision, recall, f1 are 0.0 (zero division), specificity defined
    assert binary_metrics([False, False], [False, False]) == {"accuracy": 1.0, "precision": 0.0, "recall": 0.0,
                                                              "f1": 0.0, "specificity": 1.0}
    # everything predicted positive
    assert binary_metrics([True, False, False], [True, True, True]) == {
        "accuracy": 1 / 3, "precision": 1 / 3, "recall": 1.0, "f1": 0.5, "specificity": 0.0}
    # one class only (all positive), all right
    assert binary_metrics([True, True], [True, True])["specificity"] == 0.0
    with pytest.raises(ValueError):
        binary_metrics([True], [])


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_binary_matches_sklearn():
    rng = random.Random(3)
    for _ in range(200):
        n = rng.randint(1, 12)
        gold = [rng.random() < 0.4 for _ in range(n)]
        pred = [rng.random() < 0.5 for _ in range(n)]
        m = binary_metrics(gold, pred)
        assert m["accuracy"] == pytest.approx(accuracy_score(gold, pred))
        assert m["precision"] == pytest.approx(precision_score(gold, pred, zero_division=0))
        assert m["recall"] == pytest.approx(recall_score(gold, pred, zero_division=0))
        assert m["f1"] == pytest.approx(f1_score(gold, pred, zero_division=0))
        tn = sum(not g and not p for g, p in zip(gold, pred))
        neg = sum(not g for g in gold)
        assert m["specificity"] == (tn / neg if neg else 0.0)


# --- multi-class ----------------------------------------------------------------------------------

def test_accuracy():
    assert accuracy(["A", "B", "C"], ["A", None, "B"]) == 1 / 3
    assert accuracy([], []) is None


def test_macro_f1_hand_computed():
    gold = ["A", "A", "B", "C"]
    pred = ["A", "B", "B", None]
    # A: tp1 fp0 fn1 -> 2/3; B: tp1 fp1 fn0 -> 2/3; C: tp0 fn1 -> 0
    assert macro_f1(gold, pred) == pytest.approx((2 / 3 + 2 / 3 + 0) / 3)
    # a label set given: D (never gold, never predicted) scores 0 and lowers the mean
    assert macro_f1(gold, pred, labels="ABCD") == pytest.approx((2 / 3 + 2 / 3) / 4)


def test_macro_f1_degenerate():
    assert macro_f1([], []) is None
    assert macro_f1(["A", "A"], ["A", "A"]) == 1.0              # one class only
    assert macro_f1(["A", "B"], ["A", "A"]) == pytest.approx((2 / 3 + 0) / 2)   # all predicted one class
    assert macro_f1(["A", "B"], [None, None]) == 0.0
    # a predicted letter that is never gold is a miss for its gold class, not a class of its own
    assert macro_f1(["A", "B"], ["A", "D"]) == pytest.approx((1 + 0) / 2)


def test_macro_f1_matches_sklearn():
    rng = random.Random(5)
    for _ in range(200):
        n = rng.randint(1, 15)
        gold = [rng.choice("ABCD") for _ in range(n)]
        pred = [rng.choice("ABCD") for _ in range(n)]
        expected = f1_score(gold, pred, labels=sorted(set(gold)), average="macro", zero_division=0)
        assert macro_f1(gold, pred) == pytest.approx(expected)


def test_balanced_accuracy():
    gold = ["c", "c", "c", "t"]
    pred = ["c", "c", "t", "t"]
    assert balanced_accuracy(gold, pred) == pytest.approx((2 / 3 + 1) / 2)
    assert balanced_accuracy(gold, ["c", "c", "c", "c"]) == 0.5                 # all one class
    assert balanced_accuracy(["t", "t"], ["t", None]) == 0.5                     # one class only, one unparsed
    assert balanced_accuracy([], []) is None
    assert balanced_accuracy(["x"], ["y"]) == 0.0


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_balanced_accuracy_matches_sklearn():
    rng = random.Random(11)
    for _ in range(200):
        n = rng.randint(1, 15)
        gold = [rng.choice("abc") for _ in range(n)]
        pred = [rng.choice(gold) for _ in range(n)]           # only gold classes: sklearn then has no warning
        assert balanced_accuracy(gold, pred) == pytest.approx(balanced_accuracy_score(gold, pred))


# --- regression and tolerance ---------------------------------------------------------------------

def test_mae():
    assert mae([100, 200, 300], [110, None, 240]) == (10 + 60) / 2
    assert mae([100, 200], [None, None]) is None
    assert mae([], []) is None
    assert mae([10, 20], [12, 17]) == mean_absolute_error([10, 20], [12, 17])


@pytest.mark.parametrize("pred,target,ok", [
    (240, 240, True), (192, 240, True), (288, 240, True), (191, 240, False), (289, 240, False),
    (191.99, 240, False), (240.5, 240, True), ("240", 240, True), ("1,200", 1000, True), (10, 10, True),
    (8, 10, True), (12, 10, True), (7, 10, False), (13, 10, False),
    (None, 240, False), (0, 240, False), (0.0, 0, False), ("abc", 240, False), (True, 1, False),
    (float("nan"), 240, False), (float("inf"), 240, False), (240, None, False), (240, "n/a", False),
    (240, 0, False), (-240, -240, False), ([240], 240, False),
])
def test_within_tolerance(pred, target, ok):
    assert within_tolerance(pred, target) is ok


def test_within_tolerance_uses_reference_arithmetic():
    # bounds computed as (1 - 0.2) * y and (1 + 0.2) * y, the reference's 0.8 * y and 1.2 * y exactly
    for y in range(1, 2000):
        for p in (math.floor(0.8 * y), math.ceil(0.8 * y), math.floor(1.2 * y), math.ceil(1.2 * y)):
            assert within_tolerance(p, y) is (0.8 * y <= p <= 1.2 * y)
    assert within_tolerance(110, 100, tol=0.1) and not within_tolerance(111, 100, tol=0.1)


def test_mean():
    assert mean([1.0, None, 0.0]) == 0.5
    assert mean([]) is None
    assert mean([None]) is None
