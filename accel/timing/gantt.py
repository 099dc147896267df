"""A timeline as a Gantt chart (matplotlib, drawn off-screen with Agg): what `accel run --plot` saves.

One band per row of accel.timing.tracks (PE, ACT, VEC, DMA and each DMA queue, with an extra band
for a row's overlapping lane), one bar per instruction coloured by its mnemonic, a transfer's
latency lighter than its data phase, the cycles an instruction stood at its queue's head held by
a semaphore hatched (by a resource or the ACT interlock dotted), the critical path outlined in
black (a black strip along the band's top in an aggregated chart), and under the chart the DRAM
bandwidth and the PSUM banks in use. Past LABEL_MAX instructions each pixel column of a band
becomes one stacked bar of what its cycles went to, so 100,000 instructions draw in well under a
second and still show each engine's mix of work, waits and idle time.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from accel.timing import tracks
from accel.timing.timeline import SEMAPHORE, Timeline

WIDTH_PX, DPI = 1600, 100
LABEL_MAX = 60  # write mnemonics inside the bars when the chart has at most this many


def merge(start: np.ndarray, end: np.ndarray, gap: float) -> tuple[np.ndarray, np.ndarray]:
    """Intervals start..end (sorted by start) merged where the next begins less than `gap` after the
    furthest end so far: what a chart `gap` cycles per pixel wide can tell apart."""
    if not start.size:
        return start, end
    reach = np.maximum.accumulate(end)
    first = np.r_[True, start[1:] > reach[:-1] + gap]
    last = np.r_[first[1:], True]
    return start[first], reach[last]


def coverage(start: np.ndarray, end: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Cycles of the disjoint intervals start..end that fall in each bin edges[b]..edges[b+1]."""
    def below(a: np.ndarray) -> np.ndarray:  # sum over intervals of min(edge, a), for every edge
        a = np.sort(a.astype(np.float64))
        j = np.searchsorted(a, edges, side="right")
        return np.r_[0.0, np.cumsum(a)][j] + edges * (a.size - j)

    return np.diff(below(end) - below(start))


