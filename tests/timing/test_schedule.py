"""The schedule against the hand-worked cycle tables of docs/timing.md, and its invariants."""

from __future__ import annotations

import numpy as np
import pytest

from accel import CoreConfig, MachineError, assemble
from accel.timing.schedule import schedule
from accel.timing.timeline import DMA_QUEUE, ENGINE, INTERLOCK, PSUM_BANK, READY, REASONS, SEMAPHORE

SMALL = CoreConfig(pe_rows=4, pe_cols=4, sbuf_partitions=4, psum_partitions=4)


def timed(src: str, config: CoreConfig = SMALL):
    program = assemble(src, config=config)
    return schedule(program, config)


def table(tl) -> list[tuple[int, int, int, str]]:
    """(dispatch, start, end, reason) per instruction."""
    return [(int(d), int(s), int(e), REASONS[r]) for d, s, e, r in zip(tl.dispatch, tl.start, tl.end, tl.reason,
                                                                      strict=True)]


SERIAL = """
.tensor x bf16[4, 8] in
.tensor w bf16[4, 4] in
dma.load sb[0:4, 0]:bf16[8], x
dma.load sb[0:4, 64]:bf16[4], w
sem.signal dma, s0
sem.wait pe, s0
pe.load_weights sb[0:4, 64]:bf16[4]
pe.matmul psum[0:4, 0]:fp32[8], sb[0:4, 0]:bf16[8]
sem.signal pe, s1
halt
"""


def test_serial_chain() -> None:
    """docs/timing.md, "Serial chain": each step waits for the one before."""
    tl = timed(SERIAL)
    assert table(tl) == [
        (0, 1, 69, "ready"),  # 64 cycles latency, 4 partitions x 1 beat
        (1, 2, 73, "ready"),  # its data phase waits for the port until 69
        (2, 73, 74, "engine"),  # the signal waits for both transfers to complete
        (3, 74, 75, "semaphore"),  # the unit is there from 74
        (4, 75, 79, "engine"),  # K = 4 weight rows
        (5, 79, 93, "engine"),  # after the load; M + R + C - 2 = 8 + 6
        (6, 93, 94, "engine"),  # after the matmul's last result
    ]
    assert tl.total == 94
    assert list(tl.blocker) == [-1, -1, 1, 2, 3, 4, 5]
    assert list(tl.released(3)) == [2]
    assert list(tl.data_start[:2]) == [65, 69] and list(tl.dma_queue[:2]) == [0, 1]


OVERLAP = """
.tensor x bf16[4, 512] in
dma.load sb[0:4, 0]:bf16[512], x
pe.load_weights sb[0:4, 2048]:bf16[4]
pe.matmul psum[0:4, 0]:fp32[64], sb[0:4, 4096]:bf16[64]
"""


def test_full_overlap() -> None:
    """docs/timing.md, "Full overlap": no semaphore between them, the engines run side by side."""
    tl = timed(OVERLAP)
    assert table(tl) == [(0, 1, 129, "ready"), (1, 2, 6, "ready"), (2, 6, 76, "engine")]
    assert tl.total == 129  # the longer of the two, not their sum


def dma_bound(queues: int, latency: int = 64) -> str:
    return "\n".join([".tensor x bf16[4, 2048] in"] + [
        f"dma.load sb[0:4, {1024 * k}]:bf16[512], x[0:4, {512 * k}:{512 * k + 512}]" for k in range(4)]) + "\n"


def test_dma_bound() -> None:
    """docs/timing.md, "DMA-bound": four transfers share the DRAM port; the latency overlaps."""
    tl = timed(dma_bound(4))
    assert [int(v) for v in tl.data_start] == [65, 129, 193, 257]
    assert tl.total == 321 and list(tl.dma_queue) == [0, 1, 2, 3]
    # two queues: the third transfer is issued only when the first has finished
    tl = timed(dma_bound(2), CoreConfig(**{**SMALL.__dict__, "dma_queues": 2}))
    assert table(tl)[2] == (2, 129, 257, "dma_queue") and tl.blocker[2] == 0
    assert list(tl.dma_queue) == [0, 1, 0, 1] and tl.total == 321
    # one queue and a long latency: nothing overlaps
    tl = timed(dma_bound(1), CoreConfig(**{**SMALL.__dict__, "dma_queues": 1, "dma_latency_cycles": 200}))
    assert [int(v) for v in tl.start] == [1, 265, 529, 793] and tl.total == 1057


