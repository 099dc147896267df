"""The PE array: weight-stationary matmul with PSUM write or accumulate (whole-tile model).

Weights W [K, N] sit in the array (row k, column n). Moving data X [K, M] streams through;
column n produces out[n, m] = sum_k W[k, n] * X[k, m], which lands in PSUM partition n.
int8: wrapping int32. bf16: each product rounded to binary32, summed from +0.0 in row order
k = 0..K-1 with binary32 round-to-nearest-even adds; accumulating into PSUM is one more add.
"""

from __future__ import annotations

import numpy as np

from accel.model import fp, semantics


def matmul_int8(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    """int8 W [K, N], X [K, M] -> int32 [N, M], products and sums wrapping in int32."""
    exact = w.astype(np.int64).T @ x.astype(np.int64)
    return exact.astype(np.int32)  # keeps the low 32 bits: two's-complement wrap


def matmul_bf16(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    """bf16 bits W [K, N], X [K, M] -> binary32 bits [N, M], summed in row order."""
    k_rows = w.shape[0]
    acc = np.zeros((w.shape[1], x.shape[1]), dtype=np.uint32)  # +0.0 enters the top row
    for k in range(k_rows):
        products = fp.bf16_mul(w[k][:, None], x[k][None, :])
        acc = fp.add(acc, products)
    return acc


def accumulate(old: np.ndarray, new: np.ndarray, dtype: str) -> np.ndarray:
    """PSUM accumulate: wrapping int32 add, or one binary32 add."""
    if dtype == "int32":
        return (old.astype(np.int64) + new.astype(np.int64)).astype(np.int32)
    return fp.add(old.astype(np.uint32), new)


@semantics("pe.load_weights")
def pe_load_weights(core, ins) -> None:
    src = ins.ops["src"]
    cfg = core.config
    if src.pcount > cfg.pe_rows or src.free_size > cfg.pe_cols:
        raise core.error(
            f"weights [{src.pcount} x {src.free_size}] do not fit the {cfg.pe_rows} x {cfg.pe_cols} PE array"
        )
    core.weights = (src.dtype, core.read(src))


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
    out = matmul_int8(w, x) if wdtype == "int8" else matmul_bf16(w, x)
    if acc:
        out = accumulate(core.read(dst), out, dst.dtype)
    core.write(dst, out)
    core.stats.macs += k_rows * n_cols * src.free_size
    core.stats.count_elements("PE", src.free_size * k_rows)
