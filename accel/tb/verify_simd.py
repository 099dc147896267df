"""`accel verify simd`: rtl/simd_lane.v (with rtl/dropout_threshold.v and rtl/fp) against the model.

Runs sim/test_rng.py (test `simd_lane`) through sim/rng_tb.v: add, sub, mul, max and min on every
pair of fp32 specials, random operands and mixed element types (fp32, bf16, int8, int32 in and out);
vec.cast between every pair of types; dropout over a p sweep (0, -0, 1, common rates, 1 - 2**-24,
tiny p whose p * 2**32 is a tie or has a fraction, random p) with words at the threshold T - 1, T,
T + 1 and random words on random tensors with specials; fill as uniform floats and raw words.
The lane's y and keep are compared with accel.model.vec / fp / rng, one vector per clock."""

from __future__ import annotations

import argparse

from accel.tb.verify_rng import bench

DEFAULT_VECTORS = {"icarus": 5_000, "verilator": 200_000}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The lane has no options beyond the common --sim, --vectors and --seed."""


def run(args: argparse.Namespace) -> dict:
    """`accel verify simd` on args.sim."""
    n = DEFAULT_VECTORS[args.sim] if args.vectors is None else args.vectors
    report, seconds, error = bench(args.sim, {"philox": 0, "xoroshiro": 0, "lane": n, "seed": args.seed},
                                   "simd_lane")
    lane = report["lane"]
    return {"unit": "simd", "sim": args.sim, "vectors": lane["vectors"], "mismatches": lane["mismatches"],
            "vectors_per_s": round(lane["vectors"] / lane["seconds"]) if lane["seconds"] else 0,
            "seconds": round(seconds, 1), "ops": lane["ops"], "first": lane["first"], "error": error}
