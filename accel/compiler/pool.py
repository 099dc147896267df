"""Windowed pooling on VEC: MaxPool and AveragePool (kernel, strides, dilations, pads / auto_pad,
ceil_mode, count_include_pad), 2-D (docs/compiler.md).

Layout: one (image, channel) plane per SBUF partition (N x C planes in chunks of the partition
count), as Conv puts channels on partitions: the padded plane [Hp, Wp] in bf16, its border filled
first from a DRAM constant with partition stride 0 (-inf for MaxPool, so padding never wins; 0 for
AveragePool), then the input plane into its interior. For each chunk of output rows, every kernel
position (i, j) is the plane shifted by (i * dh, j * dw) and strided by (sh, sw), an access pattern
[rows @ sh * Wp, Wo @ sw] on the plane; vec.max (bf16, exact) or vec.add (an fp32 accumulator)
combines them, and AveragePool multiplies by 1/count: an immediate when every window counts the same
elements, else a prepared [Ho, Wo] map of reciprocals (the window clipped to the padded input with
count_include_pad, to the input without it).

When the padded plane does not fit an SBUF partition beside the other tiles, the output rows go in
bands (`_band_rows`): each band holds only the padded input rows its windows read, loaded (and its
border filled) anew, so consecutive bands load the window's overlap twice; AveragePool's reciprocal
map is loaded band by band too. A plane that fits is one band, the program as without tiling.
"""

from __future__ import annotations

import numpy as np

from accel.compiler.graph import Graph, Node
from accel.compiler.pe import conv_pads
from accel.compiler.segment import ACT_DTYPE, Segment
from accel.compiler.tiles import Chip, dram, float_io, free_max, imm
from accel.config import CoreConfig


def _params(node: Node, graph: Graph) -> dict:
    n, c, h, w = graph.values[node.inputs[0]].shape
    oh, ow = graph.values[node.outputs[0]].shape[2:]
    kh, kw = node.attr("kernel_shape")
    sh, sw = node.attr("strides", [1, 1])
    dh, dw = node.attr("dilations", [1, 1])
    pt, pl, pb, pr = conv_pads(node, h, w, kh, kw, sh, sw, dh, dw)
    hp = max(h + pt + pb, (oh - 1) * sh + (kh - 1) * dh + 1)
    wp = max(w + pl + pr, (ow - 1) * sw + (kw - 1) * dw + 1)
    return dict(n=n, c=c, h=h, w=w, oh=oh, ow=ow, kh=kh, kw=kw, sh=sh, sw=sw, dh=dh, dw=dw, pt=pt, pl=pl, pb=pb,
                pr=pr, hp=hp, wp=wp)


def _supported(node: Node, graph: Graph, config: CoreConfig) -> str | None:
    if len([o for o in node.outputs if o]) > 1:
        return "MaxPool Indices output"
    why = float_io(node, graph, config)
    if why:
        return why
    if len(graph.values[node.inputs[0]].shape) != 4:
        return "not a 2-D pooling"
    p = _params(node, graph)
    if p["ow"] > free_max(config):
        return f"an output row of {p['ow']} elements exceeds a tile"
    if _band_rows(p, _uniform(node, p) is None, config) == 0:
        window = (p["kh"] - 1) * p["dh"] + 1
        return (f"the {window} padded rows of {p['wp']} elements one output row's windows read do not fit an SBUF "
                f"partition ({config.sbuf_partition_bytes} bytes) beside the pooling's other tiles")
    return None


def _uniform(node: Node, p: dict) -> float | None:
    """The one element count every window averages over (1 for MaxPool), None when counts differ."""
    if node.op == "MaxPool":
        return 1.0
    counts = _counts(p, bool(node.attr("count_include_pad", 0)))
    return float(counts.flat[0]) if (counts == counts.flat[0]).all() else None


def _band_rows(p: dict, recip: bool, config: CoreConfig) -> int:
    """Output rows per band of the padded input held in SBUF at once: all of them when the whole padded
    plane fits beside the other tiles (the reciprocal map, the row chunks' outputs and accumulators),
    else the most whose padded rows fit three times (the allocator's delayed reuse keeps the band
    before and the one being loaded), with their rows of the reciprocal map; 0 when not one fits."""
    fm, oh, ow, wp = free_max(config), p["oh"], p["ow"], p["wp"]
    room = config.sbuf_partition_bytes - 6 * fm * 4
    if p["hp"] * wp * 2 + (oh * ow * 4 if recip else 0) <= room:
        return oh
    for nb in range(oh, 0, -1):
        bh = (nb - 1) * p["sh"] + (p["kh"] - 1) * p["dh"] + 1
        if 3 * (bh * wp * 2 + (nb * ow * 4 if recip else 0)) <= room:
            return nb
    return 0


def _counts(p: dict, include_pad: bool) -> np.ndarray:
    """Elements each output position's window averages over, [Ho, Wo]."""
    def axis(o: int, s: int, k: int, d: int, before: int, size: int, after: int) -> np.ndarray:
        lo, hi = (-before, size + after) if include_pad else (0, size)
        starts = np.arange(o)[:, None] * s - before + np.arange(k)[None, :] * d
        return ((starts >= lo) & (starts < hi)).sum(axis=1)

    rows = axis(p["oh"], p["sh"], p["kh"], p["dh"], p["pt"], p["h"], p["pb"])
    cols = axis(p["ow"], p["sw"], p["kw"], p["dw"], p["pl"], p["w"], p["pr"])
    return rows[:, None] * cols[None, :]


