"""rtl/vec_engine.v plays VEC programs against accel.machine.Core through sim/vec_engine_tb.v.

8 lanes: the directed cases that fit 8 partitions (5 of 24) and random programs, one of 200
instructions on Icarus, two of 400 on Verilator. Every run compares the whole final SBUF/PSUM
image byte for byte. The default 128 lanes (every directed case fits, plus a random program) run on
Verilator only: about 150 s on a cold cache, most of it the build (docs/vec.md).
"""

from __future__ import annotations

import pytest

from accel.tb import verify_vec as vv

SMALL = {"icarus": (8, 1, 200), "verilator": (8, 2, 400)}  # lanes, random programs, instructions each


def _check(results: list[dict], programs: list[dict]) -> None:
    assert len(results) == len(programs)
    for r in results:
        assert r["done"], r
        assert r["mismatches"] == 0 and r["python_mismatches"] == 0, r.get("first", r)


@pytest.mark.rtl
def test_vec_programs_match_model(sim):
    """Directed cases that fit and random programs over every VEC opcode, final images equal."""
    lanes, n, length = SMALL[sim]
    programs, _ = vv.plan_programs(lanes, n, length, seed=11)
    assert {i.mnemonic for p in programs for i in p["instrs"]} == set(vv.VEC_OPS)
    results, _ = vv.bench(sim, lanes, programs)
    _check(results, programs)


@pytest.mark.rtl
def test_vec_engine_128_lanes(sim):
    """The default geometry on Verilator: every directed case fits and matches, plus a random program."""
    if sim != "verilator":
        pytest.skip("128 lanes run on Verilator only (Icarus would take many minutes)")
    programs, skipped = vv.plan_programs(128, 1, 300, seed=12)
    assert not skipped
    results, _ = vv.bench("verilator", 128, programs)
    _check(results, programs)


@pytest.mark.rtl
def test_bench_detects_a_mismatch(sim):
    """One corrupted expected byte fails the comparison with exactly that byte and a named instruction."""
    lanes = SMALL[sim][0]
    programs, _ = vv.plan_programs(lanes, 1, 20, seed=13, directed=False)
    byte = 3 * (vv.SB_BYTES + vv.PS_BYTES) + 101
    results, _ = vv.bench(sim, lanes, programs, flip=(0, byte))
    r = results[0]
    assert r["done"] and r["mismatches"] == 1 and r["python_mismatches"] == 1, r
    assert r["first_byte"] == byte
    assert r["first"]["partition"] == 3 and r["first"]["byte"] == 101 and r["first"]["space"] == "sb"
    assert int(r["first"]["got"], 16) ^ int(r["first"]["want"], 16) == 0x5A
    assert r["first"]["model_writer"] and r["first"]["engine_writer"]
    assert r["cycles"] > 0
