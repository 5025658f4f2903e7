"""Evidence summarization (B3): multiple-choice questions about a review's findings over its included studies.

Record: ``{"id", "question", "options": {"A": ...}, "answer": "B", "metadata": {"review_id", "kind",
"generated_by": "rules" | <model>, "rationale"}}``. At most one question of each kind per review, built
by rules from structured facts (:mod:`.review_facts`):

``included_study``  Which of these studies did the review "<title>" include? Answer: one included
                    study's title; distractors: titles of candidates the review excluded, then studies
                    included in other reviews (never one this review, or a copy of it, included).
``population``      Given (up to 10 of) its included studies' titles, which population or condition
                    does the review address? Distractors: other reviews' populations.
``intervention``    Same evidence; which intervention or comparison does it assess?
``conclusion``      Given its title and included studies, what did the review conclude? Answer: the
                    category of the first sentence of its abstract's conclusion section (rules in
                    :mod:`.review_facts`); distractors: the other categories. Needs ``n_options <= 4``.

Every question has ``cfg.n_options`` options with distinct texts (compared without case, spacing and
punctuation; a distractor that contains the answer, or is contained in it, is not used); an item
whose answer shows in its own question is dropped. The answer letter is assigned with
:func:`.base.balanced_letters`, cycling over train and then on over test, so letters are equally
often right (± 1) in each split and over the whole set.

LLM items (off by default): with ``cfg.llm_items`` and a ``generate(prompt) -> str`` callable,
:func:`llm_drafts` asks for one question per review as JSON ``{"question", "answer", "distractors",
"explanation"}`` (the explanation is optional);
valid replies become items of kind ``llm`` marked ``generated_by`` = the model name.
"""
from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import duckdb

from .base import balanced_letters, BuildConfig, lay_out_options, LETTERS, mc_answer_text, mc_question_text, rng_for, Sample, stable_id
from .review_data import Review, load_reviews, norm
from .review_facts import CONCLUSIONS, conclusion, title_facts

TASK = "evidence_summary"
VERSION = "1"
KINDS = ("included_study", "population", "intervention", "conclusion")
MAX_EVIDENCE = 10

SYSTEM = ("You are a helpful assistant for answering biomedical questions. Read the question and the options, "
          "think step by step, and choose the one correct option. Output your answer as "
          '```json {"step_by_step_thinking": Str(explanation), "answer_choice": Str{A/B/C/...}}```.')
LLM_PROMPT = """You write multiple-choice questions that test whether a reader understands the findings of a \
systematic review.
Review title: {title}
Objectives: {objectives}
Abstract: {abstract}
Included studies:
{studies}
Write one question about what this review found, answerable from its included studies, with one correct \
answer and {k} plausible but wrong answers. Reply with JSON only: \
{{"question": str, "answer": str, "distractors": [str, ...], "explanation": str}}."""


@dataclass
class Draft:
    review: Review
    kind: str
    question: str
    answer: str
    distractors: list[str]
    rationale: str
    source_ids: list[str]
    generated_by: str = "rules"

    @property
    def sample_id(self) -> str:
        tag = self.kind if self.generated_by == "rules" else f"{self.kind}:{self.generated_by}"
        return stable_id(TASK, self.review.review_id, tag)


def _pick(pool: list[tuple[str, str]], answer: str, k: int, rng, taken=(), not_key: str | None = None) -> list[str]:
    """k texts of a (key, text) pool drawn in a seeded order, distinct from each other and from the
    answer (neither containing the other), none under ``not_key`` or in ``taken`` (normalised texts);
    fewer when the pool runs out. Random draws first, a full pass only when they fall short, so a
    large pool costs O(k) per item."""
    a, out, seen = norm(answer), [], set(taken)

    def take(i: int) -> None:
        key, text = pool[i]
        t = norm(text)
        if key != not_key and t and t not in seen and (not a or (a not in t and t not in a)):
            seen.add(t)
            out.append(text)

    n = len(pool)
    for _ in range(min(n, 30 * k)):
        if len(out) >= k:
            return out
        take(rng.randrange(n))
    if len(out) < k:
        for i in rng.sample(range(n), n):
            take(i)
            if len(out) >= k:
                break
    return out[:k]


def _evidence(review: Review, cfg: BuildConfig) -> list:
    studies = sorted((c for c in review.included if c.title), key=lambda c: c.article_id)
    rng_for(cfg, TASK, review.review_id, "evidence").shuffle(studies)
    return studies[:MAX_EVIDENCE]


