"""cocotb bench: rtl/pe_array.v + rtl/psum_acc.v through sim/pe_array_tb.v, against
accel.model.pe_array and the cycle formulas of docs/pe_array.md.

The plan (shape, dtypes, vectors, seed) comes from ACCEL_PE_PLAN, a JSON
accel.tb.verify_pe_array.make_plan (a small 4x4 smoke plan without it; the build's R and C must
match). Each program is written to $readmemh files that the wrapper plays with no Python in the
loop; Python wakes once per program to compare the wrapper's dump of PSUM writes (cycle,
address, entry) and final PSUM with the model. A JSON report goes to ACCEL_PE_REPORT when set.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import cocotb
from cocotb.triggers import FallingEdge, RisingEdge

from accel.tb import verify_pe_array as vpa
from accel.tb.clock import start_clock

TOPLEVEL = "pe_array_tb"


@cocotb.test()
async def pe_array_programs(dut):
    """Random programs of loads and matmuls: every output vector's cycle, address and lanes."""
    plan = vpa.plan_from_env()
    depth = 1 << (len(dut.n_stream) - 1)
    folder = Path.cwd()
    dut.start.value = 0
    dut.files.value = 1
    start_clock(dut.clk)
    checker = vpa.Checker(plan["rows"], plan["cols"], plan["aw"])
    sim_seconds = 0.0
    junk = vpa.junk_rng(plan)
    for ops in vpa.programs(plan, depth):
        timing, want, inputs = checker.prepare(folder, ops, junk)
        await FallingEdge(dut.clk)
        dut.n_stream.value = inputs["n_stream"]
        dut.n_weight.value = inputs["n_weight"]
        dut.last_cycle.value = inputs["last_cycle"]
        dut.start.value = 1
        t0 = time.perf_counter()
        await FallingEdge(dut.clk)
        dut.start.value = 0
        await RisingEdge(dut.done)
        sim_seconds += time.perf_counter() - t0
        checker.check(folder, ops, timing, want, int(dut.n_writes.value.to_unsigned()))
    dut._log.info("%s; %d cycles in %.2f s", checker.report().splitlines()[0], checker.cycles, sim_seconds)
    if os.environ.get(vpa.REPORT_ENV):
        Path(os.environ[vpa.REPORT_ENV]).write_text(json.dumps({
            "vectors": checker.vectors, "mismatches": checker.mismatches, "cycles": checker.cycles,
            "macs": checker.macs, "sim_seconds": sim_seconds, "first": checker.first}))
    assert checker.mismatches == 0, checker.report()
