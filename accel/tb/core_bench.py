"""The pieces of a user's own cocotb bench of rtl/core.v (no sim/core_tb.v): the DRAM behind the core's beat
port, the program loader, the end of the program, the trace, the SBUF/PSUM read-out and the comparison with
accel.Core (docs/RTL.md "How a bench drives it").

    case = Case("mine", program, {"x": x})             # accel.tb.verify_core.Case
    dram0, expected = model_run(case, cfg)              # the starting DRAM image and the model's results
    start_clock(dut.clk)
    dram = DramModel(dut, dram0, cfg.dma_bytes_per_cycle)
    trace = TraceRecorder(dut, len(case.program.instructions))
    await write_program(dut, case.program, dram_layout(case.program)[0])
    await run_program(dut, max_cycles(expected))
    sb, psum = await read_memories(dut, cfg)
    mismatches = compare_images(case, {"dram": dram.image_array(), "sb": sb, "psum": psum,
                                       "start": trace.start, "end": trace.end}, expected)

The core reads DRAM combinationally: dram_rd_addr and dram_rd_en are functions of the DMA engine's registers
alone (rtl/dma_engine.v: the transfer FIFO's head, the mover's state, the cycle counter), so they are
settled at the falling edge, where DramModel drives dram_rdata for the rising edge that takes it. Writes
(dram_wr_* are registers) are applied at the same falling edge after that read, which is what a memory
written at the clock edge ending the cycle gives (sim/core_tb.v's memory). Python wakes every clock
(about 25 us a clock): this is for directed programs; for volume use accel.tb.verify_core.bench.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from accel.config import CoreConfig
from accel.isa.encoding import WORD_BITS, Program, encode
from accel.tb.plan import run_until, value
from accel.tb.verify_core import Case, compare_images, dram_layout, max_cycles, model_run

__all__ = ["Case", "DramModel", "TraceRecorder", "check_case", "compare_images", "dram_layout", "write_program",
           "max_cycles", "model_run", "read_memories", "run_program"]

NEVER = 0xFFFFFFFF  # a start or end cycle of an instruction that did not run (as sim/core_tb.v's trace)


def _high(sig: Any) -> bool:
    """A one-bit signal is 1 (X or Z before reset count as 0)."""
    return str(sig.value) == "1"


class DramModel:
    """The core's DRAM: a byte memory (a copy of `image`) behind its read and write channels of `beat`
    (DMA_BEAT) bytes, served from a coroutine started on construction. Bytes beyond the image read 0 and
    writes there are dropped, as in sim/core_tb.v."""

    def __init__(self, dut: Any, image: bytes | np.ndarray, beat: int) -> None:
        import cocotb

        if len(dut.dram_rdata) != 8 * beat:
            raise ValueError(f"beat: {beat} bytes, but the core's dram_rdata has {len(dut.dram_rdata)} bits "
                             "(its DMA_BEAT x 8)")
        self.dut = dut
        self.beat = beat
        self.mem = bytearray(image if isinstance(image, bytes) else np.asarray(image, dtype=np.uint8).tobytes())
        self.reads = 0  # beats served
        self.writes = 0  # beats written
        dut.dram_rdata.value = 0
        self._task = cocotb.start_soon(self._serve())

    def _read(self, addr: int) -> int:
        chunk = self.mem[addr:addr + self.beat] if addr < len(self.mem) else b""
        return int.from_bytes(bytes(chunk).ljust(self.beat, b"\0"), "little")

    async def _serve(self) -> None:
        from cocotb.triggers import FallingEdge

        dut, zero = self.dut, True
        while True:
            await FallingEdge(dut.clk)
            if _high(dut.dram_rd_en):
                dut.dram_rdata.value = self._read(value(dut.dram_rd_addr))
                self.reads += 1
                zero = False
            elif not zero:
                dut.dram_rdata.value = 0
                zero = True
            if _high(dut.dram_wr_en):
                addr, n = value(dut.dram_wr_addr), value(dut.dram_wr_len)
                data = value(dut.dram_wr_data).to_bytes(self.beat, "little")[:n]
                end = min(addr + n, len(self.mem))
                if addr < end:
                    self.mem[addr:end] = data[:end - addr]
                self.writes += 1

    def image(self) -> bytes:
        """The memory's bytes now."""
        return bytes(self.mem)

    def image_array(self) -> np.ndarray:
        """The memory's bytes now, as uint8 (compare_images' "dram")."""
        return np.frombuffer(bytes(self.mem), dtype=np.uint8).copy()

    def stop(self) -> None:
        """Stop serving (the coroutine ends)."""
        self._task.cancel()


