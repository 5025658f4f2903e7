"""The why-stopped rule set: registry reasons to the completion task's termination classes."""
from __future__ import annotations

import pytest

from trialpanorama_dagster.tasks.termination import CLASSES, OTHER, classify_termination, strip_disclaimers

ENROLLMENT, FEASIBILITY, EFFICACY, REGULATORY, SAFETY = ("enrollment issues", "feasibility", "lack of efficacy",
                                                         "regulatory/approval", "safety issues")

TABLE = [
    # the embedded registry records
    ("Participant recruitment issue", ENROLLMENT),
    ("Corporate business decision. Not due to safety or efficacy concerns.", FEASIBILITY),
    ("Staff shortage", FEASIBILITY),
    ("Enrollment took longer than anticipated; it was financially and logistically impossible to recruit the "
     "final cohort (G6PDd 0.4mg/kg PQ).", ENROLLMENT),
    ("a pilot study of 7 patients did not reveal a temperature dependent difference in glycation rates", EFFICACY),
    ("recruiting or enrolling participants has halted prematurely and will not resume", OTHER),
    ("Change in study design to quality improvement", OTHER),
    ("Ended follow-up after four years", OTHER),
    # reasons as registries word them
    ("Slow accrual", ENROLLMENT),
    ("Low enrollment", ENROLLMENT),
    ("Insufficient number of eligible patients", ENROLLMENT),
    ("The study was stopped for futility at the interim analysis", EFFICACY),
    ("Lack of efficacy", EFFICACY),
    ("DSMB recommended termination: primary endpoint not met", EFFICACY),
    ("Interim analysis showed no significant difference between arms", EFFICACY),
    ("Unacceptable toxicity in the first dose cohort", SAFETY),
    ("Terminated due to serious adverse events", SAFETY),
    ("Safety concerns raised by the data monitoring committee", SAFETY),
    ("Sponsor decision, not related to any safety concern", FEASIBILITY),
    ("The company decided to discontinue the development program for strategic reasons; no safety issues "
     "were identified", FEASIBILITY),
    ("Lack of funding", FEASIBILITY),
    ("Study drug supply no longer available from the manufacturer", FEASIBILITY),
    ("PI left the institution", FEASIBILITY),
    ("Death of the principal investigator", FEASIBILITY),
    ("COVID-19 pandemic restrictions at the site", FEASIBILITY),
    ("FDA placed the study on clinical hold", REGULATORY),
    ("Ethics committee approval was withdrawn", REGULATORY),
    ("Regulatory authority did not grant the import licence", REGULATORY),
    ("The drug was not approved by the competent authority", REGULATORY),
    ("Terminated for business reasons unrelated to safety or efficacy", FEASIBILITY),
    ("", OTHER),
    (None, OTHER),
    ("Terminated", OTHER),
]


@pytest.mark.parametrize("reason,expected", TABLE, ids=[str(r)[:40] for r, _ in TABLE])
def test_rule_table(reason, expected):
    assert classify_termination(reason) == expected


def test_table_covers_every_class():
    assert len(TABLE) >= 25
    assert {c for _, c in TABLE} == {*CLASSES, OTHER}


def test_disclaimers_are_cut_but_negative_findings_are_kept():
    assert "safety" not in strip_disclaimers("corporate decision. not due to safety or efficacy concerns.")
    assert "no safety" not in strip_disclaimers("stopped early; no safety concerns were observed")
    kept = strip_disclaimers("the pilot did not reveal a difference")
    assert "did not reveal a difference" in kept


def test_deterministic_and_case_insensitive():
    reason = "SLOW RECRUITMENT"
    assert classify_termination(reason) == classify_termination(reason.lower()) == ENROLLMENT
