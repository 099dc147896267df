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

import shutil
import time
from pathlib import Path

import cocotb
from cocotb.triggers import ClockCycles, FallingEdge, ReadOnly

from accel.tb import verify_act_engine as va
from accel.tb.clock import start_clock
from accel.tb.plan import plan_from_env, write_report

FILES = ("act_prog.hex", "act_init.hex", "act_exp.hex")


def _u(sig) -> int:
    v = sig.value  # a LogicArray, or a Logic for one bit
    return int(v.to_unsigned()) if hasattr(v, "to_unsigned") else int(v)


async def _watch(dut, accepts: list[int], retires: list[int]) -> None:
    """Record the clock of every acceptance and every retire pulse, sampled between edges from the
    falling edge at which reset is released (clock 0: the first rising edge after it)."""
    clock = 0
    while True:
        await ReadOnly()
        if _u(dut.in_valid) and _u(dut.in_ready):
            accepts.append(clock)
        if _u(dut.retire):
            retires.append(clock)
        clock += 1
        await FallingEdge(dut.clk)


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
    retires: list[int] = []
    monitor = cocotb.start_soon(_watch(dut, accepts, retires))
    t0 = time.perf_counter()
    waited, step = 0, 500
    while not _u(dut.done) and waited < entry["max_cycles"]:
        await ClockCycles(dut.clk, step)
        waited += step
    seconds = time.perf_counter() - t0
    monitor.cancel()
    out = {"name": entry["name"], "done": bool(_u(dut.done)), "cycles": _u(dut.cycles),
           "retired": _u(dut.retired), "mismatches": _u(dut.mismatches), "seconds": seconds,
           "accepts": accepts, "retires": retires}
    if out["done"]:
        shutil.copyfile(here / "act_final.hex", src / "act_final.hex")
    if out["done"] and out["mismatches"]:
        out.update(first_byte=_u(dut.first_bad_byte), first_got=_u(dut.first_got),
                   first_want=_u(dut.first_want), first_pc=_u(dut.first_pc))
    return out


@cocotb.test()
async def act_programs(dut):
    """Every program of the plan, compared with accel.machine.Core's final image in the bench."""
    plan = plan_from_env(va.PLAN_ENV, {})
    assert plan, f"{va.PLAN_ENV} is not set: run this bench through accel.tb.verify_act_engine.bench"
    dut.rst.value = 1
    dut.load.value = 0
    dut.hold.value = 0
    dut.nprog.value = 0
    start_clock(dut.clk)
    results = []
    for entry in plan["programs"]:
        results.append(await _play(dut, entry))
        write_report(va.REPORT_ENV, results)
    bad = [r["name"] for r in results if not r["done"] or r["mismatches"]]
    assert not bad, f"programs that did not finish or differ: {bad}"
