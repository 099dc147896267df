"""The Gantt chart: a bar per instruction where the timeline says, waits hatched, the critical path
outlined, and a long timeline aggregated into at most one bar per pixel column."""

from __future__ import annotations

import handmade
import numpy as np
import pytest

from accel.timing.gantt import WIDTH_PX, coverage, merge, plot_gantt, step_mean

BANDS = ["PE", "PE lane 2", "ACT", "VEC", "DMA", "DMA queue 0", "DMA queue 1", "DMA queue 2", "DMA queue 3"]
BAND = {"PE": 0, "ACT": 2, "DMA": 4}  # the engine rows of the hand-made instructions (lane 1 of PE: band 1)


def _rects(ax) -> list[tuple]:
    """(x0, x1, band, hatch, facecolour or None, edgecolour) of every bar on the chart."""
    out = []
    for c in ax.collections:
        face = c.get_facecolor()
        edge = c.get_edgecolor()
        for k, p in enumerate(c.get_paths()):
            (x0, y0), (x1, y1) = p.vertices.min(axis=0), p.vertices.max(axis=0)
            out.append((float(x0), float(x1), round((y0 + y1) / 2), c.get_hatch(),
                        tuple(face[k % len(face)]) if len(face) else None,
                        tuple(edge[k % len(edge)]) if len(edge) else None))
    return out


def test_bars_waits_critical_path_and_labels(tmp_path):
    tl = handmade.timeline()
    fig = plot_gantt(tl, tmp_path / "g.png", critical_path=[5, 9, 12])
    assert (tmp_path / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == BANDS
    rects = _rects(ax)
    filled = [r for r in rects if r[3] is None and r[4] is not None]
    want = set()
    for i, eng, start, end, _, _, queue, data, _, _ in handmade.ROWS:
        if queue >= 0:
            want |= {(start, data, 5 + queue), (data, end, 5 + queue)}
        else:
            want.add((start, end, 1 if i == 6 else BAND[["PE", "ACT", "VEC", "DMA"][eng]]))
    assert {(x0, x1, y) for x0, x1, y, *_ in filled} == want and len(filled) == len(want)
    mnemonic = {(s, e): tl.program.instructions[i].mnemonic for i, _, s, e, *_ in handmade.ROWS}
    colours: dict[str, set] = {}
    for x0, x1, _, _, face, _ in filled:
        if (x0, x1) in mnemonic:
            colours.setdefault(mnemonic[x0, x1], set()).add(face)
    assert all(len(c) == 1 for c in colours.values())  # one colour per mnemonic, a different one for each
    assert len({next(iter(c)) for c in colours.values()}) == len(colours)
    hatched = {(x0, x1, y) for x0, x1, y, hatch, *_ in rects if hatch == "////"}
    assert hatched == {(handmade.HEAD[i], tl.start[i], BAND[b]) for i, b in ((3, "PE"), (8, "ACT"), (11, "DMA"))}
    outlined = {(x0, x1, y) for x0, x1, y, hatch, face, edge in rects if face is None and hatch is None}
    assert outlined == {(73, 85, 0), (96, 130, 2), (133, 199, 5)}
    assert sorted(t.get_text() for t in ax.texts) == sorted(
        ["dma.load", "dma.load", "pe.matmul", "pe.matmul", "act.identity", "dma.store"])


def test_a_long_timeline_is_one_stacked_bar_per_pixel_column_at_most(tmp_path):
    tl = handmade.tiled(8000)  # 104,000 instructions, 1,600,000 cycles: 1,000 per column
    fig = plot_gantt(tl, tmp_path / "g.png", critical_path=np.arange(0, len(tl), 13))
    rects = _rects(fig.axes[0])
    assert len(rects) <= len(BANDS) * WIDTH_PX * 4
    assert min(r[0] for r in rects) >= 0 and max(r[1] for r in rects) <= tl.total + 1e-6
    assert not fig.axes[0].texts
    # DMA queue 1 holds one transfer every 200 cycles, 64 of its 65 cycles latency: every column is
    # drawn in the latency's colour, about 64 * 5 / 1000 of the band high (to a sixteenth)
    q1 = [r for r in fig.axes[0].collections if r.get_facecolor().size and r.get_facecolor()[0][3] == 0.35]
    spans = [(p.vertices[:, 0].min(), p.vertices[:, 0].max(), np.ptp(p.vertices[:, 1])) for c in q1
             for p in c.get_paths() if round(p.vertices[:, 1].mean()) == BANDS.index("DMA queue 1")]
    assert sum(x1 - x0 for x0, x1, _ in spans) == pytest.approx(tl.total)
    assert all(abs(h / 0.8 - 0.32) <= 1 / 16 for *_, h in spans)
    # the critical path (#0 of every repetition, on DMA queue 0) as a strip along that band's top
    black = [p for c in fig.axes[0].collections if c.get_facecolor().size
             and tuple(c.get_facecolor()[0]) == (0, 0, 0, 1) for p in c.get_paths()]
    assert black and all(np.isclose(np.ptp(p.vertices[:, 1]), 0.08) for p in black)
    assert {round(p.vertices[:, 1].min() + 0.5) for p in black} == {BANDS.index("DMA queue 0")}


def test_merge_coverage_and_step_mean():
    s, e = merge(np.array([0, 5, 10]), np.array([4, 6, 20]), gap=1)
    assert s.tolist() == [0, 10] and e.tolist() == [6, 20]
    s, e = merge(np.array([0, 5]), np.array([4, 6]), gap=0.5)
    assert s.tolist() == [0, 5] and e.tolist() == [4, 6]
    edges = np.array([0.0, 10, 20, 40])
    assert coverage(np.array([0, 10]), np.array([5, 30]), edges).tolist() == [5, 10, 10]
    assert step_mean(np.array([0, 10]), np.array([0.0, 4.0]), np.array([0.0, 5, 15, 20])).tolist() == [0, 2, 4]
