"""rtl/lut_unit.v against accel.model.lut through sim/lut_top.v and sim/test_lut.py, on both simulators.

Every table of every built-in (sin/cos kernels separately) and one user-built table, loaded through
the unit's write port. Verilator: every bf16 argument each table covers plus 20,000 random binary32
arguments per table (about 740 k vectors); Icarus: 300 sampled arguments per table. More volume:
`accel verify lut --vectors N`.
"""

from __future__ import annotations

import argparse
import json
import subprocess
from pathlib import Path

import pytest

from accel.tb import verify_lut as vl
from accel.tb.runner import BenchFailure, run_bench

REPO = Path(vl.REPO)


@pytest.mark.rtl
def test_lint_clean(verilator):
    for path in (REPO / "rtl" / "lut_unit.v", REPO / "sim" / "lut_top.v"):
        assert path.read_text().startswith("`timescale 1ns/1ps")
        out = subprocess.run([verilator, "--lint-only", "-Wall", "-y", str(REPO / "rtl" / "fp"), "-y",
                              str(REPO / "rtl"), str(path)], capture_output=True, text=True)
        assert out.returncode == 0 and "%Warning" not in out.stderr, out.stderr


@pytest.mark.rtl
def test_lut_unit_matches_model(sim):
    result = vl.run(argparse.Namespace(fn=None, sim=sim, vectors=None, seed=1))
    assert result["mismatches"] == 0, {k: r["first"] for k, r in result["tables"].items() if r["first"]}
    assert list(result["tables"]) == vl.TABLE_NAMES == list(vl.tables())
    minimum = {"icarus": vl.ICARUS_SAMPLE, "verilator": 50_000}[sim]
    for name, r in result["tables"].items():
        assert r["vectors"] >= minimum, name


@pytest.mark.rtl
def test_bench_detects_a_mismatch(sim, tmp_path):
    """One corrupted expected word fails the bench with exactly one mismatch at that argument."""
    report = tmp_path / "report.json"
    env = vl.plan_env(["tanh"], 0, 100, 3, report, flip=("tanh", 37))
    with pytest.raises(BenchFailure, match="tanh: 1 mismatches"):
        run_bench(sim, vl.TOPLEVEL, vl.SOURCES, vl.TEST_MODULE, parameters=vl.PARAMETERS, extra_env=env)
    assert json.loads(report.read_text())["tanh"]["first"]["index"] == 37
