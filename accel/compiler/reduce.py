"""Lowerings that reduce along axes on VEC and ACT: ReduceSum, ReduceMean, ReduceMax, GlobalAveragePool,
GlobalMaxPool, Softmax and LayerNormalization (docs/compiler.md).

Layout: VEC reduces along the innermost dim of an access pattern within each partition
(docs/emulator.md, "Reductions run along the free axis"), so every reduced axis is on the free axis
and the kept axes are on partitions and loops. A tile is [P, G, R] or [P, R, G] in SBUF (whichever
follows DRAM order, so loads are contiguous runs): P partitions of one kept axis (or the partition
factor of a split of one), G elements of a second kept axis, R reduced elements (at most two reduced
axes in the tile; further reduced axes and R chunks beyond SBUF are loops whose partial results
accumulate in fp32 with vec.add / vec.max). The reduction reads the tile as [G, R] (for [P, R, G]
with an R stride of G); softmax and layer norm keep the whole row in one tile and broadcast the
per-(partition, G) statistics back along R with stride-0 patterns (or as ACT's per-partition bias
when G is 1).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from accel.compiler import tiles as tl
from accel.compiler.graph import Graph, Node
from accel.compiler.segment import ACT_DTYPE, Segment
from accel.compiler.tiles import Chip, Opnd, dram, float_io, float_values, free_max, imm
from accel.config import CoreConfig
from accel.timing.dma import descriptors


@dataclass(frozen=True)
class RPlan:
    """Axes (count, input stride, output stride, reduced?), the partition axis, the G axis (or None),
    the tile's reduced axes (outermost chunked by `rchunk`), and the loops over the rest."""

    axes: tuple[tuple[int, int, int, bool], ...]
    part: int
    group: int | None
    gchunk: int
    red: tuple[int, ...]
    rchunk: int
    kloops: tuple[int, ...]
    rloops: tuple[int, ...]

    @property
    def g_inner(self) -> bool:
        """SBUF layout [R, G] (the G axis has the smallest input stride) rather than [G, R]."""
        return self.group is not None and all(self.axes[self.group][1] < self.axes[k][1] for k in self.red)


def _merge(shape: Sequence[int], reduced: set[int], out_strides: Sequence[int]) -> list[tuple[int, int, int, bool]]:
    ins = tl.row_major(shape)
    axes = [(n, ins[k], out_strides[k], k in reduced) for k, n in enumerate(shape) if n != 1]
    merged: list[tuple[int, int, int, bool]] = []
    for n, si, so, r in axes:
        if merged and merged[-1][3] == r and merged[-1][1] == si * n and (r or merged[-1][2] == so * n):
            merged[-1] = (merged[-1][0] * n, si, so, r)
        else:
            merged.append((n, si, so, r))
    return merged


