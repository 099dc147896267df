"""`accel verify pe_array`: rtl/pe_array.v + rtl/psum_acc.v against accel.model.pe_array and the
cycle formulas of docs/pe_array.md, bit for bit and cycle for cycle, on one simulator.

A program is a list of weight loads and matmuls (random shapes K <= R, N <= C, M from 1 to 4R,
dtypes mixed per load, accumulate chains, random and extreme matrices). `schedule` gives every
load and matmul its start cycle by the spec's rules, so loads overlap streams as tightly as the
spec allows. The program becomes cycle-stamped $readmemh records that sim/pe_array_tb.v plays
with no Python in the loop; it logs every PSUM write with the cycle during which it happened.
`Checker.check` compares the log with the model: the cycle S + m + R + C - 2 of every output
vector, its address, every lane of the written PSUM entry, the write count and the final PSUM.
`bench` also checks accel.kernels.pe_array's per-row cycles for the same programs.

    accel verify pe_array --sim verilator --rows 16 --cols 16 --dtype bf16 --vectors 100000
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from accel.isa.memfile import read_lanes, write_lanes
from accel.model.pe_array import LoadWeights, Matmul, PETimeline, accumulate, matmul_bf16, matmul_int8
from accel.tb import plan as bench_plan
from accel.tb.modules import sources
from accel.tb.plan import run_planned

TOPLEVEL = "pe_array_tb"
TEST_MODULE = "test_pe_array"
SOURCES = sources(TOPLEVEL)  # the player serves the dense and the sparse array (SPARSE = 1)
DTYPES = ("int8", "bf16")
DEPTH_LOG2 = {"icarus": 12, "verilator": 15}  # records per program (sim/pe_array_tb.v's DW)
DEFAULT_VECTORS = {"icarus": 2_000, "verilator": 100_000}
PLAN_ENV, REPORT_ENV = "ACCEL_PE_PLAN", "ACCEL_PE_REPORT"


def psum_log2(rows: int) -> int:
    """log2 of the bench's PSUM entries: room for a few 4R-vector outputs."""
    return max(4, (4 * rows - 1).bit_length() + 1)


# ---------------------------------------------------------------------------------------------
# Programs and the spec's schedule
# ---------------------------------------------------------------------------------------------


@dataclass
class Timing:
    """Per op: start cycle (L of a load, S of a matmul), whether a matmul swaps in new weights,
    the cycle at whose end each of its output vectors is written to PSUM; and the program's
    PE-array cycles. By accel.model.pe_array.PETimeline, the documented cycle model."""

    starts: list[int]
    swaps: list[bool]
    row_cycles: list[np.ndarray]
    cycles: int


def schedule(ops: list, rows: int, cols: int) -> Timing:
    """Time a program of LoadWeights and Matmul ops by docs/pe_array.md's rules."""
    timeline = PETimeline(rows, cols)
    starts, swaps, row_cycles = [], [], []
    shape, pending = None, False
    for op in ops:
        if isinstance(op, LoadWeights):
            shape, pending = op.w.shape, True
            starts.append(timeline.load(*shape)[0])
            swaps.append(False)
            row_cycles.append(np.zeros(0, dtype=np.int64))
        else:
            start = timeline.matmul(*shape, op.x.shape[1])[0]
            starts.append(start)
            swaps.append(pending)
            row_cycles.append(np.array([timeline.row_written(start, m) for m in range(op.x.shape[1])], np.int64))
            pending = False
    return Timing(starts, swaps, row_cycles, timeline.cycles)


def kernel_timing(ops: list, rows: int, cols: int) -> Timing | None:
    """The same timing from accel.kernels.pe_array's cycle-accurate simulation (on zero data of
    the same shapes: timing does not depend on values), or None without the kernel."""
    try:
        from accel.kernels.pe_array import run_ops
    except ImportError:
        return None
    zeros = [LoadWeights(np.zeros(op.w.shape, np.int8)) if isinstance(op, LoadWeights)
             else Matmul(np.zeros(op.x.shape, np.int8)) for op in ops]
    width = max(op.x.shape[1] for op in ops if isinstance(op, Matmul))
    sim = run_ops(zeros, rows, cols, np.zeros((cols, width), np.int32))
    return Timing([a for a, _ in sim.spans], [], [np.asarray(r, np.int64) for r in sim.row_cycles], sim.cycles)


