"""cocotb bench: rtl/rng_philox.v, rtl/rng_xoroshiro.v and rtl/simd_lane.v against accel.model through
sim/rng_tb.v.

The plan comes from ACCEL_RNG_PLAN (JSON: philox, xoroshiro and lane counts, seed, optional flip =
[part, index] corrupting one expected word for the bench's self-test), written by accel.tb.verify_rng;
without it a small smoke plan runs. Expected words go to $readmemh files in the working folder and
rng_tb.v compares them in bulk. A JSON report goes to ACCEL_RNG_REPORT when set.
"""

from __future__ import annotations

import time
from pathlib import Path

import cocotb
import numpy as np
from cocotb.triggers import FallingEdge, RisingEdge

from accel.model import rng
from accel.tb import verify_rng as vr
from accel.tb.clock import start_clock
from accel.tb.memfile import write_fields
from accel.tb.plan import plan_from_env, report_part

TOPLEVEL = "rng_tb"
SMOKE = {"philox": 300, "philox_iter": 100, "xoroshiro": 300, "lane": 2000, "seed": 1}


def _plan() -> dict:
    return plan_from_env("ACCEL_RNG_PLAN", SMOKE)


def _report(part: str, entry: dict) -> None:
    report_part("ACCEL_RNG_REPORT", part, entry)


def _flip(plan: dict, part: str, want_cols: list[np.ndarray], lo: int, n: int) -> None:
    """Corrupt the lowest column of the expected word plan["flip"][1] (self-test)."""
    flip = plan.get("flip")
    if flip and flip[0] == part and lo <= flip[1] < lo + n:
        want_cols[-1][flip[1] - lo] ^= np.uint32(1)


async def _setup(dut) -> None:
    for name in ("start", "mode", "count", "key", "offset", "base", "state_in"):
        getattr(dut, name).value = 0
    dut.rst.value = 1
    start_clock(dut.clk)
    await FallingEdge(dut.clk)
    await FallingEdge(dut.clk)
    dut.rst.value = 0


async def _run(dut, mode: int, count: int, **inputs: int) -> dict:
    await FallingEdge(dut.clk)
    dut.mode.value = mode
    dut.count.value = count
    for name, v in inputs.items():
        getattr(dut, name).value = v
    dut.start.value = 1
    await FallingEdge(dut.clk)
    dut.start.value = 0
    await RisingEdge(dut.done)
    await FallingEdge(dut.clk)
    out = {"checked": int(dut.checked.value.to_unsigned()), "mismatches": int(dut.mismatches.value.to_unsigned())}
    if out["mismatches"]:
        out["first_index"] = int(dut.first_bad_index.value.to_unsigned())
        out["first_got"] = f"{int(dut.first_bad_got.value.to_unsigned()):#x}"
    return out


def _entry() -> dict:
    return {"vectors": 0, "mismatches": 0, "seconds": 0.0, "first": None}


def _add(entry: dict, result: dict, n: int, seconds: float, failures: list[str], part: str) -> None:
    if result["checked"] != n:
        failures.append(f"{part}: checked {result['checked']} of {n}")
    entry["vectors"] += result["checked"]
    entry["mismatches"] += result["mismatches"]
    entry["seconds"] += seconds
    if result["mismatches"] and entry["first"] is None:
        entry["first"] = {k: result[k] for k in ("first_index", "first_got")}