def _listing(studies) -> str:
    return "\n".join(f"{i}. {c.title}" for i, c in enumerate(studies, 1))


def rule_drafts(reviews: list[Review], cfg: BuildConfig, skipped: Counter) -> list[Draft]:
    k = cfg.n_options - 1
    group_titles: dict[str, set[str]] = {}
    for r in reviews:
        group_titles.setdefault(r.split_key, set()).update(norm(c.title) for c in r.included if c.title)
    included_elsewhere = [(r.split_key, c.title) for r in reviews for c in r.included if c.title]
    facts = {r.review_id: title_facts(r) for r in reviews}
    fact_pool = {kind: [(r.split_key, getattr(facts[r.review_id], kind)) for r in reviews
                        if getattr(facts[r.review_id], kind)] for kind in ("population", "intervention")}
    drafts: list[Draft] = []
    for r in reviews:
        rng = rng_for(cfg, TASK, r.review_id)
        mine = group_titles.get(r.split_key, set())
        titled = sorted((c for c in r.included if c.title), key=lambda c: c.article_id)
        if titled and r.title:
            ans = rng.choice(titled)
            own = sorted({("", c.title) for c in r.excluded if c.title})
            picks = _pick(own, ans.title, k, rng, mine)
            n_own = len(picks)
            if len(picks) < k:
                picks += _pick(included_elsewhere, ans.title, k - len(picks), rng, mine | {norm(p) for p in picks},
                               not_key=r.split_key)
            question = f'Which of the following studies was included in the systematic review "{r.title}"?'
            if r.objectives:
                question += f"\nReview objectives: {r.objectives}"
            why = " and ".join(w for w, n in (("candidates it excluded", n_own),
                                              ("studies included in other reviews", len(picks) - n_own)) if n)
            drafts.append(Draft(r, "included_study", question, ans.title, picks,
                                f'The review "{r.title}" included the study "{ans.title}"; the other options are '
                                f"{why}.", [ans.article_id]))
        else:
            skipped["included_study: no included study with a title"] += 1
        evidence = _evidence(r, cfg)
        for kind, label in (("population", "population or condition does the review address"),
                            ("intervention", "intervention or comparison does the review assess")):
            answer = getattr(facts[r.review_id], kind)
            if not answer or not evidence:
                skipped[f"{kind}: {'not read from the title or criteria' if not answer else 'no titled study'}"] += 1
                continue
            question = (f"A systematic review included the following studies:\n{_listing(evidence)}\n"
                        f"Which {label}?")
            picks = _pick(fact_pool[kind], answer, k, rng, not_key=r.split_key)
            drafts.append(Draft(r, kind, question, answer, picks,
                                f'The review "{r.title}" is about: {answer}. Its included studies fit this, '
                                "the other options describe other reviews.", [c.article_id for c in evidence]))
        found = conclusion(r)
        if not found:
            skipped["conclusion: no conclusion sentence the rules classify"] += 1
        elif k > len(CONCLUSIONS) - 1:
            skipped["conclusion: n_options above the number of conclusion categories"] += 1
        else:
            category, sentence = found
            listing = f" Its included studies:\n{_listing(evidence)}\n" if evidence else "\n"
            question = f'A systematic review titled "{r.title}" pooled its included studies.{listing}' \
                       "What did the review conclude?"
            others = [("", CONCLUSIONS[c]) for c in sorted(CONCLUSIONS) if c != category]
            drafts.append(Draft(r, "conclusion", question, CONCLUSIONS[category],
                                _pick(others, CONCLUSIONS[category], k, rng),
                                f'The review\'s abstract concludes: "{sentence}"', [c.article_id for c in evidence]))
    return drafts


def _parse_reply(text: str) -> dict | None:
    m = re.search(r"```(?:json)?\s*(.*?)```", text, re.S)
    try:
        obj = json.loads(m.group(1) if m else text)
    except (json.JSONDecodeError, TypeError):
        return None
    return obj if isinstance(obj, dict) else None