_BF16_SPECIALS = np.array([0x0000, 0x8000, 0x7F80, 0xFF80, 0x7FC0, 0xFFC1, 0x7F81, 0x0001, 0x807F,
                           0x0040, 0x0080, 0x8080, 0x7F7F, 0xFF7F, 0x3F80, 0xBF80], dtype=np.uint16)


def random_matrix(rng: np.random.Generator, dtype: str, shape: tuple[int, int]) -> np.ndarray:
    """A random int8 or bf16 matrix of one of several flavours (uniform, extremes, specials,
    subnormal range, signed zeros)."""
    if dtype == "int8":
        flavour = rng.choice(["uniform", "extreme", "min"], p=[0.7, 0.2, 0.1])
        if flavour == "min":
            return np.full(shape, -128, dtype=np.int8)
        if flavour == "extreme":
            return rng.choice(np.array([-128, -127, -1, 0, 1, 127], dtype=np.int8), size=shape)
        return rng.integers(-128, 128, size=shape, dtype=np.int16).astype(np.int8)
    flavour = rng.choice(["moderate", "specials", "bits", "tiny", "zeros"], p=[0.45, 0.2, 0.1, 0.15, 0.1])
    sign = rng.integers(0, 2, size=shape, dtype=np.uint16) << 15
    frac = rng.integers(0, 128, size=shape, dtype=np.uint16)
    if flavour == "bits":
        return rng.integers(0, 1 << 16, size=shape, dtype=np.uint32).astype(np.uint16)
    if flavour == "zeros":
        return sign
    lo, hi = (121, 134) if flavour != "tiny" else (0, 70)  # tiny: products near and below 2**-126
    out = sign | (rng.integers(lo, hi, size=shape, dtype=np.uint16) << 7) | frac
    if flavour == "specials":
        pick = rng.random(shape) < 0.15
        out[pick] = rng.choice(_BF16_SPECIALS, size=int(pick.sum()))
    return out


def _pick(rng: np.random.Generator, top: int) -> int:
    """A size in 1..top, biased to the edges (1 and top)."""
    u = rng.random()
    return 1 if u < 0.1 else top if u < 0.4 else int(rng.integers(1, top + 1))


