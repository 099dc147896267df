"""A timeline worked out by hand, so the trace and Gantt tests do not depend on the scheduler.

Thirteen instructions on every engine: two loads on DMA queues 0 and 1 sharing the DRAM port, a
semaphore chain DMA -> PE -> ACT -> DMA, two pipelined matmuls that overlap (the second goes on a
second PE lane) in PSUM banks 0 and 1, and a store. The cycles are plausible, not the cost model's:
these tests check that what is drawn is what the timeline says.
"""

from __future__ import annotations

import numpy as np

from accel.config import CoreConfig
from accel.isa.asm import assemble
from accel.isa.encoding import Program
from accel.timing.timeline import ENGINE, READY, SEMAPHORE, Timeline

SOURCE = """\
.tensor w bf16[4, 4] in
.tensor x bf16[4, 8] in
.tensor y fp32[4, 8] out
    dma.load sb[0:4, 0]:bf16[4], w
    dma.load sb[0:4, 8]:bf16[8], x
    sem.signal dma, s0
    sem.wait pe, s0
    pe.load_weights sb[0:4, 0]:bf16[4]
    pe.matmul psum[0:4, 0]:fp32[8], sb[0:4, 8]:bf16[8]
    pe.matmul psum[0:4, 2048]:fp32[8], sb[0:4, 8]:bf16[8]
    sem.signal pe, s1
    sem.wait act, s1
    act.identity sb[0:4, 64]:fp32[8], psum[0:4, 0]:fp32[8]
    sem.signal act, s2
    sem.wait dma, s2
    dma.store y, sb[0:4, 64]:fp32[8]
    halt
"""
FIRST_LINE = 4  # source line of instruction 0

#            start end  reason     blocker queue data  bytes banks
ROWS = [
    (0, 3,   1,   66,  READY,     -1,  0,   65,  32,   0),   # dma.load w
    (1, 3,   2,   67,  READY,     -1,  1,   66,  64,   0),   # dma.load x (port busy until 66)
    (2, 3,   67,  68,  ENGINE,     1, -1,   67,   0,   0),   # sem.signal dma, s0
    (3, 0,   68,  69,  SEMAPHORE,  2, -1,   68,   0,   0),   # sem.wait pe, s0
    (4, 0,   69,  73,  ENGINE,     3, -1,   69,   0,   0),   # pe.load_weights
    (5, 0,   73,  85,  ENGINE,     4, -1,   73,   0,   1),   # pe.matmul bank 0
    (6, 0,   81,  93,  ENGINE,     5, -1,   81,   0,   2),   # pe.matmul bank 1, overlaps #5
    (7, 0,   93,  94,  ENGINE,     6, -1,   93,   0,   0),   # sem.signal pe, s1
    (8, 1,   95,  96,  SEMAPHORE,  7, -1,   95,   0,   0),   # sem.wait act, s1
    (9, 1,   96,  130, ENGINE,     8, -1,   96,   0,   1),   # act.identity reads bank 0
    (10, 1,  130, 131, ENGINE,     9, -1,  130,   0,   0),   # sem.signal act, s2
    (11, 3,  132, 133, SEMAPHORE, 10, -1,  132,   0,   0),   # sem.wait dma, s2
    (12, 3,  133, 199, ENGINE,    11,  0,  197, 128,   0),   # dma.store
]
RELEASED = {3: [2], 8: [7], 11: [10]}  # sem.wait -> the sem.signal whose units it took
HEAD = {3: 4, 8: 9, 11: 68}  # a sem.wait at its queue's head, engine free (others: head = start)
BANDWIDTH = [(0, 0.0), (65, 32.0), (66, 64.0), (67, 0.0), (197, 64.0), (199, 0.0)]
PSUM = [(0, 0), (73, 1), (81, 2), (85, 1), (93, 0), (96, 1), (130, 0)]


def timeline(config: CoreConfig | None = None) -> Timeline:
    """The hand-made timeline of SOURCE (dispatch i at cycle i, ready the cycle after)."""
    config = config or CoreConfig()
    program = assemble(SOURCE, "t.s", config)
    col = list(zip(*ROWS, strict=True))
    n = len(ROWS)
    ptr = np.zeros(n + 1, np.int64)
    for i in range(n):
        ptr[i + 1] = ptr[i] + len(RELEASED.get(i, []))
    return Timeline(
        program=program, config=config,
        engine=np.array(col[1], np.int8), dispatch=np.arange(n), ready=np.arange(n) + 1,
        head=np.array([HEAD.get(i, col[2][i]) for i in range(n)]), start=np.array(col[2]), end=np.array(col[3]),
        reason=np.array(col[4], np.int8),
        blocker=np.array(col[5]), dma_queue=np.array(col[6], np.int8), data_start=np.array(col[7]),
        dram_bytes=np.array(col[8]), psum_banks=np.array(col[9], np.uint64), released_ptr=ptr,
        released_by=np.array([s for i in range(n) for s in RELEASED.get(i, [])], np.int64), total=199,
        macs=2 * 4 * 4 * 8)


def tiled(reps: int) -> Timeline:
    """The hand-made timeline repeated reps times, 200 cycles apart (13 * reps instructions): a long
    timeline for the aggregated drawing and the trace size, without the scheduler."""
    tl = timeline()
    n = len(tl)
    shift = np.repeat(np.arange(reps) * 200, n)

    def tile(a: np.ndarray, offset: np.ndarray | int = 0) -> np.ndarray:
        return np.tile(a, reps) + offset

    program = Program(tl.program.tensors, tl.program.instructions[:n] * reps, "tiled.s")
    renumber = np.repeat(np.arange(reps) * n, n)
    blocker = np.tile(tl.blocker, reps)
    return Timeline(
        program=program, config=tl.config, engine=tile(tl.engine), dispatch=tile(tl.dispatch, shift),
        ready=tile(tl.ready, shift), head=tile(tl.head, shift), start=tile(tl.start, shift), end=tile(tl.end, shift),
        reason=tile(tl.reason), blocker=np.where(blocker >= 0, blocker + renumber, -1), dma_queue=tile(tl.dma_queue),
        data_start=tile(tl.data_start, shift), dram_bytes=tile(tl.dram_bytes), psum_banks=tile(tl.psum_banks),
        released_ptr=np.r_[0, np.cumsum(np.tile(np.diff(tl.released_ptr), reps))],
        released_by=np.concatenate([tl.released_by + k * n for k in range(reps)]), total=reps * 200,
        macs=tl.macs * reps)
