"""`accel verify lut`: rtl/lut_unit.v against accel.model.lut.evaluate, table by table.

Every table of every built-in (the sin/cos kernels separately) and one user-built table is
loaded into the unit through its write port (sim/lut_top.v), then evaluated on arguments with the
model's results as expected words: every bf16 pattern the table covers (exhaustive, exponent up to
emax, both signs) plus random binary32 patterns in range. Icarus runs a sample of each set.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from accel.model import lut

REPO = Path(__file__).resolve().parents[2]
SOURCES = [str(REPO / "rtl" / "fp" / n) for n in ("fp32_add.v", "fp32_fma.v", "fp32_round.v", "fp_norm.v")] + [
    str(REPO / "rtl" / "lut_unit.v"), str(REPO / "sim" / "lut_top.v")]
TOPLEVEL = "lut_top"
TEST_MODULE = "test_lut"
PARAMETERS = {"WORDS_LOG2": 14, "DEPTH_LOG2": 17}
TABLE_NAMES = [n for n in lut.BUILTINS if n not in ("sin", "cos")] + ["sin.s", "sin.c", "user_atan"]
DEFAULT_RANDOM = {"icarus": 0, "verilator": 20_000}
ICARUS_SAMPLE = 300  # arguments per table on Icarus (it simulates the fma slowly)


def tables() -> dict[str, lut.Function]:
    """One-table images to check: every built-in table, and a user-built one."""
    from accel import lut_build

    out = {}
    for name in lut.BUILTINS:
        f = lut.builtin(name)
        for i, t in enumerate(f.tables):
            key = name if len(f.tables) == 1 else f"{name}.{'sc'[i]}"
            if name == "cos":  # the same two kernels as sin
                continue
            out[key] = lut.Function(key, "direct", (t,))
    with np.errstate(all="ignore"):
        out["user_atan"] = lut_build.user_function(np.arctan, -6.0, 6.0, degree=4, segments=8, name="user_atan")
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


def plan_env(names: list[str], n_random: int, sample: int | None, seed: int, report: Path,
             flip: tuple[str, int] | None = None) -> dict[str, str]:
    plan = {"tables": names, "random": n_random, "sample": sample, "seed": seed, "flip": flip}
    return {"ACCEL_LUT_PLAN": json.dumps(plan), "ACCEL_LUT_REPORT": str(report)}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `accel verify lut`."""
    parser.add_argument("--fn", action="append", choices=TABLE_NAMES, metavar="TABLE",
                        help=f"table to check (repeatable; default: all): {', '.join(TABLE_NAMES)}")
    parser.add_argument("--sim", choices=("icarus", "verilator"), default="verilator")
    parser.add_argument("--vectors", type=int, default=None,
                        help="random arguments per table besides the bf16 ones (default: 0 icarus, 20000 verilator)")
    parser.add_argument("--seed", type=int, default=1)


def run(args: argparse.Namespace) -> dict:
    """Run the bench; returns unit, sim, vectors, mismatches, vectors_per_s, seconds, per-table detail."""
    from accel.tb.runner import BenchFailure, run_bench

    names = args.fn or TABLE_NAMES
    n_random = DEFAULT_RANDOM[args.sim] if args.vectors is None else args.vectors
    sample = ICARUS_SAMPLE if args.sim == "icarus" else None
    with tempfile.TemporaryDirectory(prefix="accel-lut-") as tmp:
        report_path = Path(tmp) / "report.json"
        env = plan_env(names, n_random, sample, args.seed, report_path)
        start = time.perf_counter()
        try:
            run_bench(args.sim, TOPLEVEL, SOURCES, TEST_MODULE, parameters=PARAMETERS, extra_env=env)
        except BenchFailure:
            if not report_path.exists():
                raise
        wall = time.perf_counter() - start
        report = json.loads(report_path.read_text())
    total = sum(r["vectors"] for r in report.values())
    sim_seconds = sum(r["seconds"] for r in report.values())
    return {
        "unit": "lut",
        "sim": args.sim,
        "vectors": total,
        "mismatches": sum(r["mismatches"] for r in report.values()),
        "vectors_per_s": round(total / sim_seconds) if sim_seconds else 0,
        "seconds": round(wall, 1),
        "tables": report,
    }


def plan_from_env() -> dict:
    """The bench's plan (a small smoke plan without ACCEL_LUT_PLAN)."""
    text = os.environ.get("ACCEL_LUT_PLAN")
    if text:
        return json.loads(text)
    return {"tables": ["tanh", "exp"], "random": 50, "sample": 200, "seed": 1, "flip": None}
