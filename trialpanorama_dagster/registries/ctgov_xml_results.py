"""``<clinical_results>`` of a legacy ClinicalTrials.gov XML record, in the API v2 shape.

The legacy results are read into the parts of API v2's ``resultsSection`` the warehouse uses
(baseline denominators, outcome measures, adverse events), so that ``ctgov_results`` builds
the ``results`` and ``adverse_events`` rows of both formats with the same code.
"""
from __future__ import annotations

from lxml import etree

from .common import clean_text, enum_name


def text(el: etree._Element | None, path: str) -> str | None:
    """The stripped text of the first ``path`` under ``el``; None when absent or a placeholder."""
    return None if el is None else clean_text(el.findtext(path))


def results_section(cr: etree._Element) -> dict:
    """``<clinical_results>`` -> ``{baselineCharacteristicsModule, outcomeMeasuresModule, adverseEventsModule}``."""
    baseline = cr.find("baseline")
    return {
        "baselineCharacteristicsModule": {} if baseline is None else {
            "groups": _groups(baseline), "denoms": _denoms(baseline)},
        "outcomeMeasuresModule": {"outcomeMeasures": [_outcome(o) for o in cr.iterfind("outcome_list/outcome")]},
        "adverseEventsModule": _adverse_events(cr.find("reported_events")),
    }


def _groups(el: etree._Element) -> list[dict]:
    return [{"id": g.get("group_id"), "title": text(g, "title")} for g in el.iterfind("group_list/group")]


def _denoms(el: etree._Element) -> list[dict]:
    """``analyzed_list/analyzed`` (participants analysed per group) as v2 ``denoms``."""
    return [{"units": text(a, "units"),
             "counts": [{"groupId": c.get("group_id"), "value": c.get("value")}
                        for c in a.iterfind("count_list/count")]}
            for a in el.iterfind("analyzed_list/analyzed")]


def _outcome(o: etree._Element) -> dict:
    m = o.find("measure")
    if m is None:
        m = etree.Element("measure")
    return {
        "type": enum_name(text(o, "type")),  # Primary / Secondary / Other Pre-specified / Post-Hoc
        "title": text(o, "title") or text(m, "title"),
        "populationDescription": text(o, "population") or text(m, "population"),
        "paramType": enum_name(text(m, "param")),  # "Count of Participants" -> COUNT_OF_PARTICIPANTS
        "dispersionType": text(m, "dispersion"),  # v2 keeps the display text here too
        "unitOfMeasure": text(m, "units"),
        "timeFrame": text(o, "time_frame"),
        "groups": _groups(o),
        "denoms": _denoms(m),
        "classes": [{
            "title": text(cls, "title"),
            "categories": [{
                "title": text(cat, "title"),
                "measurements": [{
                    "groupId": x.get("group_id"), "value": x.get("value"), "spread": x.get("spread"),
                    "lowerLimit": x.get("lower_limit"), "upperLimit": x.get("upper_limit"),
                } for x in cat.iterfind("measurement_list/measurement")],
            } for cat in cls.iterfind("category_list/category")],
        } for cls in m.iterfind("class_list/class")],
    }


def _adverse_events(rep: etree._Element | None) -> dict:
    """serious/other events, one per term; the "Total" category (per-group totals) is left out,
    as API v2 carries those totals on its event groups, not as events."""
    if rep is None:
        return {}
    out: dict[str, list[dict]] = {}
    for tag, key in (("serious_events", "seriousEvents"), ("other_events", "otherEvents")):
        section = rep.find(tag)
        if section is None:
            continue
        vocab, assessment = text(section, "default_vocab"), text(section, "default_assessment")
        events = out.setdefault(key, [])
        for cat in section.iterfind("category_list/category"):
            organ_system = text(cat, "title")
            if (organ_system or "").lower() == "total":
                continue
            for ev in cat.iterfind("event_list/event"):
                sub_title = ev.find("sub_title")
                events.append({
                    "term": text(ev, "sub_title"),
                    "organSystem": organ_system,
                    "sourceVocabulary": (clean_text(sub_title.get("vocab")) if sub_title is not None else None) or vocab,
                    "assessmentType": enum_name(text(ev, "assessment") or assessment),
                    "notes": text(ev, "description"),
                    "stats": [{"groupId": c.get("group_id"), "numAffected": c.get("subjects_affected"),
                               "numAtRisk": c.get("subjects_at_risk"), "numEvents": c.get("events")}
                              for c in ev.iterfind("counts")],
                })
    return out
