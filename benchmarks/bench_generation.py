"""Generation throughput of the model backends on a task's test chats.

    .venv/bin/python benchmarks/bench_generation.py --shape tiny                      # CPU, seconds
    .venv/bin/python benchmarks/bench_generation.py --shape qwen2-0.5b --n 256 \\
        --batch-size 64 --max-new-tokens 128 --db warehouse.duckdb                    # a GPU

The model is built locally with random weights (no hub): ``tiny`` is the smoke model's shape,
``qwen2-0.5b`` the layer sizes of Qwen2-0.5B (24 layers, hidden 896, MLP 4864, 14 heads, 2 KV heads)
with the smoke tokenizer trained on task text (so a smaller vocabulary and embedding than Qwen2's).
Chats are the ``--task`` test samples of a warehouse (``--db``), rendered by the task's builder
without the reference answer, repeated to ``--n`` where there are fewer. Without ``--db`` the
embedded warehouse is built once into ``benchmarks/out/bench_generation.duckdb`` with the same
library calls the ``trialpanorama load`` / main-job steps make.

In one run, against a baseline measured in the same run: the transformers backend at batch size 1
(on the first ``--baseline-n`` chats), the transformers backend at ``--batch-size``, and vLLM when
it is importable and a CUDA device is present. Each is warmed up, then timed ``--repeats`` times
(the fastest run counts: the figures of a shared machine are noisy); printed are the
prompts, prompt and generated tokens, seconds, generated tokens/s and the ratio to the baseline's
tokens/s. Figures go to ``--out`` (a PNG bar chart) and the same name with ``.json``.

Run of ``--shape tiny`` (defaults: sample_size_estimation, 32 chats of ~500 prompt tokens, 32 new
tokens, 2 CPUs): transformers bs=1 791 tok/s (8 chats, 0.32 s), bs=16 2,250 tok/s (32 chats,
0.46 s), 2.85x; with other load on the machine the same command gave 65 and 290 tok/s (4.5x). The
random model seldom stops early, so each chat generates about ``--max-new-tokens``.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from trialpanorama_dagster.bench.types import Decoding  # noqa: E402
from trialpanorama_dagster.models.tiny import TinyShape, build_tiny_model, task_texts  # noqa: E402

OUT = HERE / "out"
SHAPES = {
    "tiny": TinyShape(),
    "qwen2-0.5b": TinyShape(vocab_size=32_000, hidden_size=896, intermediate_size=4864, num_hidden_layers=24,
                            num_attention_heads=14, num_key_value_heads=2, max_position_embeddings=32_768),
}


def load_chats(db: Path | None, task: str, n: int) -> tuple[list[list[dict]], list[str], Path]:
    """(``n`` test chats of ``task``, tokenizer texts, the warehouse used)."""
    from trialpanorama_dagster.tasks.registry import build_all, builder
    from trialpanorama_dagster.warehouse.db import connect
    from trialpanorama_dagster.warehouse.embedded import build_embedded_warehouse

    if db is None:
        db = OUT / "bench_generation.duckdb"
        if not db.exists():
            OUT.mkdir(parents=True, exist_ok=True)
            print(f"building the embedded warehouse into {db} ...", flush=True)
            build_embedded_warehouse(db)
    elif not db.exists():
        raise SystemExit(f"no warehouse at {db}")
    con = connect(db)
    try:
        if not con.execute("SELECT count(*) FROM task_samples WHERE task = ?", [task]).fetchone()[0]:
            build_all(con, [task])
        rows = con.execute("SELECT record FROM task_samples WHERE task = ? AND split = 'test' ORDER BY sample_id",
                           [task]).fetchall()
        texts = task_texts(con)
    finally:
        con.close()
    if not rows:
        raise SystemExit(f"no test samples of {task} in {db}")
    chats = [builder(task).messages(json.loads(r))[:-1] for (r,) in rows]
    return [chats[i % len(chats)] for i in range(n)], texts, db


def timed(backend, chats, decoding: Decoding, repeats: int) -> dict:
    """The fastest of ``repeats`` timed runs, after a warm-up."""
    backend.generate(chats[:2], Decoding(max_new_tokens=2))
    best = None
    for _ in range(repeats):
        started = time.perf_counter()
        gens = backend.generate(chats, decoding)
        seconds = time.perf_counter() - started
        best = seconds if best is None else min(best, seconds)
    errors = [g.error for g in gens if g.error]
    if errors:
        raise SystemExit(f"{backend.name}: {len(errors)} generations failed, e.g. {errors[0]}")
    generated = sum(g.completion_tokens or 0 for g in gens)
    return {"prompts": len(gens), "prompt_tokens": sum(g.prompt_tokens or 0 for g in gens),
            "generated_tokens": generated, "seconds": round(best, 4),
            "tokens_per_s": round(generated / best, 2) if best > 0 else 0.0}


def vllm_usable() -> bool:
    if importlib.util.find_spec("vllm") is None:
        return False
    import torch
    return torch.cuda.is_available()


def plot(rows: list[dict], title: str, out: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.8))
    labels = [r["label"] for r in rows]
    values = [r["tokens_per_s"] for r in rows]
    bars = ax.bar(labels, values, color=["#9e9e9e"] + ["#1f77b4"] * (len(rows) - 1))
    for bar, r in zip(bars, rows):
        ax.annotate(f"{r['tokens_per_s']:,.0f} tok/s\n{r['ratio']:.1f}x", (bar.get_x() + bar.get_width() / 2,
                    bar.get_height()), ha="center", va="bottom", fontsize=8)
    ax.set_ylabel("generated tokens / s")
    ax.set_title(title, fontsize=9)
    ax.set_ylim(0, max(values) * 1.25 if values else 1)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--shape", choices=sorted(SHAPES), default="tiny")
    p.add_argument("--db", type=Path, help="warehouse with task sets (default: build the embedded one once)")
    p.add_argument("--task", default="sample_size_estimation")
    p.add_argument("--n", type=int, default=32, help="chats to generate for (default: %(default)s)")
    p.add_argument("--baseline-n", type=int, help="chats for the batch-size-1 baseline (default: min(n, 8))")
    p.add_argument("--max-new-tokens", type=int, default=32)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--max-input-tokens", type=int, default=2048, help="left-truncate prompts to this many tokens")
    p.add_argument("--model-dir", type=Path, help="where the model is built (default: benchmarks/out/models/SHAPE)")
    p.add_argument("--rebuild", action="store_true", help="rebuild the model even if the folder holds one")
    p.add_argument("--repeats", type=int, default=3, help="timed runs per backend; the fastest counts")
    p.add_argument("--no-vllm", action="store_true")
    p.add_argument("--out", type=Path, default=OUT / "bench_generation.png")
    args = p.parse_args(argv)

    from trialpanorama_dagster.bench.backends.transformers_backend import TransformersBackend

    chats, texts, db = load_chats(args.db, args.task, args.n)
    model_dir = args.model_dir or OUT / "models" / args.shape
    if args.rebuild or not (model_dir / "config.json").exists():
        started = time.perf_counter()
        build_tiny_model(model_dir, texts, SHAPES[args.shape])
        print(f"built the {args.shape} model in {time.perf_counter() - started:.1f} s -> {model_dir}")
    decoding = Decoding(temperature=0.0, max_new_tokens=args.max_new_tokens)
    baseline_n = args.baseline_n or min(args.n, 8)
    rows = []
    backend = TransformersBackend(str(model_dir), batch_size=1, max_input_tokens=args.max_input_tokens)
    device = backend.device
    rows.append({"label": "transformers bs=1", **timed(backend, chats[:baseline_n], decoding, args.repeats)})
    backend.batch_size = args.batch_size
    rows.append({"label": f"transformers bs={args.batch_size}", **timed(backend, chats, decoding, args.repeats)})
    backend.close()
    if not args.no_vllm and vllm_usable():
        from trialpanorama_dagster.bench.backends.vllm_backend import VllmBackend
        v = VllmBackend(str(model_dir), max_input_tokens=args.max_input_tokens, gpu_memory_utilization=0.5)
        rows.append({"label": "vllm", **timed(v, chats, decoding, args.repeats)})
        v.close()
    base = rows[0]["tokens_per_s"] or 1.0
    for r in rows:
        r["ratio"] = round(r["tokens_per_s"] / base, 2)

    print(f"\n{args.shape} model on {device}, task {args.task} ({db.name}), max_new_tokens {args.max_new_tokens}")
    print(f"{'backend':<22}{'prompts':>8}{'prompt tok':>12}{'gen tok':>9}{'seconds':>10}{'tok/s':>11}{'ratio':>8}")
    for r in rows:
        print(f"{r['label']:<22}{r['prompts']:>8}{r['prompt_tokens']:>12,}{r['generated_tokens']:>9,}"
              f"{r['seconds']:>10.2f}{r['tokens_per_s']:>11,.1f}{r['ratio']:>7.2f}x")
    title = (f"{args.shape} (random weights) on {device}: {args.task}, {args.n} chats, "
             f"{args.max_new_tokens} new tokens")
    plot(rows, title, args.out)
    args.out.with_suffix(".json").write_text(json.dumps(
        {"shape": args.shape, "device": device, "task": args.task, "max_new_tokens": args.max_new_tokens,
         "batch_size": args.batch_size, "rows": rows}, indent=2))
    print(f"\nchart: {args.out}\nfigures: {args.out.with_suffix('.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
