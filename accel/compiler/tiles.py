"""Tiling of element-wise work onto the core: which axis goes on SBUF partitions, which on the free
axis, and the DRAM access pattern of every operand for every tile (docs/compiler.md).

An element-wise step maps an iteration space (a shape) to DRAM through one element-stride vector per
operand: row-major strides for a tensor of that shape, 0 along an axis the operand is broadcast on
(numpy broadcasting), a permutation of strides for a transpose, the output's strides at an offset
for a slice of a concatenation. `plan` merges axes that are contiguous for every operand, tries
each axis (and a split of each axis into a partition factor times the rest) as the partition axis,
puts up to three innermost remaining axes on the free axis (the outermost of them chunked to fit
SBUF), loops over the rest, and keeps the layout with the fewest estimated cycles (DMA beats as
accel.timing.dma counts them, plus the engines' elements and set-up per instruction).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from accel.compiler.builder import Region, region
from accel.compiler.graph import Graph, Node
from accel.compiler.segment import Segment
from accel.config import CoreConfig
from accel.isa.operands import default_strides, dtype_bytes
from accel.timing.dma import descriptors


@dataclass(frozen=True)
class Access:
    """One operand's DRAM side: tensor, element offset, its DRAM element type, element strides per
    axis of the iteration space (0: broadcast along that axis); or a tensor kept in SBUF."""

    tensor: str
    offset: int
    strides: tuple[int, ...]
    dtype: str = "bf16"
    kept: str = ""  # the graph value, when it is kept in SBUF instead (accel.compiler.resident; tensor "")


@dataclass(frozen=True)
class Tile:
    """One tile: `p` partitions of `dims` free elements (row-major); per operand its DRAM element
    offset, partition stride and free-dim strides."""

    p: int
    dims: tuple[int, ...]
    offsets: tuple[int, ...]
    pstrides: tuple[int, ...]
    fstrides: tuple[tuple[int, ...], ...]

    @property
    def free(self) -> int:
        return math.prod(self.dims)


@dataclass(frozen=True)
class Plan:
    """A layout of an iteration space: merged axes (count and per-operand strides), the partition
    axis, the free axes (outermost first; the first is chunked by `chunk`), and the loop axes."""

    axes: tuple[tuple[int, tuple[int, ...]], ...]
    part: int
    free: tuple[int, ...]
    chunk: int
    loops: tuple[int, ...]


def row_major(shape: Sequence[int]) -> tuple[int, ...]:
    return tuple(default_strides(tuple(shape))) if shape else ()


def broadcast_strides(shape: Sequence[int], out: Sequence[int]) -> tuple[int, ...]:
    """Element strides of a row-major tensor of `shape` read at every index of `out` (numpy rules)."""
    shape = (1,) * (len(out) - len(shape)) + tuple(shape)
    return tuple(0 if n == 1 and m != 1 else s for n, m, s in zip(shape, out, row_major(shape), strict=True))


def merge_axes(shape: Sequence[int], strides: Sequence[Sequence[int]]) -> list[tuple[int, tuple[int, ...]]]:
    """Drop axes of one element and merge neighbours that every operand steps through contiguously."""
    axes = [(n, tuple(s[k] for s in strides)) for k, n in enumerate(shape) if n != 1]
    out: list[tuple[int, tuple[int, ...]]] = []
    for n, s in axes:
        if out and all(a == b * n for a, b in zip(out[-1][1], s, strict=True)):
            out[-1] = (out[-1][0] * n, s)
        else:
            out.append((n, s))
    return out


def _largest_divisor(n: int, limit: int) -> int:
    return max(d for d in range(1, min(n, limit) + 1) if n % d == 0)


def _layouts(axes: list[tuple[int, tuple[int, ...]]], lanes: int, fmax: int) -> Iterator[Plan]:
    """Every candidate: each axis, or the partition factor of a split axis, on partitions."""
    cands = [tuple(axes)]
    for k, (n, s) in enumerate(axes):
        a = _largest_divisor(n, lanes)
        if 1 < a < n:
            cands.append(tuple(axes[:k]) + ((a, tuple(x * (n // a) for x in s)), (n // a, s)) + tuple(axes[k + 1:]))
    for ax in cands:
        for part in range(len(ax)):
            rest = [k for k in range(len(ax)) if k != part]
            free: list[int] = []
            for k in reversed(rest):  # innermost first, at most 3, within fmax
                if len(free) == 3 or (free and math.prod(ax[j][0] for j in free) * ax[k][0] > fmax):
                    break
                free.insert(0, k)
            inner = math.prod(ax[j][0] for j in free[1:])
            chunk = min(ax[free[0]][0], max(1, fmax // inner)) if free else 1
            yield Plan(ax, part, tuple(free), chunk, tuple(k for k in rest if k not in free))


def _cost(plan: Plan, sizes: Sequence[int], ops: int, lanes: int, beat: int) -> float:
    ax = plan.axes
    pn = ax[plan.part][0]
    tiles = math.prod(ax[k][0] for k in plan.loops) * -(-pn // lanes)
    if plan.free:
        tiles *= -(-ax[plan.free[0]][0] // plan.chunk)
    fdims = [(plan.chunk if i == 0 else ax[k][0]) for i, k in enumerate(plan.free)]
    p = min(pn, lanes)
    dma = 0
    for o, size in enumerate(sizes):
        dims = tuple((n, ax[k][1][o]) for n, k in zip(fdims, plan.free, strict=True) if ax[k][1][o] != 0)
        count, run = descriptors(dims or ((1, 1),))
        dma += p * count * -(-run * size // beat)
    return tiles * (dma + ops * (math.prod(fdims) + 8) + 24)


def plan(shape: Sequence[int], strides: Sequence[Sequence[int]], sizes: Sequence[int], ops: int,
         config: CoreConfig, fmax: int) -> Plan:
    """The cheapest layout of `shape` for operands with these strides and element sizes (bytes)."""
    axes = merge_axes(shape, strides) or [(1, tuple(0 for _ in strides))]
    lanes = config.sbuf_partitions
    return min(_layouts(axes, lanes, fmax), key=lambda p: _cost(p, sizes, ops, lanes, config.dma_bytes_per_cycle))


def tiles(p: Plan, offsets: Sequence[int], lanes: int) -> Iterator[Tile]:
    """The tiles of a plan, loops outermost, then partition chunks, then free chunks."""
    ax = p.axes
    nops = len(offsets)
    loop_ranges = [range(ax[k][0]) for k in p.loops]
    pn, ps = ax[p.part]
    f0 = ax[p.free[0]][0] if p.free else 1
    for idx in itertools.product(*loop_ranges):
        base = [offsets[o] + sum(i * ax[k][1][o] for i, k in zip(idx, p.loops, strict=True)) for o in range(nops)]
        for p0 in range(0, pn, lanes):
            for c0 in range(0, f0, p.chunk):
                dims = tuple([min(p.chunk, f0 - c0)] + [ax[k][0] for k in p.free[1:]]) if p.free else ()
                offs = tuple(base[o] + p0 * ps[o] + (c0 * ax[p.free[0]][1][o] if p.free else 0) for o in range(nops))
                yield Tile(min(lanes, pn - p0), dims, offs, ps,
                           tuple(tuple(ax[k][1][o] for k in p.free) for o in range(nops)))


def esize(dtype: str) -> int:
    return dtype_bytes(dtype)


FLOAT = (np.dtype(np.float32), np.dtype(np.float16))


def imm(v: float) -> str:
    """A binary32 immediate as the assembler reads it (exact: the float32 value's shortest repr)."""
    f = float(np.float32(v))
    return "nan" if math.isnan(f) else ("inf" if f == math.inf else "-inf" if f == -math.inf else repr(f))


def free_max(config: CoreConfig) -> int:
    """Elements per partition of one tile: a few fp32 tiles of it, double-buffered, fit in SBUF."""
    return max(16, min(2048, config.sbuf_partition_bytes // 96))


@dataclass(frozen=True)
class Opnd:
    """An on-chip operand: its access-pattern text and the bytes it covers (for the builder)."""

    text: str
    region: Region


def pattern(space: str, p: int, off: int, dtype: str, dims: Sequence[tuple[int, int]]) -> str:
    return f"{space}[0:{p}, {off}]:{dtype}[{', '.join(f'{n}@{s}' for n, s in dims) or '1@1'}]"


def dram(t: str, off: int, p: int, ps: int, dims: Sequence[tuple[int, int]]) -> str:
    return f"{t}({off})[{p}@{ps}, {', '.join(f'{n}@{s}' for n, s in dims) or '1@1'}]"


class Chip:
    """SBUF tiles of one lowering: allocation, release at the end, and instructions with their regions."""

    def __init__(self, seg: Segment, what: str) -> None:
        self.seg, self.b, self.what = seg, seg.builder, what
        self.held: list[tuple[int, int]] = []

    def alloc(self, p: int, dtype: str, dims: Sequence[int], strides: Sequence[int] | None = None) -> Opnd:
        """A new SBUF tile of `dims` elements per partition (row-major), or a view with `strides`."""
        n = math.prod(dims)
        nbytes = max(1, n) * esize(dtype)
        off = self.b.sbuf.alloc(nbytes, f"node {self.what}: tile")
        self.held.append((off, nbytes))
        strides = row_major(dims) if strides is None else strides
        dims_s = list(zip(dims, strides, strict=True))
        return Opnd(pattern("sb", p, off, dtype, dims_s), region("sb", 0, p, off, nbytes))

    def view(self, o: Opnd, dtype: str, dims: Sequence[tuple[int, int]], p: int | None = None, at: int = 0) -> Opnd:
        """Another access pattern over the bytes of tile `o`, from byte `at` of it (the region stays
        the whole tile, so the builder orders every access to it)."""
        r = o.region
        return Opnd(pattern("sb", p or r.p1, r.lo + at, dtype, dims), Region("sb", 0, p or r.p1, r.lo, r.hi))

    def emit(self, engine: str, mnemonic: str, dst: Opnd, *srcs: Opnd | str, extra: str = "",
             bias: Opnd | None = None) -> None:
        ops = [dst.text] + [s.text if isinstance(s, Opnd) else s for s in srcs]
        reads = tuple(s.region for s in srcs if isinstance(s, Opnd)) + ((bias.region,) if bias else ())
        tail = (f", {extra}" if extra else "") + (f", bias={bias.text}" if bias else "")
        self.b.emit(engine, f"{mnemonic} {', '.join(ops)}{tail}", reads, (dst.region,))

    def load(self, dst: Opnd, src: str) -> None:
        self.b.emit("dma", f"dma.load {dst.text}, {src}", writes=(dst.region,))

    def store(self, dst: str, src: Opnd) -> None:
        self.b.emit("dma", f"dma.store {dst}, {src.text}", reads=(src.region,))

    def release(self) -> None:
        for off, nbytes in self.held:
            self.b.sbuf.free(off, nbytes)
        self.held = []


def float_values(graph: Graph, names: Sequence[str]) -> str | None:
    """None when every named value is a float tensor, else the reason."""
    for v in names:
        if v and graph.values[v].dtype not in FLOAT:
            return f"element type {graph.values[v].dtype} (the core computes floats)"
    return None


def float_io(node: Node, graph: Graph, config: CoreConfig) -> str | None:
    """None when every input and output is a float tensor (activations are bf16 on the core)."""
    return float_values(graph, [*node.inputs, *node.outputs])


