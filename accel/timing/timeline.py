"""Timeline: when every instruction of a run started and ended, and what it waited for.

One entry per dispatched instruction (the program's instructions before its first `halt`, index i
is program.instructions[i]); cycles count from 0, the first cycle the sequencer dispatches, and an
instruction occupies cycles start..end-1 (end is exclusive). The arrays are numpy so a timeline of
a million instructions stays small and fast to summarize (accel.timing.report) or draw.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accel.config import CoreConfig
from accel.isa.encoding import Program

ENGINES = ("PE", "ACT", "VEC", "DMA")  # engine codes 0..3, as isa/isa.toml [engines]

# Why an instruction started when it did: the constraint that was satisfied last.
REASONS = (
    "ready",  # nothing held it: it started the cycle after its dispatch
    "engine",  # its engine was busy with earlier instructions (blocker: the one it waited for)
    "semaphore",  # sem.wait: the semaphore lacked units (blocker: the sem.signal that gave the last one)
    "psum_bank",  # another engine held a PSUM bank it uses (blocker: that engine's instruction)
    "dma_queue",  # every DMA queue was busy (blocker: the transfer that freed one)
    "interlock",  # ACT: an earlier ACT instruction still in the pipeline writes bytes it reads (blocker: that one)
)
READY, ENGINE, SEMAPHORE, PSUM_BANK, DMA_QUEUE, INTERLOCK = range(len(REASONS))
RESOURCES = (PSUM_BANK, DMA_QUEUE, INTERLOCK)  # what holds a head, engine free, besides a semaphore
HELD = (SEMAPHORE, *RESOURCES)  # the waits from head to start


@dataclass
class Timeline:
    """The schedule of one program on one config (accel.timing.schedule makes it).

    Per instruction i (arrays of length n):
      engine[i]      engine code (ENGINES)
      dispatch[i]    cycle the sequencer put it into its engine's queue
      ready[i]       earliest cycle it could start had nothing but dispatch held it (dispatch + 1)
      head[i]        cycle it was at the head of its queue with its engine free (>= ready); from
                     head to start it waited on a semaphore or a resource (reason)
      start[i], end[i]  cycles it occupied its engine: start..end-1; for PE instructions, end is
                     when its last result is in PSUM (the array is pipelined: the next PE
                     instruction may start before this one ends); a DMA transfer ends when its
                     last byte is written
      reason[i], blocker[i]  why it started at start[i] (REASONS) and the instruction that held it
                     (-1 when none)
      dma_queue[i]   the DMA queue a transfer ran on (-1 for non-DMA instructions)
      data_start[i]  DMA: first cycle of its data phase on the DRAM port (start + latency, or later
                     when the port was busy); others: start
      dram_bytes[i]  DMA: bytes moved; others 0
      psum_banks[i]  bit b set when the instruction reads or writes PSUM bank b
    For every sem.wait i, the sem.signal instructions whose units it took are
      released_by[released_ptr[i]:released_ptr[i + 1]]  (program indices; empty for others)
    total          cycles of the whole run: the largest end (0 for an empty program)
    macs           useful multiply-accumulates of the PE instructions (sum of K * N * M)
    """

    program: Program
    config: CoreConfig
    engine: np.ndarray
    dispatch: np.ndarray
    ready: np.ndarray
    head: np.ndarray
    start: np.ndarray
    end: np.ndarray
    reason: np.ndarray
    blocker: np.ndarray
    dma_queue: np.ndarray
    data_start: np.ndarray
    dram_bytes: np.ndarray
    psum_banks: np.ndarray
    released_ptr: np.ndarray
    released_by: np.ndarray
    total: int
    macs: int = 0

    def __len__(self) -> int:
        return int(self.start.size)

    def released(self, i: int) -> np.ndarray:
        """The sem.signal instructions whose units sem.wait i took (empty for other instructions)."""
        return self.released_by[self.released_ptr[i]:self.released_ptr[i + 1]]
