"""Training inputs: SFT chat datasets in a stage's mixture, GRPO prompt datasets, the base model.

Samples come from the warehouse's ``task_samples`` (train split) or from exported task sets
(``<data_dir>/<task>/train.jsonl`` and ``sft_train.jsonl``, see :mod:`..tasks.export`). The test
split is never read. A validation slice is cut from the train split by a stable hash of the sample
id (like the reference's 100 held-out train items), so the same samples are held out every run.

Mixture: per task, ``caps[task]`` keeps at most that many samples (the first by stable hash), then
``weights[task]`` repeats (> 1) or thins (< 1) the task's training samples.

GRPO prompts follow spec C's RL prompts (one user turn). With ``prefill`` the prompt is the chat
template's rendering with the prefill appended as the start of the assistant turn (a plain-text
prompt); the reward functions prepend the same text to the completion before checking the format.

The base model is a local directory, a hub id (offline: only when already cached) or ``smoke``:
the tiny smoke model built once from the warehouse's task text (:mod:`..models.tiny`).
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from .config import SMOKE, ConfigError, RunConfig

SAMPLE_SIZE_PROMPT = (
    "A conversation between User and Assistant. The Assistant is an expert in clinical trial design and "
    "biostatistics. Given the trial below, think step-by-step about how many participants it needs to enroll "
    "(endpoints, expected effect, power, significance level, dropout), then give the total sample size.\n"
    "Show your reasoning in a single <think> </think> block, then give the final answer, one integer, within "
    "<answer> </answer> tags, for example <answer>240</answer>.\n\n{question}")
SEARCH_PROMPT = (
    "You are an expert in systematic reviews. Your task is to create a PubMed search query that retrieves the "
    "studies relevant to the systematic review described below. Use Boolean operators (AND, OR) and "
    "parentheses to combine synonyms of the key concepts, for example: ((Lamotrigine OR Lamictal) AND "
    "(epilepsy OR seizures) AND (randomized controlled trial OR placebo)).\n\n"
    "Background: {background}\nObjectives: {objectives}\nSelection Criteria: {criteria}\n\n"
    "{format}")
SEARCH_FORMAT = "Give the final query within <answer> </answer> tags and nothing else."
SEARCH_FORMAT_THINK = ("Think about the key concepts in a single <think> </think> block, then give the final query "
                       "within <answer> </answer> tags.")


@dataclass
class TaskData:
    """One task's train-split records and where they came from."""
    task: str
    records: list[dict]
    version: str | None                  # task_sets.version, or a hash of the exported file
    messages: list[list[dict]] | None = None   # exported SFT chats, aligned with records


@dataclass
class Split:
    train: object                        # datasets.Dataset
    eval: object | None
    counts: dict[str, int] = field(default_factory=dict)       # task -> training rows
    versions: dict[str, str | None] = field(default_factory=dict)


def stable_rank(sample_id: str, seed: int) -> str:
    return hashlib.sha256(f"{seed}:{sample_id}".encode("utf-8")).hexdigest()


def _file_version(path: Path) -> str:
    return "file-" + hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def load_task(cfg: RunConfig, task: str, con=None) -> TaskData:
    """The train split of ``task`` from the warehouse (``con`` or ``data.db``) or ``data.data_dir``."""
    if cfg.data.data_dir and not cfg.data.db and con is None:
        folder = Path(cfg.data.data_dir) / task
        path = folder / "train.jsonl"
        if not path.exists():
            raise ConfigError(f"no exported task set at {path} (trialpanorama export tasks --out {cfg.data.data_dir})")
        records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        chats = None
        sft = folder / "sft_train.jsonl"
        if sft.exists():
            by_id = {r["id"]: r["messages"] for r in map(json.loads, sft.read_text(encoding="utf-8").splitlines())}
            chats = [by_id.get(r["id"]) for r in records]
        return TaskData(task, records, _file_version(path), chats)
    own = con is None
    if own:
        from ..warehouse.db import connect
        db = cfg.db_path()
        if not db.exists():
            raise ConfigError(f"no warehouse at {db} (set data.db, data.data_dir or --db)")
        con = connect(db, read_only=True)
    try:
        rows = con.execute("SELECT record FROM task_samples WHERE task = ? AND split = 'train' ORDER BY sample_id",
                           [task]).fetchall()
        version = con.execute("SELECT version FROM task_sets WHERE task = ?", [task]).fetchone()
    finally:
        if own:
            con.close()
    if not rows:
        raise ConfigError(f"task set {task} has no train samples in {cfg.db_path()} (build the task sets first)")
    return TaskData(task, [json.loads(r[0]) for r in rows], version[0] if version else None)


