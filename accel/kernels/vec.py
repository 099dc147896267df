"""The vector engine's arithmetic, fast: Numba kernels in native binary32, mirroring accel.model.vec
name for name and bit for bit (tests/equivalence/test_vec_kernels.py).

Why native float32 is the model: without fastmath, Numba's float32 `+ - *` are single IEEE-754
binary32 operations, round to nearest even, with subnormals kept (nothing here sets FTZ/DAZ), and
they are never contracted into an FMA. The model differs from raw hardware floats only where it
says so, and these kernels do exactly that:

* every NaN a result holds becomes the canonical 0x7FC00000 (so input NaN payloads never
  matter: the model canonicalizes inputs too, and every operation of a NaN gives a NaN);
* max/min are IEEE 754-2019 maximum/minimum: a NaN operand gives NaN, and -0 < +0;
* fp32 -> bf16 rounds the bit pattern to nearest even (overflow -> inf, NaN -> 0x7FC0);
* fp32 -> int32/int8 rounds to nearest even, saturates, and maps NaN to 0;
* int8/int32 -> fp32 is numpy's conversion, which rounds to nearest even like the model;
* reductions combine strictly in index order, a sum starting from +0.

The entry points take and return the storage arrays the model's primitives take and return.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["binary", "from_f32", "reduce", "relu", "scalar", "to_f32", "widen"]

NAN = np.uint32(0x7FC00000).view(np.float32)
ZERO = np.float32(0.0)
OPS = {"add": 0, "sub": 1, "mul": 2, "max": 3, "min": 4}
REDUCE = {"sum": 0, "max": 3}


@njit(inline="always")
def _maximum(x, y):
    """IEEE 754-2019 maximum; NaN handled by the caller's canonicalization."""
    if x != x or y != y:
        return NAN
    if x > y:
        return x
    if y > x:
        return y
    return x if math.copysign(1.0, x) > 0 else y  # equal: +0 beats -0


@njit(inline="always")
def _minimum(x, y):
    """IEEE 754-2019 minimum; -0 below +0."""
    if x != x or y != y:
        return NAN
    if x < y:
        return x
    if y < x:
        return y
    return x if math.copysign(1.0, x) < 0 else y


@njit(inline="always")
def _op(code, x, y):
    """One binary32 operation with the canonical NaN."""
    if code == 0:
        r = x + y
    elif code == 1:
        r = x - y
    elif code == 2:
        r = x * y
    elif code == 3:
        r = _maximum(x, y)
    else:
        r = _minimum(x, y)
    return NAN if r != r else r


@njit(cache=True)
def _binary(code, a, b, out):  # pragma: no cover - compiled
    for p in range(a.shape[0]):
        for f in range(a.shape[1]):
            out[p, f] = _op(code, a[p, f], b[p, f])


@njit(cache=True)
def _scalar(code, a, s, out):  # pragma: no cover - compiled
    for p in range(a.shape[0]):
        for f in range(a.shape[1]):
            out[p, f] = _op(code, a[p, f], s)


@njit(cache=True)
def _reduce(code, x, out):  # pragma: no cover - compiled
    for p in range(x.shape[0]):
        for g in range(x.shape[1]):
            acc = ZERO if code == 0 else x[p, g, 0]
            for j in range(0 if code == 0 else 1, x.shape[2]):  # strictly in index order
                acc = _op(code if code == 3 else 0, acc, x[p, g, j])
            out[p, g] = NAN if acc != acc else acc


@njit(cache=True)
def _canonical(x, out):  # pragma: no cover - compiled
    for p in range(x.shape[0]):
        for f in range(x.shape[1]):
            v = x[p, f]
            out[p, f] = NAN if v != v else v


@njit(cache=True)
def _relu(x, out):  # pragma: no cover - compiled
    for p in range(x.shape[0]):
        for f in range(x.shape[1]):
            v = x[p, f]
            out[p, f] = NAN if v != v else (v if v > ZERO else ZERO)  # -0 and negatives -> +0


@njit(cache=True)
def _to_bf16(bits, out):  # pragma: no cover - compiled
    for p in range(bits.shape[0]):
        for f in range(bits.shape[1]):
            b = bits[p, f]
            if (b & np.uint32(0x7FFFFFFF)) > np.uint32(0x7F800000):
                out[p, f] = np.uint16(0x7FC0)
            else:  # nearest even on the low 16 bits; a carry runs into the exponent, up to inf
                out[p, f] = np.uint16((b + np.uint32(0x7FFF) + ((b >> np.uint32(16)) & np.uint32(1))) >> np.uint32(16))


