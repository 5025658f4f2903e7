"""The eight builders by task name; build one task set, or every stale one, into the warehouse."""
from __future__ import annotations

import hashlib
import importlib
import time
from types import ModuleType

import duckdb

from .base import TASKS, BuildConfig, store_samples


def builder(task: str) -> ModuleType:
    if task not in TASKS:
        raise KeyError(f"unknown task {task!r}; tasks: {', '.join(TASKS)}")
    return importlib.import_module(f"{__package__}.{task}")


def inputs_fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    """A hash of what the task sets are built from (studies, clusters, reviews, literature, links)."""
    parts = con.execute("""
        SELECT (SELECT count(*) || ':' || coalesce(md5(string_agg(payload_hash, ',' ORDER BY study_id)), '')
                FROM studies),
               (SELECT count(*) || ':' || coalesce(md5(string_agg(study_id || cluster_id, ',' ORDER BY study_id)), '')
                FROM trial_clusters),
               (SELECT count(*) FROM reviews), (SELECT count(*) FROM literature),
               (SELECT count(*) FROM relations WHERE origin IS NOT NULL),
               (SELECT count(*) || ':' || count(concept_id) FROM term_links)""").fetchone()
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:16]


def stale_tasks(con: duckdb.DuckDBPyConnection, tasks=TASKS, cfg: BuildConfig = BuildConfig(),
                fingerprint: str | None = None) -> list[str]:
    """Tasks never built, built by another builder version or config, or from other inputs."""
    current = {t: (v, c, h) for t, v, c, h in con.execute(
        "SELECT task, builder_version, config, inputs_hash FROM task_sets").fetchall()}
    fingerprint = fingerprint or inputs_fingerprint(con)
    return [t for t in tasks if current.get(t) != (builder(t).VERSION, cfg.as_json(), fingerprint)]


def build_task(con: duckdb.DuckDBPyConnection, task: str, cfg: BuildConfig = BuildConfig(),
               fingerprint: str | None = None) -> dict:
    """Build and store one task set; ``fingerprint``: the inputs' fingerprint when the caller has it
    (building task sets does not change the inputs)."""
    started = time.perf_counter()
    module = builder(task)
    samples = module.build(con, cfg)
    report = store_samples(con, task, samples, module.VERSION, cfg)
    con.execute("UPDATE task_sets SET inputs_hash = ? WHERE task = ?",
                [fingerprint or inputs_fingerprint(con), task])
    report["seconds"] = round(time.perf_counter() - started, 3)
    return report


def build_all(con: duckdb.DuckDBPyConnection, tasks=TASKS, cfg: BuildConfig = BuildConfig(),
              only_stale: bool = False) -> list[dict]:
    fingerprint = inputs_fingerprint(con)
    todo = stale_tasks(con, tasks, cfg, fingerprint) if only_stale else list(tasks)
    return [build_task(con, t, cfg, fingerprint) for t in todo]
