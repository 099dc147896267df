"""The activation engine's affine step, fast: a Numba kernel in native binary32, bit for bit
accel.model.act.affine_f32 (tests/equivalence/test_act_kernels.py).

x * scale + bias is two binary32 operations, each rounded to nearest even: Numba without fastmath
never contracts them into one FMA (whose single rounding would differ). Every NaN becomes
0x7FC00000, as in the model.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from accel.kernels.vec import _bits, _f32_of_bits, _put

__all__ = ["affine_f32"]


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
