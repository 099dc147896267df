"""Reordering a segment's instructions across engines (../shared/PATENTS.md, US11016775B2).

The lowerings emit each node's instructions in the order one engine hands work to the next (load,
matmul, drain, store), so an engine's queue can hold work that waits on another engine (a DMA store
waiting for ACT) in front of work it could do now (the next layer's weight loads): the engine idles
in the gap. This pass removes such gaps:

1. **Dependencies** from the assembled program itself, not from what the lowerings declared: every
   memory operand an instruction reads or writes (accel.timing.race.operand_accesses) as partitions
   and a byte range (SBUF, PSUM) or an element range (a DRAM tensor), and the engines' state (the
   PE's loaded weights, the VEC random generator, the ACT tables) as one more location each. Two
   instructions depend when they touch a common location and one writes it, on any engine, so the
   values cannot change: each instruction reads exactly what it read before.
2. **List scheduling** on a cost model of the engines (accel.timing's per-instruction costs: PE
   stream and weight loads, DMA queues and the DRAM port, ACT and VEC occupancy and latency): of the
   instructions whose dependencies are placed, the one that can start earliest goes next (ties: the
   original order), so the stream follows the order the engines can work in.
3. **Semaphores** anew: the instructions go through a fresh Builder in the new order with their
   real footprints as regions, which inserts the sem.signal / sem.wait pairs they need.
4. **The timing model judges**: `improve` schedules both programs (accel.timing.schedule) and keeps
   the reordered one only when it takes fewer cycles, so the pass is never slower.
"""

from __future__ import annotations

import heapq
import importlib
from bisect import bisect_left
from collections.abc import Iterator

from accel.compiler.builder import ENGINES, Builder, Region
from accel.compiler.graph import CompileError
from accel.compiler.segment import Segment
from accel.config import CoreConfig
from accel.isa.asm import AsmError, assemble
from accel.isa.encoding import Instruction, Program
from accel.isa.operands import AP, DramAP, dram_elements
from accel.timing.race import operand_accesses

# the module (accel.timing's package attribute of that name is the function)
sched = importlib.import_module("accel.timing.schedule")
SYNC = frozenset({"sem.signal", "sem.wait", "nop", "halt"})
BUCKET = 8192  # bytes (elements for DRAM) per bucket of the access index
PE_WEIGHTS = Region("pe weights", 0, 1, 0, 0)
VEC_RNG = Region("vec rng", 0, 1, 0, 0)
ACT_TABLES = Region("act tables", 0, 1, 0, 0)


def footprint(ins: Instruction, program: Program) -> tuple[list[Region], list[Region]]:
    """(reads, writes) of one instruction: its memory operands as partition and byte (on chip) or
    element (DRAM, space 'dram NAME') ranges, and the engine state it uses."""
    reads: list[Region] = []
    writes: list[Region] = []
    pcount = next((v.pcount for v in ins.ops.values() if type(v) is AP), 1)
    for name, write in operand_accesses(ins):
        v = ins.ops[name]
        if type(v) is AP:
            lo, hi = sched.byte_span(v)
            r = Region(v.space, v.pstart, v.pstart + v.pcount, lo, hi)
        elif type(v) is DramAP:
            lo, hi, _ = dram_elements(v, pcount)
            r = Region(f"dram {program.tensors[v.tensor].name}", 0, 1, lo, hi)
        else:  # pragma: no cover - operand_accesses names only patterns
            continue
        (writes if write else reads).append(r)
    m = ins.mnemonic
    if m.startswith("pe.load"):
        writes.append(PE_WEIGHTS)
    elif m.startswith("pe.matmul"):
        reads.append(PE_WEIGHTS)
    elif m.startswith("vec.rng") or "dropout" in m:
        reads.append(VEC_RNG)
        writes.append(VEC_RNG)
    elif m == "act.lut.load":
        writes.append(ACT_TABLES)
    elif m == "act.func":
        reads.append(ACT_TABLES)
    return reads, writes


