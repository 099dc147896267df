"""Stream driver and monitor for cocotb 2.x benches: valid/ready (or valid-only) interfaces.

Both sample and drive on the falling edge, the timing that behaves the same on Icarus and
Verilator (docs/tb.md): a word is transferred at a rising edge when valid (and ready, where
there is a ready) were high in the half cycle before it.

    drv = StreamDriver(dut.clk, dut.in_valid, {"x": dut.x})           # ready=dut.in_ready
    mon = StreamMonitor(dut.clk, inputs=({"x": dut.x}, dut.in_valid),
                        outputs=({"y": dut.y}, dut.out_valid), scoreboard=sb, latency=22)
    for x in xs:
        drv.append({"x": x})
    await drv.idle()
    await mon.drain()             # every input has met its output (or raise with the cycle)
    sb.finish()

The monitor pairs each observed output with the input it belongs to: `latency=L` (the input
transferred L cycles earlier), `tag="name"` (the pending input with the same value of that
port; the input and output ports both carry it) or, by default, in order (the oldest pending
input). It hands (input, output) to the scoreboard, with the cycle as context.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any

Ports = Mapping[str, Any]  # port name -> cocotb handle


def read_port(handle: Any) -> int | str:
    """A signal's value as an unsigned int, or its bit string when it has x or z bits."""
    value = handle.value
    if not value.is_resolvable:
        return str(value)
    return value.to_unsigned() if hasattr(value, "to_unsigned") else int(value)  # a bit is a Logic


def _read(ports: Ports) -> dict[str, int | str]:
    return {name: read_port(h) for name, h in ports.items()}


def _high(handle: Any | None) -> bool:
    if handle is None:
        return True
    return read_port(handle) == 1


class StreamDriver:
    """Drive items (dicts port name -> int) onto a valid/ready or valid-only input, one per
    transfer, back to back; `gaps` idle cycles before each item (an int, or an iterable of
    ints consumed item by item). Items are sent in the order appended."""

    def __init__(self, clk: Any, valid: Any, data: Ports, ready: Any | None = None,
                 gaps: int | Iterable[int] = 0):
        import cocotb
        from cocotb.triggers import Event

        self.clk, self.valid, self.data, self.ready = clk, valid, dict(data), ready
        self._gaps = iter(gaps) if not isinstance(gaps, int) else None
        self._gap = gaps if isinstance(gaps, int) else 0
        self._queue: deque[Mapping[str, int]] = deque()
        self._wake, self._idle = Event(), Event()
        self._idle.set()
        self.sent = 0
        valid.value = 0
        self._task = cocotb.start_soon(self._run())

    def append(self, item: Mapping[str, int]) -> None:
        """Queue one item (every data port must be named)."""
        missing = set(self.data) - set(item)
        if missing:
            raise KeyError(f"stream item {dict(item)} lacks the port(s) {sorted(missing)}")
        self._queue.append(item)
        self._idle.clear()
        self._wake.set()

    async def send(self, item: Mapping[str, int]) -> None:
        """Queue one item and wait until everything queued has been transferred."""
        self.append(item)
        await self.idle()

    async def idle(self) -> None:
        """Wait until every queued item has been transferred."""
        await self._idle.wait()

    def stop(self) -> None:
        """Stop driving (what is still queued is dropped); valid keeps its last value."""
        self._task.cancel()

    async def _run(self) -> None:
        from cocotb.triggers import FallingEdge, ReadOnly

        await FallingEdge(self.clk)  # from here on, every change happens on a falling edge
        while True:
            if not self._queue:
                self.valid.value = 0
                self._idle.set()
                self._wake.clear()
                await self._wake.wait()
                await FallingEdge(self.clk)
            gap = next(self._gaps, 0) if self._gaps is not None else self._gap
            for _ in range(gap):
                self.valid.value = 0
                await FallingEdge(self.clk)
            item = self._queue.popleft()
            for name, handle in self.data.items():
                handle.value = int(item[name])
            self.valid.value = 1
            while True:
                await ReadOnly()
                accepted = _high(self.ready)
                await FallingEdge(self.clk)  # the rising edge in between took it, if accepted
                if accepted:
                    break
            self.sent += 1


