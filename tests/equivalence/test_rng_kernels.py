"""accel.kernels.rng agrees with accel.model.rng bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from accel.kernels import rng as k
from accel.model import fp
from accel.model import rng as m

R = np.random.default_rng(5)


def test_philox4x32():
    c = R.integers(0, 2**32, (5000, 4), dtype=np.uint64).astype(np.uint32)
    c[:4] = [[0] * 4, [2**32 - 1] * 4, [0, 0, 0, 2**32 - 1], [1, 2, 3, 4]]
    for key in [(0, 0), (2**32 - 1, 2**32 - 1), (0x243F6A88, 0x85A308D3)]:
        assert np.array_equal(k.philox4x32(c, key), m.philox4x32(c, key))


@pytest.mark.parametrize("seed, offset, start", [(0, 0, 0), (2**64 - 1, 2**64 - 1, 2**62), (0xABC << 32, 5, 2**32 - 7)])
def test_philox_words(seed, offset, start):
    idx = (np.arange(4097, dtype=np.uint64) + np.uint64(start)).reshape(17, -1)
    assert np.array_equal(k.philox_words(seed, offset, idx), m.philox_words(seed, offset, idx))


def test_xoroshiro_outputs_and_words():
    s1, s2, s3 = m.lane_states(2**64 - 3, 16), m.lane_states(2**64 - 3, 16), m.lane_states(2**64 - 3, 16)
    want = m.xoroshiro_outputs(s1, 300)
    assert np.array_equal(k.xoroshiro_outputs(s2, 300), want)
    assert np.array_equal(k.xoroshiro_words(s3, 300), (want >> np.uint64(32)).astype(np.uint32))
    assert np.array_equal(s1, s2) and np.array_equal(s1, s3)


SPECIALS = np.array([0, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC12345, 0xFFA00001, 1, 0x807FFFFF, 0x7F7FFFFF,
                     0x00800000], np.uint32)


@pytest.mark.parametrize("p", [0.0, -0.0, 1.0, 0.5, 0.1, 0.999, 0.99999994, 1e-10, 2.0**-33 * 3])
def test_dropout_f32(p):
    x = R.integers(0, 2**32, 20000, dtype=np.uint64).astype(np.uint32)
    x[:SPECIALS.size] = SPECIALS
    words = R.integers(0, 2**32, x.size, dtype=np.uint64).astype(np.uint32)
    words[:4] = [0, 1, 2**31, 2**32 - 1]
    pb = int(fp.f32_bits(np.float32(p)))
    ym, km = m.dropout_f32(x, words, pb)
    yk, kk = k.dropout_f32(x, words, pb)
    assert np.array_equal(km, kk) and np.array_equal(ym, yk)


@pytest.mark.parametrize("base", [0, 1, 2, 3, 2**33 + 2])
def test_dropout_philox_equals_model_words(base):
    x = fp.f32_value(R.integers(0, 2**32, 4097, dtype=np.uint64).astype(np.uint32))
    x[:SPECIALS.size] = fp.f32_value(SPECIALS)
    seed, offset, p = 0xFEED_0000_BEEF, 77, 0.3
    words = m.philox_words(seed, offset, np.arange(x.size, dtype=np.uint64) + np.uint64(base))
    want, _ = m.dropout_f32(fp.f32_bits(x), words, int(fp.f32_bits(np.float32(p))))
    assert np.array_equal(k.dropout_philox(x, seed, offset, p, base), want)