class _Index:
    """The accesses a later instruction may depend on, bucketed by space and byte range. A write
    supersedes the accesses it covers (whoever touches them later depends on the write, which
    depends on them); reads of one region by one engine form a chain, so the last stands for all."""

    def __init__(self) -> None:
        self.buckets: dict[tuple[str, int], list[list]] = {}  # -> entries [region, op, write, alive]
        self.last_read: dict[tuple[Region, int], list] = {}

    def _keys(self, r: Region) -> Iterator[tuple[str, int]]:
        for k in range(r.lo // BUCKET, r.hi // BUCKET + 1):
            yield r.space, k

    def depends(self, r: Region, write: bool) -> set[int]:
        out = set()
        for key in self._keys(r):
            for e in self.buckets.get(key, ()):
                if e[3] and (write or e[2]) and e[0].meets(r):
                    out.add(e[1])
        return out

    def add(self, r: Region, op: int, engine: int, write: bool) -> int | None:
        """Record an access; for a read, returns the previous read of the same region by the same
        engine (the chain predecessor), if any."""
        prev = None
        if write:
            for key in self._keys(r):
                for e in self.buckets.get(key, ()):
                    if e[3] and r.covers(e[0]):
                        e[3] = False
        else:
            old = self.last_read.get((r, engine))
            if old is not None and old[3]:
                old[3] = False
                prev = old[1]
        entry = [r, op, write, True]
        if not write:
            self.last_read[(r, engine)] = entry
        for key in self._keys(r):
            lst = self.buckets.setdefault(key, [])
            if len(lst) > 64:
                lst[:] = [e for e in lst if e[3]]
            lst.append(entry)
        return prev


def dependencies(program: Program, ops: list[int]) -> tuple[list[list[int]], list[tuple[list[Region], list[Region]]]]:
    """For each of the instructions `ops` (program indices, sync removed): the positions in `ops` it
    must follow, and its footprint. They follow from the program alone, so the last few programs'
    are kept (the Program object itself, held here so it is never another one at the same address;
    programs are not changed once assembled): a sweep reorders one lowering for many timing configs.
    Callers must not change the lists."""
    for prog, kept_ops, out in _DEPENDENCIES:
        if prog is program and kept_ops == ops:
            return out
    out = _dependencies(program, ops)
    _DEPENDENCIES.insert(0, (program, list(ops), out))
    del _DEPENDENCIES[DEPENDENCIES_KEPT:]
    return out


DEPENDENCIES_KEPT = 3
_DEPENDENCIES: list[tuple[Program, list[int], tuple[list[list[int]], list[tuple[list[Region], list[Region]]]]]] = []


def _dependencies(program: Program, ops: list[int]) -> tuple[list[list[int]], list[tuple[list[Region], list[Region]]]]:
    index = _Index()
    preds: list[list[int]] = []
    prints = []
    for k, i in enumerate(ops):
        ins = program.instructions[i]
        reads, writes = footprint(ins, program)
        deps: set[int] = set()
        for r in reads:
            deps |= index.depends(r, False)
        for w in writes:
            deps |= index.depends(w, True)
        e = ENGINES.index(ins.engine.lower())
        for r in reads:
            prev = index.add(r, k, e, False)
            if prev is not None:
                deps.add(prev)
        for w in writes:
            index.add(w, k, e, True)
        deps.discard(k)
        preds.append(sorted(deps))
        prints.append((reads, writes))
    return preds, prints


def list_order(program: Program, config: CoreConfig, ops: list[int], preds: list[list[int]]) -> list[int]:
    """Positions of `ops` in the order a greedy list scheduler on the engines' cost model starts them:
    the instruction that can start earliest next, ties in the original order."""
    low = sched.lower(program, config)
    n = len(ops)
    succ: list[list[int]] = [[] for _ in range(n)]
    indeg = [0] * n
    for k, ps in enumerate(preds):
        indeg[k] = len(ps)
        for q in ps:
            succ[q].append(k)
    eng = [int(low.engine[i]) for i in ops]
    kind = [int(low.kind[i]) for i in ops]
    occ = [int(low.occupancy[i]) for i in ops]
    lat = [int(low.latency[i]) for i in ops]
    krows = [int(low.sem[i]) for i in ops]
    moving = [int(low.moving[i]) for i in ops]
    pipe = config.pe_rows + config.pe_cols - 2
    free = [0, 0, 0, 0]  # when each engine can issue its next instruction
    stream = load_bus = weights = port = 0
    queues = [0] * config.dma_queues
    end = [0] * n
    ready = [0] * n
    waiting: list[list[tuple[int, int]]] = [[] for _ in range(4)]  # (ready, position)
    avail: list[list[int]] = [[] for _ in range(4)]  # positions ready by the engine's free time
    for k in range(n):
        if indeg[k] == 0:
            heapq.heappush(waiting[eng[k]], (0, k))

    def start_of(k: int) -> int:
        s = max(ready[k], free[eng[k]])
        if kind[k] == sched.PE_MATMUL:
            s = max(s, stream, weights)
        elif kind[k] == sched.DMA:
            s = max(s, min(queues))
        return s

    order: list[int] = []
    while len(order) < n:
        best = None
        for e in range(4):
            w, a = waiting[e], avail[e]
            while w and w[0][0] <= free[e]:
                heapq.heappush(a, heapq.heappop(w)[1])
            if a:
                k = a[0]
            elif w:
                k = w[0][1]
            else:
                continue
            s = start_of(k)
            if best is None or (s, k) < best[:2]:
                best = (s, k, e)
        s, k, e = best
        if avail[e] and avail[e][0] == k:
            heapq.heappop(avail[e])
        else:
            heapq.heappop(waiting[e])
        order.append(k)
        kd = kind[k]
        if kd == sched.PE_LOAD:
            lstart = max(s, load_bus)
            load_bus = weights = lstart + krows[k]
            free[e], end[k] = s + 1, weights
        elif kd == sched.PE_MATMUL:
            stream = s + moving[k]
            free[e], end[k] = s + 1, s + moving[k] + pipe
        elif kd == sched.DMA:
            q = queues.index(min(queues))
            data = max(s + config.dma_latency_cycles, port)
            port = data + lat[k]
            free[e], end[k], queues[q] = s + 1, port, port
        else:
            free[e], end[k] = s + max(occ[k], 1), s + max(lat[k], occ[k], 1)
        for t in succ[k]:
            ready[t] = max(ready[t], end[k])
            indeg[t] -= 1
            if indeg[t] == 0:
                heapq.heappush(waiting[eng[t]], (ready[t], t))
    return order


def _lines(builder: Builder) -> tuple[list[str], list[tuple[int, str]]]:
    """Each instruction's text (without its node comment) and each comment line with the number of
    instructions before it, from the builder's listing lines."""
    texts: list[str] = []
    comments: list[tuple[int, str]] = []
    for line in builder.lines:
        if line.startswith(";"):
            comments.append((len(texts), line[2:]))
            continue
        node, text = builder.line_nodes[len(texts)], line[4:]
        if node and text.endswith(f" ; {node}"):
            text = text[:-len(node) - 3].rstrip()
        texts.append(text)
    return texts, comments


def reordered(builder: Builder, program: Program, config: CoreConfig) -> Builder:
    """A new Builder holding `program`'s instructions (sync removed) in list-scheduled order, with a
    semaphore pair wherever an instruction depends on another engine's instruction that nothing
    orders it after yet (the builder's vector clocks, as Builder.emit); a comment stays before the
    instruction it preceded."""
    texts, notes = _lines(builder)
    ops = [i for i, ins in enumerate(program.instructions[:len(texts)]) if ins.mnemonic not in SYNC]
    preds, _ = dependencies(program, ops)
    order = list_order(program, config, ops, preds)
    comments: dict[int, list[str]] = {}
    for at, text in notes:
        comments.setdefault(bisect_left(ops, at), []).append(text)
    out = Builder(config)
    out.tensors, out.tensor_names = list(builder.tensors), set(builder.tensor_names)
    eng = [ENGINES.index(program.instructions[i].engine.lower()) for i in ops]
    count = [0] * len(ops)  # per instruction placed: its engine's instruction count with it
    for k in order:
        i, e = ops[k], eng[k]
        for text in comments.pop(k, ()):
            out.comment(text)
        needs = [0, 0, 0, 0]
        for q in preds[k]:
            needs[eng[q]] = max(needs[eng[q]], count[q])
        for f in range(4):
            if f != e and needs[f] > out.clocks[e][f]:
                out._sync(f, e)
        out.node = builder.line_nodes[i]
        count[k] = out._append(e, texts[i])
    for rest in comments.values():
        for text in rest:
            out.comment(text)
    return out


def cycles(program: Program, config: CoreConfig) -> int:
    """Total cycles of a program by the timing model."""
    return int(sched.schedule(program, config).total)


def improve(seg: Segment, program: Program) -> tuple[Program, int, int]:
    """(program, cycles before, cycles after) of a segment: its builder replaced by the reordered one
    when the timing model says that is faster, else kept unchanged (after = before)."""
    config, builder = seg.config, seg.builder
    before = cycles(program, config)
    seg.builder = reordered(builder, program, config)
    try:
        moved = assemble(seg.program_text(), f"segment{seg.index}.s", config=config)
    except AsmError as e:  # pragma: no cover - a bug of this pass, not a user error
        raise CompileError(f"segment {seg.index}: the reordered program does not assemble: {e}") from None
    after = cycles(moved, config)
    if after < before:
        return moved, before, after
    seg.builder = builder
    return program, before, before
