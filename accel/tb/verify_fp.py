"""`accel verify fp`: the rtl/fp blocks against accel.model.fp, bit for bit, on both simulators.

The stimulus, the expected results and the coverage bins all come from here; sim/test_fp.py
(the cocotb bench) writes them to `$readmemh` files that sim/fp_top.v walks through one vector
per clock, counting mismatches in Verilog, so that volume runs at simulator speed.

Every run applies, per operation, the directed set (every special class crossed with every
other: signed zeros, subnormals, normals, infinities, quiet and signalling NaNs, ties), the
exhaustive set where one is defined (all 65536 bf16 patterns for bf16_to_fp32; every bf16
pattern with the dropped half at, just below and above the tie for fp32_to_bf16; only with
``exhaustive``) and ``n`` random vectors that mix uniform bit patterns with operands whose
exponents put results near cancellation, underflow and overflow.

    accel verify fp --sim verilator --op fma --vectors 100000 --seed 3
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from accel.isa.memfile import write_memh
from accel.isa.resources import DATA_ROOT
from accel.model import fp
from accel.tb.modules import sources
from accel.tb.plan import PlannedRun, run_planned

REPO = DATA_ROOT  # holds rtl/ and sim/: the checkout, or the copy a wheel carries
TOPLEVEL = "fp_top"
SOURCES = [str(p) for p in sources(TOPLEVEL)]
TEST_MODULE = "test_fp"
PLAN_ENV, REPORT_ENV = "ACCEL_FP_PLAN", "ACCEL_FP_REPORT"
# Memory depth of fp_top per simulator (vectors beyond it run in several loads).
DEPTH_LOG2 = {"icarus": 16, "verilator": 20}
# Random vectors per operation when --vectors is not given.
DEFAULT_RANDOM = {"icarus": 2_000, "verilator": 1_000_000}
BF16_MUL_VOLUME = 1 << 20  # bf16_mul's random count on Verilator by default


@dataclass(frozen=True)
class Op:
    """One operation of sim/fp_top.v: its `op` code, operand kind and model function."""

    code: int
    kind: str  # "f32", "f32x2", "f32x3", "bf16", "bf16x2", "i32"
    model: Callable[..., np.ndarray]


def _cmp(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    lt, le, eq = fp.lt(a, b), fp.le(a, b), fp.eq(a, b)
    return (lt.astype(np.uint32) << 2) | (le.astype(np.uint32) << 1) | eq.astype(np.uint32)


OPS: dict[str, Op] = {
    "add": Op(0, "f32x2", fp.add),
    "sub": Op(1, "f32x2", fp.sub),
    "mul": Op(2, "f32x2", fp.mul),
    "fma": Op(3, "f32x3", fp.fma),
    "min": Op(4, "f32x2", fp.minimum),
    "max": Op(5, "f32x2", fp.maximum),
    "cmp": Op(6, "f32x2", _cmp),
    "fp32_to_bf16": Op(7, "f32", fp.fp32_to_bf16),
    "bf16_to_fp32": Op(8, "bf16", fp.bf16_to_fp32),
    "bf16_mul": Op(9, "bf16x2", fp.bf16_mul),
    "int32_to_fp32": Op(10, "i32", lambda a: fp.int32_to_fp32(a.view(np.int32))),
    "fp32_to_int32": Op(11, "f32", fp.fp32_to_int32),
    "fp32_to_int8": Op(12, "f32", fp.fp32_to_int8),
}
ARITY = {"f32": 1, "f32x2": 2, "f32x3": 3, "bf16": 1, "bf16x2": 2, "i32": 1}

# ---------------------------------------------------------------------------------------------
# Operand classes (coverage bins are their crosses)
# ---------------------------------------------------------------------------------------------

FP_CLASSES = ("+0", "-0", "+sub", "-sub", "+norm", "-norm", "+inf", "-inf", "qnan", "snan")
INT_CLASSES = ("0", "+exact", "-exact", "+inexact", "-inexact")


def classify(kind: str, x: np.ndarray) -> np.ndarray:
    """Class index of each operand (into FP_CLASSES, or INT_CLASSES for int32 operands)."""
    x = np.asarray(x, dtype=np.uint32).astype(np.int64)
    if kind == "i32":
        i = np.where(x >= 1 << 31, x - (1 << 32), x)
        exact = np.abs(i) <= 1 << 24
        return np.select([i == 0, exact & (i > 0), exact, i > 0], [0, 1, 2, 3], 4)
    if kind.startswith("bf16"):
        x = x << 16
    sign = x >> 31
    exp = (x >> 23) & 0xFF
    frac = x & 0x7FFFFF
    quiet = (frac >> 22) & 1
    return np.select(
        [(exp == 255) & (frac == 0), exp == 255, (exp == 0) & (frac == 0), exp == 0],
        [6 + sign, np.where(quiet == 1, 8, 9), sign, 2 + sign],
        4 + sign,
    )


def coverage(op: str, operands: list[np.ndarray]) -> np.ndarray:
    """Hit counts of every cross of operand classes (an array with one axis per operand)."""
    kind = OPS[op].kind
    n_classes = len(INT_CLASSES if kind == "i32" else FP_CLASSES)
    shape = (n_classes,) * len(operands)
    flat = np.ravel_multi_index(tuple(classify(kind, x) for x in operands), shape)
    return np.bincount(flat, minlength=n_classes ** len(operands)).reshape(shape)


def empty_bins(op: str, counts: np.ndarray) -> list[str]:
    """Names of the crosses that no vector hit, e.g. ['-0 x snan']."""
    names = INT_CLASSES if OPS[op].kind == "i32" else FP_CLASSES
    return [" x ".join(names[k] for k in index) for index in np.argwhere(counts == 0)]


# ---------------------------------------------------------------------------------------------
# Stimulus
# ---------------------------------------------------------------------------------------------

_POSITIVE_SPECIALS = [
    0x00000000,
    0x00000001,
    0x00000002,
    0x00400000,
    0x007FFFFF,  # zero, subnormals
    0x00800000,
    0x00800001,
    0x00FFFFFF,
    0x01000000,  # smallest normals
    0x33800000,
    0x34000000,
    0x3F000000,
    0x3F800000,
    0x3F800001,
    0x3FC00000,
    0x3FFFFFFF,
    0x40000000,
    0x4B000000,
    0x4B800001,
    0x4EFFFFFF,
    0x4F000000,  # ties, integer limits
    0x3F808000,
    0x3F818000,
    0x3F80FFFF,  # bf16 ties and near-ties
    0x5F800000,
    0x7F000000,
    0x7F7FFFFF,
    0x7F7F8000,  # large, overflow boundary
    0x7F800000,
    0x7FC00000,
    0x7F800001,
    0x7FC12345,
    0x7FBFFFFF,  # inf, NaNs
]
SPECIALS = np.array(_POSITIVE_SPECIALS + [x | 0x80000000 for x in _POSITIVE_SPECIALS], dtype=np.uint32)
# One or two members of every class, both signs: fma crosses three of them.
_FMA_CLASS_MEMBERS = [
    0x0,
    0x1,
    0x7FFFFF,
    0x800000,
    0x33800000,
    0x3F800000,
    0x3F800001,
    0x7F7FFFFF,
    0x7F800000,
    0x7F800001,
    0x7FC12345,
]
FMA_SPECIALS = np.array(_FMA_CLASS_MEMBERS + [x | 0x80000000 for x in _FMA_CLASS_MEMBERS], dtype=np.uint32)
BF16_SPECIALS = np.unique(SPECIALS >> 16)
INT_EDGES = (
    np.array(
        [
            0,
            1,
            -1,
            127,
            128,
            -128,
            -129,
            (1 << 24) - 1,
            1 << 24,
            (1 << 24) + 1,
            (1 << 24) + 3,
            (1 << 25) + 2,
            (1 << 25) + 6,
            (1 << 31) - 1,
            -(1 << 31),
            -(1 << 31) + 1,
            (1 << 31) - 64,
            (1 << 31) - 65,
            -((1 << 24) + 1),
        ],
        dtype=np.int64,
    )
    .astype(np.int32)
    .view(np.uint32)
)
_HALVES = fp.f32_bits((np.arange(-300, 301) / 2).astype(np.float32))  # ties for rounding


def _cross(*arrays: np.ndarray) -> list[np.ndarray]:
    return [g.ravel() for g in np.meshgrid(*arrays, indexing="ij")]


def directed(op: str) -> list[np.ndarray]:
    """The special-class cross of `op` (operands as uint32 words)."""
    kind = OPS[op].kind
    if kind == "f32x2":
        return _cross(SPECIALS, SPECIALS)
    if kind == "f32x3":
        return _cross(FMA_SPECIALS, FMA_SPECIALS, FMA_SPECIALS)
    if kind == "f32":
        return [np.concatenate([SPECIALS, _HALVES, fp.int32_to_fp32(INT_EDGES.view(np.int32))])]
    if kind == "bf16":
        return [BF16_SPECIALS]
    if kind == "bf16x2":
        return _cross(BF16_SPECIALS, BF16_SPECIALS)
    return [INT_EDGES]


def exhaustive(op: str) -> list[np.ndarray] | None:
    """All 65536 bf16 patterns (bf16_to_fp32), or every bf16 pattern followed by low halves
    0x0000, 0x7FFF, 0x8000 (the tie), 0x8001 (fp32_to_bf16); None for other operations."""
    every = np.arange(1 << 16, dtype=np.uint32)
    if op == "bf16_to_fp32":
        return [every]
    if op == "fp32_to_bf16":
        low = np.array([0x0000, 0x7FFF, 0x8000, 0x8001], dtype=np.uint32)
        return [((every[:, None] << 16) | low[None, :]).ravel()]
    return None


def _uniform(rng: np.random.Generator, n: int, bits: int = 32) -> np.ndarray:
    return rng.integers(0, 1 << bits, n, dtype=np.uint64).astype(np.uint32)


def _with_exponent(rng: np.random.Generator, exponent: np.ndarray) -> np.ndarray:
    exponent = np.clip(exponent, 0, 254).astype(np.uint32)
    sign = rng.integers(0, 2, exponent.size, dtype=np.uint32) << 31
    return sign | (exponent << 23) | rng.integers(0, 1 << 23, exponent.size, dtype=np.uint32)


def _exponent(x: np.ndarray) -> np.ndarray:
    return ((x >> 23) & 0xFF).astype(np.int64)


def _pairs(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Quarters: uniform; exponents within +-26 (alignment, cancellation, tiny sums);
    products near the subnormal range; products near overflow. A quarter of the b operands
    get sparse significands, which makes exact ties common."""
    q = n // 4
    a, b = _uniform(rng, n), _uniform(rng, n)
    a[q : 2 * q] = _with_exponent(
        rng, rng.choice([0, 228], q) + rng.integers(0, 27, q) + rng.integers(0, 2, q) * rng.integers(0, 201, q)
    )
    ea = _exponent(a)
    b[q : 2 * q] = _with_exponent(rng, ea[q : 2 * q] + rng.integers(-26, 27, q))
    b[2 * q : 3 * q] = _with_exponent(rng, rng.integers(102, 130, q) - ea[2 * q : 3 * q])
    b[3 * q :] = _with_exponent(rng, rng.integers(379, 384, n - 3 * q) - ea[3 * q :])
    b[rng.random(n) < 0.25] &= np.uint32(0xFFF00000)
    return a, b


