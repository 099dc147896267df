"""accel.model.fp against oracles nobody here wrote: numpy float32/float64 arithmetic, and exact
rational arithmetic (fractions.Fraction) where numpy has no single-rounding answer (fma)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from accel.model import fp

N_RANDOM = 1_000_000


@pytest.fixture(autouse=True)
def _quiet_numpy():
    """The oracles compute with inf and NaN on purpose."""
    with np.errstate(all="ignore"):
        yield


# Every class the rounding, alignment and special-value logic distinguishes, both signs.
_POSITIVE_SPECIALS = [
    0x00000000,  # +0
    0x00000001,  # smallest subnormal
    0x00000002,
    0x00400000,  # subnormal, single bit
    0x007FFFFF,  # largest subnormal
    0x00800000,  # smallest normal
    0x00800001,
    0x00FFFFFF,
    0x01000000,
    0x33800000,  # 2**-24: half an ulp of 1.0 (ties with 1.0)
    0x34000000,  # 2**-23: one ulp of 1.0
    0x3F000000,  # 0.5
    0x3F800000,  # 1.0
    0x3F800001,  # 1.0 + ulp (odd: ties round away from it)
    0x3FC00000,  # 1.5
    0x3FFFFFFF,  # just below 2
    0x40000000,  # 2.0
    0x4B000000,  # 2**23: ulp == 1
    0x4B800001,  # 2**24 + 2
    0x4EFFFFFF,  # largest float below 2**31
    0x4F000000,  # 2**31
    0x5F800000,  # 2**64
    0x7F000000,  # 2**127
    0x7F7FFFFF,  # largest normal
    0x7F800000,  # inf
    0x7FC00000,  # canonical quiet NaN
    0x7F800001,  # signalling NaN
    0x7FC12345,  # quiet NaN with payload
    0x7FBFFFFF,  # signalling NaN, full payload
]
SPECIALS = np.array(_POSITIVE_SPECIALS + [x | 0x80000000 for x in _POSITIVE_SPECIALS], dtype=np.uint32)


def _as_bits(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=np.float32).view(np.uint32)


def _is_nan_bits(x: np.ndarray) -> np.ndarray:
    return (np.asarray(x, dtype=np.uint32) & 0x7FFFFFFF) > 0x7F800000


def assert_same_fp32(got, expected, *inputs) -> None:
    """Bit-exact equality; an expected NaN (any bits) requires exactly the canonical NaN."""
    got = np.asarray(got, dtype=np.uint32)
    expected = np.asarray(expected, dtype=np.uint32)
    assert got.shape == expected.shape
    want = np.where(_is_nan_bits(expected), np.uint32(fp.CANONICAL_NAN), expected)
    bad = np.nonzero(got != want)
    if bad[0].size:
        rows = []
        for index in zip(*bad, strict=True):
            args = ", ".join(f"{int(np.broadcast_to(x, got.shape)[index]):#010x}" for x in inputs)
            rows.append(f"({args}) -> {int(got[index]):#010x}, want {int(want[index]):#010x}")
            if len(rows) == 8:
                break
        pytest.fail(f"{bad[0].size} mismatches of {got.size}:\n" + "\n".join(rows))


def test_checker_catches_one_ulp_and_noncanonical_nan():
    x = np.array([0x3F800000, 0x7FC00000], dtype=np.uint32)
    with pytest.raises(pytest.fail.Exception):
        assert_same_fp32(x + np.uint32(1) * (x == 0x3F800000), x)
    with pytest.raises(pytest.fail.Exception):
        assert_same_fp32(np.array([0x7FC00001], dtype=np.uint32), np.array([0x7FC00000]))


def _uniform(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(0, 1 << 32, n, dtype=np.uint64).astype(np.uint32)


def _with_exponent(rng: np.random.Generator, exponent: np.ndarray) -> np.ndarray:
    """Random sign and fraction, given exponent field (clipped to finite values)."""
    n = exponent.size
    exponent = np.clip(exponent, 0, 254).astype(np.uint32)
    sign = rng.integers(0, 2, n, dtype=np.uint32) << 31
    return sign | (exponent << 23) | rng.integers(0, 1 << 23, n, dtype=np.uint32)


def _exponent(x: np.ndarray) -> np.ndarray:
    return ((x >> 23) & 0xFF).astype(np.int64)


def random_pairs(seed: int, n: int = N_RANDOM) -> tuple[np.ndarray, np.ndarray]:
    """Quarter each: uniform bit patterns; exponents within +-26 (alignment, cancellation);
    products near the subnormal boundary; products near overflow."""
    rng = np.random.default_rng(seed)
    q = n // 4
    a = _uniform(rng, n)
    b = _uniform(rng, n)
    # Nearby exponents: a third each at the bottom, the top and anywhere in the range.
    a[q : 2 * q] = _with_exponent(
        rng, rng.choice([0, 228, 0], q) + rng.integers(0, 27, q) + rng.integers(0, 2, q) * rng.integers(0, 201, q)
    )
    ea = _exponent(a[q:])
    b[q : 2 * q] = _with_exponent(rng, ea[:q] + rng.integers(-26, 27, q))
    b[2 * q : 3 * q] = _with_exponent(rng, rng.integers(102, 130, q) - ea[q : 2 * q])
    b[3 * q :] = _with_exponent(rng, rng.integers(379, 384, n - 3 * q) - ea[2 * q :])
    # Sparse significands make exact ties common in products and sums.
    sparse = rng.random(n) < 0.25
    b[sparse] &= np.uint32(0xFFF00000)
    return a, b


def cross(*arrays: np.ndarray) -> list[np.ndarray]:
    return [g.ravel() for g in np.meshgrid(*arrays, indexing="ij")]


# ---------------------------------------------------------------------------------------------
# add, sub, mul against numpy float32
# ---------------------------------------------------------------------------------------------

NUMPY_BINARY = {
    "add": (fp.add, np.add),
    "sub": (fp.sub, np.subtract),
    "mul": (fp.mul, np.multiply),
}


@pytest.mark.parametrize("name", sorted(NUMPY_BINARY))
def test_binary_specials_crossed(name):
    model, oracle = NUMPY_BINARY[name]
    a, b = cross(SPECIALS, SPECIALS)
    expected = _as_bits(oracle(fp.f32_value(a), fp.f32_value(b)))
    assert_same_fp32(model(a, b), expected, a, b)


@pytest.mark.parametrize("name", sorted(NUMPY_BINARY))
def test_binary_random(name):
    model, oracle = NUMPY_BINARY[name]
    a, b = random_pairs(seed=sorted(NUMPY_BINARY).index(name))
    expected = _as_bits(oracle(fp.f32_value(a), fp.f32_value(b)))
    assert_same_fp32(model(a, b), expected, a, b)


def _ties(exact: np.ndarray, rounded: np.ndarray) -> np.ndarray:
    """Where the float64 value `exact` lies exactly halfway between float32 neighbours."""
    r = rounded.astype(np.float64)
    away = np.nextafter(rounded, np.where(exact > r, np.inf, -np.inf).astype(np.float32))
    return np.isfinite(r) & (exact != r) & (np.abs(exact - r) == np.abs(away - exact))


def test_add_and_mul_random_sets_contain_ties_and_edges():
    """Guards the generator: the random tests above must exercise ties, subnormal results and
    overflow, or they could pass on a model that rounds wrongly there."""
    a, b = random_pairs(seed=7, n=200_000)
    fa, fb = fp.f32_value(a).astype(np.float64), fp.f32_value(b).astype(np.float64)
    for exact in (fa + fb, fa * fb):  # exact in float64 for finite float32 operands
        rounded = exact.astype(np.float32)
        assert _ties(exact, rounded).sum() > 1000
        assert (np.abs(rounded[rounded != 0]) < 2.0**-126).sum() > 100
        assert np.isinf(rounded[np.isfinite(exact)]).sum() > 100


def test_directed_rounding_cases():
    one, half_ulp, ulp = 0x3F800000, 0x33800000, 0x34000000
    cases = [
        (fp.add, one, half_ulp, one),  # 1 + 2**-24: tie, stays at even 1.0
        (fp.add, 0x3F800001, half_ulp, 0x3F800002),  # odd + tie rounds up to even
        (fp.sub, one, ulp, 0x3F7FFFFE),  # 1 - 2**-23 is exact (below 1, ulp halves)
        (fp.add, 0x00000001, 0x80000001, 0x00000000),  # exact cancellation is +0
        (fp.add, 0x80000000, 0x80000000, 0x80000000),  # -0 + -0 = -0
        (fp.sub, 0x80000000, 0x00000000, 0x80000000),  # -0 - +0 = -0
        (fp.add, 0x007FFFFF, 0x00000001, 0x00800000),  # subnormal carries into normal
        (fp.add, 0x7F7FFFFF, 0x73000000, 0x7F800000),  # max + half ulp: tie to even = inf
        (fp.add, 0x7F7FFFFF, 0x72FFFFFF, 0x7F7FFFFF),  # just below the tie: stays finite
        (fp.mul, 0x00800000, 0x3F000000, 0x00400000),  # normal -> subnormal, exact
        (fp.mul, 0x00000001, 0x3F000000, 0x00000000),  # 2**-150 is a tie: to even 0
        (fp.mul, 0x00000001, 0x3F400000, 0x00000001),  # 0.75 * 2**-149 rounds up
        (fp.mul, 0x80000003, 0x3F000000, 0x80000002),  # 1.5 * 2**-149 tie: to even 2
        (fp.mul, 0x7F000000, 0x40000000, 0x7F800000),  # 2**127 * 2 overflows to inf
        (fp.mul, 0x7F800000, 0x80000000, fp.CANONICAL_NAN),  # inf * -0
        (fp.add, 0x7F800000, 0xFF800000, fp.CANONICAL_NAN),  # inf - inf
        (fp.add, 0xFFC12345, 0x3F800000, fp.CANONICAL_NAN),  # payload and sign dropped
    ]
    for op, a, b, want in cases:
        assert int(op(a, b)) == want, (op.__name__, hex(a), hex(b))


# ---------------------------------------------------------------------------------------------
# fma: exact rational oracle, and float64 where the sum is provably exact
# ---------------------------------------------------------------------------------------------


def _f32(bits: int) -> Fraction:
    return Fraction(float(fp.f32_value(np.uint32(bits))))


def _nearest_f32_bits(x: Fraction) -> int:
    """The binary32 nearest to nonzero x, ties to the even bit pattern; beyond the largest
    finite value, 2**128 (the pattern of inf) takes part as the next candidate."""
    sign = 0x80000000 if x < 0 else 0
    mag = abs(x)
    # float() rounds correctly to double; double rounding to float32 can miss by one step only.
    guess = int(_as_bits(np.float32(min(float(mag), 2.0**128))))
    candidates = [c for c in (guess - 1, guess, guess + 1) if 0 <= c <= 0x7F800000]

    def value(c: int) -> Fraction:
        return Fraction(2) ** 128 if c == 0x7F800000 else _f32(c)

    return sign | min(candidates, key=lambda c: (abs(value(c) - mag), c & 1))


def fma_oracle(a: int, b: int, c: int) -> int:
    """IEEE fma from exact rationals; specials from float64 (a*b is exact in float64)."""
    fa, fb, fc = (float(fp.f32_value(np.uint32(v))) for v in (a, b, c))
    if not all(np.isfinite([fa, fb, fc])):
        return int(_as_bits(np.float32(np.float64(fa) * fb + fc)))
    x = Fraction(fa) * Fraction(fb) + Fraction(fc)
    if x == 0:  # exact zero: +0, unless both addends are (zero and) negative
        product_negative = (a ^ b) >> 31
        return 0x80000000 if product_negative and c >> 31 and fa * fb == 0 else 0
    return _nearest_f32_bits(x)


def _check_fma_with_fractions(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> None:
    expected = np.array(
        [fma_oracle(int(x), int(y), int(z)) for x, y, z in zip(a, b, c, strict=True)],
        dtype=np.uint32,
    )
    assert_same_fp32(fp.fma(a, b, c), expected, a, b, c)


def test_fma_oracle_is_not_vacuous():
    assert fma_oracle(0x3F800001, 0x3F800001, 0xBF800002) == 0x28800000  # 2**-46, not 0
    assert fma_oracle(0x3F800000, 0x33800000, 0x3F800001) == 0x3F800002  # tie to even
    assert fma_oracle(0x80000000, 0x3F800000, 0x80000000) == 0x80000000  # -0 + -0
    assert fma_oracle(0x3F800000, 0x3F800000, 0xBF800000) == 0x00000000  # 1 - 1 = +0


def test_fma_specials_crossed():
    classes = [
        0x0,
        0x1,
        0x7FFFFF,
        0x800000,
        0x33800000,
        0x3F800000,
        0x3F800001,
        0x7F7FFFFF,
        0x7F800000,
        0x7F800001,
        0x7FC12345,
    ]
    sel = np.array(classes + [x | 0x80000000 for x in classes], dtype=np.uint32)
    a, b, c = cross(sel, sel, sel)
    _check_fma_with_fractions(a, b, c)


def test_fma_random_fractions():
    """Cancellation, subnormal products and uniform operands, against exact rationals."""
    rng = np.random.default_rng(11)
    n = 1000
    a, b = random_pairs(seed=12, n=3 * n)
    c = _uniform(rng, 3 * n)
    # c close to -(a*b): massive cancellation, where a rounded product would be far off.
    product = fp.mul(a[:n], b[:n]) ^ np.uint32(0x80000000)
    c[:n] = product ^ rng.integers(0, 1 << 6, n, dtype=np.uint32)
    # c at the product's exponent +-30: partial overlap, sticky bits.
    c[n : 2 * n] = _with_exponent(rng, _exponent(fp.mul(a[n : 2 * n], b[n : 2 * n])) - 30 + rng.integers(0, 61, n))
    _check_fma_with_fractions(a, b, c)


def test_fma_float64_exact_volume():
    """Where the float64 sum of the exact float64 product and c is exact (checked by TwoSum),
    rounding it to float32 is the single-rounding fma."""
    a, b = random_pairs(seed=21)
    rng = np.random.default_rng(22)
    ep = _exponent(fp.mul(a, b))
    c = _with_exponent(rng, ep + rng.integers(-4, 5, a.size))
    fa, fb, fc = (fp.f32_value(x).astype(np.float64) for x in (a, b, c))
    p = fa * fb
    s = p + fc
    bb = s - p
    exact = np.isfinite(s) & ((p - (s - bb)) + (fc - bb) == 0)
    expected = _as_bits(s.astype(np.float32))
    assert exact.mean() > 0.5
    assert_same_fp32(fp.fma(a[exact], b[exact], c[exact]), expected[exact], a[exact], b[exact], c[exact])


# ---------------------------------------------------------------------------------------------
# compare, min/max, relu
# ---------------------------------------------------------------------------------------------

COMPARE = {"lt": (fp.lt, np.less), "le": (fp.le, np.less_equal), "eq": (fp.eq, np.equal)}


@pytest.mark.parametrize("name", sorted(COMPARE))
def test_compare(name):
    model, oracle = COMPARE[name]
    a1, b1 = cross(SPECIALS, SPECIALS)
    a2, b2 = random_pairs(seed=31)
    a2[::3] = b2[::3] ^ np.uint32(0x80000000) * (b2[::3] & 1)  # many equal values
    a, b = np.concatenate([a1, a2]), np.concatenate([b1, b2])
    got = model(a, b)
    assert got.dtype == np.bool_
    np.testing.assert_array_equal(got, oracle(fp.f32_value(a), fp.f32_value(b)))


def _ieee_min_max(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """numpy's minimum/maximum, made definite for +-0 pairs by the IEEE 754-2019 rule."""
    fa, fb = fp.f32_value(a), fp.f32_value(b)
    lo, hi = _as_bits(np.minimum(fa, fb)), _as_bits(np.maximum(fa, fb))
    zeros = (fa == 0) & (fb == 0)
    return np.where(zeros, a | b, lo), np.where(zeros, a & b, hi)


