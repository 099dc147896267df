"""The function-approximation unit (US11314842B1): segment tables + Taylor-like evaluation.

A *table* maps segments of a binary32 argument ``z`` to polynomial coefficients. The index rule
uses only the bits of ``z`` (docs/act.md):

* ``s = z >> 31``, ``E = (z >> 23) & 0xFF``, ``F = z & 0x7FFFFF``;
* ``E < emin``: segment 0 of side ``s`` (the "tiny" segment), base point ``+-0``;
* ``emin <= E <= emax``: segment ``1 + (E - emin) * 2**mbits + (F >> (23 - mbits))``, base point
  ``z`` with its low ``23 - mbits`` fraction bits replaced by ``100...0`` (the segment's middle).

The distance ``t = z - base`` is exact (same sign and exponent), and the estimate is Horner's rule
with one fused multiply-add per coefficient: ``p = c[d]``, then ``p = fma(p, t, c[k])`` for
``k = d-1 .. 0``. Every step is one `accel.model.fp` operation, so the RTL (fp32_fma blocks) can
match bit for bit.

A *function* is a recipe around one or two tables: ``direct`` (the table on x itself, with rules
beyond a domain [lo, hi]), or a range reduction (``exp``, ``log``, ``recip``, ``rsqrt``,
``sqrt``, ``sin``, ``cos``) written out below in binary32 steps. Built-in functions live in the
unit's ROM (ids 0..15), user tables in RAM slots (ids 16..31) loaded with ``act.lut.load``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike, NDArray

from accel.isa import resources
from accel.isa.check import BUILTIN_FUNCTIONS, USER_SLOTS, not_loaded
from accel.isa.memfile import read_memh
from accel.model import fp, primitive, semantics

U32 = NDArray[np.uint32]

MAGIC = 0x4C555431  # "LUT1": first word of a table image
HEADER_WORDS = 12
USER_IDS = USER_SLOTS  # act.func ids of the user RAM slots (the ISA's, accel.isa.check)
KINDS = ("direct", "exp", "log", "recip", "rsqrt", "sqrt", "sin", "cos")
RULES = ("const", "identity", "exp", "xexp")  # what `direct` returns beyond [lo, hi]
MAX_DEGREE = 8  # the unit's Horner pipeline (rtl/act_func.v) is unrolled to this degree
MAX_WORDS = 1 << 14  # the unit's image RAM (rtl/act_func.v, WORDS_LOG2 = 14)
MEM_DIR = resources.MEM_DIR  # the generated tables (rtl/mem), from the checkout or the wheel

# binary32 constants of the range reductions (bit patterns)
LOG2E = 0x3FB8AA3B  # 1/ln2
LN2_HI = 0x3F317218  # fp32(ln2)
LN2_LO = 0xB102E308  # fp32(ln2 - LN2_HI)
TWO_OVER_PI = 0x3F22F983
PIO2_1 = 0x3FC90FDB  # fp32(pi/2)
PIO2_2 = 0xB33BBD2E  # fp32(pi/2 - PIO2_1)
PIO2_3 = 0xA6F72CED  # fp32(pi/2 - PIO2_1 - PIO2_2)
ONE = 0x3F800000
EXP_LO = 0xC2E00000  # -112: exp(x) and x exp(x) round to 0 below
EXP_HI = 0x42B20000  # 89: exp(x) rounds to +inf above
TWO24 = 0x4B800000  # 2**24, normalizes subnormal inputs
SIN_MAX = 0x46800000  # 16384: |x| beyond which sin/cos return NaN (outside the reduction's range)
_INF = 0x7F800000
_NAN = fp.CANONICAL_NAN


@dataclass(frozen=True)
class Table:
    """Segment table: coefficients ``coeffs[side, segment, k]`` (binary32 bits, c0 first)."""

    emin: int
    emax: int
    mbits: int
    coeffs: U32

    @property
    def degree(self) -> int:
        return self.coeffs.shape[2] - 1

    @property
    def segments(self) -> int:
        """Segments per side: the tiny one plus 2**mbits per binade emin..emax."""
        return 1 + ((self.emax - self.emin + 1) << self.mbits)

    def words(self) -> U32:
        """Descriptor (emin, emax, mbits, degree) followed by the coefficients, side 0 first."""
        head = np.array([self.emin, self.emax, self.mbits, self.degree], dtype=np.uint32)
        return np.concatenate([head, self.coeffs.reshape(-1).astype(np.uint32)])


@dataclass(frozen=True)
class Function:
    """A recipe around its table(s); lo/hi/rules matter for the ``direct`` kind only."""

    name: str
    kind: str
    tables: tuple[Table, ...]
    lo: int = 0xFF800000
    hi: int = 0x7F800000
    lo_rule: str = "const"
    lo_value: int = _NAN
    hi_rule: str = "const"
    hi_value: int = _NAN

    def image(self) -> U32:
        """The table image: 12 header words, then each table's words (what act.lut.load reads)."""
        head = [MAGIC, KINDS.index(self.kind), len(self.tables), self.lo, self.hi,
                RULES.index(self.lo_rule), self.lo_value, RULES.index(self.hi_rule), self.hi_value, 0, 0, 0]
        return np.concatenate([np.array(head, dtype=np.uint32)] + [t.words() for t in self.tables])


