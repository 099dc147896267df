"""Our PE-array cycle counts next to SCALE-Sim 3.0's, for the same GEMM layers on a 128 x 128
weight-stationary array, and the simulated cycles per wall-clock second of each.

    python benchmarks/bench_scalesim.py            # all layers
    python benchmarks/bench_scalesim.py --quick    # the two smallest

A GEMM out[M, N] = X[M, K] @ W[K, N] runs as the program a compiler would emit for accel: for each
128-column tile of N and each 128-row tile of K, `pe.load_weights` of that W tile, then
`pe.matmul` of the matching X^T tile (M moving vectors), accumulating over the K tiles in PSUM.
Ours: the cycle-accurate Numba kernel (which also computes, and here checks, every value) and
the documented formula (PETimeline) evaluated directly; they must agree.

SCALE-Sim needs numpy < 2.4, so it runs in its own virtual environment, created on first use
under $ACCEL_CACHE (default ~/.cache/accel)/scalesim-venv with `pip install scalesim==3.0.0`.
Without network access to PyPI the SCALE-Sim columns are skipped with a message.
"""

from __future__ import annotations

import argparse
import inspect
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

import numpy as np
from tqdm import tqdm

from accel.kernels import pe_array as kern
from accel.model.pe_array import LoadWeights, Matmul, PETimeline

R = C = 128
LAYERS = [  # name, M, N, K
    ("fc_small", 64, 128, 128),
    ("ragged", 200, 100, 300),
    ("square_256", 256, 256, 256),
    ("ffn_up", 256, 1024, 128),
    ("attn_proj", 512, 256, 256),
    ("deep_k", 128, 128, 1024),
]
CACHE = Path(os.environ.get("ACCEL_CACHE", Path.home() / ".cache" / "accel"))
VENV = CACHE / "scalesim-venv"
SCALESIM_PINS = ["numpy<2.4", "scalesim==3.0.0"]

CONFIG = """[general]
run_name = accel_bench

[architecture_presets]
ArrayHeight: {R}
ArrayWidth: {C}
IfmapSramSzkB: 6144
FilterSramSzkB: 6144
OfmapSramSzkB: 2048
IfmapOffset: 0
FilterOffset: 10000000
OfmapOffset: 20000000
Bandwidth: 10
Dataflow: ws
ReadRequestBuffer: 32
WriteRequestBuffer: 32

[layout]
IfmapCustomLayout: False
IfmapSRAMBankBandwidth: 10
IfmapSRAMBankNum: 10
IfmapSRAMBankPort: 2
FilterCustomLayout: False
FilterSRAMBankBandwidth: 10
FilterSRAMBankNum: 10
FilterSRAMBankPort: 2

[sparsity]
SparsitySupport: false
SparseRep: ellpack_block
OptimizedMapping: false
BlockSize: 8
RandomNumberGeneratorSeed: 40

[run_presets]
InterfaceBandwidth: CALC
UseRamulatorTrace: False
"""


def peak_rss_mb() -> float:
    """This process's peak resident set in MB: VmHWM, not getrusage's ru_maxrss, which Linux carries
    over fork and exec (a child of a 2 GB parent would report >= 2 GB)."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 1024


# Runs inside the SCALE-Sim venv: simulate every layer of a topology (GEMM or conv), print each
# layer's cycles, the wall time and the process's peak RSS as JSON.
RUNNER = inspect.getsource(peak_rss_mb) + """
import contextlib, csv, io, json, sys, time
from scalesim.scale_sim import scalesim
d, gemm = sys.argv[1], sys.argv[2] == 'gemm'
start = time.perf_counter()
with contextlib.redirect_stdout(io.StringIO()):
    s = scalesim(save_disk_space=True, verbose=False, config=d + '/scale.cfg', topology=d + '/topology.csv',
                 layout=d + '/layout.csv', input_type_gemm=gemm)
    s.run_scale(top_path=d + '/out')
