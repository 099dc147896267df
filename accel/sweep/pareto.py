"""The Pareto front of a sweep (fewest cycles for the area, or for the energy) and its plots: the
front against the dominated points, and a heat map of one metric over two parameters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def pareto_front(records: list[dict[str, Any]], x: str = "area_mm2", y: str = "cycles") -> list[int]:
    """Indices of the records no other record dominates (another is <= in both x and y and < in one),
    both to be minimised; failed records (an error) are never on the front. Sorted by x."""
    ok = [i for i, r in enumerate(records) if not r.get("error")]
    order = sorted(ok, key=lambda i: (records[i][x], records[i][y]))
    front, best = [], np.inf
    for i in order:
        if records[i][y] < best:
            front.append(i)
            best = records[i][y]
    return front


def plot_pareto(records: list[dict[str, Any]], path: str | Path, xs: tuple[str, ...] = ("area_mm2", "energy_uj"),
                y: str = "cycles", title: str = "") -> None:
    """One panel per x metric: every point faded, the front drawn and labelled by its parameters;
    one colour per model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    models = list(dict.fromkeys(r["model"] for r in records))
    fig, axes = plt.subplots(1, len(xs), figsize=(6.5 * len(xs), 4.8), squeeze=False)
    for ax, x in zip(axes[0], xs, strict=True):
        for k, model in enumerate(models):
            mine = [r for r in records if r["model"] == model and not r.get("error")]
            if not mine:
                continue
            colour = f"C{k}"
            ax.scatter([r[x] for r in mine], [r[y] for r in mine], s=14, color=colour, alpha=0.25, linewidths=0)
            front = [mine[i] for i in pareto_front(mine, x, y)]
            ax.plot([r[x] for r in front], [r[y] for r in front], "-o", color=colour, ms=4, label=f"{model} (front)")
        ax.set_xlabel(x.replace("_", " "))
        ax.set_ylabel(y)
        ax.set_yscale("log")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title or f"Pareto front of {y}: dominated points faded")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def heatmap_table(records: list[dict[str, Any]], metric: str, x: str, y: str) -> tuple[list, list, np.ndarray]:
    """(x values, y values, grid[y, x]) of `metric`, the mean over the points at each (x, y) (NaN
    where no point ran): one model's or several models' records."""
    ok = [r for r in records if not r.get("error")]
    for name in (metric, x, y):
        if ok and name not in ok[0]:
            raise KeyError(f"{name!r} is not a column of the results (columns: {', '.join(ok[0])})")
    xv = sorted({r[x] for r in ok})
    yv = sorted({r[y] for r in ok})
    total = np.zeros((len(yv), len(xv)))
    count = np.zeros_like(total)
    for r in ok:
        total[yv.index(r[y]), xv.index(r[x])] += r[metric]
        count[yv.index(r[y]), xv.index(r[x])] += 1
    with np.errstate(invalid="ignore"):
        return xv, yv, total / count


def plot_heatmap(records: list[dict[str, Any]], metric: str, x: str, y: str, path: str | Path) -> None:
    """A heat map of `metric` over parameters x and y, one panel per model, each cell annotated."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    models = list(dict.fromkeys(r["model"] for r in records))
    fig, axes = plt.subplots(1, len(models), figsize=(5.5 * len(models), 4.5), squeeze=False)
    for ax, model in zip(axes[0], models, strict=True):
        xv, yv, grid = heatmap_table([r for r in records if r["model"] == model], metric, x, y)
        im = ax.imshow(grid, origin="lower", aspect="auto", cmap="viridis")
        ax.set_xticks(range(len(xv)), [str(v) for v in xv], rotation=45)
        ax.set_yticks(range(len(yv)), [str(v) for v in yv])
        for (i, j), v in np.ndenumerate(grid):
            if np.isfinite(v):
                ax.text(j, i, f"{v:.3g}", ha="center", va="center", fontsize=7, color="w")
        ax.set_xlabel(x)
        ax.set_ylabel(y)
        ax.set_title(f"{model}: {metric}")
        fig.colorbar(im, ax=ax)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