def random_program(rng: np.random.Generator, rows: int, cols: int, dtypes: list[str], vectors: int,
                   psum_entries: int) -> list:
    """Loads, each followed by 1-3 matmuls (M 1..4R), until about `vectors` moving vectors.
    Half of the matmuls after the first accumulate into the previous one's entries (K tiling);
    sometimes a load is overwritten by the next one before any matmul uses it."""
    ops: list = []
    streamed = 0
    last = None  # (dst, M) of the previous matmul
    while streamed < vectors:
        dtype = str(rng.choice(dtypes))
        k, n = _pick(rng, rows), _pick(rng, cols)
        if rng.random() < 0.05:
            ops.append(LoadWeights(random_matrix(rng, str(rng.choice(dtypes)), (_pick(rng, rows), _pick(rng, cols)))))
        ops.append(LoadWeights(random_matrix(rng, dtype, (k, n))))
        for _ in range(int(rng.integers(1, 4))):
            if last is not None and rng.random() < 0.5:
                (dst, m), acc = last, True
            else:
                u = rng.random()
                top = 1 if u < 0.15 else rows if u < 0.5 else 4 * rows
                m = min(int(rng.integers(max(1, top // 4), top + 1)), psum_entries)
                dst, acc = int(rng.integers(0, psum_entries - m + 1)), bool(rng.random() < 0.3)
            ops.append(Matmul(random_matrix(rng, dtype, (k, m)), dst, acc))
            last = (dst, m)
            streamed += m
    return ops


# ---------------------------------------------------------------------------------------------
# Records for sim/pe_array_tb.v, expected writes, and the check of its dumps
# ---------------------------------------------------------------------------------------------


@dataclass
class Expected:
    """What sim/pe_array_tb.v must log: per output vector its cycle, PSUM address and entry
    (C lanes), and the op and vector index it belongs to."""

    cycle: np.ndarray
    addr: np.ndarray
    data: np.ndarray
    where: list[tuple[int, int]]


def records(ops: list, timing: Timing, rows: int, cols: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The four stimulus files' words as [n, lanes] arrays (lane 0 least significant). Lanes
    beyond K or N and the high byte of int8 values hold random junk that must not matter."""
    st_ctrl, st_x, wt_ctrl, wt_data = [], [], [], []
    n = 0  # N of the newest load: the weights a matmul uses
    for op, start, swap in zip(ops, timing.starts, timing.swaps, strict=True):
        if isinstance(op, LoadWeights):
            k, n = op.w.shape
            data = rng.integers(0, 1 << 16, size=(k, cols), dtype=np.uint32)
            data[:, :n] = _lanes16(op.w, rng)
            bf16 = int(op.w.dtype == np.uint16)
            wt_ctrl += [[(bf16 << 16) | r, start + r] for r in range(k)]
            wt_data.append(data)
        else:
            k, m = op.x.shape
            bf16 = int(op.x.dtype == np.uint16)
            x = rng.integers(0, 1 << 16, size=(m, rows), dtype=np.uint32)
            x[:, :k] = _lanes16(op.x, rng).T
            flags = (bf16 | int(op.acc) << 1) << 16
            st_ctrl += [[(k << 16) | (op.dst + j), flags | n | (int(swap and j == 0) << 18), start + j]
                        for j in range(m)]
            st_x.append(x)
    return {
        "pe_stream_ctrl": np.array(st_ctrl, dtype=np.uint32).reshape(-1, 3),
        "pe_stream_x": np.concatenate(st_x) if st_x else np.zeros((0, rows), np.uint32),
        "pe_weight_ctrl": np.array(wt_ctrl, dtype=np.uint32).reshape(-1, 2),
        "pe_weight_data": np.concatenate(wt_data) if wt_data else np.zeros((0, cols), np.uint32),
    }


def _lanes16(a: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """16-bit lane values: bf16 bits, or int8 in the low byte under a random high byte."""
    if a.dtype == np.uint16:
        return a.astype(np.uint32)
    junk = rng.integers(0, 256, size=a.shape, dtype=np.uint32) << 8
    return junk | a.view(np.uint8).astype(np.uint32)


def expected(ops: list, timing: Timing, psum: np.ndarray) -> Expected:
    """Run the program on the model, updating `psum` [entries, C] (uint32 bits) in place."""
    addrs, data, where = [], [], []
    w = None
    for i, op in enumerate(ops):
        if isinstance(op, LoadWeights):
            w = op.w
            continue
        n = w.shape[1]
        if w.dtype == np.int8:
            out, dtype, view = matmul_int8(w, op.x), "int32", np.int32
        else:
            out, dtype, view = matmul_bf16(w, op.x), "fp32", np.uint32
        m = op.x.shape[1]
        entries = psum[op.dst:op.dst + m]  # one PSUM entry per vector, all different
        new = out.T
        if op.acc:
            new = accumulate(entries[:, :n].view(view), new, dtype)
        entries[:, :n] = new.view(np.uint32)
        addrs.append(np.arange(op.dst, op.dst + m))
        data.append(entries.copy())
        where += [(i, j) for j in range(m)]
    cols = psum.shape[1]
    return Expected(np.concatenate(timing.row_cycles), np.concatenate(addrs) if addrs else np.zeros(0, np.int64),
                    np.concatenate(data) if data else np.zeros((0, cols), np.uint32), where)


class Checker:
    """Model-side state of a bench run (PSUM contents, counts, first mismatches) across the
    programs played one after another on the same wrapper."""

    def __init__(self, rows: int, cols: int, aw: int, keep: int = 5):
        self.rows, self.cols, self.keep = rows, cols, keep
        self.psum = np.zeros((1 << aw, cols), dtype=np.uint32)
        self.vectors = self.mismatches = self.cycles = self.macs = 0
        self.first: list[str] = []

    def _bad(self, text: str) -> None:
        self.mismatches += 1
        if len(self.first) < self.keep:
            self.first.append(text)

    def prepare(self, folder: Path, ops: list, rng: np.random.Generator) -> tuple[Timing, Expected, dict]:
        """Schedule a program, write its records into `folder`, compute what the RTL must log.
        Returns the timing, the expectation and the wrapper's inputs (n_stream, n_weight,
        last_cycle: the program's cycles plus a drain margin that would catch late writes)."""
        timing = schedule(ops, self.rows, self.cols)
        recs = records(ops, timing, self.rows, self.cols, rng)
        for name, words in recs.items():
            write_lanes(folder / f"{name}.hex", words, 16 if name.endswith(("_x", "_data")) else 32)
        want = expected(ops, timing, self.psum)
        n = 0
        for op in ops:  # useful MACs: K * N * M per matmul
            n = op.w.shape[1] if isinstance(op, LoadWeights) else n
            self.macs += op.x.size * n if isinstance(op, Matmul) else 0
        inputs = {"n_stream": len(recs["pe_stream_ctrl"]), "n_weight": len(recs["pe_weight_ctrl"]),
                  "last_cycle": timing.cycles + self.rows + self.cols}
        return timing, want, inputs

    def check(self, folder: Path, ops: list, timing: Timing, want: Expected, n_writes: int) -> None:
        """Compare the wrapper's dumps in `folder` with the expectation."""
        self.cycles += timing.cycles
        self.vectors += len(want.cycle)
        ctrl, ctrl_x = (read_lanes(folder / "pe_log_ctrl.hex", 2, 32) if n_writes
                        else (np.zeros((0, 2), np.uint64), np.zeros(0, bool)))
        data, data_x = (read_lanes(folder / "pe_log_data.hex", self.cols, 32) if n_writes
                        else (np.zeros((0, self.cols), np.uint64), np.zeros(0, bool)))
        if n_writes != len(want.cycle):
            self._bad(f"{n_writes} PSUM writes logged, {len(want.cycle)} expected")
        n = min(n_writes, len(want.cycle))
        bad = (ctrl[:n, 1] != want.cycle[:n]) | (ctrl[:n, 0] != want.addr[:n])
        bad |= (data[:n] != want.data[:n]).any(axis=1) | ctrl_x[:n] | data_x[:n]
        for r in np.flatnonzero(bad):
            i, j = want.where[r]
            lanes = np.flatnonzero(data[r] != want.data[r])[:4]
            self._bad(
                f"op {i} ({_describe(ops[i], timing.starts[i], timing.swaps[i])}) vector m={j}: cycle "
                f"{int(ctrl[r, 1])} (want {int(want.cycle[r])}), address "
                f"{int(ctrl[r, 0])} (want {int(want.addr[r])})" + "".join(f", lane {c} {int(data[r, c]):#010x} (want "
                                                   f"{int(want.data[r, c]):#010x})" for c in lanes)
                + (", undefined bits" if ctrl_x[r] or data_x[r] else ""))
        psum, psum_x = read_lanes(folder / "pe_psum.hex", self.cols, 32)
        wrong = np.flatnonzero((psum != self.psum).any(axis=1) | psum_x)
        if len(wrong):
            self._bad(f"final PSUM differs in {len(wrong)} entries, first {int(wrong[0])}: "
                      f"{[hex(int(v)) for v in psum[wrong[0]]]} want {[hex(int(v)) for v in self.psum[wrong[0]]]}")
            self.psum[:] = psum.astype(np.uint32)  # go on from the RTL's state

    def report(self) -> str:
        head = f"pe_array {self.rows}x{self.cols}: {self.mismatches} mismatches in {self.vectors} vectors"
        return "\n  ".join([head, *self.first])


def _describe(op, start: int, swap: bool) -> str:
    if isinstance(op, LoadWeights):
        dtype = "bf16" if op.w.dtype == np.uint16 else "int8"
        return f"load {dtype} K={op.w.shape[0]} N={op.w.shape[1]} at L={start}"
    return (f"matmul K={op.x.shape[0]} M={op.x.shape[1]} dst={op.dst} acc={int(op.acc)} at S={start}"
            + (" swap" if swap else ""))


def directed_program(rng: np.random.Generator, rows: int, cols: int, dtypes: list[str]) -> list:
    """Per dtype: full-size extremes (int8 -128; bf16 specials: signed zeros, subnormals,
    infinities, NaNs) streamed with M = R + C, which hides the next load, then one more vector
    that reuses the weights and accumulates; last a 1 x 1 matmul in the corner."""
    def extreme(dtype: str, shape: tuple[int, int]) -> np.ndarray:
        if dtype == "int8":
            return rng.choice(np.array([-128, -128, -128, 127], dtype=np.int8), size=shape)
        return rng.choice(_BF16_SPECIALS, size=shape)

    ops: list = []
    for dtype in dtypes:
        ops += [LoadWeights(extreme(dtype, (rows, cols))), Matmul(extreme(dtype, (rows, rows + cols))),
                Matmul(extreme(dtype, (rows, 1)), acc=True)]
    return ops + [LoadWeights(extreme(dtypes[0], (1, 1))), Matmul(extreme(dtypes[0], (1, 1)), 1, True)]


def programs(plan: dict, depth: int) -> Iterator[list]:
    """The directed program, then random ones, each small enough for the wrapper's
    2**DW-record memories."""
    rng = np.random.default_rng([plan["seed"], plan["rows"], plan["cols"]])
    entries = 1 << plan["aw"]
    ops = directed_program(rng, plan["rows"], plan["cols"], plan["dtypes"])
    yield ops
    left = plan["vectors"] - sum(op.x.shape[1] for op in ops if isinstance(op, Matmul))
    while left > 0:
        budget = min(left, depth - 8 * plan["rows"], plan.get("program_vectors", 4_000))
        while True:
            ops = random_program(rng, plan["rows"], plan["cols"], plan["dtypes"], budget, entries)
            weights = sum(op.w.shape[0] for op in ops if isinstance(op, LoadWeights))
            vectors = sum(op.x.shape[1] for op in ops if isinstance(op, Matmul))
            if max(weights, vectors) <= depth:
                break
        left -= vectors
        yield ops


def junk_rng(plan: dict) -> np.random.Generator:
    """The generator of the junk lanes of a plan's records (apart from the programs', so the
    programs can be regenerated without writing records)."""
    return np.random.default_rng([plan["seed"], plan["rows"], plan["cols"], 1])


def kernel_mismatches(plan: dict, depth: int) -> int | None:
    """Output vectors of a plan's programs whose cycle by accel.kernels.pe_array differs from
    the formula's (which the RTL is held to); None without the kernel."""
    bad = 0
    for ops in programs(plan, depth):
        kernel = kernel_timing(ops, plan["rows"], plan["cols"])
        if kernel is None:
            return None
        formula = schedule(ops, plan["rows"], plan["cols"])
        bad += int((np.concatenate(kernel.row_cycles) != np.concatenate(formula.row_cycles)).sum())
    return bad


# ---------------------------------------------------------------------------------------------
# Plan handed to sim/test_pe_array.py, and the command
# ---------------------------------------------------------------------------------------------


def make_plan(rows: int, cols: int, dtypes: list[str], vectors: int, seed: int) -> dict:
    """What sim/test_pe_array.py runs: shape, PSUM size, dtypes, moving vectors, seed."""
    return {"rows": rows, "cols": cols, "aw": psum_log2(rows), "dtypes": dtypes, "vectors": vectors, "seed": seed}


def bench(sim: str, rows: int, cols: int, dtypes: list[str], vectors: int, seed: int = 1) -> dict:
    """Run the bench once; mismatches are reported (with 'error' holding the failure text),
    a bench that cannot build or run raises BenchFailure. Also checks the Numba kernel's output
    cycles for the same programs against the formula (kernel_cycle_mismatches; None without it)."""
    plan = make_plan(rows, cols, dtypes, vectors, seed)
    t0 = time.perf_counter()
    kernel_bad = kernel_mismatches(plan, 1 << DEPTH_LOG2[sim])
    run = run_planned(sim, TOPLEVEL, SOURCES, TEST_MODULE, plan, PLAN_ENV, REPORT_ENV,
                      parameters={"R": rows, "C": cols, "AW": plan["aw"], "DW": DEPTH_LOG2[sim]})
    report, error, build_seconds, seconds = run.report, run.error, run.build_seconds, time.perf_counter() - t0
    sim_s = report["sim_seconds"]
    return {
        "unit": "pe_array", "sim": sim, "rows": rows, "cols": cols, "dtypes": dtypes,
        "vectors": report["vectors"], "mismatches": report["mismatches"] + (kernel_bad or 0),
        "kernel_cycle_mismatches": kernel_bad,
        "vectors_per_s": round(report["vectors"] / sim_s) if sim_s else 0,
        "cycles": report["cycles"], "cycles_per_s": round(report["cycles"] / sim_s) if sim_s else 0,
        "macs": report["macs"], "seconds": round(seconds, 1), "build_seconds": round(build_seconds, 1),
        "error": error,
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `accel verify pe_array`."""
    parser.add_argument("--rows", type=int, default=8, help="PE rows R (default 8)")
    parser.add_argument("--cols", type=int, default=8, help="PE columns C (default 8)")
    parser.add_argument("--dtype", choices=[*DTYPES, "both"], default="both",
                        help="dtype of the weight loads (default: both, mixed per load)")


def run(args: argparse.Namespace) -> dict:
    """`accel verify pe_array` on args.sim; --vectors counts moving vectors (output rows)."""
    vectors = DEFAULT_VECTORS[args.sim] if args.vectors is None else args.vectors
    dtypes = list(DTYPES) if args.dtype == "both" else [args.dtype]
    return bench(args.sim, args.rows, args.cols, dtypes, vectors, args.seed)


def plan_from_env() -> dict:
    """The plan sim/test_pe_array.py runs (a small smoke plan without the environment)."""
    return bench_plan.plan_from_env(PLAN_ENV, make_plan(4, 4, list(DTYPES), 200, 1))


async def play_programs(dut, checker: Checker, programs: Iterable, junk: np.random.Generator,
                        report_env: str) -> None:  # pragma: no cover - runs inside the simulator
    """The cocotb body of the dense and the sparse bench (sim/pe_array_tb.v): play each program from
    its $readmemh files with no Python in the loop, check its logged PSUM writes and final PSUM, write
    the JSON report to the file named by `report_env` (when set) and fail on any mismatch."""
    from cocotb.triggers import FallingEdge, RisingEdge

    from accel.tb.clock import start_clock

    folder = Path.cwd()
    dut.start.value = 0
    dut.files.value = 1
    start_clock(dut.clk)
    sim_seconds = 0.0
    for ops in programs:
        timing, want, inputs = checker.prepare(folder, ops, junk)
        await FallingEdge(dut.clk)
        for name, value in inputs.items():
            getattr(dut, name).value = value
        dut.start.value = 1
        t0 = time.perf_counter()
        await FallingEdge(dut.clk)
        dut.start.value = 0
        await RisingEdge(dut.done)
        sim_seconds += time.perf_counter() - t0
        checker.check(folder, ops, timing, want, int(dut.n_writes.value.to_unsigned()))
    dut._log.info("%s; %d cycles in %.2f s", checker.report().splitlines()[0], checker.cycles, sim_seconds)
    if os.environ.get(report_env):
        Path(os.environ[report_env]).write_text(json.dumps({
            "vectors": checker.vectors, "mismatches": checker.mismatches, "cycles": checker.cycles,
            "macs": checker.macs, "sim_seconds": sim_seconds, "first": checker.first}))
    assert checker.mismatches == 0, checker.report()
