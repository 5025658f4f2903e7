"""Model shapes, synthetic inputs, FLOPs arithmetic and plain PyTorch loops for ``bench_train.py``.

Shapes (random init, no hub): ``qwen3-8b`` has Qwen3-8B's published dimensions, ``qwen2.5-0.5b``
Qwen2.5-0.5B's, ``tiny`` the smoke model's :class:`TinyShape` (a CPU runs it in seconds).

FLOPs (model FLOPs, the MFU convention): per token of a sequence of length T, with N the parameters
that take part in matmuls (all parameters less the input embedding table; a tied table counts once,
as the LM head), L layers and attention width d = heads x head_dim,

    forward           2 N + 2 L d T        (QK^T and AV: 4 T d per layer, halved for causality)
    forward+backward  6 N + 6 L d T        (backward = 2 x forward)

Gradient-checkpointing recompute (one more forward) is not counted: MFU counts the model's FLOPs,
not the hardware's. With LoRA the frozen weights get no weight gradient, so the hardware does about
4 N_frozen + 6 N_lora + 6 L d T per token; that figure is reported as "HFU (4N)" next to the 6 N MFU.

Also here: the plain PyTorch loops the Trainer paths are compared with, the step-timing trainer
callback, and the chart.
"""
from __future__ import annotations

import os
import time
from contextlib import nullcontext

SHAPES = {
    "qwen3-8b": dict(arch="qwen3", vocab_size=151_936, hidden_size=4096, intermediate_size=12_288,
                     num_hidden_layers=36, num_attention_heads=32, num_key_value_heads=8, head_dim=128,
                     max_position_embeddings=40_960, rope_theta=1e6, tie_word_embeddings=False),
    "qwen2.5-0.5b": dict(arch="qwen2", vocab_size=151_936, hidden_size=896, intermediate_size=4864,
                         num_hidden_layers=24, num_attention_heads=14, num_key_value_heads=2,
                         max_position_embeddings=32_768, rope_theta=1e6, tie_word_embeddings=True),
}
# dense bf16 peak TFLOP/s by device name (first match wins; the more specific names first)
PEAK_TFLOPS = (("H100 PCIe", 756.0), ("H100 NVL", 835.0), ("H100", 989.0), ("H200", 989.0), ("H800", 989.0),
               ("GH200", 989.0), ("A100", 312.0), ("L40S", 362.0), ("A10G", 70.0))


def shape_spec(name: str) -> dict:
    if name == "tiny":
        from dataclasses import asdict

        from trialpanorama_dagster.models.tiny import TinyShape
        spec = {k: v for k, v in asdict(TinyShape()).items() if k != "seed"}
        return dict(arch="qwen2", rope_theta=1e6, tie_word_embeddings=True, **spec)
    return dict(SHAPES[name])


def model_config(name: str, eos_id: int | None = None, pad_id: int | None = None):
    from transformers import Qwen2Config, Qwen3Config

    spec = shape_spec(name)
    arch, theta = spec.pop("arch"), spec.pop("rope_theta")
    cls = Qwen3Config if arch == "qwen3" else Qwen2Config
    return cls(**spec, rope_parameters={"rope_type": "default", "rope_theta": theta}, rms_norm_eps=1e-6,
               eos_token_id=eos_id, pad_token_id=pad_id, bos_token_id=None, attn_implementation="sdpa")


def build_model(config, dtype, device: str, zero3: bool = False):
    """Random weights made on ``device`` in ``dtype`` (under ZeRO-3, transformers partitions them
    as they are made, so no device context then)."""
    import torch
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    with nullcontext() if zero3 else torch.device(device):
        model = AutoModelForCausalLM.from_config(config, dtype=dtype, attn_implementation="sdpa")
    model.generation_config.eos_token_id = config.eos_token_id
    model.generation_config.pad_token_id = config.pad_token_id
    return model


def count_params(config) -> dict:
    """Total, matmul (N) and largest-layer parameter counts, from a weightless (meta) copy."""
    import torch
    from transformers import AutoModelForCausalLM

    with torch.device("meta"):
        m = AutoModelForCausalLM.from_config(config)
    total = sum(p.numel() for p in m.parameters())            # a tied table is one parameter
    emb = m.get_input_embeddings().weight.numel()
    dense = total if config.tie_word_embeddings else total - emb
    largest = max(sum(p.numel() for p in mod.parameters(recurse=False)) for mod in m.modules())
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    return {"total": total, "dense": dense, "largest_layer": largest, "layers": config.num_hidden_layers,
            "attn_width": config.num_attention_heads * head_dim}