@njit(cache=True)
def _to_int(x, lo, hi, out):  # pragma: no cover - compiled
    for p in range(x.shape[0]):
        for f in range(x.shape[1]):
            v = np.float64(x[p, f])  # exact
            if v != v:
                out[p, f] = 0
                continue
            v = min(max(v, lo), hi)  # saturate (the bounds are integers, so rounding cannot leave them)
            r = math.floor(v)
            d = v - r  # exact: |v| < 2**32 has at most 24 significant bits
            if d > 0.5 or (d == 0.5 and r % 2.0 != 0.0):
                r += 1.0
            out[p, f] = np.int64(r)


def _two_d(a: np.ndarray) -> np.ndarray:
    """A C-contiguous 2-D array (1-D and 0-d arrays become one row)."""
    a = np.ascontiguousarray(a)
    return a if a.ndim == 2 else a.reshape(1, -1)


def widen(values: np.ndarray, dtype: str) -> np.ndarray:
    """Stored elements of `dtype` -> float32 values (NaN payloads kept: every result canonicalizes)."""
    if dtype == "fp32":
        return values.view(np.float32)
    if dtype == "bf16":
        return (values.astype(np.uint32) << np.uint32(16)).view(np.float32)
    if dtype in ("int8", "int32"):
        return values.astype(np.float32)  # round to nearest even, as fp.int32_to_fp32
    raise ValueError(f"no binary32 conversion from {dtype}")


def _store(result: np.ndarray, dtype: str) -> np.ndarray:
    """float32 results with canonical NaNs -> stored elements of `dtype`."""
    if dtype == "fp32":
        return result.view(np.uint32)
    if dtype == "bf16":
        out = np.empty(result.shape, np.uint16)
        _to_bf16(result.view(np.uint32), out)
        return out
    if dtype == "int32":
        out = np.empty(result.shape, np.int32)
        _to_int(result, -2147483648.0, 2147483647.0, out)
        return out
    if dtype == "int8":
        out = np.empty(result.shape, np.int8)
        _to_int(result, -128.0, 127.0, out)
        return out
    raise ValueError(f"no binary32 conversion to {dtype}")


def to_f32(values: np.ndarray, dtype: str) -> np.ndarray:
    """accel.model.vec.to_f32: stored elements -> binary32 bits (uint32), NaN canonical."""
    shape = np.shape(values)
    x = widen(_two_d(values), dtype)
    out = np.empty(x.shape, np.float32)
    _canonical(x, out)
    return out.view(np.uint32).reshape(shape)


def from_f32(bits: np.ndarray, dtype: str) -> np.ndarray:
    """accel.model.vec.from_f32: binary32 bits -> stored elements of `dtype`."""
    shape = np.shape(bits)
    b = _two_d(np.asarray(bits, dtype=np.uint32))
    if dtype == "fp32":
        return b.reshape(shape)  # bits unchanged, like the model
    return _store(b.view(np.float32), dtype).reshape(shape)


def binary(op: str, a: np.ndarray, a_dtype: str, b: np.ndarray, b_dtype: str, dst_dtype: str) -> np.ndarray:
    """accel.model.vec.binary: stored dst elements of `op` (add sub mul max min) on equal-shaped a and b."""
    x, y = widen(_two_d(a), a_dtype), widen(_two_d(b), b_dtype)
    out = np.empty(x.shape, np.float32)
    _binary(OPS[op], x, y, out)
    return _store(out, dst_dtype).reshape(np.shape(a))


def scalar(op: str, a: np.ndarray, a_dtype: str, s: int, dst_dtype: str) -> np.ndarray:
    """accel.model.vec.scalar: stored dst elements of `op` on a and the binary32 scalar with bits s."""
    x = widen(_two_d(a), a_dtype)
    out = np.empty(x.shape, np.float32)
    _scalar(OPS[op], x, np.uint32(s).view(np.float32), out)
    return _store(out, dst_dtype).reshape(np.shape(a))


def reduce(op: str, x: np.ndarray, x_dtype: str, last: int, dst_dtype: str) -> np.ndarray:
    """accel.model.vec.reduce: stored [P, G] elements of `op` (sum, max) over groups of `last` elements."""
    v = widen(_two_d(x), x_dtype)
    v = v.reshape(v.shape[0], -1, last)
    out = np.empty(v.shape[:2], np.float32)
    _reduce(REDUCE[op], v, out)
    return _store(out, dst_dtype)


def relu(bits: np.ndarray) -> np.ndarray:
    """accel.model.fp.relu on binary32 bits: maximum(x, +0) with the canonical NaN."""
    shape = np.shape(bits)
    x = _two_d(np.asarray(bits, dtype=np.uint32)).view(np.float32)
    out = np.empty(x.shape, np.float32)
    _relu(x, out)
    return out.view(np.uint32).reshape(shape)
