"""rtl/pe_array.v + rtl/psum_acc.v against accel.model.pe_array and docs/pe_array.md's cycle
formulas, through sim/pe_array_tb.v and sim/test_pe_array.py, on both simulators.

One long bench run per (simulator, shape): int8 and bf16 weight loads mixed, random and extreme
matrices, accumulate chains, back-to-back matmuls that overlap the next load. Verilator builds
are cached per shape (accel.tb.runner), so only the first run pays them.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from accel.cli import main
from accel.model.pe_array import LoadWeights, Matmul
from accel.tb import verify_pe_array as vpa

SHAPES = [(4, 4), (8, 8), (16, 16), (4, 8)]
# Moving vectors per run; Icarus evaluates every bf16 adder as events, so it gets few.
VECTORS = {"icarus": {4: 600, 8: 250, 16: 80}, "verilator": {4: 40_000, 8: 20_000, 16: 8_000}}
EDGE_SHAPES = [(1, 1), (1, 3), (3, 1), (2, 5), (8, 4)]  # Icarus only: builds instantly


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_pe_array_matches_model_and_cycles(sim: str, shape: tuple[int, int]) -> None:
    rows, cols = shape
    vectors = VECTORS[sim][max(rows, cols)]
    r = vpa.bench(sim, rows, cols, list(vpa.DTYPES), vectors, seed=1)
    assert r["error"] is None, r["error"]
    assert r["mismatches"] == 0
    assert r["vectors"] >= vectors


def test_pe_array_edge_shapes(sim: str) -> None:
    """1-row, 1-column and odd arrays (zero-length skew, de-skew or tag lines)."""
    if sim != "icarus":
        pytest.skip("edge shapes run on Icarus only (a Verilator build per shape costs ~15 s)")
    for rows, cols in EDGE_SHAPES:
        r = vpa.bench(sim, rows, cols, list(vpa.DTYPES), 150, seed=2)
        assert r["error"] is None, r["error"]
        assert r["mismatches"] == 0


def test_spec_example_timing() -> None:
    """The bench's schedule on a hand-worked 4 x 4 example of docs/pe_array.md: a 4 x 4 load at
    L = 0..3, a matmul with M = 8 swaps it in at S = 4 and writes vector m at the end of cycle
    4 + m + 6; the next load waits for the swap to pass column 3 (L = S + N = 8) and ends at 12
    = stream_free, so the second matmul streams back to back (S = 12) and the program ends at
    E = 12 + 8 + 6 = 26."""
    w, x = np.zeros((4, 4), np.int8), np.zeros((4, 8), np.int8)
    t = vpa.schedule([LoadWeights(w), Matmul(x), LoadWeights(w), Matmul(x)], 4, 4)
    assert t.starts == [0, 4, 8, 12]
    assert t.swaps == [False, True, False, True]
    assert t.row_cycles[1].tolist() == list(range(10, 18))
    assert t.row_cycles[3].tolist() == list(range(18, 26))
    assert t.cycles == 26


def test_programs_fit_and_cover() -> None:
    """Generated programs respect the wrapper's depth and cover both dtypes, accumulation,
    swaps and reuse, M = 1 and M > R, K < R and N < C."""
    plan = vpa.make_plan(4, 8, list(vpa.DTYPES), 3000, 1)
    depth = 1 << 12
    seen = set()
    for ops in vpa.programs(plan, depth):
        assert sum(op.x.shape[1] for op in ops if isinstance(op, Matmul)) <= depth
        t = vpa.schedule(ops, 4, 8)
        for op, swap in zip(ops, t.swaps, strict=True):
            if isinstance(op, LoadWeights):
                seen |= {op.w.dtype.name, "K<R" if op.w.shape[0] < 4 else "K=R", "N<C" if op.w.shape[1] < 8 else "N=C"}
            else:
                m = op.x.shape[1]
                seen |= {"acc" if op.acc else "write", "swap" if swap else "reuse", "M=1" if m == 1 else "M>R" if m > 4
                         else "M<=R"}
    assert seen >= {"int8", "uint16", "K<R", "K=R", "N<C", "N=C", "acc", "write", "swap", "reuse", "M=1", "M>R"}


def test_verify_command(sim: str, capsys: pytest.CaptureFixture[str]) -> None:
    """`accel verify pe_array` end to end (on Icarus: a new shape needs no Verilator build)."""
    if sim != "icarus":
        pytest.skip("runs on Icarus only")
    argv = ["verify", "pe_array", "--sim", sim, "--rows", "2", "--cols", "3", "--dtype", "bf16", "--vectors", "60",
            "--json"]
    assert main(argv) == 0
    row = json.loads(capsys.readouterr().out)[0]
    assert (row["unit"], row["rows"], row["cols"], row["dtypes"]) == ("pe_array", 2, 3, ["bf16"])
    assert row["mismatches"] == 0 and row["kernel_cycle_mismatches"] in (0, None) and row["vectors"] >= 60
