"""The schedule: the sequencer and every engine's in-order queue on one clock (docs/timing.md).

`schedule(program, config)` lowers each instruction to its static cost (accel.timing.pe, dma, act
and vec; sync instructions take sync_cycles), then runs one event simulation of the core: the
sequencer dispatching into the queues, each engine starting its queue's head when the engine, the
semaphore and the resources allow. Nothing depends on data, so this is exact without values.

Compiled programs repeat their instructions, so the lowering works out each distinct line's cost
once (`_static`; transfers and VEC instructions once per `_shape`, so lines that differ in a DRAM
offset or a Philox base share it) and gathers the per-instruction arrays from that table; only the
PE weight shapes (a matmul is timed by the weights loaded before it) and the VEC Philox replay
(accel.timing.vec.replay) follow the program order.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import njit

from accel.config import CoreConfig
from accel.errors import MachineError
from accel.isa.encoding import Instruction, Program
from accel.isa.operands import AP, DramAP, dtype_bytes
from accel.timing import act, dma, pe, vec
from accel.timing.timeline import DMA_QUEUE, ENGINE, ENGINES, INTERLOCK, PSUM_BANK, READY, SEMAPHORE, Timeline

# How the event simulation treats an instruction.
GENERIC, SIGNAL, WAIT, PE_LOAD, PE_MATMUL, DMA, ACT_STREAM, ACT_TABLE, ACT_SWITCH = range(9)
_ENGINE_CODE = {e: k for k, e in enumerate(ENGINES)}
_SPACE_CODE = {"sb": 0, "psum": 1}
# Columns of the static table, one row per distinct instruction (_static).
(_ENG, _KIND, _OCC, _LAT, _SEM, _COUNT, _MOVING, _BANKS, _BYTES, _PHILOX, _VECOP, _VECFACTS, _NEED_K,
 _NEED_N) = range(14)
_RANGE = 14  # then the ACT byte ranges: written (dst), read (src), read (bias): 5 columns each
_RANGE_COLS = 5  # space (-1: none), first partition, partition past the last, first byte, last byte
_COLUMNS = _RANGE + 3 * _RANGE_COLS


@dataclass
class Lowered:
    """Per-instruction static costs, the event simulation's input (arrays of length n)."""

    engine: np.ndarray  # engine code
    kind: np.ndarray  # GENERIC .. ACT_SWITCH
    occupancy: np.ndarray  # GENERIC: cycles until the engine's next instruction may start
    latency: np.ndarray  # GENERIC: end - start; DMA: data-phase cycles (beats on the DRAM port)
    sem: np.ndarray  # SIGNAL/WAIT: semaphore; PE: K rows
    count: np.ndarray  # SIGNAL/WAIT: units; PE: N columns
    moving: np.ndarray  # PE_MATMUL: M moving vectors
    banks: np.ndarray  # PSUM banks used (bit mask)
    dram_bytes: np.ndarray
    code: np.ndarray  # row of `ranges` (the distinct instruction it is)
    ranges: np.ndarray  # per distinct instruction: ACT byte ranges written (dst) and read (src, bias), 5 each
    replay: np.ndarray  # the VEC instructions to replay for their Philox cycles (empty without Philox forms)
    fixed: np.ndarray  # per replayed instruction: its fixed cycles, -1 for a Philox form
    facts: np.ndarray  # per replayed instruction: the number of its VEC timing facts
    vec_pass: vec.Replay | None  # the latest replay of those instructions (None without Philox forms)


