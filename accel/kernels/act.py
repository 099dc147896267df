"""The activation engine's affine step, fast: a Numba kernel in native binary32, bit for bit
accel.model.act.affine_f32 (tests/equivalence/test_act_kernels.py).

x * scale + bias is two binary32 operations, each rounded to nearest even: Numba without fastmath
never contracts them into one FMA (whose single rounding would differ). Every NaN becomes
0x7FC00000, as in the model.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from accel.kernels.vec import ZERO, _bits, _f32_of_bits, _get, _maximum, _put

__all__ = ["affine_f32", "affine_in_memory"]


@njit(cache=True)
def _affine(x, scale, bias, out):  # pragma: no cover - compiled
    for p in range(x.shape[0]):
        b = bias[p]
        for f in range(x.shape[1]):
            _put(out, p, f, _f32_of_bits(x[p, f]) * scale + b)  # two roundings: the product is rounded before the add


def affine_f32(x: np.ndarray, x_dtype: str, scale: int, bias: int | np.ndarray) -> np.ndarray:
    """binary32 bits [P, F] of (x * scale) + bias for stored elements x [P, F]; `scale` is binary32
    bits, `bias` binary32 bits: one for all partitions, or an array [P, 1] (one per partition)."""
    v = _bits(x, x_dtype)
    if isinstance(bias, np.ndarray):
        b = np.ascontiguousarray(bias, dtype=np.uint32).reshape(-1).view(np.float32)
    else:
        b = np.full(v.shape[0], np.uint32(bias)).view(np.float32)
    out = np.empty(v.shape, np.uint32)
    _affine(v, np.uint32(scale).view(np.float32), b, out)
    return out if out.shape == np.shape(x) else out.reshape(np.shape(x))


@njit(cache=True)
def affine_in_memory(out, pd, cd, a, pa, ca, scale, bias, pb, cb, bias_value, relu, P, F):  # pragma: no cover
    """act.identity / act.relu of a memory run (accel.kernels.vec's in-memory form): func(x * scale + b)
    stored into a run, with b the binary32 bias_value, or the fp32 element (pb + p, cb) of `bias` (an
    fp32 memory view) when pb >= 0. Every result is computed before any is stored."""
    r = np.empty((P, F), np.float32)
    for p in range(P):
        b = _get(bias, pb + p, cb) if pb >= 0 else bias_value
        for f in range(F):
            y = _get(a, pa + p, ca + f) * scale + b  # two roundings: the product is rounded before the add
            r[p, f] = _maximum(y, ZERO) if relu else y
    for p in range(P):
        for f in range(F):
            _put(out, pd + p, cd + f, r[p, f])
