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
from pathlib import Path

import cocotb

from accel.tb import verify_core as vc
from accel.tb.plan import load_program, play_plan, run_until, value

INPUTS = ("core_prog.hex", "core_ttab.hex", "core_dram.hex")
OUTPUTS = ("core_dram_final.hex", "core_sb_final.hex", "core_ps_final.hex", "core_start.hex", "core_end.hex")


async def _play(dut, entry: dict) -> dict:
    await load_program(dut, entry, INPUTS)
    seconds = await run_until(dut, dut.finished, entry["max_cycles"], 500)
    out = {"name": entry["name"], "finished": bool(value(dut.finished)), "cycles": value(dut.cycles),
           "err": bool(value(dut.err)), "err_pc": value(dut.err_pc), "seconds": seconds}
    if out["finished"]:
        for name in OUTPUTS:
            shutil.copyfile(Path.cwd() / name, Path(entry["dir"]) / name)
    return out


@cocotb.test()
async def core_programs(dut):
    """Every program of the plan; the images and the trace are compared in accel.tb.verify_core."""
    await play_plan(dut, vc.PLAN_ENV, vc.REPORT_ENV, _play, lambda r: r["finished"], "accel.tb.verify_core.bench")
