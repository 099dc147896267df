"""`accel verify decoder`: rtl/decoder.v against the Python decoder on one simulator.

Runs sim/test_decoder.py through sim/decoder_tb.v: the example programs, every table example
that assembles alone, a random program, and `--vectors` random words (valid, random field
bits, reserved bits set, unknown opcodes). Every output of every word is compared.

vectors_per_s counts the simulator's side: loading the $readmemh files and sweeping them
(sweep_vectors_per_s leaves the loading out); generating the vectors in Python is not counted.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from accel.tb.runner import RTL_DIR, SIM_DIR, BenchFailure, run_bench

TOPLEVEL = "decoder_tb"
SOURCES = [RTL_DIR / "decoder.v", SIM_DIR / "decoder_tb.v"]
TEST_MODULE = "test_decoder"
DEFAULT_VECTORS = {"icarus": 5_000, "verilator": 200_000}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The decoder has no options beyond the common --sim, --vectors and --seed."""


def bench(sim: str, vectors: int, seed: int = 1) -> dict:
    """Run the decoder bench; a mismatch is reported in the result ('error' holds the
    failure text), a bench that cannot build or run raises BenchFailure."""
    with tempfile.TemporaryDirectory(prefix="accel-decoder-") as tmp:
        report_path = Path(tmp) / "report.json"
        env = {"ACCEL_VECTORS": vectors, "ACCEL_SEED": seed, "ACCEL_REPORT": report_path}
        t0 = time.perf_counter()
        error, build_seconds = None, 0.0
        try:
            build_seconds = run_bench(sim, TOPLEVEL, SOURCES, TEST_MODULE,
                                      extra_env=env).build_seconds
        except BenchFailure as e:
            if not report_path.is_file():
                raise
            error = str(e)
        seconds = time.perf_counter() - t0
        report = json.loads(report_path.read_text())
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
