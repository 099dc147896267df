"""`accel verify act`: rtl/act_func.v, the ACT engine's function unit, against accel.model.lut, function by function.

Each function's table image is loaded into the unit through its write port (sim/act_func_top.v),
then the unit computes f(x * scale + bias) for argument sets whose expected words are
accel.model.lut.apply after the affine step (two roundings), computed by the Numba kernel
accel.kernels.lut.apply (bit-identical to the model, tests/equivalence/test_lut_kernels.py):

* bf16: every one of the 65,536 bf16 patterns as binary32 x with scale 1 and bias -0, so the
  function sees the pattern itself (x * 1 + -0 = x, -0 included; a NaN becomes the canonical one);
* random: binary32 patterns, half uniform bits, half with exponents 2**-27 .. 2**23;
* special: +-0, +-inf, NaNs, subnormal and normal extremes, domain ends and recipe thresholds and
  their neighbouring patterns, each with fp32 and with bf16 results;
* affine: random (scale, bias) pairs with random x, fp32 and bf16 results.

Functions: the 13 built-ins and a user-built table (lut_build.user_function, arctan); the bad
images of BAD_IMAGES must raise the unit's bad_image flag. A planted wrong expected word must give
exactly one mismatch. `--engine` checks the small multi-cycle
table engine rtl/lut_unit.v table by table instead (sim/lut_top.v, accel.model.lut.evaluate).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from accel.isa.resources import DATA_ROOT
from accel.model import lut
from accel.tb import plan as bench_plan
from accel.tb.modules import act_func_words, sources
from accel.tb.plan import PlannedRun, run_planned

REPO = DATA_ROOT  # holds rtl/ and sim/: the checkout, or the copy a wheel carries

# ---- the function unit (rtl/act_func.v)
TOPLEVEL = "act_func_top"
SOURCES = [str(p) for p in sources(TOPLEVEL)]
TEST_MODULE = "test_act_func"
PLAN_ENV, REPORT_ENV = "ACCEL_ACT_PLAN", "ACCEL_ACT_REPORT"
DEPTH_LOG2 = 17
PARAMETERS = {"WORDS_LOG2": 14, "DEPTH_LOG2": DEPTH_LOG2, "EXP_HEX": f'"{lut.MEM_DIR / "lut_exp.hex"}"'}
FUNCTIONS = [*lut.BUILTINS, "user_atan"]
BAD_IMAGES = ("bad_degree9", "bad_size", "bad_tables", "bad_lo_hi")  # images the unit flags (bad_images())
DEFAULT_RANDOM = {"icarus": 0, "verilator": 1_000_000}
AFFINE_PAIRS, AFFINE_X = 4, 2048
ONE, NEG_ZERO = 0x3F800000, 0x80000000

# ---- the multi-cycle table engine (rtl/lut_unit.v), table by table
ENGINE_TOPLEVEL = "lut_top"
ENGINE_SOURCES = [str(p) for p in sources(ENGINE_TOPLEVEL)]
ENGINE_TEST_MODULE = "test_lut"
ENGINE_PLAN_ENV, ENGINE_REPORT_ENV = "ACCEL_LUT_PLAN", "ACCEL_LUT_REPORT"
ENGINE_PARAMETERS = {"WORDS_LOG2": 14, "DEPTH_LOG2": 17}
TABLE_NAMES = [n for n in lut.BUILTINS if n not in ("sin", "cos")] + ["sin.s", "sin.c", "user_atan"]
ENGINE_SAMPLE = 300  # arguments per table


def user_atan() -> lut.Function:
    """The user-built table of the checks: arctan on [-6, 6], degree 4, 8 segments per binade."""
    from accel.tools import lut_build

    with np.errstate(all="ignore"):
        return lut_build.user_function(np.arctan, -6.0, 6.0, degree=4, segments=8, name="user_atan")


def function(name: str) -> lut.Function:
    return user_atan() if name == "user_atan" else lut.builtin(name)


def bad_images() -> dict[str, np.ndarray]:
    """Images from_image rejects and the unit must flag with bad_image: degree 9 (its Horner pipeline
    stops at MAX_DEGREE = 8), the first 16 words of one whose descriptor needs 46,114 words (more
    than MAX_WORDS, the unit's RAM), a sin image with one table, a direct image with lo = hi."""
    f = user_atan()
    t = f.tables[0]
    coeffs = np.zeros((2, t.segments, 10), dtype=np.uint32)
    coeffs[..., :t.degree + 1] = t.coeffs
    degree9 = lut.Function("bad", "direct", (lut.Table(t.emin, t.emax, t.mbits, coeffs),), f.lo, f.hi).image()
    big = f.image()[:16].copy()
    big[12:16] = [t.emax - 9, t.emax, 8, 8]
    sin = lut.builtin("sin")
    one_table = lut.Function("bad", "sin", sin.tables[:1]).image()
    lo_hi = lut.Function("bad", "direct", f.tables, f.hi, f.hi).image()
    return {"bad_degree9": degree9, "bad_size": big, "bad_tables": one_table, "bad_lo_hi": lo_hi}


def special_values(f: lut.Function) -> np.ndarray:
    """Special and threshold patterns with their neighbours, both signs."""
    v = [0, 1, 0x007FFFFF, 0x00800000, 0x7F7FFFFF, 0x7F800000, 0x7FC00000, 0x7F800001, 0x7FFFFFFF, ONE,
         0x3F000000, 0x3FC00000, 0x40000000, 0x40800000, lut.EXP_LO, lut.EXP_HI, lut.SIN_MAX, lut.TWO24,
         0x42B17218, 0x42CFF1B5, 0x42CE8ED0, 0x3F490FDB, 0x3FC90FDB, 0x40490FDB, 0x4096CBE4, 0x3FB8AA3B,
         f.lo, f.hi]
    w = np.array(v, dtype=np.int64) & 0x7FFFFFFF
    w = np.concatenate([w - 1, w, w + 1]) & 0x7FFFFFFF
    w = np.unique(np.concatenate([w, w | 0x80000000]))
    return w.astype(np.uint32)


def random_patterns(n: int, rng: np.random.Generator) -> np.ndarray:
    """Half uniform bit patterns, half with exponent fields 100..150 (2**-27 .. 2**23), random sign."""
    x = rng.integers(0, 2**32, n, dtype=np.uint64).astype(np.uint32)
    h = n // 2
    x[h:] = (x[h:] & np.uint32(0x807FFFFF)) | (rng.integers(100, 151, n - h).astype(np.uint32) << np.uint32(23))
    return x


expected = act_func_words  # the unit's result words (accel.tb.modules, the act_func reference)


def _f32(rng: np.random.Generator, lo: float, hi: float) -> int:
    return int(np.float32(rng.uniform(lo, hi)).view(np.uint32))


def write_plan(folder: Path, names: list[str], n_random: int, bf16_sample: int | None, seed: int,
               flip: tuple[str, int] | None = None, affine_x: int = AFFINE_X) -> Path:
    """Vector files (x, expected) in chunks of 2**DEPTH_LOG2 and a manifest plan.json listing them.

    A chunk is one run of the bench: (function, set, scale, bias, result type, image to load or none).
    `flip` = (function, index) corrupts one expected word of that function (the bench self-test);
    `affine_x` arguments go with each of the AFFINE_PAIRS (scale, bias) pairs.
    """
    chunks = []
    for k, name in enumerate(names):
        rng = np.random.default_rng([seed, k])
        if name in BAD_IMAGES:
            img = folder / f"{name}.img.npy"
            np.save(img, bad_images()[name])
            chunks.append({"fn": name, "set": "image", "image": str(img), "file": None, "scale": ONE,
                           "bias": NEG_ZERO, "bf16": False})
            continue
        f = function(name)
        img = folder / f"{name}.img.npy"
        np.save(img, f.image())
        bf = np.arange(65536, dtype=np.uint32) << np.uint32(16)
        if bf16_sample is not None and bf16_sample < bf.size:
            bf = np.sort(rng.choice(bf, bf16_sample, replace=False))
        sp = special_values(f)
        sets = [("bf16", bf, ONE, NEG_ZERO, False), ("random", random_patterns(n_random, rng), ONE, NEG_ZERO, False),
                ("special", sp, ONE, NEG_ZERO, False), ("special", sp, ONE, NEG_ZERO, True)]
        for j in range(AFFINE_PAIRS):
            sc = _f32(rng, 2.0**-3, 8.0) | (NEG_ZERO if j % 2 else 0)
            sets.append(("affine", random_patterns(affine_x, rng), sc, _f32(rng, -4.0, 4.0), j % 2 == 1))
        first, done = True, 0
        for label, x, sc, b, to_bf16 in sets:
            y = expected(f, x, sc, b, to_bf16)
            if flip is not None and flip[0] == name and done <= flip[1] < done + x.size:
                y[flip[1] - done] ^= np.uint32(1)
            done += x.size
            for off in range(0, x.size, 1 << DEPTH_LOG2):
                path = folder / f"{name}.{len(chunks)}.npz"
                np.savez(path, x=x[off:off + (1 << DEPTH_LOG2)], y=y[off:off + (1 << DEPTH_LOG2)])
                chunks.append({"fn": name, "set": label, "image": str(img) if first else None, "file": str(path),
                               "scale": int(sc), "bias": int(b), "bf16": to_bf16})
                first = False
    return {"chunks": chunks}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `accel verify act`."""
    parser.add_argument("--fn", action="append", choices=sorted(set(FUNCTIONS) | set(TABLE_NAMES)), metavar="NAME",
                        help=f"function to check (repeatable; default: all): {', '.join(FUNCTIONS)}; "
                             "with --engine a table: " + ", ".join(TABLE_NAMES))
    parser.add_argument("--sim", choices=("icarus", "verilator"), default="verilator")
    parser.add_argument("--vectors", type=int, default=None,
                        help="random binary32 arguments per function (default: 0 icarus, 10**6 verilator)")
    parser.add_argument("--bf16-sample", type=int, default=None,
                        help="check this many of the 65,536 bf16 patterns per function (default: all)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--engine", action="store_true",
                        help="check the multi-cycle table engine rtl/lut_unit.v table by table instead")


def run(args: argparse.Namespace) -> dict:
    """Run the bench; returns unit, sim, vectors, mismatches, vectors_per_s, seconds, per-function detail."""
    if getattr(args, "engine", False):
        return run_engine(args)
    n_random = DEFAULT_RANDOM[args.sim] if args.vectors is None else args.vectors
    start = time.perf_counter()
    report, prep = run_plan(args.sim, args.fn or FUNCTIONS, n_random, getattr(args, "bf16_sample", None), args.seed)
    return summarize("act", args.sim, report, time.perf_counter() - start, prep)


def run_plan(sim: str, names: list[str], n_random: int, bf16_sample: int | None, seed: int,
             flip: tuple[str, int] | None = None, affine_x: int = AFFINE_X) -> tuple[dict, float]:
    """Write the plan (write_plan) and run it: (the bench's per-function report, seconds spent preparing).
    Raises BenchFailure when the bench did not run; mismatches are in the report."""
    with tempfile.TemporaryDirectory(prefix="accel-act-") as tmp:
        start = time.perf_counter()
        plan = write_plan(Path(tmp), names, n_random, bf16_sample, seed, flip, affine_x)
        prep = time.perf_counter() - start
        run = run_planned(sim, TOPLEVEL, SOURCES, TEST_MODULE, plan, PLAN_ENV, REPORT_ENV, parameters=PARAMETERS)
        return run.report, prep


def summarize(unit: str, sim: str, report: dict, wall: float, prep: float = 0.0) -> dict:
    total = sum(r["vectors"] for r in report.values())
    sim_seconds = sum(r["seconds"] for r in report.values())
    return {"unit": unit, "sim": sim, "vectors": total, "mismatches": sum(r["mismatches"] for r in report.values()),
            "vectors_per_s": round(total / sim_seconds) if sim_seconds else 0, "seconds": round(wall, 1),
            "prepare_seconds": round(prep, 1), "functions": report}


def plan_from_env() -> dict:
    """The function bench's plan (write_plan's, as JSON in ACCEL_ACT_PLAN); its chunks name the files
    write_plan wrote, so there is no smoke plan: run the bench through run_plan."""
    plan = bench_plan.plan_from_env(PLAN_ENV, {})
    if not plan:
        raise RuntimeError(f"{PLAN_ENV} is not set: run this bench through accel.tb.verify_act.run_plan")
    return plan


# ---------------------------------------------------------------------------------------------
# The table engine rtl/lut_unit.v (sim/lut_top.v, sim/test_lut.py)
# ---------------------------------------------------------------------------------------------


def tables() -> dict[str, lut.Function]:
    """One-table images to check: every built-in table, and a user-built one."""
    out = {}
    for name in lut.BUILTINS:
        f = lut.builtin(name)
        for i, t in enumerate(f.tables):
            key = name if len(f.tables) == 1 else f"{name}.{'sc'[i]}"
            if name == "cos":  # the same two kernels as sin
                continue
            out[key] = lut.Function(key, "direct", (t,))
    out["user_atan"] = user_atan()
    return out


def arguments(t: lut.Table, n_random: int, sample: int | None, seed: int) -> np.ndarray:
    """bf16 patterns inside the table (exponent <= emax), then random binary32 ones."""
    x = np.arange(65536, dtype=np.uint32) << 16
    x = x[((x >> 23) & 0xFF) <= t.emax]
    rng = np.random.default_rng(seed)
    r = rng.integers(0, 2**32, n_random, dtype=np.uint64).astype(np.uint32)
    r = (r & 0x807FFFFF) | (rng.integers(max(t.emin - 30, 0), t.emax + 1, n_random).astype(np.uint32) << 23)
    x = np.concatenate([x, r])
    if sample is not None and x.size > sample:
        x = x[np.sort(rng.choice(x.size, sample, replace=False))]
    return x


def engine_plan(names: list[str], n_random: int, sample: int | None, seed: int,
                flip: tuple[str, int] | None = None) -> dict:
    """What sim/test_lut.py runs: tables, random and sampled arguments per table, seed, a planted flip."""
    return {"tables": names, "random": n_random, "sample": sample, "seed": seed, "flip": flip}


def run_engine_plan(sim: str, plan: dict) -> PlannedRun:
    """Run sim/test_lut.py with `plan` (engine_plan); mismatches are in the report and the error."""
    return run_planned(sim, ENGINE_TOPLEVEL, ENGINE_SOURCES, ENGINE_TEST_MODULE, plan, ENGINE_PLAN_ENV,
                       ENGINE_REPORT_ENV, parameters=ENGINE_PARAMETERS)


def run_engine(args: argparse.Namespace) -> dict:
    """rtl/lut_unit.v table by table: a sample of each table's bf16 arguments plus random ones."""
    plan = engine_plan(args.fn or TABLE_NAMES, args.vectors or 0,
                       getattr(args, "bf16_sample", None) or ENGINE_SAMPLE, args.seed)
    run = run_engine_plan(args.sim, plan)
    return summarize("act", args.sim, run.report, run.seconds)


def engine_plan_from_env() -> dict:
    """The engine bench's plan (a small smoke plan without ACCEL_LUT_PLAN)."""
    return bench_plan.plan_from_env(ENGINE_PLAN_ENV, engine_plan(["tanh", "exp"], 50, 200, 1))
