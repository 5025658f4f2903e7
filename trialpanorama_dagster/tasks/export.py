"""Export task sets: reference-layout JSONL, Hugging Face ``datasets`` Parquet, SFT chat files, a card.

``<out>/<task>/train.jsonl`` and ``test.jsonl`` hold the reference's fields plus ``id`` and our
``lineage`` (sources, dedup cluster or review, split, builder version), so files in the reference
layout are drop-in compatible. ``<out>/<task>/data/<split>-00000-of-00001.parquet`` is the same
data as ``datasets`` loads it (``load_dataset("parquet", data_dir=...)``: nested values as JSON
text, so every task has one flat schema). ``<out>/<task>/sft_<split>.jsonl`` holds
``{"id", "messages": [system, user, assistant]}``, and ``<out>/README.md`` is the dataset card.
"""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from .base import TASKS
from .quality import label_distribution
from .registry import builder

LICENCES = {
    "trials": "Registry records: ClinicalTrials.gov (NLM, public domain with attribution), WHO ICTRP and the source "
              "registries, EU CTR, CTIS, ISRCTN, ChiCTR under their terms of use.",
    "reviews": "Review collections: SYNERGY (CC0), CLEF TAR (MIT), sysrev-seed (MIT), TrialMind-SLR (MIT), "
               "Cohen/DERP (custom licence, only when configured); PubMed citations (NLM).",
}
REVIEW_TASKS = ("study_search", "study_screening", "evidence_summary")


def _rows(con, task: str, split: str) -> list[tuple[dict, dict]]:
    return [(json.loads(r), json.loads(lin)) for r, lin in con.execute(
        "SELECT record, lineage FROM task_samples WHERE task = ? AND split = ? ORDER BY sample_id",
        [task, split]).fetchall()]


def _jsonl(path: Path, items) -> int:
    n = 0
    with open(path, "w", encoding="utf-8") as f:
        for item in items:
            f.write(json.dumps(item, ensure_ascii=False) + "\n")
            n += 1
    return n


def _parquet(path: Path, rows: list[tuple[dict, dict]]) -> None:
    keys = sorted({k for rec, _ in rows for k in rec})
    cols = {"id": [rec.get("id") for rec, _ in rows]}
    for k in keys:
        if k == "id":
            continue
        values = [rec.get(k) for rec, _ in rows]
        scalar = all(v is None or isinstance(v, (str, int, float, bool)) for v in values)
        kinds = {type(v) for v in values if v is not None}
        cols[k] = values if scalar and len(kinds) <= 1 else [
            None if v is None else json.dumps(v, ensure_ascii=False) for v in values]
    cols["lineage"] = [json.dumps(lin, ensure_ascii=False, sort_keys=True) for _, lin in rows]
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(cols), path)


def export_task(con: duckdb.DuckDBPyConnection, task: str, out: Path) -> dict:
    module = builder(task)
    folder = Path(out) / task
    folder.mkdir(parents=True, exist_ok=True)
    counts = {}
    for split in ("train", "test"):
        rows = _rows(con, task, split)
        counts[split] = _jsonl(folder / f"{split}.jsonl", ({**rec, "lineage": lin} for rec, lin in rows))
        _parquet(folder / "data" / f"{split}-00000-of-00001.parquet", rows)
        _jsonl(folder / f"sft_{split}.jsonl", ({"id": rec["id"], "messages": module.messages(rec)} for rec, _ in rows))
    return counts


def _sources(con, task: str) -> dict[str, int]:
    lineages = [json.loads(r[0]) for r in con.execute(
        "SELECT lineage FROM task_samples WHERE task = ?", [task]).fetchall()]
    c = Counter(lin.get("study_source") or lin.get("collection") or "unknown" for lin in lineages)
    return dict(sorted(c.items()))


def dataset_card(con: duckdb.DuckDBPyConnection, tasks, counts: dict[str, dict]) -> str:
    sets = {t: (v, b, c) for t, v, b, c in con.execute(
        "SELECT task, version, builder_version, config FROM task_sets").fetchall()}
    lines = ["# TrialPanorama task sets", "",
             "Eight task sets built from one TrialPanorama-Dagster warehouse. Splits are decided by a stable hash "
             "of the dedup cluster (trial tasks) or the review (review tasks), so a trial registered twice or a "
             "review never lands on both sides. Inputs of the design, sample-size and completion tasks hold only "
             "what was known at registration.", "",
             "| task | train | test | set version | builder | sources |", "|---|---|---|---|---|---|"]
    for t in tasks:
        v, b, _ = sets.get(t, ("-", "-", "-"))
        src = ", ".join(f"{k} {n}" for k, n in _sources(con, t).items())
        lines.append(f"| {t} | {counts[t].get('train', 0)} | {counts[t].get('test', 0)} | {v} | {b} | {src} |")
    lines += ["", "## Label distributions", ""]
    for t in tasks:
        lines.append(f"- **{t}**: " + "; ".join(f"{s}: " + ", ".join(f"{k} {n}" for k, n in d.items())
                                                 for s, d in label_distribution(con, t).items()))
    config = next((c for _, _, c in sets.values()), "{}")
    lines += ["", "## Build", "", f"Config: `{config}`", "",
              "Files per task: `train.jsonl`, `test.jsonl` (reference fields + `id` + `lineage`), "
              "`data/*.parquet` (Hugging Face datasets), `sft_train.jsonl`, `sft_test.jsonl` (chat messages).",
              "", "## Licences", "", f"- {LICENCES['trials']}", f"- {LICENCES['reviews']}", ""]
    return "\n".join(lines)


def export_tasks(con: duckdb.DuckDBPyConnection, out: str | Path, tasks=TASKS) -> dict[str, dict]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    counts = {t: export_task(con, t, out) for t in tasks}
    (out / "README.md").write_text(dataset_card(con, tasks, counts), encoding="utf-8")
    return counts
