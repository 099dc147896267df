"""Residency: tensors kept in SBUF between the layers of a core segment (docs/compiler.md, "Residency").

Without it every layer round-trips through DRAM: its lowering stores its output and the next layer's
loads it back. A Conv's output whose only consumer is a plain (not row-spread) Conv of the same
segment, in the same channel tiling, is instead drained by ACT straight into the buffers the consumer
reads: per image and input-channel tile of the consumer, its padded plane [channels, Hp x Wp] (the
border filled with zeros first, as the consumer would). The store and the consumer's loads disappear;
the consumer frees the planes when it is done (the allocator's delayed reuse as for any tile), and
the builder derives the semaphores from the regions as for any other buffer. The arithmetic is the
same instructions on the same values, so results are bit-identical to the spilled program. A conv
on the sparse array (accel.compiler.sparse) reads and drains the same planes and tiles.

Likewise a MatMul/Gemm output read only as the A operand of the next MatMul/Gemm, both with the
rows of the output on partitions (pe.rows_layout): the producer's drain writes each chunk of its
output rows into one SBUF block per block of rows, [rows, K] bf16, and the consumer's PE transposes
read that block where they would have loaded it from DRAM.

And an element-wise node's output (vector.lower_binary / lower_unary: a residual Add, a Relu) read
only by another element-wise node, neither broadcasting: the producer's tiles stay in SBUF (one
bf16 tile per tile of its layout, when they take at most half of the free SBUF; else it spills) and
the consumer runs over the same tiles, reading them where it would have loaded them.

A tensor that is a model output, has another consumer (a host step, a residual Add, two convs) or
does not fit SBUF beside both layers' own buffers spills to DRAM as before.
"""

from __future__ import annotations

import numpy as np

from accel.compiler import pe, vector
from accel.compiler import tiles as tl
from accel.compiler.graph import Graph, Node
from accel.compiler.segment import Flat, Planes, Rows
from accel.config import CoreConfig

BF16 = pe.BF16
MATMULS = ("MatMul", "Gemm")
SLACK = 8192  # bytes per partition left for tiles the estimates below do not count (bias, output rows)


def _tiles(channels: int, size: int) -> tuple[tuple[int, int], ...]:
    return tuple((c0, min(size, channels - c0)) for c0 in range(0, channels, size))


