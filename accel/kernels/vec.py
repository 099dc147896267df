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
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic, overload

__all__ = ["binary", "binary_in_memory", "convert", "convert_in_memory", "from_f32", "reduce", "relu", "scalar",
           "scalar_in_memory", "to_f32"]

NAN = np.uint32(0x7FC00000).view(np.float32)
ZERO = np.float32(0.0)
OPS = {"add": 0, "sub": 1, "mul": 2, "max": 3, "min": 4}
REDUCE = {"sum": 0, "max": 3}
STORAGE = {"fp32": np.uint32, "bf16": np.uint16, "int32": np.int32, "int8": np.int8}


# ------------------------------------------------------------------------------- element conversions


@intrinsic
def _f32_of_bits(typingctx, bits):
    """Reinterpret uint32 bits as a float32 (no arithmetic)."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.FloatType())
    return types.float32(types.uint32), codegen


@intrinsic
def _bits_of_f32(typingctx, value):
    """Reinterpret a float32 as its uint32 bits (no arithmetic)."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(32))
    return types.uint32(types.float32), codegen


def _put(out, p, f, r):  # pragma: no cover - replaced by the overload inside compiled code
    """Store float32 r into out[p, f] as out's element type (accel.model.vec.from_f32)."""


@overload(_put)
def _put_impl(out, p, f, r):
    dt = out.dtype
    if dt == types.uint32:
        def put(out, p, f, r):
            out[p, f] = np.uint32(0x7FC00000) if r != r else _bits_of_f32(r)
    elif dt == types.uint16:
        def put(out, p, f, r):
            if r != r:
                out[p, f] = np.uint16(0x7FC0)
            else:  # nearest even on the low 16 bits; a carry runs into the exponent, up to inf
                b = _bits_of_f32(r)
                out[p, f] = np.uint16((b + np.uint32(0x7FFF) + ((b >> np.uint32(16)) & np.uint32(1))) >> np.uint32(16))
    elif dt in (types.int8, types.int32):
        lo, hi = (-128.0, 127.0) if dt == types.int8 else (-2147483648.0, 2147483647.0)

        def put(out, p, f, r):
            v = np.float64(r)  # exact
            if v != v:
                out[p, f] = 0
                return
            v = min(max(v, lo), hi)  # saturate (the bounds are integers, so rounding cannot leave them)
            q = math.floor(v)
            d = v - q  # exact: |v| < 2**32 has at most 24 significant bits
            if d > 0.5 or (d == 0.5 and q % 2.0 != 0.0):
                q += 1.0
            out[p, f] = np.int64(q)
    else:
        raise TypeError(f"no binary32 conversion to {dt}")
    return put


def _get(a, p, f):  # pragma: no cover - replaced by the overload inside compiled code
    """Stored element a[p, f] as a float32 (accel.model.vec.to_f32, NaN payloads kept: results canonicalize)."""


@overload(_get)
def _get_impl(a, p, f):
    dt = a.dtype
    if dt == types.uint32:
        def get(a, p, f):
            return _f32_of_bits(a[p, f])
    elif dt == types.uint16:
        def get(a, p, f):
            return _f32_of_bits(np.uint32(a[p, f]) << np.uint32(16))
    elif dt in (types.int8, types.int32):
        def get(a, p, f):
            return np.float32(a[p, f])  # round to nearest even, as numpy's conversion (fp.int32_to_fp32)
    else:
        raise TypeError(f"no binary32 conversion from {dt}")
    return get


# ------------------------------------------------------------------------------- arithmetic


@njit(inline="always")
def _maximum(x, y):
    """IEEE 754-2019 maximum: NaN if either is NaN, and +0 above -0."""
    if x != x or y != y:
        return NAN
    if x > y:
        return x
    if y > x:
        return y
    return x if math.copysign(1.0, x) > 0 else y  # equal: +0 beats -0


