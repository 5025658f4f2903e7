"""Value readers and row builders shared by the EU CTR and CTIS parsers."""
from __future__ import annotations

from .common import STUDY_TYPE_TRIAL, StudyRows, clean_text, make_row
from .ids import normalise_id


def text_value(value) -> str | None:
    """A text field (numbers as text, lists joined by lines); placeholders -> None."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    elif isinstance(value, list):
        value = "\n".join(v for v in value if isinstance(v, str))
    return clean_text(value) if isinstance(value, str) else None


_t = text_value


def labelled(label: str, value: str | None, sep: str = ": ") -> str | None:
    return f"{label}{sep}{value}" if value else None


def joined(sep: str, *parts) -> str | None:
    return sep.join(p for p in parts if p) or None


def as_items(value) -> list[dict]:
    return [v for v in (value if isinstance(value, list) else [value]) if isinstance(v, dict)]


def add_conditions(sid: str, names: list[str | None], rows: StudyRows) -> None:
    seen: set[str] = set()
    for name in (n for n in names if n):
        if name.lower() not in seen:
            seen.add(name.lower())
            rows["conditions"].append(make_row("conditions", study_id=sid, study_type=STUDY_TYPE_TRIAL,
                                               condition_name=name, condition_order=len(seen) - 1))


def add_intervention(sid, itype, name, desc, other, rows, drug: bool) -> None:
    """An interventions row, its disposition row (no arm), and a drugs row unless ``drug`` is False."""
    rows["interventions"].append(make_row("interventions", study_id=sid, intervention_order=len(rows["interventions"]),
                                          intervention_type=itype, intervention_name=name, description=desc,
                                          other_names=other, arm_group_labels=[]))
    rows["disposition"].append(make_row("disposition", study_id=sid, intervention_type=itype, intervention_name=name,
                                        intervention_description=desc, study_type=STUDY_TYPE_TRIAL))
    if drug:
        rows["drugs"].append(make_row("drugs", study_id=sid, study_type=STUDY_TYPE_TRIAL, drug_name=name,
                                      intervention_type=itype, other_names=other, description=desc))


_ID_TYPES = {"nct": ("NCT", "ClinicalTrials.gov"), "eudract": ("EUDRACT_NUMBER", "EU CTR"), "ctis": ("CTIS", "CTIS"),
             "isrctn": ("ISRCTN", "ISRCTN"), "utrn": ("WHO_UTRN", "WHO UTRN")}


def secondary_id_row(sid: str, value: str | None, family: str | None, domain: str | None = None,
                     id_type: str = "OTHER") -> tuple | None:
    """Registry ids in canonical form (id_type NCT / EUDRACT_NUMBER / CTIS / ISRCTN / WHO_UTRN /
    REGISTRY, domain the registry); anything else as given with the caller's id_type and domain."""
    if not (value := _t(value)):
        return None
    if (rid := normalise_id(value, family)) is not None:
        typ, dom = _ID_TYPES.get(rid.family, ("REGISTRY", rid.registry or rid.family))
        return None if rid.id == sid else make_row("secondary_ids", study_id=sid, secondary_id=rid.id, id_type=typ,
                                                   domain=dom)
    return make_row("secondary_ids", study_id=sid, secondary_id=value, id_type=id_type, domain=domain)


def add_secondary_ids(rows: StudyRows, candidates: list[tuple | None]) -> None:
    seen = {r[1] for r in rows["secondary_ids"]}
    for row in candidates:
        if row is not None and row[1] not in seen:
            seen.add(row[1])
            rows["secondary_ids"].append(row)
