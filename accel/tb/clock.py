"""Clock and reset for cocotb 2.x benches, driven the way that behaves the same on Icarus and
Verilator: inputs change on the falling edge, so both simulators sample them at the next
rising edge (Verilator shows post-edge values after RisingEdge, event simulators pre-edge).

    from accel.tb.clock import reset, start_clock

    @cocotb.test()
    async def test_counter(dut):
        start_clock(dut.clk)                  # 10 ns period, C clock when cocotb trusts it
        await reset(dut.clk, dut.rst_n, active_low=True)
        ...
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # cocotb is an optional dependency: import it only where it is used
    from cocotb.clock import Clock


def start_clock(clk: Any, period_ns: float = 10, impl: str | None = None) -> Clock:
    """Start a 50% duty clock on `clk` (low for the first half period) and return it;
    `impl` is cocotb's "gpi" (fast, in C) or "py", default cocotb's choice."""
    from cocotb.clock import Clock

    clock = Clock(clk, period_ns, unit="ns", impl=impl)
    clock.start(start_high=False)
    return clock


async def reset(clk: Any, rst: Any, cycles: int = 2, active_low: bool = False) -> None:
    """Assert `rst` for `cycles` clock cycles, changing it on falling edges, then release it."""
    from cocotb.triggers import FallingEdge

    on, off = (0, 1) if active_low else (1, 0)
    await FallingEdge(clk)
    rst.value = on
    for _ in range(cycles):
        await FallingEdge(clk)
    rst.value = off


async def pulse(clk: Any, signal: Any, cycles: int = 1) -> None:
    """Drive `signal` high for `cycles` clock cycles, between falling edges."""
    from cocotb.triggers import FallingEdge

    await FallingEdge(clk)
    signal.value = 1
    for _ in range(cycles):
        await FallingEdge(clk)
    signal.value = 0
