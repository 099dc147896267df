"""cocotb bench: rtl/lut_unit.v against accel.model.lut.evaluate through sim/lut_top.v.

The plan (tables, random count, sample, seed) comes from ACCEL_LUT_PLAN (accel.tb.verify_act);
image, arguments and expected results go to $readmemh files in the working folder, lut_top.v
loads the image into the unit through its write port and checks every argument, and Python wakes
only when a table is done. Any mismatch fails the test; a JSON report goes to ACCEL_LUT_REPORT.
"""

from __future__ import annotations

import time
from pathlib import Path

import cocotb
import numpy as np
from cocotb.triggers import FallingEdge, RisingEdge

from accel.model import lut
from accel.tb import verify_act as vl
from accel.tb.clock import start_clock
from accel.tb.memfile import write_memh
from accel.tb.plan import write_report

TOPLEVEL = "lut_top"


@cocotb.test()
async def lut_unit_matches_model(dut):
    """Every planned table, bit for bit."""
    plan = vl.engine_plan_from_env()
    depth = 1 << (len(dut.count) - 1)
    dut.start.value = 0
    dut.nwords.value = 0
    dut.count.value = 0
    start_clock(dut.clk)
    funcs = vl.tables()
    report, failures = {}, []
    for k, name in enumerate(plan["tables"]):
        f = funcs[name]
        t = f.tables[0]
        image = f.image()
        x = vl.arguments(t, plan["random"], plan["sample"], plan["seed"] + k)
        with np.errstate(all="ignore"):
            want = lut.evaluate(t, x)
        if plan.get("flip") and plan["flip"][0] == name:
            want[plan["flip"][1]] ^= np.uint32(1)
        entry = {"vectors": 0, "mismatches": 0, "seconds": 0.0, "first": None, "words": int(image.size)}
        write_memh(Path.cwd() / "lut_img.hex", np.asarray(image, dtype=np.uint32), 32)
        for off in range(0, x.size, depth):
            cx, cw = x[off:off + depth], want[off:off + depth]
            write_memh(Path.cwd() / "lut_x.hex", np.asarray(cx, dtype=np.uint32), 32)
            write_memh(Path.cwd() / "lut_y.hex", np.asarray(cw, dtype=np.uint32), 32)
            start = time.perf_counter()
            await FallingEdge(dut.clk)
            dut.nwords.value = int(image.size)
            dut.count.value = int(cx.size)
            dut.start.value = 1
            await FallingEdge(dut.clk)
            dut.start.value = 0
            await RisingEdge(dut.done)
            await FallingEdge(dut.clk)
            entry["seconds"] += time.perf_counter() - start
            checked = int(dut.checked.value.to_unsigned())
            bad = int(dut.mismatches.value.to_unsigned())
            if checked != cx.size:
                failures.append(f"{name}: checked {checked} of {cx.size}")
            if bad and entry["first"] is None:
                i = int(dut.first_bad_index.value.to_unsigned())
                entry["first"] = {"index": off + i, "x": f"{int(cx[i]):#010x}", "want": f"{int(cw[i]):#010x}",
                                  "got": f"{int(dut.first_bad_got.value.to_unsigned()):#010x}"}
            entry["vectors"] += checked
            entry["mismatches"] += bad
        entry["vectors_per_s"] = round(entry["vectors"] / max(entry["seconds"], 1e-9))
        report[name] = entry
        dut._log.info("%-10s %7d vectors %5d mismatches %8d vectors/s", name, entry["vectors"],
                      entry["mismatches"], entry["vectors_per_s"])
        if entry["mismatches"]:
            failures.append(f"{name}: {entry['mismatches']} mismatches, first {entry['first']}")
    write_report(vl.ENGINE_REPORT_ENV, report)
    assert not failures, "\n".join(failures)
