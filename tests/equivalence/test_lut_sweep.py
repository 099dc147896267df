"""The fused sweep of benchmarks/bench_lut.py measures what accel.tools.lut_accuracy.errors measures.

The sweep evaluates lut_accuracy's own `reference` (one implementation; its distance from the correctly
rounded references is checked in tests/model/test_lut.py), and a strided sweep finds the same worst cases,
at the same inputs, as the NumPy model with lut_accuracy.errors.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from accel.tools import lut_accuracy as acc

STRIDE = 2**32 // 150_000 + 1  # odd: every sign and exponent


def _load_bench():
    """benchmarks/bench_lut.py as the module `bench_lut`, registered in sys.modules before it runs (as
    importlib's recipe does), so Numba's on-disk cache of its jitted functions loads in a new process."""
    if "bench_lut" not in sys.modules:
        spec = importlib.util.spec_from_file_location("bench_lut", Path(__file__).parents[2] / "benchmarks" /
                                                      "bench_lut.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["bench_lut"] = module
        spec.loader.exec_module(module)
    return sys.modules["bench_lut"]


bench = _load_bench()


def test_sweep_uses_the_report_references() -> None:
    assert bench.reference is acc.reference and bench.FNS == acc.FNS


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