def from_image(name: str, words: ArrayLike) -> Function:
    """Parse a table image (inverse of `Function.image`); raises ValueError when malformed."""
    w = np.asarray(words, dtype=np.uint32).reshape(-1)
    if w.size < HEADER_WORDS or int(w[0]) != MAGIC:
        raise ValueError("not a table image (bad magic word)")
    kind, ntab = int(w[1]), int(w[2])
    if kind >= len(KINDS) or int(w[5]) >= len(RULES) or int(w[7]) >= len(RULES):
        raise ValueError("table image header has an unknown kind or rule")
    if ntab != (2 if KINDS[kind] in ("sin", "cos") else 1):
        raise ValueError(f"a {KINDS[kind]} table image has {2 if KINDS[kind] in ('sin', 'cos') else 1} table(s), "
                         f"not {ntab}")
    tables, pos = [], HEADER_WORDS
    for _ in range(ntab):
        if w.size < pos + 4:
            raise ValueError("table image is truncated")
        emin, emax, mbits, degree = (int(v) for v in w[pos:pos + 4])
        if not (1 <= emin <= emax <= 254 and mbits <= 8 and degree <= MAX_DEGREE):
            raise ValueError(f"table descriptor out of range: emin={emin} emax={emax} mbits={mbits} degree={degree}")
        nseg = 1 + ((emax - emin + 1) << mbits)
        n = 2 * nseg * (degree + 1)
        if w.size < pos + 4 + n:
            raise ValueError("table image is truncated")
        tables.append(Table(emin, emax, mbits, w[pos + 4:pos + 4 + n].reshape(2, nseg, degree + 1).copy()))
        pos += 4 + n
    f = Function(name, KINDS[kind], tuple(tables), int(w[3]), int(w[4]), RULES[int(w[5])], int(w[6]),
                 RULES[int(w[7])], int(w[8]))
    if pos > MAX_WORDS:
        raise ValueError(f"table image has {pos} words; the unit's RAM holds {MAX_WORDS}")
    reach = (tables[0].emax + 1) << 23  # |x| below this pattern is inside the table
    if kind == 0 and not ((f.lo & 0x7FFFFFFF) <= reach and (f.hi & 0x7FFFFFFF) <= reach):
        raise ValueError("direct table image: lo/hi reach beyond the table's binades")
    if kind == 0 and not fp.lt(np.uint32(f.lo), np.uint32(f.hi)):
        raise ValueError("direct table image: lo is not below hi")
    return f


# ---------------------------------------------------------------------------------------------
# The table: index rule and Horner evaluation
# ---------------------------------------------------------------------------------------------


