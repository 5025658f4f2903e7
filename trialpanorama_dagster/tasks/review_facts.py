"""Facts about a review read from its own text by fixed rules: intervention and population from the
title, the direction of its stated conclusion, and a keyword search query.

Title rules (the part before a ``: ``/``? `` subtitle, without parentheses, leading "Efficacy of",
"Effect of", "Survival outcomes of", "A systematic review of"... removed), tried in order:
``Is X superior to Y in/for Z`` · ``Comparison of X and/with/versus Y for/in Z`` ·
``X versus/vs/compared with/compared to Y for/in/during Z`` · ``X for (preventing|treating)? Z`` /
``X to prevent/treat/relieve/avert Z`` · ``X in patients/people/adults/children/women/men with Z``.
X (with Y: "X versus Y") is the intervention or comparison, Z the population or condition. X is
not an intervention when it is a question or a sentence ("Are ...", "... is ..."), longer than six
words, generic ("Interventions"), or, in the last rule, not after a removed "Efficacy of"-like prefix
(in "Nephrotoxicity in patients with Z" it is an outcome); then only that last rule still gives Z.
Without a title match, ``Population:``/``Types of participants:`` and ``Intervention:`` lines of the
selection criteria are used (numbered items "1. A; 2. B" read as "A versus B").

Conclusion rules: the conclusion is the first sentence after a ``Conclusion(s)``/``Interpretation``/
``Authors' conclusions`` heading in the review's abstract (its background field), or the sentence
that starts "In conclusion"; without one there is no conclusion. That sentence is classified by the
first matching phrase list, in this order: insufficient evidence, no clear difference, harm,
benefit; no match gives no conclusion.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .review_data import Review

_PREFIX = re.compile(r"^(?:(?:a )?(?:systematic review|meta-analysis)(?: and meta-analysis)? of (?:the )?|"
                     r"(?:the )?(?:(?:survival|clinical|long-term) )?(?:outcomes?|efficacy|effectiveness|effects?|"
                     r"impact|safety|use|activity)(?: and (?:safety|efficacy|activity|effectiveness|sustainability))?"
                     r" of (?:an? |the )?)", re.I)
_TITLE_RULES = [
    re.compile(r"^is (?P<x>.+?) superior to (?P<y>.+?) (?:in|for) (?P<z>.+)$", re.I),
    re.compile(r"^comparison of (?P<x>.+?) (?:and|with|versus|vs\.?) (?P<y>.+?) (?:for|in) (?P<z>.+)$", re.I),
    re.compile(r"^(?P<x>.+?) (?:versus|vs\.?|compared with|compared to) (?P<y>.+?) (?:for|in|during) (?P<z>.+)$",
               re.I),
    re.compile(r"^(?P<x>.+?) (?:for (?:preventing |treating |the treatment of |the prevention of )?|"
               r"to (?:prevent|treat|relieve|avert) )(?P<z>.+)$", re.I),
    re.compile(r"^(?P<x>.+?) in (?:patients|people|adults|children|women|men) with (?P<z>.+)$", re.I),
]
_POPULATION_ONLY = _TITLE_RULES[-1]      # "X in patients with Z": X is an intervention only after "Efficacy of"
_NOT_INTERVENTION = re.compile(r"^(?:are|is|does|do|can|what|how|which|comparing|estimating|interventions?|"
                               r"treatments?|therapies)\b|\b(?:is|are)\b", re.I)
_Z_PREFIX = re.compile(r"^(?:the treatment of |the management of |patients with |people with |adults with )", re.I)


@dataclass(frozen=True)
class TitleFacts:
    intervention: str | None
    population: str | None


def _read_title(title: str | None) -> tuple[str | None, str | None, str | None]:
    """(X, Y, Z) of the first title rule that matches; X and Y are None when X is not an intervention."""
    main = re.split(r"(?<=[:?])\s", title or "", maxsplit=1)[0].rstrip(":?. ")
    main = re.sub(r"\s*\([^)]*\)", "", main).strip()
    stripped = _PREFIX.sub("", main)
    for rule in _TITLE_RULES:
        m = rule.match(stripped)
        if not m:
            continue
        x, y, z = m.group("x").strip(), (m.groupdict().get("y") or "").strip() or None, _Z_PREFIX.sub("", m.group("z"))
        if _NOT_INTERVENTION.search(x) or len(x.split()) > 6 or (rule is _POPULATION_ONLY and stripped == main):
            if rule is not _POPULATION_ONLY:
                continue                 # "X for Z" with X no intervention says nothing about Z either
            x = y = None
        return x, y, z.strip()
    return None, None, None


def _tidy(text: str | None) -> str | None:
    text = re.sub(r"\s+", " ", (text or "")).strip(" .,;:")
    return text[:1].upper() + text[1:] if text else None


def _criteria_line(criteria: str | None, *names: str) -> str | None:
    for line in (criteria or "").splitlines():
        m = re.match(rf"\s*(?:{'|'.join(names)})\s*:\s*(.+)", line, re.I)
        if m:
            items = [re.sub(r"^\s*\d+\.\s*", "", p) for p in re.split(r";\s*(?=\d+\.)", m.group(1))]
            return " versus ".join(i.strip() for i in items if i.strip())
    return None


def title_facts(review: Review) -> TitleFacts:
    """Intervention (or "X versus Y") and population/condition of a review, each None when not read."""
    x, y, z = _read_title(review.title)
    intervention = f"{_tidy(x)} versus {y}" if x and y else _tidy(x)
    intervention = intervention or _tidy(_criteria_line(review.criteria, "Intervention", "Interventions"))
    population = _tidy(z) or _tidy(_criteria_line(review.criteria, "Population", "Types of participants"))
    ok = (lambda s: s if s and 3 <= len(s) <= 200 else None)
    return TitleFacts(ok(intervention), ok(population))


# ---------------------------------------------------------------- conclusions

CONCLUSIONS = {
    "benefit": "It found a benefit: better outcomes with the treatment or exposure studied, or with one of the "
               "compared options.",
    "no_difference": "It found no clear difference between the compared options.",
    "harm": "It found harm: worse outcomes or more adverse effects with the treatment or exposure studied.",
    "insufficient": "It found the evidence insufficient or too uncertain for a firm conclusion.",
}
_RULES = [
    ("insufficient", r"\binsufficient\b|\binconclusive\b|\buncertain\b|\bunclear\b|limited evidence|"
                     r"not (?:yet )?possible to|no (?:firm|definite) conclusion|lack of (?:good|high)[- ]quality"),
    ("no_difference", r"\bas (?:effective|safe|efficacious)\b[^.]*\bas\b|\bsimilar\b|\bcomparable\b|"
                      r"\bno (?:statistically )?(?:significant |clear |obvious )?differences?\b|"
                      r"differences?[^.]*\bnot (?:uncovered|found|observed|detected)|"
                      r"\bnot (?:significantly )?(?:different|superior)\b|\bdid not (?:show|improve|reduce)\b|"
                      r"\bno (?:benefit|advantage|effect)\b|\bboth\b[^.]*\b(?:effective|safe)\b"),
    ("harm", r"\bharm(?:s|ful)?\b|\bworse\b|\b(?:increase[sd]?|higher|elevated)\b[^.]{0,40}\b(?:risk|incidence|"
             r"toxicit\w*|nephrotoxicity|mortality|adverse)\b"),
    ("benefit", r"\bsuperior\w*\b|\bbetter\b|\bbenefi\w*|\bimprov\w*|\beffective\b|\befficacy\b|\breduc\w*|"
                r"\blower\b|\bsupports?\b|\bpromising\b|\bvalid option\b|\brecommended\b|\bcan be considered\b"),
]
_HEAD = re.compile(r"(?:^|\n|[.:]\s*)(?:[Aa]uthors'? )?"
                   r"(?:[Cc]onclusions?|CONCLUSIONS?|[Ii]nterpretation|INTERPRETATION)(?:\s*[:.]\s*|\s+(?=[A-Z]))")


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+(?=[A-Z])", text) if s.strip()]


def conclusion(review: Review) -> tuple[str, str] | None:
    """(category of :data:`CONCLUSIONS`, the conclusion sentence), or None when the abstract states none."""
    text = review.background or ""
    m = _HEAD.search(text)
    if m:
        sentences = _sentences(text[m.end():])
        sentence = sentences[0] if sentences else ""
    else:
        sentence = next((s for s in _sentences(text) if re.match(r"in conclusion\b", s, re.I)), "")
    sentence = re.split(r"\s+Keywords?:", sentence)[0].strip()
    if not sentence:
        return None
    for kind, pattern in _RULES:
        if re.search(pattern, sentence, re.I):
            return kind, sentence
    return None


# ---------------------------------------------------------------- keyword query

_STOP = set("""a an and are as at be by can does for from in into is it its of on or the to with without via
versus vs compared comparison between among after before during over under than that this these those
systematic review reviews meta analysis analyses metaanalysis network scoping rapid update study studies trial trials
randomized randomised controlled assess evaluate evaluation determine compare effect effects efficacy effectiveness
safety impact outcome outcomes use using patients people participants treatment therapy based different
what whether which who how there their our we meta-analysis meta-analyses meta-regression population
intervention interventions comparison types""".split())


def _terms(text: str, limit: int) -> list[str]:
    out: list[str] = []
    for w in re.findall(r"[A-Za-z][A-Za-z0-9\-/]+", re.sub(r"\([^)]*\)", " ", text)):
        lw = w.lower()
        if lw not in _STOP and len(lw) > 2 and lw not in out:
            out.append(lw)
        if len(out) == limit:
            break
    return out


def _concept(phrase: str) -> str:
    words = _terms(phrase, 4)
    if 1 <= len(phrase.split()) <= 3 and words:
        return f'"{phrase.lower()}"[tiab]'
    return "(" + " AND ".join(f"{w}[tiab]" for w in words) + ")" if len(words) > 1 else f"{words[0]}[tiab]"


def keyword_query(review: Review) -> str:
    """A PubMed query from the review's own words: (intervention OR comparator) AND population when the
    title reads that way, else the first four content words of its title, objectives and criteria
    joined by AND."""
    x, y, z = _read_title(review.title)
    if x and z and _terms(x, 1) and _terms(z, 1):
        arms = " OR ".join(_concept(p) for p in (x, y) if p and _terms(p, 1))
        return f"({arms}) AND {_concept(z)}"
    main = re.split(r"(?<=[:?])\s", review.title or "", maxsplit=1)[0]
    words = _terms(f"{main} {review.objectives or ''} {review.criteria or ''}", 4) or ["review"]
    return " AND ".join(f"{w}[tiab]" for w in words)