def _candidates(axes: list[tuple[int, int, int, bool]], lanes: int, fmax: int, whole: bool,
                grouped: bool) -> Iterator[RPlan]:
    variants = [tuple(axes)]
    for k, (n, si, so, r) in enumerate(axes):
        a = max(d for d in range(1, min(n, lanes) + 1) if n % d == 0)
        if not r and 1 < a < n:
            b = n // a
            variants.append(tuple(axes[:k]) + ((a, si * b, so * b, False), (b, si, so, False)) + tuple(axes[k + 1:]))
    for ax in variants:
        kept = [k for k, a in enumerate(ax) if not a[3]] or [None]
        red_all = [k for k, a in enumerate(ax) if a[3]]
        red = red_all[-2:]
        rinner = math.prod(ax[k][0] for k in red[1:])
        rchunk = min(ax[red[0]][0], max(1, fmax // rinner)) if red else 1
        if whole and (len(red_all) > 2 or rchunk < ax[red[0]][0]):
            continue
        for part in kept:
            others = [k for k in kept if k is not None and k != part]
            for group in [None, *others[-1:]] if grouped else [None]:
                rt = rchunk * rinner
                gchunk = min(ax[group][0], max(1, fmax // rt)) if group is not None else 1
                yield RPlan(ax, -1 if part is None else part, group, gchunk, tuple(red), rchunk,
                            tuple(k for k in others if k != group), tuple(red_all[:-2]))


def _cost(p: RPlan, lanes: int, beat: int) -> float:
    ax = p.axes
    pn = ax[p.part][0] if p.part >= 0 else 1
    g = ax[p.group][0] if p.group is not None else 1
    n_r = math.prod(ax[k][0] for k in p.rloops) * (-(-ax[p.red[0]][0] // p.rchunk) if p.red else 1)
    tiles = math.prod(ax[k][0] for k in p.kloops) * -(-pn // lanes) * -(-g // p.gchunk)
    dims = [(p.rchunk if i == 0 else ax[k][0], ax[k][1]) for i, k in enumerate(p.red)]
    if p.group is not None:
        gd = (p.gchunk, ax[p.group][1])
        dims = dims + [gd] if p.g_inner else [gd] + dims
    count, run = descriptors(tuple(dims) or ((1, 1),))
    per = min(pn, lanes) * count * -(-run * 2 // beat) + math.prod(n for n, _ in dims) + 30
    return tiles * n_r * per


def rplan(shape: Sequence[int], reduced: set[int], out_strides: Sequence[int], config: CoreConfig,
          whole: bool = False, grouped: bool = True) -> RPlan | None:
    """The cheapest reduction layout; `whole`: every reduced element of a row in one tile (None if
    that does not fit); not `grouped`: G = 1 (one row per partition)."""
    axes = _merge(shape, reduced, out_strides)
    if not any(a[3] for a in axes):
        axes.append((1, 1, 0, True))
    lanes = config.sbuf_partitions
    cands = list(_candidates(axes, lanes, row_max(config) if whole else free_max(config), whole, grouped))
    return min(cands, key=lambda p: _cost(p, lanes, config.dma_bytes_per_cycle)) if cands else None


def row_max(config: CoreConfig) -> int:
    """Elements of a whole row (softmax, layer norm): its bf16 input and output, two fp32 work tiles,
    double-buffered, and two fp32 constants (scale, bias) fit in SBUF: 40 bytes per element."""
    return config.sbuf_partition_bytes // 40


@dataclass(frozen=True)
class RTile:
    """The kept part of a tile: P partitions, G elements; input and output element offsets and the
    partition and G strides; `parts`: the (input offset, reduced dims) of each reduced chunk."""

    p: int
    g: int
    in_off: int
    out_off: int
    in_ps: int
    out_ps: int
    in_gs: int
    out_gs: int
    parts: tuple[tuple[int, tuple[tuple[int, int], ...]], ...]

    def r(self, k: int = 0) -> int:
        return math.prod(n for n, _ in self.parts[k][1])


def rtiles(p: RPlan, lanes: int) -> Iterator[RTile]:
    ax = p.axes
    pn, pis, pos = (ax[p.part][:3] if p.part >= 0 else (1, 0, 0))
    gn, gis, gos = (ax[p.group][:3] if p.group is not None else (1, 0, 0))
    parts = []
    for idx in itertools.product(*[range(ax[k][0]) for k in p.rloops]):
        base = sum(i * ax[k][1] for i, k in zip(idx, p.rloops, strict=True))
        r0n = ax[p.red[0]][0] if p.red else 1
        for c0 in range(0, r0n, p.rchunk):
            dims = tuple((min(p.rchunk, r0n - c0) if i == 0 else ax[k][0], ax[k][1]) for i, k in enumerate(p.red))
            parts.append((base + (c0 * ax[p.red[0]][1] if p.red else 0), dims))
    for idx in itertools.product(*[range(ax[k][0]) for k in p.kloops]):
        ib = sum(i * ax[k][1] for i, k in zip(idx, p.kloops, strict=True))
        ob = sum(i * ax[k][2] for i, k in zip(idx, p.kloops, strict=True))
        for p0 in range(0, pn, lanes):
            for g0 in range(0, gn, p.gchunk):
                yield RTile(min(lanes, pn - p0), min(p.gchunk, gn - g0), ib + p0 * pis + g0 * gis,
                            ob + p0 * pos + g0 * gos, pis, pos, gis, gos, tuple(parts))


def load_rows(chip: Chip, p: RPlan, t: RTile, k: int, x: str, dtype: str = ACT_DTYPE) -> tuple[Opnd, Opnd]:
    """Load reduced chunk k of tile t: (the tile as stored, its [G, R] view: R innermost)."""
    rdims = list(t.parts[k][1])
    r = t.r(k)
    gd = (t.g, t.in_gs)
    dims = rdims + [gd] if p.g_inner else [gd] + rdims
    tile = chip.alloc(t.p, dtype, [n for n, _ in dims])
    chip.load(tile, dram(x, t.in_off + t.parts[k][0], t.p, t.in_ps, [d for d in dims if d[0] > 1] or [(1, 1)]))
    view = chip.view(tile, dtype, [(t.g, 1), (r, t.g)] if p.g_inner else [(t.g, r), (r, 1)])
    return tile, view


def layout_view(chip: Chip, p: RPlan, t: RTile, tile: Opnd, dtype: str) -> Opnd:
    """A [G, R] view of another tile of the same layout (its row-major bytes)."""
    r = t.r(0)
    return chip.view(tile, dtype, [(t.g, 1), (r, t.g)] if p.g_inner else [(t.g, r), (r, 1)])


def bcast(chip: Chip, t: RTile, col: Opnd, dtype: str = "fp32") -> Opnd:
    """A [G] per-partition statistic read as [G, R] (stride 0 along R)."""
    return chip.view(col, dtype, [(t.g, 1), (t.r(0), 0)])


# --------------------------------------------------------------------------------------------- ops
REDUCE = {"ReduceSum": "sum", "ReduceMean": "mean", "ReduceMax": "max", "GlobalAveragePool": "mean",
          "GlobalMaxPool": "max"}


def reduce_axes(node: Node, graph: Graph) -> list[int] | None:
    """The reduced axes (normalised, sorted); [] means none (noop_with_empty_axes), None: not constant."""
    rank = len(graph.values[node.inputs[0]].shape)
    if node.op.startswith("Global"):
        return list(range(2, rank))
    axes = node.attr("axes")
    if axes is None and len(node.inputs) > 1 and node.inputs[1]:
        c = graph.const(node.inputs[1])
        if c is None:
            return None
        axes = [int(a) for a in c.reshape(-1)]
    if not axes:
        return [] if node.attr("noop_with_empty_axes", 0) else list(range(rank))
    return sorted({a % rank for a in axes})


def _reduce_supported(node: Node, graph: Graph, config: CoreConfig) -> str | None:
    why = float_values(graph, [node.inputs[0], node.outputs[0]])  # axes (an input from opset 13/18) are int64
    if why:
        return why
    if reduce_axes(node, graph) is None:
        return "axes that are not constant"
    return None


def _kept_strides(shape: Sequence[int], axes: set[int]) -> list[int]:
    """Output element strides per input axis (0 on reduced axes): the kept axes row-major."""
    kept = [n for k, n in enumerate(shape) if k not in axes]
    ks = iter(tl.row_major(kept))
    return [0 if k in axes else next(ks) for k in range(len(shape))]


def lower_reduce(seg: Segment, node: Node) -> None:
    """ReduceSum / ReduceMean / ReduceMax (any axes, keepdims, axes as attribute or input) and the
    global pools: vec.reduce_sum / reduce_max of each [G, R] chunk into fp32 [P, G], chunks combined
    with vec.add / vec.max, the mean scaled by 1/count (vec.muls), rounded to bf16 once."""
    g = seg.graph
    shape = g.values[node.inputs[0]].shape
    axes = reduce_axes(node, g)
    if not axes:
        seg.alias(node.outputs[0], node.inputs[0])
        return
    kind = REDUCE[node.op]
    x = seg.value_in(node.inputs[0])
    y = seg.value_out(node.outputs[0])
    count = math.prod(shape[a] for a in axes)
    p = rplan(shape, set(axes), _kept_strides(shape, set(axes)), seg.config)
    chip = Chip(seg, node.name)
    red, comb = ("vec.reduce_max", "vec.max") if kind == "max" else ("vec.reduce_sum", "vec.add")
    for t in rtiles(p, seg.config.sbuf_partitions):
        out = chip.alloc(t.p, ACT_DTYPE, [t.g])
        final = len(t.parts) == 1 and kind != "mean"
        acc = out if final else chip.alloc(t.p, "fp32", [t.g])
        for k in range(len(t.parts)):
            _, view = load_rows(chip, p, t, k, x)
            if k == 0:
                chip.emit("vec", red, acc, view)
            else:
                part = chip.alloc(t.p, "fp32", [t.g])
                chip.emit("vec", red, part, view)
                chip.emit("vec", comb, acc, acc, part)
        if kind == "mean":
            chip.emit("vec", "vec.muls", out, acc, imm(1.0 / count))
        elif not final:
            chip.emit("vec", "vec.cast", out, acc)
        chip.store(dram(y, t.out_off, t.p, t.out_ps, [(t.g, t.out_gs)]), out)
        chip.release()


def _row_axes(node: Node, graph: Graph) -> list[int]:
    """The normalised axes of Softmax / LayerNormalization (opset < 13 Softmax: all from axis on)."""
    rank = len(graph.values[node.inputs[0]].shape)
    if node.op == "LayerNormalization":
        return list(range(node.attr("axis", -1) % rank, rank))
    if graph.opset < 13:
        return list(range(node.attr("axis", 1) % rank, rank))
    return [node.attr("axis", -1) % rank]


def _rows_supported(node: Node, graph: Graph, config: CoreConfig) -> str | None:
    why = float_io(node, graph, config)
    if why:
        return why
    if node.op == "LayerNormalization":
        if len([o for o in node.outputs if o]) > 1:
            return "Mean / InvStdDev outputs"
        r = math.prod(graph.values[node.inputs[0]].shape[a] for a in _row_axes(node, graph))
        for i in node.inputs[1:3]:
            if i and graph.values[i].size not in (1, r):
                return "scale or bias not of the normalised shape"
    shape = graph.values[node.inputs[0]].shape
    axes = set(_row_axes(node, graph))
    if rplan(shape, axes, tl.row_major(shape), config, whole=True) is None:
        return f"a row of {math.prod(shape[a] for a in axes)} elements does not fit one SBUF tile"
    return None


def lower_softmax(seg: Segment, node: Node) -> None:
    """Softmax and LogSoftmax over the node's axis (opset < 13: the trailing axes from it): per row
    m = reduce_max, e = exp(x - m) (act.func with the per-partition bias -m when G is 1, else a
    vec.sub of m broadcast along R first), s = reduce_sum(e); Softmax: y = e * reciprocal(s)
    (act.func reciprocal, vec.mul with s broadcast); LogSoftmax: y = (x - m) - log(s)."""
    g = seg.graph
    shape = g.values[node.inputs[0]].shape
    axes = set(_row_axes(node, g))
    x = seg.value_in(node.inputs[0])
    y = seg.value_out(node.outputs[0])
    p = rplan(shape, axes, tl.row_major(shape), seg.config, whole=True)
    chip = Chip(seg, node.name)
    for t in rtiles(p, seg.config.sbuf_partitions):
        tile, xv = load_rows(chip, p, t, 0, x)
        dims = [t.g * t.r(0)]
        m = chip.alloc(t.p, "fp32", [t.g])
        chip.emit("vec", "vec.reduce_max", m, xv)
        d = layout_view(chip, p, t, chip.alloc(t.p, "fp32", dims), "fp32")  # x - m
        e = layout_view(chip, p, t, chip.alloc(t.p, "fp32", dims), "fp32")
        if t.g == 1 and node.op == "Softmax":
            nm = chip.alloc(t.p, "fp32", [1])
            chip.emit("vec", "vec.muls", nm, m, imm(-1.0))
            chip.emit("act", "act.func", e, xv, extra="fn=exp", bias=nm)
        else:
            chip.emit("vec", "vec.sub", d, xv, bcast(chip, t, m))
            chip.emit("act", "act.func", e, d, extra="fn=exp")
        s = chip.alloc(t.p, "fp32", [t.g])
        chip.emit("vec", "vec.reduce_sum", s, e)
        out = layout_view(chip, p, t, chip.alloc(t.p, ACT_DTYPE, dims), ACT_DTYPE)
        if node.op == "Softmax":
            chip.emit("act", "act.func", s, s, extra="fn=reciprocal")
            chip.emit("vec", "vec.mul", out, e, bcast(chip, t, s))
        else:
            chip.emit("act", "act.func", s, s, extra="fn=log")
            chip.emit("vec", "vec.sub", out, d, bcast(chip, t, s))
        _store_rows(chip, p, t, y, out)
        chip.release()


def _store_rows(chip: Chip, p: RPlan, t: RTile, y: str, out: Opnd) -> None:
    """Store a [G, R] result tile (same layout as its input) to the same positions of `y`."""
    rdims = list(t.parts[0][1])
    gd = (t.g, t.in_gs)
    dims = rdims + [gd] if p.g_inner else [gd] + rdims
    whole = chip.view(out, ACT_DTYPE, [(math.prod(n for n, _ in dims), 1)])
    chip.store(dram(y, t.in_off + t.parts[0][0], t.p, t.in_ps, [d for d in dims if d[0] > 1] or [(1, 1)]), whole)


def lower_layernorm(seg: Segment, node: Node) -> None:
    """LayerNormalization (axis, epsilon, scale, optional bias), rows of the trailing axes on the
    free axis: mean = reduce_sum(x) / R, d = x - mean (act.identity with the per-partition bias
    -mean), var = reduce_sum(d * d), rstd = rsqrt(var / R + epsilon) in one act.func (scale=1/R,
    bias=epsilon), y = d * rstd * scale + bias (VEC, fp32, one rounding to bf16). Scale and bias
    are loaded once to every partition (DRAM partition stride 0)."""
    g = seg.graph
    shape = g.values[node.inputs[0]].shape
    axes = set(_row_axes(node, g))
    r = math.prod(shape[a] for a in axes)
    x = seg.value_in(node.inputs[0])
    y = seg.value_out(node.outputs[0])
    p = rplan(shape, axes, tl.row_major(shape), seg.config, whole=True, grouped=False)
    chip, consts = Chip(seg, node.name), Chip(seg, node.name)
    lanes = min(seg.config.sbuf_partitions, p.axes[p.part][0] if p.part >= 0 else 1)
    affine: list[tuple[Opnd, str] | None] = []  # scale, bias: [lanes, R] once for the whole node
    for i in (node.inputs[1:3] + [""])[:2]:
        if not i:
            affine.append(None)
            continue
        c = g.const(i)
        if c is not None:
            src, dt, n = seg.const(np.broadcast_to(c.astype(np.float32).reshape(-1), (r,)), "fp32"), "fp32", r
        else:
            src, dt, n = seg.value_in(i), ACT_DTYPE, g.values[i].size
        ct = consts.alloc(lanes, dt, [r])
        consts.load(ct, dram(src, 0, lanes, 0, [(r, 1 if n > 1 else 0)]))
        affine.append((ct, dt))
    eps = float(node.attr("epsilon", 1e-5))
    for t in rtiles(p, seg.config.sbuf_partitions):
        _, xv = load_rows(chip, p, t, 0, x)
        s = chip.alloc(t.p, "fp32", [1])
        chip.emit("vec", "vec.reduce_sum", s, xv)
        chip.emit("vec", "vec.muls", s, s, imm(-1.0 / r))
        d = chip.alloc(t.p, "fp32", [r])
        chip.emit("act", "act.identity", d, xv, bias=s)
        sq = chip.alloc(t.p, "fp32", [r])
        chip.emit("vec", "vec.mul", sq, d, d)
        v = chip.alloc(t.p, "fp32", [1])
        chip.emit("vec", "vec.reduce_sum", v, sq)
        chip.emit("act", "act.func", v, v, extra=f"fn=rsqrt, scale={imm(1.0 / r)}, bias={imm(eps)}")
        out = chip.alloc(t.p, ACT_DTYPE, [r])
        steps = [("vec.mul", chip.view(v, "fp32", [(r, 0)]))]
        for mn, a in zip(("vec.mul", "vec.add"), affine, strict=True):
            if a is not None:
                steps.append((mn, chip.view(a[0], a[1], [(r, 1)], t.p)))
        acc = d
        for k, (mn, b) in enumerate(steps):
            dst = out if k == len(steps) - 1 else sq
            chip.emit("vec", mn, dst, acc, b)
            acc = dst
        _store_rows(chip, p, t, y, out)
        chip.release()
    consts.release()


LOWERINGS = {op: (_reduce_supported, lower_reduce) for op in REDUCE}
LOWERINGS.update({"Softmax": (_rows_supported, lower_softmax), "LogSoftmax": (_rows_supported, lower_softmax),
                  "LayerNormalization": (_rows_supported, lower_layernorm)})