def index(table: Table, z: ArrayLike) -> tuple[U32, U32, U32]:
    """(side, segment, base) of binary32 arguments z, with emin <= E <= emax or E < emin."""
    z = np.asarray(z, dtype=np.uint32)
    side = z >> 31
    e = ((z >> 23) & 0xFF).astype(np.int64)
    low = 23 - table.mbits
    tiny = e < table.emin
    seg = 1 + ((e - table.emin) << table.mbits) + ((z & 0x7FFFFF) >> low)
    seg = np.where(tiny, 0, seg).astype(np.uint32)
    mid = (z & ~np.uint32((1 << low) - 1)) | np.uint32(1 << (low - 1))
    base = np.where(tiny, z & 0x80000000, mid).astype(np.uint32)
    return side.astype(np.uint32), seg, base


def evaluate(table: Table, z: ArrayLike) -> U32:
    """Estimate at z: t = z - base (exact), Horner with one fma per coefficient; c0 where t = +-0."""
    side, seg, base = index(table, z)
    c = table.coeffs[side, seg]  # [..., degree + 1]
    t = fp.sub(z, base)
    p = c[..., table.degree]
    for k in range(table.degree - 1, -1, -1):
        p = fp.fma(p, t, c[..., k])
    return np.where((t & 0x7FFFFFFF) == 0, c[..., 0], p).astype(np.uint32)


# ---------------------------------------------------------------------------------------------
# Range reductions
# ---------------------------------------------------------------------------------------------


def _const(value: int, like: np.ndarray) -> U32:
    return np.full(like.shape, value, dtype=np.uint32)


def _pow2(k: ArrayLike) -> U32:
    """2**k as binary32 bits for -126 <= k <= 127."""
    return ((np.asarray(k, dtype=np.int64) + 127) << 23).astype(np.uint32)


def scale(p: ArrayLike, k: ArrayLike) -> U32:
    """p * 2**k with one rounding, |k| <= 254: mul(mul(p, 2**(k >> 1)), 2**(k - (k >> 1)))."""
    k = np.asarray(k, dtype=np.int64)
    half = k >> 1
    return fp.mul(fp.mul(p, _pow2(half)), _pow2(k - half))


def _split(x: U32) -> tuple[np.ndarray, U32]:
    """Positive finite nonzero x -> (e, m) with x = m * 2**e, m in [1, 2); subnormals via * 2**24."""
    sub = (x >> 23) == 0
    x = np.where(sub, fp.mul(x, _const(TWO24, x)), x)
    e = ((x >> 23) & 0xFF).astype(np.int64) - 127 - np.where(sub, 24, 0)
    m = ((x & 0x7FFFFF) | (127 << 23)).astype(np.uint32)
    return e, m


def clamp_exp(x: U32) -> U32:
    """x clamped to [-112, 89] (exp's results there already round to 0 or overflow); NaN -> 0
    (the caller's result for a NaN is the canonical NaN anyway)."""
    x = np.where(fp._is_nan(x.astype(np.int64)), 0, x)
    return np.where(fp.lt(x, _const(EXP_LO, x)), EXP_LO, np.where(fp.lt(_const(EXP_HI, x), x), EXP_HI, x)).astype(
        np.uint32)


def exp_parts(table: Table, x: U32) -> tuple[U32, np.ndarray]:
    """exp(x) = P(r) * 2**k: x clamped (clamp_exp), k = rint(x / ln2), r = x - k ln2 (two fma)."""
    x = clamp_exp(x)
    k = fp.fp32_to_int32(fp.mul(x, _const(LOG2E, x))).astype(np.int64)
    kf = fp.int32_to_fp32(k)
    r = fp.fma(kf, _const(LN2_HI ^ 0x80000000, x), x)
    r = fp.fma(kf, _const(LN2_LO ^ 0x80000000, x), r)
    return evaluate(table, r), k


def _exp(f: Function, x: U32) -> U32:
    y = scale(*exp_parts(f.tables[0], x))
    return np.where(fp._is_nan(x.astype(np.int64)), _NAN, y).astype(np.uint32)