def _conv_bytes(p: dict, config: CoreConfig, spread: pe.Spread | None) -> int:
    """SBUF bytes per partition a conv lowering holds at once (input buffers and weights)."""
    if spread is not None:
        return spread.ny * spread.wq * BF16 + len(spread.groups) * p["cout_g"] * BF16
    tiles = -(-p["cin_g"] // config.pe_rows)
    return tiles * (p["hp"] * p["wp"] * BF16 + p["kh"] * p["kw"] * p["cout_g"] * BF16)


def _flat(node: Node, graph: Graph) -> bool:
    """An element-wise node (vector.lower_binary / lower_unary) whose tensor operands all have its
    output's shape (no broadcasting: every operand row-major over the same axes, so its tiles can be
    another such node's)."""
    if vector.LOWERINGS.get(node.op, (None, None))[1] not in (vector.lower_binary, vector.lower_unary):
        return False
    shape = graph.values[node.outputs[0]].shape
    for k, i in enumerate(node.inputs):
        if not i or (node.op == "Clip" and k > 0):
            continue
        c = graph.const(i)
        if c is not None and c.size == 1 and not (node.op == "Div" and k == 0):
            continue  # an immediate
        if graph.values[i].shape != shape:
            return False
    return True


def _conv_flat(node: Node, graph: Graph, config: CoreConfig, spread: bool) -> Flat | None:
    """A Conv's output [N, C, H, W] read by an element-wise node, kept as one tile per image and tile
    of channels (on partitions) by the whole plane H x W (free): the layout the conv's drain writes,
    given to the element-wise consumer as its tiles.plan. None when the conv's output-channel tiles
    are not the partition chunks (pe_cols != sbuf_partitions and more channels than either), for
    grouped convs, or when the planes do not fit beside both layers' tiles."""
    p = pe.conv_params(node, graph)
    lanes = config.sbuf_partitions
    if p["g"] != 1 or (config.pe_cols != lanes and p["cout"] > min(config.pe_cols, lanes)):
        return None
    n, c, hw = p["n"], p["cout"], p["oh"] * p["ow"]
    plan = _channel_plan(tuple(graph.values[node.outputs[0]].shape))
    held = n * -(-c // lanes) * hw * BF16
    need = held + _conv_bytes(p, config, _spread(p, config, spread)) + hw * (3 * BF16 + 2 * 4)
    return Flat(tuple(graph.values[node.outputs[0]].shape), plan) if need + SLACK <= config.sbuf_partition_bytes \
        else None


def _tile_plan(outer: int, part: int, free: int) -> tl.Plan:
    """A row-major [outer, part, free] tensor as tiles of `part` (on partitions, in chunks of the
    partition count) by the whole `free` axis, one per chunk and outer index."""
    return tl.Plan(((outer, (part * free,)), (part, (free,)), (free, (1,))), 1, (2,), free, (0,))


def _channel_plan(shape: tuple[int, ...]) -> tl.Plan:
    """[N, C, H, W] as tiles of channels (on partitions) by whole planes H x W: the layout a conv's
    drain writes and a 1 x 1 unpadded conv reads."""
    n, c, h, w = shape
    return _tile_plan(n, c, h * w)


def _matmul_flat(node: Node, graph: Graph, config: CoreConfig) -> Flat | None:
    """A MatMul/Gemm output [..., M, N] read by an element-wise node (a transformer's residual Add),
    kept as its rows layout writes it: per batch and block of rows (on partitions) the whole row of N,
    given to the element-wise consumer as its tiles.plan. None when the output is not in the rows
    layout, the row blocks are not the partition chunks, or it does not fit."""
    shape = tuple(graph.values[node.outputs[0]].shape)
    lanes = config.sbuf_partitions
    if len(shape) < 2 or min(config.pe_rows, config.pe_cols) != lanes or _rows(node, graph, config) is None:
        return None
    m, n = shape[-2], shape[-1]
    batch = int(np.prod(shape[:-2], dtype=np.int64)) if len(shape) > 2 else 1
    held = batch * -(-m // lanes) * n * BF16
    if held + n * (3 * BF16 + 2 * 4) + SLACK > config.sbuf_partition_bytes:
        return None
    return Flat(shape, _tile_plan(batch, m, n))


def _shared(node: Node, spread: bool, users: list[tuple[Node, bool]], graph: Graph, config: CoreConfig,
            keep: dict, producer: dict[str, Node]) -> None:
    """Keep a value read by several nodes of the segment (ResNet's block outputs: the next block's
    first conv and the residual Add or the downsample conv) as channel tiles by whole planes
    (`_channel_plan`), when every consumer reads that layout: an element-wise node (whose other kept
    inputs have the same layout) or a plain 1 x 1-like conv (no padding, not spread, one group, its
    input-channel tiles the partition chunks); the producer a Conv (`_conv_flat`) or an element-wise
    node, whose kept inputs then get the same layout (back along a chain of element-wise nodes, as
    long as none has another). The tiles are freed by the last consumer; they take at most an eighth
    of SBUF, as they live across several layers."""
    v = node.outputs[0]
    shape = tuple(graph.values[v].shape)
    lanes = config.sbuf_partitions
    if len(shape) != 4 or not (config.pe_rows == lanes or shape[1] <= min(config.pe_rows, lanes)):
        return
    plan = _channel_plan(shape)
    held = shape[0] * -(-shape[1] // lanes) * -(-shape[2] * shape[3] * BF16 // 64) * 64
    if held * 8 > config.sbuf_partition_bytes:
        return
    for user, user_spread in users:
        if user.inputs.count(v) != 1:
            return
        if _flat(user, graph):
            if any(i in keep and getattr(keep[i], "plan", None) != plan for i in user.inputs if i != v):
                return
            continue
        if user.op != "Conv" or user.inputs[0] != v or user.attr("group", 1) != 1:
            return
        pc = pe.conv_params(user, graph)
        if any((pc["pt"], pc["pl"], pc["pb"], pc["pr"])) or _spread(pc, config, user_spread) is not None:
            return
    if node.op == "Conv":
        lay = _conv_flat(node, graph, config, spread)
        if lay is None or lay.plan != plan:
            return
    elif not _flat(node, graph) or not _reshape(node, plan, keep, producer, graph, check=True):
        return
    else:
        _reshape(node, plan, keep, producer, graph, check=False)
    keep[v] = Flat(shape, plan, last=users[-1][0].name)


def _reshape(node: Node, plan: tl.Plan, keep: dict, producer: dict[str, Node], graph: Graph, check: bool) -> bool:
    """Give element-wise `node`'s kept inputs layout `plan` (and theirs, back along the chain); with
    `check`, only whether that is possible (none has another layout already)."""
    for i in node.inputs:
        lay = keep.get(i)
        if not isinstance(lay, Flat):
            continue
        if lay.plan is not None and lay.plan != plan:
            return False
        src = producer.get(i)
        if lay.plan is None and src is not None and not _reshape(src, plan, keep, producer, graph, check):
            return False
        if not check and lay.plan is None:
            keep[i] = Flat(lay.shape, plan, lay.last)
    return True


def _rows(node: Node, graph: Graph, config: CoreConfig) -> Rows | None:
    """The row blocks of a MatMul/Gemm output [..., M, N] read as the A operand of the next one,
    when both run with rows on partitions (pe.rows_layout: the same M) and the blocks fit beside
    both layers' tiles (A^T tiles of one block, B and output chunks), else None."""
    shape = graph.values[node.outputs[0]].shape
    if len(shape) < 2 or not pe.rows_layout(shape[-2], config):
        return None
    m, n = shape[-2], shape[-1]
    batch = int(np.prod(shape[:-2], dtype=np.int64)) if len(shape) > 2 else 1
    q = min(config.pe_rows, config.pe_cols)
    lay = Rows(batch, m, n, q)
    k_in = graph.values[node.inputs[0]].shape[-1]
    tiles = (-(-k_in // q) + -(-n // q)) * q * BF16 + 3 * (config.psum_bank_bytes // 4) * (BF16 + 4 + 4)
    held = batch * -(-m // q) * lay.block_bytes
    return lay if held + tiles + SLACK <= config.sbuf_partition_bytes else None


def _spread(p: dict, config: CoreConfig, row_spread: bool) -> pe.Spread | None:
    return pe.spread_plan(p, config) if row_spread else None


def layouts(nodes: list[tuple[Node, bool]], graph: Graph, config: CoreConfig, consumers: dict[str, list[str]]
            ) -> dict[str, Planes | Rows | Flat]:
    """The values of one segment to keep in SBUF, with their layout. `nodes`: the segment's core nodes
    in order with their row-spread option; `consumers`: every placed node reading a value (any step)."""
    by_name = {n.name: (n, spread) for n, spread in nodes}
    producer = {n.outputs[0]: n for n, _ in nodes}
    outputs = set(graph.outputs)
    keep: dict[str, Planes | Rows | Flat] = {}
    for node, spread in nodes:
        v = node.outputs[0]
        users = consumers.get(v, [])
        if v in outputs or not users or any(u not in by_name for u in users):
            continue
        if len(users) > 1:
            _shared(node, spread, [by_name[u] for u in users], graph, config, keep, producer)
            continue
        user, user_spread = by_name[users[0]]
        if user.inputs.count(v) != 1:
            continue
        if _flat(user, graph):  # an element-wise consumer: its kept inputs all in one layout
            others = [keep[i] for i in user.inputs if i in keep]
            if _flat(node, graph) and not others:
                keep[v] = Flat(tuple(graph.values[v].shape))  # elementwise() checks it fits when it lowers
            elif node.op == "Conv" or node.op in MATMULS:
                lay = (_conv_flat(node, graph, config, spread) if node.op == "Conv" else
                       _matmul_flat(node, graph, config))
                if lay is not None and all(getattr(o, "plan", None) == lay.plan for o in others):
                    keep[v] = lay
            continue
        if user.inputs[0] != v:
            continue
        if node.op in MATMULS and user.op in MATMULS:
            lay = _rows(node, graph, config)
            if lay is not None:
                keep[v] = lay
            continue
        if node.op != "Conv" or user.op != "Conv" or node.attr("group", 1) != 1 or user.attr("group", 1) != 1:
            continue
        pp, pc = pe.conv_params(node, graph), pe.conv_params(user, graph)
        if _spread(pc, config, user_spread) is not None:  # a spread consumer loads shifted copies
            continue
        tiles = _tiles(pc["cin"], config.pe_rows)
        if _tiles(pp["cout"], config.pe_cols) != tiles:
            continue
        lay = Planes(pc["n"], pc["hp"], pc["wp"], pc["pt"], pc["pl"], tiles,
                     any((pc["pt"], pc["pl"], pc["pb"], pc["pr"])))
        held = lay.n * len(tiles) * lay.plane_bytes
        need = held + _conv_bytes(pp, config, _spread(pp, config, spread)) + _conv_bytes(pc, config, None)
        if need + SLACK <= config.sbuf_partition_bytes:
            keep[v] = lay
    return keep
