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

import shutil
import time
from pathlib import Path

import cocotb
from cocotb.triggers import ClockCycles, FallingEdge, ReadOnly

from accel.tb import verify_vec as vv
from accel.tb.clock import start_clock
from accel.tb.plan import plan_from_env, write_report

TOPLEVEL = "vec_engine_tb"
FILES = ("vec_prog.hex", "vec_init.hex", "vec_exp.hex")


def _u(sig) -> int:
    v = sig.value  # a LogicArray, or a Logic for one bit
    return int(v.to_unsigned()) if hasattr(v, "to_unsigned") else int(v)


async def _accepts(dut, out: list[int], gaps: list[int]) -> None:
    """Append to `out` the clock number of every instruction acceptance, sampled between edges; hold
    instruction k back for gaps[k] clocks once the engine is ready for it."""
    clock, wait = 0, gaps[0] if gaps else 0
    while True:
        await FallingEdge(dut.clk)
        hold = wait > 0 and bool(_u(dut.in_ready))
        wait -= hold
        dut.hold.value = int(hold)
        await ReadOnly()
        if _u(dut.in_valid) and _u(dut.in_ready):
            out.append(clock)
            wait = gaps[len(out)] if len(out) < len(gaps) else 0
        clock += 1


async def _play(dut, entry: dict) -> dict:
    """Load one program's files, reset, run to the end (or the cycle limit); the bench's counters."""
    here, src = Path.cwd(), Path(entry["dir"])
    for name in FILES:
        shutil.copyfile(src / name, here / name)
    await FallingEdge(dut.clk)
    dut.rst.value = 1
    dut.nprog.value = entry["nprog"]
    dut.load.value = 1
    await FallingEdge(dut.clk)
    dut.load.value = 0
    await FallingEdge(dut.clk)
    dut.rst.value = 0
    accepts: list[int] = []
    monitor = cocotb.start_soon(_accepts(dut, accepts, entry.get("gaps") or [])) if entry.get("timing") else None
    t0 = time.perf_counter()
    waited, step = 0, 2000
    while not _u(dut.done) and waited < entry["max_cycles"]:
        await ClockCycles(dut.clk, step)
        waited += step
    seconds = time.perf_counter() - t0
    if monitor is not None:
        monitor.cancel()
        dut.hold.value = 0
    out = {"name": entry["name"], "done": bool(_u(dut.done)), "cycles": _u(dut.cycles),
           "retired": _u(dut.retired), "mismatches": _u(dut.mismatches), "seconds": seconds}
    if monitor is not None:
        out["accepts"] = accepts
    if out["done"]:
        shutil.copyfile(here / "vec_final.hex", src / "vec_final.hex")
    if out["done"] and out["mismatches"]:
        out.update(first_byte=_u(dut.first_bad_byte), first_got=_u(dut.first_got),
                   first_want=_u(dut.first_want), first_pc=_u(dut.first_pc))
    return out


@cocotb.test()
async def vec_programs(dut):
    """Every program of the plan, compared with accel.machine.Core's final image in the bench."""
    plan = plan_from_env(vv.PLAN_ENV, {})
    assert plan, f"{vv.PLAN_ENV} is not set: run this bench through accel.tb.verify_vec.bench"
    dut.rst.value = 1
    dut.load.value = 0
    dut.hold.value = 0
    dut.nprog.value = 0
    start_clock(dut.clk)
    results = []
    for entry in plan["programs"]:
        results.append(await _play(dut, entry))
        write_report(vv.REPORT_ENV, results)
    bad = [r["name"] for r in results if not r["done"] or r["mismatches"]]
    assert not bad, f"programs that did not finish or differ: {bad}"
