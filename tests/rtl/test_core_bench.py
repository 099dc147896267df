"""A user's cocotb bench of rtl/core.v (accel.tb.core_bench; sim/test_core_user.py, toplevel rtl/core.v
itself, no sim/core_tb.v): one program with DMA loads, PE, ACT and VEC work and DMA stores ends with every
DRAM, SBUF and PSUM byte and every instruction's start and end cycle equal to accel.Core's; a DRAM byte
planted in the core's final image is named by the comparison (tensor and byte). Icarus only (Python wakes
every clock; Verilator adds nothing here that accel verify core does not check)."""

from __future__ import annotations

import pytest

from accel.tb import verify_core as vc
from accel.tb.modules import sources
from accel.tb.plan import run_planned
from accel.tb.runner import simulator_available

PROGRAM = """
    .tensor x bf16[4, 8] in
    .tensor w bf16[4, 4] in
    .tensor y fp32[4, 8] out
    .tensor z fp32[4, 8] out
    dma.load sb[0:4, 0]:bf16[8], x
    dma.load sb[0:4, 64]:bf16[4], w
    sem.signal dma, s0, count=2
    sem.wait pe, s0
    pe.load_weights sb[0:4, 64]:bf16[4]
    pe.matmul psum[0:4, 0]:fp32[8], sb[0:4, 0]:bf16[8]
    sem.signal pe, s1, count=2
    sem.wait act, s1
    act.identity sb[0:4, 128]:fp32[8], psum[0:4, 0]:fp32[8], scale=0.5
    sem.signal act, s2
    sem.wait vec, s1
    sem.wait vec, s2
    vec.adds sb[0:4, 256]:fp32[8], sb[0:4, 128]:fp32[8], 1.0
    vec.copy psum[0:4, 64]:fp32[8], sb[0:4, 256]:fp32[8]
    sem.signal vec, s3
    sem.wait dma, s3
    dma.store y, sb[0:4, 128]:fp32[8]
    dma.store z, sb[0:4, 256]:fp32[8]
    halt
"""
PLANT = ("z", 13)  # the DRAM byte flipped in a copy of the core's final image


@pytest.fixture(scope="module")
def report() -> dict:
    ok, why = simulator_available("icarus")
    if not ok:
        pytest.skip(f"icarus not available: {why}")
    cfg = vc.config(4)
    params = {k: v for k, v in vc.parameters(cfg).items() if k != "DRAM_BYTES"}
    run = run_planned("icarus", "core", sources("core"), "test_core_user",
                      {"program": PROGRAM, "partitions": 4, "seed": 5, "plant": list(PLANT)},
                      "ACCEL_CORE_USER_PLAN", "ACCEL_CORE_USER_REPORT", parameters=params)
    assert run.report.get("user"), run.error
    return run.report["user"]


@pytest.mark.rtl
def test_user_bench_equals_model(report):
    assert report["done"] and not report["err"], report
    assert report["mismatches"] == []
    assert report["cycles"] == report["model_cycles"] > 0
    assert report["reads"] == 8 and report["writes"] == 8  # a beat a partition for each load and store


@pytest.mark.rtl
def test_user_bench_names_planted_byte(report):
    assert len(report["planted"]) == 1, report["planted"]
    text = report["planted"][0]
    assert text.startswith("DRAM: 1 bytes differ; first: byte 13 of tensor z:"), text
    assert "last store to it:" in text and "dma.store z" in text, text
