"""What every task builder shares: the sample type, splits, stable ids, option shuffling, storage.

A builder module (``tasks/<task>.py``) exposes:

``TASK``             the task name (a key of :data:`TASKS`)
``VERSION``          the builder version (bump it when the samples it builds change)
``build(con, cfg)``  -> list[:class:`Sample`] (split already assigned with :func:`assign_split`)
``messages(record)`` -> the SFT chat turns (system, user, assistant) of one record
``answer_text(record)`` / ``input_text(record)``: what the leakage check compares (a test
                     sample's answer text must not appear in its own inputs)

Splits are decided by a stable hash of a split key — the dedup cluster of a trial, the review id
of a review — so one trial registered twice, or one review, never lands on both sides; with a
date cutoff, keys dated before it go to train and the rest to test.
"""
from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timezone

import duckdb

from ..warehouse.db import insert_rows, transaction

TASKS = ("study_search", "study_screening", "evidence_summary", "arm_design", "eligibility_criteria_design",
         "endpoint_design", "sample_size_estimation", "trial_completion_assessment")
LETTERS = "ABCDEFGHIJ"


@dataclass(frozen=True)
class BuildConfig:
    seed: int = 42
    test_fraction: float = 0.2
    date_cutoff: date | None = None      # keys dated before go to train, on/after to test
    n_options: int = 4                   # multiple-choice options (answer + distractors)
    max_candidates: int = 50             # study screening: candidates per sample
    llm_items: bool = False              # evidence summary: also items from a configured LLM

    def as_json(self) -> str:
        return json.dumps({k: (v.isoformat() if isinstance(v, date) else v) for k, v in self.__dict__.items()},
                          sort_keys=True)


@dataclass
class Sample:
    task: str
    sample_id: str
    split: str
    split_key: str
    record: dict                     # the reference's fields (plus "id")
    lineage: dict = field(default_factory=dict)
    label: str | None = None         # one label for distributions (answer letter, outcome, ...)


def stable_id(task: str, *parts: object) -> str:
    """A sample id that depends only on the task and what the sample is built from."""
    h = hashlib.sha256("\x1f".join([task, *map(str, parts)]).encode("utf-8")).hexdigest()
    return f"{task}-{h[:16]}"


def hash_fraction(key: str, seed: int) -> float:
    return int(hashlib.sha256(f"{seed}:{key}".encode("utf-8")).hexdigest()[:15], 16) / float(16 ** 15)


def assign_split(key: str, cfg: BuildConfig, key_date: date | None = None) -> str:
    if cfg.date_cutoff is not None:
        if key_date is None:
            return "train"
        return "train" if key_date < cfg.date_cutoff else "test"
    return "test" if hash_fraction(key, cfg.seed) < cfg.test_fraction else "train"


def rng_for(cfg: BuildConfig, *parts: object) -> random.Random:
    """A random generator seeded by the build seed and the sample's identity (order-independent)."""
    return random.Random(hashlib.sha256(f"{cfg.seed}:{':'.join(map(str, parts))}".encode()).hexdigest())


def lay_out_options(answer: str, distractors: list[str], letter_index: int) -> tuple[dict[str, str], str]:
    """Options with the answer at ``letter_index`` (callers cycle it so letters stay balanced) and
    the distractors in the given order around it; returns (options, answer letter)."""
    texts = list(distractors)
    letter_index = max(0, min(letter_index, len(texts)))
    texts.insert(letter_index, answer)
    return {LETTERS[i]: t for i, t in enumerate(texts)}, LETTERS[letter_index]


def balanced_letters(samples: list[tuple[str, int]], cfg: BuildConfig) -> dict[str, int]:
    """{sample key: answer position} cycling positions over the samples in a seeded order, so each
    letter is the answer equally often (± 1) whatever the number of samples."""
    keys = sorted(k for k, _ in samples)
    random.Random(cfg.seed).shuffle(keys)
    n_by_key = dict(samples)
    return {k: i % max(1, n_by_key[k]) for i, k in enumerate(keys)}


def mc_answer_text(record: dict) -> str:
    """The answer option's text of a multiple-choice record (what must not appear in its question)."""
    return record["options"][record["answer"]]


def mc_question_text(record: dict) -> str:
    return record["question"]


def cluster_of(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """study_id -> dedup cluster id (the study itself when clusters are not built)."""
    return dict(con.execute("SELECT study_id, cluster_id FROM trial_clusters").fetchall())


def set_version(samples: list[Sample]) -> str:
    h = hashlib.sha256()
    for s in sorted(samples, key=lambda x: x.sample_id):
        h.update(s.sample_id.encode())
        h.update(s.split.encode())
        h.update(json.dumps(s.record, sort_keys=True, ensure_ascii=False).encode())
    return h.hexdigest()[:16]


def store_samples(con: duckdb.DuckDBPyConnection, task: str, samples: list[Sample], builder_version: str,
                  cfg: BuildConfig) -> dict:
    """Replace the task's samples and record the set's version (a content hash of its samples)."""
    ids = [s.sample_id for s in samples]
    if len(ids) != len(set(ids)):
        dup = sorted({i for i in ids if ids.count(i) > 1})[:5]
        raise ValueError(f"{task}: duplicate sample ids {dup}")
    version = set_version(samples)
    rows = [(task, s.sample_id, s.split, s.split_key, json.dumps(s.record, ensure_ascii=False, sort_keys=True),
             json.dumps({**s.lineage, "builder_version": builder_version, "split": s.split,
                         "split_key": s.split_key}, ensure_ascii=False, sort_keys=True),
             s.label, builder_version) for s in samples]
    train = sum(1 for s in samples if s.split == "train")
    with transaction(con):
        con.execute("DELETE FROM task_samples WHERE task = ?", [task])
        con.execute("DELETE FROM task_sets WHERE task = ?", [task])
        insert_rows(con, "task_samples", rows)
        insert_rows(con, "task_sets", [(task, version, builder_version, cfg.as_json(), train, len(samples) - train,
                                        datetime.now(timezone.utc), None)])
    return {"task": task, "version": version, "train": train, "test": len(samples) - train}

