"""ChiCTR records in chictr.org.cn's XML export (WHO TRDS: ``<trials><Triall><main>…``, "Triall" sic).

``split`` cuts a ``<trials>`` document into one payload per ``<Triall>`` (bytes as in the document);
two ``<Triall>`` of the same ``trial_id`` (the Chinese and the English version of one record)
become one payload wrapped in ``<trials>``. ``decode`` reads a payload into a tree (element name ->
list of texts / subtrees, the ``<Triall>`` of one trial merged).

Languages: the registry writes every text in English and in Chinese. A field's values are read from
its element and from language variants of it (``public_title_cn`` / ``_zh`` / ``_en``); a value with
CJK characters counts as Chinese. Each column takes the English text when there is one, else the
Chinese. Chinese titles are kept in ``detailed_description`` ("Chinese title: …", "Chinese scientific
title: …") unless they already are the title.

Fields: ``target_size`` "group:n;group:n;" -> the sum, ESTIMATED (``results_actual_enrolment`` ->
ACTUAL); ``i_freetext`` "group:intervention;" -> arm groups, interventions and disposition (with
the group's n); ``hc_freetext`` (";"-separated) -> conditions; ``hc_code``/``hc_keyword``/``i_keyword``
-> keywords; phase "0"/"N/A"/"Retrospective study" -> NA (``vocab.phase``). No drug rows: the export
types no intervention (the linker may match intervention names).
"""
from __future__ import annotations

import re
from typing import Iterator

from lxml import etree

from . import vocab
from .common import (
    STUDY_TYPE_TRIAL, RecordError, StudyRows, age_in_years, clean_text, empty_rows, make_row, parse_date, unique,
)
from .ctgov_v2 import OUTCOME_TYPE
from .formats import RawItem
from .isrctn_fields import design_codes, secondary_id_row
from .xml_dict import element_lists, element_slices, local, xml_root

SOURCE = "chictr"
FORMATS = ("chictr-xml",)
CHICTR_ID = re.compile(r"^ChiCTR(?:\d{10}|-[A-Z]{2,5}-\d{8})$")
_TAGS = ("Triall", "trial")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LANG = re.compile(r"_(?:cn|zh|chn|en|eng)$", re.I)
_SEP = re.compile(r"[;；\n]")
_PAIR = re.compile(r"^(.*?)\s*[:：]\s*(.*)$", re.S)
_YMD = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[T\s].*)?$")
_ID_BYTES = re.compile(rb"<trial_id>\s*([^<]*?)\s*</trial_id>")
# study_type text -> (trial_type, primary_purpose)
_STUDY_TYPES = (("interventional", "INTERVENTIONAL", None), ("treatment", "INTERVENTIONAL", "TREATMENT"),
                ("prevention", "INTERVENTIONAL", "PREVENTION"), ("health services", "OBSERVATIONAL", "HEALTH_SERVICES_RESEARCH"),
                ("observational", "OBSERVATIONAL", None), ("epidemi", "OBSERVATIONAL", None),
                ("prognos", "OBSERVATIONAL", None), ("cause", "OBSERVATIONAL", None), ("relative factor", "OBSERVATIONAL", None),
                ("diagnos", None, "DIAGNOSTIC"), ("screening", None, "SCREENING"), ("basic science", None, "BASIC_SCIENCE"),
                ("干预", "INTERVENTIONAL", None), ("观察", "OBSERVATIONAL", None), ("诊断", None, "DIAGNOSTIC"))


def sniff(head: bytes, name: str) -> str | None:
    if re.search(rb"<Triall[\s>]", head) or (re.search(rb"<trials[\s>]", head) and re.search(rb"<trial_id>\s*ChiCTR", head)):
        return "chictr-xml"
    return None


