"""The sparse systolic multiplier, fast: whole-tile functions and a cycle-accurate simulation.

Mirrors accel.model.sparse name for name and agrees with it bit for bit and cycle for cycle
(tests/equivalence/test_sparse.py). The numeric argument of accel.kernels.pe_array holds here too:
native binary32 arithmetic without fastmath, every NaN result replaced by 0x7FC00000.

The cycle-accurate array is the dense one of docs/pe_array.md with, in every PE, an index register
beside the (active and shadow) weight and an m-wide moving-data register: PE(r, c) multiplies its
weight with element index[r, c] of the m moving values of its group r // n (docs/sparse.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from accel.kernels.pe_array import (
    LOAD_K,
    LOAD_OP,
    LOAD_ROW,
    _controller,
    _first_vectors,
    _issue,
    _mac,
    _psum_write,
    _stream_port,
    _widen,
    matmul_bf16_rows,
)
from accel.model.pe_array import PERun
from accel.model.sparse import LoadSparse, MatmulSparse

LOAD, MATMUL = 0, 1

__all__ = ["Simulation", "matmul_sparse", "run_ops"]


def matmul_sparse(values: np.ndarray, index: np.ndarray, x: np.ndarray, n: int, m: int) -> np.ndarray:
    """int8 -> int32 [N, Mv] (exact float64 BLAS on the summed equivalent dense weights), or bf16 ->
    binary32 bits [N, Mv] summed in physical row order."""
    rows, cols = values.shape
    target = (np.arange(rows) // n * m)[:, None] + index.astype(np.int64)
    if values.dtype == np.int8:
        # slots sharing a row add up exactly; |sum| <= K * n * 2**14 < 2**53, so float64 is exact
        dense = np.zeros((rows // n * m, cols), dtype=np.float64)
        np.add.at(dense, (target, np.broadcast_to(np.arange(cols), target.shape)), values.astype(np.float64))
        exact = dense.T @ x.astype(np.float64)
        return exact.astype(np.int64).astype(np.int32)
    return matmul_bf16_rows(_widen(values), target, _widen(x)).view(np.uint32)


@dataclass
class Simulation(PERun):
    """`run_ops`'s result: PERun plus, per op, the cycle at whose end each output row was written."""

    row_cycles: list[np.ndarray]


def run_ops(ops: list[LoadSparse | MatmulSparse], rows: int, cols: int, psum: np.ndarray) -> Simulation:
    """Simulate sparse loads and matmuls cycle by cycle on a rows x cols sparse array."""
    if rows < 1 or cols < 1:
        raise ValueError(f"a PE array needs at least 1 x 1 PEs, not {rows} x {cols}")
    bf16 = any(isinstance(op, LoadSparse) and op.values.dtype == np.uint16 for op in ops)
    kind = np.uint16 if bf16 else np.int8
    table, wparts, iparts, xparts = [], [], [], []
    woff = xoff = 0
    shape = None
    latest_load = last_swap = -1
    swapped = True
    width = 2
    for op in ops:
        if isinstance(op, LoadSparse):
            if op.values.dtype != kind or op.values.ndim != 2 or op.index.shape != op.values.shape:
                raise ValueError("sparse values must all be 2-D int8 or all bf16, index of the same shape")
            k, n = op.values.shape
            if not (1 <= k <= rows and 1 <= n <= cols) or k % op.n:
                raise ValueError(f"sparse weights {k} x {n} ({op.n}:{op.m}) do not fit the {rows} x {cols} array")
            shape = (k, n, op.n, op.m)
            width = max(width, op.m)
            table.append((LOAD, k, n, 0, woff, 0, 0, 0, last_swap, op.n, op.m))
            latest_load, swapped = len(table) - 1, False
            wparts.append(op.values.ravel())
            iparts.append(op.index.astype(np.int64).ravel())
            woff += op.values.size
            continue
        if shape is None:
            raise ValueError("sparse matmul before any sparse weights were loaded")
        k, n, sn, sm = shape
        m = op.x.shape[1]
        if op.x.dtype != kind or op.x.shape[0] != k // sn * sm or m < 1 or op.dst < 0 or op.dst + m > psum.shape[1]:
            raise ValueError(f"moving data {op.x.shape} {op.x.dtype} at PSUM column {op.dst} does not fit "
                             f"{sn}:{sm} weights {k} x {n} and PSUM {psum.shape}")
        table.append((MATMUL, k, n, m, xoff, op.dst, int(op.acc), int(not swapped), latest_load, sn, sm))
        if not swapped:
            last_swap, swapped = len(table) - 1, True
        xparts.append(op.x.ravel())
        xoff += op.x.size
    want = np.uint32 if bf16 else np.int32
    if psum.ndim != 2 or psum.shape[0] < cols or psum.dtype != want:
        raise ValueError(f"PSUM must be [{cols}+, width] {np.dtype(want)}, got {psum.shape} {psum.dtype}")

    def data(parts, dtype):
        flat = np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)
        return _widen(flat) if bf16 and dtype == kind else flat

    table_a = np.array(table, dtype=np.int64).reshape(-1, 11)
    wbuf, ibuf, xbuf = data(wparts, kind), data(iparts, np.int64), data(xparts, kind)
    result = np.array(psum.view(np.float32) if bf16 else psum, copy=True)
    n_vec = int(table_a[table_a[:, 0] == MATMUL, 3].sum())
    row_cycle = np.zeros(n_vec, dtype=np.int64)
    spans = np.full((len(table), 2), -1, dtype=np.int64)
    cycles = _simulate(rows, cols, width, table_a, wbuf, ibuf, xbuf, result, row_cycle, spans)
    row_cycles, first = [], 0
    for row in table:
        m = row[3] if row[0] == MATMUL else 0
        row_cycles.append(row_cycle[first:first + m])
        first += m
    macs = sum(r[1] * r[2] * r[3] for r in table)
    return Simulation(psum=result.view(np.uint32) if bf16 else result,
                      spans=[(int(a), int(b)) for a, b in spans], cycles=int(cycles),
                      utilization=macs / (rows * cols * cycles) if cycles else 0.0, row_cycles=row_cycles)


