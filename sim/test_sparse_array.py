"""cocotb bench: rtl/sparse_array.v + rtl/psum_acc.v through sim/pe_array_tb.v (SPARSE = 1), against
accel.model.sparse and the cycle formulas of docs/pe_array.md (K = physical rows).

The plan (shape, pattern, dtypes, vectors, seed) comes from ACCEL_SPARSE_PLAN, a JSON
accel.tb.verify_sparse.make_plan (a 4x4 2:4 smoke plan without it; the build's parameters must
match). Each program goes to $readmemh files that the wrapper plays with no Python in the loop;
Python wakes once per program to compare the logged PSUM writes and the final PSUM with the model.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import cocotb
from cocotb.triggers import FallingEdge, RisingEdge

from accel.tb import verify_pe_array as vpa
from accel.tb import verify_sparse as vs
from accel.tb.clock import start_clock

TOPLEVEL = "pe_array_tb"  # with SPARSE = 1


@cocotb.test()
async def sparse_array_programs(dut):
    """Random sparse programs: every output vector's cycle, address and lanes, and the final PSUM."""
    plan = vs.plan_from_env()
    depth = 1 << (len(dut.n_stream) - 1)
    folder = Path.cwd()
    dut.start.value = 0
    dut.files.value = 1
    start_clock(dut.clk)
    checker = vs.Checker(plan["rows"], plan["cols"], plan["n"], plan["m"], plan["aw"])
    sim_seconds = 0.0
    junk = vpa.junk_rng(plan)
    for ops in vs.programs(plan, depth):
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
    if os.environ.get(vs.REPORT_ENV):
        Path(os.environ[vs.REPORT_ENV]).write_text(json.dumps({
            "vectors": checker.vectors, "mismatches": checker.mismatches, "cycles": checker.cycles,
            "macs": checker.macs, "sim_seconds": sim_seconds, "first": checker.first}))
    assert checker.mismatches == 0, checker.report()
