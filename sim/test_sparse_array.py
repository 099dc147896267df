"""cocotb bench: rtl/sparse_array.v + rtl/psum_acc.v through sim/pe_array_tb.v (SPARSE = 1), against
accel.model.sparse and the cycle formulas of docs/pe_array.md (K = physical rows).

The plan (shape, pattern, dtypes, vectors, seed) comes from ACCEL_SPARSE_PLAN, a JSON
accel.tb.verify_sparse.make_plan (a 4x4 2:4 smoke plan without it; the build's parameters must
match). Each program goes to $readmemh files that the wrapper plays with no Python in the loop;
Python wakes once per program to compare the logged PSUM writes and the final PSUM with the model
(accel.tb.verify_pe_array.play_programs, as the dense bench).
"""

from __future__ import annotations

import cocotb

from accel.tb import verify_pe_array as vpa
from accel.tb import verify_sparse as vs

TOPLEVEL = "pe_array_tb"  # with SPARSE = 1


@cocotb.test()
async def sparse_array_programs(dut):
    """Random sparse programs: every output vector's cycle, address and lanes, and the final PSUM."""
    plan = vs.plan_from_env()
    checker = vs.Checker(plan["rows"], plan["cols"], plan["n"], plan["m"], plan["aw"])
    programs = vs.programs(plan, 1 << (len(dut.n_stream) - 1))
    await vpa.play_programs(dut, checker, programs, vpa.junk_rng(plan), vs.REPORT_ENV)
