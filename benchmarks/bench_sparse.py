"""Dense vs N:M sparse PE-array cycles for the same GEMM layers, from the cycle-accurate kernels,
next to SCALE-Sim 3.0's sparse mode; and the Yosys gate count of a sparse PE against a dense PE.

    python benchmarks/bench_sparse.py            # all layers and patterns
    python benchmarks/bench_sparse.py --quick    # one layer, no Yosys

A layer out[M, N] = X[M, K] @ W[K, N] with W pruned to n:m runs on the 128 x 128 array as the
program a compiler would emit: per 128-column tile of N and per fold of 128 // n groups (128 * m / n
rows of K), `pe.load_sparse` then `pe.matmul_sparse` accumulating over the folds. Dense: folds of
128 rows of K (benchmarks/bench_scalesim.py). Both kernels compute every value (checked against
numpy int64) and must agree with PETimeline. SCALE-Sim runs in the venv bench_scalesim.py creates,
with `SparsitySupport: true` and the layer's N:M in the topology file.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import bench_scalesim as bs  # noqa: E402

from accel.kernels import pe_array as dense_kern  # noqa: E402
from accel.kernels import sparse as sparse_kern  # noqa: E402
from accel.model.sparse import LoadSparse, MatmulSparse  # noqa: E402
from accel.tools import sparsity as sp  # noqa: E402

R = C = 128
LAYERS = [("square_512", 512, 256, 512), ("deep_k", 256, 128, 1024)]  # name, M, N, K
PATTERNS = [(1, 2), (2, 4), (1, 4), (2, 8), (4, 8), (4, 16)]
RTL = Path(__file__).resolve().parents[1] / "rtl"


def sparse_ops(w: np.ndarray, xt: np.ndarray, n: int, m: int) -> list:
    groups_per_fold = R // n
    k, cols = w.shape
    mvec = xt.shape[1]
    ops = []
    for j, c0 in enumerate(range(0, cols, C)):
        tile = sp.compress(np.ascontiguousarray(w[:, c0:c0 + C]), n, m)
        for i, g0 in enumerate(range(0, tile.groups, groups_per_fold)):
            g1 = min(g0 + groups_per_fold, tile.groups)
            ops.append(LoadSparse(np.ascontiguousarray(tile.values[g0 * n:g1 * n]),
                                  np.ascontiguousarray(tile.index[g0 * n:g1 * n]), n, m))
            ops.append(MatmulSparse(np.ascontiguousarray(xt[g0 * m:g1 * m]), dst=j * mvec, acc=i > 0))
    return ops


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def scalesim_sparse(python: Path, m: int, n: int, k: int, pattern: str) -> int:
    cfg = bs.CONFIG.format(R=R, C=C).replace("SparsitySupport: false", "SparsitySupport: true")
    with tempfile.TemporaryDirectory() as d:
        Path(d, "scale.cfg").write_text(cfg)
        Path(d, "gemm.csv").write_text(f"Layer, M, N, K, Sparsity,\nlayer, {m}, {n}, {k}, {pattern},\n")
        Path(d, "layout.csv").write_text("Layer, unused,\nlayer, 1,\n")
        out = subprocess.run([str(python), "-c", bs.RUNNER, d], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["cycles"]


def yosys_cells(top: str, params: dict[str, int]) -> int | None:
    """Cells after `synth` of one PE (generic gates), or None without yosys."""
    if shutil.which("yosys") is None:
        return None
    files = [RTL / f"{top}.v", RTL / "pe_mac.v",
             *(RTL / "fp" / f"{f}.v" for f in ("bf16_mul", "fp32_add", "fp32_round", "fp_norm"))]
    chpar = "".join(f" -set {k} {v}" for k, v in params.items())
    with tempfile.TemporaryDirectory() as d:
        stat = Path(d) / "stat.txt"
        script = (f"read_verilog {' '.join(map(str, files))}; " + (f"chparam{chpar} {top}; " if params else "")
                  + f"synth -top {top} -flatten; tee -q -o {stat} stat")
        subprocess.run(["yosys", "-q", "-p", script], capture_output=True, text=True)
        found = re.findall(r"Number of cells:\s+(\d+)", stat.read_text()) if stat.exists() else []
    return int(found[-1]) if found else None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    layers = LAYERS[:1] if args.quick else LAYERS
    python = None if args.quick else bs.ensure_scalesim()
    rng = np.random.default_rng(0)
    print(f"GEMM layers on a {R} x {C} array, int8; cycles from the cycle-accurate kernels "
          f"(= PETimeline); fill + drain = R + C - 2 = {R + C - 2} once per program\n")
    print(f"{'layer':<11} {'M':>4} {'N':>4} {'K':>5} {'pattern':>7} {'dense':>7} {'sparse':>7} {'speed-up':>8} "
          f"{'steady M/N':>10} {'SS dense':>8} {'SS sparse':>9} {'SS speed-up':>11} {'kernel s':>8}")
    for name, mvec, ncols, k in layers:
        dense_w = rng.integers(-128, 128, (k, ncols)).astype(np.int8)
        xt = rng.integers(-128, 128, (k, mvec)).astype(np.int8)
        dense_ops, _, _ = bs.gemm_ops(mvec, ncols, k, np.random.default_rng(1))  # dense timing: values unused
        psum = np.zeros((C, math.ceil(ncols / C) * mvec), np.int32)
        dense_sim, _ = timed(lambda ops=dense_ops, psum=psum: dense_kern.run_ops(ops, R, C, psum))
        ss_dense = bs.run_scalesim(python, mvec, ncols, k)["cycles"] if python else None
        for n, m in PATTERNS:
            w = sp.decompose(dense_w, n, m)[0].dense()  # keep the first n nonzeros of every group
            sops = sparse_ops(w, xt, n, m)
            sim, secs = timed(lambda sops=sops, psum=psum: sparse_kern.run_ops(sops, R, C, psum))
            got = np.concatenate([sim.psum[:, j * mvec:(j + 1) * mvec] for j in range(math.ceil(ncols / C))])[:ncols]
            assert (got == w.astype(np.int64).T @ xt.astype(np.int64)).all(), f"{name} {n}:{m}: wrong values"
            assert sim.cycles == sp.gemm_cycles(k // m * n, ncols, mvec, R, C, fold_rows=R // n * n)
            ss = scalesim_sparse(python, mvec, ncols, k, f"{n}:{m}") if python else None
            print(f"{name:<11} {mvec:>4} {ncols:>4} {k:>5} {f'{n}:{m}':>7} {dense_sim.cycles:>7} {sim.cycles:>7} "
                  f"{dense_sim.cycles / sim.cycles:>7.2f}x {m / n:>9.2f}x {ss_dense or '-':>8} {ss or '-':>9} "
                  f"{(ss_dense / ss) if ss else 0:>10.2f}x {secs:>8.2f}")
    if not args.quick:
        print("\nYosys `synth` cells of one PE (int8 + bf16 datapath, double-buffered weights):")
        dense = yosys_cells("pe", {})
        print(f"  dense pe.v: {dense}")
        for m in (2, 4, 8, 16):
            cells = yosys_cells("pe", {"M": m, "IW": sp.index_bits(m)})
            mux = f"{m} x 16-bit moving register and {m}:1 mux"
            ratio = f" ({cells / dense:.2f}x dense; {mux})" if cells and dense else ""
            print(f"  pe.v M = {m:>2}: {cells}{ratio}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
