"""One vocabulary for every registry: phases, recruitment statuses and sexes.

Registries spell these many ways ("Phase 2", "Phase II/III", "2-3", "Phase-2", "Therapeutic
exploratory (Phase II)", "0", "Retrospective study"; "Not Recruiting", "Authorised", "Prematurely
Ended"; "Both", "Both males and females"). Each function returns the ClinicalTrials.gov API code
(or None when the text says nothing); callers keep the original text in the ``*_original`` column.
"""
from __future__ import annotations

import re

PHASE_CODES = ("EARLY_PHASE1", "PHASE1", "PHASE2", "PHASE3", "PHASE4", "NA")
_ROMAN = {"iv": "4", "iii": "3", "ii": "2", "i": "1", "0": "0"}
_NOT_APPLICABLE = re.compile(r"^(n/?a|not applicable|not specified|none|0|retrospective study|"
                             r"other|not selected|no)$", re.I)


def phase(text: str | None) -> str | None:
    """Phase text -> ``PHASE1``, ``PHASE1/PHASE2``, ``EARLY_PHASE1``, ``NA`` or None (absent)."""
    if text is None:
        return None
    t = text.strip()
    if not t:
        return None
    low = t.lower()
    if low in PHASE_CODES or low.upper() in PHASE_CODES:
        return low.upper()
    if "early phase 1" in low or "phase 0" in low or low == "early_phase1":
        return "EARLY_PHASE1"
    if _NOT_APPLICABLE.match(low):
        return "NA"
    if "/" in t and all(p.strip().upper() in PHASE_CODES for p in t.split("/")):
        return "/".join(p.strip().upper() for p in t.split("/"))
    # EU CTR / CTIS flag blocks: "... (Phase I): no ... (Phase II): yes ..."
    flagged = re.findall(r"\(phase\s+(iv|iii|ii|i)\)\s*:?\s*(yes|no)", low)
    if flagged:
        nums = sorted({_ROMAN[r] for r, yn in flagged if yn == "yes"})
        return "/".join(f"PHASE{n}" for n in nums) or None
    digits: list[str] = []
    for tok in re.findall(r"iv|iii|ii|i\b|[0-4]", re.sub(r"phase", " ", low)):
        d = _ROMAN.get(tok, tok)
        if d != "0" and d not in digits:
            digits.append(d)
    if not digits:
        return None
    return "/".join(f"PHASE{d}" for d in sorted(digits))


_STATUS = {
    "recruiting": "RECRUITING", "open": "RECRUITING", "open to recruitment": "RECRUITING",
    "not yet recruiting": "NOT_YET_RECRUITING", "pending": "NOT_YET_RECRUITING",
    "not recruiting": "ACTIVE_NOT_RECRUITING", "active, not recruiting": "ACTIVE_NOT_RECRUITING",
    "active not recruiting": "ACTIVE_NOT_RECRUITING", "ongoing": "ACTIVE_NOT_RECRUITING",
    "authorised": "NOT_YET_RECRUITING", "authorized": "NOT_YET_RECRUITING",
    "completed": "COMPLETED", "complete": "COMPLETED", "closed: follow-up complete": "COMPLETED",
    "terminated": "TERMINATED", "prematurely ended": "TERMINATED", "stopped early": "TERMINATED",
    "stopped": "TERMINATED", "halted prematurely": "TERMINATED",
    "withdrawn": "WITHDRAWN", "suspended": "SUSPENDED", "temporarily halted": "SUSPENDED",
    "enrolling by invitation": "ENROLLING_BY_INVITATION", "unknown": "UNKNOWN", "unknown status": "UNKNOWN",
}


def status(text: str | None) -> str | None:
    """Recruitment / trial status text -> the ClinicalTrials.gov overallStatus code."""
    if not text:
        return None
    t = re.sub(r"\s+", " ", text.strip().lower())
    if t.upper().replace(" ", "_") in set(_STATUS.values()):
        return t.upper().replace(" ", "_")
    return _STATUS.get(t)


def sex(text: str | None) -> str | None:
    """"Both", "Both males and females", "M", "female" ... -> ALL / MALE / FEMALE."""
    if not text:
        return None
    t = text.strip().lower()
    if t in ("all", "both", "both males and females", "male and female", "males and females", "m/f",
             "female and male", "any", "both, male and female"):
        return "ALL"
    if t in ("male", "males", "m", "men"):
        return "MALE"
    if t in ("female", "females", "f", "women"):
        return "FEMALE"
    has_m, has_f = "male" in t.replace("female", ""), "female" in t
    if has_m and has_f:
        return "ALL"
    return "FEMALE" if has_f else ("MALE" if has_m else None)
