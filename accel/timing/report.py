"""What a timed run reports: per-engine time, DMA bandwidth, PE utilization, the critical path and
the bound (docs/timing.md, "What a run reports")."""

from __future__ import annotations

from typing import Any

import numpy as np

from accel.timing.timeline import ENGINE, ENGINES, HELD, READY, REASONS, RESOURCES, SEMAPHORE, Timeline

SYNC = ("sem.signal", "sem.wait", "nop")
BOUNDS = {"PE": "compute-bound (PE array)", "ACT": "ACT-bound", "VEC": "VEC-bound", "DMA": "DMA-bound",
          "sync": "sync-bound (semaphore waits and dispatch)"}


def covered(starts: np.ndarray, ends: np.ndarray) -> int:
    """Cycles covered by the union of the intervals [starts, ends)."""
    keep = ends > starts
    s, e = starts[keep], ends[keep]
    if not s.size:
        return 0
    order = np.argsort(s, kind="stable")
    s, e = s[order], np.maximum.accumulate(e[order])
    gap = np.maximum(s[1:] - e[:-1], 0)  # uncovered cycles between consecutive merged runs
    return int(e[-1] - s[0] - gap.sum())


def engine_time(tl: Timeline) -> dict[str, dict[str, int]]:
    """Per engine: instructions, busy cycles (some instruction of it in flight), cycles waiting on a
    semaphore or on a resource (PSUM bank, DMA queue, the ACT interlock) while not busy, and idle cycles."""
    out = {}
    for code, name in enumerate(ENGINES):
        mine = tl.engine == code
        start, end, head, reason = tl.start[mine], tl.end[mine], tl.head[mine], tl.reason[mine]
        busy = covered(start, end)
        sem = reason == SEMAPHORE
        res = np.isin(reason, RESOURCES)
        with_sem = covered(np.concatenate([start, head[sem]]), np.concatenate([end, start[sem]]))
        with_res = covered(np.concatenate([start, head[sem], head[res]]),
                           np.concatenate([end, start[sem], start[res]]))
        out[name] = {"instructions": int(mine.sum()), "busy": busy, "semaphore_wait": with_sem - busy,
                     "resource_wait": with_res - with_sem, "idle": tl.total - with_res}
    return out


def critical_path(tl: Timeline) -> list[int]:
    """The chain of instructions that sets the total, first to last: from the instruction that ends
    last, back through what each one waited for (its blocker; for a DMA transfer held by the DRAM
    port, the transfer before it; for one held by dispatch, the instruction whose start freed its
    queue entry)."""
    n = len(tl)
    if not n:
        return []
    c = tl.config
    dma = np.flatnonzero(tl.engine == ENGINES.index("DMA"))
    prev_transfer = np.full(n, -1, dtype=np.int64)
    prev_transfer[dma[1:]] = dma[:-1]
    # dispatch stalls: instruction k waited for a queue entry when its dispatch came later than the rule
    stalled = np.zeros(n, dtype=bool)
    stalled[1:] = tl.dispatch[1:] > tl.dispatch[:-1] + c.dispatch_cycles
    last_stall = np.where(stalled, np.arange(n), -1)
    np.maximum.accumulate(last_stall, out=last_stall)
    rank = np.zeros(n, dtype=np.int64)
    orders = []
    for code in range(len(ENGINES)):
        idx = np.flatnonzero(tl.engine == code)
        rank[idx] = np.arange(idx.size)
        orders.append(idx)
    path = []
    i = int(np.flatnonzero(tl.end == tl.end.max())[-1])
    seen = set()
    while i >= 0 and i not in seen:
        seen.add(i)
        path.append(i)
        j = prev_transfer[i]
        if j >= 0 and tl.data_start[i] > tl.start[i] + c.dma_latency_cycles:
            i = int(j)  # the DRAM port was busy with the transfer before
        elif tl.reason[i] != READY:
            i = int(tl.blocker[i])
        else:
            k = int(last_stall[i])
            if k < 0:
                break
            e = int(tl.engine[k])
            i = int(orders[e][rank[k] - c.queue_depth])  # its start freed the queue entry k waited for
    return path[::-1]


def summary(tl: Timeline, instructions: bool = False) -> dict[str, Any]:
    """The run's timing as plain data (what `accel run --json` prints under "timing")."""
    c = tl.config
    total = tl.total
    path = critical_path(tl)
    engines = engine_time(tl)
    ins = tl.program.instructions
    # the critical path's cycles by what did the work: each instruction's interval, clipped so
    # that overlapping ones count once; the rest of the total is waiting or dispatch ("sync")
    on_path = dict.fromkeys(BOUNDS, 0)
    cursor = 0
    for i in path:
        s, e = int(tl.start[i]), int(tl.end[i])
        work = max(0, e - max(s, cursor))
        kind = "sync" if ins[i].mnemonic in SYNC else ENGINES[tl.engine[i]]
        on_path[kind] += work
        cursor = max(cursor, e)
    on_path["sync"] += total - sum(on_path.values())
    top = max(on_path, key=lambda k: on_path[k]) if total else "sync"
    nbytes = int(tl.dram_bytes.sum())
    dma = tl.engine == ENGINES.index("DMA")
    port = int((tl.end[dma] - tl.data_start[dma]).sum())
    out: dict[str, Any] = {
        "total_cycles": total,
        "bound": BOUNDS[top],
        "bound_detail": (f"{BOUNDS[top]}: {on_path[top] / total:.0%} of the critical path's {total} cycles"
                         if total else "no instructions"),
        "critical_path_cycles": on_path,
        "critical_path": path,
        "engines": engines,
        "dma": {"bytes": nbytes, "bytes_per_cycle": nbytes / total if total else 0.0,
                "peak_bytes_per_cycle": c.dma_bytes_per_cycle, "port_busy_cycles": port,
                "lower_bound_cycles": -(-nbytes // c.dma_bytes_per_cycle)},
        "pe": {"macs": tl.macs, "utilization": tl.macs / (c.pe_rows * c.pe_cols * total) if total else 0.0},
    }
    if instructions:
        out["instructions"] = [instruction_record(tl, i) for i in range(len(tl))]
    return out


def instruction_record(tl: Timeline, i: int) -> dict[str, Any]:
    """One instruction's timing as plain data: where it is, when it ran and what it waited for."""
    ins = tl.program.instructions[i]
    rec: dict[str, Any] = {"index": i, "mnemonic": ins.mnemonic, "engine": ENGINES[tl.engine[i]],
                           "where": ins.where() or None, "dispatch": int(tl.dispatch[i]),
                           "start": int(tl.start[i]), "end": int(tl.end[i]), "waited_for": REASONS[tl.reason[i]],
                           "blocker": int(tl.blocker[i]) if tl.blocker[i] >= 0 else None}
    if tl.reason[i] == ENGINE or tl.reason[i] in HELD:
        rec["waited_cycles"] = int(tl.start[i] - max(tl.head[i], tl.ready[i])) if tl.reason[i] != ENGINE else \
            int(tl.start[i] - tl.ready[i])
    if ins.mnemonic == "sem.wait":
        rec["semaphore"] = int(ins.ops["sem"])
        rec["released_by"] = [int(j) for j in tl.released(i)]
    if tl.dma_queue[i] >= 0:
        rec["dma_queue"] = int(tl.dma_queue[i])
        rec["bytes"] = int(tl.dram_bytes[i])
    return rec