def random_operands(op: str, n: int, rng: np.random.Generator) -> list[np.ndarray]:
    """n random operand tuples for `op`, biased towards its hard cases."""
    kind = OPS[op].kind
    if kind == "f32x2":
        return list(_pairs(rng, n))
    if kind == "f32x3":
        a, b = _pairs(rng, n)
        product = fp.mul(a, b)
        c = _uniform(rng, n)
        third = n // 3
        # c near -(a*b): cancellation; c within 2**+-30 of the product: partial overlap.
        c[:third] = (product[:third] ^ np.uint32(0x80000000)) ^ _uniform(rng, third, 6)
        c[third : 2 * third] = _with_exponent(rng, _exponent(product[third : 2 * third]) + rng.integers(-30, 31, third))
        return [a, b, c]
    if kind == "f32":
        half = n // 2
        return [np.concatenate([_uniform(rng, half), _with_exponent(rng, rng.integers(100, 160, n - half))])]
    if kind == "bf16":
        return [_uniform(rng, n, 16)]
    if kind == "bf16x2":
        a, b = _uniform(rng, n, 16), _uniform(rng, n, 16)
        ea = (a.astype(np.int64) >> 7) & 0xFF
        target = np.where(rng.random(n) < 0.5, rng.integers(90, 135, n), rng.integers(375, 384, n))
        near = rng.random(n) < 0.5
        eb = np.clip(target - ea, 0, 254).astype(np.uint32)
        b = np.where(near, (b & np.uint32(0x807F)) | (eb << 7), b).astype(np.uint32)
        return [a, b]
    half = n // 2
    small = rng.integers(-(1 << 26), 1 << 26, n - half).astype(np.int32).view(np.uint32)
    return [np.concatenate([_uniform(rng, half), small])]


