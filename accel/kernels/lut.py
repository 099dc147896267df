"""The function-approximation unit, fast: accel.model.lut's arithmetic in Numba, bit for bit.

Mirrors `accel.model.lut.apply` (tests/equivalence/test_lut_kernels.py). Native binary32 multiply,
add and subtract are IEEE round-to-nearest-even with subnormals (no fastmath), as accel.model.fp.
The fused multiply-add is exact in binary64 up to one rounding: the product of two binary32 values
is exact in binary64, TwoSum gives the exact error of adding c, and the binary64 sum is then
rounded *to odd* (its last bit set when inexact) before the final rounding to binary32; with
53 >= 24 + 2 bits this double rounding equals one rounding of the exact result. Every NaN is the
canonical 0x7FC00000.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from accel.model import lut

KIND = {k: i for i, k in enumerate(lut.KINDS)}
RULE = {r: i for i, r in enumerate(lut.RULES)}
NAN = np.uint32(0x7FC00000)


@njit(cache=True, inline="always")
def _f(b: np.uint32) -> np.float32:
    return np.uint32(b).view(np.float32)


@njit(cache=True, inline="always")
def _u(x: np.float32) -> np.uint32:
    return np.float32(x).view(np.uint32)


@njit(cache=True, inline="always")
def _d2u(x: np.float64) -> np.uint64:
    return np.float64(x).view(np.uint64)


@njit(cache=True, inline="always")
def _u2d(b: np.uint64) -> np.float64:
    return np.uint64(b).view(np.float64)


@njit(cache=True)
def fma32(a: np.float32, b: np.float32, c: np.float32) -> np.float32:
    """a * b + c rounded once to binary32."""
    p = np.float64(a) * np.float64(b)
    s = p + np.float64(c)
    if not (np.isfinite(p) and np.isfinite(c)) or s == 0.0:
        return np.float32(s)
    bp = s - np.float64(c)  # TwoSum: err = exact (p + c) - s
    err = (p - bp) + (np.float64(c) - (s - bp))
    if err != 0.0:
        bits = _d2u(s)
        if bits & np.uint64(1) == 0:  # round to odd: move to the odd neighbour on err's side
            toward_zero = (err < 0.0) == (s > 0.0)
            bits = bits - np.uint64(1) if toward_zero else bits + np.uint64(1)
            s = _u2d(bits)
    return np.float32(s)


@njit(cache=True)
def _evaluate(c: np.ndarray, emin: int, mbits: int, z: np.float32) -> np.float32:
    bits = _u(z)
    side = bits >> np.uint32(31)
    e = int((bits >> np.uint32(23)) & np.uint32(0xFF))
    low = 23 - mbits
    if e < emin:
        seg = 0
        base = bits & np.uint32(0x80000000)
    else:
        seg = 1 + ((e - emin) << mbits) + int((bits & np.uint32(0x7FFFFF)) >> np.uint32(low))
        base = (bits & ~np.uint32((1 << low) - 1)) | np.uint32(1 << (low - 1))
    t = z - _f(base)
    deg = c.shape[2] - 1
    if t == 0:
        return c[side, seg, 0]
    p = c[side, seg, deg]
    for k in range(deg - 1, -1, -1):
        p = fma32(p, t, c[side, seg, k])
    return p


@njit(cache=True, inline="always")
def _pow2(k: int) -> np.float32:
    return _f(np.uint32((k + 127) << 23))


@njit(cache=True)
def _scale(p: np.float32, k: int) -> np.float32:
    half = k >> 1
    return (p * _pow2(half)) * _pow2(k - half)


@njit(cache=True)
def _clamp_exp(x: np.float32) -> np.float32:
    if np.isnan(x):
        return np.float32(0.0)
    return min(max(x, _f(np.uint32(lut.EXP_LO))), _f(np.uint32(lut.EXP_HI)))


@njit(cache=True)
def _exp_parts(ce: np.ndarray, emin: int, mbits: int, x: np.float32) -> tuple[np.float32, int]:
    x = _clamp_exp(x)
    k = int(np.rint(x * _f(np.uint32(lut.LOG2E))))
    kf = np.float32(k)
    r = fma32(kf, -_f(np.uint32(lut.LN2_HI)), x)
    r = fma32(kf, -_f(np.uint32(lut.LN2_LO)), r)
    return _evaluate(ce, emin, mbits, r), k


@njit(cache=True)
def _split(x: np.float32) -> tuple[int, np.float32]:
    """Positive finite nonzero x -> (e, m), x = m 2**e, m in [1, 2)."""
    adj = 0
    if _u(x) >> np.uint32(23) == 0:
        x = x * _f(np.uint32(lut.TWO24))
        adj = 24
    b = _u(x)
    e = int(b >> np.uint32(23)) - 127 - adj
    return e, _f((b & np.uint32(0x7FFFFF)) | np.uint32(127 << 23))


@njit(cache=True)
def element(kind: int, lo: np.float32, hi: np.float32, lo_rule: int, lo_val: np.uint32, hi_rule: int,
            hi_val: np.uint32, c1: np.ndarray, e1: int, m1: int, c2: np.ndarray, e2: int, m2: int,
            ce: np.ndarray, ee: int, me: int, xb: np.uint32) -> np.uint32:
    """The unit's result bits for input bits xb; the arguments before xb are `pack(f)`."""
    x = _f(xb)
    mag = xb & np.uint32(0x7FFFFFFF)
    sign = xb & np.uint32(0x80000000)
    if mag > np.uint32(0x7F800000):
        return NAN
    if kind == 0:  # direct
        if lo < x < hi:
            return _u(_evaluate(c1, e1, m1, x))
        rule, val = (lo_rule, lo_val) if x <= lo else (hi_rule, hi_val)
        if rule == 0:
            return val
        if rule == 1:
            return xb
        p, k = _exp_parts(ce, ee, me, x)
        q = p if rule == 2 else _clamp_exp(x) * p
        y = _scale(fma32(q * _f(val), _scale(p, k), q), k)
        return NAN if np.isnan(y) else _u(y)
    if kind == 1:  # exp
        p, k = _exp_parts(c1, e1, m1, x)
        return _u(_scale(p, k))
    if kind == 2:  # log
        if mag == 0:
            return np.uint32(0xFF800000)
        if sign:
            return NAN
        if mag == np.uint32(0x7F800000):
            return xb
        e, m = _split(x)
        if _u(m) & np.uint32(0x400000):
            e += 1
            m = _f(_u(m) - np.uint32(1 << 23))
        p = _evaluate(c1, e1, m1, m - np.float32(1.0))
        ef = np.float32(e)
        return _u(fma32(ef, _f(np.uint32(lut.LN2_HI)), fma32(ef, _f(np.uint32(lut.LN2_LO)), p)))
    if kind == 3:  # reciprocal
        if mag == 0:
            return sign | np.uint32(0x7F800000)
        if mag == np.uint32(0x7F800000):
            return sign
        e, m = _split(_f(mag))
        return _u(_scale(_evaluate(c1, e1, m1, m), -e)) | sign
    if kind == 4 or kind == 5:  # rsqrt, sqrt
        if mag == 0:
            return (sign | np.uint32(0x7F800000)) if kind == 4 else xb
        if sign:
            return NAN
        if mag == np.uint32(0x7F800000):
            return np.uint32(0) if kind == 4 else xb
        e, m = _split(x)
        if e & 1:
            m = _f(_u(m) + np.uint32(1 << 23))
            e -= 1
        p = _evaluate(c1, e1, m1, m)
        return _u(_scale(p, -(e >> 1) if kind == 4 else e >> 1))
    # sin (6), cos (7)
    if mag > np.uint32(lut.SIN_MAX):
        return NAN
    k = int(np.rint(x * _f(np.uint32(lut.TWO_OVER_PI))))
    r = x
    if k != 0:
        kf = np.float32(k)
        r = fma32(kf, -_f(np.uint32(lut.PIO2_1)), x)
        r = fma32(kf, -_f(np.uint32(lut.PIO2_2)), r)
        r = fma32(kf, -_f(np.uint32(lut.PIO2_3)), r)
    q = (k + (1 if kind == 7 else 0)) & 3
    y = _evaluate(c1, e1, m1, r) if q & 1 == 0 else _evaluate(c2, e2, m2, r)
    return _u(y) ^ np.uint32(0x80000000) if q >= 2 else _u(y)


