"""Small operands take the one-thread twins of the parallel kernels (waking a thread pool costs more
than a 16 x 16 tile's work); both sides of the size threshold agree with the model bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from accel.kernels import lut as klut
from accel.kernels import rng as krng
from accel.model import fp
from accel.model import lut as mlut
from accel.model import rng as mrng

R = np.random.default_rng(11)
SIZES = [1, 17, krng.PARALLEL_MIN - 1, krng.PARALLEL_MIN]


@pytest.mark.parametrize("n", SIZES)
def test_philox_words_both_sides(n: int) -> None:
    idx = np.arange(n, dtype=np.uint64) + np.uint64(2**40 - 3)
    seed = 0xDEADBEEF_0BADF00D
    assert np.array_equal(krng.philox_words(seed, 9, idx), mrng.philox_words(seed, 9, idx))


@pytest.mark.parametrize("n", SIZES)
def test_dropout_f32_both_sides(n: int) -> None:
    x = R.integers(0, 2**32, n, dtype=np.uint64).astype(np.uint32)
    x[:1] = 0x7FC12345
    words = R.integers(0, 2**32, n, dtype=np.uint64).astype(np.uint32)
    pb = int(fp.f32_bits(np.float32(0.3)))
    (ym, km), (yk, kk) = mrng.dropout_f32(x, words, pb), krng.dropout_f32(x, words, pb)
    assert np.array_equal(ym, yk) and np.array_equal(km, kk)


@pytest.mark.parametrize("n", [1, 300, klut.PARALLEL_MIN])
@pytest.mark.parametrize("name", ["exp", "tanh", "sin"])
def test_lut_apply_both_sides(name: str, n: int) -> None:
    f = mlut.builtin(name)
    x = fp.f32_bits((R.standard_normal(n) * 4).astype(np.float32))
    assert np.array_equal(klut.apply(f, x), mlut.apply(f, x))


def test_small_operands_take_the_serial_kernels(monkeypatch: pytest.MonkeyPatch) -> None:
    """Below the threshold the parallel kernels are not called."""
    def boom(*args):
        raise AssertionError("parallel kernel used for a small operand")

    for mod, name in [(krng, "_philox_words"), (krng, "_dropout_f32"), (klut, "_apply")]:
        monkeypatch.setattr(mod, name, boom)
    krng.philox_words(1, 2, np.arange(256, dtype=np.uint64))
    krng.dropout_f32(np.zeros(256, np.uint32), np.zeros(256, np.uint32), 0)
    klut.apply(mlut.builtin("exp"), np.zeros(256, np.uint32))
