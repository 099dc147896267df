"""rtl/sparse_array.v + rtl/psum_acc.v against accel.model.sparse and docs/pe_array.md's cycle formulas
(K = physical rows), through sim/pe_array_tb.v (SPARSE = 1) and sim/test_sparse_array.py.

Kept small for CI (each Verilator build costs 20-60 s): 2:4 at 4 x 4 and 4:8 at 8 x 4 on Verilator; on
Icarus (instant builds) 2:4, 1:4, 1:2, 2:8, 4:8 and 4:16 at 4 x 4 and 2:4 at 4 x 3. `accel verify sparse`
runs the full matrix on either simulator.
"""

from __future__ import annotations

import pytest

from accel.cli import main
from accel.tb import verify_sparse as vs

VECTORS = {"icarus": 400, "verilator": 6_000}


def _ok(r: dict) -> None:
    assert r["error"] is None, r["error"]
    assert r["mismatches"] == 0, r["first"]


@pytest.mark.parametrize("pattern", ["2:4", "1:4"])
def test_sparse_4x4(sim: str, pattern: str) -> None:
    if sim == "verilator" and pattern != "2:4":
        pytest.skip("one 4 x 4 Verilator build (2:4) keeps the RTL tests inside CI's budget; "
                    "`accel verify sparse --sim verilator` runs every pattern")
    n, m = map(int, pattern.split(":"))
    r = vs.bench(sim, 4, 4, n, m, list(vs.DTYPES), VECTORS[sim], seed=1)
    _ok(r)
    assert r["vectors"] >= VECTORS[sim]


def test_sparse_more_patterns_and_sizes(sim: str) -> None:
    """Verilator: 4:8 on an 8 x 4 array. Icarus: 1:2, 2:8, 4:8 and 4:16 at 4 x 4 and 2:4 on 4 x 3."""
    if sim == "verilator":
        _ok(vs.bench(sim, 8, 4, 4, 8, list(vs.DTYPES), 4_000, seed=2))
        return
    for rows, cols, n, m in [(4, 4, 1, 2), (4, 4, 2, 8), (4, 4, 4, 8), (4, 4, 4, 16), (4, 3, 2, 4)]:
        _ok(vs.bench(sim, rows, cols, n, m, list(vs.DTYPES), 150, seed=3))


def test_verify_cli(sim: str, capsys: pytest.CaptureFixture[str]) -> None:
    if sim != "icarus":
        pytest.skip("the command is exercised on Icarus (instant build)")
    assert main(["verify", "sparse", "--sim", "icarus", "--pattern", "1:4", "--vectors", "60", "--json"]) == 0
    assert '"mismatches": 0' in capsys.readouterr().out