def lower(program: Program, config: CoreConfig) -> Lowered:
    """The static cost of every instruction before the first halt; MachineError for a PE shape
    mismatch (matmul against weights of another shape), which the schedule cannot time."""
    instructions = program.instructions
    rows: dict[tuple[int, ...], int] = {}  # distinct rows (lines that differ in offsets only share one)
    codes: list[int] = []
    append = codes.append
    seen: dict[Any, tuple[int, dict, dict]] = {}
    vec_facts: dict[tuple, int] = {}  # VEC timing facts (accel.timing.vec.timing_facts) -> their number
    shaped: dict[tuple, int] = {}  # DMA and VEC rows by _shape
    halt = -1
    for ins in instructions:
        # an instruction's cost is a function of its table entry and operands: the assembler gives
        # every recurrence of a line the same operand objects, so the comparison is mostly identities
        src = ins.source
        key = src if src is not None else (ins.spec["mnemonic"], *ins.ops.values())
        hit = seen.get(key)
        if hit is None or hit[1] is not ins.spec or hit[2] != ins.ops:
            if ins.spec["engine"] in _SHAPED:
                shape = _shape(ins)
                r = shaped.get(shape)
                if r is None:
                    r = shaped[shape] = rows.setdefault(_static(ins, len(codes), program, config, vec_facts),
                                                         len(rows))
            else:
                r = rows.setdefault(_static(ins, len(codes), program, config, vec_facts), len(rows))
            hit = seen[key] = (r, ins.spec, ins.ops)
            if ins.spec["mnemonic"] == "halt":
                halt = r
        if hit[0] == halt:
            break
        append(hit[0])
    table = np.array(list(rows), dtype=np.int64).reshape(-1, _COLUMNS)
    code = np.fromiter(codes, dtype=np.int64, count=len(codes))
    by_column = np.ascontiguousarray(table.T)
    col = {name: by_column[k].take(code) for name, k in (
        ("engine", _ENG), ("kind", _KIND), ("occupancy", _OCC), ("latency", _LAT), ("sem", _SEM), ("count", _COUNT),
        ("moving", _MOVING), ("banks", _BANKS), ("dram_bytes", _BYTES))}
    kind = col["kind"]
    _function_switches(instructions, col["engine"], kind)
    on_pe = np.flatnonzero((kind == PE_LOAD) | (kind == PE_MATMUL))
    if on_pe.size:
        k, n, bad, why = pe.weights(kind[on_pe] == PE_LOAD, col["sem"][on_pe], col["count"][on_pe],
                                    table[code[on_pe], _NEED_K], table[code[on_pe], _NEED_N])
        if bad >= 0:
            i = int(on_pe[bad])
            ins = instructions[i]
            where = f" ({ins.where()}: {ins.source})" if ins.line else f" (instruction {i})"
            raise MachineError(f"{ins.mnemonic}{where}: {why}")
        col["sem"][on_pe], col["count"][on_pe] = k, n
    replay = fixed = facts = np.zeros(0, dtype=np.int64)
    vec_pass = None
    if table[:, _PHILOX].any():  # cycles that depend on the lanes' Philox cores: as if back to back
        replay = np.flatnonzero(table[code, _VECOP])
        occ, lat = col["occupancy"], col["latency"]
        fixed = np.where(table[code[replay], _PHILOX] == 1, -1, occ[replay])
        facts = table[code[replay], _VECFACTS]
        vec_pass = vec.replay(config, instructions, replay, fixed, facts)
        occ[replay] = lat[replay] = vec_pass.cycles
    return Lowered(**col, code=code, ranges=np.ascontiguousarray(table[:, _RANGE:]), replay=replay,
                   fixed=fixed, facts=facts, vec_pass=vec_pass)


def _function_switches(instructions: list[Instruction], engine: np.ndarray, kind: np.ndarray) -> None:
    """Mark ACT_SWITCH every act.func whose function is not the one the ACT units hold: the previous
    act.func's, unless an act.lut.load rewrote that slot since (none after reset). Such an instruction
    loads the new function's header into the units, so it starts when every earlier ACT instruction
    has ended (docs/timing.md "ACT interlock"; rtl/act_engine.v)."""
    current = -1
    for i in np.flatnonzero(engine == _ENGINE_CODE["ACT"]).tolist():
        ins = instructions[i]
        m = ins.spec["mnemonic"]
        if m == "act.func":
            fn = ins.ops["fn"]
            if fn != current:
                kind[i] = ACT_SWITCH
                current = fn
        elif m == "act.lut.load" and ins.ops["fn"] == current:
            current = -1


_SHAPED = frozenset({"DMA", "VEC"})  # engines whose lines recur with other DRAM offsets and Philox bases


def _shape(ins: Instruction) -> tuple:
    """A key equal for instructions with equal static rows, coarser than their text: a DRAM pattern
    by its dims (accel.timing.dma.transfer reads nothing else of it), an on-chip pattern by identity
    (the assembler shares equal ones), a Philox index base by its phase (accel.timing.vec.philox_facts
    reads base & 3), every other operand as it is."""
    return (id(ins.spec), *[v.dims if type(v) is DramAP else id(v) if type(v) is AP else v & 3 if k == "base" else v
                            for k, v in ins.ops.items()])


