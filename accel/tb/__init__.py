"""Reusable pieces for cocotb testbenches: bench runner, clock/reset, stream driver and monitor,
$readmemh files, scoreboards, per-module source lists and reference models, and the `accel
verify` units. See docs/tb.md.

Importing this package does not import cocotb (an optional dependency, `pip install
-e '.[rtl]'`): the modules that need it import it inside their functions.
"""

from accel.tb.clock import pulse, reset, start_clock
from accel.tb.memfile import read_memh, write_memh
from accel.tb.modules import files, memory_parameters, reference, rtl_modules, sources
from accel.tb.runner import (
    SIMULATORS,
    BenchFailure,
    BenchResult,
    run_bench,
    setup_verilator_env,
    simulator_available,
)
from accel.tb.scoreboard import Scoreboard
from accel.tb.stream import StreamDriver, StreamMonitor

__all__ = [
    "SIMULATORS", "BenchFailure", "BenchResult", "Scoreboard", "StreamDriver", "StreamMonitor", "files",
    "memory_parameters", "pulse", "read_memh", "reference", "reset", "rtl_modules", "run_bench",
    "setup_verilator_env", "simulator_available", "sources", "start_clock", "write_memh",
]
