"""cocotb bench: rtl/dropout_scale.v and rtl/splitmix64_seeder.v against accel.model.rng through
sim/rng_ctrl_tb.v.

The plan comes from ACCEL_RNGCTRL_PLAN (JSON: scale_random, boundary, seeds, seed, optional flip =
[[part, index], ...] corrupting expected words for the bench's self-test), written by
accel.tb.verify_rngctrl; without it a small smoke plan runs. Expected words go to $readmemh files in
the working folder and rng_ctrl_tb.v compares them in bulk, back to back. A JSON report goes to
ACCEL_RNGCTRL_REPORT when set.
"""

from __future__ import annotations

import time
from pathlib import Path

import cocotb
import numpy as np
from cocotb.triggers import FallingEdge, RisingEdge

from accel.tb import verify_rngctrl as vc
from accel.tb.clock import start_clock
from accel.tb.memfile import write_fields
from accel.tb.plan import plan_from_env, report_part

TOPLEVEL = "rng_ctrl_tb"
SMOKE = {"scale_random": 200, "boundary": 16, "seeds": 4, "seed": 1}
MODE_SCALE, MODE_SEEDER, MODE_SEEDER_SMALL = 0, 1, 2


def _plan() -> dict:
    return plan_from_env("ACCEL_RNGCTRL_PLAN", SMOKE)


def _report(part: str, entry: dict) -> None:
    report_part("ACCEL_RNGCTRL_REPORT", part, entry)


def _flip(plan: dict, part: str, col: np.ndarray, lo: int) -> None:
    """Corrupt the lowest bit of expected word `index` of `part` for every [part, index] in plan["flip"]
    (self-test)."""
    for name, index in plan.get("flip", []):
        if name == part and lo <= index < lo + col.size:
            col[index - lo] ^= col.dtype.type(1)


async def _run(dut, mode: int, count: int) -> dict:
    await FallingEdge(dut.clk)
    dut.mode.value = mode
    dut.count.value = count
    dut.start.value = 1
    await FallingEdge(dut.clk)
    dut.start.value = 0
    await RisingEdge(dut.done)
    await FallingEdge(dut.clk)
    out = {name: int(getattr(dut, name).value.to_unsigned())
           for name in ("checked", "mismatches", "lat_min", "lat_max", "fv_min", "fv_max")}
    if out["mismatches"]:
        out["first_index"] = int(dut.first_bad_index.value.to_unsigned())
        out["first_got"] = f"{int(dut.first_bad_got.value.to_unsigned()):#x}"
    return out


def _entry() -> dict:
    return {"vectors": 0, "mismatches": 0, "seconds": 0.0, "first": None}


def _add(entry: dict, r: dict, n: int, lo: int, seconds: float, failures: list[str], part: str) -> None:
    if r["checked"] != n:
        failures.append(f"{part}: checked {r['checked']} of {n}")
    entry["vectors"] += r["checked"]
    entry["mismatches"] += r["mismatches"]
    entry["seconds"] += seconds
    if r["mismatches"] and entry["first"] is None:
        index = r["first_index"]
        entry["first"] = {"first_index": index if index >> 31 else lo + index, "first_got": r["first_got"]}


def _minmax(entry: dict, key: str, lo: int, hi: int) -> None:
    old = entry.get(key, [lo, hi])
    entry[key] = [min(old[0], lo), max(old[1], hi)]


async def _setup(dut) -> int:
    dut.start.value = 0
    dut.mode.value = 0
    dut.count.value = 0
    start_clock(dut.clk)
    await FallingEdge(dut.clk)
    return 1 << (len(dut.count) - 1)


@cocotb.test()
async def dropout_scale(dut):
    """The scale of every directed, boundary, random and out-of-range p, bit for bit, back to back."""
    plan = _plan()
    depth = await _setup(dut)
    here = Path.cwd()
    failures: list[str] = []
    inputs = vc.scale_inputs(plan["scale_random"], plan["seed"], plan["boundary"])
    ps = inputs.pop("p")
    want = np.array([vc.expected_scale(int(p)) for p in ps], np.uint32)
    entry = _entry()
    for lo in range(0, ps.size, depth):
        k = min(depth, ps.size - lo)
        col = want[lo:lo + k].copy()
        _flip(plan, "scale", col, lo)
        write_fields(here / "rngctrl_exp.hex", [ps[lo:lo + k], col], [8, 8])
        t0 = time.perf_counter()
        r = await _run(dut, MODE_SCALE, k)
        _add(entry, r, k, lo, time.perf_counter() - t0, failures, "scale")
        _minmax(entry, "latency", r["lat_min"], r["lat_max"])
        if r["mismatches"] and "p" not in entry["first"]:
            i = entry["first"]["first_index"]
            entry["first"].update({"p": f"{int(ps[i]):#010x}", "want": f"{int(want[i]):#010x}"})
    entry.update(inputs)
    _report("scale", entry)
    assert not failures, failures
    assert not entry["mismatches"], entry["first"]


@cocotb.test()
async def splitmix64_seeder(dut):
    """All lanes of the fixed and random seeds, in lane order, one `valid` per lane, then `done`, on the
    128-lane instance and on the 5-lane one."""
    plan = _plan()
    depth = await _setup(dut)
    here = Path.cwd()
    failures: list[str] = []
    seed_list = vc.seeds(plan["seeds"], plan["seed"])
    bad = {}
    for part, mode, lanes in (("seeder", MODE_SEEDER, vc.LANES), ("seeder_small", MODE_SEEDER_SMALL, vc.SMALL_LANES)):
        rows = vc.seeder_expected(seed_list, lanes)
        per = max(depth // lanes, 1)
        entry = _entry()
        for lo in range(0, len(seed_list), per):
            chunk = seed_list[lo:lo + per]
            block = rows[lo * lanes:(lo + len(chunk)) * lanes]
            s1 = block[:, 2].copy()
            _flip(plan, part, s1, lo * lanes)
            write_fields(here / "rngctrl_seed.hex", [np.array(chunk, np.uint64)], [16])
            write_fields(here / "rngctrl_exp.hex", [block[:, 0], block[:, 1], s1], [4, 16, 16])
            t0 = time.perf_counter()
            r = await _run(dut, mode, len(chunk))
            _add(entry, r, len(chunk) * lanes, lo * lanes, time.perf_counter() - t0, failures, part)
            _minmax(entry, "clocks", r["lat_min"], r["lat_max"])
            _minmax(entry, "first_valid", r["fv_min"], r["fv_max"])
        entry["seeds"] = len(seed_list)
        entry["lanes"] = lanes
        _report(part, entry)
        if entry["mismatches"]:
            bad[part] = entry["first"]
    assert not failures, failures
    assert not bad, bad