def expected(op: str, operands: list[np.ndarray]) -> np.ndarray:
    """The model's result words, as sim/fp_top.v presents them (see its header)."""
    spec = OPS[op]
    if spec.kind.startswith("bf16"):
        operands = [x.astype(np.uint16) for x in operands]
    result = np.asarray(spec.model(*operands))
    if result.dtype == np.int8:
        result = result.astype(np.int32)  # sign-extended
    return result.astype(np.int64).astype(np.uint32) if result.dtype != np.uint32 else result


def vectors(op: str, n_random: int, seed: int, with_exhaustive: bool) -> list[np.ndarray]:
    """Operand words of every vector of a run: directed, exhaustive (optional), random."""
    rng = np.random.default_rng([seed, OPS[op].code])
    parts = [directed(op), random_operands(op, n_random, rng)]
    if with_exhaustive and exhaustive(op) is not None:
        parts.insert(1, exhaustive(op))
    return [np.concatenate(column).astype(np.uint32) for column in zip(*parts, strict=True)]


def chunks(operands: list[np.ndarray], size: int) -> Iterator[list[np.ndarray]]:
    """Split operand columns into loads of at most `size` vectors."""
    for start in range(0, operands[0].size, size):
        yield [x[start : start + size] for x in operands]


def write_vector_files(folder: Path, op: str, operands: list[np.ndarray]) -> np.ndarray:
    """Write fp_a/b/c.hex (unused operands as zeros) and fp_y.hex; return the expected words."""
    want = expected(op, operands)
    padded = operands + [np.zeros_like(operands[0])] * (3 - len(operands))
    for name, words in zip("abc", padded, strict=True):
        write_memh(folder / f"fp_{name}.hex", np.asarray(words, dtype=np.uint32), 32)
    write_memh(folder / "fp_y.hex", np.asarray(want, dtype=np.uint32), 32)
    return want


