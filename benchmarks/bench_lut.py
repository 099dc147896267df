"""Sweep binary32 inputs through the function-approximation unit (fused Numba kernel) and record the worst case.

    python benchmarks/bench_lut.py [--fn NAME ...] [--stride S] [--json OUT]

With the default stride 1 every one of the 2**32 patterns of each function is evaluated (the true
worst case, as docs/act.md records it). --stride S takes every S-th pattern (S odd keeps every
exponent and sign). One parallel Numba loop does everything per input: the unit's result
(accel.kernels.lut, bit-identical with accel.model.lut), the float64 reference (the same
accel.tools.lut_accuracy.reference that `accel lut report` uses), the ulp distance
(lut_build.ulp32) and the in-domain / outside-domain split of accel.tools.lut_accuracy.DOMAINS, exactly
as accel.tools.lut_accuracy.errors defines them (tests/equivalence/test_lut_sweep.py checks it). The
--json file is rewritten after every function, so an interrupted run keeps what finished.
Also prints the kernel's speed next to the NumPy model's.
"""

from __future__ import annotations

import argparse
import json
import math
import time

import numpy as np
from numba import njit, prange

from accel.kernels import lut as kern
from accel.model import lut
from accel.tools import lut_accuracy as acc
from accel.tools.lut_accuracy import FNS, reference

BIG = acc.FP32_MAX * (1 + 2.0**-25)  # references beyond this round to binary32 infinity
DBL_MAX = float(np.finfo(np.float64).max)
CHUNK = 1 << 16  # inputs per parallel work item


@njit(cache=True, inline="always")
def ulp32(y: float) -> float:
    """lut_build.ulp32 of one finite value: 2**max(e - 24, -149) with frexp's e (0 for y = 0)."""
    if y == 0.0:
        return 2.0**-24
    e = int(np.float64(abs(y)).view(np.uint64) >> np.uint64(52)) - 1022  # frexp's (float64 subnormals: any e < 0)
    return np.uint64((max(e - 24, -149) + 1023) << 52).view(np.float64)


@njit(cache=True, inline="always")
def _nan_to_num(v: float) -> float:
    """np.nan_to_num(v, nan=inf) for v >= 0 or NaN: NaN -> inf, inf -> largest double."""
    if math.isnan(v):
        return math.inf
    return DBL_MAX if v == math.inf else v


@njit(cache=True, parallel=True, error_model="numpy")
def _sweep(kind, lo, hi, lo_rule, lo_val, hi_rule, hi_val, c1, e1, m1, c2, e2, m2, ce, ee, me,
           fn, dlo, dhi, floor, stride, worst_u, at_u, worst_d, at_d, count):
    """Per chunk of CHUNK consecutive pattern indices k (pattern k * stride): worst ulp in the domain,
    worst absolute error outside it (first index on ties), finite inputs seen."""
    total = ((1 << 32) + stride - 1) // stride
    for c in prange(worst_u.size):
        bu, bd, xu, xd, n = 0.0, 0.0, -1, -1, 0
        for k in range(c * CHUNK, min((c + 1) * CHUNK, total)):
            xb = np.uint32(k * stride)
            if xb & np.uint32(0x7FFFFFFF) >= np.uint32(0x7F800000):
                continue  # finite inputs only; specials are tested exactly
            n += 1
            y = kern.element(kind, lo, hi, lo_rule, lo_val, hi_rule, hi_val, c1, e1, m1, c2, e2, m2, ce, ee, me, xb)
            x = np.float64(xb.view(np.float32))
            r = reference(fn, x)
            if abs(r) > BIG:
                r = math.copysign(math.inf, r)
            yv = np.float64(np.uint32(y).view(np.float32))
            d = 0.0 if yv == r else abs(yv - r)
            if math.isfinite(r):
                u = d / ulp32(r)
            else:
                u = 0.0 if yv == r else math.inf
            if dlo <= x <= dhi and abs(r) >= floor:
                u = _nan_to_num(u)
                if u > bu:
                    bu, xu = u, xb
            elif not math.isnan(yv):
                d = _nan_to_num(d)
                if d > bd:
                    bd, xd = d, xb
        worst_u[c], at_u[c], worst_d[c], at_d[c], count[c] = bu, xu, bd, xd, n


def _x(bits: int) -> float | None:
    return None if bits < 0 else float(np.uint32(bits).view(np.float32))


def sweep(name: str, stride: int) -> dict:
    """Worst case of built-in `name` over every stride-th binary32 pattern (finite ones)."""
    dom = acc.DOMAINS[name]
    total = -(-(1 << 32) // stride)  # patterns 0, stride, 2 stride, ... below 2**32
    nchunks = -(-total // CHUNK)
    worst_u, worst_d = np.zeros(nchunks), np.zeros(nchunks)
    at_u, at_d, count = (np.zeros(nchunks, dtype=np.int64) for _ in range(3))
    t0 = time.perf_counter()
    _sweep(*kern.pack(lut.builtin(name)), FNS.index(name), dom.lo, dom.hi, dom.abs_floor, stride,
           worst_u, at_u, worst_d, at_d, count)
    seconds = time.perf_counter() - t0
    i, j = int(np.argmax(worst_u)), int(np.argmax(worst_d))  # first chunk holding the maximum
    inputs = int(count.sum())
    return {"ulp": float(worst_u[i]), "x": _x(int(at_u[i])), "abs_outside": float(worst_d[j]),
            "x_abs": _x(int(at_d[j])), "inputs": inputs, "seconds": seconds, "inputs_per_s": inputs / seconds}


def speed(name: str, n: int = 1 << 20) -> tuple[float, float]:
    """(model, kernel) inputs per second on n random patterns."""
    f = lut.builtin(name)
    x = np.random.default_rng(0).integers(0, 2**32, n, dtype=np.uint64).astype(np.uint32)
    kern.apply(f, x[:16])
    t = time.perf_counter()
    with np.errstate(all="ignore"):
        lut.apply(f, x)
    tm = time.perf_counter() - t
    t = time.perf_counter()
    kern.apply(f, x)
    return n / tm, n / (time.perf_counter() - t)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--fn", action="append", choices=lut.BUILTINS, help="function (repeatable; default all built-ins)")
    p.add_argument("--stride", type=int, default=1, help="take every S-th pattern (default 1: all 2**32)")
    p.add_argument("--json", help="write the results here (after every function)")
    args = p.parse_args()
    sweep("exp", 1 << 24)  # compile outside the timing
    results = {}
    for name in args.fn or lut.BUILTINS:
        m, k = speed(name)
        w = sweep(name, args.stride)
        w.update(model_inputs_per_s=m, kernel_inputs_per_s=k, stride=args.stride)
        results[name] = w
        print(f"{name:11s} worst {w['ulp']:.3f} ulp at x={w['x']!r}; outside the domain {w['abs_outside']:.3g} "
              f"at x={w['x_abs']!r}; {w['inputs']} inputs in {w['seconds']:.0f} s ({w['inputs_per_s'] / 1e6:.1f} M/s);"
              f" kernel {k / 1e6:.1f} M/s, model {m / 1e6:.2f} M/s ({k / m:.0f}x)", flush=True)
        if args.json:
            with open(args.json, "w") as fh:
                json.dump(results, fh, indent=2)


if __name__ == "__main__":
    main()