@njit(cache=True)
def _simulate(rows, cols, width, ops, wbuf, ibuf, xbuf, psum, row_cycle, spans):  # pragma: no cover
    """Cycle by cycle. `ops` rows: kind, K (physical rows), N, M (vectors), data offset, PSUM column,
    acc, swap, link (a load: the most recent swapping matmul; a matmul: its load), n, m.

    Registers of PE(r, c), value after the edge ending a cycle: wa/ws and ia/is (active and shadow
    weight and index), xg (the m moving values of the row's group, shifting right), ctl (1: row
    enable, 2: swap token), p (partial sum, moving down). The input skew, the output de-skew and the
    stream-port-to-PSUM tag line are as in accel.kernels.pe_array.
    """
    R, C = rows, cols
    lat = R + C - 2
    dt, dw = psum.dtype, wbuf.dtype
    wa = np.zeros((R, C), dtype=dw)
    ws = np.zeros((R, C), dtype=dw)
    ia = np.zeros((R, C), dtype=np.int64)
    ish = np.zeros((R, C), dtype=np.int64)
    xg = np.zeros((R, C, width), dtype=dw)
    ctl = np.zeros((R, C), dtype=np.uint8)
    p = np.zeros((R, C), dtype=dt)
    p_old = np.zeros((R, C), dtype=dt)
    zero_w, zero_p = wa[0, 0], p[0, 0]
    skew_op = np.full(R, -1, dtype=np.int64)
    skew_m = np.zeros(R, dtype=np.int64)
    skew_swap = np.zeros(R, dtype=np.uint8)
    deskew = np.zeros((C, C), dtype=dt)
    tag_op = np.full(lat + 1, -1, dtype=np.int64)
    tag_m = np.zeros(lat + 1, dtype=np.int64)
    first_vector = _first_vectors(ops)
    st = _controller(ops)
    t = 0
    while True:
        if _issue(ops, spans, st, t):
            return t
        slot = _stream_port(st, t, skew_op, skew_m, skew_swap, tag_op, tag_m)

        # ---- moving data and control shift one column right; row r's left edge gets the vector
        # that entered the stream port at t - r: the m values of its group r // n
        for r in range(R):
            for c in range(C - 1, 0, -1):
                ctl[r, c] = ctl[r, c - 1]
                for i in range(width):
                    xg[r, c, i] = xg[r, c - 1, i]
            j = (slot - r) % R
            op = skew_op[j]
            cv = 0
            for i in range(width):
                xg[r, 0, i] = zero_w
            if op >= 0:
                if r < ops[op, 1]:
                    n, m, mv = ops[op, 9], ops[op, 10], ops[op, 3]
                    base = ops[op, 4] + (r // n) * m * mv + skew_m[j]
                    for i in range(m):
                        xg[r, 0, i] = xbuf[base + i * mv]
                    cv = 1
                if skew_swap[j]:
                    cv |= 2
            ctl[r, 0] = cv

        # ---- every PE: swap, multiplex, multiply-add
        p_old, p = p, p_old
        for r in range(R):
            for c in range(C):
                if ctl[r, c] & 2:
                    wa[r, c] = ws[r, c]
                    ia[r, c] = ish[r, c]
                en = ctl[r, c] & 1
                xv = xg[r, c, ia[r, c]] if en else zero_w
                above = p_old[r - 1, c] if r > 0 else zero_p
                p[r, c] = _mac(above, wa[r, c], xv, en)

        # ---- weight bus: one shadow row (values and indices) per cycle
        if st[LOAD_ROW] < st[LOAD_K]:
            row, n_cols = st[LOAD_ROW], ops[st[LOAD_OP], 2]
            off = ops[st[LOAD_OP], 4] + row * n_cols
            for c in range(C):
                ws[row, c] = wbuf[off + c] if c < n_cols else zero_w
                ish[row, c] = ibuf[off + c] if c < n_cols else 0
            st[LOAD_ROW] += 1

        _psum_write(ops, st, t, p[R - 1], deskew, tag_op, tag_m, psum, row_cycle, first_vector, spans)
        t += 1
