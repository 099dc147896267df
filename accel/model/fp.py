"""IEEE-754 binary32 and bfloat16 arithmetic on raw bit patterns: the golden model.

Every function takes and returns NumPy arrays of bit patterns (uint32 for binary32, uint16 for
bf16), broadcasts like a NumPy ufunc and accepts scalars (the result is then 0-d). The rules are
written out with integer arithmetic so that a reader sees them, and so that numpy's float32
arithmetic stays an independent oracle for the tests:

* a finite value is ``(-1)**sign * m * 2**e`` with an integer significand ``m`` (implicit bit
  included, subnormals kept: ``m < 2**23`` and ``e = -149``);
* an operation computes its exact result as such an integer pair (aligning, adding and
  multiplying in int64), then rounds ONCE to nearest, ties to even, using the dropped bits
  (guard/round) and a sticky bit for anything shifted out below them;
* overflow rounds to infinity; results below the normal range are rounded as subnormals;
* every NaN produced is the canonical quiet NaN (0x7FC00000, bf16 0x7FC0), whatever the input
  NaNs' signs, payloads or signalling bits were.

``minimum``/``maximum`` follow IEEE 754-2019 minimum/maximum: a NaN operand gives NaN, and -0 is
treated as less than +0. ``relu(x) = maximum(x, +0)``, so ``relu(-0) = +0``. Float-to-integer
conversions round to nearest even, saturate, and map NaN to 0.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

CANONICAL_NAN = 0x7FC00000
BF16_CANONICAL_NAN = 0x7FC0

_SIGN = 0x80000000
_MAG = 0x7FFFFFFF
_INF = 0x7F800000
_FRAC = 0x007FFFFF
_HIDDEN = 0x00800000
_EMIN = -149  # exponent of the least significant bit of every subnormal (and of 2**-126)
_WIDE = 60  # width to which operands of an addition are normalized (sum stays below 2**61)
_MAX_SHIFT = 62  # larger shifts of values below 2**61 all give the same result as this one
_NONE = -(1 << 20)  # exponent given to a zero operand, below everything finite

U32 = NDArray[np.uint32]
U16 = NDArray[np.uint16]
I64 = NDArray[np.int64]


# ---------------------------------------------------------------------------------------------
# Reinterpretation helpers
# ---------------------------------------------------------------------------------------------


def f32_bits(x: ArrayLike) -> U32:
    """Bit patterns of float32 values (reinterpretation, no arithmetic)."""
    return np.asarray(x, dtype=np.float32).view(np.uint32)


def f32_value(bits: ArrayLike) -> NDArray[np.float32]:
    """float32 values of bit patterns (reinterpretation, no arithmetic)."""
    return np.asarray(bits, dtype=np.uint32).view(np.float32)


# ---------------------------------------------------------------------------------------------
# Unpacking, classification and the one rounding step
# ---------------------------------------------------------------------------------------------


def _bits(x: ArrayLike) -> I64:
    """binary32 bit patterns as int64, so that intermediate arithmetic cannot wrap."""
    return np.asarray(x, dtype=np.uint32).astype(np.int64)


def _is_nan(x: I64) -> NDArray[np.bool_]:
    return (x & _MAG) > _INF


def _is_inf(x: I64) -> NDArray[np.bool_]:
    return (x & _MAG) == _INF


def _unpack(x: I64) -> tuple[I64, I64, I64]:
    """Split finite bit patterns into (sign, m, e) with value (-1)**sign * m * 2**e."""
    sign = x >> 31
    exp = (x >> 23) & 0xFF
    frac = x & _FRAC
    m = np.where(exp == 0, frac, frac | _HIDDEN)  # subnormals have no implicit bit
    e = np.maximum(exp, 1) - 150  # ... and the exponent of the smallest normal
    return sign, m, e


def _bit_length(m: I64) -> I64:
    """Number of significant bits of non-negative int64 values (0 for 0)."""
    for step in (1, 2, 4, 8, 16, 32):  # copy the leading one into every lower bit ...
        m = m | (m >> step)
    return np.bitwise_count(m).astype(np.int64)  # ... then count the ones


def _round_pack(sign: I64, m: I64, e: I64, sticky: ArrayLike = 0) -> U32:
    """Round (-1)**sign * (m + s) * 2**e to binary32, nearest even; 0 <= s < 1 is nonzero
    exactly when ``sticky``, which callers set only when m has >= 25 significant bits.

    Requires 0 <= m < 2**61.
    """
    sticky = np.asarray(sticky, dtype=bool)
    # Keep 24 significant bits; fewer if the result is subnormal, whose LSB weighs 2**-149.
    shift = np.maximum(_bit_length(m) - 24, _EMIN - e)
    lsb_exp = e + shift
    right = np.clip(shift, 0, _MAX_SHIFT)
    left = np.clip(-shift, 0, _MAX_SHIFT)
    kept = (m >> right) << left
    dropped = m & ((np.int64(1) << right) - 1)
    half = (np.int64(1) << right) >> 1
    round_up = (right > 0) & ((dropped > half) | ((dropped == half) & (sticky | ((kept & 1) == 1))))
    kept = kept + round_up
    # kept < 2**23 only for subnormals (lsb_exp == -149); a carry out of 24 bits bumps the
    # exponent field by one, which is exactly the renormalized result.
    mag = ((lsb_exp - _EMIN) << 23) + kept
    mag = np.where(kept == 0, 0, np.minimum(mag, _INF))  # underflow to 0, overflow to inf
    return ((sign << 31) | mag).astype(np.uint32)


def _sum_round(sx: I64, mx: I64, ex: I64, sy: I64, my: I64, ey: I64) -> U32:
    """Round (-1)**sx * mx * 2**ex + (-1)**sy * my * 2**ey once to binary32 (m < 2**48)."""
    # Normalize both significands to exactly _WIDE bits (a zero gets exponent _NONE).
    lx = _WIDE - _bit_length(mx)
    ly = _WIDE - _bit_length(my)
    ex = np.where(mx == 0, _NONE, ex - lx)
    ey = np.where(my == 0, _NONE, ey - ly)
    mx = mx << np.minimum(lx, _WIDE)
    my = my << np.minimum(ly, _WIDE)
    # Order by magnitude: x becomes the larger operand.
    swap = (ey > ex) | ((ey == ex) & (my > mx))
    sx, sy = np.where(swap, sy, sx), np.where(swap, sx, sy)
    mx, my = np.where(swap, my, mx), np.where(swap, mx, my)
    ex, ey = np.where(swap, ey, ex), np.where(swap, ex, ey)
    # Align y to x; bits shifted out become the sticky bit. The significands have at most 48
    # significant bits, so sticky implies a shift of 13 or more and x - y keeps >= 59 bits.
    d = np.minimum(ex - ey, _MAX_SHIFT)
    y_aligned = my >> d
    sticky = (my & ((np.int64(1) << d) - 1)) != 0
    # Subtracting y = y_aligned + s (0 < s < 1) is subtracting y_aligned + 1 and adding 1 - s.
    same = sx == sy
    m = np.where(same, mx + y_aligned, mx - y_aligned - sticky)
    # An exact zero sum is +0 (round to nearest), unless both addends are negative (-0 + -0).
    exact_zero = (m == 0) & ~sticky
    sign = np.where(exact_zero, sx & sy, sx)
    return _round_pack(sign, m, ex, sticky)


def _special(result: U32, nan: ArrayLike, inf: ArrayLike, inf_sign: ArrayLike) -> U32:
    """Overlay infinities, then canonical NaNs, on a finite-path result."""
    result = np.where(inf, (np.asarray(inf_sign, dtype=np.int64) << 31) | _INF, result)
    return np.where(nan, CANONICAL_NAN, result).astype(np.uint32)


# ---------------------------------------------------------------------------------------------
# binary32 arithmetic
# ---------------------------------------------------------------------------------------------


def add(a: ArrayLike, b: ArrayLike) -> U32:
    """a + b in binary32, round to nearest even."""
    a, b = np.broadcast_arrays(_bits(a), _bits(b))
    # x is the operand of larger magnitude (magnitude bit patterns order like magnitudes).
    swap = (b & _MAG) > (a & _MAG)
    x, z = np.where(swap, b, a), np.where(swap, a, b)
    sx, mx, ex = _unpack(x)
    sz, mz, ez = _unpack(z)
    # Significands 36 bits up in a wide frame; z aligned to x, the bits shifted out sticky.
    # Sticky needs a shift above 36, so x is normal and the sum keeps >= 58 bits.
    d = np.minimum(ex - ez, _MAX_SHIFT)
    wx, wz = mx << 36, mz << 36
    z_aligned = wz >> d
    sticky = (wz & ((np.int64(1) << d) - 1)) != 0
    # Subtracting z = z_aligned + s (0 < s < 1) is subtracting z_aligned + 1 and adding 1 - s.
    same = sx == sz
    m = np.where(same, wx + z_aligned, wx - z_aligned - sticky)
    # An exact zero sum is +0 (round to nearest), unless both addends are negative (-0 + -0).
    sign = np.where((m == 0) & ~sticky, sx & sz, sx)
    finite = _round_pack(sign, m, ex - 36, sticky)
    nan = _is_nan(a) | _is_nan(b) | (_is_inf(a) & _is_inf(b) & (sx != sz))
    return _special(finite, nan, _is_inf(x), sx)


def sub(a: ArrayLike, b: ArrayLike) -> U32:
    """a - b in binary32 (a + (-b)), round to nearest even."""
    return add(a, _bits(b) ^ _SIGN)


def mul(a: ArrayLike, b: ArrayLike) -> U32:
    """a * b in binary32, round to nearest even."""
    a, b = np.broadcast_arrays(_bits(a), _bits(b))
    sa, ma, ea = _unpack(a)
    sb, mb, eb = _unpack(b)
    sign = sa ^ sb
    finite = _round_pack(sign, ma * mb, ea + eb)  # the 48-bit product is exact
    zero = ((a & _MAG) == 0) | ((b & _MAG) == 0)
    inf = _is_inf(a) | _is_inf(b)
    nan = _is_nan(a) | _is_nan(b) | (inf & zero)
    return _special(finite, nan, inf, sign)


def fma(a: ArrayLike, b: ArrayLike, c: ArrayLike) -> U32:
    """a * b + c in binary32 with a single rounding (the product is not rounded)."""
    a, b, c = np.broadcast_arrays(_bits(a), _bits(b), _bits(c))
    sa, ma, ea = _unpack(a)
    sb, mb, eb = _unpack(b)
    sc, mc, ec = _unpack(c)
    sp = sa ^ sb
    finite = _sum_round(sp, ma * mb, ea + eb, sc, mc, ec)
    zero_product = ((a & _MAG) == 0) | ((b & _MAG) == 0)
    inf_product = _is_inf(a) | _is_inf(b)
    nan = _is_nan(a) | _is_nan(b) | _is_nan(c) | (inf_product & zero_product) | (inf_product & _is_inf(c) & (sp != sc))
    return _special(finite, nan, inf_product | _is_inf(c), np.where(inf_product, sp, sc))


# ---------------------------------------------------------------------------------------------
# Comparisons, minimum/maximum, relu
# ---------------------------------------------------------------------------------------------


def _ordered(x: I64) -> I64:
    """Integer with the same order as the value; -0 and +0 both map to 0."""
    mag = x & _MAG
    return np.where(x >> 31 == 1, -mag, mag)


def _ordered_signed_zero(x: I64) -> I64:
    """Integer with the same order as the value, and -0 (-> -1) below +0 (-> 0)."""
    mag = x & _MAG
    return np.where(x >> 31 == 1, -1 - mag, mag)


def lt(a: ArrayLike, b: ArrayLike) -> NDArray[np.bool_]:
    """a < b (IEEE: false if either is NaN; -0 == +0)."""
    a, b = _bits(a), _bits(b)
    return ~_is_nan(a) & ~_is_nan(b) & (_ordered(a) < _ordered(b))


def le(a: ArrayLike, b: ArrayLike) -> NDArray[np.bool_]:
    """a <= b (IEEE: false if either is NaN; -0 == +0)."""
    a, b = _bits(a), _bits(b)
    return ~_is_nan(a) & ~_is_nan(b) & (_ordered(a) <= _ordered(b))


def eq(a: ArrayLike, b: ArrayLike) -> NDArray[np.bool_]:
    """a == b (IEEE: false if either is NaN, even the same NaN; -0 == +0)."""
    a, b = _bits(a), _bits(b)
    return ~_is_nan(a) & ~_is_nan(b) & (_ordered(a) == _ordered(b))


def minimum(a: ArrayLike, b: ArrayLike) -> U32:
    """IEEE 754-2019 minimum: NaN if either operand is NaN, and -0 < +0."""
    a, b = _bits(a), _bits(b)
    result = np.where(_ordered_signed_zero(a) <= _ordered_signed_zero(b), a, b)
    return np.where(_is_nan(a) | _is_nan(b), CANONICAL_NAN, result).astype(np.uint32)


def maximum(a: ArrayLike, b: ArrayLike) -> U32:
    """IEEE 754-2019 maximum: NaN if either operand is NaN, and -0 < +0."""
    a, b = _bits(a), _bits(b)
    result = np.where(_ordered_signed_zero(a) >= _ordered_signed_zero(b), a, b)
    return np.where(_is_nan(a) | _is_nan(b), CANONICAL_NAN, result).astype(np.uint32)


def relu(x: ArrayLike) -> U32:
    """maximum(x, +0): negatives and -0 become +0, NaN becomes the canonical NaN."""
    x = _bits(x)
    result = np.where(x >> 31 == 1, 0, x)
    return np.where(_is_nan(x), CANONICAL_NAN, result).astype(np.uint32)


# ---------------------------------------------------------------------------------------------
# Conversions
# ---------------------------------------------------------------------------------------------


def bf16_to_fp32(h: ArrayLike) -> U32:
    """Exact widening of bf16 to binary32 (bf16 is the top half); NaN -> canonical NaN."""
    x = np.asarray(h, dtype=np.uint16).astype(np.int64) << 16
    return np.where(_is_nan(x), CANONICAL_NAN, x).astype(np.uint32)


def fp32_to_bf16(x: ArrayLike) -> U16:
    """Round binary32 to bf16, nearest even; overflow -> inf, NaN -> 0x7FC0.

    bf16 has binary32's exponent range, so rounding off the low 16 bits of the pattern is the
    whole conversion: a carry out of the fraction increments the exponent, up to infinity, and
    subnormals round the same way.
    """
    x = _bits(x)
    upper = x >> 16
    dropped = x & 0xFFFF
    round_up = (dropped > 0x8000) | ((dropped == 0x8000) & ((upper & 1) == 1))
    result = upper + round_up
    return np.where(_is_nan(x), BF16_CANONICAL_NAN, result).astype(np.uint16)


def bf16_mul(a: ArrayLike, b: ArrayLike) -> U32:
    """bf16 x bf16 product in binary32: exact (8 x 8 significand bits) unless it under- or
    overflows binary32, where it is rounded to nearest even."""
    return mul(bf16_to_fp32(a), bf16_to_fp32(b))


def int32_to_fp32(i: ArrayLike) -> U32:
    """Signed integers (int8 .. int32) to binary32, nearest even (exact below 2**24)."""
    i = np.asarray(i)
    if not np.issubdtype(i.dtype, np.signedinteger) or i.dtype.itemsize > 4:
        i = i.astype(np.int32)
    i = i.astype(np.int64)
    return _round_pack((i < 0).astype(np.int64), np.abs(i), np.zeros_like(i))


def _round_to_integer(x: ArrayLike) -> tuple[I64, NDArray[np.bool_]]:
    """binary32 rounded to the nearest integer, ties to even, with magnitudes of 2**31 and
    above (including infinities) clamped to +-2**31; also returns the NaN mask."""
    x = _bits(x)
    sign, m, e = _unpack(x)
    right = np.clip(-e, 0, _MAX_SHIFT)
    kept = m >> right
    dropped = m & ((np.int64(1) << right) - 1)
    half = (np.int64(1) << right) >> 1
    round_up = (right > 0) & ((dropped > half) | ((dropped == half) & ((kept & 1) == 1)))
    magnitude = np.minimum((kept + round_up) << np.clip(e, 0, 31), 1 << 31)
    return np.where(sign == 1, -magnitude, magnitude), _is_nan(x)


def fp32_to_int32(x: ArrayLike) -> NDArray[np.int32]:
    """binary32 to int32: nearest even, saturating to [-2**31, 2**31 - 1], NaN -> 0."""
    value, nan = _round_to_integer(x)
    value = np.clip(value, -(1 << 31), (1 << 31) - 1)
    return np.where(nan, 0, value).astype(np.int32)


def fp32_to_int8(x: ArrayLike) -> NDArray[np.int8]:
    """binary32 to int8: nearest even, saturating to [-128, 127], NaN -> 0."""
    value, nan = _round_to_integer(x)
    return np.where(nan, 0, np.clip(value, -128, 127)).astype(np.int8)