def llm_drafts(reviews: list[Review], cfg: BuildConfig, generate: Callable[[str], str], model: str,
               skipped: Counter) -> list[Draft]:
    """One LLM-written question per review with an included study; invalid replies are counted, not kept."""
    k = cfg.n_options - 1
    drafts = []
    for r in reviews:
        if not r.included:
            continue
        evidence = _evidence(r, cfg)
        prompt = LLM_PROMPT.format(title=r.title or "", objectives=r.objectives or "", abstract=r.background or "",
                                   studies=_listing(evidence) or "(titles not available)", k=k)
        obj = _parse_reply(generate(prompt))
        if obj is None:
            skipped["llm: reply is not JSON"] += 1
            continue
        q, a, ds = obj.get("question"), obj.get("answer"), obj.get("distractors")
        if not (isinstance(q, str) and q.strip() and isinstance(a, str) and a.strip() and isinstance(ds, list)):
            skipped["llm: reply lacks question, answer or distractors"] += 1
            continue
        ds = [d.strip() for d in ds if isinstance(d, str) and d.strip()]
        picks = _pick([("", d) for d in ds], a.strip(), k, rng_for(cfg, TASK, r.review_id, "llm", model))
        why = obj.get("explanation") if isinstance(obj.get("explanation"), str) and obj["explanation"].strip() \
            else f"Written by {model} from the review's abstract and included studies."
        drafts.append(Draft(r, "llm", q.strip(), a.strip(), picks, why.strip(), [c.article_id for c in evidence],
                            generated_by=model))
    return drafts


def _positions(drafts: list[Draft], cfg: BuildConfig) -> dict[str, int]:
    """Answer positions cycling over train, then on over test, so each letter is right equally often
    (± 1) in each split and over the whole set."""
    n, out = cfg.n_options, {}
    train = [d.sample_id for d in drafts if d.review.split(cfg) == "train"]
    test = [d.sample_id for d in drafts if d.review.split(cfg) != "train"]
    out.update(balanced_letters([(sid, n) for sid in train], cfg))
    out.update({sid: (p + len(train)) % n for sid, p in balanced_letters([(sid, n) for sid in test], cfg).items()})
    return out


def build_with_report(con: duckdb.DuckDBPyConnection, cfg: BuildConfig, generate: Callable[[str], str] | None = None,
                      model: str = "llm") -> tuple[list[Sample], dict]:
    """The samples and what was left out: {reason: number of items}."""
    if not 2 <= cfg.n_options <= len(LETTERS):
        raise ValueError(f"n_options must be between 2 and {len(LETTERS)}")
    if cfg.llm_items and generate is None:
        raise ValueError("llm_items is on but no generate(prompt) -> str callable was given")
    reviews, skipped = load_reviews(con), Counter()
    drafts = rule_drafts(reviews, cfg, skipped)
    if cfg.llm_items:
        drafts += llm_drafts(reviews, cfg, generate, model, skipped)
    kept = []
    for d in drafts:
        if len(d.distractors) < cfg.n_options - 1:
            skipped[f"{d.kind}: too few distinct distractors"] += 1
        elif norm(d.answer) in norm(d.question):
            skipped[f"{d.kind}: answer appears in the question"] += 1
        else:
            kept.append(d)
    position = _positions(kept, cfg)
    samples = []
    for d in kept:
        options, letter = lay_out_options(d.answer, d.distractors, position[d.sample_id])
        record = {"id": d.sample_id, "question": d.question, "options": options, "answer": letter,
                  "metadata": {"review_id": d.review.review_id, "collection": d.review.collection, "kind": d.kind,
                               "generated_by": d.generated_by, "rationale": d.rationale}}
        samples.append(Sample(TASK, d.sample_id, d.review.split(cfg), d.review.split_key, record,
                              d.review.lineage(d.source_ids), label=letter))
    return samples, dict(skipped)


def build(con: duckdb.DuckDBPyConnection, cfg: BuildConfig, generate: Callable[[str], str] | None = None,
          model: str = "llm") -> list[Sample]:
    return build_with_report(con, cfg, generate, model)[0]


def user_text(record: dict) -> str:
    return record["question"] + "\n" + "\n".join(f"{k}. {v}" for k, v in record["options"].items())


def messages(record: dict) -> list[dict]:
    reply = {"step_by_step_thinking": (record.get("metadata") or {}).get("rationale") or "",
             "answer_choice": record["answer"]}
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user_text(record)},
            {"role": "assistant", "content": "```json\n" + json.dumps(reply, ensure_ascii=False) + "\n```"}]


# the leakage check compares the answer option with the question (shared by the multiple-choice tasks)
answer_text = mc_answer_text
input_text = mc_question_text
