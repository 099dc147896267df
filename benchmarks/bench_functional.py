"""Functional-mode emulator speed on a large int8 matmul program, next to numpy's float32 matmul.

    python benchmarks/bench_functional.py             # M = K = N = 512
    python benchmarks/bench_functional.py --size 1024

The program computes Y^T [N, M] = W^T X^T for int8 X^T [K, M] and W [K, N] the way a compiler
would for accel: DMA the operands into SBUF, then for each 128-column tile of N and each 128-row
tile of K a `pe.load_weights` and a `pe.matmul` of M moving vectors, accumulating the K tiles in
PSUM, then VEC copies PSUM to SBUF and DMA stores the int32 result. The result is checked bit for
bit against an int64 reference. Timed (best of --repeat, one core: BLAS runs single-threaded, as
multi-threaded OpenBLAS stalls on small products when other processes hold the second core):

* the PE instructions as the emulator executes them (SBUF/PSUM access, the float32 BLAS fast
  path, PSUM accumulate), against numpy float32 matmuls of the same tile shapes: the target;
* the whole `Core.run` (DMA, semaphores, PE, VEC), against one numpy float32 `X @ W`.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from tqdm import tqdm  # noqa: E402

from accel.isa.asm import assemble  # noqa: E402
from accel.machine import Core  # noqa: E402

T = 128  # PE array rows and columns


def gemm_program(m: int, k: int, n: int) -> str:
    """Assembly of the tiled int8 GEMM; M <= 512 (one PSUM bank of int32 per N tile)."""
    kt, nt = k // T, n // T
    xt_off, w_off, y_off = 0, k // T * m, k // T * m + k // T * n
    lines = [f".tensor xt int8[{k}, {m}] in", f".tensor w int8[{k}, {n}] in", f".tensor y int32[{n}, {m}] out"]
    for i in range(kt):
        lines.append(f"dma.load sb[0:{T}, {xt_off + i * m}]:int8[{m}], xt({i * T * m})[{T}@{m}, {m}@1]")
        lines.append(f"dma.load sb[0:{T}, {w_off + i * n}]:int8[{n}], w({i * T * n})[{T}@{n}, {n}@1]")
    lines += ["sem.signal dma, s0", "sem.wait pe, s0"]
    for j in range(nt):
        for i in range(kt):
            lines.append(f"pe.load_weights sb[0:{T}, {w_off + i * n + j * T}]:int8[{T}]")
            lines.append(f"pe.matmul psum[0:{T}, {j * 2048}]:int32[{m}], sb[0:{T}, {xt_off + i * m}]:int8[{m}], "
                         f"acc={int(i > 0)}")
    lines += ["sem.signal pe, s1", "sem.wait vec, s1"]
    for j in range(nt):
        lines.append(f"vec.copy sb[0:{T}, {y_off + j * 4 * m}]:int32[{m}], psum[0:{T}, {j * 2048}]:int32[{m}]")
    lines += ["sem.signal vec, s2", "sem.wait dma, s2"]
    for j in range(nt):
        lines.append(f"dma.store y({j * T * m})[{T}@{m}, {m}@1], sb[0:{T}, {y_off + j * 4 * m}]:int32[{m}]")
    lines.append("halt")
    return "\n".join(lines) + "\n"


def best_time(fn, repeat: int) -> float:
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def pe_seconds(core: Core, prog, inputs: dict) -> float:
    """Wall time of the PE engine's instructions in one run, stepping the core."""
    core.load(prog, inputs)
    spent = 0.0
    while True:
        start = time.perf_counter()
        ins = core.step()
        if ins is None:
            return spent
        if ins.engine == "PE":
            spent += time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=512, help="K = N (a multiple of 128); M = min(size, 512)")
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    k = n = args.size
    m = min(args.size, 512)
    prog = assemble(gemm_program(m, k, n))
    rng = np.random.default_rng(0)
    xt = rng.integers(-128, 128, size=(k, m), dtype=np.int8)
    w = rng.integers(-128, 128, size=(k, n), dtype=np.int8)
    w[:, 0] = xt[:, 0] = -128  # the extreme column: every product is 2**14
    inputs = {"xt": xt, "w": w}
    core = Core()
    result = core.run(prog, inputs)
    exact = (w.astype(np.int64).T @ xt.astype(np.int64)).astype(np.int32)
    assert np.array_equal(result.outputs["y"], exact), "emulator result differs from the int64 reference"

    x32, w32, xt32 = xt.T.astype(np.float32).copy(), w.astype(np.float32), xt.astype(np.float32)
    tiles = [(w32[i:i + T, j:j + T], xt32[i:i + T]) for j in range(0, n, T) for i in range(0, k, T)]
    cases = {
        "PE instructions (emulator)": lambda: pe_seconds(core, prog, inputs),
        "same tile matmuls (numpy)": lambda: [wt.T @ xtile for wt, xtile in tiles],
        "whole Core.run (emulator)": lambda: core.run(prog, inputs),
        "X @ W (numpy float32)": lambda: x32 @ w32,
    }
    times = {}
    for name, fn in tqdm(cases.items(), desc="timing", file=sys.stderr):
        times[name] = min(fn() for _ in range(args.repeat)) if name.startswith("PE") else best_time(fn, args.repeat)
    stats = result.stats
    print(f"\nint8 GEMM M={m} K={k} N={n}: {stats.instructions['PE']} PE instructions, {stats.macs:,} MACs, "
          f"{stats.pe_cycles:,} PE-array cycles (utilization {stats.utilization:.1%}); bit-exact: yes")
    for name, sec in times.items():
        print(f"  {name:<28} {sec * 1e3:8.2f} ms")
    pe, tile, run, full = times.values()
    print(f"  PE instructions / numpy      {pe / tile:8.2f}x  (target <= 3x)")
    print(f"  whole run / numpy X @ W      {run / full:8.2f}x  (DMA, VEC and the machine included)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