# ---------------------------------------------------------------------------------------------
# Plan passed to the bench through the environment, and the command
# ---------------------------------------------------------------------------------------------


def make_plan(
    ops: list[str],
    random: dict[str, int],
    seed: int,
    with_exhaustive: bool,
    flip: tuple[str, int] | None = None,
) -> dict:
    """What sim/test_fp.py runs (as JSON in PLAN_ENV): operations, random vectors per operation, seed,
    whether the exhaustive sets run. `flip` = (op, index) corrupts that vector's expected word (its
    low bit): a self-test showing that the bench detects, counts and locates a mismatch.
    """
    return {"ops": ops, "random": random, "seed": seed, "exhaustive": with_exhaustive,
            "flip": list(flip) if flip else None}


def run_plan(sim: str, plan: dict) -> PlannedRun:
    """Run sim/test_fp.py with `plan` (make_plan) on `sim`; mismatches are in the report and the error."""
    return run_planned(sim, TOPLEVEL, SOURCES, TEST_MODULE, plan, PLAN_ENV, REPORT_ENV,
                       parameters={"DEPTH_LOG2": DEPTH_LOG2[sim]})


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `accel verify fp`."""
    parser.add_argument(
        "--op", choices=sorted(OPS), action="append", help="operation to check (repeatable; default: all)"
    )
    parser.add_argument("--sim", choices=("icarus", "verilator"), default="verilator")
    parser.add_argument(
        "--vectors",
        type=int,
        default=None,
        help="random vectors per operation (default: 2000 on icarus, 10**6 on verilator, 2**20 for bf16_mul)",
    )
    parser.add_argument("--seed", type=int, default=1)


def random_counts(sim: str, ops: list[str], vectors: int | None) -> dict[str, int]:
    """Random vectors per operation: --vectors, else the simulator's default volume."""
    if vectors is not None:
        return dict.fromkeys(ops, vectors)
    counts = dict.fromkeys(ops, DEFAULT_RANDOM[sim])
    if sim == "verilator" and "bf16_mul" in counts:
        counts["bf16_mul"] = BF16_MUL_VOLUME
    return counts


def run(args: argparse.Namespace) -> dict:
    """Run the bench; returns unit, sim, vectors, mismatches, vectors_per_s and per-op detail.

    A bench whose RTL disagrees with the model returns its mismatch count (and the first
    failing vector per operation) rather than raising; a bench that could not run raises.
    """
    ops = args.op or list(OPS)
    plan = make_plan(ops, random_counts(args.sim, ops, args.vectors), args.seed, args.sim == "verilator")
    run = run_plan(args.sim, plan)
    wall, per_op = run.seconds, run.report["ops"]
    total = sum(r["vectors"] for r in per_op.values())
    sim_seconds = sum(r["seconds"] for r in per_op.values())
    return {
        "unit": "fp",
        "sim": args.sim,
        "vectors": total,
        "mismatches": sum(r["mismatches"] for r in per_op.values()),
        "vectors_per_s": round(total / sim_seconds) if sim_seconds else 0,
        "seconds": round(wall, 1),
        "empty_coverage_bins": sum(len(r["empty_bins"]) for r in per_op.values()),
        "ops": per_op,
    }
