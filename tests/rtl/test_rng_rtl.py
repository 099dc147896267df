"""rtl/rng_philox.v, rtl/rng_xoroshiro.v and rtl/simd_lane.v against accel.model through sim/rng_tb.v;
rtl/dropout_scale.v and rtl/splitmix64_seeder.v (the control path) through sim/rng_ctrl_tb.v.

Icarus runs the known answers, 2000 Philox blocks (100 more on the iterated core), 2000 xoroshiro
outputs and ~8000 lane vectors; Verilator the volume: 10**6 Philox blocks (2 * 10**4 iterated),
10**6 xoroshiro outputs and ~2 * 10**5 lane vectors. Control path: ~2,900 p and 25 seeds on Icarus,
~114,000 p and 1,005 seeds (128 lanes each) on Verilator.
"""

from __future__ import annotations

import argparse

import pytest

from accel.tb import verify_rng as vr
from accel.tb import verify_rngctrl as vc
from accel.tb import verify_simd as vs


@pytest.mark.rtl
def test_rng_streams_match_model(sim):
    """Known answers, Philox blocks and xoroshiro outputs and states, bit for bit."""
    r = vr.run(argparse.Namespace(sim=sim, vectors=None, seed=1))
    assert r["mismatches"] == 0, r
    minimum = {"icarus": 2_000, "verilator": 1_000_000}[sim]
    assert r["philox_blocks"] >= minimum and r["xoroshiro_outputs"] >= minimum
    assert r["philox_iter_blocks"] >= minimum // 50


@pytest.mark.rtl
def test_simd_lane_matches_model(sim):
    """Lane fp ops on specials, dropout over the p sweep, uniform floats."""
    r = vs.run(argparse.Namespace(sim=sim, vectors=None, seed=1))
    assert r["mismatches"] == 0, r["first"]
    assert r["vectors"] >= {"icarus": 5_000, "verilator": 150_000}[sim]
    assert min(r["ops"].values()) > 500


@pytest.mark.rtl
@pytest.mark.parametrize("part, testcase", [("philox", "rng_streams"), ("philox_iter", "rng_streams"),
                                            ("xoroshiro", "rng_streams"), ("lane", "simd_lane")])
def test_bench_detects_a_mismatch(sim, part, testcase):
    """One corrupted expected word fails the bench with exactly one mismatch: the comparison is live."""
    plan = {"philox": 500, "philox_iter": 400, "xoroshiro": 500, "lane": 1000, "seed": 3, "flip": [part, 321]}
    report, _, error = vr.bench(sim, plan, testcase)
    assert error is not None  # the bench failed, after writing its report
    entry = report[part]
    assert entry["mismatches"] == 1
    assert entry["first"]["first_index"] == (321 - 2 * 125 if part == "xoroshiro" else 321)  # 4 lanes of 125


@pytest.mark.rtl
def test_rng_control_path_matches_model(sim):
    """dropout_scale on directed, boundary, random and out-of-range p; splitmix64_seeder on every lane of
    the fixed and random seeds; both at their documented latencies."""
    r = vc.run(argparse.Namespace(sim=sim, vectors=None, seed=1))
    assert r["mismatches"] == 0 and r["error"] is None, (r["error"], r["scale"]["first"], r["seeder"]["first"])
    minimum = vc.DEFAULT_VECTORS[sim]
    assert r["scale"]["random"] >= minimum and r["scale_vectors"] >= minimum + 600
    assert r["scale"]["closest_ulp"] < 1e-6  # the boundary cases do come close to a rounding midpoint
    assert r["seeds"] >= minimum // 100 and r["lanes_checked"] == r["seeds"] * vc.LANES
    assert r["seeder_small"]["vectors"] == r["seeds"] * vc.SMALL_LANES


@pytest.mark.rtl
@pytest.mark.parametrize("flips, testcase", [({"scale": 700}, "dropout_scale"),
                                             ({"seeder": 700, "seeder_small": 40}, "splitmix64_seeder")])
def test_rng_control_bench_detects_a_mismatch(sim, flips, testcase):
    """One corrupted expected word per part fails the control-path bench with exactly one mismatch there
    (the 128-lane and the 5-lane seeder in one run)."""
    plan = {"scale_random": 300, "boundary": 16, "seeds": 8, "seed": 3, "flip": [[k, v] for k, v in flips.items()]}
    entries, _, error = vc.bench(sim, plan, testcase)
    assert error is not None  # the bench failed, after writing its report
    for part, index in flips.items():
        assert entries[part]["mismatches"] == 1
        assert entries[part]["first"]["first_index"] == index