def lower_pool(seg: Segment, node: Node) -> None:
    """MaxPool / AveragePool: see the module docstring for the layout."""
    c, g = seg.config, seg.graph
    p = _params(node, g)
    is_max = node.op == "MaxPool"
    x = seg.value_in(node.inputs[0])
    y = seg.value_out(node.outputs[0])
    hp, wp, oh, ow, kh, kw = p["hp"], p["wp"], p["oh"], p["ow"], p["kh"], p["kw"]
    h, w, sh, pt = p["h"], p["w"], p["sh"], p["pt"]
    planes = p["n"] * p["c"]
    lanes = min(c.sbuf_partitions, planes)
    padded = (hp, wp) != (h, w)
    uniform = _uniform(node, p)
    band = _band_rows(p, uniform is None, c)
    # the padded rows a band of output rows reads (the window's overlap is loaded again by the next band)
    spans = [(b0, min(band, oh - b0)) for b0 in range(0, oh, band)]
    spans = [(b0, nb, b0 * sh, hp if band == oh else (nb - 1) * sh + (kh - 1) * p["dh"] + 1) for b0, nb in spans]
    fill = seg.const(np.full(max(bh for *_, bh in spans) * wp, -np.inf if is_max else 0.0), "bf16") if padded else None
    consts = Chip(seg, node.name)
    scale: str | None = None
    recip = rt = None
    if not is_max:
        if uniform is not None:
            scale = imm(1.0 / uniform)
        else:
            counts = _counts(p, bool(node.attr("count_include_pad", 0)))
            rt = seg.const((1.0 / counts.astype(np.float64)).astype(np.float32), "fp32")
            if band == oh:
                recip = consts.alloc(lanes, "fp32", [oh * ow])
                consts.load(recip, dram(rt, 0, lanes, 0, [(oh * ow, 1)]))
    rows = max(1, min(oh, free_max(c) // ow))
    positions = [(i, j) for i in range(kh) for j in range(kw)]
    for q0 in range(0, planes, lanes):
        q = min(lanes, planes - q0)
        for b0, nb, y0, bh in spans:  # padded rows y0..y0+bh-1 in SBUF for output rows b0..b0+nb-1
            chip = Chip(seg, node.name)
            plane = chip.alloc(q, ACT_DTYPE, [bh * wp])
            if fill:
                chip.load(plane, dram(fill, 0, q, 0, [(bh * wp, 1)]))
            i0, i1 = max(y0, pt) - pt, min(y0 + bh, pt + h) - pt  # input rows inside the band
            if i1 > i0:
                inner = chip.view(plane, ACT_DTYPE, [(i1 - i0, wp), (w, 1)], at=((i0 + pt - y0) * wp + p["pl"]) * 2)
                chip.load(inner, dram(x, q0 * h * w + i0 * w, q, h * w, [((i1 - i0) * w, 1)]))
            rbase = 0
            if rt is not None and band < oh:  # this band's rows of the reciprocal map
                recip, rbase = chip.alloc(q, "fp32", [nb * ow]), b0
                chip.load(recip, dram(rt, b0 * ow, q, 0, [(nb * ow, 1)]))
            for r0 in range(b0, b0 + nb, rows):
                nr = min(rows, b0 + nb - r0)
                m = nr * ow
                dims = [(nr, sh * wp), (ow, p["sw"])] if nr > 1 else [(ow, p["sw"])]
                wins = [chip.view(plane, ACT_DTYPE, dims, at=((r0 * sh + i * p["dh"] - y0) * wp + j * p["dw"]) * 2)
                        for i, j in positions]
                rc = Chip(seg, node.name)
                out = rc.alloc(q, ACT_DTYPE, [m])
                if is_max:
                    if len(wins) == 1:
                        rc.emit("vec", "vec.copy", out, wins[0])
                    else:
                        rc.emit("vec", "vec.max", out, wins[0], wins[1])
                        for v in wins[2:]:
                            rc.emit("vec", "vec.max", out, out, v)
                else:
                    acc = wins[0]
                    if len(wins) > 1:
                        acc = rc.alloc(q, "fp32", [m])
                        rc.emit("vec", "vec.add", acc, wins[0], wins[1])
                        for v in wins[2:]:
                            rc.emit("vec", "vec.add", acc, acc, v)
                    if recip is None:
                        rc.emit("vec", "vec.muls", out, acc, scale)
                    else:
                        r = rc.view(recip, "fp32", [(m, 1)], q, at=(r0 - rbase) * ow * 4)
                        rc.emit("vec", "vec.mul", out, acc, r)
                rc.store(dram(y, q0 * oh * ow + r0 * ow, q, oh * ow, [(m, 1)]), out)
                rc.release()
            chip.release()
    consts.release()


LOWERINGS = {"MaxPool": (_supported, lower_pool), "AveragePool": (_supported, lower_pool)}
