"""Why a trial stopped: the registry's free-text reason mapped to the completion task's classes.

The five classes of the reference's system prompt, plus ``other`` for reasons that name none of
them (or no reason at all)::

    enrollment issues | feasibility | lack of efficacy | regulatory/approval | safety issues | other

The rules are deterministic and ordered; the first that matches wins:

0. Blank, or the registry's own definition of "terminated" pasted as the reason (it says that the
   trial stopped, not why) -> ``other``.
1. Disclaimers are cut before matching: "not due to safety or efficacy concerns", "unrelated to
   safety", "no safety issues", "non-safety" ... so a denial never reads as the reason.
2. ``safety issues``: safety concerns/signals, adverse events, toxicity, side effects, deaths, harm,
   an unfavourable risk-benefit balance.
3. ``lack of efficacy``: futility, lack/absence of efficacy or benefit, "did not show/reveal/
   demonstrate ... difference/benefit/effect", "no (significant) difference", failed or unlikely to
   meet the endpoint, ineffective, negative interim results. (Matched on the disclaimer-free text,
   so "no difference" counts but "not due to efficacy" does not.)
4. ``enrollment issues``: recruitment, enrollment, accrual, too few (eligible) participants, low
   uptake.
5. ``regulatory/approval``: regulators (FDA, EMA, MHRA ...), ethics committees/IRBs, approvals,
   licences, permits, clinical holds, import or authorisation issues.
6. ``feasibility``: funding, budget, money; sponsor, business, corporate, strategic or portfolio
   decisions; logistics, staff, investigators leaving, drug/device supply or manufacturing, sites
   closing, the pandemic, contracts, feasibility itself. (The investigator's own death or illness is
   checked before rule 2, so it does not read as a safety issue.)
7. Anything else -> ``other`` (e.g. "Ended follow-up after four years").

Business and sponsor decisions count as feasibility: the reference has no "business" class, and
they are decisions about whether the trial can go on, not about the treatment.
"""
from __future__ import annotations

import re

CLASSES = ("enrollment issues", "feasibility", "lack of efficacy", "regulatory/approval", "safety issues")
OTHER = "other"

_BOILERPLATE = re.compile(
    r"^(?:terminated\.?|recruiting or enrolling participants has halted prematurely and will not resume"
    r"(?:; participants are no longer being examined or treated)?\.?|study (?:was )?terminated\.?)$")

# Denials ("not due to safety", "unrelated to efficacy", "no safety concerns"): removed up to the
# end of the clause so their words never match a rule.
_DISCLAIMERS = (
    re.compile(r"\b(?:not|never|nor)\s+(?:(?:due|related|owing|attributable)\s+to|because\s+of|based\s+on|"
               r"(?:as\s+)?a\s+result\s+of|for|caused\s+by|driven\s+by)\b[^.;]*"),
    re.compile(r"\b(?:unrelated\s+to|irrespective\s+of|regardless\s+of|independent(?:ly)?\s+of)\b[^.;]*"),
    re.compile(r"\b(?:no|without(?:\s+any)?|absence\s+of)\s+(?:\w+\s+){0,2}(?:safety|efficacy|tolerability)\s+"
               r"(?:or\s+\w+\s+)?(?:concerns?|issues?|signals?|reasons?|problems?|findings?)\b"),
    re.compile(r"\bnon[- ](?:safety|efficacy)(?:[- ]related)?\b"),
)