@cocotb.test()
async def rng_streams(dut):
    """Random123 known answers, then Philox blocks (pipelined and iterated cores) and xoroshiro128aox
    outputs and states, bit for bit."""
    plan = _plan()
    depth = 1 << (len(dut.count) - 1)
    await _setup(dut)
    here = Path.cwd()
    failures: list[str] = []

    kat = _entry()
    for ctr, key, out in vr.KAT:
        write_fields(here / "rng_exp.hex", [np.array([w]) for w in out[::-1]], [8] * 4)
        t0 = time.perf_counter()
        r = await _run(dut, vr.MODE_PHILOX, 1, key=key[1] << 32 | key[0], offset=ctr[3] << 32 | ctr[2],
                       base=ctr[1] << 32 | ctr[0])
        _add(kat, r, 1, time.perf_counter() - t0, failures, "kat")
    _report("kat", kat)

    philox = _entry()
    n = plan["philox"]
    cfg = vr.philox_plan(n, plan["seed"])
    for lo in range(0, n, depth):
        k = min(depth, n - lo)
        want = vr.philox_expected(cfg["key"], cfg["offset"], cfg["base"] + lo, k)
        cols = [want[:, 3].copy(), want[:, 2].copy(), want[:, 1].copy(), want[:, 0].copy()]
        _flip(plan, "philox", cols, lo, k)
        write_fields(here / "rng_exp.hex", cols, [8] * 4)
        t0 = time.perf_counter()
        r = await _run(dut, vr.MODE_PHILOX, k, key=cfg["key"], offset=cfg["offset"], base=cfg["base"] + lo)
        _add(philox, r, k, time.perf_counter() - t0, failures, "philox")
    philox.update(cfg)
    _report("philox", philox)

    iterated = _entry()
    n = plan.get("philox_iter", 0)
    cfg = vr.philox_plan(n, plan["seed"] + 1)
    for lo in range(0, n, depth):
        k = min(depth, n - lo)
        want = vr.philox_expected(cfg["key"], cfg["offset"], cfg["base"] + lo, k)
        cols = [want[:, 3].copy(), want[:, 2].copy(), want[:, 1].copy(), want[:, 0].copy()]
        _flip(plan, "philox_iter", cols, lo, k)
        write_fields(here / "rng_exp.hex", cols, [8] * 4)
        t0 = time.perf_counter()
        r = await _run(dut, vr.MODE_PHILOX_ITER, k, key=cfg["key"], offset=cfg["offset"], base=cfg["base"] + lo)
        _add(iterated, r, k, time.perf_counter() - t0, failures, "philox_iter")
    _report("philox_iter", iterated)

    xoro = _entry()
    xoro["state_mismatches"] = 0
    n = plan["xoroshiro"]
    lanes = max(vr.XORO_LANES, -(-n // depth))
    per_lane = -(-n // lanes)
    start_states = vr.xoro_states(plan["seed"], lanes)
    end_states = start_states.copy()
    outputs = rng.xoroshiro_outputs(end_states, per_lane)  # all lanes at once, advancing end_states
    lo = 0
    for lane in range(lanes):
        k = min(per_lane, n - lo)
        if k <= 0:
            break
        want = outputs[lane, :k]
        cols = [(want >> np.uint64(32)).astype(np.uint32), (want & np.uint64(0xFFFFFFFF)).astype(np.uint32)]
        _flip(plan, "xoroshiro", cols, lo, k)
        write_fields(here / "rng_exp.hex", cols, [8, 8])
        s0, s1 = int(start_states[lane, 0]), int(start_states[lane, 1])
        t0 = time.perf_counter()
        r = await _run(dut, vr.MODE_XORO, k, state_in=s1 << 64 | s0)
        _add(xoro, r, k, time.perf_counter() - t0, failures, "xoroshiro")
        if k == per_lane:  # the state read back after the lane's outputs, as vec.rng_save_state would
            got = int(dut.xo_state.value.to_unsigned())
            if got != (int(end_states[lane, 1]) << 64 | int(end_states[lane, 0])):
                xoro["state_mismatches"] += 1
        lo += k
    _report("xoroshiro", xoro)
    bad = {k: v for k, v in {"kat": kat, "philox": philox, "philox_iter": iterated, "xoroshiro": xoro}.items()
           if v["mismatches"] or v.get("state_mismatches")}
    assert not failures, failures
    assert not bad, bad


@cocotb.test()
async def simd_lane(dut):
    """Lane ops on specials, random operands and mixed element types, casts, dropout over the p sweep, fill."""
    plan = _plan()
    depth = 1 << (len(dut.count) - 1)
    await _setup(dut)
    here = Path.cwd()
    failures: list[str] = []
    v = vr.lane_vectors(plan["lane"], plan["seed"])
    entry = _entry()
    for lo in range(0, v["op"].size, depth):
        sl = slice(lo, lo + depth)
        k = v["op"][sl].size
        write_fields(here / "rng_stim.hex", [v["scale"][sl], v["word"][sl], v["b"][sl], v["a"][sl]], [8] * 4)
        write_fields(here / "rng_op.hex", [v["op"][sl]], [3])
        cols = [v["keep"][sl].copy(), v["y"][sl].copy()]
        _flip(plan, "lane", cols, lo, k)
        write_fields(here / "rng_exp.hex", cols, [1, 8])
        t0 = time.perf_counter()
        r = await _run(dut, vr.MODE_LANE, k)
        _add(entry, r, k, time.perf_counter() - t0, failures, "lane")
        if r["mismatches"] and entry["first"] and "op" not in entry["first"]:
            i = lo + r["first_index"]
            entry["first"].update({key: f"{int(v[key][i]):#x}" for key in ("op", "a", "b", "word", "scale", "y")})
    entry["ops"] = {name: int(np.count_nonzero(v["op"] & 7 == code)) for name, code in vr.OP_CODES.items()}
    _report("lane", entry)
    assert not failures, failures
    assert not entry["mismatches"], entry["first"]
