"""Lowerings onto VEC and ACT: element-wise arithmetic with numpy broadcasting, activations, per-channel
affines, and the layout copies Concat and Transpose (docs/compiler.md).

Layout (accel.compiler.tiles): the output's iteration space is cut into tiles of [partitions, free]
elements; `tiles.plan` picks the partition axis and the free axes per operator and shape. Every input
is loaded into its own SBUF tile holding only the axes it is not broadcast along (a [1, C, 1, 1] bias
is one fp32 per partition when C is on partitions), and read back with stride-0 access patterns on
the broadcast axes. Activations are bf16 in DRAM and SBUF; VEC and ACT compute in binary32 and round
the result to bf16 once; constants from the graph stay fp32 (DRAM constants), scalar constants become
immediates.

`LOWERINGS[op] = (supported, lower)`: `supported(node, graph, config)` is None when the core takes the
node, else the reason it goes to the host; `lower(seg, node)` emits it into the segment.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from accel.compiler import pool, reduce
from accel.compiler import tiles as tl
from accel.compiler.builder import region
from accel.compiler.graph import Graph, Node
from accel.compiler.segment import ACT_DTYPE, Flat, Segment
from accel.compiler.tiles import Chip, Opnd, dram, imm
from accel.config import CoreConfig

# a body computes one tile: body(chip, tile, sources, destination)
Body = Callable[[Chip, tl.Tile, list[Opnd], Opnd], None]


def elementwise(seg: Segment, node: Node, shape: Sequence[int], out: tl.Access, ins: Sequence[tl.Access],
                 body: Body, ops: int = 1) -> None:
    """Run `body` over every tile of `shape`: each input loaded (only its non-broadcast axes), the
    result tile (row-major [p, free]) stored to `out`'s strides. An input kept in SBUF
    (accel.compiler.resident: every operand row-major over `shape`) is read from the producer's tiles,
    in the producer's layout; a kept output stays in its tiles (no store) when they fit."""
    accs = [out, *ins]
    b = seg.builder
    kept_in = next((a.kept for a in ins if a.kept), "")
    lay_out = seg.keep.get(out.kept) if out.kept else None
    made = seg.keep[kept_in].plan if kept_in else getattr(lay_out, "plan", None)
    if made is not None:  # the kept tiles' layout, its strides (all row-major, equal) for each of our operands
        plan = tl.Plan(tuple((n, (st[0],) * len(accs)) for n, st in made.axes), made.part, made.free, made.chunk,
                       made.loops)
    else:
        plan = tl.plan(shape, [a.strides for a in accs], [tl.esize(a.dtype) for a in accs], ops, seg.config,
                       tl.free_max(seg.config))
    tiles = list(tl.tiles(plan, [a.offset for a in accs], seg.config.sbuf_partitions))
    held = None
    if out.kept:
        held = _keep_output(seg, node, out, plan, tiles)
        if held is None:
            out = tl.Access(seg.value_out(out.kept), out.offset, out.strides, out.dtype)
    chip = Chip(seg, node.name)
    for n, t in enumerate(tiles):
        srcs = []
        for k, a in enumerate(ins, start=1):
            if a.kept:
                at = seg.resident[a.kept][n]
                srcs.append(Opnd(tl.pattern("sb", t.p, at, ACT_DTYPE, list(zip(t.dims, tl.row_major(t.dims),
                                                                                  strict=True))),
                                 region("sb", 0, t.p, at, t.free * tl.esize(ACT_DTYPE))))
                continue
            keep = [(n_, s) for n_, s in zip(t.dims, t.fstrides[k], strict=True) if s != 0]
            tile = chip.alloc(t.p, a.dtype, [n_ for n_, _ in keep])
            chip.load(tile, dram(a.tensor, t.offsets[k], t.p, t.pstrides[k], keep))
            compact = iter(tl.row_major([n_ for n_, _ in keep]))
            dims = [(n_, next(compact) if s != 0 else 0) for n_, s in zip(t.dims, t.fstrides[k], strict=True)]
            srcs.append(chip.view(tile, a.dtype, dims))
        if held is not None:
            dst = Opnd(tl.pattern("sb", t.p, held[n], ACT_DTYPE, list(zip(t.dims, tl.row_major(t.dims), strict=True))),
                       region("sb", 0, t.p, held[n], t.free * tl.esize(ACT_DTYPE)))
        else:
            dst = chip.alloc(t.p, ACT_DTYPE, t.dims)
        body(chip, t, srcs, dst)
        if held is None:
            chip.store(dram(out.tensor, t.offsets[0], t.p, t.pstrides[0],
                            list(zip(t.dims, t.fstrides[0], strict=True))), dst)
        for a in ins:
            if a.kept and seg.keep[a.kept].frees(node.name):
                b.sbuf.free(seg.resident[a.kept][n], t.free * tl.esize(ACT_DTYPE))
        chip.release()


