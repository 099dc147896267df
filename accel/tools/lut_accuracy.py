"""Accuracy of the function-approximation unit against float64 references (`accel lut report`).

Errors are measured on the model's binary32 result (and on its bf16 rounding) in ulps of the
reference's own format position, and in absolute terms. Each built-in has a stated domain where
the ulp bounds hold; outside it (tails that underflow, references near zero) an absolute bound
is stated instead (docs/act.md).

The references (`reference`, `REFERENCES`) are fast float64 formulas over the math module's
functions compiled by Numba, the same code in `accel lut report`, the tests and the 2**32-input
sweep (benchmarks/bench_lut.py), never numpy's per-CPU SIMD kernels. They are not correctly
rounded; tests/model/test_lut.py checks them against the correctly rounded references of
accel.tools.lut_build (mpmath) to 2**-16 binary32 ulp in every domain, so no error reported here
moves in its printed digits on another machine. The tables themselves are built from the
correctly rounded references only.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np
from numba import njit

from accel.model import fp, lut
from accel.tools.lut_build import ulp32

FNS = lut.BUILTINS  # reference id = position here
SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)  # IEEE division and square root: the same everywhere


@njit(cache=True, inline="always")
def _expit(x: float) -> float:
    """1 / (1 + e^-x) without overflow or cancellation on either side."""
    e = math.exp(-abs(x))
    return 1.0 / (1.0 + e) if x >= 0 else e / (1.0 + e)


@njit(cache=True, error_model="numpy")
def reference(fn: int, x: float) -> float:
    """Float64 reference of built-in FNS[fn] at x, in formulas without cancellation."""
    if fn == 0:
        return math.exp(x)
    if fn == 1:
        return math.log(x)
    if fn == 2:
        return _expit(x)
    if fn == 3:
        return math.tanh(x)
    if fn == 4:  # x Phi(x)
        return 0.5 * x * math.erfc(-x / math.sqrt(2.0))
    if fn == 5:  # x/2 (1 + tanh(u)) = x expit(2u)
        u = SQRT_2_OVER_PI * (x + 0.044715 * (x * x * x))
        return x * _expit(2.0 * u)
    if fn == 6:
        return x * _expit(x)
    if fn == 7:  # log(1 + e^x), np.logaddexp(0, x)'s branches
        if x == 0.0:
            return math.log(2.0)
        if x < 0:
            return math.log1p(math.exp(x))
        return x + math.log1p(math.exp(-x))
    if fn == 8:
        return 1.0 / math.sqrt(x)
    if fn == 9:
        return 1.0 / x
    if fn == 10:
        return math.sqrt(x)
    if fn == 11:
        return math.sin(x)
    return math.cos(x)


@njit(cache=True, error_model="numpy")
def _references(fn: int, x: np.ndarray) -> np.ndarray:
    out = np.empty_like(x)
    for i in range(x.size):
        out[i] = reference(fn, x[i])
    return out


def reference_values(name: str, x: np.ndarray) -> np.ndarray:
    """`reference` of built-in `name` on every element of x (float64)."""
    x = np.asarray(x, dtype=np.float64)
    return _references(FNS.index(name), np.ascontiguousarray(x).reshape(-1)).reshape(x.shape)


REFERENCES: dict[str, Callable[[np.ndarray], np.ndarray]] = {name: partial(reference_values, name) for name in FNS}
FP32_MAX = float(np.finfo(np.float32).max)


@dataclass(frozen=True)
class Domain:
    """Where the ulp bounds hold (lo <= x <= hi, finite results); elsewhere |error| <= abs_bound."""

    lo: float
    hi: float
    abs_bound: float  # absolute bound outside the ulp domain (and for |ref| < abs_floor)
    abs_floor: float = 0.0  # references smaller than this are judged by abs_bound


INF = float("inf")
DOMAINS: dict[str, Domain] = {
    "exp": Domain(-INF, INF, 0.0),
    "log": Domain(0.0, INF, 0.0),
    "sigmoid": Domain(-INF, INF, 0.0),
    "tanh": Domain(-INF, INF, 0.0),
    "gelu": Domain(-5.0, INF, 2.0**-40),
    "gelu_tanh": Domain(-4.5, INF, 2.0**-40),
    "silu": Domain(-16.0, INF, 2.0**-40),
    "softplus": Domain(-INF, INF, 0.0),
    "rsqrt": Domain(0.0, INF, 0.0),
    "reciprocal": Domain(-INF, INF, 0.0),
    "sqrt": Domain(0.0, INF, 0.0),
    "sin": Domain(-16384.0, 16384.0, INF),  # |x| > 16384 gives NaN (documented)
    "cos": Domain(-16384.0, 16384.0, INF),
}


def ulp_bf16(y: np.ndarray) -> np.ndarray:
    """Spacing of bf16 numbers at |y| (2**-133 below the normal range)."""
    _, e = np.frexp(np.abs(y))
    return np.ldexp(1.0, np.maximum(e - 8, -133))


@dataclass
class Errors:
    """Per-input errors of one function on a set of inputs."""

    x: np.ndarray  # float64 inputs
    ref: np.ndarray  # float64 reference
    y32: np.ndarray  # float64 value of the binary32 result
    y16: np.ndarray  # float64 value of the bf16 result
    ulp32: np.ndarray
    ulp16: np.ndarray
    abs32: np.ndarray
    in_domain: np.ndarray  # judged in ulps (else by the absolute bound)


def errors(name: str, xbits: np.ndarray, f: lut.Function | None = None,
           ref: Callable[[np.ndarray], np.ndarray] | None = None, domain: Domain | None = None) -> Errors:
    """Errors of function `name` (or `f` with reference `ref`) on finite binary32 inputs xbits."""
    f = f or lut.builtin(name)
    ref = ref or REFERENCES[name]
    domain = domain or DOMAINS.get(name, Domain(-INF, INF, 0.0))
    xbits = np.asarray(xbits, dtype=np.uint32)
    y = lut.apply(f, xbits)
    x = xbits.view(np.float32).astype(np.float64)
    with np.errstate(all="ignore"):
        r = ref(x)
    r = np.where(np.abs(r) > FP32_MAX * (1 + 2.0**-25), np.copysign(INF, r), r)  # rounds to infinity
    y32 = y.view(np.float32).astype(np.float64)
    y16 = (fp.fp32_to_bf16(y).astype(np.uint32) << 16).view(np.float32).astype(np.float64)
    with np.errstate(all="ignore"):
        same = (y32 == r) | (np.isnan(y32) & np.isnan(r))
        same16 = (y16 == r) | (np.isnan(y16) & np.isnan(r))
        d32 = np.where(same, 0.0, np.abs(y32 - r))
        d16 = np.where(same16, 0.0, np.abs(y16 - r))
        u32 = np.where(np.isfinite(r), d32 / ulp32(r), np.where(same, 0.0, INF))
        u16 = np.where(np.isfinite(r), d16 / ulp_bf16(r), np.where(same16, 0.0, INF))
    in_domain = (x >= domain.lo) & (x <= domain.hi) & (np.abs(r) >= domain.abs_floor)
    return Errors(x, r, y32, y16, np.nan_to_num(u32, nan=INF), np.nan_to_num(u16, nan=INF),
                  np.nan_to_num(d32, nan=INF), in_domain)


def bf16_inputs() -> np.ndarray:
    """Every finite bf16 pattern, widened to binary32 bits."""
    b = np.arange(65536, dtype=np.uint32) << 16
    return b[(b & 0x7FFFFFFF) < 0x7F800000]


def random_inputs(name: str, n: int, seed: int = 0) -> np.ndarray:
    """n finite binary32 inputs: half uniform bit patterns, half uniform values over the domain's
    interesting range (clipped to the ulp domain)."""
    rng = np.random.default_rng(seed)
    bits = rng.integers(0, 2**32, n // 2, dtype=np.uint64).astype(np.uint32)
    bits = bits[(bits & 0x7FFFFFFF) < 0x7F800000]
    d = DOMAINS.get(name, Domain(-INF, INF, 0.0))
    lo, hi = max(d.lo, -120.0), min(d.hi, 120.0)
    vals = rng.uniform(lo, hi, n - bits.size).astype(np.float32)
    return np.concatenate([bits, vals.view(np.uint32)])


def summary(e: Errors) -> dict[str, float]:
    """Max errors: fp32 and bf16 ulps in the domain, absolute outside it and where |ref| <= 1."""
    dom, out = e.in_domain, ~e.in_domain
    return {
        "fp32_ulp": float(e.ulp32[dom].max(initial=0.0)),
        "bf16_ulp": float(e.ulp16[dom].max(initial=0.0)),
        "abs_outside_domain": float(e.abs32[out & ~np.isnan(e.y32)].max(initial=0.0)),
        "abs_small": float(e.abs32[dom & (np.abs(e.ref) <= 1.0)].max(initial=0.0)),
        "inputs": int(e.x.size),
    }
