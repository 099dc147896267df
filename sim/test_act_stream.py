"""cocotb bench: rtl/act_func.v itself (no wrapper), driven and checked with accel.tb's stream kit.

A valid-only StreamDriver loads each function's table image through the write port (we, waddr,
wdata) and streams random (x, scale, bias, bf16) elements with random idle clocks between them;
a StreamMonitor pairs every result with its element by the unit's fixed latency (22 clocks) and
hands the pair to a Scoreboard whose model is accel.tb.reference("act_func"). The second test
plants one wrong expected word and checks that exactly it is reported, with fp32 numbers. The
number of elements per function comes from ACCEL_ACT_STREAM_N (default 32).
"""

from __future__ import annotations

import os

import cocotb
import numpy as np

from accel.model import lut
from accel.tb import Scoreboard, StreamDriver, StreamMonitor, reference, start_clock

TOPLEVEL = "act_func"
LATENCY = 22
FUNCTIONS = ("exp", "sin", "log")
ONE, NEG_ZERO = 0x3F800000, 0x80000000


def _elements(rng: np.random.Generator, n: int) -> list[dict[str, int]]:
    """Random fp32 arguments; half with scale 1 and bias -0 (y = f(x)), half with random affine
    steps; results fp32 or bf16 at random."""
    x = rng.integers(0, 2**32, n, dtype=np.uint32)
    scale = np.where(rng.random(n) < 0.5, ONE, rng.integers(0x3E000000, 0x40800000, n)).astype(np.uint32)
    bias = np.where(scale == ONE, NEG_ZERO, rng.integers(0, 2**32, n, dtype=np.uint32) & 0xC07FFFFF)
    bf16 = rng.integers(0, 2, n)
    return [{"x": int(a), "scale": int(s), "bias": int(b), "bf16": int(f)}
            for a, s, b, f in zip(x, scale, bias, bf16, strict=True)]


async def _stream(dut, name: str, elements: list[dict[str, int]], sb: Scoreboard,
                  gaps: list[int]) -> None:
    """Load `name`'s image, stream the elements, wait for every result."""
    load = StreamDriver(dut.clk, dut.we, {"waddr": dut.waddr, "wdata": dut.wdata})
    for addr, word in enumerate(lut.builtin(name).image()):
        load.append({"waddr": addr, "wdata": int(word)})
    await load.idle()
    load.stop()
    ports = {k: getattr(dut, k) for k in ("x", "scale", "bias", "bf16")}
    mon = StreamMonitor(dut.clk, inputs=(ports, dut.in_valid), outputs=({"y": dut.y}, dut.out_valid),
                        scoreboard=sb, latency=LATENCY)
    drv = StreamDriver(dut.clk, dut.in_valid, ports, gaps=gaps)
    for e in elements:
        drv.append(e)
    await drv.idle()
    await mon.drain(timeout_cycles=4 * LATENCY)
    mon.stop()
    drv.stop()


def _model(name: str, flip: int | None = None):
    ref = reference("act_func")
    seen = [0]

    def model(e: dict[str, int]) -> dict[str, int]:
        out = ref(**e, function=name)
        if seen[0] == flip:
            out["y"] ^= 1
        seen[0] += 1
        return out
    return model


@cocotb.test()
async def act_func_streams_match_model(dut):
    """Every function: random elements with random gaps, each result matched by latency."""
    n = int(os.environ.get("ACCEL_ACT_STREAM_N", "32"))
    start_clock(dut.clk)
    rng = np.random.default_rng(11)
    for name in FUNCTIONS:
        sb = Scoreboard(_model(name), name=name, formats={"x": "fp32", "scale": "fp32", "bias": "fp32"})
        await _stream(dut, name, _elements(rng, n), sb, rng.integers(0, 3, n).tolist())
        assert sb.checked == n, f"{name}: {sb.checked} of {n} results seen"
        sb.finish()
        dut._log.info("%-5s %d elements, 0 mismatches", name, n)


@cocotb.test()
async def a_planted_mismatch_is_reported(dut):
    """One corrupted expected word: exactly one mismatch, shown as fp32 numbers next to the bits."""
    start_clock(dut.clk)
    rng = np.random.default_rng(5)
    elements = [dict(e, bf16=0, scale=ONE, bias=NEG_ZERO) for e in _elements(rng, 12)]
    sb = Scoreboard(_model("exp", flip=7), name="exp", formats={"x": "fp32", "y": "fp32"})
    await _stream(dut, "exp", elements, sb, [0] * 12)
    assert (sb.matches, sb.mismatches) == (11, 1), sb.report()
    report = sb.report()
    assert "exp: 1 of 12 mismatched" in report and "y: got " in report and " (0x" in report, report