def _keep_output(seg: Segment, node: Node, out: tl.Access, plan: tl.Plan, tiles: list[tl.Tile]) -> list[int] | None:
    """SBUF tiles for an output kept for its consumer (accel.compiler.resident), or None (it spills)
    when they would take more than half of what is free now (Segment.hold)."""
    held = seg.hold(out.kept, [t.free * tl.esize(ACT_DTYPE) for t in tiles], f"node {node.name}: output kept in SBUF")
    if held is not None:
        seg.keep[out.kept] = replace(seg.keep[out.kept], plan=plan)
    return held


# ---------------------------------------------------------------------------------------------- checks
def _scalar(graph: Graph, name: str) -> float | None:
    c = graph.const(name)
    return float(c.reshape(-1)[0]) if c is not None and c.size == 1 else None


def _source(seg: Segment, name: str, shape: Sequence[int]) -> tl.Access:
    """The DRAM side of graph value `name` read at every index of `shape` (broadcast), or its SBUF
    tiles when it is kept there (accel.compiler.resident)."""
    g = seg.graph
    if name in seg.resident and isinstance(seg.keep.get(name), Flat):
        return tl.Access("", 0, tl.row_major(shape), ACT_DTYPE, kept=name)
    c = g.const(name)
    t = seg.const(c.astype(np.float32), "fp32") if c is not None else seg.value_in(name)
    return tl.Access(t, 0, tl.broadcast_strides(g.values[name].shape, shape), "fp32" if c is not None else ACT_DTYPE)


def _out(seg: Segment, node: Node, keep: bool = False) -> tuple[tuple[int, ...], tl.Access]:
    """The output's shape and DRAM side; with `keep` (element-wise lowerings) a value to keep in SBUF
    is left without a DRAM tensor, for `elementwise` to place."""
    v = node.outputs[0]
    shape = seg.graph.values[v].shape
    if keep and v in seg.keep:
        return shape, tl.Access("", 0, tl.row_major(shape), kept=v)
    return shape, tl.Access(seg.value_out(v), 0, tl.row_major(shape))


# ----------------------------------------------------------------------------------- binary and n-ary
# ONNX op -> (vec op with two tiles, vec op with an immediate)
BINARY = {"Add": ("vec.add", "vec.adds"), "Sub": ("vec.sub", "vec.subs"), "Mul": ("vec.mul", "vec.muls"),
          "Max": ("vec.max", "vec.maxs"), "Min": ("vec.min", "vec.mins"), "Sum": ("vec.add", "vec.adds"),
          "Mean": ("vec.add", "vec.adds"), "Div": ("vec.mul", "vec.muls")}


def _binary_supported(node: Node, graph: Graph, config: CoreConfig) -> str | None:
    if not [i for i in node.inputs if i]:
        return "no inputs"
    return tl.float_io(node, graph, config)


