"""The schedule: the sequencer and every engine's in-order queue on one clock (docs/timing.md).

`schedule(program, config)` lowers each instruction to its static cost (accel.timing.pe, dma, act
and vec; sync instructions take sync_cycles), then runs one event simulation of the core: the
sequencer dispatching into the queues, each engine starting its queue's head when the engine, the
semaphore and the resources allow. Nothing depends on data, so this is exact without values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from accel.config import CoreConfig
from accel.errors import MachineError
from accel.isa.encoding import Instruction, Program
from accel.isa.operands import AP, dtype_bytes
from accel.timing import act, dma, pe, vec
from accel.timing.timeline import DMA_QUEUE, ENGINE, ENGINES, PSUM_BANK, READY, SEMAPHORE, Timeline

# How the event simulation treats an instruction.
GENERIC, SIGNAL, WAIT, PE_LOAD, PE_MATMUL, DMA = range(6)
_ENGINE_CODE = {e: k for k, e in enumerate(ENGINES)}


@dataclass
class Lowered:
    """Per-instruction static costs, the event simulation's input (arrays of length n)."""

    engine: np.ndarray  # engine code
    kind: np.ndarray  # GENERIC .. DMA
    occupancy: np.ndarray  # GENERIC: cycles until the engine's next instruction may start
    latency: np.ndarray  # GENERIC: end - start; DMA: data-phase cycles (beats on the DRAM port)
    sem: np.ndarray  # SIGNAL/WAIT: semaphore; PE: K rows
    count: np.ndarray  # SIGNAL/WAIT: units; PE: N columns
    moving: np.ndarray  # PE_MATMUL: M moving vectors
    banks: np.ndarray  # PSUM banks used (bit mask)
    dram_bytes: np.ndarray


def lower(program: Program, config: CoreConfig) -> Lowered:
    """The static cost of every instruction before the first halt; MachineError for a PE shape
    mismatch (matmul against weights of another shape), which the schedule cannot time."""
    instructions = program.instructions
    n = next((i for i, ins in enumerate(instructions) if ins.mnemonic == "halt"), len(instructions))
    cols = {name: np.zeros(n, dtype=np.int64) for name in
            ("engine", "kind", "occupancy", "latency", "sem", "count", "moving", "banks", "dram_bytes")}
    engine, kind, occ, lat = cols["engine"], cols["kind"], cols["occupancy"], cols["latency"]
    sem, count, moving, banks, nbytes = cols["sem"], cols["count"], cols["moving"], cols["banks"], cols["dram_bytes"]
    weights = pe.WeightShapes()
    vstate = vec.VecTimingState(config)
    bank_bytes = config.psum_bank_bytes
    for i in range(n):
        ins = instructions[i]
        e = ins.engine
        engine[i] = _ENGINE_CODE[e]
        m = ins.mnemonic
        banks[i] = psum_banks(ins, bank_bytes)
        if m == "sem.signal" or m == "sem.wait":
            kind[i] = SIGNAL if m == "sem.signal" else WAIT
            sem[i], count[i] = ins.ops["sem"], ins.ops["count"]
            occ[i] = lat[i] = config.sync_cycles
        elif m == "nop":
            occ[i] = lat[i] = config.sync_cycles
        elif e == "PE":
            try:
                k_rows, n_cols, m_vectors, is_load = weights.step(ins, config)
            except ValueError as err:
                where = f" ({ins.where()}: {ins.source})" if ins.line else f" (instruction {i})"
                raise MachineError(f"{m}{where}: {err}") from None
            kind[i] = PE_LOAD if is_load else PE_MATMUL
            sem[i], count[i], moving[i] = k_rows, n_cols, m_vectors
        elif e == "DMA":
            kind[i] = DMA
            lat[i], nbytes[i] = dma.transfer(ins, program, config)
        elif e == "ACT":
            occ[i], lat[i] = act.act_cycles(ins, config)
        else:  # VEC, as if each instruction followed the one before back to back (schedule() corrects that)
            occ[i] = lat[i] = vec.vec_cycles(ins, config, vstate)
    return Lowered(**cols)


