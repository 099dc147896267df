"""cocotb bench: rtl/act_func.v against accel.model.lut.apply through sim/act_func_top.v.

The plan (accel.tb.verify_act.write_plan, named by ACCEL_ACT_PLAN) lists chunks: a function, an
argument set, scale, bias, result type, the image to load (first chunk of a function) and a file of
arguments and expected words. Each chunk's words go to $readmemh files in the working folder;
act_func_top.v loads the image through the unit's write port and checks every argument, and
Python wakes only when the chunk is done. Any mismatch fails the test; a JSON report (per
function: vectors, mismatches, simulated seconds, first mismatch, vectors per set, bad_image)
goes to ACCEL_ACT_REPORT.
"""

from __future__ import annotations

import time
from pathlib import Path

import cocotb
import numpy as np
from cocotb.triggers import FallingEdge, RisingEdge

from accel.tb import verify_act as vl
from accel.tb.clock import start_clock
from accel.tb.memfile import write_memh
from accel.tb.plan import write_report

TOPLEVEL = "act_func_top"


@cocotb.test()
async def act_func_matches_model(dut):
    """Every planned chunk, bit for bit."""
    plan = vl.plan_from_env()
    dut.start.value = 0
    dut.nwords.value = 0
    dut.count.value = 0
    dut.scale.value = vl.ONE
    dut.bias.value = vl.NEG_ZERO
    dut.bf16.value = 0
    start_clock(dut.clk)
    report, failures = {}, []
    for chunk in plan["chunks"]:
        name = chunk["fn"]
        entry = report.setdefault(name, {"vectors": 0, "mismatches": 0, "seconds": 0.0, "first": None, "sets": {},
                                         "bad_image": None})
        nwords = 0
        if chunk["image"]:
            image = np.load(chunk["image"])
            write_memh(Path.cwd() / "act_img.hex", image.astype(np.uint32), 32)
            nwords = int(image.size)
        x = y = np.zeros(0, dtype=np.uint32)
        if chunk["file"]:
            data = np.load(chunk["file"])
            x, y = data["x"], data["y"]
            write_memh(Path.cwd() / "act_x.hex", x.astype(np.uint32), 32)
            write_memh(Path.cwd() / "act_y.hex", y.astype(np.uint32), 32)
        start = time.perf_counter()
        await FallingEdge(dut.clk)
        dut.nwords.value = nwords
        dut.count.value = int(x.size)
        dut.scale.value = chunk["scale"]
        dut.bias.value = chunk["bias"]
        dut.bf16.value = int(chunk["bf16"])
        dut.start.value = 1
        await FallingEdge(dut.clk)
        dut.start.value = 0
        await RisingEdge(dut.done)
        await FallingEdge(dut.clk)
        entry["seconds"] += time.perf_counter() - start
        entry["bad_image"] = int(dut.bad_image.value)
        checked = int(dut.checked.value.to_unsigned())
        bad = int(dut.mismatches.value.to_unsigned())
        if checked != x.size:
            failures.append(f"{name}: checked {checked} of {x.size}")
        if bad and entry["first"] is None:
            i = int(dut.first_bad_index.value.to_unsigned())
            entry["first"] = {"index": entry["vectors"] + i, "set": chunk["set"], "x": f"{int(x[i]):#010x}",
                              "scale": f"{chunk['scale']:#010x}", "bias": f"{chunk['bias']:#010x}",
                              "bf16": chunk["bf16"], "want": f"{int(y[i]):#010x}",
                              "got": f"{int(dut.first_bad_got.value.to_unsigned()):#010x}"}
        entry["vectors"] += checked
        entry["mismatches"] += bad
        entry["sets"][chunk["set"]] = entry["sets"].get(chunk["set"], 0) + checked
    for name, entry in report.items():
        entry["vectors_per_s"] = round(entry["vectors"] / max(entry["seconds"], 1e-9))
        dut._log.info("%-10s %8d vectors %5d mismatches %8d vectors/s", name, entry["vectors"], entry["mismatches"],
                      entry["vectors_per_s"])
        if entry["mismatches"]:
            failures.append(f"{name}: {entry['mismatches']} mismatches, first {entry['first']}")
    write_report(vl.REPORT_ENV, report)
    assert not failures, "\n".join(failures)
