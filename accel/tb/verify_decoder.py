"""`accel verify decoder`: rtl/decoder.v against the Python decoder on one simulator.

Runs sim/test_decoder.py through sim/decoder_tb.v: the example programs, every table example
that assembles alone, a random program, and `--vectors` random words (valid, random field
bits, reserved bits set, unknown opcodes). Every output of every word is compared.

vectors_per_s counts the simulator's side: loading the $readmemh files and sweeping them
(sweep_vectors_per_s leaves the loading out); generating the vectors in Python is not counted.
"""

from __future__ import annotations

import argparse

from accel.tb.modules import sources
from accel.tb.plan import run_planned

TOPLEVEL = "decoder_tb"
SOURCES = sources(TOPLEVEL)
TEST_MODULE = "test_decoder"
PLAN_ENV, REPORT_ENV = "ACCEL_DECODER_PLAN", "ACCEL_DECODER_REPORT"
DEFAULT_VECTORS = {"icarus": 5_000, "verilator": 200_000}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The decoder has no options beyond the common --sim, --vectors and --seed."""


def bench(sim: str, vectors: int, seed: int = 1) -> dict:
    """Run the decoder bench; a mismatch is reported in the result ('error' holds the
    failure text), a bench that cannot build or run raises BenchFailure."""
    run = run_planned(sim, TOPLEVEL, SOURCES, TEST_MODULE, {"vectors": vectors, "seed": seed}, PLAN_ENV, REPORT_ENV)
    report, error, seconds, build_seconds = run.report, run.error, run.seconds, run.build_seconds
    n = sum(t["vectors"] for t in report.values())
    sweep = sum(t["sweep_seconds"] for t in report.values())
    load = sum(t["load_seconds"] for t in report.values())
    return {
        "unit": "decoder", "sim": sim, "vectors": n,
        "mismatches": sum(t["mismatches"] for t in report.values()),
        "vectors_per_s": round(n / (load + sweep)) if load + sweep else 0,
        "sweep_vectors_per_s": round(n / sweep) if sweep else 0,
        "seconds": round(seconds, 1), "build_seconds": round(build_seconds, 1), "error": error,
    }


def run(args: argparse.Namespace) -> dict:
    """`accel verify decoder` on args.sim."""
    vectors = DEFAULT_VECTORS[args.sim] if args.vectors is None else args.vectors
    return bench(args.sim, vectors, args.seed)