def lower_binary(seg: Segment, node: Node) -> None:
    """Add, Sub, Mul, Div, Max, Min, Sum, Mean with numpy broadcasting; layout: tiles.plan's choice
    over the output's axes. The inputs combine left to right in binary32 (n-ary: an fp32
    accumulator tile), one rounding to bf16 at the end. Scalar constants are immediates; Div
    multiplies by the reciprocal: of a constant, computed in float64 and rounded to binary32 (so x / c
    is within 1 binary32 ulp); of a tensor, act.func reciprocal (<= 0.98 ulp, docs/act.md) and then
    vec.mul (<= 1.5 ulp in all, both far below the bf16 rounding of the result)."""
    g, op = seg.graph, node.op
    shape, out = _out(seg, node, keep=True)
    names = [i for i in node.inputs if i]
    tensor_op, scalar_op = BINARY[op]
    imms: list[tuple[int, float]] = []  # (position, value) of scalar-constant operands
    ins: list[tl.Access] = []
    pos: list[int] = []
    for k, name in enumerate(names):
        s = _scalar(g, name)
        if s is not None and not (op == "Div" and k == 0):
            with np.errstate(divide="ignore"):
                imms.append((k, float(np.float64(1.0) / s) if op == "Div" else s))  # x / 0: x * inf
        else:
            c = g.const(name)
            if op == "Div" and k > 0 and c is not None:  # constant divisor: its reciprocal in fp32
                with np.errstate(divide="ignore"):
                    recip = (1.0 / c.astype(np.float64)).astype(np.float32)
                t = seg.const(recip, "fp32")
                ins.append(tl.Access(t, 0, tl.broadcast_strides(c.shape, shape), "fp32"))
            else:
                ins.append(_source(seg, name, shape))
            pos.append(k)
    recips = [j for j, k in enumerate(pos) if op == "Div" and k > 0 and g.const(names[k]) is None]
    mean = 1.0 / len(names) if op == "Mean" else None
    first_imm_sub = op == "Sub" and imms and imms[0][0] == 0  # c - x: act.identity scale=-1, bias=c

    def body(chip: Chip, t: tl.Tile, srcs: list[Opnd], dst: Opnd) -> None:
        srcs = list(srcs)
        for j in recips:
            r = chip.alloc(t.p, "fp32", t.dims)
            chip.emit("act", "act.func", r, srcs[j], extra="fn=reciprocal")
            srcs[j] = r
        steps: list[tuple[str, Opnd | str]] = [(tensor_op, s) for s in srcs[1:]]
        steps += [(scalar_op, imm(v)) for k, v in imms if not (first_imm_sub and k == 0)]
        if mean is not None:
            steps.append(("vec.muls", imm(mean)))
        if first_imm_sub:
            steps.append(("act", imm(imms[0][1])))
        acc = srcs[0] if srcs else None
        if acc is None:  # every operand a scalar constant is folded before placement; keep it honest
            raise AssertionError("all-constant element-wise node reached the core")
        if not steps:
            chip.emit("vec", "vec.cast", dst, acc)
            return
        tmp = chip.alloc(t.p, "fp32", t.dims) if len(steps) > 1 else None
        for k, (mn, b) in enumerate(steps):
            d = dst if k == len(steps) - 1 else tmp
            if mn == "act":
                chip.emit("act", "act.identity", d, acc, extra=f"scale=-1.0, bias={b}")
            else:
                chip.emit("vec", mn, d, acc, b)
            acc = d

    elementwise(seg, node, shape, out, ins, body, ops=max(1, len(names) - 1 + len(recips)))


# ------------------------------------------------------------------------------------------ unary
# ONNX op -> act.func built-in
ACT_FUNCS = {"Sigmoid": "sigmoid", "Tanh": "tanh", "Exp": "exp", "Log": "log", "Sqrt": "sqrt",
             "Reciprocal": "reciprocal", "Softplus": "softplus"}


def _unary_supported(node: Node, graph: Graph, config: CoreConfig) -> str | None:
    why = tl.float_io(node, graph, config)
    if why:
        return why
    if node.op == "Gelu" and node.attr("approximate", "none") not in ("none", "tanh"):
        return f"approximate={node.attr('approximate')!r}"
    if node.op == "LeakyRelu" and node.attr("alpha", 0.01) < 0:
        return "LeakyRelu with a negative alpha"
    if node.op == "Clip":
        for i in node.inputs[1:3]:
            if i and _scalar(graph, i) is None:
                return "Clip bounds that are not scalar constants"
    return None


def _clip_bounds(node: Node, graph: Graph) -> tuple[float | None, float | None]:
    if graph.opset < 11:
        return node.attr("min"), node.attr("max")
    lo = _scalar(graph, node.inputs[1]) if len(node.inputs) > 1 and node.inputs[1] else None
    hi = _scalar(graph, node.inputs[2]) if len(node.inputs) > 2 and node.inputs[2] else None
    return lo, hi


