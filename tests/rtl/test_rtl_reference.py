"""docs/RTL.md is fresh, and benches bind only ports and parameters their toplevel has."""

from __future__ import annotations

from pathlib import Path

import pytest

from accel.tb import rtlref
from accel.tb.runner import REPO_ROOT


@pytest.fixture(autouse=True)
def _needs_pyverilog(pyverilog: None) -> None:
    """Every test here reads Verilog through pyverilog."""


def test_rtl_doc_is_fresh(tmp_path: Path) -> None:
    fresh = rtlref.generate(tmp_path).read_text()
    committed = REPO_ROOT / rtlref.DOC
    is_fresh = committed.is_file() and committed.read_text() == fresh
    assert is_fresh, f"{rtlref.DOC} is stale: run `{rtlref.COMMAND}`"
    assert fresh.startswith(f"<!-- GENERATED from {rtlref.CORE_SECTION} and rtl/**/*.v by `{rtlref.COMMAND}`")
    assert "## The core" in fresh and "figures/core.svg" in fresh


def test_benches_bind_existing_ports_and_parameters() -> None:
    problems, checked = rtlref.check_bench_bindings()
    assert not problems, "\n".join(problems)
    assert any("sim/test_decoder.py" in c for c in checked), checked


def test_binding_check_catches_a_wrong_port_and_parameter(tmp_path: Path) -> None:
    bench = tmp_path / "test_typo.py"
    bench.write_text('TOPLEVEL = "decoder_tb"\n\nasync def t(dut):\n    dut.n_vector.value = 1\n')
    caller = tmp_path / "run_typo.py"
    caller.write_text('from accel.tb.runner import run_bench\n'
                      'run_bench("icarus", "decoder_tb", [], "test_typo", parameters={"DEPTH": 3})\n')
    problems, _ = rtlref.check_bench_bindings([bench], [caller])
    assert len(problems) == 2, problems
    assert "dut.n_vector" in problems[1] and "parameter DEPTH" in problems[0]


def test_widths_follow_clog2_and_parameters(tmp_path: Path) -> None:
    v = tmp_path / "m.v"
    v.write_text("module m #(parameter N = 5) (input wire [$clog2(N+1)-1:0] k,\n"
                 "  output reg signed [N*4-1:0] y);\nendmodule\n")
    ports = {p["name"]: p for p in rtlref.module_ports(v)["ports"]}
    assert ports["k"]["width"] == 3 and "$clog2(N + 1)" in ports["k"]["range"]
    assert ports["y"] == {"name": "y", "direction": "output", "range": "[N * 4 - 1:0]",
                          "width": 20, "signed": True}

