"""The three systematic-review task builders (study search, study screening, evidence summary) on the
warehouse built from every embedded source. Expected values are computed independently from the
``reviews`` and ``relations`` rows."""
import ast
import json
import math
import re
import shutil
from collections import Counter, defaultdict
from datetime import date

import pytest

from trialpanorama_dagster.tasks import evidence_summary, quality, study_screening, study_search
from trialpanorama_dagster.tasks.base import BuildConfig, store_samples
from trialpanorama_dagster.tasks.review_data import load_reviews, redact
from trialpanorama_dagster.tasks.review_facts import TitleFacts, conclusion, keyword_query, title_facts
from trialpanorama_dagster.warehouse.db import connect

CFG = BuildConfig()
BUILDERS = (study_search, study_screening, evidence_summary)


@pytest.fixture(scope="module")
def built(con):
    return {m.TASK: m.build_with_report(con, CFG) for m in BUILDERS}


def _norm(text):
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s]", " ", str(text).lower())).strip()


@pytest.fixture(scope="module")
def truth(con):
    """Per review: {article_id: label} at the final stage when the review has one, else title/abstract,
    the PMID and title of each article, and the reviews table itself."""
    rows = con.execute("SELECT head_id, tail_id, label, stage FROM relations WHERE head_type = 'review' "
                       "AND relation_type = 'review_candidate'").fetchall()
    stages = defaultdict(set)
    for head, _, _, stage in rows:
        stages[head].add(stage)
    labels = defaultdict(dict)
    for head, tail, label, stage in rows:
        if stage == ("final" if "final" in stages[head] else "title_abstract"):
            if labels[head].get(tail) != "included":
                labels[head][tail] = label
    pmid = dict(con.execute("SELECT article_id, pmid FROM literature WHERE pmid IS NOT NULL").fetchall())
    title = dict(con.execute("SELECT article_id, title FROM literature WHERE title IS NOT NULL").fetchall())
    reviews = {r[0]: r for r in con.execute(
        "SELECT review_id, included_final, review_pmid, title, boolean_query FROM reviews").fetchall()}

    def pmid_of(aid):
        return pmid.get(aid) or (aid[5:] if aid.startswith("PMID:") else None)
    return {"labels": labels, "pmid_of": pmid_of, "title": title, "reviews": reviews}


# ---------------------------------------------------------------- study search

def test_search_one_sample_per_review_with_an_included_pmid(built, truth):
    samples, skipped = built["study_search"]
    expected = {rid for rid, labs in truth["labels"].items()
                if any(lab == "included" and truth["pmid_of"](a) for a, lab in labs.items())}
    assert {s.record["metadata"]["review_id"] for s in samples} == expected
    assert len(samples) == sum(1 for r in truth["reviews"].values() if r[1] > 0) == 67
    assert sum(skipped.values()) == len(truth["reviews"]) - len(samples)


def test_search_labels_are_the_included_pmids(built, truth):
    for s in built["study_search"][0]:
        rid = s.record["metadata"]["review_id"]
        want = {truth["pmid_of"](a) for a, lab in truth["labels"][rid].items() if lab == "included"} - {None}
        assert set(s.record["labels"]) == want and len(s.record["labels"]) == len(want)
        assert len(want) == truth["reviews"][rid][1]            # every included study here has a PMID
        assert s.label == str(len(want))
        assert s.record["metadata"]["review_pmid"] == truth["reviews"][rid][2]
        assert s.lineage["review_id"] == rid and len(s.lineage["source_ids"]) == len(want)


def test_search_inputs_never_show_a_label_pmid(built):
    for s in built["study_search"][0]:
        inputs = s.record["inputs"]
        assert list(inputs) == ["background", "objectives", "selection criteria"]
        assert inputs["background"].strip()
        text = " ".join(inputs.values())
        for p in s.record["labels"]:
            assert not re.search(rf"(?<!\d){p}(?!\d)", text), (s.sample_id, p)


