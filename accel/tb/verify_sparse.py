"""`accel verify sparse`: rtl/sparse_array.v + rtl/psum_acc.v against accel.model.sparse and the cycle
formulas of docs/pe_array.md (with K = physical rows), bit for bit and cycle for cycle, on one simulator.

A program is a list of sparse loads and matmuls for one N:M pattern (the RTL's parameters): random
physical rows (whole groups) and columns, random or extreme values, random indices, all-zero groups
and groups with fewer than N nonzeros, int8 and bf16 mixed per load, accumulate chains. Timing comes
from accel.tb.verify_pe_array.schedule on the same shapes; sim/pe_array_tb.v (SPARSE = 1) plays the records
and logs every PSUM write, which accel.tb.verify_pe_array.Checker compares with the model.

    accel verify sparse --sim verilator --pattern 2:4 --pattern 4:8 --rows 8 --cols 8 --vectors 50000
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from accel.isa.memfile import write_lanes
from accel.model.pe_array import LoadWeights, Matmul, accumulate
from accel.model.sparse import LoadSparse, MatmulSparse, matmul_sparse
from accel.tb import plan as bench_plan
from accel.tb import verify_pe_array as vpa
from accel.tb.plan import run_planned
from accel.tb.runner import BenchFailure
from accel.tools.sparsity import index_bits, parse_pattern

TOPLEVEL = "pe_array_tb"  # with SPARSE = 1
TEST_MODULE = "test_sparse_array"
SOURCES = vpa.SOURCES
DTYPES = ("int8", "bf16")
PATTERNS = ("1:2", "2:4", "1:4", "2:8", "4:8", "4:16")
DEFAULT_VECTORS = {"icarus": 1_000, "verilator": 50_000}
PLAN_ENV, REPORT_ENV = "ACCEL_SPARSE_PLAN", "ACCEL_SPARSE_REPORT"


def proxies(ops: list) -> list:
    """Dense ops of the same physical shapes: the sparse array is timed exactly like the dense one."""
    out, k = [], 0
    for op in ops:
        if isinstance(op, LoadSparse):
            k = op.values.shape[0]
            out.append(LoadWeights(np.zeros(op.values.shape, np.int8)))
        else:
            out.append(Matmul(np.zeros((k, op.x.shape[1]), np.int8), op.dst, op.acc))
    return out


def random_weights(rng: np.random.Generator, dtype: str, rows: int, cols: int, n: int, m: int) -> LoadSparse:
    """Values of one flavour, then per group a random number of empty slots (some groups all zero)."""
    values = vpa.random_matrix(rng, dtype, (rows, cols))
    empty = rng.random((rows // n, cols)) < 0.15  # all-zero groups
    fewer = (np.arange(n)[None, :, None] >= rng.integers(1, n + 1, (rows // n, 1, cols)))  # fewer than n used
    drop = np.repeat(empty, n, axis=0) | (fewer.reshape(rows, cols) & (rng.random((rows, cols)) < 0.5))
    values[drop] = 0
    index = rng.integers(0, m, (rows, cols)).astype(np.uint8)
    return LoadSparse(values, index, n, m)


def random_program(rng: np.random.Generator, rows: int, cols: int, n: int, m: int, dtypes: list[str],
                   vectors: int, entries: int) -> list:
    """Loads, each followed by 1-3 matmuls (M 1..4R), half of the later ones accumulating."""
    ops: list = []
    streamed, last = 0, None
    while streamed < vectors:
        dtype = str(rng.choice(dtypes))
        k = n * vpa._pick(rng, rows // n)
        c = vpa._pick(rng, cols)
        ops.append(random_weights(rng, dtype, k, c, n, m))
        for _ in range(int(rng.integers(1, 4))):
            if last is not None and rng.random() < 0.5:
                (dst, mv), acc = last, True
            else:
                mv = min(int(rng.integers(1, 4 * rows + 1)), entries)
                dst, acc = int(rng.integers(0, entries - mv + 1)), bool(rng.random() < 0.3)
            ops.append(MatmulSparse(vpa.random_matrix(rng, dtype, (k // n * m, mv)), dst, acc))
            last = (dst, mv)
            streamed += mv
    return ops


def records(ops: list, timing: vpa.Timing, rows: int, cols: int, n: int, m: int,
            rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The stimulus files' words; lanes beyond the op's shapes hold junk that must not matter."""
    lanes = rows // n * m
    st_ctrl, st_x, wt_ctrl, wt_data, wt_idx = [], [], [], [], []
    ncols = 0
    for op, start, swap in zip(ops, timing.starts, timing.swaps, strict=True):
        if isinstance(op, LoadSparse):
            k, ncols = op.values.shape
            data = rng.integers(0, 1 << 16, size=(k, cols), dtype=np.uint32)
            data[:, :ncols] = vpa._lanes16(op.values, rng)
            idx = rng.integers(0, 16, size=(k, cols), dtype=np.uint32)
            junk = idx[:, :ncols] & ~np.uint32((1 << index_bits(m)) - 1)
            idx[:, :ncols] = junk | op.index
            bf16 = int(op.values.dtype == np.uint16)
            wt_ctrl += [[(bf16 << 16) | r, start + r] for r in range(k)]
            wt_data.append(data)
            wt_idx.append(idx)
        else:
            kx, mv = op.x.shape
            bf16 = int(op.x.dtype == np.uint16)
            x = rng.integers(0, 1 << 16, size=(mv, lanes), dtype=np.uint32)
            x[:, :kx] = vpa._lanes16(op.x, rng).T
            flags = (bf16 | int(op.acc) << 1) << 16
            k = kx // m * n
            st_ctrl += [[(k << 16) | (op.dst + j), flags | ncols | (int(swap and j == 0) << 18), start + j]
                        for j in range(mv)]
            st_x.append(x)
    return {
        "pe_stream_ctrl": np.array(st_ctrl, dtype=np.uint32).reshape(-1, 3),
        "pe_stream_x": np.concatenate(st_x) if st_x else np.zeros((0, lanes), np.uint32),
        "pe_weight_ctrl": np.array(wt_ctrl, dtype=np.uint32).reshape(-1, 2),
        "pe_weight_data": np.concatenate(wt_data) if wt_data else np.zeros((0, cols), np.uint32),
        "pe_weight_idx": np.concatenate(wt_idx) if wt_idx else np.zeros((0, cols), np.uint32),
    }