def _items(slices: list[bytes], origin: str, fmt: str) -> Iterator[RawItem]:
    groups: dict[object, list[bytes]] = {}
    for n, s in enumerate(slices):
        m = _ID_BYTES.search(s)
        key = m[1].decode("utf-8", "replace") if m and m[1].strip() else n  # no id: never merged
        groups.setdefault(key, []).append(s)
    for key, parts in groups.items():
        payload = parts[0] if len(parts) == 1 else b"<trials>\n" + b"\n".join(parts) + b"\n</trials>"
        try:
            tree = decode(payload, fmt)
        except RecordError:
            tree = None
        yield RawItem(SOURCE, payload, fmt, origin, source_id=key if isinstance(key, str) else None, decoded=tree)


def split(data: bytes, origin: str, fmt: str = "chictr-xml") -> Iterator[RawItem]:
    try:
        root = xml_root(data)
    except RecordError as exc:  # keep the complete records of a truncated file
        slices = element_slices(data, "Triall")
        yield from _items(slices, origin, fmt)
        yield RawItem(SOURCE, data, fmt, origin, error=f"{exc}" + (
            f" ({len(slices)} complete <Triall> records before it were loaded)" if slices else ""))
        return
    if local(root) in _TAGS:
        yield from _items([data], origin, fmt)
        return
    trials = [el for el in root if local(el) in _TAGS]
    if local(root) != "trials" or not trials:
        yield RawItem(SOURCE, data, fmt, origin, error=f"<{local(root)}> is not a ChiCTR <trials> document with <Triall>")
        return
    slices = element_slices(data, local(trials[0]))
    if len(slices) != len(trials):
        slices = [etree.tostring(el, encoding="utf-8", with_tail=False) for el in trials]
    yield from _items(slices, origin, fmt)


def decode(payload: bytes, fmt: str = "chictr-xml") -> dict[str, list]:
    root = xml_root(payload)
    trialls = [root] if local(root) in _TAGS else [el for el in root if local(el) in _TAGS]
    if not trialls:
        raise RecordError(f"<{local(root)}> holds no <Triall> record")
    tree: dict[str, list] = {}
    for t in trialls:
        for key, values in element_lists(t).items():
            tree.setdefault(key, []).extend(values)
    found = unique(clean_text(v) for v in _vals(tree, "main", "trial_id"))
    if len(found) > 1:
        raise RecordError(f"one payload holds several trials: {', '.join(found)}")
    return tree


def _vals(tree: dict, *path: str) -> list[str]:
    """Texts at a path; the last step also matches its language variants (``public_title_cn``)."""
    nodes = [tree]
    for step in path[:-1]:
        nodes = [c for n in nodes for c in n.get(step, []) if isinstance(c, dict)]
    last = path[-1].lower()
    return [v for n in nodes for k, vs in n.items() if _LANG.sub("", k).lower() == last for v in vs if isinstance(v, str)]


def _texts(tree: dict, *path: str) -> tuple[list[str], list[str]]:
    """(English, Chinese) non-empty texts at a path."""
    vals = unique(clean_text(v) for v in _vals(tree, *path))
    return [v for v in vals if not _CJK.search(v)], [v for v in vals if _CJK.search(v)]


def _pick(tree: dict, *path: str) -> str | None:
    en, zh = _texts(tree, *path)
    return (en or zh or [None])[0]


def _list(tree: dict, *path: str) -> list[str]:
    en, zh = _texts(tree, *path)
    return unique(clean_text(p) for v in (en or zh) for p in _SEP.split(v))


def record_id(obj) -> str | None:
    found = [clean_text(v) for v in _vals(obj, "main", "trial_id")] if isinstance(obj, dict) else []
    return next((v for v in found if v), None)


def record_version(obj) -> str | None:
    return None  # the export carries no last-update date


def _date(value: str | None, field: str):
    text = clean_text(value)
    if not text:
        return None, None
    m = _YMD.match(text)
    return parse_date(f"{m[1]}-{int(m[2]):02d}-{int(m[3]):02d}" if m else text, field)


def _pairs(text: str | None) -> list[tuple[str | None, str | None]]:
    """"group:value;group:value;" -> [(group, value)]; a part without a colon has no group."""
    out = []
    for part in _SEP.split(text or ""):
        if part.strip():
            m = _PAIR.match(part.strip())
            out.append((clean_text(m[1]), clean_text(m[2])) if m else (None, clean_text(part)))
    return out