def test_search_messages_carry_the_query(built, truth):
    sources = Counter()
    for s in built["study_search"][0]:
        system, user, assistant = study_search.messages(s.record)
        assert [system["role"], user["role"], assistant["role"]] == ["system", "user", "assistant"]
        assert user["content"].startswith("# background: ")
        query = json.loads(assistant["content"])["query"]
        own = truth["reviews"][s.record["metadata"]["review_id"]][4]
        assert query == own if own else (query and "[tiab]" in query)
        sources[s.record["metadata"]["query_source"]] += 1
        assert study_search.answer_text(s.record) == query
    assert sources == {"review": 45, "keywords": 22}


# ---------------------------------------------------------------- study screening

def test_screening_labels_match_the_relations(built, truth):
    samples, _ = built["study_screening"]
    assert samples
    for s in samples:
        rid = s.record["metadata"]["review_id"]
        by_pmid = {truth["pmid_of"](a): lab for a, lab in truth["labels"][rid].items()}
        ctx = [c["PMID"] for c in s.record["context"]]
        assert ctx == [x["PMID"] for x in s.record["labels"]] and len(set(ctx)) == len(ctx)
        for x in s.record["labels"]:
            assert x["label"] == by_pmid[x["PMID"]]
        for c in s.record["context"]:
            assert c["title"] and isinstance(c["abstract"], str)
        inputs = " ".join(s.record["inputs"].values())
        assert not any(re.search(rf"(?<!\d){p}(?!\d)", inputs) for p in ctx)


def _usable(truth, rid):
    out = {}
    for a, lab in truth["labels"][rid].items():
        if truth["pmid_of"](a) and truth["title"].get(a):
            out[truth["pmid_of"](a)] = lab
    return out