def _static(ins: Instruction, i: int, program: Program, config: CoreConfig,
            vec_facts: dict[tuple, int]) -> tuple[int, ...]:
    """One row of the static table: everything the schedule needs of `ins` that does not depend on
    the instructions around it (PE's K x N are the weights' own or what a matmul needs)."""
    row = _BLANK.copy()
    m = ins.mnemonic
    e = ins.engine
    if m == "halt":
        return _HALT_ROW
    row[_ENG] = _ENGINE_CODE[e]
    row[_BANKS] = psum_banks(ins, config.psum_bank_bytes)
    if m == "sem.signal" or m == "sem.wait":
        row[_KIND] = SIGNAL if m == "sem.signal" else WAIT
        row[_SEM], row[_COUNT] = ins.ops["sem"], ins.ops["count"]
        row[_OCC] = row[_LAT] = config.sync_cycles
    elif m == "nop":
        row[_OCC] = row[_LAT] = config.sync_cycles
    elif e == "PE":
        try:
            is_load, k, n, moving, need_k, need_n = pe.shape(ins)
        except ValueError as err:
            where = f" ({ins.where()}: {ins.source})" if ins.line else f" (instruction {i})"
            raise MachineError(f"{m}{where}: {err}") from None
        row[_KIND] = PE_LOAD if is_load else PE_MATMUL
        row[_SEM], row[_COUNT], row[_MOVING], row[_NEED_K], row[_NEED_N] = k, n, moving, need_k, need_n
    elif e == "DMA":
        row[_KIND] = DMA
        row[_LAT], row[_BYTES] = dma.transfer(ins, program, config)
    elif e == "ACT":
        row[_OCC], row[_LAT] = act.act_cycles(ins, config)
        if m == "act.lut.load":
            row[_KIND] = ACT_TABLE
        else:
            row[_KIND] = ACT_STREAM
            for k, v in enumerate((ins.ops["dst"], ins.ops["src"], ins.ops.get("bias"))):
                if isinstance(v, AP):
                    lo, hi = byte_span(v)
                    at = _RANGE + k * _RANGE_COLS
                    row[at:at + _RANGE_COLS] = _SPACE_CODE[v.space], v.pstart, v.pstart + v.pcount, lo, hi
    else:  # VEC
        row[_VECOP] = 1
        if vec._is_philox(ins):
            row[_PHILOX] = 1  # lower() replays it with the engine's state
        else:
            row[_OCC] = row[_LAT] = vec.fixed_cycles(ins, config)
        facts = vec.timing_facts(ins, -1 if row[_PHILOX] else row[_OCC])
        row[_VECFACTS] = vec_facts.setdefault(facts, len(vec_facts))
    return tuple(row)


_BLANK = [-1 if k >= _RANGE and (k - _RANGE) % _RANGE_COLS == 0 else 0 for k in range(_COLUMNS)]
_HALT_ROW = tuple(-1 if k == _ENG else v for k, v in enumerate(_BLANK))  # the only row of engine -1


def psum_banks(ins: Instruction, bank_bytes: int) -> int:
    """Bit mask of the PSUM banks an instruction's patterns touch."""
    mask = 0
    for v in ins.ops.values():
        if type(v) is AP and v.space == "psum":
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
    # The lowering makes many small objects and no reference cycles; the cyclic collector's scans of
    # everything alive (a long program's instructions) would take a third of its time.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _schedule(program, config)
    finally:
        if enabled:
            gc.enable()


def _schedule(program: Program, config: CoreConfig) -> Timeline:
    low = lower(program, config)
    n = low.engine.size
    for _ in range(_REPLAYS):
        out = _simulate(low.engine, low.kind, low.occupancy, low.latency, low.sem, low.count, low.moving, low.banks,
                        low.code, low.ranges, config.dispatch_cycles, config.queue_depth, config.dma_latency_cycles,
                        config.dma_queues, config.pe_rows + config.pe_cols - 2, config.semaphores, config.psum_banks)
        (status, dispatch, ready, head, start, end, reason, blocker, queue, data_start, rel_wait, rel_signal, nrel,
         ptr, ndisp) = out
        if status:
            raise MachineError(_deadlock_text(program, low, ptr, ndisp, config))
        if not _replay_vec(program.instructions, low, start, config):
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


