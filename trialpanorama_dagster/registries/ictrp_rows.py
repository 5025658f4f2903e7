"""ICTRP record fields -> the per-table rows of one study (conditions, interventions, arms,
endpoints, secondary ids) and the text fields that need registry-aware reading (phase, sex,
eligibility). Used by ``ictrp.parse``; pure.
"""
from __future__ import annotations

import re

from . import vocab
from .common import STUDY_TYPE_TRIAL, StudyRows, clean_text, make_row, unique
from .ictrp_fields import block, canonical_id, line, registry_of, registry_of_id, split_values


def phase_text(value) -> str | None:
    """Phase text as given ("N/A", "Not Applicable" are real values); R's NA / SQL NULL are absent."""
    text = block(value, placeholders=False)
    if not text or text.upper() in ("NA", "NULL"):
        return None
    return text


def eligibility(inclusion, exclusion) -> str | None:
    parts = []
    for text, label in ((block(inclusion), "Inclusion Criteria"), (block(exclusion), "Exclusion Criteria")):
        if text:
            parts.append(text if text.lower().startswith(label.lower()) else f"{label}:\n{text}")
    return "\n\n".join(parts) or None


def sex(value) -> str | None:
    text = line(value)
    if not text:
        return None
    flags = dict(re.findall(r"\b(female|male)\s*:\s*(yes|no)\b", text.lower()))
    if flags:
        female, male = flags.get("female") == "yes", flags.get("male") == "yes"
        return "ALL" if female and male else "FEMALE" if female else "MALE" if male else None
    return vocab.sex(text)


_MEDDRA_TERM = re.compile(r"\bTerm:\s*(.+?)\s*(?:\n|System Organ Class|$)", re.I)


def add_conditions(sid: str, text, rows: StudyRows) -> None:
    names: list[str] = []
    for part in re.split(r";|<\s*br\s*/?\s*>", text or "", flags=re.I):
        part = block(part)
        if not part:
            continue
        if part.lower().startswith("meddra version"):  # EUCTR MedDRA block: keep its term
            m = _MEDDRA_TERM.search(part)
            part = m[1] if m else None
        elif part.lower().startswith("therapeutic area:"):  # EUCTR MeSH tree category, not a condition
            part = None
        name = line(part)
        if name and name.rstrip(".").lower() not in {n.rstrip(".").lower() for n in names}:
            names.append(name)
    for order, name in enumerate(names):
        rows["conditions"].append(make_row("conditions", study_id=sid, study_type=STUDY_TYPE_TRIAL,
                                           condition_name=name, condition_order=order))


_TYPED = re.compile(r"^(drug|biological|device|procedure(?:/surgery)?|radiation|behavioral|behavioural|genetic|"
                    r"dietary supplement|combination product|diagnostic test|other)\s*:\s*(.+)$", re.I | re.S)
_DRUG_TYPES = {"DRUG", "BIOLOGICAL"}
_PRODUCT_KEYS = ("product name", "inn or proposed inn", "trade name", "product code")


def add_interventions(sid: str, text, rows: StudyRows) -> None:
    found: list[tuple[str | None, str, list[str], str | None]] = []  # (type, name, other names, description)
    if text and re.search(r"(?:Product Name|INN or Proposed INN|Trade Name)\s*:", text):
        found = _euctr_products(text)
    else:
        parts = [block(p) for p in (text or "").split(";")]
        if any("\n" in p for p in parts if p):  # free text with line breaks: ";" is not a list separator
            parts = [block(text)]
        for desc in parts:
            if not desc:
                continue
            m = _TYPED.match(desc)
            itype, name = (re.sub(r"\W+", "_", m[1].upper()).replace("PROCEDURE_SURGERY", "PROCEDURE")
                           .replace("BEHAVIOURAL", "BEHAVIORAL"), block(m[2])) if m else (None, desc)
            if name:
                found.append((itype, name, [], None))
    seen = set()
    order = 0
    for itype, name, other, desc in found:
        if (itype, name.lower()) in seen:
            continue
        seen.add((itype, name.lower()))
        rows["interventions"].append(make_row("interventions", study_id=sid, intervention_order=order,
                                              intervention_type=itype, intervention_name=name,
                                              description=desc, other_names=other, arm_group_labels=[]))
        rows["disposition"].append(make_row("disposition", study_id=sid, intervention_type=itype,
                                            intervention_name=name, intervention_description=desc,
                                            study_type=STUDY_TYPE_TRIAL))
        if itype in _DRUG_TYPES:
            rows["drugs"].append(make_row("drugs", study_id=sid, study_type=STUDY_TYPE_TRIAL, drug_name=name,
                                          intervention_type=itype, other_names=other, description=desc))
        order += 1


