"""cocotb bench: rtl/core.v plays programs through sim/core_tb.v.

The plan comes from ACCEL_CORE_PLAN (JSON written by accel.tb.verify_core): a list of programs, each a
folder holding core_prog.hex, core_ttab.hex and core_dram.hex, its word count and a cycle limit. For each
program the files are copied into the working folder, the bench loads them, resets the core and lets the
wrapper load and run it; when the wrapper has written the final images and the trace, they go back to the
program's folder and the result (finished, the core's cycles, err and the instruction it stopped at) goes
to the JSON report ACCEL_CORE_REPORT. The comparison with the model is accel.tb.verify_core.compare.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import cocotb
from cocotb.triggers import ClockCycles, FallingEdge

from accel.tb import verify_core as vc
from accel.tb.clock import start_clock
from accel.tb.plan import plan_from_env, write_report

INPUTS = ("core_prog.hex", "core_ttab.hex", "core_dram.hex")
OUTPUTS = ("core_dram_final.hex", "core_sb_final.hex", "core_ps_final.hex", "core_start.hex", "core_end.hex")


def _u(sig) -> int:
    v = sig.value
    return int(v.to_unsigned()) if hasattr(v, "to_unsigned") else int(v)


async def _play(dut, entry: dict) -> dict:
    here, src = Path.cwd(), Path(entry["dir"])
    for name in INPUTS:
        shutil.copyfile(src / name, here / name)
    await FallingEdge(dut.clk)
    dut.rst.value = 1
    dut.nprog.value = entry["nprog"]
    dut.load.value = 1
    await FallingEdge(dut.clk)
    dut.load.value = 0
    await FallingEdge(dut.clk)
    dut.rst.value = 0
    t0 = time.perf_counter()
    waited, step = 0, 500
    while not _u(dut.finished) and waited < entry["max_cycles"]:
        await ClockCycles(dut.clk, step)
        waited += step
    out = {"name": entry["name"], "finished": bool(_u(dut.finished)), "cycles": _u(dut.cycles),
           "err": bool(_u(dut.err)), "err_pc": _u(dut.err_pc), "seconds": time.perf_counter() - t0}
    if out["finished"]:
        for name in OUTPUTS:
            shutil.copyfile(here / name, src / name)
    return out


@cocotb.test()
async def core_programs(dut):
    """Every program of the plan; the images and the trace are compared in accel.tb.verify_core."""
    plan = plan_from_env(vc.PLAN_ENV, {})
    assert plan, f"{vc.PLAN_ENV} is not set: run this bench through accel.tb.verify_core.bench"
    dut.rst.value = 1
    dut.load.value = 0
    dut.nprog.value = 0
    start_clock(dut.clk)
    results = []
    for entry in plan["programs"]:
        results.append(await _play(dut, entry))
        write_report(vc.REPORT_ENV, results)
    bad = [r["name"] for r in results if not r["finished"]]
    assert not bad, f"programs that did not finish: {bad}"
