"""The PE array, fast: whole-tile functions for the emulator and a cycle-accurate simulation.

Mirrors accel.model.pe_array name for name and agrees with it bit for bit
(tests/equivalence/test_pe_array.py):

* `matmul_int8`, `matmul_bf16`, `accumulate`: the whole-tile results, computed fast.
* `run_ops`: every PE register of an R x C array on every cycle for a sequence of
  `LoadWeights` / `Matmul` operations (docs/pe_array.md): PSUM, the cycle on which each output
  row is written, (start, end) of every operation, and optionally a per-cycle register trace.

Native binary32 arithmetic is bit-identical to accel.model.fp here (no fastmath, so LLVM never
contracts a multiply and an add into an FMA, and subnormals are kept):
* the product of two bf16 values (8-bit significands) has at most 16 significant bits, so it is
  exact in binary32 unless it leaves the exponent range; there IEEE multiplication rounds to
  nearest even, to a subnormal or to infinity, exactly as fp.mul does;
* each add is one IEEE round-to-nearest-even addition, as fp.add, with the same signed zeros;
* NaN payloads and signs differ, so every result that is NaN is replaced by the canonical
  0x7FC00000 (the model's only NaN). A NaN operand always gives a NaN result, so canonicalizing
  after the operation equals the model's canonicalization of every intermediate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit, types
from numba.extending import overload

from accel.model.pe_array import LoadWeights, Matmul, PERun

CANONICAL_NAN = np.uint32(0x7FC00000).view(np.float32)
LOAD, MATMUL = 0, 1
EXACT_INT8_K = 1024  # |sum of K int8 products| <= K * 2**14 <= 2**24 for K <= 1024

__all__ = ["Simulation", "accumulate", "matmul_bf16", "matmul_int8", "run_ops"]


# ---------------------------------------------------------------------------------------------
# Whole-tile functions (used by the emulator with Core(fast=True))
# ---------------------------------------------------------------------------------------------


def matmul_int8(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    """int8 W [K, N], X [K, M] -> int32 [N, M]: one float32 BLAS matmul, exact.

    Why float32 is exact: every product of two int8 values has magnitude <= 128 * 128 = 2**14,
    so every partial sum of at most K <= 1024 of them is an integer of magnitude <= 2**24 (the
    PE array has K <= pe_rows <= 256 rows). Every integer of magnitude <= 2**24 is a binary32
    value, so each multiply, add or FMA that BLAS performs, in whatever order or blocking, has an
    exact result that needs no rounding. The sum is then the exact integer sum, which is far
    inside int32, so the model's int32 wrap never happens and the conversion back is exact.
    """
    if w.shape[0] > EXACT_INT8_K:  # beyond the proof: the model's exact int64 form
        return (w.astype(np.int64).T @ x.astype(np.int64)).astype(np.int32)
    out = w.astype(np.float32).T @ x.astype(np.float32)
    return out.astype(np.int32)


def matmul_bf16(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    """bf16 bits W [K, N], X [K, M] -> binary32 bits [N, M], summed in row order from +0.0."""
    return _matmul_bf16_bits(np.ascontiguousarray(w, dtype=np.uint16), np.ascontiguousarray(x, dtype=np.uint16))


@njit(cache=True)
def _matmul_bf16_bits(w, x):  # pragma: no cover - compiled
    """matmul_bf16_rows of the dense array (rows[k, n] = k) on raw bf16 bits, widened in the loop."""
    k_rows, n_cols = w.shape
    m_cols = x.shape[1]
    out = np.zeros((n_cols, m_cols), dtype=np.float32)
    xf = np.empty((k_rows, m_cols), dtype=np.float32)
    for k in range(k_rows):
        for m in range(m_cols):
            xf[k, m] = _bf16_value(x[k, m])
    for n in range(n_cols):
        for k in range(k_rows):
            wk = _bf16_value(w[k, n])
            for m in range(m_cols):
                out[n, m] = out[n, m] + wk * xf[k, m]
    for n in range(n_cols):
        for m in range(m_cols):
            if out[n, m] != out[n, m]:
                out[n, m] = CANONICAL_NAN
    return out.view(np.uint32)


@njit(inline="always")
def _bf16_value(b):  # pragma: no cover - compiled
    """The binary32 value of bf16 bits (exact; NaN payloads kept, canonicalized at the end)."""
    return np.uint32(np.uint32(b) << np.uint32(16)).view(np.float32)


def accumulate(old: np.ndarray, new: np.ndarray, dtype: str) -> np.ndarray:
    """PSUM accumulate: wrapping int32 add, or one binary32 add with the canonical NaN."""
    if dtype == "int32":
        return old.astype(np.int32) + new.astype(np.int32)  # numpy integer arrays wrap
    with np.errstate(all="ignore"):
        s = old.astype(np.uint32).view(np.float32) + new.astype(np.uint32).view(np.float32)
    return np.where(np.isnan(s), np.uint32(0x7FC00000), s.view(np.uint32))


def _widen(bf16: np.ndarray) -> np.ndarray:
    """bf16 bit patterns -> binary32 values (exact; NaN payloads kept, canonicalized later)."""
    return (np.ascontiguousarray(bf16, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)


@njit(cache=True)
def matmul_bf16_rows(w, rows, x):  # pragma: no cover - compiled
    """out[n, m] = sum over k = 0..K-1 of w[k, n] * x[rows[k, n], m], summed from +0.0 in k order in
    binary32, every NaN canonical. The dense array reads x row k (rows[k, n] = k); a sparse PE's
    mux picks its row from the index it holds."""
    k_rows, n_cols = w.shape
    m_cols = x.shape[1]
    out = np.zeros((n_cols, m_cols), dtype=np.float32)
    for n in range(n_cols):
        for k in range(k_rows):
            wk = w[k, n]
            r = rows[k, n]
            for m in range(m_cols):
                out[n, m] = out[n, m] + wk * x[r, m]
    for n in range(n_cols):
        for m in range(m_cols):
            if out[n, m] != out[n, m]:
                out[n, m] = CANONICAL_NAN
    return out


# ---------------------------------------------------------------------------------------------
# Cycle-accurate simulation
# ---------------------------------------------------------------------------------------------


@dataclass
class Simulation(PERun):
    """`run_ops`'s result: accel.model.pe_array.PERun plus, per op, the cycle at whose end each
    output row (moving vector m) was written to PSUM, and the optional register trace."""

    row_cycles: list[np.ndarray]
    trace: dict[str, np.ndarray] | None = None


def run_ops(ops: list[LoadWeights | Matmul], rows: int, cols: int, psum: np.ndarray,
            trace: bool = False) -> Simulation:
    """Simulate the ops cycle by cycle on a rows x cols array; like accel.model.pe_array.run_ops.

    `psum` is [cols, width]: int32 for int8 weights, binary32 bits (uint32) for bf16 weights.
    With trace=True, `trace` holds the registers at the end of every cycle: x, en (row enable),
    swap (swap token), w_active, w_shadow, psum as [cycles, rows, cols] and out, the de-skewed
    outputs, as [cycles, cols]; x and weights as int8 or bf16 bits, psum as int32 or fp32 bits.
    """
    if rows < 1 or cols < 1:
        raise ValueError(f"a PE array needs at least 1 x 1 PEs, not {rows} x {cols}")
    bf16 = any(isinstance(op, LoadWeights) and op.w.dtype == np.uint16 for op in ops)
    kind = np.uint16 if bf16 else np.int8
    table, wparts, xparts = [], [], []
    woff = xoff = 0
    shape = None
    latest_load = last_swap = -1  # op indices
    swapped = True  # the newest weights are active (no load since the last matmul)
    for op in ops:
        data = op.w if isinstance(op, LoadWeights) else op.x
        if data.dtype != kind or data.ndim != 2:
            raise ValueError(f"every weight and moving-data array must be 2-D {np.dtype(kind)}, got {data.dtype}")
        if isinstance(op, LoadWeights):
            shape = k, n = op.w.shape
            if not (1 <= k <= rows and 1 <= n <= cols):
                raise ValueError(f"weights {k} x {n} do not fit the {rows} x {cols} array")
            table.append((LOAD, k, n, 0, woff, 0, 0, 0, last_swap))
            latest_load, swapped = len(table) - 1, False
            wparts.append(op.w.ravel())
            woff += op.w.size
            continue
        if shape is None:
            raise ValueError("matmul before any weights were loaded")
        k, n = shape
        m = op.x.shape[1]
        if op.x.shape[0] != k or m < 1 or op.dst < 0 or op.dst + m > psum.shape[1]:
            raise ValueError(f"moving data {op.x.shape} at PSUM column {op.dst} does not fit weights {k} x {n} "
                             f"and PSUM {psum.shape}")
        table.append((MATMUL, k, n, m, xoff, op.dst, int(op.acc), int(not swapped), latest_load))
        if not swapped:
            last_swap, swapped = len(table) - 1, True
        xparts.append(op.x.ravel())
        xoff += op.x.size
    want = np.uint32 if bf16 else np.int32
    if psum.ndim != 2 or psum.shape[0] < cols or psum.dtype != want:
        raise ValueError(f"PSUM must be [{cols}+, width] {np.dtype(want)}, got {psum.shape} {psum.dtype}")

    def data(parts):
        flat = np.concatenate(parts) if parts else np.zeros(0, dtype=kind)
        return _widen(flat) if bf16 else flat

    table_a = np.array(table, dtype=np.int64).reshape(-1, 9)
    wbuf, xbuf = data(wparts), data(xparts)
    out = np.array(psum.view(np.float32) if bf16 else psum, copy=True)
    n_vec = int(table_a[table_a[:, 0] == MATMUL, 3].sum())

    def run(n_trace: int):
        row_cycle = np.zeros(n_vec, dtype=np.int64)
        spans = np.full((len(table), 2), -1, dtype=np.int64)
        regs = [np.zeros((n_trace, rows, cols), dtype=dtype)
                for dtype in (wbuf.dtype, np.uint8, wbuf.dtype, wbuf.dtype, out.dtype)]
        tr_out = np.zeros((n_trace, cols), dtype=out.dtype)
        result = out.copy()
        cycles = _simulate(rows, cols, table_a, wbuf, xbuf, result, row_cycle, spans, *regs, tr_out)
        return result, row_cycle, spans, cycles, regs + [tr_out]

    result, row_cycle, spans, cycles, regs = run(0)
    registers = None
    if trace:
        result, row_cycle, spans, cycles, regs = run(cycles)
        registers = _registers(regs, bf16)
    row_cycles, first = [], 0
    for row in table:
        m = row[3] if row[0] == MATMUL else 0
        row_cycles.append(row_cycle[first:first + m])
        first += m
    macs = sum(r[1] * r[2] * r[3] for r in table)
    return Simulation(
        psum=result.view(np.uint32) if bf16 else result,
        spans=[(int(a), int(b)) for a, b in spans],
        cycles=int(cycles),
        utilization=macs / (rows * cols * cycles) if cycles else 0.0,
        row_cycles=row_cycles,
        trace=registers,
    )


def _registers(regs: list[np.ndarray], bf16: bool) -> dict[str, np.ndarray]:
    """Raw trace arrays -> register contents as the hardware holds them."""
    x, ctl, wa, ws, p, out = regs

    def narrow(a):  # moving data and weights: int8 values or bf16 bit patterns
        return (a.view(np.uint32) >> 16).astype(np.uint16) if bf16 else a

    def wide(a):  # partial sums: int32 or binary32 bits
        return a.view(np.uint32) if bf16 else a

    return {"x": narrow(x), "en": ctl & 1, "swap": ctl >> 1, "w_active": narrow(wa), "w_shadow": narrow(ws),
            "psum": wide(p), "out": wide(out)}


def _mac_int8(p, w, x, en):
    return p + w * x  # a bypassed row's x register is 0, and p + w * 0 == p exactly


def _mac_fp32(p, w, x, en):
    s = p + w * x  # w * x of two bf16 values is exact in binary32: one rounding, as bf16_mul + fp32_add
    if s != s:
        s = CANONICAL_NAN
    return s if en else p


def _add_int32(a, b):
    return a + b


def _add_fp32(a, b):
    s = a + b
    if s != s:
        s = CANONICAL_NAN
    return s


def _mac(p, w, x, en):
    """One PE: psum_out = psum_in + w * x, or psum_in when its row is bypassed (en = 0). Compiled
    code takes the per-dtype body through the overload below; plain Python (NUMBA_DISABLE_JIT=1)
    dispatches here."""
    return (_mac_int8 if isinstance(p, np.integer) else _mac_fp32)(p, w, x, en)


def _add(a, b):
    """PSUM accumulate: wrapping int32 add, or binary32 add with the canonical NaN."""
    return (_add_int32 if isinstance(a, np.integer) else _add_fp32)(a, b)


@overload(_mac)
def _mac_impl(p, w, x, en):
    return _mac_int8 if isinstance(p, types.Integer) else _mac_fp32


@overload(_add)
def _add_impl(a, b):
    return _add_int32 if isinstance(a, types.Integer) else _add_fp32


@njit(cache=True)
def _next(ops, kind, i):  # pragma: no cover - compiled
    """Index of the first op of `kind` at or after i (len(ops) if none)."""
    while i < ops.shape[0] and ops[i, 0] != kind:
        i += 1
    return i


# Controller state of a cycle kernel (issue, stream port, PSUM write), shared by this dense array
# and the sparse one (accel.kernels.sparse): one int64 array so helpers can update it in place.
NEXT_LD, NEXT_MM, LOAD_OP, LOAD_ROW, LOAD_K, MM_OP, MM_M, MM_LEN, MM_SWAP, IN_FLIGHT = range(10)


@njit(cache=True)
def _controller(ops):  # pragma: no cover - compiled
    """Fresh controller state: nothing issued, first load and matmul of the program next."""
    st = np.zeros(10, dtype=np.int64)
    st[NEXT_LD], st[NEXT_MM] = _next(ops, LOAD, 0), _next(ops, MATMUL, 0)
    st[LOAD_OP], st[MM_OP] = -1, -1
    return st


@njit(cache=True)
def _first_vectors(ops):  # pragma: no cover - compiled
    """Index of each matmul's first moving vector among all the program's vectors."""
    first = np.zeros(ops.shape[0], dtype=np.int64)
    n_vec = 0
    for i in range(ops.shape[0]):
        first[i] = n_vec
        if ops[i, 0] == MATMUL:
            n_vec += ops[i, 3]
    return first


@njit(cache=True)
def _issue(ops, spans, st, t):  # pragma: no cover - compiled
    """The weight bus and the stream port each take their ops in program order (docs/pe_array.md's
    rules); True once every op has issued and drained."""
    n_ops = ops.shape[0]
    if st[NEXT_LD] < n_ops and st[LOAD_ROW] >= st[LOAD_K]:
        nxt = st[NEXT_LD]
        swap = ops[nxt, 8]  # the most recent swap before this load: its row 0 must be done
        if swap < 0 or (spans[swap, 0] >= 0 and t >= spans[swap, 0] + ops[swap, 2]):
            st[LOAD_OP], st[LOAD_ROW], st[LOAD_K] = nxt, 0, ops[nxt, 1]
            spans[nxt, 0], spans[nxt, 1] = t, t + ops[nxt, 1]
            st[NEXT_LD] = _next(ops, LOAD, nxt + 1)
    if st[NEXT_MM] < n_ops and st[MM_M] >= st[MM_LEN]:
        nxt = st[NEXT_MM]
        load = ops[nxt, 8]  # the load whose weights this matmul uses, complete if swapped in
        if not ops[nxt, 7] or (spans[load, 0] >= 0 and t >= spans[load, 1]):
            st[MM_OP], st[MM_M], st[MM_LEN], st[MM_SWAP] = nxt, 0, ops[nxt, 3], ops[nxt, 7]
            spans[nxt, 0] = t
            st[NEXT_MM] = _next(ops, MATMUL, nxt + 1)
    return (st[NEXT_LD] == n_ops and st[NEXT_MM] == n_ops and st[LOAD_ROW] >= st[LOAD_K]
            and st[MM_M] >= st[MM_LEN] and st[IN_FLIGHT] == 0)


@njit(cache=True)
def _stream_port(st, t, skew_op, skew_m, skew_swap, tag_op, tag_m):  # pragma: no cover - compiled
    """The next moving vector (if any) enters the input-skew ring (R slots) and the tag line
    (lat + 1 slots); returns the skew slot written."""
    slot = t % skew_op.shape[0]
    tslot = t % tag_op.shape[0]
    if st[MM_M] < st[MM_LEN]:
        skew_op[slot], skew_m[slot] = st[MM_OP], st[MM_M]
        skew_swap[slot] = st[MM_SWAP] if st[MM_M] == 0 else 0
        tag_op[tslot], tag_m[tslot] = st[MM_OP], st[MM_M]
        st[MM_M] += 1
        st[IN_FLIGHT] += 1
    else:
        skew_op[slot] = -1
        tag_op[tslot] = -1
    return slot


@njit(cache=True)
def _psum_write(ops, st, t, bottom, deskew, tag_op, tag_m, psum, row_cycle, first_vector,
                spans):  # pragma: no cover - compiled
    """Output de-skew of the bottom row's partial sums, and the PSUM write of the vector that
    entered the stream port at t - lat (write or accumulate)."""
    C = deskew.shape[0]
    lat = tag_op.shape[0] - 1
    dslot = t % C
    for c in range(C):
        deskew[dslot, c] = bottom[c]
    oslot = (t - lat) % (lat + 1)
    op = tag_op[oslot]
    if op >= 0:
        m = tag_m[oslot]
        col = ops[op, 5] + m
        for n in range(ops[op, 2]):
            v = deskew[(t - C + 1 + n) % C, n]
            psum[n, col] = _add(psum[n, col], v) if ops[op, 6] else v
        row_cycle[first_vector[op] + m] = t
        spans[op, 1] = t + 1
        st[IN_FLIGHT] -= 1


@njit(cache=True)
def _simulate(rows, cols, ops, wbuf, xbuf, psum, row_cycle, spans,  # pragma: no cover
              tr_x, tr_ctl, tr_wa, tr_ws, tr_p, tr_out):
    """Run the ops cycle by cycle. `ops` rows: kind, K, N, M, data offset, PSUM column, acc, swap
    (a matmul that swaps in new weights), and for a load the most recent swapping matmul before
    it, for a matmul the load whose weights it uses (-1: none).

    Registers (value at the end of a cycle = after its clock edge):

    wa, ws   active and shadow weight of PE(r, c)
    x, ctl   moving-data register of PE(r, c) and its control bits (1: row enable, 2: swap
             token); they shift one column right every cycle, so the registers of row r are kept
             in a ring: PE(r, c) at cycle t is slot base + c with base = -t mod C (a shift moves
             the ring's origin instead of every value). Slots C..2C-1 mirror 0..C-1.
    p        partial-sum register of PE(r, c); computed from the previous cycle's, p_old.
    The input skew (stream port -> row r takes r cycles), the output de-skew (column n waits
    C - 1 - n cycles) and the output tag line (stream port -> PSUM, R + C - 2 cycles) are
    shift registers kept as rings indexed by the cycle.
    Returns the number of cycles; fills psum, row_cycle (per moving vector), spans (per op) and
    the registers at the end of each of the first len(tr_x) cycles into the tr_* arrays.
    """
    R, C = rows, cols
    lat = R + C - 2
    dt, dw = psum.dtype, wbuf.dtype  # partial sums; weights and moving data (int8, or widened bf16)
    wa = np.zeros((R, C), dtype=dw)
    ws = np.zeros((R, C), dtype=dw)
    xr = np.zeros((R, 2 * C), dtype=dw)
    p = np.zeros((R, C), dtype=dt)
    p_old = np.zeros((R, C), dtype=dt)  # the partial sums of the previous cycle
    zero_w, zero_p = wa[0, 0], p[0, 0]
    UC = np.uint64(C)
    cr = np.zeros((R, 2 * C), dtype=np.uint8)
    swap_until = np.full(R, -1, dtype=np.int64)  # last cycle a swap token is inside row r
    skew_op = np.full(R, -1, dtype=np.int64)  # stream-port history: vector that entered at t - r
    skew_m = np.zeros(R, dtype=np.int64)
    skew_swap = np.zeros(R, dtype=np.uint8)
    deskew = np.zeros((C, C), dtype=dt)  # bottom row at cycle t, in slot t mod C
    tag_op = np.full(lat + 1, -1, dtype=np.int64)
    tag_m = np.zeros(lat + 1, dtype=np.int64)
    first_vector = _first_vectors(ops)
    n_trace = tr_x.shape[0]
    st = _controller(ops)
    base = 0
    t = 0
    while True:
        if _issue(ops, spans, st, t):
            return t
        slot = _stream_port(st, t, skew_op, skew_m, skew_swap, tag_op, tag_m)

        # ---- left edge: row r receives the vector that entered the stream port at t - r
        base = base - 1 if base > 0 else C - 1
        j = slot
        for r in range(R):
            op = skew_op[j]
            xv = zero_w
            ctl = 0
            if op >= 0:
                if r < ops[op, 1]:
                    xv = xbuf[ops[op, 4] + r * ops[op, 3] + skew_m[j]]
                    ctl = 1
                if skew_swap[j]:
                    ctl |= 2
                    swap_until[r] = t + C - 1
            xr[r, base] = xv
            xr[r, base + C] = xv
            cr[r, base] = ctl
            cr[r, base + C] = ctl
            j = j - 1 if j > 0 else R - 1

        # ---- every PE: partial sums move down (from p_old into p), moving data right. Unsigned
        # column indices spare Numba's negative-index wraparound: each row is one vector loop.
        p_old, p = p, p_old
        ub = np.uint64(base)
        for r in range(R):
            if swap_until[r] >= t:  # a swap token is in this row: those PEs compute with the shadow
                for c in range(UC):  # weight and copy it into the active one
                    wa[r, c] = ws[r, c] if cr[r, ub + c] & 2 else wa[r, c]
            if r > 0:
                for c in range(UC):
                    p[r, c] = _mac(p_old[r - 1, c], wa[r, c], xr[r, ub + c], cr[r, ub + c] & 1)
            else:
                for c in range(UC):
                    p[0, c] = _mac(zero_p, wa[0, c], xr[0, ub + c], cr[0, ub + c] & 1)

        # ---- weight bus: one shadow row per cycle (columns >= N get 0)
        if st[LOAD_ROW] < st[LOAD_K]:
            row, n_cols = st[LOAD_ROW], ops[st[LOAD_OP], 2]
            off = ops[st[LOAD_OP], 4] + row * n_cols
            for c in range(C):
                ws[row, c] = wbuf[off + c] if c < n_cols else zero_w
            st[LOAD_ROW] += 1

        _psum_write(ops, st, t, p[R - 1], deskew, tag_op, tag_m, psum, row_cycle, first_vector, spans)

        if t < n_trace:
            for r in range(R):
                for c in range(C):
                    tr_x[t, r, c] = xr[r, base + c]
                    tr_ctl[t, r, c] = cr[r, base + c]
            tr_wa[t] = wa
            tr_ws[t] = ws
            tr_p[t] = p
            for c in range(C):
                tr_out[t, c] = deskew[(t - C + 1 + c) % C, c]
        t += 1