@pytest.mark.parametrize("max_candidates", [50, 20])
def test_screening_variants(con, truth, max_candidates):
    cfg = BuildConfig(max_candidates=max_candidates)
    samples, skipped = study_screening.build_with_report(con, cfg)
    eligible = {rid for rid in truth["labels"] if "excluded" in _usable(truth, rid).values()}
    assert eligible == {"synergy:Donners_2021", "synergy:Nelson_2002"}
    by = defaultdict(list)
    for s in samples:
        by[(s.record["metadata"]["review_id"], s.record["metadata"]["variant"])].append(s)
    assert set(by) == {(r, v) for r in eligible for v in ("natural", "balanced")}
    assert skipped["natural: review without an excluded candidate (PMID and title)"] == len(truth["reviews"]) - 2
    for (rid, variant), group in by.items():
        usable = _usable(truth, rid)
        n_inc = sum(v == "included" for v in usable.values())
        seen = [x["PMID"] for s in group for x in s.record["labels"]]
        assert len(seen) == len(set(seen))
        assert all(len(s.record["context"]) <= max_candidates for s in group)
        assert sorted(s.record["metadata"]["chunk"] for s in group) == list(range(len(group)))
        incs = [sum(x["label"] == "included" for x in s.record["labels"]) for s in group]
        if variant == "natural":               # every usable candidate once, the review's prevalence per sample
            assert sorted(seen) == sorted(usable)
            assert len(group) == math.ceil(len(usable) / max_candidates)
            assert max(incs) - min(incs) <= 1
        else:                                  # as many included as excluded in every sample
            m = min(n_inc, len(usable) - n_inc)
            assert len(seen) == 2 * m
            for s, inc in zip(group, incs):
                assert 2 * inc == len(s.record["labels"]) <= max_candidates
                assert s.label == "balanced:0.5"
            assert len(group) == math.ceil(m / (max_candidates // 2))
    assert len(by[("synergy:Nelson_2002", "balanced")]) == {50: 4, 20: 8}[max_candidates]   # 80 included


def test_screening_messages(built):
    for s in built["study_screening"][0]:
        system, user, assistant = study_screening.messages(s.record)
        assert user["content"].startswith("# Systematic Review Setup\n# background: ")
        assert user["content"].count("## Study ") == len(s.record["context"])
        target = ast.literal_eval(assistant["content"])
        assert list(target) == [str(i) for i in range(1, len(s.record["context"]) + 1)]
        assert [v.lower() for v in target.values()] == [x["label"] for x in s.record["labels"]]
        first = s.record["context"][0]
        assert f"## Study 1 (PMID: {first['PMID']})\n### Title\n{first['title']}" in user["content"]


# ---------------------------------------------------------------- evidence summary

def test_evidence_items_are_well_formed(built, truth):
    samples, skipped = built["evidence_summary"]
    kinds = Counter(s.record["metadata"]["kind"] for s in samples)
    assert set(kinds) == {"included_study", "population", "intervention", "conclusion"}
    titled = {rid for rid, labs in truth["labels"].items()
              if any(lab == "included" and truth["title"].get(a) for a, lab in labs.items())}
    assert kinds["included_study"] == len(titled)
    assert skipped["included_study: no included study with a title"] == len(truth["reviews"]) - len(titled)
    for s in samples:
        rec = s.record
        assert list(rec["options"]) == ["A", "B", "C", "D"] and rec["answer"] in rec["options"]
        texts = [_norm(t) for t in rec["options"].values()]
        assert len(set(texts)) == 4
        answer = _norm(rec["options"][rec["answer"]])
        assert all(answer not in t and t not in answer for t in texts if t != answer)
        assert answer not in _norm(rec["question"])
        assert s.label == rec["answer"] and rec["metadata"]["generated_by"] == "rules"
        assert rec["metadata"]["review_id"] == s.lineage["review_id"]


def test_evidence_included_study_answers(built, truth):
    for s in built["evidence_summary"][0]:
        if s.record["metadata"]["kind"] != "included_study":
            continue
        rid = s.record["metadata"]["review_id"]
        same_review = {r for r in truth["reviews"] if truth["reviews"][r][3] == truth["reviews"][rid][3]}
        included = {_norm(truth["title"].get(a)) for r in same_review
                    for a, lab in truth["labels"][r].items() if lab == "included" and truth["title"].get(a)}
        answer = s.record["options"][s.record["answer"]]
        assert _norm(answer) in included and truth["reviews"][rid][3] in s.record["question"]
        for letter, text in s.record["options"].items():
            if letter != s.record["answer"]:
                assert _norm(text) not in included, (rid, text)


def test_evidence_letters_balanced(con, built):
    for cfg, samples in ((CFG, built["evidence_summary"][0]),
                         (BuildConfig(n_options=3), evidence_summary.build(con, BuildConfig(n_options=3)))):
        for split in ("train", "test", None):
            letters = Counter(s.record["answer"] for s in samples if split in (None, s.split))
            assert set(letters) == set("ABCD"[:cfg.n_options])
            assert max(letters.values()) - min(letters.values()) <= 1, (split, letters)
        assert all(len(s.record["options"]) == cfg.n_options for s in samples)


def test_evidence_messages(built):
    for s in built["evidence_summary"][0]:
        system, user, assistant = evidence_summary.messages(s.record)
        assert user["content"].startswith(s.record["question"])
        assert f"\nA. {s.record['options']['A']}" in user["content"]
        body = re.fullmatch(r"```json\n(.*)\n```", assistant["content"], re.S).group(1)
        reply = json.loads(body)
        assert reply["answer_choice"] == s.record["answer"] and reply["step_by_step_thinking"]


def test_llm_hook_with_a_plain_callable(con):
    prompts = []

    def generate(prompt):
        prompts.append(prompt)
        if len(prompts) % 10 == 0:
            return "not json"
        return '```json\n{"question": "What did the review find?", "answer": "A benefit", ' \
               '"distractors": ["Harm", "No difference", "a benefit", "Too few studies", "Unclear"]}\n```'

    cfg = BuildConfig(llm_items=True)
    samples, skipped = evidence_summary.build_with_report(con, cfg, generate=generate, model="fixed-model")
    llm = [s for s in samples if s.record["metadata"]["kind"] == "llm"]
    assert len(prompts) == 67 and len(llm) == 67 - 6 and skipped["llm: reply is not JSON"] == 6
    for s in llm:
        rec = s.record
        assert rec["metadata"]["generated_by"] == "fixed-model" and rec["question"] == "What did the review find?"
        assert rec["options"][rec["answer"]] == "A benefit" and "a benefit" not in rec["options"].values()
        assert len(rec["options"]) == 4 and "Written by fixed-model" in rec["metadata"]["rationale"]
    letters = Counter(s.record["answer"] for s in samples)
    assert max(letters.values()) - min(letters.values()) <= 1
    rules = evidence_summary.build(con, CFG)
    assert {s.sample_id for s in rules} == {s.sample_id for s in samples} - {s.sample_id for s in llm}
    assert evidence_summary.build(con, CFG, generate=generate) == rules      # off unless configured
    with pytest.raises(ValueError, match="generate"):
        evidence_summary.build(con, cfg)


def test_fact_rules_on_real_reviews(con):
    r = {x.review_id: x for x in load_reviews(con)}
    assert title_facts(r["clef_tar:CD000996"]) == TitleFacts("Inhaled corticosteroids", "Bronchiectasis")
    assert title_facts(r["trialmind:32621264"]) == \
        TitleFacts("PEGylated G-CSF versus G-CSF", "Breast cancer receiving chemotherapy")
    assert title_facts(r["trialmind:33409896"]).intervention.startswith("Treatment with anti-PD-1")   # from criteria
    assert title_facts(r["sysrev_seed:6"]).intervention is None        # "Metformin is comparable to ...": a claim
    assert [conclusion(r[k])[0] for k in ("trialmind:32621264", "trialmind:33409896", "trialmind:35259419")] == \
        ["no_difference", "harm", "benefit"]
    assert conclusion(r["synergy:Nelson_2002"]) is None                # no conclusion heading
    assert keyword_query(r["trialmind:34167181"]) == \
        '("microwave ablation"[tiab] OR "radiofrequency ablation"[tiab]) AND "liver cancer"[tiab]'
    assert redact("PMID 12345; 123456 (12345)", ["12345"]) == "PMID [PMID]; 123456 ([PMID])"


# ---------------------------------------------------------------- all three

def test_each_review_on_one_side(built, truth):
    side = defaultdict(set)
    for samples, _ in built.values():
        for s in samples:
            side[s.record["metadata"]["review_id"]].add(s.split)
            side[s.split_key].add(s.split)
            assert s.split_key and s.split in ("train", "test")
    assert all(len(v) == 1 for v in side.values())
    for a, b in (("sysrev_seed:7", "sysrev_seed:67"), ("sysrev_seed:43", "sysrev_seed:96")):
        assert truth["reviews"][a][2] == truth["reviews"][b][2] and side[a] == side[b]
    splits = Counter(s.split for s in built["study_search"][0])
    assert splits["train"] and splits["test"]


def test_date_cutoff_splits_by_review_year(con):
    cfg = BuildConfig(date_cutoff=date(2010, 1, 1))
    split = {s.record["metadata"]["review_id"]: s.split for s in study_search.build(con, cfg)}
    assert split["synergy:Nelson_2002"] == "train" and split["synergy:Donners_2021"] == "test"
    assert split["sysrev_seed:10"] == "train"            # no year known: train


def test_deterministic(con, built):
    for m in BUILDERS:
        again = m.build(con, CFG)
        assert [(s.sample_id, s.split, s.split_key, s.record, s.lineage, s.label) for s in again] == \
               [(s.sample_id, s.split, s.split_key, s.record, s.lineage, s.label) for s in built[m.TASK][0]]
        assert len({s.sample_id for s in again}) == len(again)


def test_sets_pass_the_quality_checks(db, built, tmp_path):
    copy = tmp_path / "copy.duckdb"
    shutil.copy(db, copy)
    c = connect(copy)
    try:
        for m in BUILDERS:
            store_samples(c, m.TASK, built[m.TASK][0], m.VERSION, CFG)
        for m in BUILDERS:
            for check in (quality.schema_valid, quality.split_leakage, quality.answer_leakage, quality.label_balance):
                outcome = check(c, m.TASK)
                assert outcome.passed, (m.TASK, check.__name__, outcome)
    finally:
        c.close()