def test_full_queue_stalls_dispatch() -> None:
    """docs/timing.md, "Full queue": a PE queue of depth 2 behind a wait holds up the DMA instruction
    that comes after it in the stream."""
    src = """
.tensor x bf16[4, 512] in
dma.load sb[0:4, 0]:bf16[512], x
sem.signal dma, s0
sem.wait pe, s0
pe.load_weights sb[0:4, 2048]:bf16[4]
pe.matmul psum[0:4, 0]:fp32[8], sb[0:4, 0]:bf16[8]
pe.matmul psum[0:4, 64]:fp32[8], sb[0:4, 0]:bf16[8]
dma.load sb[0:4, 8192]:bf16[4], x[0:4, 0:4]
"""
    cfg = CoreConfig(**{**SMALL.__dict__, "queue_depth": 2})
    tl = timed(src, cfg)
    assert [int(d) for d in tl.dispatch] == [0, 1, 2, 3, 131, 132, 133]
    assert int(tl.start[6]) == 134
    assert [int(d) for d in timed(src).dispatch] == list(range(7))  # depth 16: no stall


def test_full_queue_deadlock() -> None:
    """A wait whose signal cannot be dispatched because the queue in front of it is full."""
    src = """
.tensor x bf16[4, 8] in
sem.wait pe, s0
pe.load_weights sb[0:4, 0]:bf16[4]
pe.matmul psum[0:4, 0]:fp32[8], sb[0:4, 0]:bf16[8]
sem.signal dma, s0
"""
    with pytest.raises(MachineError, match=r"(?s)deadlock.*PE: sem.wait pe, s0.*sequencer:.*queue_depth = 2"):
        timed(src, CoreConfig(**{**SMALL.__dict__, "queue_depth": 2}))
    assert timed(src).total > 0


def test_semaphore_units_are_taken_oldest_first() -> None:
    """A wait of 3 units takes the 2 of the first signal and 1 of the second, and starts when the
    second's unit is there; a wait for a fourth unit nobody gives is a deadlock."""
    src = """
sem.wait pe, s0, count=3
sem.signal dma, s0, count=2
sem.signal act, s0
sem.wait vec, s0
"""
    with pytest.raises(MachineError, match=r"(?s)deadlock.*VEC: sem.wait vec, s0.*waits on s0 \(needs 1\)"):
        timed(src)
    tl = timed(src.replace("sem.wait vec, s0\n", ""))
    assert table(tl)[0] == (0, 4, 5, "semaphore") and tl.blocker[0] == 2
    assert [int(j) for j in tl.released(0)] == [1, 2]


def interlocked(relu: str = "act.relu sb[0:4, 128]:fp32[8], sb[0:4, 64]:fp32[8]") -> str:
    return f"""
.tensor x fp32[4, 8] in
dma.load sb[0:4, 0]:fp32[8], x
sem.signal dma, s0
sem.wait act, s0
act.identity sb[0:4, 64]:fp32[8], sb[0:4, 0]:fp32[8]
{relu}
act.identity sb[0:4, 192]:fp32[8], sb[0:4, 0]:fp32[8]
"""


def test_act_interlock() -> None:
    """docs/timing.md, "ACT interlock": #4 reads the bytes #3 writes, so it starts at #3's end, not
    when #3's elements have entered the pipeline; #5 reads other bytes and follows #4 at once."""
    tl = timed(interlocked())
    assert table(tl) == [
        (0, 1, 69, "ready"),  # 4 partitions x 1 beat after 64 cycles
        (1, 69, 70, "engine"),
        (2, 70, 71, "semaphore"),
        (3, 71, 105, "engine"),  # occupies 4 + 8 cycles, its last result lands 22 later
        (4, 105, 139, "interlock"),  # could start at 83: reads sb 64..95, which #3 writes until 105
        (5, 117, 151, "engine"),  # reads sb 0..31: right after #4's 12 cycles
    ]
    assert tl.blocker[4] == 3 and tl.head[4] == 83 and tl.total == 151
    # other bytes, other partitions, PSUM instead of SBUF: no interlock
    wide = CoreConfig(**{**SMALL.__dict__, "sbuf_partitions": 8})
    for src, config in (("sb[0:4, 96]", SMALL), ("sb[4:8, 64]", wide), ("psum[0:4, 64]", SMALL)):
        tl = timed(interlocked(f"act.relu sb[0:4, 128]:fp32[8], {src}:fp32[8]"), config)
        assert table(tl)[4] == (4, 83, 117, "engine"), src
    tl = timed(interlocked("act.relu sb[0:4, 128]:fp32[8], sb[0:4, 0]:fp32[8], bias=sb[0:4, 92]:fp32[1]"))
    assert table(tl)[4] == (4, 105, 140, "interlock")  # a bias pattern is read too (and costs a clock)