@njit(inline="always")
def _minimum(x, y):
    """IEEE 754-2019 minimum: NaN if either is NaN, and -0 below +0."""
    if x != x or y != y:
        return NAN
    if x < y:
        return x
    if y < x:
        return y
    return x if math.copysign(1.0, x) < 0 else y


@njit(inline="always")
def _op(code, x, y):
    """One binary32 operation (a NaN result is canonicalized when stored)."""
    if code == 0:
        return x + y
    if code == 1:
        return x - y
    if code == 2:
        return x * y
    if code == 3:
        return _maximum(x, y)
    return _minimum(x, y)


@njit(cache=True)
def _binary(code, a, b, out):  # pragma: no cover - compiled
    for p in range(a.shape[0]):
        for f in range(a.shape[1]):
            _put(out, p, f, _op(code, _f32_of_bits(a[p, f]), _f32_of_bits(b[p, f])))


@njit(cache=True)
def _scalar(code, a, s, out):  # pragma: no cover - compiled
    for p in range(a.shape[0]):
        for f in range(a.shape[1]):
            _put(out, p, f, _op(code, _f32_of_bits(a[p, f]), s))


@njit(cache=True)
def _reduce(code, x, last, out):  # pragma: no cover - compiled
    for p in range(x.shape[0]):
        for g in range(out.shape[1]):
            base = g * last
            acc = ZERO if code == 0 else _f32_of_bits(x[p, base])
            for j in range(0 if code == 0 else 1, last):  # strictly in index order
                acc = _op(code, acc, _f32_of_bits(x[p, base + j]))
            _put(out, p, g, acc)


@njit(cache=True)
def _convert(a, out):  # pragma: no cover - compiled
    for p in range(a.shape[0]):
        for f in range(a.shape[1]):
            _put(out, p, f, _f32_of_bits(a[p, f]))


@njit(cache=True)
def _relu(a, out):  # pragma: no cover - compiled
    for p in range(a.shape[0]):
        for f in range(a.shape[1]):
            _put(out, p, f, _maximum(_f32_of_bits(a[p, f]), ZERO))  # relu = maximum(x, +0): -0 -> +0


# ------------------------------------------------------------------------------- in place, for the machine
# The machine's fused read-compute-write of one instruction whose operands are each one ascending run
# of elements per partition: `out`, `a`, `b` are whole typed memories (SBUF or PSUM views), an operand
# is (memory, first partition, first element) and every operand spans P partitions x F elements. All
# results are computed before any is stored, so operands may overlap as the model's read-then-write allows.


@njit(cache=True)
def binary_in_memory(code, out, pd, cd, a, pa, ca, b, pb, cb, P, F):  # pragma: no cover - compiled
    """accel.model.vec.binary of two memory runs, stored into a third."""
    r = np.empty((P, F), np.float32)
    for p in range(P):
        for f in range(F):
            r[p, f] = _op(code, _get(a, pa + p, ca + f), _get(b, pb + p, cb + f))
    for p in range(P):
        for f in range(F):
            _put(out, pd + p, cd + f, r[p, f])


@njit(cache=True)
def scalar_in_memory(code, out, pd, cd, a, pa, ca, s, P, F):  # pragma: no cover - compiled
    """accel.model.vec.scalar of a memory run and the binary32 scalar s, stored into a run."""
    r = np.empty((P, F), np.float32)
    for p in range(P):
        for f in range(F):
            r[p, f] = _op(code, _get(a, pa + p, ca + f), s)
    for p in range(P):
        for f in range(F):
            _put(out, pd + p, cd + f, r[p, f])


@njit(cache=True)
def convert_in_memory(out, pd, cd, a, pa, ca, P, F):  # pragma: no cover - compiled
    """accel.model.vec.convert of a memory run, stored into a run."""
    r = np.empty((P, F), np.float32)
    for p in range(P):
        for f in range(F):
            r[p, f] = _get(a, pa + p, ca + f)
    for p in range(P):
        for f in range(F):
            _put(out, pd + p, cd + f, r[p, f])