def test_minimum_maximum():
    a1, b1 = cross(SPECIALS, SPECIALS)
    a2, b2 = random_pairs(seed=41)
    a, b = np.concatenate([a1, a2]), np.concatenate([b1, b2])
    lo, hi = _ieee_min_max(a, b)
    assert_same_fp32(fp.minimum(a, b), lo, a, b)
    assert_same_fp32(fp.maximum(a, b), hi, a, b)
    assert int(fp.minimum(0, 0x80000000)) == 0x80000000
    assert int(fp.maximum(0x80000000, 0)) == 0


def test_relu():
    x = np.concatenate([SPECIALS, _uniform(np.random.default_rng(51), N_RANDOM)])
    fx = fp.f32_value(x)
    expected = np.where(np.isnan(fx), x, np.where(fx > 0, x, np.uint32(0)))
    assert_same_fp32(fp.relu(x), expected, x)
    assert int(fp.relu(0x80000000)) == 0


# ---------------------------------------------------------------------------------------------
# bf16
# ---------------------------------------------------------------------------------------------

ALL_BF16 = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16)


def _bf16_value(h: np.ndarray) -> np.ndarray:
    """float64 value of bf16 patterns from the format's definition (sign, 8-bit exponent,
    7-bit fraction), independent of bit reinterpretation."""
    h = h.astype(np.int64)
    sign = np.where(h >> 15 == 1, -1.0, 1.0)
    exp, frac = (h >> 7) & 0xFF, h & 0x7F
    finite = np.where(exp == 0, np.ldexp(frac, -133), np.ldexp(128 + frac, exp - 134))
    special = np.where(frac == 0, np.inf, np.nan)
    return sign * np.where(exp == 255, special, finite)


