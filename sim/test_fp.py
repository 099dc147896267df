"""cocotb bench: every rtl/fp block against accel.model.fp through sim/fp_top.v.

What to run comes from ACCEL_FP_PLAN (JSON: ops, random counts, seed, exhaustive), written by
accel.tb.verify_fp.plan_env; without it, a small smoke plan runs. Vectors and expected results
go to $readmemh files in the working folder; fp_top.v checks one vector per clock and counts
mismatches, and Python wakes only when a load is done. Operand-class crosses hit are recorded
per operation; an empty cross fails the test, as does any mismatch. A JSON report goes to
ACCEL_FP_REPORT when set.
"""

from __future__ import annotations

import time
from pathlib import Path

import cocotb
import numpy as np
from cocotb.triggers import FallingEdge, RisingEdge

from accel.tb import verify_fp as vf
from accel.tb.clock import start_clock
from accel.tb.memfile import write_memh
from accel.tb.plan import plan_from_env, write_report

TOPLEVEL = "fp_top"
SMOKE_PLAN = {"ops": list(vf.OPS), "random": dict.fromkeys(vf.OPS, 200), "seed": 1, "exhaustive": False}


async def _run_load(dut, op: str, operands: list[np.ndarray], flip: int | None) -> dict:
    """Load one chunk of vectors into fp_top, run it, and return counts and first mismatch;
    `flip` corrupts the expected word of that vector (the bench's self-test)."""
    want = vf.write_vector_files(Path.cwd(), op, operands)
    if flip is not None:
        want[flip] ^= np.uint32(1)
        write_memh(Path.cwd() / "fp_y.hex", want, 32)
    await FallingEdge(dut.clk)
    dut.op.value = vf.OPS[op].code
    dut.count.value = int(want.size)
    dut.start.value = 1
    await FallingEdge(dut.clk)
    dut.start.value = 0
    await RisingEdge(dut.done)
    await FallingEdge(dut.clk)
    result = {
        "checked": int(dut.checked.value.to_unsigned()),
        "mismatches": int(dut.mismatches.value.to_unsigned()),
    }
    if result["mismatches"]:
        index = int(dut.first_bad_index.value.to_unsigned())
        result["first"] = {
            "operands": [f"{int(x[index]):#010x}" for x in operands],
            "got": f"{int(dut.first_bad_got.value.to_unsigned()):#010x}",
            "want": f"{int(want[index]):#010x}",
        }
    return result


@cocotb.test()
async def fp_blocks_match_model(dut):
    """Directed crosses, exhaustive bf16 sets and random volume, op by op, bit for bit."""
    plan = plan_from_env(vf.PLAN_ENV, SMOKE_PLAN)
    depth = 1 << (len(dut.count) - 1)
    dut.start.value = 0
    dut.op.value = 0
    dut.count.value = 0
    start_clock(dut.clk)

    report = {"ops": {}}
    failures = []
    for op in plan["ops"]:
        operands = vf.vectors(op, plan["random"][op], plan["seed"], plan["exhaustive"])
        hits = vf.coverage(op, operands)
        entry = {"vectors": 0, "mismatches": 0, "seconds": 0.0, "first": None}
        flip_index = plan["flip"][1] if plan.get("flip") and plan["flip"][0] == op else None
        for offset, chunk in zip(range(0, operands[0].size, depth), vf.chunks(operands, depth), strict=True):
            flip = None
            if flip_index is not None and offset <= flip_index < offset + chunk[0].size:
                flip = flip_index - offset
            start = time.perf_counter()
            result = await _run_load(dut, op, chunk, flip)
            entry["seconds"] += time.perf_counter() - start
            if result["checked"] != chunk[0].size:
                failures.append(f"{op}: checked {result['checked']} of {chunk[0].size}")
            entry["vectors"] += result["checked"]
            entry["mismatches"] += result["mismatches"]
            if result["mismatches"] and entry["first"] is None:
                entry["first"] = result["first"]
        entry["empty_bins"] = vf.empty_bins(op, hits)
        entry["bins"] = int(hits.size)
        entry["vectors_per_s"] = round(entry["vectors"] / max(entry["seconds"], 1e-9))
        report["ops"][op] = entry
        dut._log.info(
            "%-14s %8d vectors %5d mismatches %4d/%d class crosses hit %9d vectors/s",
            op,
            entry["vectors"],
            entry["mismatches"],
            hits.size - len(entry["empty_bins"]),
            hits.size,
            entry["vectors_per_s"],
        )
        if entry["mismatches"]:
            failures.append(f"{op}: {entry['mismatches']} mismatches, first {entry['first']}")
        if entry["empty_bins"]:
            failures.append(f"{op}: class crosses never hit: {entry['empty_bins'][:10]}")

    write_report(vf.REPORT_ENV, report)
    assert not failures, "\n".join(failures)
