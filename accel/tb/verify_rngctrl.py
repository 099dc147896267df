"""`accel verify rngctrl`: rtl/dropout_scale.v and rtl/splitmix64_seeder.v against accel.model.rng.

Runs sim/test_rng_ctrl.py through sim/rng_ctrl_tb.v. dropout_scale: directed p (0, -0, 1, 1 - 2**-24,
0.5, common rates, every power of two in [2**-149, 1] with its neighbours, subnormal and normal
edges), p next to the rounding boundaries of 1/(1-p) (for random midpoints M between adjacent
binary32 values, the binary32 neighbours of 1 - 1/M; and the p in [0.5, 1) closest to a midpoint,
from an exhaustive search of its 2**23 values), `--vectors` random p (bit patterns in
[0, 1] and patterns of [0.5, 1)), and a few p outside [0, 1]; expected accel.model.rng.scale (the
canonical NaN outside [0, 1], which the ISA rejects). splitmix64_seeder: seeds 0, 2**64 - 1 and
others, and a hundredth of `--vectors` random seeds, all 128 lanes of each against
accel.model.rng.lane_states, and the same seeds on a 5-lane instance. The bench compares and
measures each block's latency.
"""

from __future__ import annotations

import argparse
from fractions import Fraction

import numpy as np

from accel.model import fp, rng
from accel.tb.modules import dropout_scale_bits, sources
from accel.tb.plan import run_planned

TOPLEVEL = "rng_ctrl_tb"
SOURCES = sources(TOPLEVEL)
TEST_MODULE = "test_rng_ctrl"
LANES = 128
SMALL_LANES = 5  # a second seeder instance: a lane count that is no power of two
PARAMETERS = {"LANES": LANES, "SMALL_LANES": SMALL_LANES}
DEPTH_LOG2 = {"icarus": 12, "verilator": 17}
DEFAULT_VECTORS = {"icarus": 2_000, "verilator": 100_000}
SCALE_LATENCY = 15  # clocks from the start edge to `done` (rtl/dropout_scale.v)
SEEDER_FIRST_VALID = 3  # rtl/splitmix64_seeder.v: lane L's valid after 2L + 3 clocks, done after 2 * LANES + 2
QNAN = 0x7FC00000
ONE = 0x3F800000
RATES = [0.01, 0.05, 0.1, 0.125, 0.15, 0.2, 0.25, 0.3, 1 / 3, 0.4, 0.5, 0.6, 2 / 3, 0.7, 0.75, 0.8, 0.9, 0.95,
         0.99, 0.999, 1e-3, 1e-4, 1e-6, 1e-9]
OUT_OF_RANGE = [0x80000001, 0xBF800000, 0x3F800001, 0x40000000, 0x7F7FFFFF, 0x7F800000, 0xFF800000, 0x7FC00000,
                0xFFFFFFFF]
FIXED_SEEDS = [0, (1 << 64) - 1, 1, (1 << 63), (-rng.GOLDEN64) & rng.MASK64]


expected_scale = dropout_scale_bits  # rtl/dropout_scale.v's result (accel.tb.modules)


def _f32_bits(x: float) -> int:
    return int(fp.f32_bits(np.float32(x)))


def directed_ps() -> list[int]:
    """0, -0, 1, 1 - 2**-24, rates, powers of two 2**-149 .. 1 and their neighbours, subnormal edges."""
    ps = [0, 0x80000000, ONE, 0x3F7FFFFF, 0x3F000000, 0x00000001, 0x007FFFFF, 0x00800000, 0x00800001]
    ps += [_f32_bits(r) for r in RATES]
    for k in range(150):
        b = _f32_bits(2.0 ** -k)
        ps += [b - 1, b, b + 1] if 0 < b < ONE else [b]
    return sorted(set(ps))


def boundary_ps(k: int, seed: int) -> tuple[list[int], Fraction]:
    """Binary32 p next to rounding boundaries of 1/(1-p): for k random midpoints M between adjacent
    binary32 values in [1, 2**24] (every binade, significands uniform or tiny), the four binary32
    neighbours of p* = 1 - 1/M. Also returns the smallest |1/(1-p) - M| found, in units of the
    result's ulp (how close the cases get)."""
    r = np.random.default_rng([seed, 7])
    out: set[int] = set()
    closest = Fraction(1)
    for j in range(k):
        e = int(r.integers(0, 24))
        i = int(r.integers(0, 1 << 23)) if j % 2 else int(2 ** (23 * r.random()))
        m = Fraction(2 * ((1 << 23) + i) + 1, 1 << (24 - e))  # between (2**23 + i) and the next, * 2**(e-23)
        pstar = 1 - 1 / m
        b = _f32_bits(float(pstar))  # nearest binary32 (via float64: off by at most one step)
        for c in range(b - 2, b + 3):
            if 0 <= c < ONE:
                out.add(c)
                q = 1 / (1 - Fraction(float(fp.f32_value(np.uint32(c)))))
                closest = min(closest, abs(q - m) / Fraction(1 << e, 1 << 23))
    return sorted(out), closest