_RULES: tuple[tuple[str, re.Pattern], ...] = (
    # the investigator's own death or illness stops a trial for want of staff, not for safety
    ("feasibility", re.compile(r"\b(?:death|illness|passing|loss)\s+of\s+(?:the\s+)?(?:pi|principal\s+investigator|"
                               r"investigator|study\s+coordinator)\b")),
    ("safety issues", re.compile(
        r"\bsafety\b|\badverse\s+(?:events?|reactions?|effects?)\b|\bsaes?\b|\btoxicit|\btoxic\b|\bside[- ]effects?\b"
        r"|\bdeaths?\b|\bfatal|\bmortality\b|\bharm(?:ful)?\b|risk[- /]benefit|benefit[- /]risk|\bhepatotox"
        r"|\bintolera(?:ble|nce)\b|\bserious\s+(?:events?|complications?)\b")),
    ("lack of efficacy", re.compile(
        r"\bfutil|\black\s+of\s+(?:\w+\s+){0,2}(?:efficacy|effect|benefit|response|activity)\b|\bineffective\b"
        r"|\b(?:insufficient|inadequate|limited|poor)\s+(?:\w+\s+)?(?:efficacy|effect|benefit|response|activity)\b"
        r"|\b(?:did|does|do|could|would)\s*n[o']t\s+(?:\w+\s+){0,2}(?:show|reveal|demonstrate|meet|achieve|reach|"
        r"support|confirm|find)\b[^.;]*\b(?:difference|benefit|effect|efficacy|superiority|endpoint|improvement|"
        r"advantage)"
        r"|\bno\s+(?:\w+\s+){0,2}(?:difference|benefit|effect|efficacy|improvement|advantage|signal\s+of\s+efficacy)\b"
        r"|\b(?:failed|unlikely)\s+to\s+(?:\w+\s+){0,2}(?:meet|show|demonstrate|achieve|reach)\b"
        r"|\bnot\s+(?:effective|efficacious|superior)\b|\bnegative\s+(?:interim\s+)?(?:results?|data|findings?)\b"
        r"|\bprimary\s+end\s?point\s+(?:was\s+)?not\s+met\b")),
    ("enrollment issues", re.compile(
        r"\brecruit|\benrol|\baccru|\baccrual|\b(?:few|insufficient|lack\s+of|low\s+number\s+of|not\s+enough)\s+"
        r"(?:\w+\s+){0,3}(?:patients|participants|subjects|volunteers|cases)\b|\blow\s+(?:participation|uptake|"
        r"inclusion)\b|\bslow\s+inclusion\b|\bscreen\s+failures?\b")),
    ("regulatory/approval", re.compile(
        r"\bregulat|\bfda\b|\bema\b|\bmhra\b|\bhealth\s+canada\b|\bcompetent\s+authorit|\bethic|\birb\b|\bhrec\b"
        r"|\binstitutional\s+review\s+board\b|\bapprov|\blicen[cs]|\bpermit|\bclinical\s+hold\b|\bauthori[sz]ation\b"
        r"|\bimport\s+(?:licen|permit|restriction)|\blegal\b|\blaw\b|\bgcp\s+(?:issues?|violation)")),
    ("feasibility", re.compile(
        r"\bfund|\bbudget|\bfinanc|\bmoney\b|\bcosts?\b|\bsponsor\b|\bbusiness\b|\bcorporate\b|\bcompany\b"
        r"|\bcommercial\b|\bstrateg|\bportfolio\b|\bpriorit|\blogistic|\bstaff|\bpersonnel\b|\bresources?\b"
        r"|\b(?:pi|investigator|coordinator)\s+(?:left|moved|retired|relocated|departed)\b|\bleft\s+the\s+institution\b"
        r"|\bsupply\b|\bmanufactur|\bunavailab|\bno\s+longer\s+available\b|\bsites?\s+(?:closed|closure)\b"
        r"|\bpandemic\b|\bcovid|\bcontract|\bfeasib|\bacquisition\b|\bmerger\b|\bbankrupt|\bdevelopment\s+"
        r"(?:program|programme)\b")),
)


def strip_disclaimers(text: str) -> str:
    for pattern in _DISCLAIMERS:
        text = pattern.sub(" ", text)
    return text


def classify_termination(reason: str | None) -> str:
    """The class of a why-stopped text (see the module docstring for the rules and their order)."""
    text = re.sub(r"\s+", " ", (reason or "").lower()).strip()
    if not text or _BOILERPLATE.match(text):
        return OTHER
    text = strip_disclaimers(text)
    for cls, pattern in _RULES:
        if pattern.search(text):
            return cls
    return OTHER
