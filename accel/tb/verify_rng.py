"""`accel verify rng`: rtl/rng_philox.v, rtl/rng_philox_iter.v and rtl/rng_xoroshiro.v against accel.model.rng.

Runs sim/test_rng.py (test `rng_streams`) through sim/rng_tb.v: the three Random123 known-answer
blocks, then `--vectors` Philox blocks on the pipelined core (counters {offset, base + i} with a base
that carries into the high index word), a fiftieth of that on the iterated core, and as many
xoroshiro128aox outputs from four or more lanes seeded by the documented rule, each lane's final
state read back. Expected words come from the model and are compared in the bench.

This module also holds what the bench and `accel verify simd` share: the vector files and the plan.
"""

from __future__ import annotations

import argparse

import numpy as np

from accel.model import fp, rng
from accel.model.vec import from_f32, to_f32
from accel.tb.modules import sources
from accel.tb.plan import run_planned

TOPLEVEL = "rng_tb"
SOURCES = sources(TOPLEVEL)
TEST_MODULE = "test_rng"
DEPTH_LOG2 = {"icarus": 13, "verilator": 20}
DEFAULT_VECTORS = {"icarus": 2_000, "verilator": 1_000_000}
MODE_PHILOX, MODE_XORO, MODE_LANE, MODE_PHILOX_ITER = 0, 1, 2, 3
XORO_LANES = 4
KAT = [  # Random123 kat_vectors, philox4x32 10: ctr {c0..c3}, key {k0, k1}, output {x0..x3}
    ([0, 0, 0, 0], [0, 0], [0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8]),
    ([0xFFFFFFFF] * 4, [0xFFFFFFFF] * 2, [0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD]),
    ([0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344], [0xA4093822, 0x299F31D0],
     [0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1]),
]
def philox_plan(n: int, seed: int) -> dict:
    """Key, offset and a base index whose low word carries into the high word mid-run."""
    r = np.random.default_rng([seed, 1])
    key, offset = (int(v) for v in r.integers(0, 2**63, 2, dtype=np.int64) * 2 + 1)
    base = (1 << 32) - n // 2 + int(r.integers(0, 2**20)) * (1 << 33)
    return {"key": key, "offset": offset, "base": base}


def philox_expected(key: int, offset: int, base: int, n: int) -> np.ndarray:
    """Model blocks [n, 4] (uint32) of counters {offset, base + i}."""
    counters = rng.philox_counters(np.arange(n, dtype=np.uint64) + np.uint64(base), offset)
    return rng.philox4x32(counters, (key & 0xFFFFFFFF, key >> 32))


def xoro_states(seed: int, lanes: int) -> np.ndarray:
    """The lanes the bench runs: lanes 0 .. lanes-1 of vec.rng_seed's rule for a seed made from `seed`."""
    return rng.lane_states(0x9E3779B97F4A7C15 * seed & ((1 << 64) - 1), lanes)


# --------------------------------------------------------------------------------------------- lane vectors

OP_CODES = {"add": 0, "sub": 1, "mul": 2, "max": 3, "min": 4, "dropout": 5, "fill": 6, "cast": 7}
DTYPE_CODES = {"fp32": 0, "bf16": 1, "int8": 2, "int32": 3}
SPECIALS = {
    "fp32": [0x00000000, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC12345, 0xFFA00001, 0x00000001, 0x80000001,
             0x007FFFFF, 0x00800000, 0x7F7FFFFF, 0xFF7FFFFF, 0x3F800000, 0x33800000, 0x3F800001, 0xBF800000,
             0x3F808000, 0x3F818000, 0x4B800001, 0x4F000000, 0xCF000000, 0x42FF0000],
    "bf16": [0x0000, 0x8000, 0x7F80, 0xFF80, 0x7FC0, 0x7FC1, 0xFF81, 0x0001, 0x8080, 0x7F7F, 0x3F80, 0xC2FF],
    "int8": [-128, 127, 0, -1, 1],
    "int32": [2**31 - 1, -(2**31), 16777217, 16777219, -16777217, 2**30 + 64, 0, -1, 200, -129],
}
# p values: exact ends, common rates, 1 - 2**-24, and tiny p whose p * 2**32 is a tie or has a fraction
P_SWEEP = [0.0, -0.0, 1.0, 0.5, 0.1, 0.2, 0.3, 0.9, 0.99999994, 1e-3, 1e-10,
           2.0**-33, 1.5 * 2.0**-33, 2.5 * 2.0**-32, 3 * 2.0**-33, 1.5 * 2.0**-32, 0.75 * 2.0**-32]
