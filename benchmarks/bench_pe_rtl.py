"""Speed of the PE-array RTL (rtl/pe_array.v + rtl/psum_acc.v) under Verilator, driven by the
plain Verilog testbench sim/pe_array_bench.v (no cocotb, no Python in the loop).

    python benchmarks/bench_pe_rtl.py                      # 16 x 16, int8 and bf16
    python benchmarks/bench_pe_rtl.py --threads 2          # Verilator --threads 2
    python benchmarks/bench_pe_rtl.py --rows 32 --cols 32  # bigger (a longer build)

The program is a GEMM of several folds (load R x C weights, stream M vectors, accumulate in
PSUM), written to $readmemh files with accel.tb.verify_pe_array. The binary plays it once
(reading the files and dumping every PSUM write, which is checked against the model and the
cycle formula), then again with --passes replays from memory. Speed = the extra cycles / the
extra wall time (the best of --repeat runs of each, as the machine is shared), so reading and
writing the files is left out. A PE-update is one PE advanced by one cycle: R * C per cycle.
Builds are cached under <repo>/.sim_cache/verilator-bench.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from accel.model.pe_array import LoadWeights, Matmul
from accel.tb import verify_pe_array as vpa
from accel.tb.runner import SIM_DIR, cache_root, setup_verilator_env

BENCH_TOP = SIM_DIR / "pe_array_bench.v"
AW, DW = 9, 16  # PSUM entries and program records of the bench build


def gemm(rows: int, cols: int, dtype: str, folds: int, m: int, rng: np.random.Generator) -> list:
    """`folds` weight tiles, each streamed with M vectors and accumulated into the same PSUM."""
    ops: list = []
    for f in range(folds):
        ops += [LoadWeights(vpa.random_matrix(rng, dtype, (rows, cols))),
                Matmul(vpa.random_matrix(rng, dtype, (rows, m)), 0, f > 0)]
    return ops


def build(rows: int, cols: int, threads: int) -> tuple[Path, float]:
    """Verilate and compile the bench (cached); returns the binary and the build seconds (0 when
    cached)."""
    setup_verilator_env()
    sources = [BENCH_TOP, *map(Path, vpa.SOURCES)]
    flags = ["--binary", "--timing", "-O3", "-CFLAGS", "-fcoroutines", "--threads", str(threads),
             f"-GR={rows}", f"-GC={cols}", f"-GAW={AW}", f"-GDW={DW}", "--top-module", "pe_array_bench"]
    key = hashlib.sha256("\0".join(flags).encode() + b"".join(p.read_bytes() for p in sources)).hexdigest()[:16]
    folder = cache_root() / "verilator-bench" / f"pe_array_{rows}x{cols}_t{threads}-{key}"
    binary = folder / "Vpe_array_bench"
    if binary.is_file():
        return binary, 0.0
    folder.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    subprocess.run(["verilator", *flags, "-j", "2", "-Mdir", str(folder), *map(str, sources)], check=True,
                   stdout=subprocess.DEVNULL)
    return binary, time.perf_counter() - t0


def play(binary: Path, folder: Path, inputs: dict, passes: int) -> tuple[int, int, float]:
    """Run the bench binary; returns (simulated cycles, PSUM writes of the last pass, wall s)."""
    args = [f"+{k}={v}" for k, v in inputs.items()] + [f"+repeat={passes}"]
    t0 = time.perf_counter()
    out = subprocess.run([str(binary), *args], cwd=folder, capture_output=True, text=True, check=True).stdout
    seconds = time.perf_counter() - t0
    found = re.search(r"(\d+) cycles, (\d+) PSUM writes", out)
    return int(found.group(1)), int(found.group(2)), seconds


def measure(rows: int, cols: int, dtype: str, threads: int, folds: int, m: int, passes: int,
            repeat: int) -> dict:
    binary, build_seconds = build(rows, cols, threads)
    rng = np.random.default_rng(1)
    ops = gemm(rows, cols, dtype, folds, m, rng)
    checker = vpa.Checker(rows, cols, AW)
    with tempfile.TemporaryDirectory(prefix="accel-pe-bench-") as tmp:
        folder = Path(tmp)
        timing, want, inputs = checker.prepare(folder, ops, rng)
        base_cycles, n_writes, _ = play(binary, folder, inputs, 1)
        checker.check(folder, ops, timing, want, n_writes)
        if checker.mismatches:
            raise SystemExit(checker.report())
        one = min(play(binary, folder, inputs, 1)[2] for _ in range(repeat))
        runs = [play(binary, folder, inputs, 1 + passes) for _ in range(repeat)]
        many = min(r[2] for r in runs)
    rate = (runs[0][0] - base_cycles) / (many - one)
    return {"array": f"{rows} x {cols}", "dtype": dtype, "threads": threads, "build_s": build_seconds,
            "program_cycles": timing.cycles, "cycles_per_s": rate, "pe_updates_per_s": rate * rows * cols,
            "utilization": checker.macs / (rows * cols * timing.cycles)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, default=16)
    p.add_argument("--cols", type=int, default=16)
    p.add_argument("--dtype", choices=["int8", "bf16", "both"], default="both")
    p.add_argument("--threads", type=int, default=1, help="Verilator --threads (default 1)")
    p.add_argument("--folds", type=int, default=8)
    p.add_argument("--m", type=int, default=512, help="moving vectors per fold (<= 2**AW = 512)")
    p.add_argument("--passes", type=int, default=4, help="replays timed after the first pass")
    p.add_argument("--repeat", type=int, default=3)
    a = p.parse_args()
    print("| array | dtype | Verilator threads | build (s) | cycles/s | PE-updates/s | utilization |")
    print("|---|---|---|---|---|---|---|")
    for dtype in ["int8", "bf16"] if a.dtype == "both" else [a.dtype]:
        r = measure(a.rows, a.cols, dtype, a.threads, a.folds, a.m, a.passes, a.repeat)
        build = f"{r['build_s']:.0f}" if r["build_s"] else "cached"
        print(f"| {r['array']} | {dtype} | {r['threads']} | {build} | {r['cycles_per_s']:,.0f} | "
              f"{r['pe_updates_per_s']:.3g} | {r['utilization']:.1%} |", flush=True)


if __name__ == "__main__":
    main()