def test_bf16_to_fp32_exhaustive():
    got = fp.bf16_to_fp32(ALL_BF16)
    expected = _as_bits(_bf16_value(ALL_BF16).astype(np.float32))
    assert_same_fp32(got, expected, ALL_BF16)


def _bf16_oracle(x: np.ndarray) -> np.ndarray:
    """Nearest bf16 by float64 distance to the two bf16 neighbours, ties to the even pattern."""
    v = fp.f32_value(x).astype(np.float64)
    lo = (x >> 16).astype(np.uint16)  # truncation: the neighbour towards zero
    hi = lo + np.uint16(1)  # the neighbour away from zero (0x7F80 = inf past the largest)
    vlo = np.abs(_bf16_value(lo))
    vhi = np.where((hi & 0x7FFF) == 0x7F80, 2.0**128, np.abs(_bf16_value(hi)))
    dlo, dhi = np.abs(v) - vlo, vhi - np.abs(v)
    pick_hi = (dhi < dlo) | ((dhi == dlo) & (lo & 1 == 1))
    out = np.where(pick_hi, hi, lo)
    return np.where(np.isnan(v), np.uint16(fp.BF16_CANONICAL_NAN), out).astype(np.uint16)


def test_fp32_to_bf16_exhaustive_ties():
    """Every bf16 pattern with the dropped half exactly 0, just below, at and above the tie."""
    low = np.array([0x0000, 0x0001, 0x7FFF, 0x8000, 0x8001, 0xFFFF], dtype=np.uint32)
    x = ((ALL_BF16.astype(np.uint32)[:, None] << 16) | low[None, :]).ravel()
    got = fp.fp32_to_bf16(x)
    assert got.dtype == np.uint16
    np.testing.assert_array_equal(got, _bf16_oracle(x))
    assert int(fp.fp32_to_bf16(0x3F808000)) == 0x3F80  # tie, even stays
    assert int(fp.fp32_to_bf16(0x3F818000)) == 0x3F82  # tie, odd rounds up
    assert int(fp.fp32_to_bf16(0x7F7F8000)) == 0x7F80  # overflow to inf
    assert int(fp.fp32_to_bf16(0xFF800001)) == fp.BF16_CANONICAL_NAN