def _key(label: str | None) -> str:
    return re.sub(r"\s+", " ", label or "").strip().lower()


def parse(obj, payload_hash: str | None = None) -> StudyRows:
    if not isinstance(obj, dict):
        raise RecordError(f"ChiCTR record is not a decoded tree but {type(obj).__name__}")
    sid = record_id(obj)
    if sid is None:
        raise RecordError("<Triall> has no main/trial_id")
    if not CHICTR_ID.match(sid):
        raise RecordError(f"main/trial_id is not a ChiCTR id: {sid!r}")
    rows = empty_rows()
    main = lambda field: _pick(obj, "main", field)  # noqa: E731
    (en_pub, zh_pub), (en_sci, zh_sci) = _texts(obj, "main", "public_title"), _texts(obj, "main", "scientific_title")
    title = (en_pub or zh_pub or [None])[0]
    official = (en_sci or zh_sci or [None])[0]
    notes = [f"Chinese title: {t}" for t in zh_pub if t != title]
    notes += [f"Chinese scientific title: {t}" for t in zh_sci if t != official]
    registered, _ = _date(main("date_registration"), "date_registration")
    start, start_prec = _date(main("date_enrolment"), "date_enrolment")
    completed, _ = _date(main("results_date_completed"), "results_date_completed")
    posted, _ = _date(main("results_date_posted"), "results_date_posted")
    enrol_type = {"actual": "ACTUAL", "anticipated": "ESTIMATED", "estimated": "ESTIMATED"}.get(
        (main("type_enrolment") or "").lower())
    status_text, phase_text, stype = main("recruitment_status"), main("phase"), (main("study_type") or "").lower()
    status = vocab.status(status_text)
    trial_type, purpose = next(((t, p) for k, t, p in _STUDY_TYPES if k in stype), (None, None))
    codes = design_codes(" ".join(filter(None, (main("study_design"), phase_text))), trial_type)
    sizes = [(g, int(m[0].replace(",", ""))) for g, v in _pairs(main("target_size"))
             if (m := re.findall(r"\d[\d,]*", v or ""))]
    by_group = {_key(g): n for g, n in sizes if g}
    actual = (re.findall(r"\d+", main("results_actual_enrolment") or "") or [None])[0]
    arms = _pairs(main("i_freetext"))
    labels: list[str] = []
    for g in (g for g, _ in arms + sizes if g):
        labels += [] if any(_key(g) == _key(seen) for seen in labels) else [g]
    inc, exc = _pick(obj, "criteria", "inclusion_criteria"), _pick(obj, "criteria", "exclusion_criteria")
    criteria = "\n\n".join(filter(None, (inc and f"Inclusion Criteria:\n{inc}", exc and f"Exclusion Criteria:\n{exc}")))
    ages = [_pick(obj, "criteria", k) for k in ("agemin", "agemax")]
    ages = [f"{a} Years" if a and re.fullmatch(r"\d+(?:\.\d+)?", a) else a for a in ages]
    sponsor = main("primary_sponsor")
    has_results = any(main(k) for k in ("results_summary", "results_url_link", "results_date_posted"))
    rows["studies"].append(make_row(
        "studies", study_id=sid, study_source=SOURCE, study_type=STUDY_TYPE_TRIAL, trial_type=trial_type,
        title=title, official_title=official, acronym=main("acronym") or main("Scientific_acronym"),
        detailed_description="\n".join(notes) or None, sponsor=sponsor,
        collaborators=[c for c in _list(obj, "secondary_sponsor", "sponsor_name") if c != sponsor],
        start_date=start, start_date_precision=start_prec, start_date_type=enrol_type,
        start_year=start.year if start else None, completion_date=completed,
        completion_date_type="ACTUAL" if completed else None, first_submitted_date=registered,
        first_posted_date=registered, results_first_posted_date=posted,
        recruitment_status=status, recruitment_status_original=status_text,
        phase=vocab.phase(phase_text), phase_original=phase_text,
        actual_accrual=int(actual) if actual else (sum(n for _, n in sizes) if sizes else None),
        accrual_type="ACTUAL" if actual else ("ESTIMATED" if sizes else None),
        primary_purpose=purpose, **codes, number_of_arms=len(labels) or None,
        eligibility_criteria=criteria or None, sex=vocab.sex(_pick(obj, "criteria", "gender")),
        minimum_age=ages[0], maximum_age=ages[1],
        minimum_age_years=age_in_years(ages[0]), maximum_age_years=age_in_years(ages[1]),
        std_ages=[], keywords=unique(_list(obj, "health_condition_keyword", "hc_keyword")
                                     + _list(obj, "health_condition_code", "hc_code")
                                     + _list(obj, "intervention_keyword", "i_keyword")),
        countries=_list(obj, "countries", "country2"), nct_aliases=[], has_results=has_results,
        source_version=None, payload_hash=payload_hash))
    rows["outcomes"].append(make_row("outcomes", study_id=sid, study_type=STUDY_TYPE_TRIAL, overall_status=status,
                                     outcome_type=OUTCOME_TYPE.get(status or ""), has_results=has_results))
    for order, name in enumerate(_list(obj, "main", "hc_freetext")):
        rows["conditions"].append(make_row("conditions", study_id=sid, study_type=STUDY_TYPE_TRIAL,
                                           condition_name=name, condition_order=order))
    _add_arms(sid, arms, labels, by_group, rows)
    for etype, path in (("PRIMARY", ("primary_outcome", "prim_outcome")), ("SECONDARY", ("secondary_outcome", "sec_outcome"))):
        for order, measure in enumerate(_list(obj, *path)):
            rows["endpoints"].append(make_row(
                "endpoints", study_id=sid, study_type=STUDY_TYPE_TRIAL, endpoint_type=etype, endpoint_order=order,
                measure=measure, primary_endpoint=measure if etype == "PRIMARY" else None))
    seen: set[str] = set()
    sec = [(_pick(n, "sec_id"), _pick(n, "issuing_authority")) for outer in obj.get("secondary_ids", [])
           if isinstance(outer, dict) for n in outer.get("secondary_id", []) if isinstance(n, dict)]
    sec += [(u, "WHO UTN") for u in _list(obj, "main", "utrn")]
    for value, authority in sec:
        row = secondary_id_row(sid, value, "OTHER", authority) if value else None
        if row is not None and row[1] not in seen:
            seen.add(row[1])
            rows["secondary_ids"].append(row)
    return rows


