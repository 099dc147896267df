"""Lowerings onto the PE array: convolutions and matrix products (docs/compiler.md).

Convolution (any kernel, stride, padding, dilation, groups), channels on partitions: the padded input
of a group's input-channel tile sits in SBUF as [channels, rows x columns]; each kernel position
(kh, kw) is one matmul whose stationary operand is W[:, :, kh, kw] ([input channels, output
channels]) and whose moving operand is the input shifted by (kh, kw) and strided, read by an access
pattern; the positions and input-channel tiles accumulate in one PSUM bank per chunk of output rows,
and ACT drains the bank with the bias (and a fused activation) to SBUF as bf16, which DMA stores.

Gemm / MatMul: Y^T[N, M] = B^T A^T: B's [K tile, N tile] is stationary, A^T's [K tile, M chunk]
streams (a transposing DMA of A), K tiles accumulate in PSUM, ACT drains with the bias per output
feature (a partition), and a transposing DMA store writes Y[M, N].
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from accel.compiler.builder import region
from accel.compiler.graph import CompileError, Graph, Node
from accel.compiler.segment import Flat, Planes, Rows, Segment
from accel.timing.dma import descriptors

BF16 = 2  # bytes
STREAMED = "streamed per output-channel tile"  # lower_conv's notes["weights"] when it streams them


def _drain(seg: Segment, act: str | None, dst: str, src: str, bias: str, reads, writes, alpha: float = 1.0) -> None:
    """ACT: dst = act(alpha * src + bias) (fp32 PSUM to bf16 SBUF)."""
    scale = "" if alpha == 1.0 else f", scale={alpha!r}"
    if act is None:
        text = f"act.identity {dst}, {src}{scale}, bias={bias}"
    elif act == "relu":
        text = f"act.relu {dst}, {src}{scale}, bias={bias}"
    else:
        text = f"act.func {dst}, {src}, fn={act}{scale}, bias={bias}"
    seg.builder.emit("act", text, reads, writes)


def load_bias(seg: Segment, what: str, b_t: str, c0: int, count: int) -> int:
    """DMA `count` fp32 biases from element c0 of DRAM tensor b_t, one per partition, into a new SBUF
    column (the drain's bias operand); its offset."""
    at = seg.builder.sbuf.alloc(4, f"{what}: bias")
    seg.builder.emit("dma", f"dma.load sb[0:{count}, {at}]:fp32[1], {b_t}({c0})[{count}@1, 1@1]",
                     writes=(region("sb", 0, count, at, 4),))
    return at


def load_plane(seg: Segment, p: dict[str, Any], at: int, x_t: str, ch: int, kt: int, zeros_t: str | None) -> None:
    """DMA the padded input plane [kt channels from flat channel ch of x_t, Hp x Wp] of a conv (params
    `p`) to SBUF offset `at`: the zeros of the border first (zeros_t, when the conv pads), then the
    H x W data at row pt, column pl."""
    b, hp, wp, hw = seg.builder, p["hp"], p["wp"], p["h"] * p["w"]
    plane = region("sb", 0, kt, at, hp * wp * BF16)
    if zeros_t:
        b.emit("dma", f"dma.load sb[0:{kt}, {at}]:bf16[{hp * wp}], {zeros_t}(0)[{kt}@0, {hp * wp}@1]", writes=(plane,))
    inner = at + (p["pt"] * wp + p["pl"]) * BF16
    b.emit("dma", f"dma.load sb[0:{kt}, {inner}]:bf16[{p['h']}@{wp}, {p['w']}@1], "
                  f"{x_t}({ch * hw})[{kt}@{hw}, {hw}@1]", writes=(plane,))


def load_at(seg: Segment, at: int, a_t: str, a0: int, kt: int, mt: int, k_: int) -> None:
    """A transposing DMA of A [mt rows, K = k_] from element a0 of DRAM tensor a_t: A^T's [kt, mt]
    tile (kt contraction rows on partitions) at SBUF offset `at`."""
    seg.builder.emit("dma", f"dma.load sb[0:{kt}, {at}]:bf16[{mt}], {a_t}({a0})[{kt}@1, {mt}@{k_}]",
                     writes=(region("sb", 0, kt, at, mt * BF16),))


def store_cols(seg: Segment, what: str, act: str | None, y_t: str, tile: tuple[int, int], bank: int, bias_at: int,
               y0: int, n_: int, alpha: float = 1.0) -> None:
    """Drain a Y^T chunk [nt features, mt rows] of PSUM `bank` through ACT (alpha, the bias column,
    the activation) to bf16 rows of SBUF and store them transposed into Y [.., n_] from element y0."""
    b, (nt, mt) = seg.builder, tile
    ya = b.sbuf.alloc(mt * BF16, f"{what}: output")
    dst = f"sb[0:{nt}, {ya}]:bf16[{mt}]"
    _drain(seg, act, dst, f"psum[0:{nt}, {bank}]:fp32[{mt}]", f"sb[0:{nt}, {bias_at}]:fp32[1]",
           (region("psum", 0, nt, bank, mt * 4), region("sb", 0, nt, bias_at, 4)),
           (region("sb", 0, nt, ya, mt * BF16),), alpha)
    b.emit("dma", f"dma.store {y_t}({y0})[{nt}@1, {mt}@{n_}], {dst}", reads=(region("sb", 0, nt, ya, mt * BF16),))
    b.sbuf.free(ya, mt * BF16)


def conv_pads(node: Node, h: int, w: int, kh: int, kw: int, sh: int, sw: int, dh: int, dw: int) -> list[int]:
    """[top, left, bottom, right] from pads or auto_pad."""
    auto = node.attr("auto_pad", "NOTSET")
    if auto in ("NOTSET", ""):
        p = list(node.attr("pads", [0, 0, 0, 0]))
        return [p[0], p[1], p[2], p[3]]
    if auto == "VALID":
        return [0, 0, 0, 0]
    out = []
    for size, k, s, d in ((h, kh, sh, dh), (w, kw, sw, dw)):
        o = -(-size // s)
        total = max(0, (o - 1) * s + (k - 1) * d + 1 - size)
        out.append((total // 2, total - total // 2) if auto == "SAME_UPPER" else (total - total // 2, total // 2))
    return [out[0][0], out[1][0], out[0][1], out[1][1]]


def conv_params(node: Node, graph: Graph) -> dict[str, Any]:
    x = graph.values[node.inputs[0]].shape
    w = graph.values[node.inputs[1]].shape
    if len(x) != 4:
        raise CompileError(f"node {node.name} (Conv): {len(x) - 2}-D convolution; the core lowers 2-D")
    n, cin, h, wd = x
    cout, cin_g, kh, kw = w
    g = node.attr("group", 1)
    sh, sw = node.attr("strides", [1, 1])
    dh, dw = node.attr("dilations", [1, 1])
    pt, pl, pb, pr = conv_pads(node, h, wd, kh, kw, sh, sw, dh, dw)
    oh = (h + pt + pb - dh * (kh - 1) - 1) // sh + 1
    ow = (wd + pl + pr - dw * (kw - 1) - 1) // sw + 1
    return dict(n=n, cin=cin, h=h, w=wd, cout=cout, cin_g=cin_g, cout_g=cout // g, kh=kh, kw=kw, g=g, sh=sh,
                sw=sw, dh=dh, dw=dw, pt=pt, pl=pl, pb=pb, pr=pr, oh=oh, ow=ow, hp=h + pt + pb, wp=wd + pl + pr)


def conv_supported(node: Node, graph: Graph, config) -> str | None:
    """None if the core can run this Conv, else why not."""
    if graph.const(node.inputs[1]) is None:
        return "weights are not constant"
    if len(graph.values[node.inputs[0]].shape) != 4:
        return "not a 2-D convolution"
    p = conv_params(node, graph)
    if p["ow"] > config.psum_bank_bytes // 4:
        return f"an output row of {p['ow']} elements exceeds a PSUM bank"
    need = p["hp"] * p["wp"] * BF16 + p["kh"] * p["kw"] * min(p["cout_g"], config.pe_cols) * BF16 + 8192
    if need > config.sbuf_partition_bytes:
        return f"padded input plane and weights need {need} bytes per SBUF partition"
    return None


def lower_conv(seg: Segment, node: Node, act: str | None, weights: np.ndarray, bias: np.ndarray,
               spread: bool = True, tile: int | None = None) -> dict[str, Any]:
    """A Conv (weights [Cout, Cin/g, KH, KW] and bias [Cout] already folded with any BatchNorm); with
    `spread`, row spreading when it is estimated faster (`spread_plan`, decided at the default tile).
    `tile`: the most output elements one matmul writes into its PSUM bank (tuning's tile, whole
    output rows; None: a whole bank). Returns the lowering's notes for the report: PE rows per
    matmul, matmuls and DMA bytes, spread and plain side by side, and whether the weights stream."""
    b, c, graph = seg.builder, seg.config, seg.graph
    p = conv_params(node, graph)
    plan = spread_plan(p, c) if spread else None
    if plan is not None and tile is not None:  # the plan's matmuls at the tile's chunks of rows
        before = -(-p["oh"] // _chunk_rows(p, c))
        p["tile"] = tile
        plan = replace(plan, matmuls=plan.matmuls // before * -(-p["oh"] // _chunk_rows(p, c)))
    p["tile"] = tile
    plain = _plain_cost(p, c)
    notes: dict[str, Any] = {"rows": min(p["cin_g"], c.pe_rows), "matmuls": plain.matmuls,
                             "dma_bytes": plain.dma_bytes, "estimate": plain.estimate, "spread": None}
    if plan is not None:
        if node.inputs[0] in seg.resident:  # pragma: no cover - resident.layouts keeps no input of a spread conv
            raise CompileError(f"node {node.name} (Conv): a row-spread conv cannot read a tensor kept in SBUF")
        _lower_conv_spread(seg, node, act, weights, bias, p, plan)
        notes.update(plain={k: notes[k] for k in ("rows", "matmuls", "dma_bytes", "estimate")},
                     rows=plan.rows, matmuls=plan.matmuls, dma_bytes=plan.dma_bytes, estimate=plan.estimate,
                     spread=f"{plan.ah}x{plan.bw} filter elements x {p['cin_g']} channels")
        return notes
    kept = seg.resident.get(node.inputs[0])  # the input planes, drained into SBUF by the producer
    lay_in = seg.keep.get(node.inputs[0])
    frees = kept is None or not isinstance(lay_in, Flat) or lay_in.frees(node.name)  # the last reader frees
    x_t = seg.value_in(node.inputs[0]) if kept is None else ""
    y_t = _conv_output(seg, node)
    hp, wp, oh, ow, kh, kw = p["hp"], p["wp"], p["oh"], p["ow"], p["kh"], p["kw"]
    cin_g, cout_g = p["cin_g"], p["cout_g"]
    rows, cols = c.pe_rows, c.pe_cols
    chunk_rows = _chunk_rows(p, c)
    bank_bytes = c.psum_bank_bytes
    plane = hp * wp * BF16
    kk = kh * kw
    stream = _weights_streamed(node, b.sbuf, -(-cin_g // rows), plane if kept is None else 0, p, (rows, cols),
                               chunk_rows * ow * BF16)
    notes["weights"] = STREAMED if stream else "resident"
    # prepared constants: W as [g, cin_g, kh, kw, cout_g] (streamed: [g, output-channel tile, cin_g, kh, kw,
    # its channels], so a tile's weights of one input channel are contiguous) and the bias as a column
    w5 = weights.reshape(p["g"], cout_g, cin_g, kh, kw).transpose(0, 2, 3, 4, 1)
    w_t = seg.const(np.concatenate([w5[..., o0:o0 + cols].reshape(p["g"], -1) for o0 in range(0, cout_g, cols)], 1)
                    if stream else w5, "bf16")
    b_t = seg.const(bias.astype(np.float32), "fp32")
    padded = any((p["pt"], p["pl"], p["pb"], p["pr"]))
    zeros_t = seg.const(np.zeros(hp * wp), "bf16") if padded else None
    for n in range(p["n"]):
        for g in range(p["g"]):
            cin_tiles = [(k0, min(rows, cin_g - k0)) for k0 in range(0, cin_g, rows)]
            x_at, w_at = [], []
            for k0, kt in cin_tiles:  # the group's input channels k0.. (and all their weights), resident
                if kept is not None:
                    x_at.append(kept[lay_in.index(n, g * cin_g + k0) if isinstance(lay_in, Planes) else
                                     lay_in.index(n, k0, p["cin"], c.sbuf_partitions)])
                else:
                    x_at.append(b.sbuf.alloc(plane, f"node {node.name}: input plane"))
                    load_plane(seg, p, x_at[-1], x_t, n * p["cin"] + g * cin_g + k0, kt, zeros_t)
                if not stream:
                    w_at.append(_load_weights(seg, node, w_t, (g * cin_g + k0) * kk * cout_g, kt, kk * cout_g))
            chunk = 0
            for o0 in range(0, cout_g, cols):
                ot = min(cols, cout_g - o0)
                co = g * cout_g + o0
                if stream:  # this output-channel tile's weights of every input-channel tile
                    w_at = [_load_weights(seg, node, w_t, (g * cin_g * cout_g + cin_g * o0 + k0 * ot) * kk, kt, kk * ot)
                            for k0, kt in cin_tiles]
                pitch, w0 = (ot, 0) if stream else (cout_g, o0)  # a weight tile's row pitch, first column
                bias_at = load_bias(seg, f"node {node.name}", b_t, co, ot)
                for r0 in range(0, oh, chunk_rows):
                    nr = min(chunk_rows, oh - r0)
                    m = nr * ow
                    bank = (chunk % c.psum_banks) * bank_bytes
                    chunk += 1
                    out = region("psum", 0, ot, bank, m * 4)
                    steps = [(t, i, j) for t in range(len(cin_tiles)) for i in range(kh) for j in range(kw)]
                    for s_i, (t, i, j) in enumerate(steps):
                        kt = cin_tiles[t][1]
                        wo = w_at[t] + ((i * kw + j) * pitch + w0) * BF16
                        b.emit("pe", f"pe.load_weights sb[0:{kt}, {wo}]:bf16[{ot}]",
                               reads=(region("sb", 0, kt, w_at[t], kk * pitch * BF16),))
                        e0 = (r0 * p["sh"] + i * p["dh"]) * wp + j * p["dw"]
                        dims = f"{nr}@{p['sh'] * wp}, {ow}@{p['sw']}" if nr > 1 else f"{ow}@{p['sw']}"
                        b.emit("pe", f"pe.matmul psum[0:{ot}, {bank}]:fp32[{m}], "
                                     f"sb[0:{kt}, {x_at[t] + e0 * BF16}]:bf16[{dims}], acc={int(s_i > 0)}",
                               reads=(region("sb", 0, kt, x_at[t], plane),), writes=(out,))
                    _conv_out(seg, node, act, y_t, p, (n, co, ot), (r0, nr), bank, bias_at)
                b.sbuf.free(bias_at, 4)
                if stream:  # this tile's weights
                    for wa in w_at:
                        b.sbuf.free(wa, kk * ot * BF16)
            for t, xa in enumerate(x_at):  # each tile's plane, then its weights (resident), in turn
                if frees:
                    b.sbuf.free(xa, plane)
                if not stream:
                    b.sbuf.free(w_at[t], kk * cout_g * BF16)
    return notes


def _load_weights(seg: Segment, node: Node, w_t: str, e0: int, kt: int, count: int) -> int:
    """DMA a conv's weight tile to a new SBUF range: kt input channels (partitions), each `count`
    contiguous elements of w_t from element e0 on ([kh kw, output channels]); its offset."""
    at = seg.builder.sbuf.alloc(count * BF16, f"node {node.name}: weights")
    seg.builder.emit("dma", f"dma.load sb[0:{kt}, {at}]:bf16[{count}], {w_t}({e0})[{kt}@{count}, {count}@1]",
                     writes=(region("sb", 0, kt, at, count * BF16),))
    return at


def _weights_streamed(node: Node, sbuf, tiles: int, plane: int, p: dict[str, Any], pe: tuple[int, int],
                      out_rows: int) -> bool:
    """Whether lower_conv streams the weights: it keeps every input-channel tile's padded plane (unless
    the input is kept in SBUF) and, when they fit beside them (with the bias and output rows, double
    buffered), the weights for all output channels; else each output-channel tile's weights in turn.
    When even the planes and one output-channel tile's weights exceed a partition, no allocation order
    can fit them: say so (the node, what it holds, the limit) rather than name whichever allocation
    happened to fail."""
    up = sbuf.aligned
    rows, cols = pe
    kk = p["kh"] * p["kw"]
    whole = tiles * (up(plane) + up(kk * p["cout_g"] * BF16))
    if whole + 3 * (up(4) + up(out_rows)) <= sbuf.room():
        return False
    ot = min(cols, p["cout_g"])
    held = tiles * (up(plane) + up(kk * ot * BF16))
    if held > sbuf.size:
        what = f"its padded input plane ({plane} bytes) and " if plane else ""
        raise CompileError(f"node {node.name} (Conv): each of its {tiles} input-channel tiles ({rows} PE rows) "
                           f"keeps {what}its weights for {ot} output channels ({p['kh']}x{p['kw']}: "
                           f"{kk * ot * BF16} bytes, streamed a tile of {cols} PE columns at a time) in SBUF at "
                           f"once: {held} bytes per partition, more than sbuf_partition_bytes = {sbuf.size}")
    return True


def _conv_output(seg: Segment, node: Node) -> str | Planes | Flat:
    """Where a conv's output goes: a new DRAM tensor, or (accel.compiler.resident) the SBUF planes its
    consumer conv reads, allocated now, their border zero-filled first when the consumer pads, or the
    [channels, H x W] tiles an element-wise consumer reads."""
    v = node.outputs[0]
    lay = seg.keep.get(v)
    b = seg.builder
    if lay is None:
        return seg.value_out(v)
    what = f"node {node.name}: output kept in SBUF"
    if isinstance(lay, Flat):
        p = conv_params(node, seg.graph)
        tiles = -(-p["cout"] // seg.config.sbuf_partitions) * p["n"]
        return lay if seg.hold(v, [p["oh"] * p["ow"] * BF16] * tiles, what) is not None else seg.value_out(v)
    assert isinstance(lay, Planes)
    offsets = seg.hold(v, [lay.plane_bytes] * (lay.n * len(lay.tiles)), what)
    if offsets is None:
        return seg.value_out(v)
    if lay.padded:
        hw = lay.hp * lay.wp
        zeros = seg.const(np.zeros(hw), "bf16")
        for at, (_, ct) in zip(offsets, lay.tiles * lay.n, strict=True):
            b.emit("dma", f"dma.load sb[0:{ct}, {at}]:bf16[{hw}], {zeros}(0)[{ct}@0, {hw}@1]",
                   writes=(region("sb", 0, ct, at, lay.plane_bytes),))
    return lay


def _conv_out(seg: Segment, node: Node, act: str | None, y: str | Planes | Flat, p: dict[str, Any],
              tile: tuple[int, int, int], rows: tuple[int, int], bank: int, bias_at: int) -> None:
    """Drain one PSUM chunk (output channels co..co+ot of image n, output rows r0..r0+nr-1) through ACT
    (bias, activation) to bf16: into rows of SBUF and a DMA store to DRAM tensor `y`, or straight into
    the kept planes at the consumer's padding offset, or into the kept [channels, H x W] tile."""
    b = seg.builder
    (n, co, ot), (r0, nr) = tile, rows
    oh, ow = p["oh"], p["ow"]
    m = nr * ow
    src, bias = f"psum[0:{ot}, {bank}]:fp32[{m}]", f"sb[0:{ot}, {bias_at}]:fp32[1]"
    reads = (region("psum", 0, ot, bank, m * 4), region("sb", 0, ot, bias_at, 4))
    if isinstance(y, Flat):  # tile (image n, channels co..) of the element-wise consumer's layout
        lanes = seg.config.sbuf_partitions
        at = seg.resident[node.outputs[0]][n * -(-p["cout"] // lanes) + co // lanes]
        _drain(seg, act, f"sb[0:{ot}, {at + r0 * ow * BF16}]:bf16[{m}]", src, bias, reads,
               (region("sb", 0, ot, at, oh * ow * BF16),))
        return
    if isinstance(y, Planes):
        at = seg.resident[node.outputs[0]][y.index(n, co)]
        e0 = at + ((y.pt + r0) * y.wp + y.pl) * BF16
        dims = f"{nr}@{y.wp}, {ow}@1" if nr > 1 and y.wp != ow else f"{m}"
        _drain(seg, act, f"sb[0:{ot}, {e0}]:bf16[{dims}]", src, bias, reads,
               (region("sb", 0, ot, at, y.plane_bytes),))
        return
    ya = b.sbuf.alloc(m * BF16, f"node {node.name}: output rows")
    _drain(seg, act, f"sb[0:{ot}, {ya}]:bf16[{m}]", src, bias, reads, (region("sb", 0, ot, ya, m * BF16),))
    y0 = (n * p["cout"] + co) * oh * ow + r0 * ow
    b.emit("dma", f"dma.store {y}({y0})[{ot}@{oh * ow}, {m}@1], sb[0:{ot}, {ya}]:bf16[{m}]",
           reads=(region("sb", 0, ot, ya, m * BF16),))
    b.sbuf.free(ya, m * BF16)


# Row spreading (../shared/PATENTS.md: US11741350B2, US20230359876A1) is tried for a Conv whose input
# channels fill at most this many of the PE rows (a fraction of pe_rows): below it the array idles.
SPREAD_MAX_FILL = 0.5
SPREAD_BANDS = 8  # the copies load in this many bands of rows, so the matmuls start on the first
RUN_MAX = 32768  # elements per zero-fill descriptor (a pattern dim holds up to 65535)


@dataclass(frozen=True)
class ConvCost:
    """What a conv lowering costs by the cost model's counts: matmuls, PE rows per matmul, DRAM bytes
    and beats of its input loads, and the estimated cycles (PE stream and DMA, overlapped or not)."""

    rows: int
    matmuls: int
    dma_bytes: int
    dma_beats: int
    pe_cycles: int
    estimate: int


@dataclass(frozen=True)
class Spread:
    """A row-spreading plan. Block k = a bw + b (a < ah, b < bw) is a copy of the group's input
    channels on partitions [k cin, (k + 1) cin), shifted by (a dh, b dw) pixels and with every u-th
    input row: block[y, x] = padded[y u + a dh, x + b dw], row pitch wq, ny rows. Group (i0, j0) is
    one matmul over the blocks its kernel elements (i0 + a, j0 + b) use (a prefix of the blocks),
    reading every block at row i0 dh / u, column j0 dw, with the conv's strides."""

    ah: int
    bw: int
    u: int
    ny: int
    wq: int
    groups: tuple[tuple[int, int], ...]
    rows: int
    matmuls: int
    dma_bytes: int
    estimate: int

    def used(self, i0: int, j0: int, kh: int, kw: int) -> int:
        """Blocks group (i0, j0) uses: those whose element lies inside the kernel (a prefix)."""
        return min(self.ah, kh - i0) * min(self.bw, kw - j0)


def _chunk_rows(p: dict[str, Any], config) -> int:
    """Output rows per matmul: as many whole rows as p["tile"] elements (a PSUM bank when unset) hold."""
    return max(1, min(p["oh"], (p.get("tile") or config.psum_bank_bytes // 4) // p["ow"]))


def _beats(pcount: int, dims: tuple[tuple[int, int], ...], config) -> tuple[int, int]:
    """(beats, bytes) of a bf16 transfer of `pcount` partitions with these DRAM dims."""
    count, run = descriptors(dims)
    return pcount * count * -(-run * BF16 // config.dma_bytes_per_cycle), pcount * count * run * BF16


def _plain_cost(p: dict[str, Any], config) -> ConvCost:
    """The cost of lower_conv's plain path: a whole padded plane loaded, then kh kw matmuls a chunk."""
    cin, rows = p["cin_g"], config.pe_rows
    padded = any((p["pt"], p["pl"], p["pb"], p["pr"]))
    beats = bytes_ = 0
    for k0 in range(0, cin, rows):
        kt = min(rows, cin - k0)
        if padded:
            be, by = _beats(kt, ((p["hp"] * p["wp"], 1),), config)
            beats, bytes_ = beats + be, bytes_ + by
        be, by = _beats(kt, ((p["h"] * p["w"], 1),), config)
        beats, bytes_ = beats + be, bytes_ + by
    cr = _chunk_rows(p, config)
    chunks, otiles = -(-p["oh"] // cr), -(-p["cout_g"] // config.pe_cols)
    mm = chunks * otiles * p["kh"] * p["kw"] * -(-cin // rows)
    pe_ = mm * max(cr * p["ow"], min(cin, rows))
    return ConvCost(min(cin, rows), mm * p["g"] * p["n"], bytes_ * p["g"] * p["n"], beats, pe_,
                    (beats + pe_) * p["g"] * p["n"])


def _copies(p: dict[str, Any], s: Spread, y0: int, y1: int):
    """The transfers that fill rows y0..y1-1 of every block: (partition of the block, SBUF element
    offset in the buffer, SBUF dims, True for input data (else zeros), DRAM element offset within
    the group's channels, DRAM dims). Data where the shifted pixel lies in the input, zeros over
    the padding (runs of the flat buffer between the data rectangle's rows)."""
    cin, wq, u, dh, dw = p["cin_g"], s.wq, s.u, p["dh"], p["dw"]
    for a in range(s.ah):
        for bb in range(s.bw):
            part = (a * s.bw + bb) * cin
            ylo = max(y0, -(-(p["pt"] - a * dh) // u))
            yhi = min(y1, (p["pt"] + p["h"] - 1 - a * dh) // u + 1)
            xlo, xhi = max(0, p["pl"] - bb * dw), min(wq, p["pl"] + p["w"] - bb * dw)
            zeros = []  # (first flat element, count, length, pitch)
            if ylo >= yhi or xlo >= xhi:
                zeros.append((y0 * wq, 1, (y1 - y0) * wq, 0))
            else:
                zeros.append((y0 * wq, 1, ylo * wq + xlo - y0 * wq, 0))
                if yhi - ylo > 1 and wq - xhi + xlo > 0:
                    zeros.append((ylo * wq + xhi, yhi - ylo - 1, wq - xhi + xlo, wq))
                zeros.append(((yhi - 1) * wq + xhi, 1, y1 * wq - (yhi - 1) * wq - xhi, 0))
                nrow, ncol = yhi - ylo, xhi - xlo
                src = (ylo * u + a * dh - p["pt"]) * p["w"] + xlo + bb * dw - p["pl"]
                sdims = ((nrow, wq), (ncol, 1)) if nrow > 1 else ((ncol, 1),)
                ddims = ((nrow, u * p["w"]), (ncol, 1)) if nrow > 1 else ((ncol, 1),)
                yield part, ylo * wq + xlo, sdims, True, src, ddims
            for first, count, length, pitch in zeros:
                if length <= 0:
                    continue
                if count > 1:
                    yield part, first, ((count, pitch), (length, 1)), False, 0, ((count, 0), (length, 1))
                    continue
                for k in range(0, length, RUN_MAX):
                    n = min(RUN_MAX, length - k)
                    yield part, first + k, ((n, 1),), False, 0, ((n, 1),)


def spread_plan(p: dict[str, Any], config) -> Spread | None:
    """The fastest row-spreading plan of a conv by the cost model's counts, None when none beats the
    plain lowering (or the input channels fill more than SPREAD_MAX_FILL of the rows, or the kernel
    has one element). Blocks are a rectangle of whole kernel rows (ah x kw) or part of one row
    (1 x bw), so every group's blocks are a prefix and no weight is padded with zeros."""
    cin, kh, kw, rows = p["cin_g"], p["kh"], p["kw"], config.pe_rows
    if kh * kw == 1 or cin > rows * SPREAD_MAX_FILL:
        return None
    plain = _plain_cost(p, config)
    cr = _chunk_rows(p, config)
    chunks, otiles = -(-p["oh"] // cr), -(-p["cout_g"] // config.pe_cols)
    m = cr * p["ow"]
    shapes = [(ah, kw) for ah in range(1, kh + 1) if ah * kw * cin <= rows]
    shapes += [(1, bw) for bw in range(2, kw) if bw * cin <= rows]
    best = None
    for ah, bw in shapes:
        if ah * bw == 1:
            continue
        i0s, j0s = range(0, kh, ah), range(0, kw, bw)
        u = p["sh"] if all(i * p["dh"] % p["sh"] == 0 for i in i0s) else 1
        ny = (p["oh"] - 1) * (p["sh"] // u) + i0s[-1] * p["dh"] // u + 1
        wq = (p["ow"] - 1) * p["sw"] + j0s[-1] * p["dw"] + 1
        groups = tuple((i0, j0) for i0 in i0s for j0 in j0s)
        if ny * wq * BF16 + len(groups) * min(p["cout_g"], config.pe_cols * otiles) * BF16 + 16384 > \
                config.sbuf_partition_bytes:
            continue
        s = Spread(ah, bw, u, ny, wq, groups, 0, 0, 0, 0)
        beats = bytes_ = 0
        for _, _, _, _, _, ddims in _copies(p, s, 0, ny):
            be, by = _beats(cin, ddims, config)
            beats, bytes_ = beats + be, bytes_ + by
        used = [s.used(i0, j0, kh, kw) * cin for i0, j0 in groups]
        pe_ = chunks * otiles * sum(max(m, k) for k in used)
        est = max(pe_, beats) + min(pe_, beats) // SPREAD_BANDS  # the bands overlap loads with matmuls
        if best is None or est < best.estimate:
            best = Spread(ah, bw, u, ny, wq, groups, max(used), chunks * otiles * len(groups) * p["g"] * p["n"],
                          bytes_ * p["g"] * p["n"], est * p["g"] * p["n"])
    return best if best is not None and best.estimate < plain.estimate else None


def _load_band(b, p: dict[str, Any], s: Spread, band: tuple[int, int, str, str | None], y0: int, y1: int) -> None:
    """The DMA loads filling rows y0..y1-1 of every block (`_copies`) into the buffer at SBUF offset
    xa, from the input tensor x_t's group channels at element ch0 and the zeros tensor."""
    ch0, xa, x_t, zeros_t = band
    cin = p["cin_g"]
    for part, off, sdims, data, src, ddims in _copies(p, s, y0, y1):
        dims = ", ".join(f"{nn}@{st}" for nn, st in sdims)
        head = f"{x_t}({ch0 + src})[{cin}@{p['h'] * p['w']}, " if data else f"{zeros_t}(0)[{cin}@0, "
        dram = head + ", ".join(f"{nn}@{st}" for nn, st in ddims) + "]"
        last = off + sum((nn - 1) * st for nn, st in sdims)
        b.emit("dma", f"dma.load sb[{part}:{part + cin}, {xa + off * BF16}]:bf16[{dims}], {dram}",
               writes=(region("sb", part, cin, xa + off * BF16, (last - off + 1) * BF16),))


def _lower_conv_spread(seg: Segment, node: Node, act: str | None, weights: np.ndarray, bias: np.ndarray,
                       p: dict[str, Any], s: Spread) -> None:
    """A Conv spread over the PE rows (plan `s`): per image and group, the blocks (shifted copies of
    the input) load band by band into one resident buffer, one band ahead of the matmuls; each chunk
    of output rows is one matmul per kernel group and output-channel tile, accumulated in a bank."""
    b, c = seg.builder, seg.config
    cin, cout_g, kh, kw, oh, ow = p["cin_g"], p["cout_g"], p["kh"], p["kw"], p["oh"], p["ow"]
    cols, wq, ny, rho = c.pe_cols, s.wq, s.ny, p["sh"] // s.u
    nblk = s.ah * s.bw
    ng = len(s.groups)
    # prepared constants: per group g, W as [block, channel] x [kernel group, output channel]
    wsp = np.zeros((p["g"], nblk * cin, ng * cout_g), np.float32)
    wg = weights.reshape(p["g"], cout_g, cin, kh, kw)
    for q, (i0, j0) in enumerate(s.groups):
        for a in range(min(s.ah, kh - i0)):
            for bb in range(min(s.bw, kw - j0)):
                k = a * s.bw + bb
                wsp[:, k * cin:(k + 1) * cin, q * cout_g:(q + 1) * cout_g] = \
                    wg[:, :, :, i0 + a, j0 + bb].transpose(0, 2, 1)
    w_t = seg.const(wsp, "bf16")
    b_t = seg.const(bias.astype(np.float32), "fp32")
    zlen = max((dims[-1][0] for *_, data, _, dims in _copies(p, s, 0, ny) if not data), default=0)
    zeros_t = seg.const(np.zeros(zlen), "bf16") if zlen else None
    x_t = seg.value_in(node.inputs[0])
    y_t = _conv_output(seg, node)
    cr = _chunk_rows(p, c)
    chunks = [(r0, min(cr, oh - r0)) for r0 in range(0, oh, cr)]
    per_band = -(-len(chunks) // SPREAD_BANDS)
    bands = [chunks[k:k + per_band] for k in range(0, len(chunks), per_band)]
    tmax = max(i0 for i0, _ in s.groups) * p["dh"] // s.u
    ends = [min(ny, (band[-1][0] + band[-1][1] - 1) * rho + tmax + 1) for band in bands]
    otiles = [(o0, min(cols, cout_g - o0)) for o0 in range(0, cout_g, cols)]
    buf_bytes, wcols = ny * wq * BF16, ng * cout_g
    chunk = 0
    for n in range(p["n"]):
        for g in range(p["g"]):
            ch0 = (n * p["cin"] + g * cin) * p["h"] * p["w"]
            xa = b.sbuf.alloc(buf_bytes, f"node {node.name}: spread input copies")
            wa = b.sbuf.alloc(wcols * BF16, f"node {node.name}: spread weights")
            b.emit("dma", f"dma.load sb[0:{nblk * cin}, {wa}]:bf16[{wcols}], "
                          f"{w_t}({g * nblk * cin * wcols})[{nblk * cin}@{wcols}, {wcols}@1]",
                   writes=(region("sb", 0, nblk * cin, wa, wcols * BF16),))
            biases = []
            for o0, ot in otiles:
                biases.append(load_bias(seg, f"node {node.name}", b_t, g * cout_g + o0, ot))

            band = (ch0, xa, x_t, zeros_t)
            _load_band(b, p, s, band, 0, ends[0])
            for k, rows in enumerate(bands):
                if k + 1 < len(bands):
                    _load_band(b, p, s, band, ends[k], ends[k + 1])
                for r0, nr in rows:
                    m = nr * ow
                    lo = r0 * rho * wq * BF16
                    hi = min(ny * wq, ((r0 + nr - 1) * rho + tmax + 1) * wq) * BF16
                    for (o0, ot), bias_at in zip(otiles, biases, strict=True):
                        bank = (chunk % c.psum_banks) * c.psum_bank_bytes
                        chunk += 1
                        out = region("psum", 0, ot, bank, m * 4)
                        for q, (i0, j0) in enumerate(s.groups):
                            kt = s.used(i0, j0, kh, kw) * cin
                            b.emit("pe", f"pe.load_weights sb[0:{kt}, {wa + (q * cout_g + o0) * BF16}]:bf16[{ot}]",
                                   reads=(region("sb", 0, kt, wa, wcols * BF16),))
                            e0 = (r0 * rho + i0 * p["dh"] // s.u) * wq + j0 * p["dw"]
                            dims = f"{nr}@{rho * wq}, {ow}@{p['sw']}" if nr > 1 else f"{ow}@{p['sw']}"
                            b.emit("pe", f"pe.matmul psum[0:{ot}, {bank}]:fp32[{m}], "
                                         f"sb[0:{kt}, {xa + e0 * BF16}]:bf16[{dims}], acc={int(q > 0)}",
                                   reads=(region("sb", 0, kt, xa + lo, hi - lo),), writes=(out,))
                        _conv_out(seg, node, act, y_t, p, (n, g * cout_g + o0, ot), (r0, nr), bank, bias_at)
            for at in biases:
                b.sbuf.free(at, 4)
            b.sbuf.free(xa, buf_bytes)
            b.sbuf.free(wa, wcols * BF16)


def matmul_supported(node: Node, graph: Graph, config) -> str | None:
    a, bshape = graph.values[node.inputs[0]].shape, graph.values[node.inputs[1]].shape
    if len(a) < 2 or len(bshape) < 2:
        return "a matrix-vector product of 1-D operands"
    if len(bshape) > 2 and tuple(a[:-2]) != tuple(bshape[:-2]):
        return "broadcast batch dimensions"
    return None


# From this many rows of A on, a MatMul runs with the rows of Y on partitions (A^T stationary, made by PE
# transposes of contiguous blocks of A; B streams; Y stored row by row) instead of Y^T (B stationary,
# A^T by a transposing DMA that moves one element per beat, Y^T stored element by element).
ROWS_LAYOUT_MIN = 64


def rows_layout(m: int, config) -> bool:
    """Whether a MatMul with M rows of A runs with the rows of Y on partitions (`_matmul_rows`)."""
    return m >= ROWS_LAYOUT_MIN and min(config.pe_rows, config.pe_cols) >= 16


def _matmul_output(seg: Segment, node: Node) -> str | Rows:
    """Where a MatMul's output goes: a new DRAM tensor, or (accel.compiler.resident) the SBUF row
    blocks its consumer reads, as its A operand or as an element-wise node's tiles (the same bytes:
    per batch and block of rows, the whole rows), allocated now."""
    v = node.outputs[0]
    lay = seg.keep.get(v)
    if lay is None:
        return seg.value_out(v)
    if isinstance(lay, Flat):
        shape = lay.shape
        lay = Rows(int(np.prod(shape[:-2], dtype=np.int64)) if len(shape) > 2 else 1, shape[-2], shape[-1],
                   seg.config.sbuf_partitions)
    assert isinstance(lay, Rows)
    n = lay.batch * -(-lay.m // lay.q)
    if seg.hold(v, [lay.block_bytes] * n, f"node {node.name}: output kept in SBUF") is None:
        return seg.value_out(v)
    return lay


def _identity(seg: Segment) -> int:
    """SBUF offset of a bf16 identity [q, q] (q = the PE array's smaller side), loaded once per segment."""
    if seg.identity_at is None:
        b, c = seg.builder, seg.config
        q = min(c.pe_rows, c.pe_cols)
        t = seg.const(np.eye(q, dtype=np.float32), "bf16")
        at = b.sbuf.alloc(q * BF16, "identity for PE transposes")
        b.emit("dma", f"dma.load sb[0:{q}, {at}]:bf16[{q}], {t}(0)[{q}@{q}, {q}@1]",
               writes=(region("sb", 0, q, at, q * BF16),))
        seg.identity_at = at
    return seg.identity_at


def _matmul_rows(seg: Segment, node: Node, act: str | None, a_t: str, b_t: str, y_t: str | Rows, bias_t: str,
                 bias: np.ndarray, dims: tuple[int, int, int, int], b_batched: bool, alpha: float,
                 tile: int | None = None) -> None:
    """Y[M, N] with M on partitions: for each block of <= q rows of A, A^T tiles [K tile, rows] by PE
    transposes (A block [rows, K tile] stationary, the identity streamed: out[k, m] = A[m, k], exact
    for finite values, drained to bf16 by ACT), then per chunk of N (one PSUM bank) B's [K tile, chunk]
    streams through each A^T tile, accumulating; the drain scales (alpha), adds the bias row (VEC, a
    row broadcast to every partition by a partition-stride-0 DMA) and applies the activation."""
    b, c = seg.builder, seg.config
    batch, m_, k_, n_ = dims
    q = min(c.pe_rows, c.pe_cols)
    kept, a_lay = seg.resident.get(node.inputs[0]), seg.keep.get(node.inputs[0])
    ident = _identity(seg)
    nc_max = min(tile or c.psum_bank_bytes // 4, c.psum_bank_bytes // 4)
    k_tiles = [(k0, min(q, k_ - k0)) for k0 in range(0, k_, q)]
    has_bias = bool(np.any(bias))
    chunk = 0

    def bank() -> int:
        nonlocal chunk
        chunk += 1
        return ((chunk - 1) % c.psum_banks) * c.psum_bank_bytes

    for bi in range(batch):
        a0, b0, y0 = bi * m_ * k_, (bi * k_ * n_ if b_batched else 0), bi * m_ * n_
        for m0 in range(0, m_, q):
            mb = min(q, m_ - m0)
            at_tiles = []
            if kept is not None:  # the rows of A, drained into SBUF by the producer
                base = kept[a_lay.index(bi, m0)]
            for k0, kt in k_tiles:  # A^T [kt, mb] for this row block
                if kept is not None:
                    blk, blk_r = base + k0 * BF16, region("sb", 0, mb, base, a_lay.block_bytes)
                else:
                    blk = b.sbuf.alloc(kt * BF16, f"node {node.name}: A block")
                    blk_r = region("sb", 0, mb, blk, kt * BF16)
                    b.emit("dma", f"dma.load sb[0:{mb}, {blk}]:bf16[{kt}], "
                                  f"{a_t}({a0 + m0 * k_ + k0})[{mb}@{k_}, {kt}@1]", writes=(blk_r,))
                b.emit("pe", f"pe.load_weights sb[0:{mb}, {blk}]:bf16[{kt}]", reads=(blk_r,))
                tb = bank()
                tr = region("psum", 0, kt, tb, mb * 4)
                b.emit("pe", f"pe.matmul psum[0:{kt}, {tb}]:fp32[{mb}], sb[0:{mb}, {ident}]:bf16[{mb}]",
                       reads=(region("sb", 0, mb, ident, q * BF16),), writes=(tr,))
                if kept is None:
                    b.sbuf.free(blk, kt * BF16)
                att = b.sbuf.alloc(mb * BF16, f"node {node.name}: A^T tile")
                b.emit("act", f"act.identity sb[0:{kt}, {att}]:bf16[{mb}], psum[0:{kt}, {tb}]:fp32[{mb}]",
                       reads=(tr,), writes=(region("sb", 0, kt, att, mb * BF16),))
                at_tiles.append(att)
            if kept is not None:
                b.sbuf.free(base, a_lay.block_bytes)
            for n0 in range(0, n_, nc_max):
                nc = min(nc_max, n_ - n0)
                ob = bank()
                out = region("psum", 0, mb, ob, nc * 4)
                for t, (k0, kt) in enumerate(k_tiles):
                    bt = b.sbuf.alloc(nc * BF16, f"node {node.name}: B tile")
                    bt_r = region("sb", 0, kt, bt, nc * BF16)
                    b.emit("dma", f"dma.load sb[0:{kt}, {bt}]:bf16[{nc}], "
                                  f"{b_t}({b0 + k0 * n_ + n0})[{kt}@{n_}, {nc}@1]", writes=(bt_r,))
                    b.emit("pe", f"pe.load_weights sb[0:{kt}, {at_tiles[t]}]:bf16[{mb}]",
                           reads=(region("sb", 0, kt, at_tiles[t], mb * BF16),))
                    b.emit("pe", f"pe.matmul psum[0:{mb}, {ob}]:fp32[{nc}], sb[0:{kt}, {bt}]:bf16[{nc}], "
                                 f"acc={int(t > 0)}", reads=(bt_r,), writes=(out,))
                    b.sbuf.free(bt, nc * BF16)
                if isinstance(y_t, Rows):  # into the row block its consumer reads
                    ya = seg.resident[node.outputs[0]][y_t.index(bi, m0)]
                    y_ap, y_r = f"sb[0:{mb}, {ya + n0 * BF16}]:bf16[{nc}]", region("sb", 0, mb, ya, y_t.block_bytes)
                else:
                    ya = b.sbuf.alloc(nc * BF16, f"node {node.name}: output rows")
                    y_ap, y_r = f"sb[0:{mb}, {ya}]:bf16[{nc}]", region("sb", 0, mb, ya, nc * BF16)
                src, src_r, temps = f"psum[0:{mb}, {ob}]:fp32[{nc}]", out, []
                if alpha != 1.0 or (has_bias and act is not None):
                    tmp = b.sbuf.alloc(nc * 4, f"node {node.name}: fp32 rows")
                    temps.append(tmp)
                if alpha != 1.0:
                    tap = f"sb[0:{mb}, {temps[0]}]:fp32[{nc}]"
                    tr_ = region("sb", 0, mb, temps[0], nc * 4)
                    b.emit("act", f"act.identity {tap}, {src}, scale={alpha!r}", reads=(src_r,), writes=(tr_,))
                    src, src_r = tap, tr_
                if has_bias:
                    ba = b.sbuf.alloc(nc * 4, f"node {node.name}: bias rows")
                    br = region("sb", 0, mb, ba, nc * 4)
                    b.emit("dma", f"dma.load sb[0:{mb}, {ba}]:fp32[{nc}], {bias_t}({n0})[{mb}@0, {nc}@1]", writes=(br,))
                    if act is None:
                        dst, dst_r = y_ap, y_r
                    else:
                        dst, dst_r = f"sb[0:{mb}, {temps[0]}]:fp32[{nc}]", region("sb", 0, mb, temps[0], nc * 4)
                    b.emit("vec", f"vec.add {dst}, {src}, sb[0:{mb}, {ba}]:fp32[{nc}]", reads=(src_r, br),
                           writes=(dst_r,))
                    b.sbuf.free(ba, nc * 4)
                    src, src_r = dst, dst_r
                if src != y_ap:
                    _drain(seg, act, y_ap, src, "0.0", (src_r,), (y_r,))
                if not isinstance(y_t, Rows):
                    b.emit("dma", f"dma.store {y_t}({y0 + m0 * n_ + n0})[{mb}@{n_}, {nc}@1], {y_ap}", reads=(y_r,))
                    b.sbuf.free(ya, nc * BF16)
                for tmp in temps:
                    b.sbuf.free(tmp, nc * 4)
            for att in at_tiles:
                b.sbuf.free(att, mb * BF16)


def lower_matmul(seg: Segment, node: Node, act: str | None, a_name: str, b_name: str | None,
                 b_const: np.ndarray | None, bias: np.ndarray, alpha: float = 1.0, layout: str | None = None,
                 tile: int | None = None) -> None:
    """Y[..., M, N] = act(alpha * A[..., M, K] B[..., K, N] + bias[N]); B from the graph or constant.
    `layout` "rows" / "cols" overrides `rows_layout` (accel.compiler.tune's choice); an operand or
    output kept in SBUF keeps the rows layout residency chose it for. `tile`: the most elements one
    matmul writes into its PSUM bank (tuning's tile: N columns in the rows layout, M rows in the
    columns layout; None: a whole bank)."""
    b, c, graph = seg.builder, seg.config, seg.graph
    ashape = graph.values[a_name].shape
    m_, k_ = ashape[-2], ashape[-1]
    batch = int(np.prod(ashape[:-2], dtype=np.int64)) if len(ashape) > 2 else 1
    if b_const is not None:
        n_ = b_const.shape[-1]
        b_t = seg.const(b_const, "bf16")
        b_batched = b_const.ndim > 2
    else:
        bshape = graph.values[b_name].shape
        n_ = bshape[-1]
        b_t = seg.value_in(b_name)
        b_batched = len(bshape) > 2
    a_t = seg.value_in(a_name) if a_name not in seg.resident else ""
    y_t = _matmul_output(seg, node)
    bias_t = seg.const(np.broadcast_to(np.asarray(bias, np.float32), (n_,)), "fp32")
    rows, cols = c.pe_rows, c.pe_cols
    use_rows = rows_layout(m_, c) if layout is None else layout == "rows"
    if use_rows or a_name in seg.resident or isinstance(y_t, Rows):
        _matmul_rows(seg, node, act, a_t, b_t, y_t, bias_t, bias, (batch, m_, k_, n_), b_batched, alpha, tile)
        return
    mc = min(m_, tile or c.psum_bank_bytes // 4, c.psum_bank_bytes // 4)
    k_tiles = [(k0, min(rows, k_ - k0)) for k0 in range(0, k_, rows)]
    chunk = 0
    for bi in range(batch):
        a0, b0, y0 = bi * m_ * k_, (bi * k_ * n_ if b_batched else 0), bi * m_ * n_
        for n0 in range(0, n_, cols):
            nt = min(cols, n_ - n0)
            bias_at = load_bias(seg, f"node {node.name}", bias_t, n0, nt)
            w_at = []
            for k0, kt in k_tiles:  # B's [K tile, N tile], stationary
                wa = b.sbuf.alloc(nt * BF16, f"node {node.name}: weights")
                b.emit("dma", f"dma.load sb[0:{kt}, {wa}]:bf16[{nt}], {b_t}({b0 + k0 * n_ + n0})[{kt}@{n_}, {nt}@1]",
                       writes=(region("sb", 0, kt, wa, nt * BF16),))
                w_at.append(wa)
            for m0 in range(0, m_, mc):
                mt = min(mc, m_ - m0)
                bank = (chunk % c.psum_banks) * c.psum_bank_bytes
                chunk += 1
                out = region("psum", 0, nt, bank, mt * 4)
                for t, (k0, kt) in enumerate(k_tiles):
                    xa = b.sbuf.alloc(mt * BF16, f"node {node.name}: A^T tile")
                    load_at(seg, xa, a_t, a0 + m0 * k_ + k0, kt, mt, k_)
                    b.emit("pe", f"pe.load_weights sb[0:{kt}, {w_at[t]}]:bf16[{nt}]",
                           reads=(region("sb", 0, kt, w_at[t], nt * BF16),))
                    b.emit("pe", f"pe.matmul psum[0:{nt}, {bank}]:fp32[{mt}], sb[0:{kt}, {xa}]:bf16[{mt}], "
                                 f"acc={int(t > 0)}", reads=(region("sb", 0, kt, xa, mt * BF16),), writes=(out,))
                    b.sbuf.free(xa, mt * BF16)
                store_cols(seg, f"node {node.name}", act, y_t, (nt, mt), bank, bias_at, y0 + m0 * n_ + n0, n_, alpha)
            for wa in w_at:
                b.sbuf.free(wa, nt * BF16)
            b.sbuf.free(bias_at, 4)
