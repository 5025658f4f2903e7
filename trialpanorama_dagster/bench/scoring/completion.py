"""Trial completion assessment and rationalization: will the trial complete, and if not, why.

Parsing (``<think>`` blocks ignored): ``outcome`` and ``termination_reason`` of a JSON object
(fenced or bare); the SFT target's key ``termination_type`` (and ``terminate_type``, ``reason``) is
read as the reason too. Without an object, or without a readable outcome in it: "outcome: X" in
the text, else the one outcome family the text names (none when it names both). Reason without
an object: "reason: X" in the text, else the one class the text names.

* Outcome words: complete, completed, completion, success -> ``complete``; terminate(d),
  termination, stop(ped), halt(ed), withdrawn, discontinued, incomplete, "not complete", fail ->
  ``terminate``.
* Reasons map to :data:`..tasks.termination.CLASSES` or ``other``, compared without case,
  underscores, hyphens or spacing around "/": the class names, the reference parser's fallback
  names (insufficient_enrollment, safety_issues, lack_of_efficacy, regulatory, feasibility) and
  close variants (enrolment/recruitment/accrual, efficacy/futility, regulatory/approval/ethics,
  safety/toxicity/adverse events, funding/business/sponsor/logistics, other/unknown); failing
  those, the keyword rules of :func:`..tasks.termination.classify_termination` (``other`` when none
  matches). null / none / n/a is no reason.

Metrics (gold: ``labels.outcome``; positive = complete, as the reference):

* ``accuracy``, ``precision``, ``recall``, ``f1`` of the outcome (:func:`..metrics.binary_metrics`);
  an unparsed outcome is wrong for each (a false negative when the trial completed, a false
  positive when it terminated);
* ``balanced_accuracy`` (the paper's BAcc-out): mean recall over the gold outcomes present;
* ``reason_balanced_accuracy`` (the paper's BAcc-rt): over the truly terminated samples whose gold
  reason is one of the five CLASSES (``other`` left out), the mean recall over the gold classes
  present, a prediction being the predicted reason when the model predicted ``terminate`` with
  one of the CLASSES, else none (wrong); None without such samples;
* ``reason_accuracy`` (the reference): share of right reasons over the samples both truly and
  predicted terminated (``other`` is a reason like the classes here; a missing gold reason reads
  as ``other``); None without such samples.
"""
from __future__ import annotations

import re

from ...tasks.termination import CLASSES, OTHER, classify_termination
from ..metrics import balanced_accuracy, binary_metrics, mean
from ..parsing import find_json, find_key, strip_think
from .base import Parsed, TaskScorer

OUTCOMES = ("complete", "terminate")
REASON_KEYS = ("termination_reason", "termination_type", "terminate_type", "terminate_reason", "reason")
_TERMINATE = re.compile(r"\b(?:terminat\w*|stop(?:s|ped)?|halt(?:s|ed)?|withdr[ae]wn|discontinu\w*|incomplet\w*"
                        r"|not\s+(?:be\s+)?complet\w*|fail\w*|early\s+terminat\w*)\b", re.I)
_COMPLETE = re.compile(r"\b(?:complet(?:e|ed|es|ion)|success\w*)\b", re.I)
_NONE = {"", "none", "null", "n a", "na", "nan", "not applicable", "no reason"}
_ALIASES = {
    "enrollment issues": ("enrollment issues", "enrollment issue", "enrolment issues", "enrolment issue", "enrollment",
                          "enrolment", "insufficient enrollment", "insufficient enrolment", "low enrollment",
                          "poor enrollment", "slow enrollment", "recruitment", "recruitment issues", "poor recruitment",
                          "low recruitment", "slow recruitment", "accrual", "low accrual", "poor accrual",
                          "slow accrual", "insufficient accrual", "enrollment problems", "recruitment problems"),
    "feasibility": ("feasibility", "feasibility issues", "feasibility issue", "business", "business decision",
                    "business reasons", "funding", "lack of funding", "funding issues", "sponsor decision",
                    "logistics", "logistical issues", "logistical", "operational", "operational issues",
                    "administrative", "strategic", "strategic decision", "financial", "financial issues"),
    "lack of efficacy": ("lack of efficacy", "efficacy", "efficacy issues", "futility", "no efficacy", "inefficacy",
                         "insufficient efficacy", "lack of benefit", "ineffective", "lack efficacy"),
    "regulatory/approval": ("regulatory/approval", "regulatory", "regulatory issues", "regulatory issue", "approval",
                            "approval issues", "regulatory approval", "regulatory or approval",
                            "regulatory and approval", "regulatory/approval issues", "ethics", "ethical approval"),
    "safety issues": ("safety issues", "safety", "safety issue", "safety concerns", "safety concern", "toxicity",
                      "adverse events", "adverse event", "safety reasons"),
    OTHER: ("other", "others", "other reasons", "other reason", "unknown", "miscellaneous"),
}
_LOOKUP = {alias: cls for cls, aliases in _ALIASES.items() for alias in aliases}
_KEYWORDS = (("enrollment issues", re.compile(r"enrol|recruit|accru")),
             ("lack of efficacy", re.compile(r"efficac|futil")),
             ("safety issues", re.compile(r"safety|toxic|adverse")),
             ("regulatory/approval", re.compile(r"regulat|approv")),
             ("feasibility", re.compile(r"feasib|fund|business|logist|sponsor|financ")))