def test_fp32_to_bf16_random():
    x = _uniform(np.random.default_rng(61), N_RANDOM)
    np.testing.assert_array_equal(fp.fp32_to_bf16(x), _bf16_oracle(x))


def test_bf16_mul_random_pairs():
    """2**20 pairs: uniform, plus exponents that put products near underflow and overflow."""
    rng = np.random.default_rng(71)
    n = 1 << 20
    a = rng.integers(0, 1 << 16, n, dtype=np.uint32).astype(np.uint16)
    b = rng.integers(0, 1 << 16, n, dtype=np.uint32).astype(np.uint16)
    ea = (a.astype(np.int64) >> 7) & 0xFF
    target = np.where(rng.random(n) < 0.5, rng.integers(90, 135, n), rng.integers(375, 384, n))
    eb = np.clip(target - ea, 0, 254)
    near = rng.random(n) < 0.5
    b = np.where(near, (b & 0x807F) | (eb << 7).astype(np.uint16), b).astype(np.uint16)
    exact = _bf16_value(a) * _bf16_value(b)  # 8 x 8 bits: exact in float64
    expected = _as_bits(exact.astype(np.float32))
    rounded = exact.astype(np.float32)
    assert (np.isfinite(exact) & np.isinf(rounded)).sum() > 1000
    assert (np.abs(rounded[rounded != 0]) < 2.0**-126).sum() > 100
    assert_same_fp32(fp.bf16_mul(a, b), expected, a, b)