# ------------------------------------------------------------------------------- the primitives


def _bits(a: np.ndarray, dtype: str) -> np.ndarray:
    """Stored elements of `dtype` as 2-D binary32 bits (uint32), exactly (NaN payloads kept: every
    result canonicalizes). fp32 costs nothing; bf16 is the top half; integers round to nearest
    even, as numpy's conversion does (fp.int32_to_fp32)."""
    a = np.asarray(a)
    if dtype == "fp32":
        a = a if a.dtype.type is np.uint32 else a.astype(np.uint32)
    elif dtype == "bf16":
        a = a.astype(np.uint16, copy=False).astype(np.uint32) << np.uint32(16)
    elif dtype in ("int8", "int32"):
        a = a.astype(STORAGE[dtype], copy=False).astype(np.float32).view(np.uint32)
    else:
        raise ValueError(f"no binary32 conversion from {dtype}")
    return a if a.ndim == 2 else a.reshape(1, -1)


def convert(values: np.ndarray, src_dtype: str, dst_dtype: str) -> np.ndarray:
    """from_f32(to_f32(values, src_dtype), dst_dtype) in one pass (vec.cast)."""
    v = _bits(values, src_dtype)
    out = np.empty(v.shape, STORAGE[dst_dtype])
    _convert(v, out)
    return out if out.shape == np.shape(values) else out.reshape(np.shape(values))


def to_f32(values: np.ndarray, dtype: str) -> np.ndarray:
    """accel.model.vec.to_f32: stored elements -> binary32 bits (uint32), NaN canonical."""
    return convert(values, dtype, "fp32")


def from_f32(bits: np.ndarray, dtype: str) -> np.ndarray:
    """accel.model.vec.from_f32: binary32 bits -> stored elements of `dtype` (fp32: bits unchanged)."""
    bits = np.asarray(bits, dtype=np.uint32)
    return bits if dtype == "fp32" else convert(bits, "fp32", dtype)


def binary(op: str, a: np.ndarray, a_dtype: str, b: np.ndarray, b_dtype: str, dst_dtype: str) -> np.ndarray:
    """accel.model.vec.binary: stored dst elements of `op` (add sub mul max min) on equal-shaped a and b."""
    x, y = _bits(a, a_dtype), _bits(b, b_dtype)
    out = np.empty(x.shape, STORAGE[dst_dtype])
    _binary(OPS[op], x, y, out)
    return out if out.shape == a.shape else out.reshape(a.shape)


def scalar(op: str, a: np.ndarray, a_dtype: str, s: int, dst_dtype: str) -> np.ndarray:
    """accel.model.vec.scalar: stored dst elements of `op` on a and the binary32 scalar with bits s."""
    x = _bits(a, a_dtype)
    out = np.empty(x.shape, STORAGE[dst_dtype])
    _scalar(OPS[op], x, np.uint32(s).view(np.float32), out)
    return out if out.shape == a.shape else out.reshape(a.shape)


def reduce(op: str, x: np.ndarray, x_dtype: str, last: int, dst_dtype: str) -> np.ndarray:
    """accel.model.vec.reduce: stored [P, G] elements of `op` (sum, max) over groups of `last` elements."""
    v = _bits(x, x_dtype)
    out = np.empty((v.shape[0], v.shape[1] // last), STORAGE[dst_dtype])
    _reduce(REDUCE[op], v, last, out)
    return out


def relu(bits: np.ndarray) -> np.ndarray:
    """accel.model.fp.relu on binary32 bits: maximum(x, +0) with the canonical NaN."""
    b = np.asarray(bits)
    v = _bits(b, "fp32")
    out = np.empty(v.shape, np.uint32)
    _relu(v, out)
    return out if b.ndim == 2 else out.reshape(b.shape)
