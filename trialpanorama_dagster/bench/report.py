"""The benchmark report: our newest figures per model and task beside the paper's v1 numbers.

``build_report(con, folder)`` writes ``<folder>/report.md`` (one table per task: our models, then
the paper's five models marked "paper v1") and ``<folder>/<task>.png`` (grouped bars of the task's
headline metrics), plus ``overview.png`` (the first headline metric of every task). Our values are
shown on the paper's scale (percent; MAE in participants). A model's row carries the sample count
and the task set's version it ran on: figures on the embedded sample sets are small-n smoke figures,
not comparable with the paper's 1,000-sample test sets, and the report says so.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from ..tasks.base import TASKS
from .paper import HEADLINE, LOWER_IS_BETTER, PAPER_MODELS, PAPER_V1, as_printed
from .run import latest_results


@dataclass
class Report:
    markdown: str
    path: Path
    plots: dict[str, Path] = field(default_factory=dict)
    ours: dict = field(default_factory=dict)         # task -> model -> {metric: value, "n", "set_version"}


def figures_by_task(con: duckdb.DuckDBPyConnection) -> dict:
    """task -> model -> {metric: value, "n", "set_version", "backend"} of each model's newest run."""
    ours: dict = {}
    for model, backend, task, metric, value, n, version, _ in latest_results(con):
        cell = ours.setdefault(task, {}).setdefault(model, {"n": n, "set_version": version, "backend": backend})
        if metric != "n":
            cell[metric] = value
    return ours


def _fmt(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:,.1f}"


def markdown_report(ours: dict) -> str:
    lines = ["# Benchmark report", "",
             "Our newest run of each model per task, beside the paper's v1 results (Tables 2 and 3). Values are "
             "percentages (MAE: participants, lower is better). `n` is the number of test samples we scored; on the "
             "embedded sample sets n is small, so these figures only show the pipeline at work.", ""]
    for task in TASKS:
        metrics = HEADLINE[task]
        lines += [f"## {task}", "", "| model | n | " + " | ".join(metrics) + " |",
                  "|---|---:|" + "---:|" * len(metrics)]
        for model, cell in sorted(ours.get(task, {}).items()):
            vals = [_fmt(as_printed(m, cell.get(m))) for m in metrics]
            lines.append(f"| {model} ({cell['backend']}) | {cell['n']} | " + " | ".join(vals) + " |")
        for model in PAPER_MODELS:
            paper = PAPER_V1[task][model]
            lines.append(f"| {model} (paper v1) | 1000 | " + " | ".join(_fmt(paper.get(m)) for m in metrics) + " |")
        if task not in ours:
            lines.append(f"\n_No run of ours on {task} yet._")
        lines.append("")
    return "\n".join(lines)


def _bars(ax, task: str, ours: dict, metrics: tuple[str, ...]) -> None:
    """Grouped bars: our models first (hatched, "n/a" where a figure is undefined), then the paper's."""
    mine = [(m, {k: as_printed(k, v.get(k)) for k in metrics}) for m, v in sorted(ours.get(task, {}).items())]
    models = mine + [(f"{m} (paper)", PAPER_V1[task][m]) for m in PAPER_MODELS]
    width = 0.8 / max(1, len(metrics))
    for j, metric in enumerate(metrics):
        xs = [i + j * width for i in range(len(models))]
        ys = [vals.get(metric) or 0.0 for _, vals in models]
        label = metric + (" (lower is better)" if metric in LOWER_IS_BETTER else "")
        bars = ax.bar(xs, ys, width, label=label)
        for i, (bar, (_, vals)) in enumerate(zip(bars, models)):
            if i < len(mine):
                bar.set_hatch("//")
                bar.set_edgecolor("black")
                if vals.get(metric) is None:
                    ax.text(bar.get_x() + bar.get_width() / 2, 1, "n/a", ha="center", va="bottom", fontsize=7)
    ax.set_xticks([i + width * (len(metrics) - 1) / 2 for i in range(len(models))])
    ax.set_xticklabels([name for name, _ in models], rotation=30, ha="right", fontsize=8)
    ax.set_title(task)
    ax.legend(fontsize=7)


def plot_task(task: str, ours: dict, path: Path) -> Path:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = HEADLINE[task]
    percent = tuple(m for m in metrics if m not in LOWER_IS_BETTER)
    other = tuple(m for m in metrics if m in LOWER_IS_BETTER)
    fig, axes = plt.subplots(1, 2 if other else 1, figsize=(10 if other else 7, 4), squeeze=False)
    _bars(axes[0][0], task, ours, percent)
    axes[0][0].set_ylabel("%")
    axes[0][0].set_ylim(0, 100)
    if other:
        _bars(axes[0][1], task, ours, other)
        axes[0][1].set_ylabel("participants")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_overview(ours: dict, path: Path) -> Path:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 4, figsize=(16, 7))
    for ax, task in zip(axes.flat, TASKS):
        _bars(ax, task, ours, HEADLINE[task][:1])
        ax.set_ylim(0, 100)
    fig.suptitle("First headline metric per task: ours (newest run) and the paper's v1 models (%)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def build_report(con: duckdb.DuckDBPyConnection, folder: str | Path) -> Report:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    ours = figures_by_task(con)
    text = markdown_report(ours)
    path = folder / "report.md"
    path.write_text(text, encoding="utf-8")
    plots = {task: plot_task(task, ours, folder / f"{task}.png") for task in TASKS}
    plots["overview"] = plot_overview(ours, folder / "overview.png")
    return Report(text, path, plots, ours)
