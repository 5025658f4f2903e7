"""Training curves from ``metrics.jsonl``: loss (train and eval) and, for GRPO, the mean reward."""
from __future__ import annotations

from pathlib import Path

from .callbacks import read_metrics


def _series(records: list[dict], key: str) -> tuple[list[int], list[float]]:
    pts = [(r["step"], r[key]) for r in records if isinstance(r.get(key), (int, float))]
    return [p[0] for p in pts], [p[1] for p in pts]


def plot_curves(output_dir: str | Path, out: str | Path | None = None, title: str | None = None) -> Path | None:
    """Write ``<output_dir>/curves.png`` (or ``out``); None when there is nothing to plot."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    output_dir = Path(output_dir)
    records = read_metrics(output_dir)
    panels = [("loss", ["loss", "eval_loss"]), ("reward", ["reward", "eval_reward"])]
    panels = [(name, [k for k in keys if _series(records, k)[0]]) for name, keys in panels]
    panels = [p for p in panels if p[1]]
    if not panels:
        return None
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 3.6), squeeze=False)
    for ax, (name, keys) in zip(axes[0], panels):
        for key in keys:
            xs, ys = _series(records, key)
            ax.plot(xs, ys, marker="o" if len(xs) < 30 else None, markersize=3, label=key)
        if name == "reward":
            xs, ys = _series(records, "reward_std")
            if xs and len(xs) == len(_series(records, "reward")[0]):
                _, mean = _series(records, "reward")
                ax.fill_between(xs, [m - s for m, s in zip(mean, ys)], [m + s for m, s in zip(mean, ys)], alpha=0.2)
        ax.set_xlabel("step")
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title or output_dir.name)
    fig.tight_layout()
    path = Path(out) if out else output_dir / "curves.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