MIXED = [("bf16", "fp32", "fp32"), ("int8", "int32", "bf16"), ("int32", "bf16", "int8"), ("fp32", "int8", "int32"),
         ("bf16", "bf16", "bf16")]


def stored_data(r: np.random.Generator, dtype: str, k: int) -> np.ndarray:
    """k stored elements of dtype (random, the specials first) in numpy storage types."""
    storage = {"fp32": np.uint32, "bf16": np.uint16, "int8": np.int8, "int32": np.int32}[dtype]
    info = np.iinfo(storage)
    v = r.integers(int(info.min), int(info.max) + 1, k, dtype=np.int64).astype(storage)
    sp = np.array(SPECIALS[dtype], dtype=np.int64).astype(storage)[:k]
    v[: sp.size] = sp
    return v


def lane_word(stored: np.ndarray) -> np.ndarray:
    """Stored elements -> the lane's 32-bit port value: bf16 in the low half, int8 sign-extended."""
    if stored.dtype == np.int8:
        return stored.astype(np.int32).view(np.uint32)
    if stored.dtype == np.int32:
        return stored.view(np.uint32)
    return stored.astype(np.uint32)


def lane_vectors(n: int, seed: int) -> dict[str, np.ndarray]:
    """About n lane vectors: every fp op on all pairs of fp32 specials, random operands and mixed
    element types; every cast; dropout over the p sweep (words at T - 1, T, T + 1 and random, random
    tensors with specials) and random p, with some bf16/int8 tensors; fill as uniform floats and raw
    words. Expected {keep, y} from accel.model.vec / fp / rng."""
    r = np.random.default_rng([seed, 2])
    sp = np.array(SPECIALS["fp32"], np.uint32)
    pa, pb = np.repeat(sp, sp.size), np.tile(sp, sp.size)
    per = max(n // 10, 64)
    cols: dict[str, list[np.ndarray]] = {k: [] for k in ("op", "a", "b", "word", "scale", "y", "keep")}

    def add(op, types, aa, bb, ww, ss, yy, kk):
        at, bt, yt = (DTYPE_CODES[t] for t in types)
        code = OP_CODES[op] | at << 3 | bt << 5 | yt << 7
        for key, v in zip(cols, (np.full(aa.size, code), lane_word(aa), lane_word(bb), ww, ss, lane_word(yy), kk),
                          strict=True):
            cols[key].append(np.asarray(v).astype(np.uint32))

    def rand32(k):
        return r.integers(0, 2**32, k, dtype=np.uint64).astype(np.uint32)

    for op, f in (("add", fp.add), ("sub", fp.sub), ("mul", fp.mul), ("max", fp.maximum), ("min", fp.minimum)):
        aa, bb = np.concatenate([pa, rand32(per // 2)]), np.concatenate([pb, rand32(per // 2)])
        zeros = np.zeros(aa.size, np.uint32)
        add(op, ("fp32",) * 3, aa, bb, zeros, zeros, f(aa, bb), zeros)
        for at, bt, yt in MIXED:
            k = per // (2 * len(MIXED))
            aa, bb = stored_data(r, at, k), stored_data(r, bt, k)
            yy = from_f32(f(to_f32(aa, at), to_f32(bb, bt)), yt)
            zeros = np.zeros(k, np.uint32)
            add(op, (at, bt, yt), aa, np.asarray(bb), zeros, zeros, yy, zeros)
    for at in DTYPE_CODES:
        for yt in DTYPE_CODES:
            k = max(per // 8, 32)
            aa = stored_data(r, at, k)
            zeros = np.zeros(k, np.uint32)
            add("cast", (at, "fp32", yt), aa, zeros, zeros, zeros, from_f32(to_f32(aa, at), yt), zeros)
    ps = [int(fp.f32_bits(np.float32(p))) for p in P_SWEEP]
    ps += [int(v) for v in fp.f32_bits(r.random(32).astype(np.float32))]
    types = [("fp32", "fp32", "fp32")] * len(ps) + [("bf16", "fp32", "bf16"), ("int8", "fp32", "int8"),
                                                    ("fp32", "fp32", "bf16"), ("int32", "fp32", "fp32")]
    ps += [int(fp.f32_bits(np.float32(0.3)))] * 4
    for pbits, (at, _, yt) in zip(ps, types, strict=True):
        t = rng.threshold(pbits)
        edge = np.array([v for v in (t - 1, t, t + 1, 0, 2**32 - 1) if 0 <= v < 2**32], np.uint32)
        ww = np.concatenate([edge, rand32(max(per // len(ps), 16))])
        x = stored_data(r, at, ww.size)
        yy, kk = rng.dropout_f32(to_f32(x, at), ww, pbits)
        add("dropout", (at, "fp32", yt), x, np.full(ww.size, pbits, np.uint32), ww,
            np.full(ww.size, rng.scale(pbits), np.uint32), from_f32(yy, yt), kk)
    ww = np.concatenate([np.array([0, 0xFF, 0x100, 0x1FF, 0xFFFFFF00, 0xFFFFFFFF], np.uint32), rand32(per)])
    zeros = np.zeros(ww.size, np.uint32)
    add("fill", ("fp32", "fp32", "fp32"), zeros, zeros, ww, zeros, rng.uniform_f32(ww), zeros)
    add("fill", ("fp32", "fp32", "int32"), zeros, zeros, ww, zeros, ww.view(np.int32), zeros)
    return {k: np.concatenate(v) for k, v in cols.items()}


# --------------------------------------------------------------------------------------------- running

def bench(sim: str, plan: dict, testcase: str) -> tuple[dict, float, str | None]:
    """Run one test of sim/test_rng.py; returns (report, seconds, error text or None)."""
    run = run_planned(sim, TOPLEVEL, SOURCES, TEST_MODULE, plan, "ACCEL_RNG_PLAN", "ACCEL_RNG_REPORT",
                      parameters={"DEPTH_LOG2": DEPTH_LOG2[sim]}, testcase=testcase)
    return run.report, run.seconds, run.error


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """--vectors sets the Philox blocks and the xoroshiro outputs (each)."""


def run(args: argparse.Namespace) -> dict:
    """`accel verify rng` on args.sim."""
    n = DEFAULT_VECTORS[args.sim] if args.vectors is None else args.vectors
    plan = {"philox": n, "philox_iter": max(n // 50, 100), "xoroshiro": n, "seed": args.seed}
    report, seconds, error = bench(args.sim, plan, "rng_streams")
    parts = [report[k] for k in ("kat", "philox", "philox_iter", "xoroshiro")]
    vectors = sum(p["vectors"] for p in parts)
    sim_seconds = sum(p["seconds"] for p in parts)
    return {"unit": "rng", "sim": args.sim, "vectors": vectors,
            "mismatches": sum(p["mismatches"] for p in parts) + report["xoroshiro"]["state_mismatches"],
            "vectors_per_s": round(vectors / sim_seconds) if sim_seconds else 0, "seconds": round(seconds, 1),
            "philox_blocks": report["philox"]["vectors"], "philox_iter_blocks": report["philox_iter"]["vectors"],
            "xoroshiro_outputs": report["xoroshiro"]["vectors"],
            "state_mismatches": report["xoroshiro"]["state_mismatches"], "error": error}
