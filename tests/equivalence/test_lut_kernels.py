"""Function-approximation unit: accel.kernels.lut agrees with accel.model.lut bit for bit.

Per built-in: every bf16 input (exhaustive), every special class, random bit patterns and random
values over the domain; plus a user table and the fma kernel alone on operands built for ties,
cancellation and subnormal results.
"""

from __future__ import annotations

import numpy as np
import pytest

from accel.kernels import lut as kern
from accel.model import fp, lut
from accel.tools import lut_accuracy as acc
from accel.tools import lut_build

SPECIALS = np.array([0, 0x80000000, 1, 0x80000001, 0x7FFFFF, 0x800000, 0x7F7FFFFF, 0xFF7FFFFF, 0x7F800000,
                     0xFF800000, 0x7FC00000, 0xFFC00001, 0x7F800001, 0x3F800000, 0xBF800000], dtype=np.uint32)


@pytest.fixture(autouse=True)
def _quiet_numpy():
    with np.errstate(all="ignore"):
        yield


def _inputs(name: str, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.concatenate([SPECIALS, acc.bf16_inputs(), rng.integers(0, 2**32, 50_000, dtype=np.uint64).astype(
        np.uint32), acc.random_inputs(name, 50_000, seed)])


@pytest.mark.parametrize("name", lut.BUILTINS)
def test_builtin_bit_exact(name: str) -> None:
    f = lut.builtin(name)
    x = _inputs(name, lut.BUILTINS.index(name))
    got, want = kern.apply(f, x), lut.apply(f, x)
    bad = np.flatnonzero(got != want)
    assert bad.size == 0, f"{name}: x={x[bad[0]]:#010x} kernel {got[bad[0]]:#010x} model {want[bad[0]]:#010x}"


def test_user_table_bit_exact() -> None:
    f = lut_build.user_function(np.arctan, -6.0, 6.0, degree=4, segments=8)
    x = _inputs("user", 99)
    assert np.array_equal(kern.apply(f, x), lut.apply(f, x))


def test_fma_kernel() -> None:
    rng = np.random.default_rng(7)
    n = 200_000
    a = rng.integers(0, 2**32, n, dtype=np.uint64).astype(np.uint32)
    b = rng.integers(0, 2**32, n, dtype=np.uint64).astype(np.uint32)
    # c near -a*b (cancellation) or with exponents making ties and subnormal results
    ab = (a.view(np.float32).astype(np.float64) * b.view(np.float32).astype(np.float64)).astype(np.float32)
    c = np.where(rng.random(n) < 0.5, (-ab).view(np.uint32) ^ rng.integers(0, 4, n).astype(np.uint32),
                 rng.integers(0, 2**32, n, dtype=np.uint64).astype(np.uint32))
    small = rng.random(n) < 0.2
    a[small] = (a[small] & 0x807FFFFF) | (rng.integers(40, 80, small.sum()).astype(np.uint32) << 23)
    b[small] = (b[small] & 0x807FFFFF) | (rng.integers(40, 80, small.sum()).astype(np.uint32) << 23)
    got = np.array([kern.fma32(*v) for v in zip(a[:20000].view(np.float32), b[:20000].view(np.float32),
                                                   c[:20000].view(np.float32), strict=True)], dtype=np.float32)
    got = got.view(np.uint32)
    got = np.where((got & 0x7FFFFFFF) > 0x7F800000, fp.CANONICAL_NAN, got)
    assert np.array_equal(got, fp.fma(a[:20000], b[:20000], c[:20000]))
