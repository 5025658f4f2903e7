"""Median enrollment for sample size estimation: the train trials' enrollment by phase and condition group.

Rule: the answer is the median train enrollment of the record's cell (phase, condition group)
when that cell holds at least ``min_cell`` train trials, else of its phase when that holds at
least ``min_cell``, else of every train trial; fitted on nothing it is :data:`DEFAULT_SIZE`.
Medians of an even count are averaged and rounded half to even.

Phase: the question's ``Phase:`` line as written (``Phase 1/Phase 2``, ``Not applicable``, ``Not
given``; a question without one reads as ``Not given``). Condition group, the first that applies:

1. with a warehouse connection, the MeSH tree branch (``C04``) of the trial's first condition
   (by ``condition_order``) whose ``condition_mesh_id`` has tree numbers in ``ontology_concepts``,
   the alphabetically first branch of that descriptor (``mesh:C04``);
2. the first word (three letters or more, not a generic word) of the first condition of the
   question's ``Conditions:`` line (``word:diabetes``);
3. none (``-``).
"""
from __future__ import annotations

import re
import statistics
from collections import defaultdict

from .base import Baseline, fenced_json

DEFAULT_SIZE = 100           # a typical trial's size; the answer when nothing was learned
MIN_CELL = 3
_GENERIC = frozenset("""healthy volunteers volunteer the and with for chronic acute severe advanced disease
diseases disorder disorders syndrome condition conditions unspecified other type stage early late primary
secondary patients patient adult adults children""".split())


def phase_of(question: str | None) -> str:
    m = re.search(r"^Phase:\s*(.+?)\s*$", question or "", re.M)
    return m.group(1).lower() if m else "not given"


def condition_word(question: str | None) -> str | None:
    m = re.search(r"^Conditions:\s*(.+?)\s*$", question or "", re.M)
    if not m:
        return None
    first = m.group(1).split(";")[0]
    for w in re.findall(r"[a-z][a-z0-9\-]+", first.lower()):
        if len(w) >= 3 and w not in _GENERIC:
            return w
    return None


def mesh_branches(con, trial_ids: list[str]) -> dict[str, str]:
    """trial id -> the MeSH tree branch of its first condition with tree numbers (rule 1)."""
    ids = sorted({t for t in trial_ids if t})
    if con is None or not ids:
        return {}
    rows = con.execute(
        "SELECT c.study_id, c.condition_order, c.condition_mesh_id, o.tree_numbers FROM conditions c "
        "JOIN ontology_concepts o ON o.ontology = 'mesh' AND o.concept_id = c.condition_mesh_id "
        "WHERE c.study_id IN (SELECT unnest(?::VARCHAR[])) AND len(o.tree_numbers) > 0 "
        "ORDER BY c.study_id, c.condition_order NULLS LAST, c.condition_mesh_id", [ids]).fetchall()
    out: dict[str, str] = {}
    for sid, _, _, trees in rows:
        if sid not in out:
            out[sid] = sorted(str(t).split(".")[0] for t in trees)[0]
    return out


class MedianEnrollment(Baseline):
    name = "median-enrollment"
    task = "sample_size_estimation"

    def __init__(self, min_cell: int = MIN_CELL):
        self.min_cell = min_cell
        self.con = None
        self.branches: dict[str, str] = {}
        self.cells: dict[tuple[str, str], list[int]] = {}
        self.phases: dict[str, list[int]] = {}
        self.sizes: list[int] = []

    def group(self, record: dict) -> str:
        tid = record.get("trial_id")
        if tid and tid not in self.branches and self.con is not None:
            try:
                self.branches.update(mesh_branches(self.con, [tid]))
            except Exception:          # a closed or foreign connection: fall back to the word
                self.con = None
        if tid and tid in self.branches:
            return f"mesh:{self.branches[tid]}"
        word = condition_word(record.get("question"))
        return f"word:{word}" if word else "-"

    def fit(self, train: list[dict], con=None) -> "MedianEnrollment":
        self.con = con
        self.branches = {}
        if con is not None:
            try:
                self.branches = mesh_branches(con, [r.get("trial_id") for r in train])
            except Exception:
                self.con = None
        cells, phases, sizes = defaultdict(list), defaultdict(list), []
        for r in train:
            try:
                n = int(r.get("answer"))
            except (TypeError, ValueError):
                continue
            if n <= 0:
                continue
            phase = phase_of(r.get("question"))
            cells[(phase, self.group(r))].append(n)
            phases[phase].append(n)
            sizes.append(n)
        self.cells, self.phases, self.sizes = dict(cells), dict(phases), sizes
        return self

    def estimate(self, record: dict) -> tuple[int, str]:
        """(the estimate, which level it came from: cell, phase, overall or default)."""
        phase = phase_of(record.get("question"))
        group = self.group(record)
        for level, values in (("cell", self.cells.get((phase, group), [])), ("phase", self.phases.get(phase, []))):
            if len(values) >= self.min_cell:
                return int(round(statistics.median(values))), level
        if self.sizes:
            return int(round(statistics.median(self.sizes))), "overall"
        return DEFAULT_SIZE, "default"

    def predict(self, record: dict) -> str:
        n, level = self.estimate(record)
        phase, group = phase_of(record.get("question")), self.group(record)
        why = {"cell": f"the median enrollment of {len(self.cells.get((phase, group), []))} train trials of the same "
                       f"phase ({phase}) and condition group ({group})",
               "phase": f"the median enrollment of {len(self.phases.get(phase, []))} train trials of the same phase "
                        f"({phase})",
               "overall": f"the median enrollment of all {len(self.sizes)} train trials",
               "default": "a typical trial size (no train trials)"}[level]
        return fenced_json({"step_by_step_thinking": f"The estimate is {why}.", "sample_size_needed": max(1, n)})