def exported_texts(data_dir: Path, limit_per_task: int = 200) -> list[str]:
    """Chat turn texts of exported SFT files (the smoke tokenizer's training text)."""
    texts = []
    for path in sorted(data_dir.glob("*/sft_train.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines()[:limit_per_task]:
            texts.extend(t["content"] for t in json.loads(line)["messages"])
    return texts


def _mixture(cfg: RunConfig, items: dict[str, list[tuple[str, object]]]):
    """(train, val) lists of (task, item) after caps, the validation slice and weights."""
    seed = cfg.data.seed
    ranked = {t: sorted(v, key=lambda x: stable_rank(x[0], seed)) for t, v in items.items()}
    for t, cap in cfg.data.caps.items():
        if t in ranked:
            ranked[t] = ranked[t][:cap]
    pool = sorted(((t, sid, it) for t, v in ranked.items() for sid, it in v), key=lambda x: stable_rank(x[1], seed))
    n_val = min(cfg.data.val_size, len(pool) // 5)      # never more than a fifth of the data
    val = [(t, it) for t, _, it in pool[:n_val]]
    held = {sid for _, sid, _ in pool[:n_val]}
    train = []
    for t in ranked:
        mine = [it for sid, it in ranked[t] if sid not in held]
        w = cfg.data.weights.get(t, 1.0)
        whole, part = int(w), w - int(w)
        train += [(t, it) for _ in range(whole) for it in mine] + [(t, it) for it in mine[:round(part * len(mine))]]
    return train, val


def sft_split(cfg: RunConfig, con=None) -> Split:
    """The stage's SFT mixture as ``datasets.Dataset`` objects with one ``messages`` column."""
    from datasets import Dataset

    from ..tasks.registry import builder

    items, versions = {}, {}
    for task in cfg.data.tasks:
        data = load_task(cfg, task, con)
        versions[task] = data.version
        chats = data.messages or [None] * len(data.records)
        items[task] = [(r["id"], chat or builder(task).messages(r)) for r, chat in zip(data.records, chats)]
    train, val = _mixture(cfg, items)
    if not train:
        raise ConfigError(f"no training samples for tasks {', '.join(cfg.data.tasks)}")
    counts = {t: sum(1 for x, _ in train if x == t) for t in cfg.data.tasks}
    return Split(Dataset.from_dict({"messages": [m for _, m in train]}),
                 Dataset.from_dict({"messages": [m for _, m in val]}) if val else None, counts, versions)


# -- the base model ---------------------------------------------------------------------------
def offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def resolve_base(cfg: RunConfig) -> str:
    """The base model as something ``from_pretrained`` loads: ``smoke`` builds (or reuses) the tiny
    smoke model in ``{output_root}/smoke-base`` from the warehouse's task text; a local directory
    is used as is; a hub id is used as is, except offline, where it must already be cached."""
    base = cfg.base()
    if base == SMOKE:
        return str(smoke_base(cfg))
    if Path(base).is_dir():
        return base
    if Path(base).is_absolute() or base.startswith((".", "~")) or base.count("/") > 1:
        raise ConfigError(f"model.base {base!r} is not a directory (did an earlier stage finish and save it?)")
    if offline():
        from huggingface_hub import try_to_load_from_cache
        cached = try_to_load_from_cache(base, "config.json", revision=cfg.model.revision)
        if not isinstance(cached, str):
            raise ConfigError(
                f"model.base {base!r} is not a local directory and HF_HUB_OFFLINE is set, so it cannot be "
                f"downloaded. Put the weights in a directory on a connected machine (huggingface-cli download "
                f"{base} --local-dir /models/{base.split('/')[-1]}), copy it here and set "
                f"model.base=/models/{base.split('/')[-1]}; or fill the hub cache under "
                f"{os.environ.get('HF_HOME', '~/.cache/huggingface')}.")
    return base


def smoke_base(cfg: RunConfig) -> Path:
    from ..models.tiny import build_tiny_model, is_smoke_model, task_texts

    out = cfg.root() / "smoke-base"
    if is_smoke_model(out):
        return out
    if cfg.data.db or not cfg.data.data_dir:
        from ..warehouse.db import connect
        db = cfg.db_path()
        if not db.exists():
            raise ConfigError(f"the smoke base model is built from the warehouse's task text: no warehouse at {db}")
        con = connect(db, read_only=True)
        try:
            texts = task_texts(con)
        finally:
            con.close()
    else:
        texts = exported_texts(Path(cfg.data.data_dir))
    return build_tiny_model(out, texts)


# -- GRPO -------------------------------------------------------------------------------------
def sample_size_prompt(record: dict) -> str:
    return SAMPLE_SIZE_PROMPT.format(question=record["question"])


def search_prompt(record: dict, think: bool = False) -> str:
    inputs = record.get("inputs") or {}
    return SEARCH_PROMPT.format(background=inputs.get("background") or "", objectives=inputs.get("objectives") or "",
                                criteria=inputs.get("selection criteria") or "",
                                format=SEARCH_FORMAT_THINK if think else SEARCH_FORMAT)


def grpo_row(task: str, record: dict, think: bool = False) -> dict:
    """The chat prompt and the reward's ground truth columns of one record."""
    if task == "sample_size_estimation":
        answer = record.get("answer")
        return {"prompt": [{"role": "user", "content": sample_size_prompt(record)}],
                "target": int(answer) if isinstance(answer, (int, float)) and not isinstance(answer, bool) else None,
                "sample_id": record["id"]}
    if task == "study_search":
        meta = record.get("metadata") or {}
        return {"prompt": [{"role": "user", "content": search_prompt(record, think)}],
                "relevant_pmids": [str(p) for p in record.get("labels") or []],
                "review_id": meta.get("review_id") or meta.get("review_pmid") or "", "sample_id": record["id"]}
    raise ConfigError(f"no GRPO prompt for task {task!r}")


def render_prefilled(chat: list[dict], tokenizer, prefill: str) -> str:
    """The chat rendered by the model's template, ready for the assistant, plus ``prefill``."""
    text = tokenizer.apply_chat_template(chat, tokenize=False, add_generation_prompt=True)
    bos = tokenizer.bos_token
    if bos and text.startswith(bos) and tokenizer("x")["input_ids"][:1] == [tokenizer.bos_token_id]:
        text = text[len(bos):]        # the tokenizer adds it again when the trainer encodes the prompt
    return text + prefill


def grpo_split(cfg: RunConfig, tokenizer=None, con=None) -> Split:
    """Prompts (chat lists, or prefilled text when ``grpo.prefill``) and ground-truth columns."""
    from datasets import Dataset

    task = cfg.grpo.task
    data = load_task(cfg, task, con)
    rows = [grpo_row(task, r, cfg.grpo.think) for r in data.records]
    if task == "sample_size_estimation":
        rows = [r for r in rows if r["target"]]
    if cfg.grpo.prefill:
        if tokenizer is None:
            raise ConfigError("grpo.prefill needs the tokenizer to render the prompt")
        for r in rows:
            r["prompt"] = render_prefilled(r["prompt"], tokenizer, cfg.grpo.prefill)
    train, val = _mixture(cfg, {task: [(r["sample_id"], r) for r in rows]})
    if not train:
        raise ConfigError(f"no GRPO training prompts for {task}")
    return Split(Dataset.from_list([r for _, r in train]), Dataset.from_list([r for _, r in val]) if val else None,
                 {task: len(train)}, {task: data.version})