def lower_unary(seg: Segment, node: Node) -> None:
    """Relu (act.relu), Neg (act.identity scale=-1), Sigmoid, Tanh, Exp, Log, Sqrt, Reciprocal,
    Softplus, Gelu (act.func: erf form for approximate="none", gelu_tanh for "tanh"), LeakyRelu
    (vec.muls then vec.max, or vec.min for alpha > 1), Clip (vec.maxs, vec.mins). Layout: the tensor
    flat, as tiles.plan cuts it (partitions x contiguous runs)."""
    op = node.op
    shape, out = _out(seg, node, keep=True)
    src = _source(seg, node.inputs[0], shape)
    if op == "Clip":
        lo, hi = _clip_bounds(node, seg.graph)
        steps = [("vec.maxs", imm(lo))] if lo is not None else []
        steps += [("vec.mins", imm(hi))] if hi is not None else []
    elif op == "LeakyRelu":
        alpha = float(node.attr("alpha", 0.01))
        steps = [("leaky", ("vec.max" if alpha <= 1 else "vec.min", imm(alpha)))]
    else:
        steps = [(op, None)]

    def body(chip: Chip, t: tl.Tile, srcs: list[Opnd], dst: Opnd) -> None:
        x = srcs[0]
        if op == "Relu":
            chip.emit("act", "act.relu", dst, x)
        elif op == "Neg":
            chip.emit("act", "act.identity", dst, x, extra="scale=-1.0")
        elif op == "Gelu":
            chip.emit("act", "act.func", dst, x, extra="fn=" + ("gelu_tanh" if node.attr("approximate") == "tanh"
                                                                else "gelu"))
        elif op in ACT_FUNCS:
            chip.emit("act", "act.func", dst, x, extra=f"fn={ACT_FUNCS[op]}")
        elif op == "LeakyRelu":
            mn, alpha = steps[0][1]
            ax = chip.alloc(t.p, "fp32", t.dims)
            chip.emit("vec", "vec.muls", ax, x, alpha)
            chip.emit("vec", mn, dst, x, ax)
        elif not steps:  # Clip without bounds
            chip.emit("vec", "vec.copy", dst, x)
        else:
            acc = x
            for mn, v in steps:
                chip.emit("vec", mn, dst, acc, v)
                acc = dst

    elementwise(seg, node, shape, out, [src], body)


# ----------------------------------------------------------------------------- per-channel affine
def _bn_supported(node: Node, graph: Graph, config: CoreConfig) -> str | None:
    if node.attr("training_mode", 0) or len([o for o in node.outputs if o]) > 1:
        return "training-mode BatchNormalization"
    if any(graph.const(i) is None for i in node.inputs[1:5]):
        return "statistics that are not constant"
    if len(graph.values[node.inputs[0]].shape) < 2:
        return "input of rank < 2"
    return tl.float_io(node, graph, config)


def lower_batchnorm(seg: Segment, node: Node) -> None:
    """Inference BatchNormalization as y = x * k + c per channel (k = gamma / sqrt(var + eps),
    c = beta - mean * k, float64 then binary32): vec.mul by k then act.identity with c as the
    per-partition bias, so the layout puts channels on partitions whenever that is cheapest (k and
    c are then one fp32 per partition)."""
    g = seg.graph
    gamma, beta, mean, var = (g.const(i).astype(np.float64) for i in node.inputs[1:5])
    k = gamma / np.sqrt(var + node.attr("epsilon", 1e-5))
    c = beta - mean * k
    shape, out = _out(seg, node)
    cshape = (1, shape[1]) + (1,) * (len(shape) - 2)
    ka = tl.Access(seg.const(k.astype(np.float32), "fp32"), 0, tl.broadcast_strides(cshape, shape), "fp32")
    ca = tl.Access(seg.const(c.astype(np.float32), "fp32"), 0, tl.broadcast_strides(cshape, shape), "fp32")
    x = _source(seg, node.inputs[0], shape)

    def body(chip: Chip, t: tl.Tile, srcs: list[Opnd], dst: Opnd) -> None:
        xs, ks, cs = srcs
        tmp = chip.alloc(t.p, "fp32", t.dims)
        chip.emit("vec", "vec.mul", tmp, xs, ks)
        chip.emit("vec", "vec.add", dst, tmp, cs)

    elementwise(seg, node, shape, out, [x, ka, ca], body, ops=2)


# ------------------------------------------------------------------------------------ layout copies
def _copy_body(chip: Chip, t: tl.Tile, srcs: list[Opnd], dst: Opnd) -> None:
    chip.emit("vec", "vec.cast", dst, srcs[0])


def lower_transpose(seg: Segment, node: Node) -> None:
    """Transpose (any perm): the output's axes in tiles, the input read through permuted strides by
    the load's DRAM pattern (a gather), copied to the output tile by VEC and stored contiguously."""
    g = seg.graph
    xs = g.values[node.inputs[0]].shape
    perm = node.attr("perm") or list(range(len(xs)))[::-1]
    shape, out = _out(seg, node)
    src = _source(seg, node.inputs[0], xs)
    src = tl.Access(src.tensor, 0, tuple(src.strides[p] for p in perm), src.dtype)
    elementwise(seg, node, shape, out, [src], _copy_body)


