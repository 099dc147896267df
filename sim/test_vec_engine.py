"""cocotb bench: rtl/vec_engine.v plays programs through sim/vec_engine_tb.v.

The plan comes from ACCEL_VEC_PLAN (JSON written by accel.tb.verify_vec): a list of programs, each a
folder holding vec_prog.hex, vec_init.hex and vec_exp.hex, its instruction count and a cycle limit.
For each program the files are copied into the working folder, the bench loads them, resets the
engine, runs the program to `halt` and compares the final SBUF/PSUM image with the expected one
itself; the final image (vec_final.hex) goes back to the program's folder. The result of every
program goes to the JSON report ACCEL_VEC_REPORT. A program whose entry has "timing" also reports
"accepts": the clock (counted from the release of reset) at which each instruction was accepted
(in_valid and in_ready at a rising edge), so accepts[k + 1] - accepts[k] is instruction k's occupancy
plus the gap before k + 1: "gaps" (optional) holds each instruction's idle clocks, during which the
bench holds its word back although the engine is ready.
"""

from __future__ import annotations

import cocotb
from cocotb.triggers import FallingEdge, ReadOnly

from accel.tb import verify_vec as vv
from accel.tb.plan import engine_result, load_program, play_plan, run_until, value

TOPLEVEL = "vec_engine_tb"
FILES = ("vec_prog.hex", "vec_init.hex", "vec_exp.hex")


async def _accepts(dut, out: list[int], gaps: list[int]) -> None:
    """Append to `out` the clock number of every instruction acceptance, sampled between edges; hold
    instruction k back for gaps[k] clocks once the engine is ready for it."""
    clock, wait = 0, gaps[0] if gaps else 0
    while True:
        await FallingEdge(dut.clk)
        hold = wait > 0 and bool(value(dut.in_ready))
        wait -= hold
        dut.hold.value = int(hold)
        await ReadOnly()
        if value(dut.in_valid) and value(dut.in_ready):
            out.append(clock)
            wait = gaps[len(out)] if len(out) < len(gaps) else 0
        clock += 1


async def _play(dut, entry: dict) -> dict:
    """Load one program's files, reset, run to the end (or the cycle limit); the bench's counters."""
    await load_program(dut, entry, FILES)
    accepts: list[int] = []
    monitor = cocotb.start_soon(_accepts(dut, accepts, entry.get("gaps") or [])) if entry.get("timing") else None
    seconds = await run_until(dut, dut.done, entry["max_cycles"], 2000)
    if monitor is not None:
        monitor.cancel()
        dut.hold.value = 0
    out = engine_result(dut, entry, seconds, "vec_final.hex")
    if monitor is not None:
        out["accepts"] = accepts
    return out


@cocotb.test()
async def vec_programs(dut):
    """Every program of the plan, compared with accel.machine.Core's final image in the bench."""
    await play_plan(dut, vv.PLAN_ENV, vv.REPORT_ENV, _play, lambda r: r["done"] and not r["mismatches"],
                    "accel.tb.verify_vec.bench", idle={"hold": 0})
