"""``trialpanorama bench`` (run a model or the baselines on task sets) and ``trialpanorama score``
(score predictions made anywhere against an exported task file)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

BACKENDS = ("baseline", "openai", "transformers", "vllm")


def _err(msg: str, code: int = 2) -> int:
    print(f"trialpanorama: error: {msg}", file=sys.stderr)
    return code


def _options(pairs: list[str]) -> dict:
    """``key=value`` backend options; values read as JSON when they parse (numbers, true/false)."""
    out = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"--option takes key=value, not {pair!r}")
        try:
            out[key.replace("-", "_")] = json.loads(value)
        except json.JSONDecodeError:
            out[key.replace("-", "_")] = value
    return out


def _predictor(args):
    from .bench.run import CACHE_FILE, BaselinePredictor, llm_predictor
    from .warehouse.db import home_dir

    if args.backend == "baseline":
        return BaselinePredictor(args.model or "baseline")
    if not args.model:
        raise ValueError(f"--model is required with --backend {args.backend}")
    options = _options(args.option)
    if args.base_url:
        options["base_url"] = args.base_url
    if args.api_key_env:
        options["api_key_env"] = args.api_key_env
    cache = None if args.no_cache else args.cache or home_dir() / "bench" / CACHE_FILE
    return llm_predictor(args.backend, args.model, options, cache)


def cmd_bench(args) -> int:
    from tqdm import tqdm

    from .bench.run import BenchConfig, new_run_id, run_task, slug, store_runs, write_predictions
    from .bench.search_env import LocalSearchEnv
    from .bench.types import Decoding
    from .search.index import default_index_path, ensure_index
    from .tasks.base import TASKS
    from .warehouse.db import connect, default_db_path, home_dir

    db = Path(args.db) if args.db else default_db_path()
    if not db.exists():
        return _err(f"no warehouse at {db} (build it with `trialpanorama run`, or pass --db)")
    tasks = list(TASKS) if "all" in args.task else args.task
    unknown = sorted(set(tasks) - set(TASKS))
    if unknown:
        return _err(f"unknown task(s) {', '.join(unknown)}; tasks: all, {', '.join(TASKS)}")
    try:
        predictor = _predictor(args)
    except (ValueError, RuntimeError, OSError, ImportError) as exc:
        return _err(str(exc))
    cfg = BenchConfig(split=args.split, limit=args.limit, seed=args.seed, chunk_size=args.chunk_size,
                      decoding=Decoding(temperature=args.temperature, top_p=args.top_p,
                                        max_new_tokens=args.max_new_tokens, seed=args.seed))
    out = Path(args.out) if args.out else home_dir() / "bench" / slug(predictor.model)
    run_id = new_run_id(predictor.model)
    runs, results = [], {}
    try:
        with connect(db, read_only=True) as con:
            env = None
            if "study_search" in tasks:     # the frozen search environment, built or refreshed when stale
                env = LocalSearchEnv(ensure_index(con, default_index_path(db))[0])
            for task in tasks:
                with tqdm(total=None, unit=" samples", desc=task, disable=args.quiet or None) as bar:
                    run = run_task(con, task, predictor, cfg, env, progress=bar.update,
                                   log=None if args.quiet else tqdm.write)
                runs.append(run)
                write_predictions(run, out)
                results[task] = {**run.metrics, "backend_errors": run.errors, "set_version": run.set_version}
                if run.groups:             # study screening: the figures of each review
                    results[task]["per_review"] = run.groups
    finally:
        llm = getattr(predictor, "llm", None)
        if llm is not None:
            llm.close()
    if not args.no_store:
        with connect(db) as con:
            store_runs(con, runs, run_id, {"split": cfg.split, "limit": cfg.limit, "seed": cfg.seed,
                                           "decoding": json.loads(cfg.decoding.key()), **predictor.describe()})
    print(json.dumps({"run_id": run_id, "model": predictor.model, "backend": predictor.backend,
                      "predictions": str(out), "results": results}, indent=2))
    return 0


def _read_jsonl(path: Path, what: str) -> list[dict]:
    items = []
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{what} {path} line {i}: not JSON ({exc.msg})") from None
            if not isinstance(item, dict) or "id" not in item:
                raise ValueError(f"{what} {path} line {i}: an object with an \"id\" is expected")
            items.append(item)
    return items


def cmd_score(args) -> int:
    from .bench.scoring import score
    from .bench.search_env import LocalSearchEnv
    from .search.index import SearchIndex
    from .tasks.base import TASKS

    if args.task not in TASKS:
        return _err(f"unknown task {args.task!r}; tasks: {', '.join(TASKS)}")
    try:
        gold = _read_jsonl(Path(args.gold), "gold")
        preds = _read_jsonl(Path(args.predictions), "predictions")
    except (OSError, ValueError) as exc:
        return _err(str(exc))
    outputs = {}
    for p in preds:
        if not isinstance(p.get("output"), str):
            return _err(f"prediction {p['id']!r}: \"output\" must be the model's raw text")
        outputs[str(p["id"])] = p["output"]
    env = None
    if args.task == "study_search":
        if not (args.index or args.db):
            return _err("study_search is scored in the local search environment: pass --db or --index")
        try:
            env = LocalSearchEnv(SearchIndex(args.index)) if args.index else LocalSearchEnv.open(args.db)
        except FileNotFoundError as exc:
            return _err(str(exc))
    missing = [str(g["id"]) for g in gold if str(g["id"]) not in outputs]
    extra = sorted(set(outputs) - {str(g["id"]) for g in gold})
    scores = score(args.task, gold, [outputs.get(str(g["id"]), "") for g in gold], env)
    report = {"task": args.task, **scores.metrics, "missing_predictions": len(missing),
              "unknown_ids": len(extra)}
    if scores.groups:                      # study screening: the figures of each review
        report["per_review"] = scores.groups
    if args.rows:
        Path(args.rows).write_text("\n".join(json.dumps(r, ensure_ascii=False, default=str) for r in scores.rows)
                                   + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2))
    return 0


def register(sub) -> None:
    b = sub.add_parser("bench", help="benchmark a model (or the weight-free baselines) on the task sets")
    b.add_argument("--task", action="append", required=True, help="a task, or all (repeatable)")
    b.add_argument("--backend", choices=BACKENDS, default="baseline")
    b.add_argument("--model", help="model name, local folder or hub id (default for baseline: baseline)")
    b.add_argument("--limit", type=int, help="a seeded subsample of N samples per task")
    b.add_argument("--split", default="test", choices=["test", "train"])
    b.add_argument("--db", help="warehouse file (default: $TRIALPANORAMA_HOME/warehouse.duckdb)")
    b.add_argument("--base-url", help="openai backend: the endpoint, e.g. http://127.0.0.1:8000/v1")
    b.add_argument("--api-key-env", help="openai backend: the environment variable holding the key "
                                         "(default OPENAI_API_KEY; the key itself is never printed)")
    b.add_argument("--option", action="append", metavar="KEY=VALUE",
                   help="a backend option (max_concurrency, timeout, batch_size, dtype, tensor_parallel_size ...)")
    b.add_argument("--temperature", type=float, default=0.0)
    b.add_argument("--top-p", type=float, default=1.0)
    b.add_argument("--max-new-tokens", type=int, default=1024)
    b.add_argument("--seed", type=int, default=42)
    b.add_argument("--chunk-size", type=int, default=32, help="prompts per backend call and cache write")
    b.add_argument("--cache", help="generation cache file (default: $TRIALPANORAMA_HOME/bench/generations.sqlite)")
    b.add_argument("--no-cache", action="store_true")
    b.add_argument("--no-store", action="store_true", help="do not write bench_results")
    b.add_argument("--out", help="folder for <task>.jsonl predictions (default: $TRIALPANORAMA_HOME/bench/<model>)")
    b.add_argument("--quiet", action="store_true")
    b.set_defaults(func=cmd_bench)

    s = sub.add_parser("score", help="score a JSONL of {\"id\", \"output\"} against an exported task file")
    s.add_argument("--task", required=True)
    s.add_argument("--predictions", required=True, help="JSONL: {\"id\": sample id, \"output\": raw model text}")
    s.add_argument("--gold", required=True, help="an exported task file (e.g. <export>/<task>/test.jsonl)")
    s.add_argument("--db", help="study_search: the warehouse whose search index runs the queries")
    s.add_argument("--index", help="study_search: the search index folder (instead of --db)")
    s.add_argument("--rows", help="also write the per-sample score rows to this JSONL file")
    s.set_defaults(func=cmd_score)
