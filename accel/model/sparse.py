"""The sparse systolic multiplier: n:m compressed stationary weights (whole-tile model).

The sparse array is the PE array of docs/pe_array.md with, in every PE, a position index next
to the weight and an m:1 multiplexer in front of the multiplier (docs/sparse.md). Physical row
r = g * n + j holds slot j of group g: its weight values[r, c] and index[r, c]. The moving data
of group g (m consecutive rows of X) travels along rows g*n .. g*n+n-1 and PE(r, c) multiplies
its weight with x[g * m + index[r, c]]. So out[c, mv] = sum over r = 0..G*n-1, in row order, of
values[r, c] * x[(r // n) * m + index[r, c], mv]:

* int8: products and sums in wrapping int32;
* bf16: each product exact in binary32 (fp.bf16_mul), summed from +0.0 in physical row order
  with binary32 round-to-nearest-even adds (fp.add); PSUM accumulate is one more add.

With the ascending slot order of accel.tools.sparsity.compress this equals the dense array's result on
the decompressed weights: int8 always, bf16 whenever X is finite (a skipped zero weight's product
+-0 never changes a sum that starts at +0.0; with inf or NaN in X the dense array's 0 * inf = NaN
differs).

Cycles: a sparse load of G groups writes G * n physical rows, one per cycle, and a sparse matmul
streams like a dense matmul with K = G * n, so both go through the core's PETimeline unchanged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from accel.model import fp, primitive, semantics
from accel.model.pe_array import PERun, PETimeline, accumulate

# ------------------------------------------------------------------------------ the compressed format

MAX_M = 16


def parse_pattern(text: str) -> tuple[int, int]:
    """'2:4' -> (2, 4); 1 <= n < m <= 16."""
    a, sep, b = text.strip().partition(":")
    try:
        n, m = int(a), int(b)
    except ValueError:
        n = m = 0
    if not sep or not 1 <= n < m <= MAX_M:
        raise ValueError(f"pattern {text!r}: expected N:M with 1 <= N < M <= {MAX_M}, e.g. 2:4")
    return n, m


def index_bits(m: int) -> int:
    """Bits of one position index: ceil(log2 m) (1 for m = 2)."""
    return max(1, math.ceil(math.log2(m)))


def pack_index(index: np.ndarray, m: int) -> np.ndarray:
    """Indices [rows, N] -> packed bytes [rows, ceil(N * b / 8)] (layout in the module docstring)."""
    b = index_bits(m)
    rows, cols = index.shape
    bits = (index.astype(np.uint16)[:, :, None] >> np.arange(b)) & 1  # [rows, N, b], lsb first
    flat = bits.reshape(rows, cols * b).astype(np.uint8)
    nbytes = -(-cols * b // 8)
    flat = np.concatenate([flat, np.zeros((rows, nbytes * 8 - cols * b), np.uint8)], axis=1)
    return np.packbits(flat.reshape(rows, nbytes, 8), axis=2, bitorder="little").reshape(rows, nbytes)


def unpack_index(packed: np.ndarray, cols: int, m: int) -> np.ndarray:
    """Packed bytes [rows, >= ceil(N * b / 8)] -> indices [rows, N] (uint8)."""
    b = index_bits(m)
    bits = np.unpackbits(np.asarray(packed).view(np.uint8), axis=1, bitorder="little")[:, :cols * b]
    return (bits.reshape(-1, cols, b).astype(np.uint8) << np.arange(b, dtype=np.uint8)).sum(axis=2).astype(np.uint8)


def select(index: np.ndarray, x: np.ndarray, n: int, m: int) -> np.ndarray:
    """The multiplexers: [rows, N, Mv], entry (r, c) = x[(r // n) * m + index[r, c]]."""
    rows = (np.arange(index.shape[0]) // n * m)[:, None] + index.astype(np.int64)
    return x[rows]


def moving_rows(src: np.ndarray, mv: int) -> np.ndarray:
    """pe.matmul_sparse's src [P, J*M'] (J blocks side by side) -> X [J*P, M'] (X[j*P + p] = src[p, j*M':...])."""
    p = src.shape[0]
    return src.reshape(p, -1, mv).transpose(1, 0, 2).reshape(-1, mv)


def matmul_sparse_int8(values: np.ndarray, index: np.ndarray, x: np.ndarray, n: int, m: int) -> np.ndarray:
    """int8 values/index [G*n, N], X [G*m, Mv] -> int32 [N, Mv], wrapping."""
    xs = select(index, x, n, m).astype(np.int64)
    exact = (values.astype(np.int64)[:, :, None] * xs).sum(axis=0)
    return exact.astype(np.int32)  # the low 32 bits: two's-complement wrap


def matmul_sparse_bf16(values: np.ndarray, index: np.ndarray, x: np.ndarray, n: int, m: int) -> np.ndarray:
    """bf16 bits values [G*n, N], X [G*m, Mv] -> binary32 bits [N, Mv], summed in physical row order."""
    xs = select(index, x, n, m)
    acc = np.zeros((values.shape[1], x.shape[1]), dtype=np.uint32)  # +0.0 enters the top row
    for r in range(values.shape[0]):
        acc = fp.add(acc, fp.bf16_mul(values[r][:, None], xs[r]))
    return acc


@primitive("matmul_sparse")
def matmul_sparse(values: np.ndarray, index: np.ndarray, x: np.ndarray, n: int, m: int) -> np.ndarray:
    """int8 or bf16 (uint16 bits) by the values' dtype."""
    if values.dtype == np.int8:
        return matmul_sparse_int8(values, index, x, n, m)
    return matmul_sparse_bf16(values, index, x, n, m)


@dataclass(frozen=True)
class LoadSparse:
    """pe.load_sparse: values and unpacked indices [G*n, N] of an n:m matrix."""

    values: np.ndarray
    index: np.ndarray
    n: int
    m: int


@dataclass(frozen=True)
class MatmulSparse:
    """pe.matmul_sparse: stream X [G*m, Mv] into PSUM partitions 0..N-1, columns dst..dst+Mv-1."""

    x: np.ndarray
    dst: int = 0
    acc: bool = False


def run_ops(ops: list[LoadSparse | MatmulSparse], rows: int, cols: int, psum: np.ndarray) -> PERun:
    """Apply sparse PE operations in order to a copy of `psum`; cycles from PETimeline(rows, cols)."""
    psum = psum.copy()
    timeline = PETimeline(rows, cols)
    spans = []
    w: LoadSparse | None = None
    for op in ops:
        if isinstance(op, LoadSparse):
            w = op
            spans.append(timeline.load(*op.values.shape))
            continue
        if w is None:
            raise ValueError("sparse matmul before any sparse weights were loaded")
        k, n = w.values.shape
        spans.append(timeline.matmul(k, n, op.x.shape[1]))
        out = matmul_sparse(w.values, w.index, op.x, w.n, w.m)
        dst = psum[:n, op.dst:op.dst + op.x.shape[1]]
        dtype = "int32" if w.values.dtype == np.int8 else "fp32"
        dst[...] = accumulate(dst, out, dtype) if op.acc else out
    return PERun(psum, spans, timeline.cycles, timeline.utilization)


@semantics("pe.load_sparse")
def pe_load_sparse(core, ins) -> None:
    values, packed, n, m = ins.ops["values"], ins.ops["index"], ins.ops["n"], ins.ops["m"]
    cfg = core.config
    if not 1 <= n < m:
        raise core.error(f"pattern {n}:{m}: need 1 <= N < M")
    rows, cols = values.pcount, values.free_size
    if rows > cfg.pe_rows or cols > cfg.pe_cols:
        raise core.error(f"sparse weights [{rows} x {cols}] do not fit the {cfg.pe_rows} x {cfg.pe_cols} PE array")
    if rows % n:
        raise core.error(f"{rows} value rows are not whole groups of N = {n} slots")
    nbytes = -(-cols * index_bits(m) // 8)
    if packed.pcount != rows or packed.free_size != nbytes:
        raise core.error(f"index must be [{rows} x {nbytes}] bytes ({index_bits(m)}-bit indices of {cols} "
                         f"columns), got [{packed.pcount} x {packed.free_size}]")
    index = unpack_index(core.read(packed), cols, m)
    if index.max(initial=0) >= m:
        raise core.error(f"index {int(index.max())} is outside a group of M = {m}")
    core.weights = None  # the array now holds sparse weights: pe.matmul needs a new pe.load_weights
    core.sparse_weights = LoadSparse(core.read(values), index, n, m)
    timeline = core.pe_timeline
    timeline.load(rows, cols)
    core.stats.pe_cycles, core.stats.utilization = timeline.cycles, timeline.utilization


@semantics("pe.matmul_sparse")
def pe_matmul_sparse(core, ins) -> None:
    dst, src, acc = ins.ops["dst"], ins.ops["src"], ins.ops["acc"]
    w = getattr(core, "sparse_weights", None)
    if w is None or core.weights is not None:
        raise core.error("no sparse weights loaded (pe.load_sparse must come first on the PE queue)")
    wdtype = "int8" if w.values.dtype == np.int8 else "bf16"
    want = {"int8": "int32", "bf16": "fp32"}[wdtype]
    rows, cols = w.values.shape
    k = rows // w.n * w.m
    if src.dtype != wdtype:
        raise core.error(f"moving data is {src.dtype} but the loaded sparse weights are {wdtype}")
    if dst.dtype != want:
        raise core.error(f"a {wdtype} matmul writes {want} to PSUM, dst is {dst.dtype}")
    if dst.pcount != cols:
        raise core.error(f"dst spans {dst.pcount} partitions but the weights have N = {cols} columns")
    mv = dst.free_size
    if src.free_size % mv or src.pcount * (src.free_size // mv) != k:
        raise core.error(f"moving data [{src.pcount} x {src.free_size}] is not J blocks of M' = {mv} elements "
                         f"making K = {k} rows for the {w.n}:{w.m} weights")
    core.check_psum_bank(dst)
    x = moving_rows(core.read(src), mv)
    out = core.prims.matmul_sparse(w.values, w.index, x, w.n, w.m)
    if acc:
        out = accumulate(core.read(dst), out, dst.dtype)
    core.write(dst, out)
    core.stats.macs += rows * cols * mv
    core.stats.count_elements("PE", mv * k)
    timeline = core.pe_timeline
    timeline.matmul(rows, cols, mv)
    core.stats.pe_cycles, core.stats.utilization = timeline.cycles, timeline.utilization
