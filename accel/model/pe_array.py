"""The PE array: weight-stationary matmul with PSUM write or accumulate (whole-tile model).

Weights W [K, N] sit in the array (row k, column n). Moving data X [K, M] streams through;
column n produces out[n, m] = sum_k W[k, n] * X[k, m], which lands in PSUM partition n.
int8: wrapping int32. bf16: each product rounded to binary32, summed from +0.0 in row order
k = 0..K-1 with binary32 round-to-nearest-even adds; accumulating into PSUM is one more add.

`PETimeline` is the documented cycle model (docs/pe_array.md, "Cycles"): when each load and
matmul of the in-order PE queue starts and ends. `run_ops` applies a sequence of `LoadWeights`
and `Matmul` operations to a PSUM array: the reference that accel.kernels.pe_array's
cycle-accurate simulation must match bit for bit and cycle for cycle.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accel.model import fp, primitive, semantics


@primitive("matmul_int8")
def matmul_int8(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    """int8 W [K, N], X [K, M] -> int32 [N, M], products and sums wrapping in int32."""
    exact = w.astype(np.int64).T @ x.astype(np.int64)
    return exact.astype(np.int32)  # keeps the low 32 bits: two's-complement wrap


@primitive("matmul_bf16")
def matmul_bf16(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    """bf16 bits W [K, N], X [K, M] -> binary32 bits [N, M], summed in row order."""
    k_rows = w.shape[0]
    acc = np.zeros((w.shape[1], x.shape[1]), dtype=np.uint32)  # +0.0 enters the top row
    for k in range(k_rows):
        products = fp.bf16_mul(w[k][:, None], x[k][None, :])
        acc = fp.add(acc, products)
    return acc


@primitive("accumulate")
def accumulate(old: np.ndarray, new: np.ndarray, dtype: str) -> np.ndarray:
    """PSUM accumulate: wrapping int32 add, or one binary32 add."""
    if dtype == "int32":
        return (old.astype(np.int64) + new.astype(np.int64)).astype(np.int32)
    return fp.add(old.astype(np.uint32), new)


class PETimeline:
    """The documented cycle model of the PE queue (docs/pe_array.md, "Cycles").

    Feed it the PE instructions in program order: `load(K, N)` returns (L, L + K), the cycles
    the weight rows are written; `matmul(K, N, M)` returns (S, E): moving vectors enter at
    S..S+M-1, vector m is written to PSUM at the end of cycle `row_written(S, m)` and E is one
    past the last of those. `cycles` is the PE-array cycle count so far. Loads and streams each
    keep program order; a load waits only for the load bus and the most recent swap.
    """

    def __init__(self, rows: int, cols: int) -> None:
        if rows < 1 or cols < 1:
            raise ValueError(f"a PE array needs at least 1 x 1 PEs, not {rows} x {cols}")
        self.rows, self.cols = rows, cols
        self.latency = rows + cols - 2  # stream port to PSUM: fill + drain, with de-skew
        self.stream_free = 0  # first cycle the stream port is free
        self.load_free = 0  # first cycle the weight-load bus is free
        self.swap_done = 0  # S_swap + N_swap of the most recent swap (0 before any)
        self.pending: tuple[int, int, int] | None = None  # (K, N, L + K) of weights not yet swapped in
        self.active: tuple[int, int] | None = None  # (K, N) of the weights in use
        self.cycles = 0
        self.macs = 0

    def load(self, k: int, n: int) -> tuple[int, int]:
        """pe.load_weights of K x N weights into the shadow registers."""
        self._check(k, n, 1)
        start = max(self.load_free, self.swap_done)
        self.load_free = start + k
        self.pending = (k, n, start + k)
        self.cycles = max(self.cycles, start + k)
        return start, start + k

    def matmul(self, k: int, n: int, m: int) -> tuple[int, int]:
        """pe.matmul streaming M vectors through K x N weights (swapping them in if newly loaded)."""
        self._check(k, n, m)
        start = self.stream_free
        if self.pending is not None:
            pk, pn, loaded = self.pending
            if (k, n) != (pk, pn):
                raise ValueError(f"matmul uses {k} x {n} weights but {pk} x {pn} were loaded")
            start = max(start, loaded)
            self.active, self.pending = (k, n), None
            self.swap_done = start + n
        elif self.active != (k, n):
            held = "no weights" if self.active is None else "{} x {} weights".format(*self.active)
            raise ValueError(f"matmul uses {k} x {n} weights but the array holds {held}")
        end = start + m + self.latency
        self.stream_free = start + m
        self.cycles = max(self.cycles, end)
        self.macs += k * n * m
        return start, end

    def row_written(self, start: int, m: int) -> int:
        """The cycle at whose end moving vector m of a matmul started at `start` lands in PSUM."""
        return start + m + self.latency

    @property
    def utilization(self) -> float:
        """Useful MACs / (R * C * cycles); 0 before any cycle."""
        return self.macs / (self.rows * self.cols * self.cycles) if self.cycles else 0.0

    def _check(self, k: int, n: int, m: int) -> None:
        if not (1 <= k <= self.rows and 1 <= n <= self.cols and m >= 1):
            raise ValueError(f"K = {k}, N = {n}, M = {m} outside the {self.rows} x {self.cols} array")


@dataclass(frozen=True)
class LoadWeights:
    """pe.load_weights: W [K, N], int8 values or bf16 bit patterns (uint16)."""

    w: np.ndarray


@dataclass(frozen=True)
class Matmul:
    """pe.matmul: stream X [K, M] into PSUM partitions 0..N-1, columns dst..dst+M-1."""

    x: np.ndarray
    dst: int = 0
    acc: bool = False


@dataclass
class PERun:
    """Result of a sequence of PE operations: PSUM, (start, end) per op, cycles, utilization."""

    psum: np.ndarray
    spans: list[tuple[int, int]]
    cycles: int
    utilization: float


def run_ops(ops: list[LoadWeights | Matmul], rows: int, cols: int, psum: np.ndarray) -> PERun:
    """Apply PE operations in order to a copy of `psum` ([cols, width] int32, or binary32 bits)."""
    psum = psum.copy()
    timeline = PETimeline(rows, cols)
    spans = []
    w = None
    for op in ops:
        if isinstance(op, LoadWeights):
            w = op.w
            spans.append(timeline.load(*w.shape))
            continue
        if w is None:
            raise ValueError("matmul before any weights were loaded")
        k, n = w.shape
        spans.append(timeline.matmul(k, n, op.x.shape[1]))
        out = matmul_int8(w, op.x) if w.dtype == np.int8 else matmul_bf16(w, op.x)
        dst = psum[:n, op.dst:op.dst + op.x.shape[1]]
        dst[...] = accumulate(dst, out, "int32" if w.dtype == np.int8 else "fp32") if op.acc else out
    return PERun(psum, spans, timeline.cycles, timeline.utilization)


@semantics("pe.load_weights")
def pe_load_weights(core, ins) -> None:
    src = ins.ops["src"]
    cfg = core.config
    if src.pcount > cfg.pe_rows or src.free_size > cfg.pe_cols:
        raise core.error(
            f"weights [{src.pcount} x {src.free_size}] do not fit the {cfg.pe_rows} x {cfg.pe_cols} PE array"
        )
    core.weights = (src.dtype, core.read(src))
    timeline = core.pe_timeline
    timeline.load(src.pcount, src.free_size)
    core.stats.pe_cycles, core.stats.utilization = timeline.cycles, timeline.utilization


@semantics("pe.matmul")
def pe_matmul(core, ins) -> None:
    dst, src, acc = ins.ops["dst"], ins.ops["src"], ins.ops["acc"]
    if core.weights is None:
        raise core.error("no weights loaded (pe.load_weights must come first on the PE queue)")
    wdtype, w = core.weights
    k_rows, n_cols = w.shape
    want = {"int8": "int32", "bf16": "fp32"}[wdtype]
    if src.dtype != wdtype:
        raise core.error(f"moving data is {src.dtype} but the loaded weights are {wdtype}")
    if dst.dtype != want:
        raise core.error(f"a {wdtype} matmul writes {want} to PSUM, dst is {dst.dtype}")
    if src.pcount != k_rows:
        raise core.error(f"moving data spans {src.pcount} partitions but the weights have K = {k_rows} rows")
    if dst.pcount != n_cols:
        raise core.error(f"dst spans {dst.pcount} partitions but the weights have N = {n_cols} columns")
    if dst.free_size != src.free_size:
        raise core.error(f"dst holds {dst.free_size} elements per partition, moving data M = {src.free_size}")
    core.check_psum_bank(dst)
    x = core.read(src)
    out = core.prims.matmul_int8(w, x) if wdtype == "int8" else core.prims.matmul_bf16(w, x)
    if acc:
        out = core.prims.accumulate(core.read(dst), out, dst.dtype)
    core.write(dst, out)
    core.stats.macs += k_rows * n_cols * src.free_size
    core.stats.count_elements("PE", src.free_size * k_rows)
    timeline = core.pe_timeline
    timeline.matmul(k_rows, n_cols, src.free_size)
    core.stats.pe_cycles, core.stats.utilization = timeline.cycles, timeline.utilization

