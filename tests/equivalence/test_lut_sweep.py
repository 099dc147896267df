"""The fused sweep of benchmarks/bench_lut.py measures what accel.tools.lut_accuracy.errors measures.

Its float64 references equal accel.tools.lut_build.REFERENCES bit for bit (tanh: libm's tanh against
NumPy's own: a few float64 ulps of tanh), and a strided sweep finds the same worst cases, at the same
inputs, as the NumPy model with lut_accuracy.errors.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from numba import njit

from accel.tools import lut_accuracy as acc
from accel.tools.lut_build import REFERENCES

_spec = importlib.util.spec_from_file_location("bench_lut", Path(__file__).parents[2] / "benchmarks" / "bench_lut.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)
STRIDE = 2**32 // 150_000 + 1  # odd: every sign and exponent


@njit(cache=True)
def _references(fn: int, x: np.ndarray) -> np.ndarray:
    out = np.empty_like(x)
    for i in range(x.size):
        out[i] = bench.reference(fn, x[i])
    return out


def test_references_are_lut_build_references() -> None:
    assert sorted(bench.FNS) == sorted(REFERENCES)
    rng = np.random.default_rng(3)
    bits = np.concatenate([acc.bf16_inputs(), rng.integers(0, 2**32, 100_000, dtype=np.uint64).astype(np.uint32),
                           np.array([0, 0x80000000, 1, 0x80000001], dtype=np.uint32)])
    x = bits[(bits & 0x7FFFFFFF) < 0x7F800000].view(np.float32).astype(np.float64)
    x = np.concatenate([x, rng.uniform(-40.0, 40.0, 100_000)])
    for fn, name in enumerate(bench.FNS):
        with np.errstate(all="ignore"):
            want = REFERENCES[name](x)
        got = _references(fn, x)
        same = (got == want) | (np.isnan(got) & np.isnan(want))
        if name in ("tanh", "gelu_tanh"):  # libm tanh vs NumPy's SIMD tanh: a few float64 ulps of tanh
            tanh_part = 1.0 if name == "tanh" else 0.5 * np.abs(x)
            same |= np.abs(got - want) <= tanh_part * 4 * 2.0**-53 + 4 * np.spacing(np.abs(want))
        bad = np.flatnonzero(~same)
        assert bad.size == 0, f"{name}({x[bad[0]]!r}): {got[bad[0]]!r} != {want[bad[0]]!r}"


@pytest.mark.parametrize("name", ["log", "gelu", "softplus"])
def test_sweep_matches_numpy_errors(name: str) -> None:
    got = bench.sweep(name, STRIDE)
    bits = np.arange(0, 2**32, STRIDE, dtype=np.uint64).astype(np.uint32)
    bits = bits[(bits & 0x7FFFFFFF) < 0x7F800000]
    with np.errstate(all="ignore"):
        e = acc.errors(name, bits)
    u = np.where(e.in_domain, e.ulp32, 0.0)
    d = np.where(~e.in_domain & ~np.isnan(e.y32), e.abs32, 0.0)
    i, j = int(np.argmax(u)), int(np.argmax(d))
    assert got["inputs"] == bits.size
    assert (got["ulp"], got["x"]) == (u[i], e.x[i] if u[i] > 0 else None)
    assert (got["abs_outside"], got["x_abs"]) == (d[j], e.x[j] if d[j] > 0 else None)
    assert got["ulp"] > 0 and (got["abs_outside"] > 0) == (name == "gelu")  # both branches are exercised