def test_bf16_mul_specials_crossed():
    h = (SPECIALS >> 16).astype(np.uint16)
    a, b = cross(h, h)
    expected = _as_bits((_bf16_value(a) * _bf16_value(b)).astype(np.float32))
    assert_same_fp32(fp.bf16_mul(a, b), expected, a, b)


# ---------------------------------------------------------------------------------------------
# integer conversions
# ---------------------------------------------------------------------------------------------

INT_EDGES = np.array(
    [
        0,
        1,
        -1,
        127,
        -128,
        (1 << 24) - 1,
        1 << 24,
        (1 << 24) + 1,
        (1 << 24) + 3,
        (1 << 25) + 2,
        (1 << 25) + 6,
        (1 << 31) - 1,
        -(1 << 31),
        -(1 << 31) + 1,
        (1 << 31) - 64,
        (1 << 31) - 65,
    ],
    dtype=np.int64,
).astype(np.int32)


def test_int32_to_fp32():
    i = np.concatenate([INT_EDGES, _uniform(np.random.default_rng(81), N_RANDOM).view(np.int32)])
    small = np.random.default_rng(82).integers(-(1 << 26), 1 << 26, N_RANDOM).astype(np.int32)
    i = np.concatenate([i, small])
    assert_same_fp32(fp.int32_to_fp32(i), _as_bits(i.astype(np.float32)), i.view(np.uint32))


