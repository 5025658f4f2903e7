"""What the trial-design tasks share: the trials (primary records), how a trial and its parts read as
text, and the hard-distractor choice of the three multiple-choice design tasks.

A trial is described from what was known at registration only (title, conditions, phase, design,
brief summary); never its status, actual enrollment or results. The multiple-choice tasks (arm,
eligibility criteria, endpoint design) leave the element they ask about out of the description and
offer the trial's own element among ``n_options - 1`` distractors from trials of OTHER dedup
clusters, ranked so they are hard to tell apart:

1. the same condition branch (a MeSH descriptor, a MeSH ancestor or a tree-number prefix in common,
   ignoring branches more than half the pool shares), else a condition word in common;
2. the same phase;
3. nearest by condition (IDF-weighted Jaccard over MeSH and condition-word features, in steps of 0.1);
4. the same registry (the same writing style);
5. a seeded draw (:func:`rng_for`), so the order is deterministic per build seed.

Distractor texts differ (normalised) from the answer and from each other.
"""
from __future__ import annotations

import json
import logging
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field

import duckdb

from .base import BuildConfig, Sample, assign_split, balanced_letters, cluster_of, lay_out_options, rng_for, stable_id

log = logging.getLogger(__name__)

MAX_OPTION_CHARS = 3000
MAX_SUMMARY_CHARS = 1500
CANDIDATE_CAP = 300
DESIGN_SYSTEM = ("You are a helpful assistant for designing clinical trials. Read the trial described by the "
                 "user and choose the option that belongs to it. Output your answer as "
                 '```json {"step_by_step_thinking": Str(explanation), "answer_choice": Str{A/B/C/D/...}}```.')
_STOP = frozenset("""and with the for from that this into other unspecified patients patient subjects people
adults adult healthy volunteers volunteer condition conditions health disease diseases disorder disorders
syndrome type stage due not without after before including related associated treatment""".split())


@dataclass
class Trial:
    study_id: str
    cluster_id: str
    source: str
    row: dict                                   # the studies columns we read
    conditions: list[str] = field(default_factory=list)
    features: frozenset = frozenset()           # m:/a:/t: MeSH features, w: condition words


def norm(text: str | None) -> str:
    return re.sub(r"[^0-9a-z]+", " ", (text or "").lower()).strip()


def clip(text: str | None, limit: int) -> str:
    text = re.sub(r"\n\s*\n+", "\n", (text or "").replace("\r\n", "\n")).strip()
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(" ,;:") + " …"


_RESULT_HEAD = re.compile(r"^\s*(?:results?|conclusions?|findings|interpretation|discussion)\s*:", re.I | re.M)


def registered_text(text: str | None) -> str:
    """A summary less any results: some registrations paste the results paper's abstract, so the text
    is cut at its first "Results:" / "Conclusion:" / "Findings:" heading."""
    m = _RESULT_HEAD.search(text or "")
    return (text or "")[:m.start()] if m else (text or "")


def human(value) -> str:
    """PHASE1/PHASE2 -> Phase 1/Phase 2; SINGLE_GROUP -> Single group; NA -> Not applicable."""
    if value is None or value == "":
        return ""
    s = str(value)
    if s == "NA":
        return "Not applicable"
    s = re.sub(r"EARLY_PHASE(\d)", r"Early phase \1", s)
    s = re.sub(r"PHASE(\d)", r"Phase \1", s)
    return s if s != s.upper() else s.replace("_", " ").capitalize()


_COLS = ("title", "official_title", "abstract", "detailed_description", "trial_type", "phase", "start_date",
         "allocation", "intervention_model", "observational_model", "time_perspective", "primary_purpose",
         "masking", "number_of_arms", "eligibility_criteria", "sex", "minimum_age", "maximum_age",
         "healthy_volunteers", "actual_accrual", "accrual_type")


def load_trials(con: duckdb.DuckDBPyConnection, where: str = "TRUE") -> list[Trial]:
    """Primary records of their dedup clusters (every study where clusters are not built), by study id.
    ``where`` is a fixed SQL condition over ``s`` (studies) and ``o`` (outcomes) from the caller's code."""
    clusters = cluster_of(con)
    rows = con.execute(
        f"SELECT s.study_id, s.study_source, {', '.join('s.' + c for c in _COLS)} FROM studies s "
        "LEFT JOIN trial_clusters c USING (study_id) LEFT JOIN outcomes o USING (study_id) "
        f"WHERE coalesce(c.is_primary, TRUE) AND ({where}) ORDER BY s.study_id").fetchall()
    trials = [Trial(r[0], clusters.get(r[0], r[0]), r[1], dict(zip(_COLS, r[2:]))) for r in rows]
    by_id = {t.study_id: t for t in trials}
    conds, feats = defaultdict(list), defaultdict(set)
    for sid, name, mesh in con.execute("SELECT study_id, condition_name, condition_mesh_id FROM conditions "
                                       "ORDER BY study_id, condition_order, condition_name").fetchall():
        if sid in by_id:
            if name and name.strip() not in conds[sid]:
                conds[sid].append(name.strip())
            feats[sid].update(f"w:{w}" for w in norm(name).split() if len(w) > 2 and w not in _STOP)
            if mesh:
                feats[sid].add(f"m:{mesh}")
    for sid, mesh_id, term, anc in con.execute(
            "SELECT study_id, mesh_id, mesh_term, is_ancestor FROM mesh_terms "
            "WHERE coalesce(domain, 'condition') = 'condition'").fetchall():
        if sid in by_id and (mesh_id or term):
            feats[sid].add(("a:" if anc else "m:") + (mesh_id or norm(term)))
    trees = dict(con.execute("SELECT concept_id, tree_numbers FROM ontology_concepts WHERE ontology = 'mesh' "
                             "AND tree_numbers IS NOT NULL").fetchall())
    for t in trials:
        f = feats.get(t.study_id, set())
        for tn in [tn for x in f if x.startswith("m:") for tn in trees.get(x[2:]) or []]:
            f.update(f"t:{'.'.join(tn.split('.')[:i])}" for i in range(1, tn.count(".") + 1))
        t.conditions, t.features = conds.get(t.study_id, []), frozenset(f)
    return trials