def upper_closest(k: int) -> tuple[list[int], float]:
    """The k binary32 p in [0.5, 1) whose 1/(1-p) lies closest to a rounding midpoint, from all 2**23
    of them (where the p grid is coarsest against the result's ulp), and the closest distance in ulps.
    p = 1 - j * 2**-24 with j in 1..2**23 has 1/(1-p) = 2**24 / j in (2**(24-L), 2**(25-L)] for j of
    L bits, ulp 2**(1-L), so its position in ulps is 2**(23+L) / j: the fraction of that is
    (2**(23+L) mod j) / j, a midpoint at 1/2."""
    dist, js = [], []
    for bits in range(1, 25):
        j = np.arange(1 << (bits - 1), min(1 << bits, (1 << 23) + 1), dtype=np.uint64)
        rem = np.uint64(1 << (23 + bits)) % j
        d = np.abs(2 * rem.astype(np.int64) - j.astype(np.int64)) / (2 * j.astype(np.float64))
        top = np.argpartition(d, min(k, d.size) - 1)[:k]
        dist.append(d[top])
        js.append(j[top])
    d, j = np.concatenate(dist), np.concatenate(js)
    order = np.argsort(d, kind="stable")[:k]
    return [ONE - int(v) for v in j[order]], float(d[order[0]])


def scale_inputs(n: int, seed: int, boundary: int) -> dict:
    """p bits (uint32) of the directed, boundary, random and out-of-range sets, with part sizes."""
    r = np.random.default_rng([seed, 5])
    d = directed_ps()
    b, closest = boundary_ps(boundary, seed)
    u, closest_upper = upper_closest(max(boundary // 4, 1))
    b = sorted(set(b) | set(u))
    wide = r.integers(0, ONE + 1, n - n * 2 // 5, dtype=np.int64)
    upper = r.integers(0x3F000000, ONE, n * 2 // 5, dtype=np.int64)  # the 2**23 patterns of [0.5, 1)
    ps = np.concatenate([np.array(d + b, np.int64), wide, upper, np.array(OUT_OF_RANGE, np.int64)])
    return {"p": ps.astype(np.uint32), "directed": len(d), "boundary": len(b), "random": n,
            "out_of_range": len(OUT_OF_RANGE),
            "closest_ulp": min(float(closest), closest_upper)}


def seeds(n: int, seed: int) -> list[int]:
    """The fixed seeds, then n random 64-bit seeds."""
    r = np.random.default_rng([seed, 6])
    return FIXED_SEEDS + [int(v) for v in r.integers(0, 2**64, n, dtype=np.uint64)]


def seeder_expected(seed_list: list[int], lanes: int) -> np.ndarray:
    """Rows {lane, s0, s1} (uint64 [len * lanes, 3]) of every seed's lanes, in the bench's order."""
    rows = [np.column_stack([np.arange(lanes, dtype=np.uint64), rng.lane_states(s, lanes)]) for s in seed_list]
    return np.concatenate(rows).astype(np.uint64)


# --------------------------------------------------------------------------------------------- running

def bench(sim: str, plan: dict, testcase: str | None = None) -> tuple[dict, float, str | None]:
    """Run sim/test_rng_ctrl.py (one test, or all); returns (report, seconds, error text or None)."""
    run = run_planned(sim, TOPLEVEL, SOURCES, TEST_MODULE, plan, "ACCEL_RNGCTRL_PLAN", "ACCEL_RNGCTRL_REPORT",
                      parameters={"DEPTH_LOG2": DEPTH_LOG2[sim], **PARAMETERS}, testcase=testcase)
    return run.report, run.seconds, run.error


def default_plan(n: int, seed: int) -> dict:
    """n random p, n // 20 boundary midpoints, n // 100 random seeds (at least 8 and 16)."""
    return {"scale_random": n, "boundary": max(n // 20, 16), "seeds": max(n // 100, 8), "seed": seed}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """--vectors sets the random p; boundary midpoints and random seeds scale with it."""


def run(args: argparse.Namespace) -> dict:
    """`accel verify rngctrl` on args.sim."""
    n = DEFAULT_VECTORS[args.sim] if args.vectors is None else args.vectors
    report, seconds, error = bench(args.sim, default_plan(n, args.seed))
    sc, sd, sm = report["scale"], report["seeder"], report["seeder_small"]
    vectors = sc["vectors"] + sd["vectors"] + sm["vectors"]
    sim_seconds = sc["seconds"] + sd["seconds"] + sm["seconds"]
    timing = {"scale latency": (sc["latency"], [SCALE_LATENCY] * 2)}
    for name, part in (("seeder", sd), ("seeder_small", sm)):
        timing[f"{name} clocks"] = (part["clocks"], [2 * part["lanes"] + 2] * 2)
        timing[f"{name} first valid"] = (part["first_valid"], [SEEDER_FIRST_VALID] * 2)
    off = [f"{k} [min, max] = {got}, documented {want}" for k, (got, want) in timing.items() if got != want]
    if off:
        error = "; ".join([*([error] if error else []), *off])
    return {"unit": "rngctrl", "sim": args.sim, "vectors": vectors,
            "mismatches": sc["mismatches"] + sd["mismatches"] + sm["mismatches"],
            "vectors_per_s": round(vectors / sim_seconds) if sim_seconds else 0, "seconds": round(seconds, 1),
            "scale_vectors": sc["vectors"], "seeds": sd["seeds"], "lanes_checked": sd["vectors"],
            "scale": sc, "seeder": sd, "seeder_small": sm, "error": error}
