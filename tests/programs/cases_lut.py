"""Directed cases of the function-approximation unit (act.func, act.lut.load); run by make_cases.py.

The oracle re-implements the unit's documented arithmetic (docs/act.md) on float32 values, one
IEEE step at a time: numpy float32 for mul/add/sub, exact rationals (fractions.Fraction) rounded
once to binary32 for fma. It reads the generated ROM images rtl/mem/lut_<name>.hex as data and
never imports accel.model. A hand-made user table (exact Taylor coefficients of x**2) checks
act.lut.load.
"""

# ruff: noqa: F821  (make_cases.py runs this file with its own names in scope: case, Prog, sb, ...)

from fractions import Fraction
from pathlib import Path

import numpy as np

LUT_NAMES = ("exp", "log", "sigmoid", "tanh", "gelu", "gelu_tanh", "silu", "softplus", "rsqrt", "reciprocal",
             "sqrt", "sin", "cos")
LUT_MEM = Path(__file__).resolve().parents[2] / "rtl" / "mem"
KIND_NAMES = ("direct", "exp", "log", "recip", "rsqrt", "sqrt", "sin", "cos")
RULE_NAMES = ("const", "identity", "exp", "xexp")
NAN32 = np.float32("nan")


def _f(bits: int) -> np.float32:
    return np.array([bits], dtype=np.uint32).view(np.float32)[0]


def _b(x: np.float32) -> int:
    return int(np.array([x], dtype=np.float32).view(np.uint32)[0])


def _round_f32(q: Fraction) -> np.float32:
    """The binary32 value nearest the rational q, ties to even."""
    y = np.float32(float(q))
    if not np.isfinite(y):
        return y
    cands = [y, np.nextafter(y, np.float32(np.inf)), np.nextafter(y, np.float32(-np.inf))]
    cands = [c for c in cands if np.isfinite(c)]
    return min(cands, key=lambda c: (abs(Fraction(float(c)) - q), _b(c) & 1))


def o_fma(a: np.float32, b: np.float32, c: np.float32) -> np.float32:
    """a * b + c rounded once."""
    wide = np.float64(a) * np.float64(b) + np.float64(c)  # exact product; right for specials and zeros
    if not (np.isfinite(a) and np.isfinite(b) and np.isfinite(c)):
        return np.float32(wide)
    exact = Fraction(float(a)) * Fraction(float(b)) + Fraction(float(c))
    return np.float32(wide) if exact == 0 else _round_f32(exact)


def o_mul(a, b) -> np.float32:
    return np.float32(np.float32(a) * np.float32(b))


def o_sub(a, b) -> np.float32:
    return np.float32(np.float32(a) - np.float32(b))


def o_rint_int(x: np.float32) -> int:
    """binary32 -> int32, nearest even, saturating."""
    return int(np.clip(np.rint(np.float64(x)), -2**31, 2**31 - 1))


def read_image(path: Path) -> list[int]:
    return [int(v, 16) for v in (ln.split("//")[0].strip() for ln in path.read_text().splitlines()) if v]


class OTable:
    def __init__(self, words: list[int]) -> None:
        self.emin, self.emax, self.mbits, self.degree = words[:4]
        self.nseg = 1 + ((self.emax - self.emin + 1) << self.mbits)
        self.size = 4 + 2 * self.nseg * (self.degree + 1)
        self.c = np.array(words[4:self.size], dtype=np.uint32).view(np.float32).reshape(2, self.nseg, -1)

    def __call__(self, z: np.float32) -> np.float32:
        bits = _b(z)
        side, e, frac = bits >> 31, (bits >> 23) & 0xFF, bits & 0x7FFFFF
        low = 23 - self.mbits
        if e < self.emin:
            seg, base = 0, bits & 0x80000000
        else:
            seg = 1 + ((e - self.emin) << self.mbits) + (frac >> low)
            base = (bits & ~((1 << low) - 1) & 0xFFFFFFFF) | (1 << (low - 1))
        c = self.c[side, seg]
        t = o_sub(z, _f(base))
        if t == 0:
            return c[0]
        p = c[self.degree]
        for k in range(self.degree - 1, -1, -1):
            p = o_fma(p, t, c[k])
        return p


class OFunc:
    def __init__(self, words: list[int]) -> None:
        assert words[0] == 0x4C555431
        self.kind, ntab = KIND_NAMES[words[1]], words[2]
        self.lo, self.hi = _f(words[3]), _f(words[4])
        self.rules = (RULE_NAMES[words[5]], words[6], RULE_NAMES[words[7]], words[8])
        self.tables, pos = [], 12
        for _ in range(ntab):
            t = OTable(words[pos:])
            self.tables.append(t)
            pos += t.size