def flops_per_token(p: dict, seq_len: float, passes: int = 3, frozen: int = 0) -> float:
    """``passes`` 3: forward+backward, 1: forward. ``frozen`` of the N matmul parameters get no
    weight gradient (counted 4 instead of 6 FLOPs each: the hardware figure for LoRA)."""
    attention = 2 * passes * p["layers"] * p["attn_width"] * seq_len
    return 2 * passes * p["dense"] + attention - (2 * frozen if passes == 3 else 0)


def peak_tflops(device_name: str) -> float | None:
    return next((v for key, v in PEAK_TFLOPS if key in device_name), None)


def device_info() -> tuple[str, str]:
    import torch

    if torch.cuda.is_available():
        return "cuda", torch.cuda.get_device_name(0)
    return "cpu", f"CPU ({os.cpu_count()} cores, {torch.get_num_threads()} threads)"


def sync() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


def peak_memory_gib() -> tuple[float, str]:
    import resource

    import torch
    if torch.cuda.is_available():
        return torch.cuda.max_memory_allocated() / 2**30, "GPU"
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, "host RSS"


def host_memory_gib() -> float:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30


# -- inputs ------------------------------------------------------------------------------------
PROMPT_TEXT = ("A randomised, double-blind, placebo-controlled phase 3 trial of drug {i} versus placebo in adults "
               "with moderate to severe condition {j}. Primary endpoint: change from baseline in score at week "
               "{k}; two-sided alpha 0.05, power 90 %, expected dropout 15 %. Arms: drug {i} 10 mg daily; placebo.")


def tokenizer_for(vocab_size: int):
    """The smoke tokenizer trained on the GRPO prompt text, extended with filler tokens so that its
    ids cover the model's whole vocabulary (a random model samples any id)."""
    from trialpanorama_dagster.models.tiny import train_tokenizer
    from trialpanorama_dagster.training.data import SAMPLE_SIZE_PROMPT, SEARCH_PROMPT

    texts = [SAMPLE_SIZE_PROMPT, SEARCH_PROMPT] + [PROMPT_TEXT.format(i=i, j=i % 7, k=4 * i) for i in range(64)]
    tok = train_tokenizer(texts, min(vocab_size, 2048))
    if len(tok) < vocab_size:
        tok.add_tokens([f"<|fill_{i}|>" for i in range(vocab_size - len(tok))])
    return tok


def sft_dataset(rows: int, seq_len: int, vocab_size: int, seed: int = 0):
    """Fixed-length synthetic sequences of random token ids (already 'packed': no padding)."""
    import torch
    from datasets import Dataset

    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, vocab_size, (rows, seq_len), generator=g)
    return Dataset.from_dict({"input_ids": ids.tolist()})


def grpo_dataset(rows: int):
    """Sample-size GRPO rows built by the project's ``grpo_row`` (prompt, target, sample_id)."""
    from datasets import Dataset

    from trialpanorama_dagster.training.data import grpo_row

    recs = [{"id": f"bench-{i}", "question": PROMPT_TEXT.format(i=i, j=i % 7, k=4 + i % 48), "answer": 200 + i}
            for i in range(rows)]
    return Dataset.from_list([grpo_row("sample_size_estimation", r) for r in recs])


# -- plain PyTorch loops (no Trainer) ----------------------------------------------------------
def _autocast(device: str):
    import torch
    return torch.autocast(device, dtype=torch.bfloat16) if device == "cuda" else nullcontext()


def end_step(model, opt, params) -> None:
    """The end of an optimiser step: clip and apply the gradients (when there is an optimiser), drop
    them, and wait for the device so the step's time is complete."""
    import torch

    if opt is not None:
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
    model.zero_grad(set_to_none=True)
    sync()


def plain_sft(model, batches, accum: int, warmup: int, steps: int, optimizer: bool, device: str) -> list[float]:
    """Seconds of each timed optimiser step: ``accum`` micro-batches of forward+backward, then
    clip+AdamW (``optimizer``) or just dropping the gradients."""
    import torch

    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-5, fused=device == "cuda") if optimizer else None
    model.train()
    times = []
    for step in range(warmup + steps):
        sync()
        t0 = time.perf_counter()
        for a in range(accum):
            ids = batches[(step * accum + a) % len(batches)].to(device)
            with _autocast(device):
                loss = model(input_ids=ids, labels=ids).loss / accum
            loss.backward()
        end_step(model, opt, params)
        if step >= warmup:
            times.append(time.perf_counter() - t0)
    del opt
    return times