class StreamMonitor:
    """Watch an input and an output stream of a DUT (each: (ports, valid) or (ports, valid,
    ready)) on every falling edge and give the scoreboard each (input, output) pair.

    Pairing: `latency` cycles (an output with no input `latency` cycles before it is an
    error), `tag` (a port name present on both sides) or in order (the default)."""

    def __init__(self, clk: Any, inputs: tuple, outputs: tuple, scoreboard: Any,
                 latency: int | None = None, tag: str | None = None):
        import cocotb

        if latency is not None and tag is not None:
            raise ValueError("pair outputs by latency or by tag, not both")
        self.clk, self.scoreboard, self.latency, self.tag = clk, scoreboard, latency, tag
        self.in_ports, self.in_valid, self.in_ready = self._side(inputs)
        self.out_ports, self.out_valid, self.out_ready = self._side(outputs)
        if tag is not None and not (tag in self.in_ports and tag in self.out_ports):
            raise ValueError(f"tag {tag!r} must be a port of both the input and the output stream")
        self.cycle = 0
        self.pending: deque[tuple[int, dict]] = deque()
        self.errors: list[str] = []
        self.inputs_seen = self.outputs_seen = 0
        self._task = cocotb.start_soon(self._run())

    @staticmethod
    def _side(side: tuple) -> tuple[dict, Any, Any]:
        ports, valid, *ready = side
        return dict(ports), valid, (ready[0] if ready else None)

    def _match(self, got: dict) -> tuple[int, dict] | None:
        if self.latency is not None:
            while self.pending and self.pending[0][0] < self.cycle - self.latency:
                c, x = self.pending.popleft()
                self.errors.append(f"input of cycle {c} {x} has no output {self.latency} cycles later")
            if self.pending and self.pending[0][0] == self.cycle - self.latency:
                return self.pending.popleft()
            return None
        if self.tag is not None:
            for k, (c, x) in enumerate(self.pending):
                if x[self.tag] == got[self.tag]:
                    del self.pending[k]
                    return c, x
            return None
        return self.pending.popleft() if self.pending else None

    async def _run(self) -> None:
        from cocotb.triggers import FallingEdge, ReadOnly

        while True:
            await FallingEdge(self.clk)
            await ReadOnly()
            self.cycle += 1
            if _high(self.in_valid) and _high(self.in_ready):
                self.pending.append((self.cycle, _read(self.in_ports)))
                self.inputs_seen += 1
            if _high(self.out_valid) and _high(self.out_ready):
                got = _read(self.out_ports)
                self.outputs_seen += 1
                found = self._match(got)
                if found is None:
                    self.errors.append(f"cycle {self.cycle}: output {got} matches no input")
                else:
                    c, x = found
                    self.scoreboard.check(x, got, context=f"in cycle {c}, out cycle {self.cycle}")

    def stop(self) -> None:
        """Stop watching (e.g. before another monitor takes over the same ports)."""
        self._task.cancel()

    async def drain(self, timeout_cycles: int = 10_000) -> None:
        """Wait until no input is pending (or raise AssertionError after `timeout_cycles`);
        raise AssertionError listing the pairing errors, if any."""
        from cocotb.triggers import FallingEdge

        for _ in range(timeout_cycles):
            if not self.pending:
                break
            await FallingEdge(self.clk)
        if self.pending:
            c, x = self.pending[0]
            self.errors.append(f"{len(self.pending)} inputs still without output after "
                               f"{timeout_cycles} cycles; the first, of cycle {c}: {x}")
        if self.errors:
            raise AssertionError("stream monitor: " + "; ".join(self.errors[:5]) +
                                 (f" (and {len(self.errors) - 5} more)" if len(self.errors) > 5 else ""))
