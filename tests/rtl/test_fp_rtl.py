"""rtl/fp against accel.model.fp through sim/fp_top.v and sim/test_fp.py, on both simulators.

Icarus runs the special-class crosses and 2000 random vectors per operation; Verilator runs the
volume: 10**6 random vectors per operation, the exhaustive bf16 sets and 2**20 bf16 products.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest

from accel.tb import verify_fp as vf

RTL_FP = Path(vf.REPO) / "rtl" / "fp"
BLOCKS = sorted(p.name for p in RTL_FP.glob("*.v"))


def test_every_required_block_exists():
    required = {"fp32_add", "fp32_mul", "fp32_fma", "fp32_minmax", "fp32_cmp", "fp32_to_bf16",
                "bf16_to_fp32", "bf16_mul", "int32_to_fp32", "fp32_to_int"}
    assert required <= {Path(b).stem for b in BLOCKS}


@pytest.mark.rtl
def test_fp_blocks_match_model(sim):
    """Every operation bit for bit, every class cross hit (the bench fails otherwise)."""
    args = argparse.Namespace(op=None, sim=sim, vectors=None, seed=1)
    result = vf.run(args)
    assert result["mismatches"] == 0, {k: r["first"] for k, r in result["ops"].items()}
    assert result["empty_coverage_bins"] == 0
    minimum = {"icarus": 2_000, "verilator": 1_000_000}[sim]
    for op, r in result["ops"].items():
        assert r["vectors"] >= minimum, op
    if sim == "verilator":
        assert result["ops"]["bf16_mul"]["vectors"] >= 1 << 20
        assert result["ops"]["bf16_to_fp32"]["vectors"] >= 1 << 16
        assert result["ops"]["fp32_to_bf16"]["vectors"] >= 1 << 18


@pytest.mark.rtl
def test_bench_detects_and_locates_a_mismatch(sim, tmp_path):
    """One corrupted expected word must fail the bench with exactly one mismatch, reported at
    that vector: the comparison in fp_top.v is live."""
    index = 4000
    run = vf.run_plan(sim, vf.make_plan(["fma"], {"fma": 100}, 5, False, flip=("fma", index)))
    assert run.error and "fma: 1 mismatches" in run.error
    entry = run.report["ops"]["fma"]
    operands = vf.vectors("fma", 100, 5, False)
    assert entry["mismatches"] == 1
    assert entry["first"]["operands"] == [f"{int(x[index]):#010x}" for x in operands]


def test_coverage_reports_empty_crosses():
    """The coverage check can fail: normal operands alone leave crosses empty."""
    ones = np.full(10, 0x3F800000, dtype=np.uint32)
    counts = vf.coverage("add", [ones, ones])
    assert counts.sum() == 10
    missing = vf.empty_bins("add", counts)
    assert len(missing) == 99 and "-0 x snan" in missing and "+norm x +norm" not in missing
    for op in vf.OPS:
        operands = vf.directed(op)
        assert vf.empty_bins(op, vf.coverage(op, operands)) == [], op