def psum_banks(ins: Instruction, bank_bytes: int) -> int:
    """Bit mask of the PSUM banks an instruction's patterns touch."""
    mask = 0
    for v in ins.ops.values():
        if getattr(v, "space", None) == "psum":
            lo, hi = byte_span(v)
            for b in range(lo // bank_bytes, hi // bank_bytes + 1):
                mask |= 1 << b
    return mask


def byte_span(ap: AP) -> tuple[int, int]:
    """Lowest and highest byte (within a partition) an access pattern touches."""
    size = dtype_bytes(ap.dtype)
    lo = hi = ap.offset // size
    for n, s in ap.dims:
        if s < 0:
            lo += (n - 1) * s
        else:
            hi += (n - 1) * s
    return lo * size, (hi + 1) * size - 1


def schedule(program: Program, config: CoreConfig) -> Timeline:
    """The timeline of `program` on `config`; MachineError on a deadlock (semaphores or full queues)."""
    low = lower(program, config)
    n = low.engine.size
    instructions = program.instructions
    vec_code = ENGINES.index("VEC")
    replay = [i for i in np.flatnonzero(low.engine == vec_code) if instructions[i].mnemonic.startswith("vec.")]
    if not any(vec._is_philox(instructions[i]) for i in replay):  # their cycles depend on the start clock
        replay = []
    for _ in range(_REPLAYS):
        out = _simulate(low.engine, low.kind, low.occupancy, low.latency, low.sem, low.count, low.moving, low.banks,
                        config.dispatch_cycles, config.queue_depth, config.dma_latency_cycles, config.dma_queues,
                        config.pe_rows + config.pe_cols - 2, config.semaphores, config.psum_banks)
        (status, dispatch, ready, head, start, end, reason, blocker, queue, data_start, rel_wait, rel_signal, nrel,
         ptr, ndisp) = out
        if status:
            raise MachineError(_deadlock_text(program, low, ptr, ndisp, config))
        if not _replay_vec(instructions, replay, start, low, config):
            break
    else:
        raise MachineError(f"VEC Philox timing did not settle after {_REPLAYS} passes")
    rel_wait, rel_signal = rel_wait[:nrel], rel_signal[:nrel]
    order = np.argsort(rel_wait, kind="stable")
    released_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rel_wait, minlength=n), out=released_ptr[1:])
    return Timeline(program=program, config=config, engine=low.engine.astype(np.int8), dispatch=dispatch,
                    ready=ready, head=head, start=start, end=end, reason=reason.astype(np.int8), blocker=blocker,
                    dma_queue=queue.astype(np.int8), data_start=data_start, dram_bytes=low.dram_bytes,
                    psum_banks=low.banks, released_ptr=released_ptr, released_by=rel_signal[order],
                    total=int(end.max()) if n else 0,
                    macs=int((low.sem * low.count * low.moving)[low.kind == PE_MATMUL].sum()))


_REPLAYS = 16


def _replay_vec(instructions: list[Instruction], replay: list[int], start: np.ndarray, low: Lowered,
                config: CoreConfig) -> bool:
    """The VEC instructions' cycles again with the start clocks of the schedule just made: the Philox
    forms' occupancy depends on how long the lanes' cores ran while the engine waited (accel.timing.vec).
    True when some occupancy changed, so the schedule must be made again."""
    state = vec.VecTimingState(config)
    changed = False
    for i in replay:
        cycles = state.issue(instructions[i], max(int(start[i]), state.ready))
        if cycles != low.occupancy[i]:
            low.occupancy[i] = low.latency[i] = cycles
            changed = True
    return changed


def _deadlock_text(program: Program, low: Lowered, ptr: np.ndarray, ndisp: int, config: CoreConfig) -> str:
    lines = ["deadlock: no engine can start its next instruction and the sequencer cannot dispatch"]
    instructions = program.instructions
    for e, name in enumerate(ENGINES):
        order = np.flatnonzero(low.engine == e)
        if ptr[e] < order.size:
            i = int(order[ptr[e]])
            ins = instructions[i]
            where = f" at {ins.where()}" if ins.line else f" (instruction {i})"
            state = "not dispatched" if i >= ndisp else (
                f"waits on s{low.sem[i]} (needs {low.count[i]})" if low.kind[i] == WAIT else "cannot start")
            lines.append(f"  {name}: {ins.source or ins.mnemonic}{where}: {state}")
    if ndisp < low.engine.size:
        ins = instructions[ndisp]
        eng = ENGINES[low.engine[ndisp]]
        where = f" at {ins.where()}" if ins.line else f" (instruction {ndisp})"
        lines.append(f"  sequencer: {ins.source or ins.mnemonic}{where} waits for room in the {eng} queue "
                     f"(queue_depth = {config.queue_depth})")
    return "\n".join(lines)


