"""cocotb bench: rtl/act_engine.v plays ACT programs through sim/act_engine_tb.v.

The plan comes from ACCEL_ACT_ENGINE_PLAN (JSON written by accel.tb.verify_act_engine): a list of
programs, each a folder holding act_prog.hex, act_init.hex and act_exp.hex, its instruction count and a
cycle limit. For each program the files are copied into the working folder, the bench loads them, resets
the engine, runs the program to `halt` and until every instruction has ended, and compares the final
SBUF/PSUM image with the expected one itself (act_final.hex goes back to the program's folder). The
report (ACCEL_ACT_ENGINE_REPORT) has per program the bench's counters, "accepts": the clock (from the
release of reset) at which each instruction was accepted (in_valid and in_ready at a rising edge: its
start), and "retires": each clock in which `retire` was high (an instruction's last write: its end
is the clock after).
"""

from __future__ import annotations

import cocotb
from cocotb.triggers import FallingEdge, ReadOnly

from accel.tb import verify_act_engine as va
from accel.tb.plan import engine_result, load_program, play_plan, run_until, value

FILES = ("act_prog.hex", "act_init.hex", "act_exp.hex")


async def _watch(dut, accepts: list[int], retires: list[int]) -> None:
    """Record the clock of every acceptance and every retire pulse, sampled between edges from the
    falling edge at which reset is released (clock 0: the first rising edge after it)."""
    clock = 0
    while True:
        await ReadOnly()
        if value(dut.in_valid) and value(dut.in_ready):
            accepts.append(clock)
        if value(dut.retire):
            retires.append(clock)
        clock += 1
        await FallingEdge(dut.clk)


async def _play(dut, entry: dict) -> dict:
    """Load one program's files, reset, run to the end (or the cycle limit); the bench's counters."""
    await load_program(dut, entry, FILES)
    accepts: list[int] = []
    retires: list[int] = []
    monitor = cocotb.start_soon(_watch(dut, accepts, retires))
    seconds = await run_until(dut, dut.done, entry["max_cycles"], 500)
    monitor.cancel()
    return {**engine_result(dut, entry, seconds, "act_final.hex"), "accepts": accepts, "retires": retires}


@cocotb.test()
async def act_programs(dut):
    """Every program of the plan, compared with accel.machine.Core's final image in the bench."""
    await play_plan(dut, va.PLAN_ENV, va.REPORT_ENV, _play, lambda r: r["done"] and not r["mismatches"],
                    "accel.tb.verify_act_engine.bench", idle={"hold": 0})
