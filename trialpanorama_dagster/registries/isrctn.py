"""ISRCTN records -> rows of the unified schema.

Two payload formats, one mapping (``parse`` reads the dict shape of ctrdata's JSON):

* ``isrctn-xml``: the ISRCTN API's XML (``/api/query/format/default`` -> ``<allTrials>`` of
  ``<fullTrial>``; ``/api/trial/ISRCTN…/format/default``; namespace ``http://www.67bricks.com/isrctn``,
  ignored: elements are read by local name). ``split`` cuts a document into one payload per
  ``<fullTrial>`` (its bytes as in the document). ``decode`` converts the ``<trial>`` element by
  element like ctrdata does: a leaf is its text ("" when empty), a repeated element a list, an age
  limit given as ``value``/``unit`` attributes "value unit"; attributes of other elements become
  ``@name`` keys (``@lastUpdated``, ``@version`` of ``<trial>``; ``@dateAssigned`` of ``<isrctn>``);
  the ``<sponsor>``/``<funder>`` siblings of ``<trial>`` become ``sponsor``/``funder`` (contacts are dropped).
* ``isrctn-json``: one record as stored by the ctrdata R package (a file, a JSON array or NDJSON).

Status: ISRCTN publishes no overall status; ``derive_status`` (in ``isrctn_fields``) documents the rule.
"""
from __future__ import annotations

import re
from typing import Any, Iterator

import orjson
from lxml import etree

from . import ids, vocab
from .common import (
    STUDY_TYPE_TRIAL, RecordError, StudyRows, age_in_years, clean_text, empty_rows, make_row, unique,
)
from .ctgov_v2 import OUTCOME_TYPE
from .formats import RawItem
from .isrctn_fields import _count, _d, _date, _l, _text, derive_status, design_codes, outcome_items, secondary_id_row
from .xml_dict import element_slices, element_to_obj, local, xml_root

SOURCE = "isrctn"
FORMATS = ("isrctn-xml", "isrctn-json")
_ID = re.compile(r"^(?:ISRCTN)?\s*(\d{8})$", re.I)
_PMID = re.compile(r"(?:pubmed\.ncbi\.nlm\.nih\.gov/|ncbi\.nlm\.nih\.gov/pubmed/|\bPMID:?\s*)(\d{1,9})\b", re.I)
_ITYPE = {"drug": "DRUG", "biological/vaccine": "BIOLOGICAL", "biological": "BIOLOGICAL", "vaccine": "BIOLOGICAL",
          "device": "DEVICE", "procedure/surgery": "PROCEDURE", "behavioural": "BEHAVIORAL",
          "behavioral": "BEHAVIORAL", "supplement": "DIETARY_SUPPLEMENT", "genetic": "GENETIC",
          "other": "OTHER", "mixed": "OTHER"}
_DRUG_TYPES = {"drug", "biological/vaccine", "biological", "vaccine", "mixed"}
_PURPOSE = {"treatment": "TREATMENT", "prevention": "PREVENTION", "diagnostic": "DIAGNOSTIC",
            "screening": "SCREENING", "supportive care": "SUPPORTIVE_CARE", "quality of life": "OTHER", "other": "OTHER"}
_STD_AGES = {"neonate": ["CHILD"], "child": ["CHILD"], "adult": ["ADULT"], "senior": ["OLDER_ADULT"]}
_SPONSOR_CLASS = {"industry": "INDUSTRY", "government": "OTHER_GOV"}


# -- module contract -------------------------------------------------------------------------------
def sniff(head: bytes, name: str) -> str | None:
    if b"67bricks.com/isrctn" in head or re.match(rb"\s*(?:<\?xml[^>]*>\s*)?<(?:\w+:)?(?:allTrials|fullTrial)\b", head):
        return "isrctn-xml"
    if head.lstrip()[:1] in (b"{", b"[") and (re.search(rb'"ctrname"\s*:\s*"ISRCTN"', head) or (
            re.search(rb'"isrctn"\s*:\s*"\d{8}"', head) and b'"trialDescription"' in head)):
        return "isrctn-json"
    return None


def _item(payload: bytes, origin: str, fmt: str, obj: Any = None) -> RawItem:
    if obj is None:
        try:
            obj = decode(payload, fmt)
        except RecordError:
            obj = None
    sid = record_id(obj) if obj is not None else None
    if sid is None and fmt == "isrctn-xml":
        m = re.search(rb"<(?:\w+:)?isrctn\b[^>]*>\s*(?:ISRCTN)?(\d{8})\s*<", payload)
        sid = f"ISRCTN{m[1].decode()}" if m else None
    return RawItem(SOURCE, payload, fmt, origin, source_id=sid, decoded=obj)