def _norm(text: str) -> str:
    s = re.sub(r"[_\-\s\"'`.,;:!?()\[\]{}]+", " ", text.lower()).strip()
    return re.sub(r"\s*/\s*", "/", s)


def outcome(value) -> str | None:
    """``complete`` / ``terminate`` for an outcome value, None for anything else."""
    if not isinstance(value, str):
        return None
    if _TERMINATE.search(value):
        return "terminate"
    return "complete" if _COMPLETE.search(value) else None


def reason(value) -> str | None:
    """One of CLASSES or ``other`` for a reason value; None for no reason."""
    if value is None or isinstance(value, (bool, dict, list)):
        return None
    s = _norm(str(value))
    if s in _NONE:
        return None
    if s in _LOOKUP:
        return _LOOKUP[s]
    if s.replace("/", " ") in _LOOKUP:
        return _LOOKUP[s.replace("/", " ")]
    found = {cls for cls, pattern in _KEYWORDS if pattern.search(s)}
    if len(found) == 1:
        return found.pop()
    return classify_termination(str(value))


def _said(text: str, key: str, read) -> str | None:
    """The value after the last "key:" in free text, read with ``read``."""
    for m in reversed(list(re.finditer(rf"(?i)\b{key}\w*\W{{0,6}}([^\n]{{1,80}})", text))):
        value = read(m.group(1))
        if value is not None:
            return value
    return None


def _named(text: str, families) -> str | None:
    """The one name of ``families`` whose pattern the text matches; None for none or several."""
    found = {name for name, pattern in families if pattern.search(text)}
    return found.pop() if len(found) == 1 else None


def _class(value) -> str | None:
    r = reason(value)
    return r if r in CLASSES else None


def parse_assessment(output: str) -> Parsed:
    text = strip_think(output)
    obj = find_json(text, "outcome", *REASON_KEYS)
    out = rsn = None
    has_reason_key = False
    if obj is not None:
        out = outcome(find_key(obj, "outcome", "prediction", "status"))
        keys = {re.sub(r"[\s_-]+", "", str(k).lower()) for k in obj}
        has_reason_key = any(k.replace("_", "") in keys for k in REASON_KEYS)
        rsn = reason(find_key(obj, *REASON_KEYS))
    if out is None:
        out = _said(text, "outcome", outcome) or _named(text, (("terminate", _TERMINATE), ("complete", _COMPLETE)))
    if rsn is None and not has_reason_key and out == "terminate":
        rsn = _said(text, "reason", _class) or _named(text.lower(), _KEYWORDS)
    if out is None:
        return Parsed({"outcome": None, "reason": rsn}, False, "no outcome found")
    return Parsed({"outcome": out, "reason": rsn}, True)


class CompletionScorer(TaskScorer):
    task = "trial_completion_assessment"

    def _parse(self, output: str) -> Parsed:
        return parse_assessment(output)

    def score_sample(self, record: dict, output: str, env=None) -> dict:
        parsed = self.parse(output)
        labels = record.get("labels") or {}
        gold_out = labels.get("outcome")
        gold_reason = (labels.get("terminate_type") or OTHER) if gold_out == "terminate" else None
        value = parsed.value or {}
        row = self.base_row(record, parsed)
        row.update(gold_outcome=gold_out, pred_outcome=value.get("outcome"), gold_reason=gold_reason,
                   pred_reason=value.get("reason") if value.get("outcome") == "terminate" else None)
        return row

    def aggregate(self, rows: list[dict]) -> dict:
        gold = [r["gold_outcome"] == "complete" for r in rows]
        pred = [None if r["pred_outcome"] is None else r["pred_outcome"] == "complete" for r in rows]
        out = {k: v for k, v in binary_metrics(gold, pred).items() if k != "specificity"}
        out["balanced_accuracy"] = balanced_accuracy([r["gold_outcome"] for r in rows],
                                                     [r["pred_outcome"] for r in rows])
        rt = [r for r in rows if r["gold_outcome"] == "terminate" and r["gold_reason"] in CLASSES]
        out["reason_balanced_accuracy"] = balanced_accuracy(
            [r["gold_reason"] for r in rt],
            [r["pred_reason"] if r["pred_outcome"] == "terminate" and r["pred_reason"] in CLASSES else None
             for r in rt])
        both = [r for r in rows if r["gold_outcome"] == "terminate" and r["pred_outcome"] == "terminate"]
        out["reason_accuracy"] = mean(float(r["pred_reason"] == r["gold_reason"]) for r in both)
        out.update(self.counts(rows))
        return out