class TraceRecorder:
    """Every instruction's start cycle and end cycle from the core's trace port (docs/RTL.md "Ports",
    trace: start = `cycle` at the start pulse, end = `cycle` + 1 at the end pulse), for the first `n`
    instructions, NEVER for one that did not run; recorded by a coroutine started on construction."""

    def __init__(self, dut: Any, n: int) -> None:
        import cocotb

        self.dut = dut
        self.start = np.full(n, NEVER, dtype=np.int64)
        self.end = np.full(n, NEVER, dtype=np.int64)
        self.pcw = len(dut.tr_start_pc) // 4
        self._task = cocotb.start_soon(self._record())

    def _pcs(self, sig: Any, mask: int, channels: int) -> list[int]:
        """The instruction indices of the pulsing channels (the others' fields may be X)."""
        bits = str(sig.value)  # most significant bit first
        w, n = self.pcw, len(bits)
        return [int(bits[n - (c + 1) * w:n - c * w], 2) for c in range(channels) if mask >> c & 1]

    async def _record(self) -> None:
        from cocotb.triggers import FallingEdge

        dut = self.dut
        while True:
            await FallingEdge(dut.clk)
            starts = value(dut.tr_start) if dut.tr_start.value.is_resolvable else 0
            ends = value(dut.tr_end) if dut.tr_end.value.is_resolvable else 0
            if not (starts or ends):
                continue
            cyc = value(dut.cycle)
            for pc in self._pcs(dut.tr_start_pc, starts, 4):
                if pc < self.start.size:
                    self.start[pc] = cyc
            for pc in self._pcs(dut.tr_end_pc, ends, 8):
                if pc < self.end.size:
                    self.end[pc] = cyc + 1

    def stop(self) -> None:
        """Stop recording (the coroutine ends)."""
        self._task.cancel()


async def write_program(dut: Any, program: Program, tensor_bases: Sequence[int]) -> None:
    """Reset the core for a clock, then write `program` (its words, accel.isa.encoding.encode) and the DRAM
    tensor table (`tensor_bases`, byte addresses in declaration order; accel.tb.verify_core.dram_layout)
    through the load port, one word a clock, changing inputs on falling edges; `nprog` is set, `run` low."""
    from cocotb.triggers import FallingEdge

    words = [encode(i) for i in program.instructions]
    if len(tensor_bases) != len(program.tensors):
        raise ValueError(f"tensor_bases: {len(tensor_bases)} bases for {len(program.tensors)} tensors")
    await FallingEdge(dut.clk)
    dut.run.value = 0
    dut.ld_we.value = 0
    dut.ld_sel.value = 0
    dut.ld_addr.value = 0
    dut.ld_data.value = 0
    dut.dbg_space.value = 0
    dut.dbg_addr.value = 0
    dut.nprog.value = len(words)
    dut.rst.value = 1
    await FallingEdge(dut.clk)
    dut.rst.value = 0
    dut.ld_we.value = 1
    for sel, items in ((0, words), (1, list(tensor_bases))):
        dut.ld_sel.value = sel
        for k, word in enumerate(items):
            dut.ld_addr.value = k
            dut.ld_data.value = int(word) & ((1 << WORD_BITS) - 1)
            await FallingEdge(dut.clk)
    dut.ld_we.value = 0
    dut.ld_sel.value = 0


async def run_program(dut: Any, max_cycles: int, step: int = 50) -> bool:
    """Raise `run` and clock until `done` (the sequencer stopped and every queue and engine empty; see
    accel.tb.plan.run_until, looking every `step` clocks) or `max_cycles`; whether the core is done."""
    dut.run.value = 1
    await run_until(dut, dut.done, max_cycles, step)
    return _high(dut.done)


async def read_memories(dut: Any, cfg: CoreConfig) -> tuple[np.ndarray, np.ndarray]:
    """SBUF and PSUM as [partition, byte] uint8 arrays, read through the debug port: one 32-bit word of every
    partition a clock (dbg_data holds the word of the address set a clock before)."""
    from cocotb.triggers import FallingEdge

    p = cfg.sbuf_partitions
    out = []
    for space, nbytes in ((0, cfg.sbuf_partition_bytes), (1, cfg.psum_partition_bytes)):
        img = np.zeros((p, -(-nbytes // 4) * 4), dtype=np.uint8)
        await FallingEdge(dut.clk)
        dut.dbg_space.value = space
        for k in range(img.shape[1] // 4):
            dut.dbg_addr.value = k
            await FallingEdge(dut.clk)
            img[:, 4 * k:4 * k + 4] = np.frombuffer(value(dut.dbg_data).to_bytes(4 * p, "little"),
                                                    dtype=np.uint8).reshape(p, 4)
        out.append(img[:, :nbytes])
    return out[0], out[1]


async def check_case(dut: Any, cfg: CoreConfig, case: Case) -> dict:
    """Play `case` on the core (clock started by the caller, built with accel.tb.verify_core.parameters(cfg)
    less DRAM_BYTES) with all of the above, and compare it with accel.Core: {"done", "cycles", "err",
    "reads" and "writes" (DRAM beats), "got" (compare_images' arrays), "expected" (model_run's),
    "mismatches" (compare_images' texts)}."""
    dram0, expected = model_run(case, cfg)
    dram = DramModel(dut, dram0, cfg.dma_bytes_per_cycle)
    trace = TraceRecorder(dut, len(case.program.instructions))
    await write_program(dut, case.program, dram_layout(case.program)[0])
    done = await run_program(dut, max_cycles(expected))
    out = {"done": done, "cycles": value(dut.cycle), "err": _high(dut.err), "expected": expected,
           "reads": dram.reads, "writes": dram.writes}
    trace.stop()
    sb, psum = await read_memories(dut, cfg)
    dram.stop()
    out["got"] = {"dram": dram.image_array(), "sb": sb, "psum": psum, "start": trace.start, "end": trace.end}
    if not done:
        out["mismatches"] = [f"not done within {max_cycles(expected)} cycles"]
    elif out["err"]:
        out["mismatches"] = [f"the core stopped with err at instruction {value(dut.err_pc)}"]
    else:
        out["mismatches"] = compare_images(case, out["got"], expected)
    return out
