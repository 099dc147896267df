"""Reusable pieces for cocotb testbenches: bench runner, clock/reset, $readmemh files,
scoreboards, and the `accel verify` units. See docs/tb.md.

Importing this package does not import cocotb (an optional dependency, `pip install
-e '.[rtl]'`): the modules that need it import it inside their functions.
"""

from accel.tb.clock import pulse, reset, start_clock
from accel.tb.memfile import read_memh, write_memh
from accel.tb.runner import (
    SIMULATORS,
    BenchFailure,
    BenchResult,
    run_bench,
    simulator_available,
)
from accel.tb.scoreboard import Scoreboard

__all__ = [
    "SIMULATORS", "BenchFailure", "BenchResult", "Scoreboard", "pulse", "read_memh", "reset",
    "run_bench", "simulator_available", "start_clock", "write_memh",
]
