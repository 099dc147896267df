"""float64 inputs to bf16 tensors are rounded once, to nearest even (Fraction oracle)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np

import accel


def _bf16_values(bits: np.ndarray) -> np.ndarray:
    return (bits.astype(np.uint32) << 16).view(np.float32).astype(np.float64)


def _nearest_even(x: float) -> float:
    """Exact RNE of x to bf16 by brute force over the neighbouring bf16 values."""
    f = np.float32(x)  # within a few bf16 ulps of x
    base = int(np.array([f], dtype=np.float32).view(np.uint32)[0]) >> 16
    cands = [c for c in range(max(base - 2, 0), base + 3) if c & 0x7F80 != 0x7F80 or c & 0x7F == 0]
    vals = _bf16_values(np.array(cands, dtype=np.uint32))
    errs = [abs(Fraction(x) - Fraction(float(v))) for v in vals]
    best = min(errs)
    ties = [c for c, e in zip(cands, errs, strict=True) if e == best]
    return float(_bf16_values(np.array([min(ties, key=lambda c: c & 1)], dtype=np.uint32))[0])


def test_float64_inputs_round_once():
    rng = np.random.default_rng(11)
    n = 4000
    x = np.abs(rng.standard_normal(n)) * 2.0 ** rng.integers(-130, 120, n)
    x[:4] = [1 + 2**-8 + 2**-30, 1 + 2**-8, 1 + 3 * 2**-8, 1 + 2**-8 - 2**-40]  # sticky below binary32
    prog = accel.assemble(f".tensor x bf16[{n}] in\n.tensor y bf16[{n}] out\n"
                          f"dma.load sb[0, 0]:bf16[{n}], x({0})[1@0, {n}@1]\n"
                          "sem.signal dma, s0\nsem.wait dma, s0\n"
                          f"dma.store y({0})[1@0, {n}@1], sb[0, 0]:bf16[{n}]\n")
    y = accel.run(prog, {"x": x}).outputs["y"].astype(np.float64)
    want = np.array([_nearest_even(v) for v in x])
    np.testing.assert_array_equal(y, want)
    assert y[0] == 1 + 2**-7 and y[1] == 1.0 and y[2] == 1 + 2**-6 and y[3] == 1.0
