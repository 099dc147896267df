"""N:M sparse weights at compile time (issue 14 part 4; ../shared/PATENTS.md: US11500962B1,
US20230100930A1; docs/compiler.md, "Sparse weights").

With `Options(sparsity=((2, 4), (4, 8)), sparsity_target=0.5)` (`accel compile --sparsity 2:4,4:8
--target 0.5`) a Conv, Gemm or MatMul with constant weights runs on the sparse array
(`pe.load_sparse` / `pe.matmul_sparse`, docs/sparse.md). Its weights as a matrix W [K, N] (K the
contraction: input channels, kernel position major for a conv; N the output channels or features):

1. `prepare` (at placement): a W that already meets a listed pattern exactly (at most N nonzeros in
   every group of M along K, counted on the bf16 weights the core stores) is kept as it is; else,
   with a target, the mixed-ratio planner (`accel.tools.sparsity.prune_mixed`) prunes it, one pattern
   per output column; without a target it stays unpruned. Then the layer takes the one pattern
   whose lossless decomposition (`sparsity.decompose` of every block the PE holds at once: T = 1
   for a block that meets the pattern, more passes for one that does not) costs the fewest PE
   cycles by the cost model's counts (`_estimate`), and runs dense when no pattern beats the dense
   lowering. A 2:4 column meets 4:8, so a layer pruned to 2:4 and 4:8 columns runs as 4:8 in one
   pass per block.
2. `lower`: the plain conv lowering (pe.lower_conv) or the B-stationary matmul lowering
   (pe.lower_matmul's Y^T layout) with each block's dense `pe.load_weights` + `pe.matmul` replaced
   by `pe.load_sparse` + `pe.matmul_sparse` per decomposed matrix, accumulating in PSUM. A block
   covers (R // N) * M rows of K (256 for 2:4 and 4:8 on 128 rows), so its moving data is J blocks of
   P partitions side by side in SBUF (the ISA's J-block form of pe.matmul_sparse). A conv reads the
   planes residency keeps in SBUF where they are its blocks (`_kept_blocks`) and drains into its
   consumer's kept planes or tiles, through the dense lowering's functions (pe.py).

Numbers: a block sums its products in ascending K order from +0.0, as the dense array sums a tile,
so a layer whose K fits one dense tile gives the dense program's bits; when a block spans J > 1
dense tiles the dense program rounds at each PSUM add between tiles and the sparse one does not:
both are within gamma_n S of the exact sum (n products, S the sum of their magnitudes), so they differ
by at most 2 gamma_n S before the bias (tests/compiler/test_opt_sparse.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from accel.compiler import pe
from accel.compiler.builder import region
from accel.compiler.graph import CompileError, Graph
from accel.compiler.segment import Flat, Planes, Segment
from accel.model import fp
from accel.model.sparse import MAX_M, parse_pattern
from accel.tools import sparsity

BF16 = pe.BF16
FORM = f"N:M[,N:M...] with 1 <= N < M <= {MAX_M}, e.g. 2:4,4:8"


def parse_patterns(text: str) -> tuple[tuple[int, int], ...]:
    """'2:4,4:8' -> ((2, 4), (4, 8)); ValueError naming the allowed form."""
    parts = [t for t in text.split(",") if t.strip()]
    try:
        out = tuple(parse_pattern(t) for t in parts)
    except ValueError:
        out = ()
    if not out:
        raise ValueError(f"{text!r}: expected {FORM}")
    return tuple(dict.fromkeys(out))


def _bits(w: np.ndarray) -> np.ndarray:
    """The bf16 bits (uint16) the core stores for fp32 weights."""
    return fp.fp32_to_bf16(fp.f32_bits(np.asarray(w, np.float32)))


def _passes(k: int, n: int, m: int, config) -> list[tuple[int, int, int, int]] | None:
    """The blocks along K one sparse load holds: (k0, rows of K, J, P) with K rows = J * P moving
    rows on P <= partitions; None when K is not whole groups of M or a block cannot be split so."""
    if k % m:
        return None
    kp = (config.pe_rows // n) * m
    out = []
    for k0 in range(0, k, kp):
        kt = min(kp, k - k0)
        j = -(-kt // config.sbuf_partitions)
        if kt % j or (kt // j) > config.sbuf_partitions:
            return None
        out.append((k0, kt, j, kt // j))
    return out


def _layer(plan, graph: Graph, config) -> tuple[np.ndarray, int, list[int]] | str:
    """(W as [positions, K, N] fp32, stream chunks: the moving vectors of each matmul) of a core
    Conv/Gemm/MatMul, or why its weights cannot run sparse."""
    node = plan.node
    if node.op == "Conv":
        p = pe.conv_params(node, graph)
        if p["g"] != 1:
            return "grouped convolution"
        w = plan.weights  # [cout, cin, kh, kw], BatchNorm folded
        w3 = w.transpose(2, 3, 1, 0).reshape(p["kh"] * p["kw"], p["cin"], p["cout"])
        cr = pe._chunk_rows(p, config)
        chunks = [min(cr, p["oh"] - r0) * p["ow"] for r0 in range(0, p["oh"], cr)] * p["n"]
        return w3, p["hp"] * p["wp"], chunks
    b = graph.const(node.inputs[1])
    if b is not None and node.op == "Gemm" and node.attr("transB", 0):
        b = b.T
    if b is None:
        return "weights are not constant"
    if b.ndim != 2:
        return "batched weights"
    ashape = graph.values[node.inputs[0]].shape
    m_ = ashape[-2]
    if m_ >= pe.ROWS_LAYOUT_MIN and min(config.pe_rows, config.pe_cols) >= 16:
        return f"{m_} rows of A: the rows layout streams the weights (sparse weights must be stationary)"
    batch = int(np.prod(ashape[:-2], dtype=np.int64)) if len(ashape) > 2 else 1
    mc = min(m_, config.psum_bank_bytes // 4)
    chunks = [min(mc, m_ - m0) for m0 in range(0, m_, mc)] * batch
    return np.asarray(b, np.float32)[None], 0, chunks


def _blocks(bits: np.ndarray, n: int, m: int, config) -> list[list[list[list[sparsity.SparseWeights]]]] | None:
    """bits [positions, K, N] -> [pass][position][column tile] -> its decomposed matrices (>= 1)."""
    passes = _passes(bits.shape[1], n, m, config)
    if passes is None:
        return None
    cols = config.pe_cols
    out = []
    for k0, kt, _, _ in passes:
        per_pos = []
        for pos in range(bits.shape[0]):
            tiles = []
            for o0 in range(0, bits.shape[2], cols):
                block = bits[pos, k0:k0 + kt, o0:o0 + cols]
                tiles.append(sparsity.decompose(block, n, m) or [sparsity.compress(block, n, m)])
            per_pos.append(tiles)
        out.append(per_pos)
    return out


def _passes_per_block(bits: np.ndarray, n: int, m: int, config) -> list[tuple[int, int, int]]:
    """(physical rows, decomposed matrices T, columns) of every block `_blocks` would make, from the
    group counts alone (T = ceil(densest group / n), at least 1), without decomposing."""
    nz = (bits & 0x7FFF) != 0
    out = []
    for k0, kt, _, _ in _passes(bits.shape[1], n, m, config):
        counts = nz[:, k0:k0 + kt].reshape(bits.shape[0], kt // m, m, bits.shape[2]).sum(axis=2)  # [pos, G, N]
        for o0 in range(0, bits.shape[2], config.pe_cols):
            worst = counts[:, :, o0:o0 + config.pe_cols].max(axis=(1, 2))  # per position
            cols = min(config.pe_cols, bits.shape[2] - o0)
            out += [((kt // m) * n, max(1, -(-int(c) // n)), cols) for c in worst]
    return out


def _estimate(chunks: list[int], k: int, positions: int, n_out: int, config, blocks=None) -> int:
    """PE cycles by the cost model's counts: per chunk of moving vectors, every matmul streams them
    while the next weights load behind it, so each costs max(vectors, rows loaded). Dense (blocks
    None): a matmul per 128 rows of K, kernel position and column tile; sparse (`_passes_per_block`):
    one per decomposed matrix of every block, G * N rows each."""
    rows, cols = config.pe_rows, config.pe_cols
    if blocks is None:
        loads = [min(rows, k - k0) for k0 in range(0, k, rows)] * positions * -(-n_out // cols)
    else:
        loads = [r for r, t, _ in blocks for _ in range(t)]
    loads_arr = np.asarray(loads, np.int64)
    return int(sum(np.maximum(mv, loads_arr).sum() for mv in chunks))


def prepare(plan, graph: Graph, config, options) -> None:
    """Decide a core Conv/Gemm/MatMul's sparse form (module docstring, step 1): prune its weights
    if asked and needed, pick the pattern by the cost model, and record the decision in
    `plan.sparse` (pattern None: the layer stays dense, with the reason)."""
    check_options(options)
    if dict(options.tuned).get(plan.node.name) == "dense":
        plan.sparse = {"pattern": None, "why": "tuning: dense is faster by simulation"}
        return
    got = _layer(plan, graph, config)
    if isinstance(got, str):
        plan.sparse = {"pattern": None, "why": got}
        return
    w3, _, chunks = got
    positions, k, n_out = w3.shape
    fits = [(n, m) for n, m in options.sparsity if _passes(k, n, m, config) is not None]
    if not fits:
        plan.sparse = {"pattern": None, "why": f"K = {k} is not whole blocks of any of the patterns' groups"}
        return
    bits = _bits(w3)
    meets = [(n, m) for n, m in fits if sparsity.group_counts(bits.reshape(-1, n_out), m).max(initial=0) <= n]
    info: dict[str, Any] = {"pruned": False, "weight_error": 0.0}
    if not meets and options.sparsity_target is not None:
        w2 = w3.reshape(-1, n_out).astype(np.float64)
        res = sparsity.prune_mixed(w2, list(fits), target=options.sparsity_target)
        w3 = res.pruned.reshape(w3.shape).astype(np.float32)
        bits = _bits(w3)
        info.update(pruned=True, weight_error=float(res.error), columns=res.counts, reached=res.reached)
    info["sparsity"] = float((bits & 0x7FFF == 0).mean())
    dense = _estimate(chunks, k, positions, n_out, config)
    best = None
    for n, m in fits:
        blocks = _passes_per_block(bits, n, m, config)
        est = _estimate(chunks, k, positions, n_out, config, blocks)
        if best is None or est < best[0]:
            best = (est, n, m, blocks)
    est, n, m, blocks = best
    passes = max(t for _, t, _ in blocks)
    info.update(estimate=est, dense_estimate=dense, lossless=not info["pruned"], max_passes=passes)
    if est >= dense:  # the weights stay as they are (unpruned)
        plan.sparse = {"pattern": None, "why": f"no pattern beats dense ({est:,} vs {dense:,} estimated PE cycles)",
                       "estimate": est, "dense_estimate": dense}
        return
    room = _room(plan, graph, config, blocks, n, m)
    if room:  # dense, unpruned
        plan.sparse = {"pattern": None, "why": room, "estimate": est, "dense_estimate": dense}
        return
    if plan.node.op != "Conv":  # the dense matmul lowering reads B from the graph: still unpruned
        plan.weights = w3[0]
    else:
        plan.unpruned = plan.weights  # for `lower` to fall back on (not a field: no part of the cache key)
        plan.weights = w3.reshape(plan.weights.shape[2], plan.weights.shape[3], k, n_out).transpose(3, 2, 0, 1)
    plan.sparse = {"pattern": f"{n}:{m}", "n": n, "m": m, **info}


def _room(plan, graph: Graph, config, blocks, n: int, m: int) -> str | None:
    """None when a layer's sparse weights (all of them at once, as _lower_conv and _lower_matmul keep
    them) and a conv's resident input blocks fit an SBUF partition, else why not."""
    weights = sum(t * (cols * BF16 + -(-cols * sparsity.index_bits(m) // 8)) for _, t, cols in blocks)
    planes = 0
    if plan.node.op == "Conv":
        p = pe.conv_params(plan.node, graph)
        passes = _passes(p["cin"], n, m, config)
        planes = sum(j for _, _, j, _ in passes) * p["hp"] * p["wp"] * BF16
    need = planes + weights + 8192  # + bias, streamed rows and output rows, as pe.conv_supported counts
    if need > config.sbuf_partition_bytes:
        what = "input planes and sparse weights" if planes else "sparse weights"
        return f"{what} need {need} bytes per SBUF partition"
    return None


def _consts(seg: Segment, blocks) -> list[dict[str, Any]]:
    """Every pass's values (bf16, as their bytes) and packed index bytes, per (position, column tile,
    matrix) side by side, in one int8 constant of the layer ([rows, bytes]: a pass's values then its
    index, pass after pass); per pass its byte offset and each matrix's (value offset, index offset,
    columns). One tensor per layer, as the dense weights: a program declares at most 256."""
    out, rows = [], []
    for per_pos in blocks:
        vals, idx, at, voff, ioff = [], [], [], 0, 0
        for tiles in per_pos:
            row = []
            for parts in tiles:
                mats = []
                for part in parts:
                    packed = part.packed_index().view(np.int8)
                    vals.append(np.ascontiguousarray(part.values.astype("<u2")).view(np.int8))
                    idx.append(packed)
                    mats.append((voff, ioff, part.cols))
                    voff += part.cols
                    ioff += packed.shape[1]
                row.append(mats)
            at.append(row)
        rows.append(np.concatenate(vals + idx, axis=1))
        out.append({"rows": rows[-1].shape[0], "vcols": voff, "icols": ioff, "at": at})
    height = max(r.shape[0] for r in rows)
    width = sum(r.shape[1] for r in rows)
    data = np.zeros((height, width), np.int8)
    base = 0
    for r, cc in zip(rows, out, strict=True):
        data[:r.shape[0], base:base + r.shape[1]] = r
        cc.update(base=base, nbytes=r.shape[1], width=width)
        base += r.shape[1]
    t = seg.const(data, "int8")
    for cc in out:
        cc["tensor"] = t
    return out


def _load_consts(seg: Segment, c: dict[str, Any], what: str) -> tuple[int, int]:
    """DMA one pass's values and index into SBUF (one transfer of their bytes); their offsets."""
    b, gn, nb = seg.builder, c["rows"], c["nbytes"]
    va = b.sbuf.alloc(nb, f"{what}: sparse values and index")
    b.emit("dma", f"dma.load sb[0:{gn}, {va}]:int8[{nb}], {c['tensor']}({c['base']})[{gn}@{c['width']}, {nb}@1]",
           writes=(region("sb", 0, gn, va, nb),))
    return va, va + c["vcols"] * BF16


def _load_sparse(seg: Segment, c: dict[str, Any], va: int, ia: int, mat: tuple[int, int, int], n: int,
                 m: int) -> None:
    voff, ioff, cols = mat
    gn = c["rows"]
    nb = -(-cols * sparsity.index_bits(m) // 8)
    seg.builder.emit("pe", f"pe.load_sparse sb[0:{gn}, {va + voff * BF16}]:bf16[{cols}], "
                           f"sb[0:{gn}, {ia + ioff}]:int8[{nb}], {n}, {m}",
                     reads=(region("sb", 0, gn, va, c["nbytes"]),))


def lower(plan, seg: Segment, bias: np.ndarray | None = None, alpha: float = 1.0) -> bool:
    """Emit a node prepared with a pattern (plan.sparse) onto the sparse array (a Gemm/MatMul with
    its bias per output feature and alpha); False, emitting nothing, for a node without one, or when
    a tensor residency keeps in SBUF (`seg.keep`) is not in a layout the sparse lowering reads
    (`_kept_blocks`): then the plain lowering runs it, on the unpruned weights, and the decision
    turns dense with the reason."""
    if not (plan.sparse and plan.sparse["pattern"]):
        return False
    node = plan.node
    why = None
    if node.op != "Conv":  # the Y^T layout: residency keeps no operand of it (rows layouts only)
        if any(v in seg.keep for v in (*node.inputs, *node.outputs)):
            why = "its input or output stays resident in SBUF in the rows layout"
    elif node.inputs[0] in seg.resident:
        p = pe.conv_params(node, seg.graph)
        got = _kept_blocks(seg, node.inputs[0], p, _passes(p["cin"], plan.sparse["n"], plan.sparse["m"], seg.config))
        why = got if isinstance(got, str) else None
    if why is not None:  # dense, on the weights as they were
        plan.sparse = {"pattern": None, "why": why}
        if getattr(plan, "unpruned", None) is not None:
            plan.weights = plan.unpruned
        return False
    if node.op == "Conv":
        _lower_conv(plan, seg)
    else:
        _lower_matmul(plan, seg, bias, alpha)
    return True


def _kept_blocks(seg: Segment, value: str, p: dict[str, Any], passes) -> list[list[tuple[int, int]]] | str:
    """A conv input kept in SBUF (residency: the producer drained it into planes, or channel tiles
    by whole planes) read as the sparse lowering's moving data: per image, per block of K channels,
    (SBUF offset of its first plane, bytes from one plane to the next) so that the J planes of P
    channels are one J-block operand of pe.matmul_sparse; why not when the kept tiles are not those
    planes (other channel counts) or not evenly spaced."""
    lay, at = seg.keep[value], seg.resident[value]
    lanes = seg.config.sbuf_partitions
    out = []
    for n in range(p["n"]):
        per = []
        for k0, _, j_, p_ in passes:
            offs = []
            for j in range(j_):
                ch = k0 + j * p_
                if isinstance(lay, Planes):
                    if (ch, p_) not in lay.tiles:
                        return f"its input stays resident in SBUF in tiles other than its blocks' {p_} channels"
                    offs.append(at[lay.index(n, ch)])
                else:
                    if ch % lanes or p_ != min(lanes, p["cin"] - ch):
                        return f"its input stays resident in SBUF in tiles other than its blocks' {p_} channels"
                    offs.append(at[lay.index(n, ch, p["cin"], lanes)])
            step = offs[1] - offs[0] if j_ > 1 else 0
            if step < 0 or any(o != offs[0] + j * step for j, o in enumerate(offs)):
                return "its input stays resident in SBUF in planes that are not evenly spaced"
            per.append((offs[0], step))
        out.append(per)
    return out


def _lower_conv(plan, seg: Segment) -> None:
    """pe.lower_conv's plain path on the sparse array: per block of K channels (J planes of P
    channels side by side, loaded, or the planes residency keeps in SBUF), kernel position and
    decomposed matrix one pe.load_sparse + pe.matmul_sparse into the chunk's PSUM bank, drained as
    pe.lower_conv drains (to DRAM, or into the consumer's kept planes or tiles)."""
    node, act, b, c, graph = plan.node, plan.act, seg.builder, seg.config, seg.graph
    n_, m_ = plan.sparse["n"], plan.sparse["m"]
    p = pe.conv_params(node, graph)
    kh, kw = p["kh"], p["kw"]
    w3 = plan.weights.transpose(2, 3, 1, 0).reshape(kh * kw, p["cin"], p["cout"])
    blocks = _blocks(_bits(w3), n_, m_, c)
    passes = _passes(p["cin"], n_, m_, c)
    consts = _consts(seg, blocks)
    kept = seg.resident.get(node.inputs[0])
    lay_in = seg.keep.get(node.inputs[0])
    held = _kept_blocks(seg, node.inputs[0], p, passes) if kept is not None else None
    frees = kept is None or not isinstance(lay_in, Flat) or lay_in.frees(node.name)  # the last reader frees
    x_t = seg.value_in(node.inputs[0]) if kept is None else ""
    y_t = pe._conv_output(seg, node)
    b_t = seg.const(plan.bias.astype(np.float32), "fp32")
    hp, wp, oh, ow = p["hp"], p["wp"], p["oh"], p["ow"]
    padded = any((p["pt"], p["pl"], p["pb"], p["pr"]))
    zeros_t = seg.const(np.zeros(hp * wp), "bf16") if padded and kept is None else None
    plane_el = hp * wp
    plane = plane_el * BF16
    cr = pe._chunk_rows(p, c)
    notes = {"rows": max(cc["rows"] for cc in consts), "matmuls": 0, "pattern": plan.sparse["pattern"],
             "spread": None, "estimate": plan.sparse["estimate"],
             "dma_bytes": 0 if kept is not None else
             p["n"] * p["cin"] * (p["h"] * p["w"] + (plane_el if padded else 0)) * BF16}
    chunk = 0
    what = f"node {node.name}"
    for n in range(p["n"]):
        bufs = []
        for k, ((k0, _, j_, p_), cc) in enumerate(zip(passes, consts, strict=True)):
            if held is not None:
                xa, step = held[n][k]
            else:
                xa, step = b.sbuf.alloc(j_ * plane, f"{what}: input planes"), plane
                for j in range(j_):
                    pe.load_plane(seg, p, xa + j * plane, x_t, n * p["cin"] + k0 + j * p_, p_, zeros_t)
            bufs.append((xa, step, *_load_consts(seg, cc, what)))
        for oi, o0 in enumerate(range(0, p["cout"], c.pe_cols)):
            ot = min(c.pe_cols, p["cout"] - o0)
            bias_at = pe.load_bias(seg, what, b_t, o0, ot)
            for r0 in range(0, oh, cr):
                nr = min(cr, oh - r0)
                mv = nr * ow
                bank = (chunk % c.psum_banks) * c.psum_bank_bytes
                chunk += 1
                out = region("psum", 0, ot, bank, mv * 4)
                first = True
                for (_, _, j_, p_), cc, (xa, step, va, ia) in zip(passes, consts, bufs, strict=True):
                    for pos in range(kh * kw):
                        i, jj = divmod(pos, kw)
                        e0 = (r0 * p["sh"] + i * p["dh"]) * wp + jj * p["dw"]
                        dims = f"{nr}@{p['sh'] * wp}, {ow}@{p['sw']}" if nr > 1 else f"{ow}@{p['sw']}"
                        if j_ > 1:
                            dims = f"{j_}@{step // BF16}, {dims}"
                        for mat in cc["at"][pos][oi]:
                            _load_sparse(seg, cc, va, ia, mat, n_, m_)
                            b.emit("pe", f"pe.matmul_sparse psum[0:{ot}, {bank}]:fp32[{mv}], "
                                         f"sb[0:{p_}, {xa + e0 * BF16}]:bf16[{dims}], acc={int(not first)}",
                                   reads=(region("sb", 0, p_, xa, (j_ - 1) * step + plane),), writes=(out,))
                            first = False
                            notes["matmuls"] += 1
                pe._conv_out(seg, node, act, y_t, p, (n, o0, ot), (r0, nr), bank, bias_at)
            b.sbuf.free(bias_at, 4)
        for (_, _, j_, _), cc, (xa, step, va, _) in zip(passes, consts, bufs, strict=True):
            if held is None:
                b.sbuf.free(xa, j_ * plane)
            elif frees:  # the kept planes, one by one as they were allocated
                for j in range(j_):
                    b.sbuf.free(xa + j * step, plane)
            b.sbuf.free(va, cc["nbytes"])
    plan.notes = notes


def _lower_matmul(plan, seg: Segment, bias: np.ndarray, alpha: float) -> None:
    """pe.lower_matmul's Y^T layout on the sparse array: B's blocks stationary as decomposed N:M
    matrices, A^T's block of K rows streamed as J transposing loads of P rows side by side."""
    node, act, b, c, graph = plan.node, plan.act, seg.builder, seg.config, seg.graph
    n_, m_ = plan.sparse["n"], plan.sparse["m"]
    w = plan.weights  # [K, N]
    k_, n_out = w.shape
    ashape = graph.values[node.inputs[0]].shape
    rows_a = ashape[-2]
    batch = int(np.prod(ashape[:-2], dtype=np.int64)) if len(ashape) > 2 else 1
    blocks = _blocks(_bits(w[None]), n_, m_, c)
    passes = _passes(k_, n_, m_, c)
    consts = _consts(seg, blocks)
    a_t, y_t = seg.value_in(node.inputs[0]), seg.value_out(node.outputs[0])
    bias_t = seg.const(np.broadcast_to(np.asarray(bias, np.float32), (n_out,)), "fp32")
    mc = min(rows_a, c.psum_bank_bytes // 4)
    what = f"node {node.name}"
    bufs = [_load_consts(seg, cc, what) for cc in consts]
    notes = {"rows": max(cc["rows"] for cc in consts), "matmuls": 0, "pattern": plan.sparse["pattern"],
             "spread": None, "estimate": plan.sparse["estimate"],
             "dma_bytes": batch * rows_a * k_ * BF16 * -(-n_out // c.pe_cols)}
    chunk = 0
    for bi in range(batch):
        a0, y0 = bi * rows_a * k_, bi * rows_a * n_out
        for oi, n0 in enumerate(range(0, n_out, c.pe_cols)):
            nt = min(c.pe_cols, n_out - n0)
            bias_at = pe.load_bias(seg, what, bias_t, n0, nt)
            for m0 in range(0, rows_a, mc):
                mt = min(mc, rows_a - m0)
                bank = (chunk % c.psum_banks) * c.psum_bank_bytes
                chunk += 1
                out = region("psum", 0, nt, bank, mt * 4)
                first = True
                for (k0, _, j_, p_), cc, (va, ia) in zip(passes, consts, bufs, strict=True):
                    xa = b.sbuf.alloc(j_ * mt * BF16, f"{what}: A^T blocks")
                    for j in range(j_):
                        pe.load_at(seg, xa + j * mt * BF16, a_t, a0 + m0 * k_ + k0 + j * p_, p_, mt, k_)
                    for mat in cc["at"][0][oi]:
                        _load_sparse(seg, cc, va, ia, mat, n_, m_)
                        b.emit("pe", f"pe.matmul_sparse psum[0:{nt}, {bank}]:fp32[{mt}], "
                                     f"sb[0:{p_}, {xa}]:bf16[{j_ * mt}], acc={int(not first)}",
                               reads=(region("sb", 0, p_, xa, j_ * mt * BF16),), writes=(out,))
                        first = False
                        notes["matmuls"] += 1
                    b.sbuf.free(xa, j_ * mt * BF16)
                pe.store_cols(seg, what, act, y_t, (nt, mt), bank, bias_at, y0 + m0 * n_out + n0, n_out, alpha)
            b.sbuf.free(bias_at, 4)
    for cc, (va, _) in zip(consts, bufs, strict=True):
        b.sbuf.free(va, cc["nbytes"])
    plan.notes = notes


def check_options(options) -> None:
    """CompileError naming the field unless Options.sparsity is N:M pairs and the target a fraction."""
    for pat in options.sparsity:
        if not (isinstance(pat, tuple) and len(pat) == 2 and all(isinstance(v, int) for v in pat)
                and 1 <= pat[0] < pat[1] <= MAX_M):
            raise CompileError(f"Options.sparsity {options.sparsity!r}: expected (N, M) pairs with 1 <= N < M <= "
                               f"{MAX_M}, e.g. ((2, 4), (4, 8))")
    t = options.sparsity_target
    if t is not None and not (isinstance(t, int | float) and 0 <= t <= 1):
        raise CompileError(f"Options.sparsity_target {t!r}: expected a fraction of zero weights in 0..1")


def compare(model, run, dense_model, dense_run, reference=None) -> dict[str, Any]:
    """A sparse compile's run beside the dense compile's on the same inputs (runs with
    keep_values=True): per layer with a decision, its pattern, cycles sparse and dense (the layer
    report's cycles), the rms relative error of its output against the dense model's output (the
    errors of the pruned layers before it included; None for an output that stayed resident in SBUF
    and so has no value to read) and the weights' relative error; the network's total cycles and
    speed-up. `reference`: the run whose values are the dense outputs (default `dense_run`; with
    residency, a dense run without it, whose values are the same bits and all in DRAM)."""
    ref = reference if reference is not None else dense_run
    def cycles(m, r) -> dict[str, int]:
        return {row["node"].split(" (+")[0]: row["cycles"] for row in m.layer_report(r) if row["where"] == "core"}

    sc, dc = cycles(model, run), cycles(dense_model, dense_run)
    layers = []
    for p in model.placements:
        if not p.sparse:
            continue
        name, out = p.node.name, p.node.outputs[0]
        ys, yd = run.values.get(out), ref.values.get(out)
        err = None
        if ys is not None and yd is not None:
            d64 = yd.astype(np.float64)
            norm = float(np.sqrt((d64 ** 2).mean())) or 1.0
            err = float(np.sqrt(((ys.astype(np.float64) - d64) ** 2).mean())) / norm
        layers.append({"node": name, "op": p.node.op, "pattern": p.sparse["pattern"], "why": p.sparse.get("why"),
                       "pruned": p.sparse.get("pruned", False), "weight_error": p.sparse.get("weight_error", 0.0),
                       "cycles": sc.get(name), "dense_cycles": dc.get(name), "output_error": err})
    total, dense = run.total_cycles, dense_run.total_cycles
    return {"total_cycles": total, "dense_cycles": dense, "speedup": dense / total if total else None,
            "layers": layers}
