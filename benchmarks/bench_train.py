"""Training throughput and model FLOPs utilisation (MFU) of the project's SFT and GRPO paths.

    HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_train.py \\
        --shape tiny --mode all --steps 2 --warmup 1 --seq-len 128                  # CPU smoke, < 1 min
    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/bench_train.py --mode all          # one H100

Models are random-init (no hub) at ``--shape`` for SFT (``qwen3-8b``: Qwen3-8B's dimensions, bf16,
made directly on the GPU) and ``--grpo-shape`` for GRPO (``qwen2.5-0.5b``); ``tiny`` is the smoke
model's shape. SFT inputs are fixed-length synthetic sequences of ``--seq-len`` random token ids
(no padding, so every token is trained; reproducible), a pre-tokenised dataset. The tokenizer is the
smoke tokenizer trained on the GRPO prompt text, extended with filler tokens to the model's vocab.

What runs: the trainers are driven as the project's ``sft.build`` / ``grpo.build`` drive them, with
the run config loaded from the shipped ``sft_stage1`` / ``grpo_sample_size`` YAML plus overrides
(batch, accumulation, steps, LoRA, DeepSpeed JSON), ``SFTConfig``/``GRPOConfig`` from the project's
``common_args`` / ``grpo_args``, LoRA from ``lora_config`` (r 16, alpha 32, all seven linear
projections), the sample-size reward from ``reward_function``; only data and model loading are
replaced (synthetic rows, random weights). Gradient checkpointing is on (the configs' default).

Modes, each in a fresh subprocess (``--mode all`` = all four, or a comma list):
  baseline                plain PyTorch loops on the same models and batches, no Trainer:
                          plain-lora (fwd+bwd+AdamW on the adapters), plain-full (fwd+bwd of every
                          weight, no optimiser: an 8B AdamW state does not fit one GPU) and
                          plain-grpo (generate, reward, one policy-gradient fwd+bwd, AdamW)
  sft-lora                SFTTrainer, LoRA on a bf16 base                     (ratio to plain-lora)
  sft-full-zero3-offload  SFTTrainer, full fine-tuning, DeepSpeed ZeRO-3 with parameters and
                          optimiser in CPU memory (accelerate/ds_zero3_offload.json), one process;
                          checked first against DeepSpeed's host-memory estimate (``--force-zero3``
                          tries anyway); an OOM or a killed process is reported as "did not fit"
                                                                              (ratio to plain-full)
  grpo-step               GRPOTrainer, sample-size reward, transformers generation (vLLM with
                          ``--use-vllm`` when importable)                     (ratio to plain-grpo)

Timing: ``--warmup`` optimiser steps, then ``--steps`` timed ones, with ``cuda.synchronize`` at each
step end. SFT tokens/s = batch x accumulation x seq-len per step / step time; GRPO tokens/s =
completion tokens per step / step time. MFU = model FLOPs/s / ``--peak-tflops`` (auto by device
name: H100 SXM 989, H100 PCIe 756, H200 989; none on a CPU), model FLOPs per token as documented
in ``train_shapes.py``: SFT 6N + 6·L·d·T; GRPO 2N + 2·L·d·T (generation, prompt and completion
tokens) plus 6N + 6·L·d·T (training); no recompute counted. Goal: >= 40 % MFU for the 8B SFT.
Figures: ``benchmarks/out/bench_train.json`` and ``.png``; each mode's log ``bench_train_<mode>.log``.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import train_report  # noqa: E402
import train_shapes as ts  # noqa: E402

OUT = HERE / "out"
MODES = ("baseline", "sft-lora", "sft-full-zero3-offload", "grpo-step")
DS_OFFLOAD = HERE.parent / "trialpanorama_dagster" / "training" / "accelerate" / "ds_zero3_offload.json"


def run_config(args, kind: str, mode: str, extra: list[str]):
    from trialpanorama_dagster.training.config import load_config

    cuda = ts.device_info()[0] == "cuda"
    sets = [f"output_root={OUT / 'train_runs'}", f"train.output_dir={OUT / 'train_runs' / mode}",
            f"train.max_steps={args.warmup + args.steps}", "train.logging_steps=1", "train.save_steps=1000000000",
            "train.eval_steps=null", "train.resume_from_checkpoint=null", "train.save_final=false",
            f"model.dtype={'bfloat16' if cuda else 'float32'}", *extra]
    return load_config("sft_stage1" if kind == "sft" else "grpo_sample_size", sets, kind=kind)


def row(mode, label, shape, status="ok", **kw) -> dict:
    device, name = ts.device_info()
    return {"mode": mode, "label": label, "shape": shape, "device": name, "status": status, **kw}


def measured(r: dict, times: list[float], tokens: list[int], flops_per_step: float, peak: float | None,
             hw_flops_per_step: float | None = None) -> dict:
    mem, kind = ts.peak_memory_gib()
    secs = sum(times)
    r.update(step_s=secs / len(times), tokens_per_s=sum(tokens) / secs, peak_mem_gib=round(mem, 2), mem_kind=kind,
             tflops=flops_per_step * len(times) / secs / 1e12, steps_timed=len(times),
             host_peak_rss_gib=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2))
    r["mfu"] = r["tflops"] / peak if peak else None
    if hw_flops_per_step is not None and peak:
        r["hfu"] = hw_flops_per_step * len(times) / secs / 1e12 / peak
    return r


# -- the modes (run inside the child process) --------------------------------------------------
def run_baseline(args, peak) -> list[dict]:
    import torch
    from peft import get_peft_model

    from trialpanorama_dagster.training.sft import lora_config, model_dtype

    device = ts.device_info()[0]
    B, A, L = args.batch, args.accum, args.seq_len
    tok = ts.tokenizer_for(ts.shape_spec(args.shape)["vocab_size"])
    config = ts.model_config(args.shape, tok.eos_token_id, tok.pad_token_id)
    p = ts.count_params(config)
    batches = [torch.tensor(ts.sft_dataset(B, L, config.vocab_size, seed=i)["input_ids"]) for i in range(4)]
    cfg = run_config(args, "sft", "baseline", ["lora.enabled=true"])
    model = get_peft_model(ts.build_model(config, model_dtype(cfg), device), lora_config(cfg))
    model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    model.config.use_cache = False
    rows, common = [], dict(params=p["total"], seq_len=L, batch=B, accum=A)
    ts.fresh(device)
    n_lora = ts.trainable(model)
    times = ts.plain_sft(model, batches, A, args.warmup, args.steps, True, device)
    flops, hw = ts.sft_flops(p, n_lora, L, B * A * L)
    rows.append(measured(row("baseline", "plain-lora", args.shape, trainable=n_lora, **common), times,
                         [B * A * L] * len(times), flops, peak, hw))
    model = model.unload()
    model.requires_grad_(True)
    ts.fresh(device)
    times = ts.plain_sft(model, batches, A, args.warmup, args.steps, False, device)
    rows.append(measured(row("baseline", "plain-full", args.shape, trainable=ts.trainable(model),
                             note="fwd+bwd only, no optimiser", **common), times, [B * A * L] * len(times),
                         ts.sft_flops(p, 0, L, B * A * L)[0], peak))
    del model
    ts.fresh(device)
    rows.append(run_grpo(args, peak, plain=True))
    return rows


def run_sft(args, mode: str, peak) -> list[dict]:
    import torch
    from trl import SFTConfig, SFTTrainer

    from trialpanorama_dagster.training.sft import common_args, lora_config, model_dtype

    device = ts.device_info()[0]
    lora, B, A, L = mode == "sft-lora", args.batch, args.accum, args.seq_len
    tok = ts.tokenizer_for(ts.shape_spec(args.shape)["vocab_size"])
    config = ts.model_config(args.shape, tok.eos_token_id, tok.pad_token_id)
    p = ts.count_params(config)
    base = row(mode, mode, args.shape, params=p["total"], seq_len=L, batch=B, accum=A)
    if not lora:
        if device != "cuda":
            return [dict(base, status="skipped: needs CUDA (DeepSpeed ZeRO-3 offload)")]
        from deepspeed.runtime.zero.stage3 import estimate_zero3_model_states_mem_needs
        need = estimate_zero3_model_states_mem_needs(p["total"], p["largest_layer"])[0] / 2**30
        base["host_mem_needed_gib"], base["host_mem_gib"] = round(need, 1), round(ts.host_memory_gib(), 1)
        if need > ts.host_memory_gib() and not args.force_zero3:
            return [dict(base, status=f"did not fit: DeepSpeed estimates {need:.0f} GiB of host memory for ZeRO-3 "
                                      f"offload (18 B/param x 1.5), this machine has {ts.host_memory_gib():.0f} GiB")]
        ts.single_process_env()
    cfg = run_config(args, "sft", mode, [
        f"train.per_device_train_batch_size={B}", f"train.gradient_accumulation_steps={A}",
        f"lora.enabled={str(lora).lower()}", f"sft.max_length={L}", "sft.packing=false",
        "sft.assistant_only_loss=false"] + ([] if lora else [f"train.deepspeed={DS_OFFLOAD}"]))
    sft_args = ts.no_saving(SFTConfig(**common_args(cfg, cfg.output_dir(), False), max_length=L, packing=False,
                                   assistant_only_loss=False, disable_tqdm=True))
    model = ts.build_model(config, model_dtype(cfg), device, zero3=not lora)   # after the args, as sft.build
    timer = ts.make_timer()
    trainer = SFTTrainer(model=model, args=sft_args, processing_class=tok, peft_config=lora_config(cfg),
                         train_dataset=ts.sft_dataset(B * A * (args.warmup + args.steps), L, config.vocab_size),
                         callbacks=[timer])
    n_lora = ts.trainable(trainer.model) if lora else 0
    ts.fresh(device)
    try:
        trainer.train()
    except torch.OutOfMemoryError as exc:
        return [dict(base, status=f"did not fit: {str(exc).splitlines()[0][:160]}")]
    times = timer.step_times()[args.warmup:]
    base.update(trainable=n_lora or p["total"])
    flops, hw = ts.sft_flops(p, n_lora, L, B * A * L)
    return [measured(base, times, [B * A * L] * len(times), flops, peak, hw)]


def run_grpo(args, peak, plain: bool = False) -> dict:
    from trialpanorama_dagster.training.grpo import grpo_args, reward_function
    from trialpanorama_dagster.training.sft import model_dtype

    device = ts.device_info()[0]
    G, C, P = args.num_generations, args.max_completion_length, args.grpo_prompts
    vllm = args.use_vllm and device == "cuda" and importlib.util.find_spec("vllm") is not None
    if vllm:                      # colocated vLLM runs under torch.distributed, here with one rank
        ts.single_process_env()
    cfg = run_config(args, "grpo", "grpo-step", [
        f"train.per_device_train_batch_size={G}", f"train.gradient_accumulation_steps={P}",
        f"grpo.num_generations={G}", f"grpo.max_completion_length={C}", f"grpo.use_vllm={str(vllm).lower()}"])
    tok = ts.tokenizer_for(ts.shape_spec(args.grpo_shape)["vocab_size"])
    config = ts.model_config(args.grpo_shape, tok.eos_token_id, tok.pad_token_id)
    p = ts.count_params(config)
    rows = ts.grpo_dataset(P * (args.warmup + args.steps))
    r = row("baseline" if plain else "grpo-step", "plain-grpo" if plain else "grpo-step", args.grpo_shape,
            params=p["total"], batch=G, accum=P, max_completion_length=C, generation="vllm" if vllm else "transformers")
    if plain:
        model = ts.build_model(config, model_dtype(cfg), device)
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        groups = [[rows[i * P + j] for j in range(P)] for i in range(args.warmup + args.steps)]
        times, comp, total = ts.plain_grpo(model, tok, groups, reward_function(cfg), G, C, cfg.grpo.temperature,
                                           cfg.grpo.top_p, args.warmup, args.steps, device)
    else:
        from trl import GRPOTrainer
        gargs = ts.no_saving(grpo_args(cfg, cfg.output_dir(), False))
        gargs.disable_tqdm = True
        model = ts.build_model(config, model_dtype(cfg), device)
        if vllm:                  # vLLM loads weights from a folder: save the random model once
            folder = OUT / "models" / f"bench_train-{args.grpo_shape}"
            model.save_pretrained(folder)
            tok.save_pretrained(folder)
            from transformers import AutoModelForCausalLM
            model = AutoModelForCausalLM.from_pretrained(folder, dtype=model_dtype(cfg))
        timer = ts.make_timer()
        trainer = GRPOTrainer(model=model, reward_funcs=[reward_function(cfg)], args=gargs, train_dataset=rows,
                              processing_class=tok, callbacks=[timer])
        ts.fresh(device)
        trainer.train()
        steps = range(args.warmup + 1, args.warmup + args.steps + 1)
        times = timer.step_times()[args.warmup:]
        comp = [round(timer.logs.get(s, {}).get("completions/mean_length", 0) * G * P) for s in steps]
        seen = [timer.logs.get(s, {}).get("num_tokens", 0) for s in range(args.warmup, args.warmup + args.steps + 1)]
        total = [b - a for a, b in zip(seen, seen[1:])]
    T = sum(total) / len(total) / (G * P)                      # mean prompt+completion length
    fpt = ts.flops_per_token(p, T, passes=1) + ts.flops_per_token(p, T, passes=3)
    r.update(seq_len=round(T), completion_tokens_per_step=sum(comp) / len(comp), trainable=ts.trainable(model))
    del model
    return measured(r, times, comp, fpt * sum(total) / len(total), peak)


def child(args) -> list[dict]:
    device, name = ts.device_info()
    peak = args.peak_tflops if args.peak_tflops else (ts.peak_tflops(name) if device == "cuda" else None)
    import torch
    try:
        if args.mode == "baseline":
            rows = run_baseline(args, peak)
        elif args.mode == "grpo-step":
            rows = [run_grpo(args, peak)]
        else:
            rows = run_sft(args, args.mode, peak)
    except torch.OutOfMemoryError as exc:
        rows = [row(args.mode, args.mode, args.shape, status=f"did not fit: {str(exc).splitlines()[0][:160]}")]
    for r in rows:
        r["peak_tflops"] = peak
    return rows


# -- the parent: one subprocess per mode, the table, the chart -----------------------------------
def run_child(mode: str, argv: list[str], shape: str) -> list[dict]:
    OUT.mkdir(parents=True, exist_ok=True)
    out, log = OUT / f"bench_train_{mode}.json.part", OUT / f"bench_train_{mode}.log"
    out.unlink(missing_ok=True)
    started = time.perf_counter()
    with open(log, "w") as f:
        rc = subprocess.call([sys.executable, str(Path(__file__).resolve()), *argv, "--mode", mode,
                              "--child-out", str(out)], stdout=f, stderr=subprocess.STDOUT)
    print(f"  {mode:<24} exit {rc:>4}  {time.perf_counter() - started:6.1f} s  log {log.relative_to(HERE.parent)}",
          flush=True)
    if out.exists():
        rows = json.loads(out.read_text())
        out.unlink()
        return rows
    tail = " | ".join(log.read_text(errors="replace").strip().splitlines()[-3:])[-300:]
    status = ("did not fit: killed by the OS (out of host memory?)" if rc in (-9, 137)
              else f"failed (exit {rc}): {tail}")
    return [row(mode, mode, shape, status=status)]


def strip_mode(argv: list[str]) -> list[str]:
    return [a for a, prev in zip(argv, [""] + argv[:-1]) if "--mode" not in (a, prev) and not a.startswith("--mode=")]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--shape", choices=["tiny", *ts.SHAPES], default="qwen3-8b", help="SFT model shape")
    p.add_argument("--grpo-shape", choices=["tiny", *ts.SHAPES], help="default: qwen2.5-0.5b (tiny with --shape tiny)")
    p.add_argument("--mode", default="all", help=f"all, or a comma list of {', '.join(MODES)}")
    p.add_argument("--seq-len", type=int, default=4096)
    p.add_argument("--batch", type=int, help="per-device batch (default: sft_stage1's, 2)")
    p.add_argument("--accum", type=int, help="gradient accumulation (default: sft_stage1's, 2)")
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--num-generations", type=int, default=8)
    p.add_argument("--max-completion-length", type=int, default=256)
    p.add_argument("--grpo-prompts", type=int, default=2, help="prompts per GRPO step (= gradient accumulation)")
    p.add_argument("--peak-tflops", type=float, help="device peak dense bf16 TFLOP/s (default: by device name)")
    p.add_argument("--force-zero3", action="store_true", help="try ZeRO-3 offload even if it should not fit")
    p.add_argument("--use-vllm", action="store_true", help="GRPO generation with vLLM when importable")
    p.add_argument("--out", type=Path, default=OUT / "bench_train.png")
    p.add_argument("--child-out", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.grpo_shape = args.grpo_shape or ("tiny" if args.shape == "tiny" else "qwen2.5-0.5b")
    if args.batch is None or args.accum is None:
        from trialpanorama_dagster.training.config import load_config
        t = load_config("sft_stage1", kind="sft").train
        args.batch = args.batch or t.per_device_train_batch_size
        args.accum = args.accum or t.gradient_accumulation_steps
    if args.child_out:
        import datasets
        import transformers
        transformers.logging.set_verbosity_error()
        datasets.disable_progress_bars()
        args.child_out.write_text(json.dumps(child(args), indent=2, default=str))
        return 0
    modes = list(MODES) if args.mode == "all" else [m.strip() for m in args.mode.split(",")]
    if unknown := [m for m in modes if m not in MODES]:
        p.error(f"unknown mode(s) {', '.join(unknown)}; modes: all, {', '.join(MODES)}")
    device, name = ts.device_info()
    print(f"bench_train on {name}: SFT {args.shape}, GRPO {args.grpo_shape}, seq {args.seq_len}, "
          f"batch {args.batch} x accum {args.accum}, warmup {args.warmup}, steps {args.steps}", flush=True)
    rows = [r for m in modes
            for r in run_child(m, strip_mode(argv), args.grpo_shape if m == "grpo-step" else args.shape)]
    train_report.report(rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    train_report.plot(rows, f"bench_train on {name}: SFT {args.shape} seq {args.seq_len}, GRPO {args.grpo_shape}",
                      args.out)
    args.out.with_suffix(".json").write_text(json.dumps(
        {"device": name, "args": {k: str(v) for k, v in vars(args).items()}, "rows": rows}, indent=2, default=str))
    print(f"\nchart: {args.out}\nfigures: {args.out.with_suffix('.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