@njit(cache=True)
def _simulate(engine, kind, occ, lat, sem, count, moving, banks, dispatch_cycles, depth, dma_latency, dma_queues,
              pe_latency, nsems, nbanks):
    """The event simulation (docs/timing.md, "The clock"). Repeatedly commits the agent (the
    sequencer or one of the four engines' queue heads) that can act earliest; committing never lets
    another agent act earlier, so start times come out in order and are exact."""
    n = engine.size
    big = np.int64(1) << 62
    dispatch = np.full(n, -1, np.int64)
    ready = np.zeros(n, np.int64)
    head = np.zeros(n, np.int64)
    start = np.zeros(n, np.int64)
    end = np.zeros(n, np.int64)
    reason = np.zeros(n, np.int64)
    blocker = np.full(n, -1, np.int64)
    queue = np.full(n, -1, np.int64)
    data_start = np.zeros(n, np.int64)
    rel_wait = np.zeros(n, np.int64)
    rel_signal = np.zeros(n, np.int64)
    nrel = 0
    # per engine: its instructions in order, position of each instruction in its engine's order
    counts = np.zeros(4, np.int64)
    rank = np.zeros(n, np.int64)
    for i in range(n):
        rank[i] = counts[engine[i]]
        counts[engine[i]] += 1
    order = np.zeros((4, max(1, counts.max())), np.int64)
    for i in range(n):
        order[engine[i], rank[i]] = i
    ptr = np.zeros(4, np.int64)
    efree = np.zeros(4, np.int64)  # first cycle the engine may start its next instruction
    eprev = np.full(4, -1, np.int64)  # its previous instruction
    edone = np.zeros(4, np.int64)  # largest end of its instructions so far
    edone_by = np.full(4, -1, np.int64)
    # semaphore units: chunks (available cycle, signal, units left) in a FIFO per semaphore
    chunk_time = np.zeros(n + 1, np.int64)
    chunk_sig = np.zeros(n + 1, np.int64)
    chunk_left = np.zeros(n + 1, np.int64)
    chunk_next = np.full(n + 1, -1, np.int64)
    nchunks = 0
    sem_first = np.full(nsems, -1, np.int64)
    sem_last = np.full(nsems, -1, np.int64)
    sem_units = np.zeros(nsems, np.int64)
    # PSUM banks: the engine holding each, until when, by which instruction
    bank_eng = np.full(nbanks, -1, np.int64)
    bank_end = np.zeros(nbanks, np.int64)
    bank_by = np.full(nbanks, -1, np.int64)
    # PE array (accel.model.pe_array.PETimeline)
    load_free = np.int64(0)
    swap_done = np.int64(0)
    stream_free = np.int64(0)
    pending_end = np.int64(-1)  # L + K of weights loaded but not swapped in, -1 when none
    last_load = -1
    # DMA: transfers in issue order, the DRAM port
    transfers = np.zeros(max(1, counts[3]), np.int64)
    ntransfers = 0
    dram_free = np.int64(0)
    # sequencer
    ndisp = 0
    last_dispatch = -dispatch_cycles
    done = 0
    while done < n:
        best_t = big
        best = -1  # 4 = sequencer, 0..3 = engine
        best_reason = READY
        best_blocker = -1
        # the sequencer
        if ndisp < n:
            i = ndisp
            e = engine[i]
            t = last_dispatch + dispatch_cycles
            ok = True
            if rank[i] >= depth:
                j = order[e, rank[i] - depth]
                if ptr[e] > rank[j]:
                    t = max(t, start[j] + 1)
                else:
                    ok = False
            if ok:
                best_t = t
                best = 4
        # the engines' queue heads
        for e in range(4):
            if ptr[e] >= counts[e]:
                continue
            i = order[e, ptr[e]]
            if i >= ndisp:
                continue
            t = ready[i]
            r = READY
            b = -1
            if efree[e] > t:
                t = efree[e]
                r = ENGINE
                b = eprev[e]
            k = kind[i]
            if k == SIGNAL:
                if edone[e] > t:
                    t = edone[e]
                    r = ENGINE
                    b = edone_by[e]
            elif k == WAIT:
                s = sem[i]
                if sem_units[s] < count[i]:
                    continue  # blocked until a signal commits
                need = count[i]
                if need > 0:
                    c = sem_first[s]
                    while chunk_left[c] < need:
                        need -= chunk_left[c]
                        c = chunk_next[c]
                    if chunk_time[c] > t:
                        t = chunk_time[c]
                        r = SEMAPHORE
                        b = chunk_sig[c]
            elif k == PE_LOAD:
                u = max(load_free, swap_done)
                if u > t:
                    t = u
                    r = ENGINE
                    b = eprev[e]
            elif k == PE_MATMUL:
                u = max(stream_free, pending_end)
                if u > t:
                    t = u
                    r = ENGINE
                    b = last_load if pending_end > stream_free else eprev[e]
            elif k == DMA:
                if ntransfers >= dma_queues:
                    j = transfers[ntransfers - dma_queues]
                    if end[j] > t:
                        t = end[j]
                        r = DMA_QUEUE
                        b = j
            m = banks[i]
            if m:
                for bk in range(nbanks):
                    if (m >> bk) & 1 and bank_eng[bk] != e and bank_eng[bk] >= 0 and bank_end[bk] > t:
                        t = bank_end[bk]
                        r = PSUM_BANK
                        b = bank_by[bk]
            if t < best_t:
                best_t = t
                best = e
                best_reason = r
                best_blocker = b
        if best < 0:
            return (1, dispatch, ready, head, start, end, reason, blocker, queue, data_start, rel_wait, rel_signal,
                    nrel, ptr, ndisp)
        t = best_t
        if best == 4:
            i = ndisp
            dispatch[i] = t
            ready[i] = t + 1
            last_dispatch = t
            ndisp += 1
            continue
        e = best
        i = order[e, ptr[e]]
        ptr[e] += 1
        done += 1
        h = max(ready[i], efree[e])
        head[i] = h if best_reason != ENGINE else t
        start[i] = t
        reason[i] = best_reason
        blocker[i] = best_blocker
        k = kind[i]
        nxt = t + occ[i]
        if k == GENERIC:
            end[i] = t + lat[i]
        elif k == SIGNAL:
            end[i] = t + lat[i]
            s = sem[i]
            c = nchunks
            nchunks += 1
            chunk_time[c] = end[i]
            chunk_sig[c] = i
            chunk_left[c] = count[i]
            if sem_last[s] >= 0:
                chunk_next[sem_last[s]] = c
            else:
                sem_first[s] = c
            sem_last[s] = c
            sem_units[s] += count[i]
        elif k == WAIT:
            end[i] = t + lat[i]
            s = sem[i]
            need = count[i]
            sem_units[s] -= need
            while need > 0:
                c = sem_first[s]
                take = min(need, chunk_left[c])
                chunk_left[c] -= take
                need -= take
                rel_wait[nrel] = i
                rel_signal[nrel] = chunk_sig[c]
                nrel += 1
                if chunk_left[c] == 0:
                    sem_first[s] = chunk_next[c]
                    if sem_first[s] < 0:
                        sem_last[s] = -1
        elif k == PE_LOAD:
            load_free = t + sem[i]
            pending_end = t + sem[i]
            last_load = i
            end[i] = t + sem[i]
            nxt = t + 1
        elif k == PE_MATMUL:
            if pending_end >= 0:
                swap_done = t + count[i]
                pending_end = -1
            stream_free = t + moving[i]
            end[i] = t + moving[i] + pe_latency
            nxt = t + 1
        else:  # DMA
            queue[i] = ntransfers % dma_queues
            transfers[ntransfers] = i
            ntransfers += 1
            d = max(t + dma_latency, dram_free)
            data_start[i] = d
            end[i] = d + lat[i]
            dram_free = end[i]
            nxt = t + 1
        if k != DMA:
            data_start[i] = t
        efree[e] = nxt
        eprev[e] = i
        if end[i] > edone[e]:
            edone[e] = end[i]
            edone_by[e] = i
        m = banks[i]
        if m:
            for bk in range(nbanks):
                if (m >> bk) & 1:
                    if bank_eng[bk] != e or end[i] > bank_end[bk]:
                        bank_end[bk] = max(bank_end[bk], end[i]) if bank_eng[bk] == e else end[i]
                        bank_by[bk] = i
                    bank_eng[bk] = e
    return (0, dispatch, ready, head, start, end, reason, blocker, queue, data_start, rel_wait, rel_signal, nrel,
            ptr, ndisp)