def lower_concat(seg: Segment, node: Node) -> None:
    """Concat (any axis): each input's axes in tiles, stored into its slice of the output (the output's
    strides at the slice's offset)."""
    g = seg.graph
    shape = g.values[node.outputs[0]].shape
    axis = node.attr("axis") % len(shape)
    t = seg.value_out(node.outputs[0])
    strides = tl.row_major(shape)
    at = 0
    for name in node.inputs:
        if not name:
            continue
        xs = g.values[name].shape
        if math.prod(xs) == 0:
            continue
        elementwise(seg, node, xs, tl.Access(t, at * strides[axis], strides), [_source(seg, name, xs)], _copy_body)
        at += xs[axis]


def _concat_supported(node: Node, graph: Graph, config: CoreConfig) -> str | None:
    return tl.float_io(node, graph, config)


# ------------------------------------------------------------------------------------------ dropout
def dropout_supported(node: Node, graph: Graph, config: CoreConfig) -> str | None:
    """Training-mode Dropout (opset 12+: training_mode true) on the hardware RNG, or why not."""
    if len(node.outputs) > 1 and node.outputs[1]:
        return "Dropout mask output"
    t = graph.const(node.inputs[2])
    if t is None:
        return "training_mode that is not constant"
    if len(node.inputs) > 1 and node.inputs[1] and _scalar(graph, node.inputs[1]) is None:
        return "ratio that is not a constant"
    return tl.float_values(graph, [node.inputs[0], node.outputs[0]])


def dropout_stream(node: Node, graph: Graph) -> tuple[int, int, float]:
    """(seed, Philox offset, ratio) of a training-mode Dropout: the node's seed attribute (0 without
    one) and its position in the graph as the offset, so every Dropout draws an independent stream
    and a run is reproducible; element i of the flat tensor is kept when Philox word (seed, offset,
    i) >= round(ratio * 2^32) (docs/vec.md)."""
    ratio = _scalar(graph, node.inputs[1]) if len(node.inputs) > 1 and node.inputs[1] else 0.5
    offset = next(k for k, n in enumerate(graph.nodes) if n is node)
    return int(node.attr("seed", 0)) & (2 ** 64 - 1), offset, float(ratio)


def lower_dropout(seg: Segment, node: Node) -> None:
    """Training-mode Dropout as vec.dropout with the Philox generator. Layout: the tensor flat, tiles of
    [P, F] consecutive elements; each tile sets the row-stride register to its partition stride and
    base= to its first element, so the logical index of every element is its flat index and the mask
    does not depend on the tiling. The seed and offset are in the listing (a comment before the node)."""
    g = seg.graph
    seed, offset, ratio = dropout_stream(node, g)
    n = g.values[node.inputs[0]].size
    seg.builder.comment(f"{node.name}: dropout p={imm(ratio)}, Philox seed={seed} offset={offset} (element i of the "
                        "flat tensor uses word i)")
    seg.builder.emit("vec", f"vec.rng_seed {seed & 0xFFFFFFFF}, hi={seed >> 32}")
    seg.builder.emit("vec", f"vec.rng_set_offset {offset}")
    x = tl.Access(seg.value_in(node.inputs[0]), 0, (1,))
    out = tl.Access(seg.value_out(node.outputs[0]), 0, (1,))

    def body(chip: Chip, t: tl.Tile, srcs: list[Opnd], dst: Opnd) -> None:
        chip.b.emit("vec", f"vec.rng_set_stride {t.pstrides[1]}")
        chip.emit("vec", "vec.dropout", dst, srcs[0], imm(ratio), extra=f"base={t.offsets[1]}")

    elementwise(seg, node, (n,), out, [x], body)


def _lowerings() -> dict[str, tuple[Callable, Callable]]:
    table: dict[str, tuple[Callable, Callable]] = {op: (_binary_supported, lower_binary) for op in BINARY}
    for op in ("Relu", "Neg", "Gelu", "LeakyRelu", "Clip", *ACT_FUNCS):
        table[op] = (_unary_supported, lower_unary)
    table["BatchNormalization"] = (_bn_supported, lower_batchnorm)
    table["Transpose"] = (_concat_supported, lower_transpose)
    table["Concat"] = (_concat_supported, lower_concat)
    table.update(reduce.LOWERINGS)
    table.update(pool.LOWERINGS)
    return table


LOWERINGS: dict[str, tuple[Callable[[Node, Graph, CoreConfig], str | None], Callable[[Segment, Node], None]]] = \
    _lowerings()