seconds = time.perf_counter() - start
rows = list(csv.reader(open(d + '/out/accel_bench/COMPUTE_REPORT.csv')))[1:]
print(json.dumps({"cycles": [int(r[2]) for r in rows], "seconds": seconds, "peak_mb": peak_rss_mb()}))
"""


def gemm_ops(m: int, n: int, k: int, rng: np.random.Generator) -> tuple[list, np.ndarray, np.ndarray]:
    """(ops, W, X^T) for out = X @ W tiled over 128 x 128 weight tiles; N tile j goes to PSUM columns j*M.."""
    w = rng.integers(-128, 128, size=(k, n)).astype(np.int8)
    xt = rng.integers(-128, 128, size=(k, m)).astype(np.int8)
    ops = []
    for j, n0 in enumerate(range(0, n, C)):
        for i, k0 in enumerate(range(0, k, R)):
            ops.append(LoadWeights(np.ascontiguousarray(w[k0:k0 + R, n0:n0 + C])))
            ops.append(Matmul(np.ascontiguousarray(xt[k0:k0 + R]), dst=j * m, acc=i > 0))
    return ops, w, xt


def formula_cycles(ops: list) -> int:
    """The documented cycle model, evaluated directly from the op shapes."""
    t = PETimeline(R, C)
    for op in ops:
        if isinstance(op, LoadWeights):
            shape = op.w.shape
            t.load(*shape)
        else:
            t.matmul(*shape, op.x.shape[1])
    return t.cycles


def seconds_per_call(fn, min_total: float = 0.2) -> float:
    """Best mean wall time of fn over batches lasting at least min_total seconds."""
    best, calls = math.inf, 1
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        spent = time.perf_counter() - start
        best = min(best, spent / calls)
        if spent < min_total:
            calls = max(calls * 2, int(calls * min_total / max(spent, 1e-9)))
    return best


def ensure_scalesim() -> Path | None:
    """The venv's python with SCALE-Sim importable, creating it on first use; None if impossible."""
    python = VENV / "bin" / "python"
    check = [str(python), "-c", "import scalesim.scale_sim"]
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return python
    print(f"creating {VENV} and installing {' '.join(SCALESIM_PINS)} (once) ...", flush=True)
    try:
        venv.create(VENV, with_pip=True, clear=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *SCALESIM_PINS], check=True, timeout=900)
    except (subprocess.SubprocessError, OSError) as e:
        print(f"SKIP SCALE-Sim: cannot install it from PyPI into {VENV} ({e})")
        return None
    return python