def _add_arms(sid: str, arms, labels: list[str], by_group: dict[str, int], rows: StudyRows) -> None:
    """Arm groups from the group labels, interventions per distinct text, disposition per arm."""
    ivs: dict[str, list[str]] = {}
    for group, iv in arms:
        if iv:
            ivs.setdefault(iv, [])
            if group and group not in ivs[iv]:
                ivs[iv].append(group)
    for order, (iv, groups) in enumerate(ivs.items()):
        rows["interventions"].append(make_row("interventions", study_id=sid, intervention_order=order,
                                              intervention_name=iv, other_names=[], arm_group_labels=groups))
    for order, label in enumerate(labels):
        names = unique(iv for g, iv in arms if _key(g) == _key(label) and iv)
        text = " ".join([label] + names).lower()
        gtype = ("PLACEBO_COMPARATOR" if "placebo" in text or "安慰剂" in text
                 else "EXPERIMENTAL" if re.search(r"experiment|试验组|实验组|治疗组", text) else None)
        rows["arm_groups"].append(make_row("arm_groups", study_id=sid, group_order=order, label=label,
                                           group_type=gtype, intervention_names=names))
        for name in names or [None]:
            rows["disposition"].append(make_row("disposition", study_id=sid, group_type=gtype, intervention_name=name,
                                                study_type=STUDY_TYPE_TRIAL, number_of_subjects=by_group.get(_key(label)),
                                                group_label=label))
    for iv, groups in ivs.items():
        if not groups:
            rows["disposition"].append(make_row("disposition", study_id=sid, intervention_name=iv,
                                                study_type=STUDY_TYPE_TRIAL))