def _euctr_products(text: str) -> list[tuple[str | None, str, list[str], str | None]]:
    """EUCTR IMP blocks ("Product Name: X<br>INN or Proposed INN: Y<br>...") -> one DRUG each."""
    out = []
    for chunk in re.split(r"\n\s*\n", block(text) or ""):
        fields: dict[str, str] = {}
        for ln in chunk.split("\n"):
            key, sep, value = ln.partition(":")
            if sep and key.strip().lower() in _PRODUCT_KEYS and clean_text(value):
                fields.setdefault(key.strip().lower(), value.strip())
        names = unique(fields.get(k) for k in _PRODUCT_KEYS)
        if names:
            out.append(("DRUG", names[0], names[1:], chunk))
    return out


def add_groups(sid: str, groups: list[tuple[str, str]], sizes: dict[str, int], rows: StudyRows) -> None:
    """ChiCTR "arm:intervention;" text -> arm groups, interventions and arm x intervention rows."""
    order = 0
    for g_order, (label, value) in enumerate(groups):
        name = block(value)
        rows["arm_groups"].append(make_row("arm_groups", study_id=sid, group_order=g_order, label=label,
                                           intervention_names=[name] if name else []))
        if name:
            rows["interventions"].append(make_row("interventions", study_id=sid, intervention_order=order,
                                                  intervention_name=name, other_names=[], arm_group_labels=[label]))
            order += 1
        rows["disposition"].append(make_row("disposition", study_id=sid, intervention_name=name,
                                            study_type=STUDY_TYPE_TRIAL, group_label=label,
                                            number_of_subjects=sizes.get(label.lower())))


_OBJECTIVE = re.compile(r"^(?:main|secondary) objective\s*:", re.I)
_END_POINT = re.compile(r"^(?:primary|secondary) end ?points?(?:\(s\))?\s*:\s*(.*)$", re.I | re.S)
_TIMEPOINT = re.compile(r"^timepoints?\(s\) of evaluation of this end ?point\s*:\s*(.*)$", re.I | re.S)
_BRACKET_TIME = re.compile(r"^(.+?)\s*\[([^\[\]]+)\]\s*$", re.S)
# LBCTR writes one outcome as "Name: x;Timepoints: y;Measure: z"
_SUBFIELD = re.compile(r"^(name|timepoints?|measure)\s*:\s*(.*)$", re.I | re.S)


def add_endpoints(sid: str, etype: str, text, rows: StudyRows) -> None:
    measures: list[list] = []  # [measure, time_frame, description]
    timepoints: list[str] = []
    for part in (text or "").split(";"):
        part = block(part)
        if not part or _OBJECTIVE.match(part):
            continue
        if m := _TIMEPOINT.match(part):
            if clean_text(m[1]):
                timepoints.append(m[1].strip())
            continue
        if m := _END_POINT.match(part):
            part = block(m[1])
        elif (m := _SUBFIELD.match(part)) and (m[1].lower() == "name" or measures):
            value = block(m[2])
            if m[1].lower() == "name":
                if value:
                    measures.append([value, None, None])
            elif m[1].lower().startswith("timepoint"):
                measures[-1][1] = measures[-1][1] or value
            else:
                measures[-1][2] = measures[-1][2] or value
            continue
        time_frame = None
        if part and (m := _BRACKET_TIME.match(part)):
            part, time_frame = block(m[1]), block(m[2])
        if part and part.lower() not in {x[0].lower() for x in measures}:
            measures.append([part, time_frame, None])
    if len(timepoints) == 1:
        for m in measures:
            m[1] = m[1] or timepoints[0]
    for order, (measure, time_frame, description) in enumerate(measures):
        rows["endpoints"].append(make_row("endpoints", study_id=sid, study_type=STUDY_TYPE_TRIAL,
                                          endpoint_type=etype, endpoint_order=order, measure=measure,
                                          description=description, time_frame=time_frame,
                                          primary_endpoint=measure if etype == "PRIMARY" else None))


def add_secondary_ids(sid: str, trial_id: str, f: dict, rows: StudyRows) -> None:
    """SecondaryIDs (id_type NULL) plus WHO's bridging links to other registrations of the trial:
    ``Childs`` (id_type ICTRP_BRIDGED_CHILD) and a parent id in ``Bridging_flag`` (ICTRP_BRIDGED_PARENT)."""
    seen = {sid.lower(), trial_id.lower()}
    candidates = [(v, None) for v in split_values(f.get("secondary_ids"))]
    candidates += [(v.strip(), "ICTRP_BRIDGED_CHILD") for c in split_values(f.get("childs"))
                   for v in c.split(",") if v.strip()]
    parent = line(f.get("bridging_flag"))
    if parent and parent.upper() not in ("TRUE", "FALSE") and registry_of(parent) != "other":
        candidates.append((parent, "ICTRP_BRIDGED_PARENT"))
    own = set(seen)
    for value, id_type in candidates:
        if value.lower() in seen or canonical_id(value).lower() in own:  # itself, or its other EUCTR country rows
            continue
        seen.add(value.lower())
        rows["secondary_ids"].append(make_row("secondary_ids", study_id=sid, secondary_id=value,
                                              id_type=id_type, domain=registry_of_id(value)))