def split(data: bytes, origin: str, fmt: str) -> Iterator[RawItem]:
    if fmt == "isrctn-json":
        try:
            doc = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            yield RawItem(SOURCE, data, fmt, origin, error=f"invalid JSON: {exc}")
            return
        if isinstance(doc, list):
            yield from (_item(orjson.dumps(d), origin, fmt, d) for d in doc)
        else:
            yield _item(data, origin, fmt, doc if isinstance(doc, dict) else None)
        return
    try:
        root = xml_root(data)
    except RecordError as exc:  # keep the complete records of a truncated download
        slices = element_slices(data, "fullTrial")
        yield from (_item(s, origin, fmt) for s in slices)
        yield RawItem(SOURCE, data, fmt, origin, error=f"{exc}" + (
            f" ({len(slices)} complete <fullTrial> records before it were loaded)" if slices else ""))
        return
    if local(root) in ("fullTrial", "trial"):
        yield _item(data, origin, fmt)
        return
    if local(root) != "allTrials":
        yield RawItem(SOURCE, data, fmt, origin, error=f"root element <{local(root)}> is not ISRCTN <allTrials>")
        return
    trials = [el for el in root if local(el) == "fullTrial"]
    slices = element_slices(data, "fullTrial")
    if len(slices) != len(trials):
        slices = [etree.tostring(el, encoding="utf-8", with_tail=False) for el in trials]
    yield from (_item(s, origin, fmt) for s in slices)



def decode(payload: bytes, fmt: str = "isrctn-xml") -> dict:
    if fmt == "isrctn-json":
        try:
            obj = orjson.loads(payload)
        except orjson.JSONDecodeError as exc:
            raise RecordError(f"invalid JSON: {exc}") from None
        if not isinstance(obj, dict):
            raise RecordError(f"ISRCTN record is not a JSON object but {type(obj).__name__}")
        return obj
    root = xml_root(payload)
    if local(root) == "allTrials":
        found = [el for el in root if local(el) == "fullTrial"]
        if len(found) != 1:
            raise RecordError(f"expected one <fullTrial> in the payload, found {len(found)}")
        root = found[0]
    full = root if local(root) == "fullTrial" else None
    trial = root if local(root) == "trial" else next((el for el in root if local(el) == "trial"), None)
    if trial is None:
        raise RecordError(f"<{local(root)}> holds no <trial> element")
    obj = element_to_obj(trial)
    if not isinstance(obj, dict):
        raise RecordError("empty <trial> element")
    num = next((el for el in trial if local(el) == "isrctn"), None)
    if num is not None and num.get("dateAssigned"):
        obj["@dateAssigned"] = num.get("dateAssigned")
    for sib in (full if full is not None else []):
        if local(sib) in ("sponsor", "funder"):
            prev, value = obj.get(local(sib)), element_to_obj(sib)
            obj[local(sib)] = value if prev is None else (prev if isinstance(prev, list) else [prev]) + [value]
    return obj


def record_id(obj) -> str | None:
    value = obj.get("isrctn") if isinstance(obj, dict) else None
    m = _ID.match(value.strip()) if isinstance(value, str) else None
    return f"ISRCTN{m[1]}" if m else None


def record_version(obj) -> str | None:
    if not isinstance(obj, dict):
        return None
    d = _date(obj.get("@lastUpdated") or obj.get("lastUpdated"), "lastUpdated")
    return d.isoformat() if d else None


# -- mapping ---------------------------------------------------------------------------------------

