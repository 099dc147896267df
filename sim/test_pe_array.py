"""cocotb bench: rtl/pe_array.v + rtl/psum_acc.v through sim/pe_array_tb.v, against
accel.model.pe_array and the cycle formulas of docs/pe_array.md.

The plan (shape, dtypes, vectors, seed) comes from ACCEL_PE_PLAN, a JSON
accel.tb.verify_pe_array.make_plan (a small 4x4 smoke plan without it; the build's R and C must
match). Each program is written to $readmemh files that the wrapper plays with no Python in the
loop; Python wakes once per program to compare the wrapper's dump of PSUM writes (cycle,
address, entry) and final PSUM with the model (accel.tb.verify_pe_array.play_programs). A JSON
report goes to ACCEL_PE_REPORT when set.
"""

from __future__ import annotations

import cocotb

from accel.tb import verify_pe_array as vpa

TOPLEVEL = "pe_array_tb"


@cocotb.test()
async def pe_array_programs(dut):
    """Random programs of loads and matmuls: every output vector's cycle, address and lanes."""
    plan = vpa.plan_from_env()
    checker = vpa.Checker(plan["rows"], plan["cols"], plan["aw"])
    programs = vpa.programs(plan, 1 << (len(dut.n_stream) - 1))
    await vpa.play_programs(dut, checker, programs, vpa.junk_rng(plan), vpa.REPORT_ENV)