def _replay_vec(instructions: list[Instruction], low: Lowered, start: np.ndarray, config: CoreConfig) -> bool:
    """The VEC instructions' cycles again with the start clocks of the schedule just made: the Philox
    forms' occupancy depends on how long the lanes' cores ran while the engine waited (accel.timing.vec).
    True when some occupancy changed, so the schedule must be made again."""
    if low.vec_pass is None:
        return False
    replay = low.replay
    low.vec_pass = vec.replay(config, instructions, replay, low.fixed, low.facts, start[replay], low.vec_pass)
    cycles = low.vec_pass.cycles
    if np.array_equal(cycles, low.occupancy[replay]):
        return False
    low.occupancy[replay] = low.latency[replay] = cycles
    return True


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
def _meets(ranges, writer, reader):
    """Whether the bytes distinct instruction `writer` writes (its dst range) meet a range `reader`
    reads (src, bias): same space, common partitions, common bytes: one comparator per range."""
    space = ranges[writer, 0]
    if space < 0:
        return False
    for at in (5, 10):
        if (ranges[reader, at] == space and ranges[reader, at + 1] < ranges[writer, 2]
                and ranges[writer, 1] < ranges[reader, at + 2] and ranges[reader, at + 3] <= ranges[writer, 4]
                and ranges[writer, 3] <= ranges[reader, at + 4]):
            return True
    return False


@njit(cache=True)
def _simulate(engine, kind, occ, lat, sem, count, moving, banks, code, ranges, dispatch_cycles, depth, dma_latency,
              dma_queues, pe_latency, nsems, nbanks):
    """The event simulation (docs/timing.md, "The clock"). The sequencer dispatches as far as it can
    (a dispatch depends only on earlier dispatches and starts); then the engine whose queue head can
    start earliest commits. Committing never lets another agent act earlier, so start times come out
    in order and are exact."""
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
    # ACT: its streaming instructions in order (their ends ascend), for the interlock
    streams = np.zeros(max(1, counts[1]), np.int64)
    nstreams = 0
    # DMA: transfers in issue order, the DRAM port
    transfers = np.zeros(max(1, counts[3]), np.int64)
    ntransfers = 0
    dram_free = np.int64(0)
    # sequencer
    ndisp = 0
    last_dispatch = -dispatch_cycles
    done = 0
    while done < n:
        # the sequencer, in program order, until a full queue holds it
        while ndisp < n:
            i = ndisp
            e = engine[i]
            t = last_dispatch + dispatch_cycles
            if rank[i] >= depth:
                j = order[e, rank[i] - depth]
                if ptr[e] <= rank[j]:
                    break  # j has not left the queue
                t = max(t, start[j] + 1)
            dispatch[i] = t
            ready[i] = t + 1
            last_dispatch = t
            ndisp += 1
        best_t = big
        best = -1
        best_reason = READY
        best_blocker = -1
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
            elif k == ACT_STREAM:
                # the latest stream still in the pipeline at t that writes bytes this one reads
                q = nstreams - 1
                while q >= 0 and end[streams[q]] > t:
                    a = streams[q]
                    if _meets(ranges, code[a], code[i]):
                        t = end[a]
                        r = INTERLOCK
                        b = a
                        break
                    q -= 1
            elif k == ACT_TABLE or k == ACT_SWITCH:
                if edone[e] > t:  # rewrites the tables (or the header) the pipeline's elements may still read
                    t = edone[e]
                    r = INTERLOCK
                    b = edone_by[e]
            elif k == DMA:
                if ntransfers >= dma_queues:
                    j = transfers[ntransfers - dma_queues]
                    if end[j] > t:
                        t = end[j]
                        r = DMA_QUEUE
                        b = j
            m = banks[i]
            bk = 0
            while m:
                if m & 1 and bank_eng[bk] != e and bank_eng[bk] >= 0 and bank_end[bk] > t:
                    t = bank_end[bk]
                    r = PSUM_BANK
                    b = bank_by[bk]
                m >>= 1
                bk += 1
            if t < best_t:
                best_t = t
                best = e
                best_reason = r
                best_blocker = b
        if best < 0:
            return (1, dispatch, ready, head, start, end, reason, blocker, queue, data_start, rel_wait, rel_signal,
                    nrel, ptr, ndisp)
        t = best_t
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
        if k == GENERIC or k == ACT_TABLE:
            end[i] = t + lat[i]
        elif k == ACT_STREAM or k == ACT_SWITCH:
            end[i] = t + lat[i]
            streams[nstreams] = i
            nstreams += 1
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
        bk = 0
        while m:
            if m & 1:
                if bank_eng[bk] != e or end[i] > bank_end[bk]:
                    bank_end[bk] = max(bank_end[bk], end[i]) if bank_eng[bk] == e else end[i]
                    bank_by[bk] = i
                bank_eng[bk] = e
            m >>= 1
            bk += 1
    return (0, dispatch, ready, head, start, end, reason, blocker, queue, data_start, rel_wait, rel_signal, nrel,
            ptr, ndisp)