def plain_grpo(model, tok, prompts, reward, gens: int, max_new: int, temperature: float, top_p: float,
               warmup: int, steps: int, device: str) -> tuple[list[float], list[int], list[int]]:
    """A bare GRPO step: sample ``gens`` completions per prompt with ``generate``, score them with the
    project's reward, group-normalise, then a policy-gradient forward+backward per prompt group and
    one AdamW step. Returns step seconds, completion tokens and all tokens per timed step."""
    import torch

    tok.padding_side = "left"
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-6, fused=device == "cuda")
    times, completion_tokens, all_tokens = [], [], []
    for step in range(warmup + steps):
        sync()
        t0 = time.perf_counter()
        group = prompts[step % len(prompts)]
        texts = [tok.apply_chat_template(r["prompt"], tokenize=False, add_generation_prompt=True) for r in group]
        enc = tok([t for t in texts for _ in range(gens)], return_tensors="pt", padding=True).to(device)
        model.eval()
        with torch.no_grad(), _autocast(device):
            out = model.generate(**enc, do_sample=True, temperature=temperature, top_p=top_p,
                                 max_new_tokens=max_new, use_cache=True)
        model.train()
        plen = enc["input_ids"].shape[1]
        completion = out[:, plen:]
        cmask = (completion != tok.pad_token_id).float()
        decoded = tok.batch_decode(completion, skip_special_tokens=True)
        targets = [r["target"] for r in group for _ in range(gens)]
        r = torch.tensor(reward([r["prompt"] for r in group for _ in range(gens)], decoded, target=targets),
                         device=device).view(-1, gens)
        adv = ((r - r.mean(1, keepdim=True)) / (r.std(1, keepdim=True) + 1e-4)).view(-1)
        attn = torch.cat([enc["attention_mask"], cmask.long()], 1)
        n_tok = cmask.sum()
        for g in range(len(group)):
            sl = slice(g * gens, (g + 1) * gens)
            with _autocast(device):
                logits = model(input_ids=out[sl], attention_mask=attn[sl]).logits[:, plen - 1:-1]
            logp = torch.log_softmax(logits.float(), -1).gather(-1, completion[sl, :, None]).squeeze(-1)
            loss = -(adv[sl, None] * logp * cmask[sl]).sum() / n_tok
            loss.backward()
        end_step(model, opt, params)
        if step >= warmup:
            times.append(time.perf_counter() - t0)
            completion_tokens.append(int(n_tok.item()))
            all_tokens.append(int(attn.sum().item()))
    del opt
    return times, completion_tokens, all_tokens


# -- trainer plumbing ------------------------------------------------------------
def make_timer():
    from transformers import TrainerCallback

    class StepTimer(TrainerCallback):
        """Wall time at the end of each optimiser step (after a device sync), and the logs."""
        def __init__(self):
            self.ends, self.logs = [], {}

        def on_train_begin(self, args, state, control, **kw):
            sync()
            self.start = time.perf_counter()

        def on_step_end(self, args, state, control, **kw):
            sync()
            self.ends.append(time.perf_counter())

        def on_log(self, args, state, control, logs=None, **kw):
            self.logs.setdefault(state.global_step, {}).update(logs or {})

        def step_times(self) -> list[float]:
            marks = [self.start] + self.ends
            return [b - a for a, b in zip(marks, marks[1:])]
    return StepTimer()


def sft_flops(p: dict, n_lora: int, seq: int, tokens: int) -> tuple[float, float | None]:
    """(model FLOPs per step: 6N convention, hardware FLOPs per step with frozen weights: 4N)."""
    q = dict(p, dense=p["dense"] + n_lora)
    model = flops_per_token(q, seq) * tokens
    return model, (flops_per_token(q, seq, frozen=p["dense"]) * tokens if n_lora else None)


def trainable(model) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def fresh(device: str) -> None:
    import gc

    import torch
    gc.collect()
    if device == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def no_saving(trainer_args):
    """No checkpoint at the end of the timed steps (an 8B ZeRO-3 one holds ~100 GB of optimiser state)."""
    from transformers.trainer_utils import SaveStrategy
    trainer_args.save_strategy = SaveStrategy.NO
    return trainer_args


def single_process_env() -> None:
    """torch.distributed settings for a one-process DeepSpeed / colocated-vLLM run."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    for k, v in dict(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK="0", LOCAL_RANK="0",
                     WORLD_SIZE="1").items():
        os.environ.setdefault(k, v)