def describe_trial(t: Trial, interventions: list[str] | None = None) -> str:
    """The trial as registered, without status, enrollment or results (nor the asked element)."""
    r = t.row
    design = "; ".join(f"{k}: {human(r[c])}" for k, c in (
        ("Allocation", "allocation"), ("Intervention model", "intervention_model"),
        ("Observational model", "observational_model"), ("Time perspective", "time_perspective"),
        ("Masking", "masking"), ("Primary purpose", "primary_purpose")) if r.get(c))
    lines = [f"Title: {clip(r['title'] or r['official_title'], 500)}"]
    if t.conditions:
        lines.append(f"Conditions: {clip('; '.join(t.conditions), 400)}")
    lines.append(f"Phase: {human(r['phase']) or 'Not given'}")
    if r.get("trial_type"):
        lines.append(f"Study type: {human(r['trial_type'])}")
    if design:
        lines.append(f"Design: {design}")
    if interventions:
        lines.append(f"Interventions: {clip('; '.join(interventions), 400)}")
    summary = clip(registered_text(r.get("abstract") or r.get("detailed_description")), MAX_SUMMARY_CHARS)
    if summary:
        lines.append(f"Brief summary: {summary}")
    return "\n".join(lines)


def arm_rows(con: duckdb.DuckDBPyConnection) -> dict[str, list[dict]]:
    """study id -> arms [{title, group_type, description, interventions}]; from the registered
    interventions (title = name) where a record lists no arm groups."""
    arms: dict[str, list[dict]] = defaultdict(list)
    for sid, label, gtype, desc, names in con.execute(
            "SELECT study_id, label, group_type, description, intervention_names FROM arm_groups "
            "ORDER BY study_id, group_order").fetchall():
        arms[sid].append({"title": label, "group_type": gtype, "description": desc, "interventions": names or []})
    for sid, itype, name, desc in con.execute(
            "SELECT study_id, intervention_type, intervention_name, description FROM interventions "
            "ORDER BY study_id, intervention_order").fetchall():
        if sid not in arms or arms[sid][0].get("from_interventions"):
            arms[sid].append({"title": name, "group_type": None, "description": desc, "interventions": [],
                              "intervention_type": itype, "from_interventions": True})
    return dict(arms)


def intervention_names(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for sid, name in con.execute("SELECT study_id, intervention_name FROM interventions WHERE intervention_name "
                                 "IS NOT NULL ORDER BY study_id, intervention_order").fetchall():
        out[sid].append(clip(name, 120))
    return dict(out)


def render_arms(arms: list[dict]) -> str:
    lines = []
    for a in arms:
        head = clip(a.get("title"), 300) or "Arm"
        kind = human(a.get("group_type") or a.get("intervention_type"))
        body = clip(a.get("description"), 1000)
        if a.get("interventions"):
            body = (body + " " if body else "") + "Interventions: " + "; ".join(a["interventions"])
        lines.append(f"- {head}" + (f" ({kind})" if kind else "") + (f": {body}" if body else ""))
    return "\n".join(lines)


def primary_endpoints(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[str, str | None]]]:
    out: dict[str, list] = defaultdict(list)
    for sid, measure, tf in con.execute(
            "SELECT study_id, measure, time_frame FROM endpoints WHERE endpoint_type = 'PRIMARY' "
            "AND nullif(trim(measure), '') IS NOT NULL ORDER BY study_id, endpoint_order").fetchall():
        out[sid].append((measure, tf))
    return dict(out)


def render_endpoints(items: list[tuple[str, str | None]]) -> str:
    return "\n".join(f"- {clip(m, 600)}" + (f" (time frame: {clip(tf, 200)})" if tf else "") for m, tf in items)


