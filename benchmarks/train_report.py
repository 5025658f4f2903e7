"""The training benchmark's output: the table with ratios and the MFU goal verdict, and the chart."""
from __future__ import annotations

COMPARE = {"sft-lora": "plain-lora", "sft-full-zero3-offload": "plain-full", "grpo-step": "plain-grpo"}
GOAL_MFU = 0.40


def fmt(v, spec: str, suffix: str = "", none: str = "-") -> str:
    return none if v is None else format(v, spec) + suffix


def report(rows: list[dict]) -> None:
    base = {r["label"]: r for r in rows if r.get("tokens_per_s")}
    for r in rows:
        b = base.get(COMPARE.get(r["label"], ""))
        r["ratio"] = r["tokens_per_s"] / b["tokens_per_s"] if b and r.get("tokens_per_s") else None
        r["ratio_to"] = b["label"] if b else None
    print(f"\n{'mode':<24}{'shape':<14}{'params':>8}{'seq':>6}{'batch':>7}{'tokens/s':>11}{'step s':>9}"
          f"{'MFU':>7}{'HFU(4N)':>8}{'peak mem':>15}{'ratio':>8}")
    for r in rows:
        if r["status"] != "ok":
            print(f"{r['label']:<24}{r['shape']:<14}  {r['status']}")
            continue
        mem = f"{r['peak_mem_gib']:.1f} GiB {'GPU' if r['mem_kind'] == 'GPU' else 'RSS'}"
        n = r["params"]
        params = f"{n / 1e9:.2f}B" if n >= 1e9 else f"{n / 1e6:.1f}M"
        print(f"{r['label']:<24}{r['shape']:<14}{params:>8}{r['seq_len']:>6}"
              f"{str(r['batch']) + 'x' + str(r['accum']):>7}{r['tokens_per_s']:>11,.0f}{r['step_s']:>9.3f}"
              f"{fmt(r['mfu'] and 100 * r['mfu'], '.1f', '%'):>7}{fmt(r.get('hfu') and 100 * r['hfu'], '.1f', '%'):>8}"
              f"{mem:>15}{fmt(r['ratio'], '.2f'):>7}{'x' if r['ratio'] else ' '}")
    print("tokens/s: SFT trained tokens; GRPO completion tokens. MFU: 6N + 6·L·d·T model FLOPs per trained "
          "token (GRPO adds 2N + 2·L·d·T per generated-pass token), no recompute; HFU(4N): LoRA frozen weights "
          "without weight gradients. ratio: tokens/s over the plain loop of the same model and batch.")
    eight = [r for r in rows if r["mode"].startswith("sft") and r["shape"] == "qwen3-8b"]
    if not eight or all(r.get("mfu") is None for r in eight):
        print(f"goal >= {GOAL_MFU:.0%} MFU for 8B SFT: not measured in this run (needs --shape qwen3-8b on a GPU "
              "whose peak is known, or --peak-tflops)")
    for r in eight:
        verdict = r["status"] if r.get("mfu") is None else ("met" if r["mfu"] >= GOAL_MFU else "NOT met")
        print(f"goal >= {GOAL_MFU:.0%} MFU for 8B SFT, {r['label']}: "
              f"{fmt(r.get('mfu') and 100 * r['mfu'], '.1f', '%', 'n/a')} -> {verdict}")


def plot(rows: list[dict], title: str, out, goal: float = GOAL_MFU) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = [r for r in rows if r["status"] == "ok"]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4))
    labels = [r["label"] for r in ok]
    colors = ["#9e9e9e" if r["mode"] == "baseline" else "#1f77b4" for r in ok]
    bars = a1.bar(labels, [r["tokens_per_s"] for r in ok], color=colors)
    for bar, r in zip(bars, ok):
        a1.annotate(f"{r['tokens_per_s']:,.0f}" + (f"\n{r['ratio']:.2f}x" if r.get("ratio") else ""),
                    (bar.get_x() + bar.get_width() / 2, bar.get_height()), ha="center", va="bottom", fontsize=8)
    a1.set_yscale("log")
    a1.set_ylim(top=max([r["tokens_per_s"] for r in ok] + [1]) * 3)
    a1.set_ylabel("tokens / s (SFT trained, GRPO completion)")
    mfu = [100 * (r.get("mfu") or 0) for r in ok]
    a2.bar(labels, mfu, color=colors)
    a2.axhline(100 * goal, color="#d62728", linestyle="--", linewidth=1, label="goal: 40 % (8B SFT)")
    a2.set_ylabel("MFU %  (0: no peak FLOPs known)")
    a2.set_ylim(0, max(mfu + [100 * goal]) * 1.2)
    a2.legend(fontsize=8)
    for ax in (a1, a2):
        ax.tick_params(axis="x", labelrotation=20, labelsize=8)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