def step_mean(t: np.ndarray, v: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """The time-weighted mean in each bin of the step function worth v[k] from t[k] on."""
    area = np.r_[0.0, np.cumsum(v[:-1] * np.diff(t))]  # the integral up to each t[k]
    k = np.maximum(np.searchsorted(t, edges, side="right") - 1, 0)
    at = area[k] + v[k] * (edges - t[k])
    return np.diff(at) / np.diff(edges)


def _segments(tl: Timeline, r: tracks.Row, lane: int, kind: np.ndarray) -> dict[tuple, tuple]:
    """What one band shows, by style: ("run", m) and ("latency", m) intervals of the instructions of
    mnemonic m (a transfer's latency before its data phase), ("semaphore",) and ("resource",) waits."""
    out: dict[tuple, tuple] = {}
    mine = r.index[r.lane == lane]
    for m in sorted(set(kind[mine])):
        idx = mine[kind[mine] == m]
        s, e = tl.start[idx], tl.end[idx]
        if r.queue >= 0:
            d = np.minimum(tl.data_start[idx], e)
            out["latency", m] = (s, d)
            s = d
        out["run", m] = (s, e)
    if lane == 0:
        idx, head, start = tracks.waits(tl, r)
        sem = tl.reason[idx] == SEMAPHORE
        out["semaphore",] = (head[sem], start[sem])
        out["resource",] = (head[~sem], start[~sem])
    return out


def _style(key: tuple, colour: dict) -> dict:
    if key[0] == "semaphore":
        return {"facecolors": "none", "edgecolors": "tab:red", "hatch": "////", "linewidth": 0.5}
    if key[0] == "resource":
        return {"facecolors": "none", "edgecolors": "0.4", "hatch": "....", "linewidth": 0.5}
    return {"facecolors": colour[key[1]], "alpha": 0.35 if key[0] == "latency" else 1.0}


def _draw_exact(ax, y: float, segs: dict, colour: dict) -> None:
    """Every interval as its own bar, white-edged (a chart of few instructions)."""
    for key, (s, e) in segs.items():
        keep = e > s
        if keep.any():
            style = {"edgecolors": "white", "linewidth": 0.6, **_style(key, colour)}
            ax.broken_barh(np.c_[s[keep], e[keep] - s[keep]], (y - 0.4, 0.8), **style)


def _draw_binned(ax, y: float, segs: dict, colour: dict, edges: np.ndarray) -> None:
    """One stacked bar per pixel column: each style's share of the column's cycles, stacked from the
    band's foot in a fixed order (instructions, then waits; the empty rest is idle), boundaries in
    sixteenths; runs of equal columns merged into one rectangle."""
    keys = list(segs)
    if not keys:
        return
    share = np.stack([coverage(*segs[k], edges) for k in keys]) / np.diff(edges)
    share[share < 1e-9] = 0.0  # float residue of the cumulative sums
    top = np.round(np.minimum(np.cumsum(share, axis=0), 1.0) * 16) / 16
    bottom = np.vstack([np.zeros(top.shape[1]), top[:-1]])
    foot = y + 0.4  # the band's lower edge (the axis runs downwards)
    for k, key in enumerate(keys):
        b, t = bottom[k], top[k]
        first = np.flatnonzero(np.r_[True, (b[1:] != b[:-1]) | (t[1:] != t[:-1])])
        last = np.r_[first[1:], b.size] - 1
        keep = t[first] > b[first]
        first, last = first[keep], last[keep]
        if not first.size:
            continue
        x0, x1 = edges[first], edges[last + 1]
        y0, y1 = foot - 0.8 * b[first], foot - 0.8 * t[first]
        verts = np.stack([np.c_[x0, y0], np.c_[x0, y1], np.c_[x1, y1], np.c_[x1, y0]], axis=1)
        ax.add_collection(PolyCollection(verts, **{"linewidth": 0, **_style(key, colour)}))


def plot_gantt(timeline: Timeline, path: str | Path | None = None, critical_path: Sequence[int] = (),
               title: str | None = None) -> Figure:
    """Draw the timeline (and save it to `path`, its format from the suffix, e.g. .png or .svg).
    `critical_path`: instruction indices to outline (accel.timing.report's critical path);
    `title`: the chart's heading (default: the program's name and total cycles)."""
    tl = timeline
    bands = [(r, lane) for r in tracks.rows(tl) for lane in range(r.lanes)]
    total = max(tl.total, 1)
    few = len(tl) <= LABEL_MAX
    edges = np.linspace(0, total, WIDTH_PX + 1)
    fig = Figure(figsize=(WIDTH_PX / DPI, 2.6 + 0.32 * len(bands)), dpi=DPI, layout="constrained")
    ax, bw, ps = fig.subplots(3, 1, sharex=True, height_ratios=[max(len(bands), 3), 1.2, 1.2])
    kind = np.array([ins.mnemonic for ins in tl.program.instructions[:len(tl)]], dtype=object)
    mnemonics = sorted(set(kind))
    colour = dict(zip(mnemonics, _palette(len(mnemonics)), strict=True))
    on_path = np.zeros(len(tl), dtype=bool)
    on_path[np.asarray(critical_path, dtype=np.int64)] = True
    for y, (r, lane) in enumerate(bands):
        segs = _segments(tl, r, lane, kind)
        if few:
            _draw_exact(ax, y, segs, colour)
        else:
            _draw_binned(ax, y, segs, colour, edges)
        mine = r.index[r.lane == lane]
        crit = mine[on_path[mine]]
        crit = crit[np.argsort(tl.start[crit], kind="stable")]
        s, e = merge(tl.start[crit], tl.end[crit], 0 if few else total / WIDTH_PX)
        if s.size and few:
            ax.broken_barh(np.c_[s, e - s], (y - 0.4, 0.8), facecolors="none", edgecolors="black", linewidth=1.2)
        elif s.size:  # a black strip along the band's top: an outline would box whole bands at this scale
            ax.broken_barh(np.c_[s, e - s], (y - 0.5, 0.08), facecolors="black", linewidth=0)
        if few:
            for i in mine.tolist():
                if tl.end[i] - tl.start[i] >= total / 25:
                    ax.text((tl.start[i] + tl.end[i]) / 2, y, kind[i], ha="center", va="center", fontsize=7,
                            clip_on=True)
    ax.set_yticks(range(len(bands)), [r.name if lane == 0 else f"{r.name} lane {lane + 1}" for r, lane in bands])
    ax.set_ylim(len(bands) - 0.5, -0.5)
    ax.set_xlim(0, total)
    ax.grid(axis="x", alpha=0.3)
    name = tl.program.source_name or "program"
    heading = title or f"{name}: {tl.total:,} cycles, {len(tl):,} instructions"
    if not few:
        heading += f"\n(each column of {total / WIDTH_PX:,.0f} cycles: its cycles by kind, stacked; the rest: idle)"
    ax.set_title(heading, fontsize=10)
    legend = [Patch(facecolor=colour[m], label=m) for m in mnemonics]
    legend += [Patch(facecolor="none", edgecolor="tab:red", hatch="////", label="semaphore wait"),
               Patch(facecolor="none", edgecolor="0.4", hatch="....", label="resource / interlock wait")]
    if len(critical_path):
        legend.append(Patch(facecolor="none", edgecolor="black", linewidth=1.2, label="critical path"))
    ax.legend(handles=legend, loc="upper left", bbox_to_anchor=(1.005, 1), fontsize=7, frameon=False)

    for axis, (t, v), top, label, c in (
            (bw, tracks.dram_bandwidth(tl), tl.config.dma_bytes_per_cycle, "DRAM\nbytes/cycle", "tab:purple"),
            (ps, tracks.psum_banks_in_use(tl), tl.config.psum_banks, "PSUM banks\nin use", "tab:blue")):
        if not few:  # bins of the chart's columns: a spike narrower than a pixel shows as its mean
            t, v = edges[:-1], step_mean(t, v, edges)
            label += "\n(mean)"
        axis.fill_between(np.r_[t, total], np.r_[v, v[-1]], step="post", color=c, alpha=0.6, linewidth=0)
        axis.axhline(top, color="0.5", linestyle="--", linewidth=0.8)
        axis.set_ylim(0, top * 1.15)
        axis.set_ylabel(label, fontsize=8, rotation=0, ha="right", va="center")
    ps.set_xlabel("cycle")
    if path is not None:
        fig.savefig(path)
    return fig


def _palette(n: int) -> list:
    """n distinct colours: tab10 for up to ten kinds, tab20 then a wrap of it for more."""
    from matplotlib import colormaps

    name = "tab10" if n <= 10 else "tab20"
    cmap = colormaps[name]
    return [cmap(k % cmap.N) for k in range(n)]