class DistractorPool:
    """Trials with the element, indexed by condition feature, for hard-distractor ranking."""

    def __init__(self, trials: list[Trial], texts: dict[str, str]):
        self.trials = [t for t in trials if texts.get(t.study_id)]
        self.texts = texts
        self.postings: dict[str, list[int]] = defaultdict(list)
        for i, t in enumerate(self.trials):
            for f in sorted(t.features):
                self.postings[f].append(i)
        n = max(1, len(self.trials))
        self.idf = {f: math.log(1 + n / len(p)) for f, p in self.postings.items()}
        self.too_common = {f for f, p in self.postings.items() if len(p) > n / 2}

    def _sim(self, a: frozenset, b: frozenset) -> float:
        """IDF-weighted Jaccard; fsum is exact, so set order (string hashing) cannot change it."""
        union = math.fsum(self.idf.get(f, 0.0) for f in a | b)
        return math.fsum(self.idf.get(f, 0.0) for f in a & b) / union if union else 0.0

    def choose(self, anchor: Trial, k: int, cfg: BuildConfig, task: str) -> list[Trial]:
        rng = rng_for(cfg, task, "distractors", anchor.study_id)
        cand, seen = [], set()
        for f in sorted(anchor.features, key=lambda f: (len(self.postings.get(f, ())), f)):
            for i in self.postings.get(f, ()):
                if i not in seen:
                    seen.add(i)
                    cand.append(i)
            if len(cand) >= CANDIDATE_CAP:
                break
        filler = rng.sample(range(len(self.trials)), min(len(self.trials), max(4 * k, 40)))
        cand += [i for i in filler if i not in seen]

        def key(i: int):
            t = self.trials[i]
            shared = anchor.features & t.features
            branch = any(f[0] in "mat" and f not in self.too_common for f in shared)
            tier = 2 if branch else (1 if any(f.startswith("w:") for f in shared) else 0)
            return (-tier, t.row["phase"] != anchor.row["phase"], -round(self._sim(anchor.features, t.features), 1),
                    t.source != anchor.source, rng.random())

        answer = norm(self.texts[anchor.study_id])
        taken, norms = [], {answer}
        for i in sorted(cand, key=key):
            t = self.trials[i]
            text = norm(self.texts[t.study_id])
            if t.cluster_id == anchor.cluster_id or not text or text in norms:
                continue
            taken.append(t)
            norms.add(text)
            if len(taken) == k:
                break
        return taken


def build_multiple_choice(con: duckdb.DuckDBPyConnection, cfg: BuildConfig, task: str, instruction: str,
                          texts: dict[str, str], names: dict[str, list[str]] | None = None
                          ) -> tuple[list[Sample], dict[str, int]]:
    """One question per primary trial that has the element ``texts`` renders; returns the samples and
    the skipped counts by reason."""
    trials = load_trials(con)
    pool = DistractorPool(trials, texts)
    skipped: dict[str, int] = defaultdict(int)
    drafts = []
    for t in trials:
        answer = texts.get(t.study_id)
        if not answer:
            skipped["no element"] += 1
            continue
        question = f"{instruction}\n\n{describe_trial(t, (names or {}).get(t.study_id))}"
        if norm(answer) in norm(question):
            skipped["answer in description"] += 1
            continue
        distractors = pool.choose(t, cfg.n_options - 1, cfg, task)
        if len(distractors) < cfg.n_options - 1:
            skipped["too few distractors"] += 1
            continue
        rng_for(cfg, task, "order", t.study_id).shuffle(distractors)
        drafts.append((stable_id(task, t.study_id), t, question, answer, distractors))
    split = {d[0]: assign_split(d[1].cluster_id, cfg, key_date=d[1].row["start_date"]) for d in drafts}
    # letters cycle over the test samples, then on over the train samples: balanced (± 1) in each split
    # and over the whole set
    test = balanced_letters([(k, cfg.n_options) for k, v in split.items() if v == "test"], cfg)
    train = balanced_letters([(k, cfg.n_options) for k, v in split.items() if v == "train"], cfg)
    positions = {**test, **{k: (p + len(test)) % cfg.n_options for k, p in train.items()}}
    samples = []
    for sid, t, question, answer, distractors in drafts:
        options, letter = lay_out_options(answer, [texts[d.study_id] for d in distractors], positions[sid])
        samples.append(Sample(
            task, sid, split[sid], t.cluster_id, {"id": sid, "question": question, "options": options, "answer": letter},
            {"source_ids": [t.study_id], "cluster_id": t.cluster_id, "study_source": t.source,
             "distractor_ids": [d.study_id for d in distractors]}, letter))
    if skipped:
        log.info("%s: %d samples, skipped %s", task, len(samples), dict(skipped))
    return samples, dict(skipped)


def mc_messages(record: dict, element: str) -> list[dict]:
    options = "\n".join(f"{k}. {v}" for k, v in record["options"].items())
    letter = record["answer"]
    target = {"step_by_step_thinking": f"Option {letter} gives the {element} registered for this trial; the other "
                                       f"options belong to other trials.", "answer_choice": letter}
    return [{"role": "system", "content": DESIGN_SYSTEM},
            {"role": "user", "content": f"{record['question']}\n\n{options}"},
            {"role": "assistant", "content": "```json\n" + json.dumps(target, ensure_ascii=False) + "\n```"}]