def parse(obj, payload_hash: str | None = None) -> StudyRows:
    if not isinstance(obj, dict):
        raise RecordError(f"ISRCTN record is not an object but {type(obj).__name__}")
    sid = record_id(obj)
    if sid is None:
        raise RecordError(f"isrctn number missing or malformed: {obj.get('isrctn')!r}")
    desc, refs, design, part, res = (_d(obj, k) for k in (
        "trialDescription", "externalRefs", "trialDesign", "participants", "results"))
    rows = empty_rows()
    as_of = _date(obj.get("@lastUpdated") or obj.get("lastUpdated"), "lastUpdated")
    last_update = as_of
    as_of = as_of or _date(obj.get("record_last_import"), "record_last_import")
    start, rec_end = _date(part.get("recruitmentStart"), "recruitmentStart"), _date(part.get("recruitmentEnd"), "recruitmentEnd")
    end = _date(design.get("overallEndDate"), "overallEndDate")
    registered = _date(obj.get("@dateAssigned"), "isrctn dateAssigned")
    target, final = _count(part.get("targetEnrolment")), _count(part.get("totalFinalEnrolment"))
    override = clean_text(part.get("recruitmentStatusOverride")) or clean_text(design.get("overallStatusOverride"))
    status = derive_status(override, start, rec_end, end, as_of, final)
    why = clean_text(design.get("reasonAbandoned")) if status in ("TERMINATED", "WITHDRAWN", "SUSPENDED") else None
    kind = {"interventional": "INTERVENTIONAL", "observational": "OBSERVATIONAL"}.get(
        (clean_text(design.get("primaryStudyDesign")) or "").lower())
    codes = design_codes(" ".join(filter(None, (clean_text(design.get("secondaryStudyDesign")),
                                                clean_text(design.get("studyDesign"))))), kind)
    ivs = [iv for iv in _l(_d(obj, "interventions").get("intervention")) if isinstance(iv, dict)]
    phase_texts = unique(clean_text(iv.get("phase")) for iv in ivs)
    phase_codes = unique(vocab.phase(p) for p in phase_texts)
    if len(phase_codes) > 1:
        parts = sorted({p for c in phase_codes for p in c.split("/") if p != "NA"})
        phase_codes = ["/".join(parts)] if parts else ["NA"]
    purposes = [_PURPOSE.get((clean_text(t) or "").lower()) for t in _l(_d(design, "trialTypes").get("trialType"))]
    sponsors = [s for s in _l(obj.get("sponsor")) if isinstance(s, dict)]
    sponsor = sponsors[0] if sponsors else {}
    sponsor_name = clean_text(sponsor.get("organisation")) or clean_text(sponsor.get("name"))
    sclass = _SPONSOR_CLASS.get((clean_text(sponsor.get("sponsorType")) or "").lower())
    if sponsor_name and not sclass:
        sclass = "INDUSTRY" if (clean_text(sponsor.get("commercialStatus")) or "").lower() == "commercial" else "OTHER"
    funders = [clean_text(f.get("name")) or clean_text(f.get("organisation"))
               for f in _l(obj.get("funder")) if isinstance(f, dict)]
    inc, exc = _text(part.get("inclusion")), _text(part.get("exclusion"))
    criteria = "\n\n".join(filter(None, (inc and f"Inclusion Criteria:\n{inc}", exc and f"Exclusion Criteria:\n{exc}")))
    min_age, max_age = clean_text(part.get("lowerAgeLimit")), clean_text(part.get("upperAgeLimit"))
    hv = clean_text(part.get("healthyVolunteersAllowed"))
    has_results = bool(clean_text(res.get("basicReport")) or clean_text(res.get("plainEnglishReport")))

    kind_of = lambda d: None if d is None or as_of is None else ("ACTUAL" if d <= as_of else "ESTIMATED")  # noqa: E731

    rows["studies"].append(make_row(
        "studies", study_id=sid, study_source=SOURCE, study_type=STUDY_TYPE_TRIAL, trial_type=kind,
        title=_text(desc.get("title")), official_title=_text(desc.get("scientificTitle")),
        acronym=_text(desc.get("acronym")), abstract=_text(desc.get("plainEnglishSummary")),
        detailed_description=_text(desc.get("studyHypothesis")),
        sponsor=sponsor_name, sponsor_class=sclass, collaborators=[f for f in unique(funders) if f != sponsor_name],
        start_date=start, start_date_precision="day" if start else None, start_date_type=kind_of(start),
        start_year=start.year if start else None, completion_date=end, completion_date_type=kind_of(end),
        first_submitted_date=registered, first_posted_date=registered, last_update_posted_date=last_update,
        recruitment_status=status, recruitment_status_original=override, why_stopped=why,
        phase=phase_codes[0] if phase_codes else None, phase_original="; ".join(phase_texts) or None,
        actual_accrual=final if final is not None else target,
        accrual_type="ACTUAL" if final is not None else ("ESTIMATED" if target is not None else None),
        primary_purpose=next((p for p in purposes if p), None), **codes,
        eligibility_criteria=criteria or None, sex=vocab.sex(clean_text(part.get("gender"))),
        minimum_age=min_age, maximum_age=max_age, minimum_age_years=age_in_years(min_age),
        maximum_age_years=age_in_years(max_age), healthy_volunteers={"true": True, "false": False}.get((hv or "").lower()),
        std_ages=_STD_AGES.get((clean_text(part.get("ageRange")) or "").lower(), []), keywords=[],
        countries=unique(clean_text(c) for c in _l(_d(part, "recruitmentCountries").get("country"))),
        org_study_id=clean_text(refs.get("protocolSerialNumber")), nct_aliases=[], has_results=has_results,
        source_version=record_version(obj), payload_hash=payload_hash))
    rows["outcomes"].append(make_row("outcomes", study_id=sid, study_type=STUDY_TYPE_TRIAL, overall_status=status,
                                     outcome_type=OUTCOME_TYPE.get(status), why_terminated=why, has_results=has_results))
    conds = [c for c in _l(_d(obj, "conditions").get("condition")) if isinstance(c, dict)]
    names = unique(clean_text(c.get(k)) for c in conds for k in ("description", "diseaseClass1", "diseaseClass2"))
    for order, name in enumerate(names):
        rows["conditions"].append(make_row("conditions", study_id=sid, study_type=STUDY_TYPE_TRIAL,
                                           condition_name=name, condition_order=order))
    for order, iv in enumerate(ivs):
        raw_type = (clean_text(iv.get("interventionType")) or "").lower()
        itype, drugs = _ITYPE.get(raw_type, raw_type.upper() or None), clean_text(iv.get("drugNames"))
        ivdesc = _text(iv.get("description"))
        rows["interventions"].append(make_row("interventions", study_id=sid, intervention_order=order, intervention_type=itype,
                                              intervention_name=drugs, description=ivdesc, other_names=[], arm_group_labels=[]))
        rows["disposition"].append(make_row("disposition", study_id=sid, intervention_type=itype, intervention_name=drugs,
                                            intervention_description=ivdesc, study_type=STUDY_TYPE_TRIAL))
        if drugs and raw_type in _DRUG_TYPES:
            for name in unique(n.strip() for n in re.split(r"[;,](?![^()]*\))", drugs)):
                rows["drugs"].append(make_row("drugs", study_id=sid, study_type=STUDY_TYPE_TRIAL, drug_name=name,
                                              intervention_type=itype, other_names=[], description=ivdesc))
    for etype, plural, single in (("PRIMARY", "primaryOutcomes", "primaryOutcome"),
                                  ("SECONDARY", "secondaryOutcomes", "secondaryOutcome")):
        group = desc.get(plural)
        measures = _l(group.get("outcomeMeasure")) if isinstance(group, dict) else []
        items = [(clean_text(m.get("variable")), clean_text(m.get("method")), clean_text(m.get("timepoints")))
                 for m in measures if isinstance(m, dict)] or [(m, d, None) for m, d in outcome_items(desc.get(single))]
        for order, (measure, mdesc, frame) in enumerate(items):
            rows["endpoints"].append(make_row(
                "endpoints", study_id=sid, study_type=STUDY_TYPE_TRIAL, endpoint_type=etype, endpoint_order=order,
                measure=measure, description=mdesc, time_frame=frame, primary_endpoint=measure if etype == "PRIMARY" else None))
    seen: set[str] = set()
    named = [(refs.get("eudraCTNumber"), "EUDRACT_NUMBER", "EudraCT", "eudract"),
             (refs.get("clinicalTrialsGovNumber"), "REGISTRY", "ClinicalTrials.gov", "nct"),
             (refs.get("irasNumber"), "OTHER", "IRAS", None),
             (refs.get("protocolSerialNumber"), "OTHER", "Protocol serial number", None)]
    named += [(v, "OTHER", None, None) for v in _l(_d(refs, "secondaryNumbers").get("secondaryNumber"))]
    for value, typ, domain, hint in named:
        text = clean_text(value) if isinstance(value, str) else None
        found = ids.find_ids(text) if text and hint else []
        for v in ([r.id for r in found] if found and len(found) > 1 else [text] if text else []):
            row = secondary_id_row(sid, v, typ, domain, hint)
            if row is not None and row[1] not in seen:
                seen.add(row[1])
                rows["secondary_ids"].append(row)
    cites = (clean_text(res.get("publicationDetails")) or "").splitlines()
    cites += [str(v) for o in _l(_d(obj, "outputs").get("output")) if isinstance(o, dict) for v in o.values() if v]
    pmids: set[str] = set()
    for line in cites:
        for pmid in _PMID.findall(line):
            if pmid in pmids:
                continue
            pmids.add(pmid)
            low = line.lower()
            rtype = "RESULT" if "result" in low else ("PROTOCOL" if "protocol" in low else "OTHER")
            rows["relations"].append(make_row("relations", head_id=sid, head_type="trial", tail_id=pmid,
                                              tail_type="pubmed", relation_type="trial_reference",
                                              reference_type=rtype, citation=line.strip(), study_id=sid,
                                              evidence="registry reference list"))
    for c in _l(_d(part, "trialCentres").get("trialCentre")):
        if isinstance(c, dict):
            rows["locations"].append(make_row("locations", study_id=sid, facility=clean_text(c.get("name")),
                                              city=clean_text(c.get("city")), state=clean_text(c.get("state")),
                                              country=clean_text(c.get("country"))))
    return rows
