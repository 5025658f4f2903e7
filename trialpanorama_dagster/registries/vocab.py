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
    # roman numerals only as words ("IIb" ok; not the "iv" in "Bioequivalence", CTIS phase texts)
    for tok in re.findall(r"\b(?:iv|iii|ii|i)(?=[ab]?\b)|[0-4]", re.sub(r"phase", " ", low)):
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
    # WHO ICTRP spellings of the registries' own statuses
    "closed to recruitment of participants": "ACTIVE_NOT_RECRUITING", "closed to recruitment": "ACTIVE_NOT_RECRUITING",
    "recruitment completed": "ACTIVE_NOT_RECRUITING", "recruitment complete": "ACTIVE_NOT_RECRUITING",
    "no longer recruiting": "ACTIVE_NOT_RECRUITING", "pending (not yet recruiting)": "NOT_YET_RECRUITING",
    "authorised-recruitment may be ongoing or finished": "NOT_YET_RECRUITING",  # as EUCTR "Authorised"
    # EU CTR (per member state) and CTIS (overall / per member state) wording
    "restarted": "ACTIVE_NOT_RECRUITING", "suspended by ca": "SUSPENDED", "halted": "SUSPENDED",
    "not authorised": "WITHDRAWN", "prohibited by ca": "WITHDRAWN", "cancelled": "WITHDRAWN",
    "expired": "WITHDRAWN", "revoked": "TERMINATED", "ended": "COMPLETED", "early termination": "TERMINATED",
    "terminated early": "TERMINATED", "under evaluation": "NOT_YET_RECRUITING",
    "authorised, not started": "NOT_YET_RECRUITING", "authorised, recruitment pending": "NOT_YET_RECRUITING",
    "ongoing, not yet recruiting": "NOT_YET_RECRUITING", "authorised, recruiting": "RECRUITING",
    "ongoing, recruiting": "RECRUITING", "ongoing, recruitment ended": "ACTIVE_NOT_RECRUITING",
    # ISRCTN status overrides; ChiCTR ("Suspending", "Temporary halt") and its Chinese labels
    "anticipated": "NOT_YET_RECRUITING", "suspending": "SUSPENDED", "temporary halt": "SUSPENDED",
    "正在进行": "RECRUITING", "正在招募": "RECRUITING", "尚未开始": "NOT_YET_RECRUITING", "结束": "COMPLETED",
    "已完成": "COMPLETED", "暂停或中断": "SUSPENDED", "暂停": "SUSPENDED", "终止": "TERMINATED",
}


def status(text: str | None) -> str | None:
    """Recruitment / trial status text -> the ClinicalTrials.gov overallStatus code."""
    if not text:
        return None
    t = re.sub(r"\s+", " ", text.strip().lower())
    if t.upper().replace(" ", "_") in set(_STATUS.values()):
        return t.upper().replace(" ", "_")
    return _STATUS.get(t)


_SEX_ZH = {"男女均可": "ALL", "男女": "ALL", "不限": "ALL", "男性": "MALE", "男": "MALE", "女性": "FEMALE", "女": "FEMALE"}


def sex(text: str | None) -> str | None:
    """"Both", "Both males and females", "M", "female" ... -> ALL / MALE / FEMALE."""
    if not text:
        return None
    t = text.strip().lower()
    if t in _SEX_ZH:
        return _SEX_ZH[t]
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