def expected(ops: list, timing: vpa.Timing, psum: np.ndarray) -> vpa.Expected:
    """Run the program on the model, updating `psum` [entries, C] (uint32 bits) in place."""
    addrs, data, where = [], [], []
    w = None
    for i, op in enumerate(ops):
        if isinstance(op, LoadSparse):
            w = op
            continue
        ncols = w.values.shape[1]
        out = matmul_sparse(w.values, w.index, op.x, w.n, w.m)
        dtype, view = ("int32", np.int32) if w.values.dtype == np.int8 else ("fp32", np.uint32)
        for j in range(op.x.shape[1]):
            entry = psum[op.dst + j]
            new = out[:, j]
            if op.acc:
                new = accumulate(entry[:ncols].view(view), new, dtype)
            entry[:ncols] = new.view(np.uint32)
            addrs.append(op.dst + j)
            data.append(entry.copy())
            where.append((i, j))
    return vpa.Expected(np.concatenate(timing.row_cycles), np.array(addrs, dtype=np.int64),
                        np.array(data, dtype=np.uint32).reshape(-1, psum.shape[1]), where)


class Checker(vpa.Checker):
    """verify_pe_array's checker with the sparse program's records and expectation."""

    def __init__(self, rows: int, cols: int, n: int, m: int, aw: int):
        super().__init__(rows, cols, aw)
        self.n, self.m = n, m

    def prepare(self, folder: Path, ops: list, rng: np.random.Generator) -> tuple[vpa.Timing, vpa.Expected, dict]:
        timing = vpa.schedule(proxies(ops), self.rows, self.cols)
        recs = records(ops, timing, self.rows, self.cols, self.n, self.m, rng)
        for name, words in recs.items():
            bits = 4 if name.endswith("_idx") else 16 if name.endswith(("_x", "_data")) else 32
            write_lanes(folder / f"{name}.hex", words, bits)
        want = expected(ops, timing, self.psum)
        ncols = 0
        for op in ops:  # useful MACs: physical rows * N * M' per matmul
            if isinstance(op, LoadSparse):
                ncols = op.values.shape[1]
            else:
                self.macs += op.x.shape[1] * ncols * (op.x.shape[0] // self.m * self.n)
        inputs = {"n_stream": len(recs["pe_stream_ctrl"]), "n_weight": len(recs["pe_weight_ctrl"]),
                  "last_cycle": timing.cycles + self.rows + self.cols}
        return timing, want, inputs

    def report(self) -> str:
        return super().report().replace("pe_array", f"sparse {self.n}:{self.m}", 1)


def directed_program(rng: np.random.Generator, rows: int, cols: int, n: int, m: int, dtypes: list[str]) -> list:
    """Per dtype: full-size extremes with every index, streamed with M = R + C, then one accumulating
    vector; all-zero weights last."""
    ops: list = []
    for dtype in dtypes:
        w = random_weights(rng, dtype, rows, cols, n, m)
        extreme = vpa.directed_program(rng, rows, cols, [dtype])[0].w  # -128 / bf16 specials
        values = np.where(w.values == 0, w.values, extreme)
        x = vpa.directed_program(rng, rows // n * m, cols, [dtype])[1].x[:, :rows + cols]
        ops += [LoadSparse(values, w.index, n, m), MatmulSparse(x), MatmulSparse(x[:, :1], acc=True)]
    zeros = LoadSparse(np.zeros((rows, cols), np.int8), np.zeros((rows, cols), np.uint8), n, m)
    return ops + [zeros, MatmulSparse(np.ones((rows // n * m, 2), np.int8), 1, True)]


def programs(plan: dict, depth: int) -> Iterator[list]:
    rng = np.random.default_rng([plan["seed"], plan["rows"], plan["cols"], plan["n"], plan["m"]])
    entries = 1 << plan["aw"]
    args = plan["rows"], plan["cols"], plan["n"], plan["m"]
    ops = directed_program(rng, *args, plan["dtypes"])
    yield ops
    left = plan["vectors"] - sum(op.x.shape[1] for op in ops if isinstance(op, MatmulSparse))
    while left > 0:
        budget = min(left, depth - 8 * plan["rows"], 4_000)
        while True:
            ops = random_program(rng, *args, plan["dtypes"], budget, entries)
            weights = sum(op.values.shape[0] for op in ops if isinstance(op, LoadSparse))
            vectors = sum(op.x.shape[1] for op in ops if isinstance(op, MatmulSparse))
            if max(weights, vectors) <= depth:
                break
        left -= vectors
        yield ops


def make_plan(rows: int, cols: int, n: int, m: int, dtypes: list[str], vectors: int, seed: int) -> dict:
    return {"rows": rows, "cols": cols, "n": n, "m": m, "aw": vpa.psum_log2(rows), "dtypes": dtypes,
            "vectors": vectors, "seed": seed}


def parameters(sim: str, rows: int, cols: int, n: int, m: int) -> dict[str, int]:
    return {"R": rows, "C": cols, "SPARSE": 1, "N": n, "M": m, "IW": index_bits(m), "AW": vpa.psum_log2(rows),
            "DW": vpa.DEPTH_LOG2[sim]}


def bench(sim: str, rows: int, cols: int, n: int, m: int, dtypes: list[str], vectors: int, seed: int = 1) -> dict:
    """Run the bench once for one pattern; mismatches are reported with 'error' holding the failure."""
    if rows % n:
        raise ValueError(f"{rows} physical rows are not whole groups of {n} slots")
    plan = make_plan(rows, cols, n, m, dtypes, vectors, seed)
    run = run_planned(sim, TOPLEVEL, SOURCES, TEST_MODULE, plan, PLAN_ENV, REPORT_ENV,
                      parameters=parameters(sim, rows, cols, n, m))
    report, error, build_seconds, seconds = run.report, run.error, run.build_seconds, run.seconds
    sim_s = report["sim_seconds"]
    return {
        "unit": "sparse", "sim": sim, "pattern": f"{n}:{m}", "rows": rows, "cols": cols, "dtypes": dtypes,
        "vectors": report["vectors"], "mismatches": report["mismatches"],
        "vectors_per_s": round(report["vectors"] / sim_s) if sim_s else 0,
        "cycles": report["cycles"], "macs": report["macs"], "seconds": round(seconds, 1),
        "build_seconds": round(build_seconds, 1), "error": error, "first": report["first"],
    }


def _pattern(text: str) -> str:
    try:
        parse_pattern(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return text


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `accel verify sparse`."""
    parser.add_argument("--pattern", action="append", type=_pattern,
                        help=f"N:M, repeatable (default: all of {', '.join(PATTERNS)})")
    parser.add_argument("--rows", type=int, default=4, help="physical PE rows R, a multiple of every N (default 4)")
    parser.add_argument("--cols", type=int, default=4, help="PE columns C (default 4)")
    parser.add_argument("--dtype", choices=[*DTYPES, "both"], default="both", help="weight dtype (default both)")


def run(args: argparse.Namespace) -> dict:
    """`accel verify sparse` on args.sim: one bench per pattern, the totals and each pattern's result."""
    vectors = DEFAULT_VECTORS[args.sim] if args.vectors is None else args.vectors
    dtypes = list(DTYPES) if args.dtype == "both" else [args.dtype]
    runs = []
    patterns = [parse_pattern(text) for text in args.pattern or PATTERNS]
    for n, _ in patterns:
        if args.rows % n:
            raise BenchFailure(f"--rows {args.rows} is not a multiple of N = {n} (a group's slots fill N rows)")
    for n, m in patterns:
        runs.append(bench(args.sim, args.rows, args.cols, n, m, dtypes, vectors, args.seed))
    seconds = sum(r["seconds"] for r in runs)
    total = sum(r["vectors"] for r in runs)
    sim_rate = [r["vectors"] / r["vectors_per_s"] for r in runs if r["vectors_per_s"]]
    errors = [r["error"] for r in runs if r["error"]]
    return {"unit": "sparse", "sim": args.sim, "vectors": total, "mismatches": sum(r["mismatches"] for r in runs),
            "vectors_per_s": round(total / sum(sim_rate)) if sim_rate else 0, "seconds": round(seconds, 1),
            "patterns": {r["pattern"]: {k: r[k] for k in ("vectors", "mismatches", "vectors_per_s", "seconds")}
                         for r in runs},
            "error": "\n".join(errors) or None}


def plan_from_env() -> dict:
    """The plan sim/test_sparse_array.py runs (a small 2:4 smoke plan without the environment)."""
    return bench_plan.plan_from_env(PLAN_ENV, make_plan(4, 4, 2, 4, list(DTYPES), 200, 1))