@njit(cache=True, parallel=True)
def _apply(kind, lo, hi, lo_rule, lo_val, hi_rule, hi_val, c1, e1, m1, c2, e2, m2, ce, ee, me, x, out):
    for i in prange(x.size):
        out[i] = element(kind, lo, hi, lo_rule, lo_val, hi_rule, hi_val, c1, e1, m1, c2, e2, m2, ce, ee, me, x[i])


@njit(cache=True)
def _apply_serial(kind, lo, hi, lo_rule, lo_val, hi_rule, hi_val, c1, e1, m1, c2, e2, m2, ce, ee, me, x, out):
    """_apply on one thread: below PARALLEL_MIN elements, waking the thread pool costs more than it saves."""
    for i in range(x.size):
        out[i] = element(kind, lo, hi, lo_rule, lo_val, hi_rule, hi_val, c1, e1, m1, c2, e2, m2, ce, ee, me, x[i])


PARALLEL_MIN = 1 << 14  # elements from which a kernel runs on every core


def pack(f: lut.Function) -> tuple:
    """The kernel's arguments for function f (everything but the inputs)."""
    def tab(t: lut.Table) -> tuple:
        return np.ascontiguousarray(t.coeffs.view(np.float32)), t.emin, t.mbits

    t1 = tab(f.tables[0])
    t2 = tab(f.tables[1]) if len(f.tables) > 1 else t1
    te = tab(lut.builtin("exp").tables[0])
    return (KIND[f.kind], np.uint32(f.lo).view(np.float32), np.uint32(f.hi).view(np.float32), RULE[f.lo_rule],
            np.uint32(f.lo_value), RULE[f.hi_rule], np.uint32(f.hi_value), *t1, *t2, *te)


_PACKED: dict[int, tuple[lut.Function, tuple]] = {}  # pack(f) by function object (frozen), the last 64


def _packed(f: lut.Function) -> tuple:
    """pack(f), once per function object: a program applies the same few functions many times."""
    hit = _PACKED.get(id(f))
    if hit is None or hit[0] is not f:
        if len(_PACKED) >= 64:
            _PACKED.clear()
        hit = _PACKED[id(f)] = (f, pack(f))  # holds f, so its id is not reused while it is here
    return hit[1]


def apply(f: lut.Function, x: np.ndarray, packed: tuple | None = None) -> np.ndarray:
    """f(x) for binary32 bit patterns x: equals accel.model.lut.apply(f, x) bit for bit."""
    x = np.ascontiguousarray(x, dtype=np.uint32)
    out = np.empty(x.size, dtype=np.uint32)
    (_apply if x.size >= PARALLEL_MIN else _apply_serial)(*(packed or _packed(f)), x.reshape(-1), out)
    return out.reshape(x.shape)