def run_topology(python: Path, topology: str, gemm: bool) -> dict:
    """Run SCALE-Sim (128 x 128 weight-stationary, CALC bandwidth) on a topology CSV's text:
    {"cycles": per layer, "seconds": its wall time, "peak_mb": its peak RSS}."""
    with tempfile.TemporaryDirectory() as d:
        Path(d, "scale.cfg").write_text(CONFIG.format(R=R, C=C))
        Path(d, "topology.csv").write_text(topology)
        Path(d, "layout.csv").write_text("Layer, unused,\nlayer, 1,\n")  # required, unused without custom layouts
        out = subprocess.run([str(python), "-c", RUNNER, d, "gemm" if gemm else "conv"], capture_output=True,
                             text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_scalesim(python: Path, m: int, n: int, k: int) -> dict:
    """SCALE-Sim's cycles and wall time for one GEMM layer."""
    ss = run_topology(python, f"Layer, M, N, K,\nlayer, {m}, {n}, {k},\n", gemm=True)
    return {"cycles": ss["cycles"][0], "seconds": ss["seconds"]}


def explain(ops: list, m: int, scalesim_cycles: int) -> str:
    """SCALE-Sim's count minus ours, term by term (must add up exactly)."""
    folds = sum(isinstance(op, Matmul) for op in ops)
    first_k = ops[0].w.shape[0]
    stalls = 0  # stream cycles our program waits for a swap-then-load: N_f + K_next beyond M
    for f in range(folds - 1):
        stalls += max(0, ops[2 * f].w.shape[1] + ops[2 * f + 2].w.shape[0] - m)
    loads = folds * R - first_k - stalls  # SCALE-Sim: a full-array weight fill per fold; ours: the first only
    fill_drain = (folds - 1) * (R + C - 2)  # SCALE-Sim: per fold; ours: once, streams overlap
    last_index = -1  # SCALE-Sim reports the index of the last cycle, ours a count
    assert loads + fill_drain + last_index == scalesim_cycles - formula_cycles(ops)
    return f"{loads:+} loads {fill_drain:+} fill/drain {last_index:+} index"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="only the two smallest layers")
    args = ap.parse_args()
    layers = LAYERS[:2] if args.quick else LAYERS
    python = ensure_scalesim()
    rng = np.random.default_rng(0)
    warm, *_ = gemm_ops(4, 4, 4, rng)
    kern.run_ops(warm, R, C, np.zeros((C, 4), dtype=np.int32))  # JIT compile outside the timings

    rows = []
    for name, m, n, k in tqdm(layers, desc="layers", file=sys.stderr):
        ops, w, xt = gemm_ops(m, n, k, rng)
        n_tiles = math.ceil(n / C)
        psum = np.zeros((C, n_tiles * m), dtype=np.int32)
        kernel_s = math.inf
        for _ in range(3):  # best of 3: other processes share the two cores
            start = time.perf_counter()
            sim = kern.run_ops(ops, R, C, psum)
            kernel_s = min(kernel_s, time.perf_counter() - start)
        got = np.concatenate([sim.psum[:, j * m:(j + 1) * m] for j in range(n_tiles)])[:n]
        assert (got == (w.astype(np.int64).T @ xt.astype(np.int64))).all(), f"{name}: wrong values"
        cycles = formula_cycles(ops)
        assert cycles == sim.cycles, f"{name}: formula {cycles} != kernel {sim.cycles}"
        formula_s = seconds_per_call(lambda ops=ops: formula_cycles(ops))
        row = {"layer": name, "M": m, "N": n, "K": k, "folds": len(ops) // 2, "ours": cycles,
               "kernel_s": kernel_s, "formula_s": formula_s, "kernel_cps": cycles / kernel_s}
        if python is not None:
            ss = run_scalesim(python, m, n, k)
            row.update(scalesim=ss["cycles"], scalesim_s=ss["seconds"], scalesim_cps=ss["cycles"] / ss["seconds"],
                       why=explain(ops, m, ss["cycles"]))
        rows.append(row)

    print(f"\nGEMM layers on a {R} x {C} weight-stationary array (int8; cycles = PE-array cycles)\n")
    head = (f"{'layer':<11} {'M':>4} {'N':>5} {'K':>5} {'folds':>5} {'ours':>7} {'SCALE-Sim':>9} "
            f"{'SCALE-Sim - ours':<38} {'kernel cyc/s':>12} {'SS cyc/s':>9} {'kernel/SS':>9} "
            f"{'formula us':>10} {'SS/formula':>10}")
    print(head)
    for r in rows:
        ss = r.get("scalesim")
        print(f"{r['layer']:<11} {r['M']:>4} {r['N']:>5} {r['K']:>5} {r['folds']:>5} {r['ours']:>7} "
              f"{ss if ss is not None else '-':>9} {r.get('why', '-'):<38} {r['kernel_cps']:>12,.0f} "
              f"{r.get('scalesim_cps', 0):>9,.0f} "
              f"{(r['kernel_cps'] / r['scalesim_cps']) if ss else 0:>8.0f}x "
              f"{r['formula_s'] * 1e6:>10.1f} {(r['scalesim_s'] / r['formula_s']) if ss else 0:>9.0f}x")
    if python is not None:
        kernel_ratio = min(r["kernel_cps"] / r["scalesim_cps"] for r in rows)
        formula_ratio = min(r["scalesim_s"] / r["formula_s"] for r in rows)
        print(f"\nworst layer: kernel {kernel_ratio:.0f}x SCALE-Sim's simulated cycles/s (target >= 10x); "
              f"formula {formula_ratio:.0f}x faster than SCALE-Sim (target >= 1000x)")
    print("SCALE-Sim per fold: 2R + C + T - 2 (a full-array weight fill of R cycles, then T moving vectors "
          "with fill and drain R + C - 2; partial folds are padded to the full array), reported as the last "
          "cycle's index. Ours: loads overlap the previous stream (hidden when M >= N + K_next) and "
          "fill/drain is paid once.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
