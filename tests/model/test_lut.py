"""The function-approximation unit (accel.model.lut) against float64 references (lut_accuracy.REFERENCES).

bf16: every finite bf16 input of every built-in, at most 1 bf16 ulp in the function's domain and
the stated absolute bound outside it. fp32: random inputs (uniform bit patterns plus uniform values
over the domain), at most 2 ulp in the domain; the 10**7-input and 2**32 sweeps are benchmarks
(benchmarks/bench_lut.py). Special values exactly as docs/act.md states. The references are within
2**-16 binary32 ulp of correctly rounded ones. The committed ROM images equal a fresh build bit for
bit, and the build uses no CPU-dependent arithmetic (no numpy transcendental, no LAPACK).
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from accel.model import fp, lut
from accel.tools import lut_accuracy as acc
from accel.tools import lut_build

N_RANDOM = 200_000


@pytest.fixture(autouse=True)
def _quiet_numpy():
    with np.errstate(all="ignore"):
        yield


@pytest.fixture(scope="module")
def bf16_inputs() -> np.ndarray:
    return acc.bf16_inputs()


@pytest.mark.parametrize("name", lut.BUILTINS)
def test_bf16_exhaustive(name: str, bf16_inputs: np.ndarray) -> None:
    e = acc.errors(name, bf16_inputs)
    d = acc.DOMAINS[name]
    assert e.ulp16[e.in_domain].max() <= 1.0, f"{name}: worst bf16 input x={e.x[np.argmax(e.ulp16 * e.in_domain)]}"
    out = ~e.in_domain & ~np.isnan(e.y32)
    assert e.abs32[out].max(initial=0.0) <= d.abs_bound
    assert e.in_domain.sum() > 1000


@pytest.mark.parametrize("name", lut.BUILTINS)
def test_fp32_random(name: str) -> None:
    x = acc.random_inputs(name, N_RANDOM, seed=lut.BUILTINS.index(name))
    e = acc.errors(name, x)
    worst = np.argmax(np.where(e.in_domain, e.ulp32, 0))
    assert e.ulp32[e.in_domain].max() <= 2.0, f"{name}: {e.ulp32[worst]:.3f} ulp at x={e.x[worst]!r}"


def _f(*values: float) -> np.ndarray:
    return np.array(values, dtype=np.float32).view(np.uint32)


INF, NAN = float("inf"), float("nan")
# (function, inputs, expected outputs) -- NaN expected means the canonical NaN
SPECIALS = [
    ("exp", (0.0, -0.0, INF, -INF, NAN, 89.0, -112.0, 88.72), (1.0, 1.0, INF, 0.0, NAN, INF, 0.0, None)),
    ("log", (1.0, 0.0, -0.0, -1.0, INF, -INF, NAN), (0.0, -INF, -INF, NAN, INF, NAN, NAN)),
    ("sigmoid", (0.0, -0.0, INF, -INF, NAN, 32.0, -200.0), (0.5, 0.5, 1.0, 0.0, NAN, 1.0, 0.0)),
    ("tanh", (0.0, -0.0, INF, -INF, NAN, 16.0, -16.0), (0.0, -0.0, 1.0, -1.0, NAN, 1.0, -1.0)),
    ("gelu", (0.0, -0.0, INF, -INF, NAN, 16.0, -16.0), (0.0, -0.0, INF, -0.0, NAN, 16.0, -0.0)),
    ("gelu_tanh", (0.0, -0.0, INF, -INF, NAN), (0.0, -0.0, INF, -0.0, NAN)),
    ("silu", (0.0, -0.0, INF, -INF, NAN, 40.0), (0.0, -0.0, INF, -0.0, NAN, 40.0)),
    ("softplus", (INF, -INF, NAN, 20.0), (INF, 0.0, NAN, 20.0)),
    ("rsqrt", (0.0, -0.0, INF, -1.0, NAN, 4.0, 1.0), (INF, -INF, 0.0, NAN, NAN, 0.5, 1.0)),
    ("reciprocal", (0.0, -0.0, INF, -INF, NAN, 2.0, -4.0), (INF, -INF, 0.0, -0.0, NAN, 0.5, -0.25)),
    ("sqrt", (0.0, -0.0, INF, -1.0, -INF, NAN, 4.0, 1.0), (0.0, -0.0, INF, NAN, NAN, NAN, 2.0, 1.0)),
    ("sin", (0.0, -0.0, INF, -INF, NAN, 16385.0), (0.0, -0.0, NAN, NAN, NAN, NAN)),
    ("cos", (0.0, -0.0, INF, NAN, -16385.0), (1.0, 1.0, NAN, NAN, NAN)),
]


@pytest.mark.parametrize(("name", "xs", "expected"), SPECIALS, ids=[s[0] for s in SPECIALS])
def test_special_values(name: str, xs: tuple, expected: tuple) -> None:
    y = lut.apply(lut.builtin(name), _f(*xs))
    for x, got, want in zip(xs, y, expected, strict=True):
        if want is None:
            continue
        want_bits = fp.CANONICAL_NAN if np.isnan(want) else int(_f(want)[0])
        assert int(got) == want_bits, f"{name}({x}) = {got:#010x}, expected {want_bits:#010x}"


def test_subnormal_inputs() -> None:
    sub = np.array([1, 0x400000, 0x7FFFFF], dtype=np.uint32)
    x = sub.view(np.float32).astype(np.float64)
    for name in ("log", "sqrt", "rsqrt"):
        y = lut.apply(lut.builtin(name), sub).view(np.float32).astype(np.float64)
        ref = acc.REFERENCES[name](x)
        assert np.all(np.abs(y - ref) <= 2 * lut_build.ulp32(ref)), name
    assert np.all(lut.apply(lut.builtin("reciprocal"), sub[:1]) == 0x7F800000)  # 2**149 overflows


def test_index_rule() -> None:
    t = lut_build.fit_table(np.exp, 120, 126, 2, 3)
    side, seg, base = lut.index(t, _f(0.75, -0.75, 2.0**-10, -(2.0**-7) * 1.3))
    assert list(side) == [0, 1, 0, 1]
    # 0.75 = 1.5 * 2**-1: binade 126, quarter 2 -> segment 27, base the middle of [0.75, 0.875)
    assert seg[0] == 1 + (126 - 120) * 4 + 2 and seg[1] == seg[0]
    assert base.view(np.float32)[0] == np.float32(0.8125)
    assert seg[2] == 0 and base[2] == 0  # below 2**(emin-127): tiny segment, base +0
    assert seg[3] == 2 and base[3] == _f(-(2.0**-7) * 1.375)[0]  # binade 120, quarter 1


def test_rom_images_fresh(tmp_path) -> None:
    """Regenerated tables equal the committed ones, every byte (the build is machine-independent)."""
    lut_build.write_builtins(tmp_path)
    for name in lut.BUILTINS:
        fresh = (tmp_path / f"lut_{name}.hex").read_text()
        assert fresh == (lut.MEM_DIR / f"lut_{name}.hex").read_text(), \
            f"rtl/mem/lut_{name}.hex is stale: run `accel lut build --builtins`"
    assert fresh.startswith("// generated by `accel lut build --builtins` (accel/tools/lut_build.py)")
    total = sum((lut.MEM_DIR / f"lut_{n}.hex").stat().st_size for n in lut.BUILTINS)
    assert total < 400_000


def test_build_uses_no_cpu_dependent_numpy(monkeypatch) -> None:
    """Building a table calls none of numpy's transcendental functions (SIMD kernels chosen per CPU)
    nor LAPACK/BLAS solvers and products (kernels and summation order chosen per CPU)."""
    def forbidden(*args, **kwargs):
        raise AssertionError("the table build called a CPU-dependent numpy function")

    for mod, names in ((np, ("exp", "exp2", "expm1", "log", "log1p", "log2", "tanh", "sin", "cos", "power",
                             "logaddexp", "dot", "matmul", "einsum", "vdot", "inner")),
                       (np.linalg, ("pinv", "lstsq", "solve", "inv", "qr", "svd"))):
        for name in names:
            monkeypatch.setattr(mod, name, forbidden)
    f = lut_build.builtin_function.__wrapped__("tanh")  # uncached: a real build
    assert np.array_equal(f.image(), lut.builtin("tanh").image())


def test_round_f64() -> None:
    m = lut_build._MP
    two = m.mpf(2)
    cases = [(1 + two**-53, 1.0), (1 + 3 * two**-53, 1 + 2.0**-51), (two**-1075, 0.0), (3 * two**-1076, 2.0**-1074),
             (3 * two**-1075, 2.0**-1073), (-(two**-1074), -(2.0**-1074)), (two**1024, math.inf),
             (-(two**1024), -math.inf), (m.mpf("0.1"), 0.1), (m.inf, math.inf), (m.mpf(0), 0.0)]
    for v, want in cases:
        assert lut_build.round_f64(v) == want, (v, want)
    assert math.isnan(lut_build.round_f64(m.nan)) and math.isnan(lut_build.round_f64(m.mpc(1, 1)))
    assert math.copysign(1.0, lut_build.round_f64(-(two**-2000))) == -1.0


def test_lstsq_matches_exact_solution() -> None:
    """The fixed-order Householder solve against the exact rational least-squares solution."""
    rng = np.random.default_rng(1)
    a = rng.uniform(-1, 1, (3, 12, 4))
    b = rng.uniform(-1, 1, (3, 12))
    got = lut_build.lstsq(a, b)
    for s in range(3):
        q = [[Fraction(v) for v in row] for row in a[s]]
        ata = [[sum(q[k][i] * q[k][j] for k in range(12)) for j in range(4)] for i in range(4)]
        atb = [sum(q[k][i] * Fraction(b[s, k]) for k in range(12)) for i in range(4)]
        for c in range(4):  # Gauss-Jordan on the normal equations, exactly
            for r in range(4):
                if r != c:
                    f = ata[r][c] / ata[c][c]
                    ata[r] = [x - f * y for x, y in zip(ata[r], ata[c], strict=True)]
                    atb[r] -= f * atb[c]
        exact = np.array([float(atb[i] / ata[i][i]) for i in range(4)])
        assert np.allclose(got[s], exact, rtol=1e-13, atol=1e-14)
    bad = b.copy()
    bad[1, 3] = np.nan
    x = lut_build.lstsq(a, bad)
    assert np.isnan(x[1]).all() and np.array_equal(x[[0, 2]], got[[0, 2]])  # one bad problem stays alone


@pytest.mark.parametrize("name", lut.BUILTINS)
def test_references_near_correctly_rounded(name: str) -> None:
    """lut_accuracy's fast references (libm via Numba) are within 2**-16 binary32 ulp of the correctly
    rounded ones (measured: 4e-8 at most, gelu), so a reported error cannot move in its printed digits on
    a machine whose libm differs in the last float64 bits; the non-finite values agree exactly."""
    d = acc.DOMAINS[name]
    rng = np.random.default_rng(lut.BUILTINS.index(name))
    x = np.concatenate([acc.bf16_inputs()[::53].view(np.float32).astype(np.float64),
                        rng.uniform(max(d.lo, -40.0), min(d.hi, 40.0), 600)])
    cr, fast = lut_build.REFERENCES[name](x), acc.REFERENCES[name](x)
    finite = np.isfinite(cr)
    special = ~finite & (x != 0)  # (mpmath has no signed zero: f(+-0) is compared by test_special_values)
    assert np.array_equal(fast[special], cr[special], equal_nan=True)
    err = np.abs(fast - cr) / lut_build.ulp32(cr)
    dom = finite & (x >= d.lo) & (x <= d.hi) & (np.abs(cr) >= d.abs_floor)
    assert err[dom].max() <= 2.0**-16, f"{name}({x[dom][np.argmax(err[dom])]!r})"
    assert err[finite].max() <= 2.0**-16  # outside the domain too (where errors are judged absolutely)


def test_user_table_roundtrip_and_accuracy() -> None:
    f = lut_build.user_function(lambda v: np.sin(v) * np.exp(-v), -3.0, 5.0, name="damped")
    g = lut.from_image("damped", f.image())
    assert np.array_equal(g.image(), f.image())
    x = np.random.default_rng(0).uniform(-3, 5, 100_000).astype(np.float32)
    e = acc.errors("damped", x.view(np.uint32), g, lambda v: np.sin(v) * np.exp(-v),
                   acc.Domain(-3.0, 5.0, 0.0, abs_floor=1e-3))
    assert e.ulp32[e.in_domain].max() <= 2.0
    y = lut.apply(g, _f(-10.0, 10.0, NAN))
    assert list(y[:2]) == list(_f(np.sin(-3.0) * np.exp(3.0), np.sin(5.0) * np.exp(-5.0)))
    assert y[2] == fp.CANONICAL_NAN


def test_user_table_options_and_errors() -> None:
    f = lut_build.user_function(np.cbrt, 0.5, 8.0, degree=3, segments=8)
    assert (f.tables[0].degree, f.tables[0].mbits) == (3, 3)
    with pytest.raises(ValueError, match="power of two"):
        lut_build.user_function(np.cbrt, 0.5, 8.0, segments=6)
    with pytest.raises(ValueError, match="lo < hi"):
        lut_build.user_function(np.cbrt, 2.0, 1.0)
    with pytest.raises(ValueError, match="36898 words, more than the unit's 16384"):
        lut_build.user_function(np.cbrt, 0.5, 8.0, degree=8, segments=128)
    with pytest.raises(ValueError, match="magic"):
        lut.from_image("bad", np.zeros(20, dtype=np.uint32))
    with pytest.raises(ValueError, match="truncated"):
        lut.from_image("bad", f.image()[:-1])


def _program(body: str) -> str:
    return f""".tensor x fp32[2, 8] in
.tensor img int32[1, 16] in
.tensor y fp32[2, 8] out
dma.load sb[0:2, 0]:fp32[8], x
dma.load sb[0:1, 256]:int32[16], img
sem.signal dma, s0
sem.wait act, s0
{body}
"""


@pytest.mark.parametrize(("body", "message", "static"), [  # an unloaded id is an assembly error
    ("act.func sb[0:2, 64]:fp32[8], sb[0:2, 0]:fp32[8], fn=20", "function id 20 is not loaded", True),
    ("act.func sb[0:2, 64]:fp32[8], sb[0:2, 0]:fp32[8], fn=14", "function id 14 is not loaded", True),
    ("act.lut.load sb[0:1, 256]:int32[16], fn=16", "bad magic word", False),
])
def test_program_errors(body: str, message: str, static: bool) -> None:
    from accel.isa.asm import AsmError
    from accel.machine import Core, MachineError

    inputs = {"x": np.zeros((2, 8), np.float32), "img": np.zeros((1, 16), np.int32)}
    with pytest.raises(AsmError if static else MachineError, match=message):
        Core().run(_program(body), inputs)