def test_act_table_load_waits_for_the_pipeline() -> None:
    """act.lut.load rewrites tables that elements still in the pipeline may read: it starts when the
    ACT instructions before it have ended."""
    tl = timed(interlocked() + "act.lut.load sb[0:1, 1024]:int32[64], fn=16\n")
    assert table(tl)[6] == (6, 151, 151 + 4 + 64, "interlock") and tl.blocker[6] == 5


def test_reason_codes_are_the_documented_ones() -> None:
    assert (READY, ENGINE, SEMAPHORE, PSUM_BANK, DMA_QUEUE, INTERLOCK) == (0, 1, 2, 3, 4, 5)
    assert REASONS[INTERLOCK] == "interlock"


def test_examples_invariants() -> None:
    """On the example programs: starts in program order per engine, end >= start, total = max end."""
    from accel.isa.resources import EXAMPLES_DIR

    for path in sorted(EXAMPLES_DIR.glob("*.s")):
        program = assemble(path.read_text(), config=CoreConfig())
        tl = schedule(program, CoreConfig())
        assert (tl.end >= tl.start).all() and (tl.start > tl.dispatch).all()
        for e in range(4):
            s = tl.start[tl.engine == e]
            assert (np.diff(s) > 0).all()
        assert tl.total == tl.end.max()


def test_lowering_shares_rows_exactly() -> None:
    """lower() works a cost out once per distinct line, and once per shape for transfers (their cost
    depends on the DRAM pattern's dims only) and VEC instructions (on a Philox base's phase only):
    every instruction's lowered cost is still its own cost function's, for lines that recur, differ
    in DRAM offset or stride, in dims, or in Philox base."""
    from accel.timing import act, dma
    from accel.timing.schedule import lower
    from accel.timing.vec import VecTimingState

    rng = np.random.default_rng(3)
    lines = [".tensor x fp32[8, 256] in", ".tensor y bf16[8, 256] out"]
    for _ in range(200):
        k = int(rng.integers(0, 6))
        off, p, n = int(rng.integers(0, 64)), int(rng.integers(1, 5)), int(rng.integers(1, 9))
        if k == 0:
            lines.append(f"dma.load sb[0:{p}, 0]:fp32[{n}], x({off})[{p}@{int(rng.integers(n, 40))}, {n}@1]")
        elif k == 1:
            lines.append(f"dma.load sb[0:{p}, 0]:fp32[{n}], x({off})[{p}@64, {n}@{int(rng.integers(1, 3))}]")
        elif k == 2:
            lines.append(f"dma.store y({off})[{p}@32, {n}@1], sb[0:{p}, 64]:bf16[{n}]")
        elif k == 3:
            lines.append(f"act.identity sb[0:{p}, 128]:fp32[{n}], sb[0:{p}, 0]:fp32[{n}], scale={off}")
        elif k == 4:
            lines.append(f"vec.dropout sb[0:{p}, 256]:fp32[{n}], sb[0:{p}, 0]:fp32[{n}], p=0.5, base={off}")
        else:
            lines.append(f"vec.rng_fill sb[0:{p}, 512]:int32[{n}], base={off}")
    program = assemble("\n".join(lines) + "\n", config=SMALL)
    low = lower(program, SMALL)
    state = VecTimingState(SMALL)  # the VEC instructions back to back, as lower() times them
    for i, ins in enumerate(program.instructions):
        if ins.engine == "DMA":
            assert (low.latency[i], low.dram_bytes[i]) == dma.transfer(ins, program, SMALL), ins.source
        elif ins.engine == "VEC":
            assert low.occupancy[i] == low.latency[i] == state.issue(ins), ins.source
        else:
            assert (low.occupancy[i], low.latency[i]) == act.act_cycles(ins, SMALL), ins.source
    assert np.unique(low.code).size < len(set(lines)) - 40  # rows shared


def test_lowering_keeps_the_philox_phase() -> None:
    """Dropouts that differ only in base & 3 take different cycles (the lanes' blocks are aligned
    differently), so lower() must not share them, even where each follows a quiet engine."""
    from accel.timing.schedule import lower
    from accel.timing.vec import VecTimingState

    copy = "vec.copy sb[0:4, 512]:fp32[64], sb[0:4, 0]:fp32[64]"
    lines = [f"vec.dropout sb[0:4, 256]:fp32[8], sb[0:4, 0]:fp32[8], p=0.5, base={b}"
             for b in (0, 4, 1, 5, 2, 6, 3, 7)]
    program = assemble("\n".join(f"{d}\n{copy}\n{copy}" for d in lines * 2) + "\n", config=SMALL)
    state = VecTimingState(SMALL)
    want = [state.issue(ins) for ins in program.instructions]
    assert list(lower(program, SMALL).occupancy) == want
    assert len(set(want[::3])) == 4  # four phases, four costs