def _log(f: Function, x: U32) -> U32:
    """log(x) = e ln2 + log1p(m - 1), m in [0.75, 1.5): fma(e, LN2_HI, fma(e, LN2_LO, P(m - 1)))."""
    pos = (x >> 31 == 0) & ((x & 0x7FFFFFFF) != 0) & (x < _INF)
    xs = np.where(pos, x, ONE).astype(np.uint32)
    e, m = _split(xs)
    big = (m & 0x400000) != 0  # m >= 1.5: use m / 2
    e = e + big
    m = (m - (big.astype(np.uint32) << 23)).astype(np.uint32)
    p = evaluate(f.tables[0], fp.sub(m, _const(ONE, m)))
    ef = fp.int32_to_fp32(e)
    y = fp.fma(ef, _const(LN2_HI, x), fp.fma(ef, _const(LN2_LO, x), p))
    y = np.where((x & 0x7FFFFFFF) == 0, 0xFF800000, y)  # log(+-0) = -inf
    y = np.where(x == _INF, _INF, y)
    return np.where(fp._is_nan(x.astype(np.int64)) | ((x >> 31 == 1) & ((x & 0x7FFFFFFF) != 0)), _NAN, y).astype(
        np.uint32)


def _power(f: Function, x: U32) -> U32:
    """recip / rsqrt / sqrt: x = m 2**e, table on m (in [1, 2), or [1, 4) with e even), then scale."""
    sign = x & 0x80000000
    mag = (x & 0x7FFFFFFF).astype(np.uint32)
    finite = (mag != 0) & (mag < _INF)
    e, m = _split(np.where(finite, mag, ONE).astype(np.uint32))
    if f.kind == "recip":
        y = scale(evaluate(f.tables[0], m), -e) | sign
        y = np.where(mag == 0, sign | _INF, np.where(mag == _INF, sign, y))
        return np.where(mag > _INF, _NAN, y).astype(np.uint32)
    odd = (e & 1) == 1
    m = (m + (odd.astype(np.uint32) << 23)).astype(np.uint32)  # m in [2, 4) when e is odd
    e = e - odd
    p = evaluate(f.tables[0], m)
    if f.kind == "rsqrt":
        y = scale(p, -(e >> 1))
        y = np.where(mag == 0, sign | _INF, np.where(x == _INF, 0, y))
    else:
        y = scale(p, e >> 1)
        y = np.where(mag == 0, x, np.where(x == _INF, _INF, y))
    return np.where((mag > _INF) | ((sign != 0) & (mag != 0)), _NAN, y).astype(np.uint32)


def _trig(f: Function, x: U32) -> U32:
    """k = rint(x 2/pi), r = x - k pi/2 (three fma; r = x if k = 0), quadrant k mod 4 picks +-S(r) or +-C(r)."""
    ok = (x & 0x7FFFFFFF) <= SIN_MAX
    xs = np.where(ok, x, 0).astype(np.uint32)
    k = fp.fp32_to_int32(fp.mul(xs, _const(TWO_OVER_PI, x))).astype(np.int64)
    kf = fp.int32_to_fp32(k)
    r = fp.fma(kf, _const(PIO2_1 ^ 0x80000000, x), xs)
    r = fp.fma(kf, _const(PIO2_2 ^ 0x80000000, x), r)
    r = fp.fma(kf, _const(PIO2_3 ^ 0x80000000, x), r)
    r = np.where(k == 0, xs, r).astype(np.uint32)  # no reduction for |x| < pi/4 (keeps sin(-0) = -0)
    s, c = evaluate(f.tables[0], r), evaluate(f.tables[1], r)
    q = (k + (1 if f.kind == "cos" else 0)) & 3
    y = np.where((q & 1) == 0, s, c)
    y = np.where(q >= 2, y ^ 0x80000000, y)
    return np.where(ok, y, _NAN).astype(np.uint32)


