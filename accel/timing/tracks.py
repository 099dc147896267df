"""What a timeline looks like drawn: the rows (engines and DMA queues), lanes, waits and counters.

The Perfetto/JSON trace (accel.timing.trace) and the Gantt chart (accel.timing.gantt) draw the
same picture; this module works it out once from a Timeline:

* one row per engine (PE, ACT, VEC, and DMA for the DMA engine's instructions that move no data:
  sem.wait, sem.signal, nop) and one per DMA queue (the transfers that ran on it);
* a row's instructions may overlap in time (the PE array is pipelined: a matmul may start before
  the previous one's last result is in PSUM), so each gets a lane, the lowest whose last
  instruction has ended: lane 0 for everything that does not overlap;
* the waits: the cycles from an instruction's reaching its queue's head (engine free) to its start,
  when a semaphore or a resource (PSUM bank, DMA queue, the ACT interlock) held it, on its engine's row;
* the semaphore flows: one arrow per (sem.signal, sem.wait) pair whose units the wait took;
* the counters as step functions over cycles: DRAM-port bandwidth in bytes per cycle (each
  transfer's bytes spread evenly over its data phase data_start..end) and PSUM banks in use
  (a bank counts from the start to the end of every instruction that reads or writes it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accel.isa.encoding import instruction_text
from accel.timing.timeline import DMA_QUEUE, ENGINE, ENGINES, HELD, INTERLOCK, PSUM_BANK, READY, SEMAPHORE, Timeline

DMA = ENGINES.index("DMA")


@dataclass
class Row:
    """One row of the picture: an engine or a DMA queue and the instructions drawn on it."""

    name: str  # "PE", "ACT", "VEC", "DMA", "DMA queue 0", ...
    engine: int  # engine code (ENGINES)
    queue: int  # DMA queue, -1 for an engine row
    index: np.ndarray  # program indices of its instructions, in program order
    lane: np.ndarray  # lane of each (0 .. lanes-1)
    lanes: int  # at least 1


def lanes(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Lane of each interval start..end-1, in the given order: the lowest lane whose last interval
    has ended by its start, so the intervals of one lane never overlap (0 for all when none do)."""
    out = np.zeros(start.size, dtype=np.int64)
    if start.size < 2 or np.all(start[1:] >= np.maximum.accumulate(end)[:-1]):
        return out
    lane_end: list[int] = []
    for k, (s, e) in enumerate(zip(start.tolist(), end.tolist(), strict=True)):
        j = next((j for j, free in enumerate(lane_end) if free <= s), len(lane_end))
        if j == len(lane_end):
            lane_end.append(e)
        lane_end[j] = e
        out[k] = j
    return out


def rows(tl: Timeline) -> list[Row]:
    """The rows in display order: PE, ACT, VEC, DMA, then DMA queue 0 .. dma_queues-1."""
    out = []
    transfer = tl.dma_queue >= 0
    for code, name in enumerate(ENGINES):
        idx = np.flatnonzero((tl.engine == code) & ~transfer)
        out.append(_row(tl, name, code, -1, idx))
    for q in range(max(tl.config.dma_queues, int(tl.dma_queue.max(initial=-1)) + 1)):
        out.append(_row(tl, f"DMA queue {q}", DMA, q, np.flatnonzero(tl.dma_queue == q)))
    return out


def _row(tl: Timeline, name: str, engine: int, queue: int, idx: np.ndarray) -> Row:
    lane = lanes(tl.start[idx], tl.end[idx])
    return Row(name, engine, queue, idx, lane, int(lane.max(initial=0)) + 1)


def waits(tl: Timeline, row: Row) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The stretches an engine stood with an instruction at its queue's head, engine free, held by a
    semaphore or a resource (PSUM bank, DMA queue, ACT interlock): (instruction index, head, start) for each. They
    belong to the engine's row (a transfer waiting for a DMA queue stalls the DMA engine, not a
    queue); a queue's row has none."""
    if row.queue >= 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
    idx = np.flatnonzero(tl.engine == row.engine)
    keep = np.isin(tl.reason[idx], HELD) & (tl.head[idx] < tl.start[idx])
    return idx[keep], tl.head[idx][keep], tl.start[idx][keep]


def flows(tl: Timeline) -> tuple[np.ndarray, np.ndarray]:
    """(signal, wait) program indices, one pair per entry of released_by: the sem.signal whose
    units the sem.wait took; pair k is released_by[k] -> the wait whose slice of released_by holds k."""
    counts = np.diff(tl.released_ptr)
    wait = np.repeat(np.arange(counts.size), counts)
    return tl.released_by[: wait.size].astype(np.int64), wait


