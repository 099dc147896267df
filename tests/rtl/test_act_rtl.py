"""The function unit rtl/act_func.v against accel.model.lut.apply, function by function, on both simulators.

Every built-in function and a user-built table (arctan), each loaded through the unit's write port
(sim/act_func_top.v, sim/test_act_func.py): Verilator checks every one of the 65,536 bf16 patterns
per function plus CI_RANDOM random binary32 arguments, the special values (fp32 and bf16 results)
and random (scale, bias) pairs; Icarus, 15 to 40 times slower, checks a sample of ICARUS_BF16 bf16
patterns per function plus the special values and fewer affine vectors (the full volume:
`accel verify act --sim icarus`; 10**6 random per function: `accel verify act --sim verilator`,
docs/act.md). An image of degree 9 is flagged by the unit and rejected by the model; one larger than
the unit's RAM is flagged. A planted
wrong expected word gives exactly one mismatch. The small multi-cycle table engine rtl/lut_unit.v
keeps a sampled per-table check.
"""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path

import numpy as np
import pytest

from accel.model import lut
from accel.tb import memory_parameters, sources
from accel.tb import verify_act as vl
from accel.tb.runner import run_bench

REPO = Path(vl.REPO)
CI_RANDOM = 30_000
ICARUS_BF16 = 2_000
AFFINE_X = {"icarus": 128, "verilator": vl.AFFINE_X}


def test_exp_rom_loads_its_image_without_warnings(icarus: None, tmp_path: Path) -> None:
    """The exp ROM reads exactly the words of rtl/mem/lut_exp.hex: Icarus warned 'Not enough words'
    on every run when the ROM read the whole 2**EXP_WORDS_LOG2 range, and warns 'Too many' or 'Not
    enough' when act_func's EXP_WORDS and the generated image disagree."""
    out = tmp_path / "act_func.vvp"
    hex_path = memory_parameters("act_func")["EXP_HEX"]
    subprocess.run(["iverilog", "-g2005", "-o", str(out), "-s", "act_func", f"-Pact_func.EXP_HEX={hex_path}",
                    *map(str, sources("act_func"))], check=True, capture_output=True, text=True)
    run = subprocess.run(["vvp", "-n", str(out)], capture_output=True, text=True, check=True)
    assert "WARNING" not in run.stdout + run.stderr, run.stdout + run.stderr


@pytest.mark.parametrize("name,why", [
    ("bad_degree9", "degree=9"), ("bad_size", "46114 words"), ("bad_tables", "sin table image has 2 table"),
    ("bad_lo_hi", "lo is not below hi")])
def test_bad_image_is_rejected_by_the_model(name: str, why: str):
    """The images the unit flags with bad_image are exactly ones the model refuses to load."""
    image = vl.bad_images()[name]
    if name == "bad_size":  # the whole image, not just its header: too big for the unit's RAM
        image = np.concatenate([image, np.zeros(46_114 - image.size, dtype=np.uint32)])
    with pytest.raises(ValueError, match=why):
        lut.from_image("bad", image)
    assert max(t.degree for n in lut.BUILTINS for t in lut.builtin(n).tables) <= lut.MAX_DEGREE == 8


@pytest.mark.rtl
def test_act_func_matches_model(sim):
    names = [*vl.FUNCTIONS, *vl.BAD_IMAGES]
    n_random, sample = (CI_RANDOM, None) if sim == "verilator" else (0, ICARUS_BF16)
    report, _ = vl.run_plan(sim, names, n_random, sample, seed=1, affine_x=AFFINE_X[sim])
    assert list(report) == names
    assert {k: r["first"] for k, r in report.items() if r["mismatches"]} == {}
    assert [report.pop(name)["bad_image"] for name in vl.BAD_IMAGES] == [1] * len(vl.BAD_IMAGES)
    specials = 2 * vl.special_values(lut.builtin("exp")).size
    for name, r in report.items():
        assert r["bad_image"] == 0, name
        assert r["sets"] == {"bf16": sample or 65536, **({"random": n_random} if n_random else {}),
                             "special": r["sets"]["special"], "affine": vl.AFFINE_PAIRS * AFFINE_X[sim]}, name
        assert r["sets"]["special"] >= specials, name


@pytest.mark.rtl
def test_bench_detects_a_mismatch(sim):
    """One corrupted expected word fails the bench with exactly one mismatch at that argument."""
    report, _ = vl.run_plan(sim, ["sin"], 0, 64, seed=3, flip=("sin", 37), affine_x=16)
    assert report["sin"]["mismatches"] == 1
    assert report["sin"]["first"]["index"] == 37


@pytest.mark.rtl
def test_lut_unit_tables(sim):
    """The multi-cycle engine rtl/lut_unit.v: a sample of every table, and a planted mismatch."""
    result = vl.run_engine(argparse.Namespace(fn=None, sim=sim, vectors=0, bf16_sample=None, seed=1))
    assert result["mismatches"] == 0, {k: r["first"] for k, r in result["functions"].items() if r["first"]}
    assert list(result["functions"]) == vl.TABLE_NAMES == list(vl.tables())
    assert all(r["vectors"] == vl.ENGINE_SAMPLE for r in result["functions"].values())


@pytest.mark.rtl
def test_lut_unit_detects_a_mismatch(sim):
    run = vl.run_engine_plan(sim, vl.engine_plan(["tanh"], 0, 100, 3, flip=("tanh", 37)))
    assert run.error and "tanh: 1 mismatches" in run.error
    assert run.report["tanh"]["first"]["index"] == 37


@pytest.mark.rtl
def test_act_func_streams(sim):
    """rtl/act_func.v with no wrapper, driven by accel.tb.StreamDriver and checked through StreamMonitor
    (pairing by latency) and a Scoreboard of accel.tb.reference("act_func") (sim/test_act_stream.py)."""
    result = run_bench(sim, "act_func", sources("act_func"), "test_act_stream",
                       parameters=memory_parameters("act_func"),
                       extra_env={"ACCEL_ACT_STREAM_N": 16 if sim == "icarus" else 400})
    assert (result.passed, result.failed) == (2, 0)