def test_int8_to_fp32_exhaustive():
    i = np.arange(-128, 128).astype(np.int8)
    assert_same_fp32(fp.int32_to_fp32(i), _as_bits(i.astype(np.float32)))


def _float_values_for_int_conversion(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    halves = np.arange(-300, 301) / 2  # every tie between -150 and 150
    edges = np.array([2.0**31, -(2.0**31), 2.0**31 - 128, -(2.0**31) - 256, 1e30, 0.49999997])
    x = np.concatenate([_as_bits(np.concatenate([halves, edges])), SPECIALS])
    exponent = rng.integers(100, 160, N_RANDOM)  # |x| from 2**-27 to 2**33: all cases
    return np.concatenate([x, _with_exponent(rng, exponent), _uniform(rng, N_RANDOM // 4)])


@pytest.mark.parametrize(("func", "dtype"), [(fp.fp32_to_int32, np.int32), (fp.fp32_to_int8, np.int8)])
def test_fp32_to_int(func, dtype):
    x = _float_values_for_int_conversion(seed=91)
    v = fp.f32_value(x).astype(np.float64)
    info = np.iinfo(dtype)
    expected = np.clip(np.nan_to_num(np.rint(v), nan=0.0), info.min, info.max).astype(dtype)
    got = func(x)
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, expected)
    assert int(func(fp.f32_bits(2.5))) == 2 and int(func(fp.f32_bits(-3.5))) == -4


# ---------------------------------------------------------------------------------------------
# API shape
# ---------------------------------------------------------------------------------------------


def test_scalars_and_broadcasting():
    one = fp.f32_bits(1.0)
    assert fp.add(one, one).shape == () and int(fp.add(one, one)) == int(fp.f32_bits(2.0))
    grid = fp.mul(fp.f32_bits([[1.0], [2.0]]), fp.f32_bits([1.0, 3.0, 5.0]))
    np.testing.assert_array_equal(fp.f32_value(grid), [[1, 3, 5], [2, 6, 10]])
    assert fp.fma(one, [one, one], 0).dtype == np.uint32
    assert fp.lt(0, [1, 2]).shape == (2,)
    np.testing.assert_array_equal(fp.f32_value(fp.f32_bits([1.5, -2.0])), [1.5, -2.0])
