"""Reader of the EU CTR "full text" download: member-state record blocks, lines -> ctrdata-style fields."""
from __future__ import annotations

import re

_CODE = re.compile(r"^(D\.IMP|[A-HNP]\.\d+(?:\.\d+)*|[NP]\.)(?=[ \t:])[ \t]*(.*)$")
_SECTION = re.compile(r"^[A-H]\. (Protocol Information|Sponsor Information|Applicant Identification|IMP Identif"
                      r"|General Information on the Trial|Population of Trial Subjects|Investigator Networks)")
_SUMMARY = {"eudract number": "x1_eudract_number", "national competent authority": "x3_national_competent_authority",
            "clinical trial type": "x4_clinical_trial_type", "trial status": "x5_trial_status",
            "date on which this record was first entered in the eudract database": "x6_first_entered",
            "sponsor's protocol code number": "x2_sponsors_protocol_code_number"}


def record_blocks(data: bytes) -> list[tuple[int, bytes]]:
    """(first line number, bytes) of each member-state record: a line "Summary" then a summary field."""
    lines = data.splitlines(keepends=True)
    text = [ln.decode("utf-8", "replace").strip() for ln in lines]
    starts = [i for i, t in enumerate(text) if t == "Summary" and next(
        (u.split(":")[0].lower() for u in text[i + 1:i + 4] if u), "") in _SUMMARY]
    if not starts:
        return [(1, data)] if any(_CODE.match(t) for t in text) else []
    bounds = starts + [len(lines)]
    return [(s + 1, b"".join(lines[s:e])) for s, e in zip(bounds, bounds[1:])]


def _slug(label: str) -> str:
    return re.sub(r"[^a-z0-9 ]", "", label.lower().replace("\t", " ")).strip().replace(" ", "_")


def parse_block(text: str) -> dict:
    """One member-state record as ctrdata-style keys; sponsors, IMPs (with their active
    substances) and MedDRA terms become lists of dicts as in ctrdata's JSON."""
    rec: dict = {}
    target: tuple[dict, str] | None = None      # the field that continuation lines extend
    group: tuple[str, dict] | None = None       # current sponsor / IMP / MedDRA item
    sub: dict | None = None                     # current active substance of the IMP
    summary = False
    for line in (ln.rstrip() for ln in text.splitlines()):
        m = _CODE.match(line)
        if line == "Summary":
            summary, target = True, None
        elif summary and not m:
            if ":" in line:
                label, value = line.split(":", 1)
                rec.setdefault(_SUMMARY.get(label.strip().lower(), "x_" + _slug(label)), value.strip())
        elif re.fullmatch(r"Sponsor \d+", line):
            group, target = ("b", {}), None
            rec.setdefault("b1_sponsor", []).append(group[1])
        elif not m:
            if _SECTION.match(line) or line == "MedDRA Classification":
                group = target = None
            elif target is not None:
                target[0][target[1]] += "\n" + line
        else:
            summary = False
            sep = ":" if ":" in m[2] else ("?" if "?" in m[2] else None)
            label, value = m[2].split(sep, 1) if sep else (m[2], "")
            key = m[1].replace(".", "").lower() + ("_" + _slug(label) if _slug(label) else "")
            if key == "dimp" or key.startswith("e12_medical_condition_or_disease"):
                group, sub, target = ("d" if key == "dimp" else "e12", {}), None, None
                rec.setdefault("dimp" if key == "dimp" else "e12_meddra_classification", []).append(group[1])
                continue
            holder = rec
            if group and (group[0] == "b" and key.startswith("b") or group[0] == "e12" and key.startswith("e12_")):
                holder = group[1]
            elif group and group[0] == "d" and re.match(r"d[123]", key):
                holder = group[1]
                if re.match(r"d3(?:8|9|10)", key):         # active substance fields: one dict per substance
                    if key.startswith("d38_to") or sub is None or key in sub:
                        sub = {}
                        holder.setdefault("d38_imp_identification_details", []).append(sub)
                    if key.startswith("d38_to"):
                        target = None
                        continue
                    holder = sub
            else:
                group = None
            if key in holder:
                holder = {}                         # a repeated field: the first value is kept
            holder[key] = value.strip()
            target = (holder, key)
    return rec
