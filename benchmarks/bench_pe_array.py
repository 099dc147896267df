"""Speed of the cycle-accurate PE-array kernel: PE-updates per second (one core).

    python benchmarks/bench_pe_array.py              # 128 x 128, int8 and bf16, plus small arrays
    python benchmarks/bench_pe_array.py --repeat 9   # more repeats on a noisy machine

A PE-update is one PE's registers advanced by one cycle: R * C per simulated cycle. The program
is a weight-stationary GEMM of several folds (load 128 x 128 weights, stream M = 512 vectors,
accumulate), so swaps, loads, bypass-free rows and the PSUM write path are all exercised. The
best of --repeat runs is reported: other processes share the machine's two cores.

For the RTL's speed on the same kind of array, see the Verilator rows of benchmarks/RESULTS.md
(recorded by the RTL bench) and /work/shared/COCOTB-NOTES.md.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
from tqdm import tqdm

from accel.kernels import pe_array as kern
from accel.model.pe_array import LoadWeights, Matmul


def program(rows: int, cols: int, folds: int, m: int, bf16: bool, rng: np.random.Generator) -> list:
    def data(shape):
        if bf16:
            return (rng.standard_normal(shape).astype(np.float32).view(np.uint32) >> 16).astype(np.uint16)
        return rng.integers(-128, 128, size=shape).astype(np.int8)

    ops = []
    for f in range(folds):
        ops += [LoadWeights(data((rows, cols))), Matmul(data((rows, m)), acc=f > 0)]
    return ops


def measure(rows: int, cols: int, bf16: bool, folds: int, m: int, repeat: int) -> dict:
    rng = np.random.default_rng(0)
    ops = program(rows, cols, folds, m, bf16, rng)
    psum = np.zeros((cols, m), dtype=np.uint32 if bf16 else np.int32)
    kern.run_ops(ops[:2], rows, cols, psum)  # compile outside the timing
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        sim = kern.run_ops(ops, rows, cols, psum)
        best = min(best, time.perf_counter() - start)
    return {"array": f"{rows} x {cols}", "dtype": "bf16" if bf16 else "int8", "cycles": sim.cycles,
            "seconds": best, "cycles_per_s": sim.cycles / best, "pe_updates_per_s": rows * cols * sim.cycles / best}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=5, help="runs per case; the fastest counts")
    args = ap.parse_args()
    cases = [(128, 128, False, 8, 512), (128, 128, True, 8, 512),
             (4, 4, False, 8, 4096), (8, 8, False, 8, 4096), (16, 16, False, 8, 4096)]
    rows = [measure(r, c, bf, f, m, args.repeat) for r, c, bf, f, m in tqdm(cases, desc="cases", file=sys.stderr)]
    print(f"\n{'array':>9} {'dtype':>5} {'cycles':>7} {'seconds':>8} {'cycles/s':>11} {'PE-updates/s':>13}")
    for r in rows:
        print(f"{r['array']:>9} {r['dtype']:>5} {r['cycles']:>7} {r['seconds']:>8.4f} {r['cycles_per_s']:>11,.0f} "
              f"{r['pe_updates_per_s']:>13.3g}")
    best = rows[0]["pe_updates_per_s"]
    print(f"\n128 x 128 int8: {best:.3g} PE-updates/s (target >= 1e9)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
