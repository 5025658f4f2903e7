"""The baseline interface and what the baselines share: answer formatting and text helpers.

A baseline learns from a task's train records (``task_samples.record`` dicts) and answers one
record at a time with raw text in the task's answer format, so the task's parser reads it like a
model's output. Baselines need no model weights, are deterministic and never fail on an empty
train set (each documents its fallback).
"""
from __future__ import annotations

import json
import re
from abc import ABC, abstractmethod

# English function words plus the words every clinical or review text uses; never a search concept
# and never a useful similarity feature on their own.
STOP_WORDS = frozenset("""a about above after again against all also am among an and any are as at be because been
before being below between both but by can could did do does doing down during each either else etc few for from
further had has have having here how however i if in into is it its itself just least less may might more most
much must my neither no nor not now of off on once only or other others our out over own per same should since so
some such than that the their them then there these they this those through to too under until up upon us very
via was we were what when where whether which while who whom whose why will with within without would yet you
versus vs compared comparison compare comparing between among different specific specifically any including
include included includes e g i.e eg ie one two three four five six seven eight nine ten first second third
systematic review reviews meta analysis analyses metaanalysis meta-analysis meta-analyses network scoping update
study studies trial trials randomized randomised controlled control controls quasi rct rcts cct ccts evidence
assess assessing evaluate evaluating evaluation determine determining examine investigate investigating identify
summarise summarize quantify measure measured explore effect effects efficacy effectiveness efficacious safety
safe impact benefit benefits harms harm outcome outcomes use used using patient patients people person persons
participant participants subject subjects individuals population populations adults adult children child
intervention interventions treatment treatments therapy therapies therapeutic management strategy strategies
approach approaches method methods type types primary secondary objective objectives aim aims criteria selection
background compared relative effective versus reduce reducing reduction increase increasing improve improving
improvement prevent preventing prevention treat treating risk rate rates term long short based associated related
due given well whereas thus therefore although who's status standard usual care placebo""".split())

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:['\-][A-Za-z0-9]+)*")


def words(text: str | None) -> list[str]:
    """Lower-case words of a text (letters first; inner hyphens and apostrophes kept)."""
    return [w.lower() for w in _WORD.findall(text or "")]


def fenced_json(obj: dict) -> str:
    """A ```json fenced JSON object, as the multiple-choice and sample-size tasks answer."""
    return "```json\n" + json.dumps(obj, ensure_ascii=False) + "\n```"


def mc_answer(letter: str, thinking: str) -> str:
    """A multiple-choice answer in the tasks' format."""
    return fenced_json({"step_by_step_thinking": thinking, "answer_choice": letter})


class Baseline(ABC):
    """A model-free predictor for one task: ``fit`` on train records, then ``predict`` raw answer text."""
    name: str = "baseline"
    task: str = ""

    def fit(self, train: list[dict], con=None) -> "Baseline":
        return self

    @abstractmethod
    def predict(self, record: dict) -> str:
        """The raw answer text for one record, in the task's answer format."""

    def predict_all(self, records: list[dict]) -> list[str]:
        return [self.predict(r) for r in records]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(task={self.task!r}, name={self.name!r})"
