"""ClinicalTrials.gov API v2 ``resultsSection`` -> ``results`` and ``adverse_events`` rows."""
from __future__ import annotations

import re

from .common import STUDY_TYPE_TRIAL, as_dict, as_float, as_int, as_list, clean_text

def _group_types(arm_groups: list) -> dict[str, str]:
    return {(a.get("label") or "").strip().lower(): a.get("type") for a in arm_groups if isinstance(a, dict)}


def result_rows(nct: str, results: dict, arm_groups: list) -> list[tuple]:
    """One row per outcome measure x group x class/category measurement."""
    types = _group_types(arm_groups)
    rows: list[tuple] = []
    mod = as_dict(results.get("outcomeMeasuresModule"), "outcomeMeasuresModule")
    for om in as_list(mod.get("outcomeMeasures"), "outcomeMeasures"):
        om = as_dict(om, "outcomeMeasures")
        groups = {g.get("id"): g for g in as_list(om.get("groups"), "outcomeMeasures.groups")}
        participants: dict[str, int | None] = {}
        for denom in as_list(om.get("denoms"), "denoms"):
            for c in as_list(as_dict(denom, "denoms").get("counts"), "counts"):
                v = as_float(c.get("value"))
                participants.setdefault(c.get("groupId"), int(v) if v is not None else None)
        head = (clean_text(om.get("populationDescription")), clean_text(om.get("title")))
        # per-measure and per-group values, cleaned once, when a measurement first needs them
        measure = None
        titles: dict = {}
        for cls in as_list(om.get("classes"), "classes"):
            cls = as_dict(cls, "classes")
            cls_title = None
            for cat in as_list(cls.get("categories"), "categories"):
                cat = as_dict(cat, "categories")
                cat_title = None
                for m in as_list(cat.get("measurements"), "measurements"):
                    m = as_dict(m, "measurements")
                    gid = m.get("groupId")
                    title = titles.get(gid, titles)
                    if title is titles:
                        g = groups.get(gid) or {}
                        title = titles[gid] = clean_text(g.get("title"))
                    if measure is None:
                        measure = (clean_text(om.get("type")), clean_text(om.get("paramType")),
                                   clean_text(om.get("dispersionType")), clean_text(om.get("unitOfMeasure")),
                                   clean_text(om.get("timeFrame")))
                    if cls_title is None:
                        cls_title = (clean_text(cls.get("title")),)
                    if cat_title is None:
                        cat_title = (clean_text(cat.get("title")),)
                    value = m.get("value")
                    spread, low, high = m.get("spread"), m.get("lowerLimit"), m.get("upperLimit")
                    rows.append((
                        nct, STUDY_TYPE_TRIAL, head[0], title, head[1],
                        types.get((title or "").lower()), measure[0], gid, *measure[1:],
                        cls_title[0], cat_title[0],
                        None if value is None else str(value), as_float(value),
                        None if spread is None else str(spread),
                        None if low is None else str(low),
                        None if high is None else str(high),
                        participants.get(gid),
                    ))
    return rows


def vocabulary(source_vocabulary: str | None) -> tuple[str | None, str | None]:
    """"MedDRA (18.0)" -> ("MedDRA", "18.0"); "MedDRA 23.1" -> ("MedDRA", "23.1")."""
    if not source_vocabulary:
        return None, None
    text = source_vocabulary.strip()
    m = re.match(r"^\s*([A-Za-z][A-Za-z\-]*)\s*\(?\s*v?(?:ersion)?\s*([\d.]+)?\s*\)?\s*$", text)
    if m:
        return m[1], m[2]
    return text, None


def adverse_event_rows(nct: str, results: dict) -> list[tuple]:
    """One row per reported event term, with totals over the event groups."""
    mod = as_dict(results.get("adverseEventsModule"), "adverseEventsModule")
    rows: list[tuple] = []
    for key, serious in (("seriousEvents", True), ("otherEvents", False)):
        for ev in as_list(mod.get(key), key):
            ev = as_dict(ev, key)
            term = clean_text(ev.get("term"))
            if not term:
                continue
            vocab_text = clean_text(ev.get("sourceVocabulary"))
            vocab, version = vocabulary(vocab_text)
            affected = at_risk = events = None
            for st in as_list(ev.get("stats"), "stats"):
                st = as_dict(st, "stats")
                a = as_int(st.get("numAffected"), "numAffected")
                r = as_int(st.get("numAtRisk"), "numAtRisk")
                e = as_int(st.get("numEvents"), "numEvents")
                affected = (affected or 0) + a if a is not None else affected
                at_risk = (at_risk or 0) + r if r is not None else at_risk
                events = (events or 0) + e if e is not None else events
            is_meddra = bool(vocab and vocab.lower().startswith("meddra"))
            rows.append((
                nct, STUDY_TYPE_TRIAL, term, clean_text(ev.get("notes")), serious,
                None, "PT" if is_meddra else None, clean_text(ev.get("organSystem")),
                vocab_text, version, clean_text(ev.get("assessmentType")), affected, at_risk, events,
            ))
    return rows