def _steps(times: np.ndarray, deltas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A step function from +/- changes at times: the distinct change times (sorted) and the value
    from each on; starts with (0, 0) when nothing changes at cycle 0."""
    order = np.argsort(times, kind="stable")
    t, v = times[order], np.cumsum(deltas[order])
    last = np.r_[t[1:] != t[:-1], True] if t.size else np.zeros(0, bool)
    t, v = t[last], v[last]
    if not t.size or t[0] != 0:
        t, v = np.r_[0, t], np.r_[0, v]
    same = np.r_[False, v[1:] == v[:-1]]  # drop changes that cancel out
    return t[~same].astype(np.int64), v[~same]


def dram_bandwidth(tl: Timeline) -> tuple[np.ndarray, np.ndarray]:
    """Bytes per cycle on the DRAM port: (change cycles, value from each on)."""
    moved = (tl.dram_bytes > 0) & (tl.end > tl.data_start)
    first, last = tl.data_start[moved].astype(np.int64), tl.end[moved].astype(np.int64)
    rate = tl.dram_bytes[moved] / (last - first)
    t, v = _steps(np.r_[first, last], np.r_[rate, -rate])
    return t, np.round(v, 9) + 0.0  # cancel the float residue of +rate-rate; -0.0 -> 0.0


def psum_banks_in_use(tl: Timeline) -> tuple[np.ndarray, np.ndarray]:
    """PSUM banks some instruction is using: (change cycles, count from each on)."""
    times, deltas = [], []
    banks = tl.psum_banks.astype(np.int64)
    for b in range(max(tl.config.psum_banks, int(banks.max(initial=0)).bit_length())):
        use = (banks >> b) & 1 == 1
        if not use.any():
            continue
        t, cover = _steps(np.r_[tl.start[use], tl.end[use]].astype(np.int64),
                          np.r_[np.ones(use.sum(), np.int64), -np.ones(use.sum(), np.int64)])
        busy = (cover > 0).astype(np.int64)
        times.append(t)
        deltas.append(np.diff(np.r_[0, busy]))
    if not times:
        return np.zeros(1, np.int64), np.zeros(1, np.int64)
    return _steps(np.concatenate(times), np.concatenate(deltas))


def text(tl: Timeline, i: int) -> str:
    """Instruction i's source text as written (or as the disassembler prints it, for a binary)."""
    ins = tl.program.instructions[i]
    return ins.source or instruction_text(ins, tl.program)


def label(tl: Timeline, i: int) -> str:
    """'#i mnemonic (file:line)': how a wait names the instruction it waited for."""
    ins = tl.program.instructions[i]
    where = ins.where()
    return f"#{i} {ins.mnemonic}" + (f" ({where})" if where else "")


def waited(tl: Timeline, i: int) -> str:
    """What instruction i waited for, in words (the constraint satisfied last, REASONS)."""
    r, b = int(tl.reason[i]), int(tl.blocker[i])
    by = label(tl, b) if b >= 0 else "?"
    if r == READY:
        return "nothing"
    if r == ENGINE:
        return f"its engine, busy with {by}"
    if r == SEMAPHORE:
        sem = tl.program.instructions[i].ops.get("sem")
        units = ", ".join(label(tl, int(s)) for s in tl.released(i)) or by
        return f"semaphore s{sem}, released by {units}"
    if r == PSUM_BANK:
        return f"a PSUM bank held by {by}"
    if r == DMA_QUEUE:
        return f"a free DMA queue, released by {by}"
    if r == INTERLOCK:
        return f"the ACT pipeline to finish {by}"
    return f"reason {r}"


def args(tl: Timeline, i: int) -> dict[str, int | str]:
    """The facts the trace attaches to instruction i's slice."""
    ins = tl.program.instructions[i]
    out: dict[str, int | str] = {"index": i, "source": text(tl, i)}
    if ins.where():
        out["where"] = ins.where()
    out.update(dispatch=int(tl.dispatch[i]), ready=int(tl.ready[i]), start=int(tl.start[i]),
               end=int(tl.end[i]), cycles=int(tl.end[i] - tl.start[i]), waited_for=waited(tl, i))
    if tl.blocker[i] >= 0:
        out["blocker"] = int(tl.blocker[i])
    if tl.dma_queue[i] >= 0:
        out.update(dma_queue=int(tl.dma_queue[i]), data_start=int(tl.data_start[i]),
                   dram_bytes=int(tl.dram_bytes[i]))
    if tl.psum_banks[i]:
        out["psum_banks"] = ",".join(str(b) for b in range(64) if int(tl.psum_banks[i]) >> b & 1)
    return out
