"""Sweep binary32 inputs through the function-approximation unit (Numba kernel) and record the worst case.

    python benchmarks/bench_lut.py [--fn NAME ...] [--stride S] [--chunk-bits B] [--json OUT]

With the default stride 1 every one of the 2**32 patterns of each function is evaluated (the true
worst case, as docs/lut.md records it; about 10 minutes per function on 2 cores). --stride S takes
every S-th pattern (S odd keeps every exponent and sign). The error is measured against the
float64 reference (numpy, math.erfc) in ulps inside the function's domain (accel.lut_accuracy.DOMAINS), and
absolutely outside it. Also prints the kernel's speed next to the NumPy model's.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from accel import lut_accuracy as acc
from accel.kernels import lut as kern
from accel.lut_build import REFERENCES, ulp32
from accel.model import lut


def sweep(name: str, stride: int, chunk_bits: int) -> dict:
    f = lut.builtin(name)
    packed = kern.pack(f)
    ref = REFERENCES[name]
    dom = acc.DOMAINS[name]
    worst = {"ulp": 0.0, "x": None, "abs_outside": 0.0, "x_abs": None, "inputs": 0}
    chunk = 1 << chunk_bits
    t0 = time.perf_counter()
    kernel_s = 0.0
    for start in range(0, 1 << 32, chunk * stride):
        x = (np.arange(chunk, dtype=np.uint64) * stride + start)
        x = x[x < (1 << 32)].astype(np.uint32)
        x = x[(x & 0x7FFFFFFF) < 0x7F800000]  # finite inputs; specials are tested exactly
        t = time.perf_counter()
        y = kern.apply(f, x, packed)
        kernel_s += time.perf_counter() - t
        xv = x.view(np.float32).astype(np.float64)
        with np.errstate(all="ignore"):
            r = ref(xv)
            r = np.where(np.abs(r) > acc.FP32_MAX * (1 + 2.0**-25), np.copysign(np.inf, r), r)
            yv = y.view(np.float32).astype(np.float64)
            d = np.where(yv == r, 0.0, np.abs(yv - r))
            u = np.where(np.isfinite(r), d / ulp32(r), np.where(yv == r, 0.0, np.inf))
        inside = (xv >= dom.lo) & (xv <= dom.hi) & (np.abs(r) >= dom.abs_floor)
        uu = np.where(inside, np.nan_to_num(u, nan=np.inf), 0.0)
        i = int(np.argmax(uu))
        if uu[i] > worst["ulp"]:
            worst["ulp"], worst["x"] = float(uu[i]), float(xv[i])
        dd = np.where(~inside & ~np.isnan(yv), np.nan_to_num(d, nan=np.inf), 0.0)
        j = int(np.argmax(dd))
        if dd[j] > worst["abs_outside"]:
            worst["abs_outside"], worst["x_abs"] = float(dd[j]), float(xv[j])
        worst["inputs"] += int(x.size)
    worst["seconds"] = time.perf_counter() - t0
    worst["kernel_inputs_per_s"] = worst["inputs"] / kernel_s
    return worst


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
    p.add_argument("--fn", action="append", help="function (repeatable; default all built-ins)")
    p.add_argument("--stride", type=int, default=1, help="take every S-th pattern (default 1: all 2**32)")
    p.add_argument("--chunk-bits", type=int, default=24)
    p.add_argument("--json", help="write the results here")
    args = p.parse_args()
    results = {}
    for name in args.fn or lut.BUILTINS:
        m, k = speed(name)
        w = sweep(name, args.stride, args.chunk_bits)
        w.update(model_inputs_per_s=m, stride=args.stride)
        results[name] = w
        print(f"{name:11s} worst {w['ulp']:.3f} ulp at x={w['x']!r}; outside the domain {w['abs_outside']:.3g} "
              f"at x={w['x_abs']!r}; {w['inputs']} inputs in {w['seconds']:.0f} s; kernel {k / 1e6:.1f} M/s, "
              f"model {m / 1e6:.2f} M/s ({k / m:.0f}x)", flush=True)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2)


if __name__ == "__main__":
    main()