ROM = {name: OFunc(read_image(LUT_MEM / f"lut_{name}.hex")) for name in LUT_NAMES}


def _pow2(k: int) -> np.float32:
    return np.float32(2.0**k)


def o_scale(p: np.float32, k: int) -> np.float32:
    return o_mul(o_mul(p, _pow2(k >> 1)), _pow2(k - (k >> 1)))


def o_exp_parts(x: np.float32) -> tuple[np.float32, int]:
    x = np.float32(min(max(x, np.float32(-112.0)), np.float32(89.0)))
    k = o_rint_int(o_mul(x, _f(0x3FB8AA3B)))
    kf = np.float32(k)
    r = o_fma(kf, -_f(0x3F317218), x)
    r = o_fma(kf, -_f(0xB102E308), r)
    return ROM["exp"].tables[0](r), k


def o_split(x: np.float32) -> tuple[int, np.float32]:
    """x = m 2**e for positive finite x, m in [1, 2)."""
    m, e = np.frexp(np.float64(x))
    return int(e) - 1, np.float32(m * 2)


def o_apply(f: OFunc, x: np.float32) -> np.float32:
    if np.isnan(x):
        return NAN32
    if f.kind == "direct":
        lo_rule, lo_val, hi_rule, hi_val = f.rules
        if f.lo < x < f.hi:
            return f.tables[0](x)
        rule, val = (lo_rule, lo_val) if x <= f.lo else (hi_rule, hi_val)
        if rule == "const":
            return _f(val)
        if rule == "identity":
            return x
        p, k = o_exp_parts(x)
        q = p if rule == "exp" else o_mul(np.float32(min(max(x, np.float32(-112.0)), np.float32(89.0))), p)
        return o_scale(o_fma(o_mul(q, _f(val)), o_scale(p, k), q), k)
    if f.kind == "exp":
        p, k = o_exp_parts(x)
        return o_scale(p, k)
    if f.kind == "log":
        if x < 0:
            return NAN32
        if x == 0:
            return np.float32(-np.inf)
        if np.isinf(x):
            return x
        e, m = o_split(x)
        if m >= 1.5:
            e, m = e + 1, np.float32(m / 2)
        p = f.tables[0](o_sub(m, np.float32(1.0)))
        ef = np.float32(e)
        return o_fma(ef, _f(0x3F317218), o_fma(ef, _f(0xB102E308), p))
    if f.kind in ("recip", "rsqrt", "sqrt"):
        neg = np.signbit(x)
        if f.kind == "recip":
            if x == 0:
                return np.float32(-np.inf if neg else np.inf)
            if np.isinf(x):
                return np.float32(-0.0 if neg else 0.0)
            e, m = o_split(abs(x))
            y = o_scale(f.tables[0](m), -e)
            return -y if neg else y
        if x == 0:
            return np.float32(np.copysign(np.inf, x)) if f.kind == "rsqrt" else x
        if neg:
            return NAN32
        if np.isinf(x):
            return np.float32(0.0) if f.kind == "rsqrt" else x
        e, m = o_split(x)
        if e % 2:
            e, m = e - 1, np.float32(m * 2)
        p = f.tables[0](m)
        return o_scale(p, -(e // 2) if f.kind == "rsqrt" else e // 2)
    # sin, cos
    if not abs(x) <= 16384.0:
        return NAN32
    k = o_rint_int(o_mul(x, _f(0x3F22F983)))
    kf = np.float32(k)
    r = o_fma(kf, -_f(0x3FC90FDB), x)
    r = o_fma(kf, -_f(0xB33BBD2E), r)
    r = o_fma(kf, -_f(0xA6F72CED), r) if k else x
    q = (k + (f.kind == "cos")) & 3
    y = f.tables[0](r) if q % 2 == 0 else f.tables[1](r)
    return -y if q >= 2 else y


def _act_func_oracle(p: Prog, f: OFunc, dst: Ap, src: Ap, scale: str, bias: str) -> None:
    x = p.f32(src)
    y = np.float32(x * imm_value(scale)) + imm_value(bias)
    with np.errstate(all="ignore"):
        out = np.array([o_apply(f, v) for v in y.reshape(-1)], dtype=np.float32).reshape(y.shape)
    p.write(dst, narrow(out, dst.dtype))


def _func(p: Prog, fn: int, f: OFunc, dst: Ap, src: Ap, scale: str = "1.0", bias: str = "0.0") -> None:
    if p.emit("ACT", f"act.func {dst}, {src}, fn={fn}, scale={scale}, bias={bias}"):
        _act_func_oracle(p, f, dst, src, scale, bias)


LUT_SPECIALS = [0x00000000, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000, 0x00000001, 0x80000001, 0x3F800000,
                0xBF800000, 0x42B20000, 0xC2E00000, 0x41800000, 0xC1800000, 0x42000000, 0x46800000, 0x3FC90FDB]


@case("act.func", "every built-in (exp, log, sigmoid, tanh, gelu, gelu_tanh, silu, softplus, rsqrt, reciprocal, "
      "sqrt, sin, cos) on specials, domain edges, tails and random values; scale/bias; bf16 and fp32 dst")
def _act_func(p: Prog, rng) -> None:
    P, F = 4, 16
    xb = np.ldexp(rng.standard_normal((P, F)), rng.integers(-6, 7, (P, F))).astype(np.float32).view(np.uint32)  # exact
    xb.reshape(-1)[:len(LUT_SPECIALS)] = LUT_SPECIALS
    x = p.tensor("x", "fp32", (P, F), "in", xb)
    p.load(sb(0, P, 0, "fp32", F), p.whole(x))
    p.handoff("dma", "act")
    outs = []
    for fn, name in enumerate(LUT_NAMES):
        dst = sb(8, 8 + P, 128 * fn, "fp32" if fn % 3 else "bf16", F)
        scale, bias = ("1.0", "0.0") if fn % 2 == 0 else ("-2.5", "0.125")
        _func(p, fn, ROM[name], dst, sb(0, P, 0, "fp32", F), scale, bias)
        outs.append(dst)
    p.handoff("act", "dma")
    for fn, dst in enumerate(outs):
        p.store(p.whole(p.tensor(f"y_{LUT_NAMES[fn]}", dst.dtype, (P, F), "out")), dst)
    p.halt()


def _square_image() -> list[int]:
    """User table for x**2 on (-2, 2): degree 2, mbits 2, binades 2**-2 .. 2**0, exact Taylor
    coefficients at each base point b (b**2, 2b, 1); constant 4.0 at and beyond the ends."""
    emin, emax, mbits, deg = 125, 127, 2, 2
    nseg = 1 + ((emax - emin + 1) << mbits)
    coeffs = np.zeros((2, nseg, deg + 1), dtype=np.float32)
    for side, sign in ((0, 1.0), (1, -1.0)):
        coeffs[side, 0] = (0.0, 0.0, 1.0)  # tiny segment: base 0
        for e in range(emin, emax + 1):
            for j in range(1 << mbits):
                b = sign * 2.0 ** (e - 127) * (1 + (j + 0.5) / (1 << mbits))
                coeffs[side, 1 + ((e - emin) << mbits) + j] = (b * b, 2 * b, 1.0)
    head = [0x4C555431, 0, 1, _b(np.float32(-2.0)), _b(np.float32(2.0)), 0, _b(np.float32(4.0)), 0,
            _b(np.float32(4.0)), 0, 0, 0, emin, emax, mbits, deg]
    return head + [int(v) for v in coeffs.reshape(-1).view(np.uint32)]


@case("act.lut.load", "a hand-made user table (x**2 on (-2, 2), exact Taylor coefficients) loaded into slot 16 "
      "and 31 from SBUF, then used by act.func with scale and bias")
def _act_lut_load(p: Prog, rng) -> None:
    words = _square_image()
    n = len(words)
    img = p.tensor("image", "int32", (1, n), "in", np.array(words, dtype=np.uint32).view(np.int32).reshape(1, n))
    P, F = 4, 16
    xb = rng.uniform(-2.5, 2.5, (P, F)).astype(np.float32).view(np.uint32)
    xb.reshape(-1)[:8] = [0x00000000, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000, 0x3F800000, 0xC0000000,
                          0x00000001]
    x = p.tensor("x", "fp32", (P, F), "in", xb)
    p.load(sb(0, 1, 1024, "int32", n), p.whole(img))
    p.load(sb(0, P, 0, "fp32", F), p.whole(x))
    p.handoff("dma", "act")
    p.emit("ACT", f"act.lut.load sb[0:1, 1024]:int32[{n}], fn=16")
    p.emit("ACT", f"act.lut.load sb[0:1, 1024]:int32[{n}], fn=31")
    user = OFunc(words)
    outs = [sb(8, 8 + P, 0, "fp32", F), sb(8, 8 + P, 128, "bf16", F)]
    _func(p, 16, user, outs[0], sb(0, P, 0, "fp32", F))
    _func(p, 31, user, outs[1], sb(0, P, 0, "fp32", F), "0.5", "-0.25")
    p.handoff("act", "dma")
    for k, dst in enumerate(outs):
        p.store(p.whole(p.tensor(f"y{k}", dst.dtype, (P, F), "out")), dst)
    p.halt()