def _rule(rule: str, value: int, x: U32) -> U32:
    """Result beyond the domain: const -> value; identity -> x; exp -> e + A e**2 with e = exp(x)
    and A = value (the tail of sigmoid or softplus); xexp -> x (e + A e**2). With e = P 2**k:
    q = P (exp) or x * P (xexp), then scale(fma(q * A, e, q), k), one scaling at the end."""
    if rule == "const":
        return _const(value, x)
    if rule == "identity":
        return x
    p, k = exp_parts(builtin("exp").tables[0], x)
    q = p if rule == "exp" else fp.mul(clamp_exp(x), p)
    return scale(fp.fma(fp.mul(q, _const(value, x)), scale(p, k), q), k)


def _direct(f: Function, x: U32) -> U32:
    """The table on the open domain (lo, hi); the rules at and beyond its ends."""
    below, above = fp.le(x, _const(f.lo, x)), fp.le(_const(f.hi, x), x)
    nan = fp._is_nan(x.astype(np.int64))
    inside = ~below & ~above & ~nan
    y = evaluate(f.tables[0], np.where(inside, x, 0).astype(np.uint32))
    y = np.where(below, _rule(f.lo_rule, f.lo_value, x), y)
    y = np.where(above, _rule(f.hi_rule, f.hi_value, x), y)
    return np.where(nan, _NAN, y).astype(np.uint32)


_RECIPES = {"direct": _direct, "exp": _exp, "log": _log, "recip": _power, "rsqrt": _power, "sqrt": _power,
            "sin": _trig, "cos": _trig}


@primitive("lut_apply")
def apply(f: Function, x: ArrayLike) -> U32:
    """f(x) in binary32 bits for binary32 bit patterns x (the unit's whole datapath after affine)."""
    x = np.asarray(x, dtype=np.uint32)
    with np.errstate(over="ignore"):
        return _RECIPES[f.kind](f, x)


# ---------------------------------------------------------------------------------------------
# Built-in ROM and the ACT opcodes
# ---------------------------------------------------------------------------------------------

BUILTINS = BUILTIN_FUNCTIONS  # act.func ids 0..12 by name (the ISA's, accel.isa.check)


def read_hex(path: Path) -> U32:
    """Words of a $readmemh file (accel.isa.memfile.read_memh, the project's one reader)."""
    return read_memh(path, 32).astype(np.uint32)


@cache
def builtin(name: str) -> Function:
    """A built-in function, parsed from its generated ROM image rtl/mem/lut_<name>.hex."""
    if name not in BUILTINS:
        raise KeyError(f"no built-in function {name!r} (have {', '.join(BUILTINS)})")
    return from_image(name, read_hex(MEM_DIR / f"lut_{name}.hex"))


def function_for(core, fn: int) -> Function:
    """The function with id `fn`: built-ins 0..12, user RAM slots 16..31."""
    if fn < len(BUILTINS):
        return builtin(BUILTINS[fn])
    f = core.lut_slots.get(fn)
    if f is None:
        raise core.error(not_loaded(fn))  # core.error names the instruction
    return f


@semantics("act.func")
def act_func(core, ins) -> None:
    from accel.model.act import affine

    dst = ins.ops["dst"]
    f = function_for(core, ins.ops["fn"])
    y = affine(core, ins)
    core.write(dst, core.prims.from_f32(core.prims.lut_apply(f, y), dst.dtype))


@semantics("act.lut.load")
def act_lut_load(core, ins) -> None:
    src, fn = ins.ops["src"], ins.ops["fn"]
    if fn not in USER_IDS:
        raise core.error(f"slot {fn} is not a user slot ({USER_IDS.start}..{USER_IDS.stop - 1})")
    words = core.read(src).astype(np.uint32).reshape(-1)
    try:
        core.lut_slots[fn] = from_image(f"slot{fn}", words)
    except ValueError as exc:
        raise core.error(str(exc)) from None
    core.stats.count_elements("ACT", src.size)
