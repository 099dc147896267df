"""The race checker: accesses of the same byte by two engines that no semaphore orders.

Static: it needs the program, its config and the schedule's semaphore matching (which sem.signal
instructions each sem.wait took its units from, Timeline.released), never values. Happens-before is
program order on one engine plus sem.signal -> the sem.wait that took its units: a signal on engine E
executes after every earlier instruction of E has completed, and a wait holds every later instruction
of its engine. Vector clocks over the four engines give the relation (docs/race_checker.md).

Two accesses race when they come from different engines, touch a common byte of SBUF, PSUM or a DRAM
tensor, at least one writes it, and neither happens before the other. A read of bytes that no earlier
write produced (DRAM in/inout tensors start initialised; out/temp tensors, SBUF and PSUM do not) is
reported as well, as NKI's simulator exposes it with a NaN fill. Both are exact per byte: a cheap
partition-and-interval test first, the exact byte sets of strided patterns only where intervals meet.
"""

from __future__ import annotations

import gc
from bisect import bisect_right
from dataclasses import dataclass

import numpy as np

from accel.config import CoreConfig
from accel.errors import MachineError
from accel.isa._table import TABLE
from accel.isa.encoding import Instruction, Program, instruction_text
from accel.isa.operands import AP, DramAP, dram_elements, dtype_bytes
from accel.timing.timeline import ENGINES, Timeline

# Which memory operands an instruction reads and writes, from the ISA table: operands of kind ap,
# bias (when it is a pattern) and dram; the one named `dst` is written, the others are read. The
# exceptions, per opcode (tests/timing/test_race.py checks the table against what the model does):
MEMORY_KINDS = ("ap", "bias", "dram")
WRITTEN = "dst"
ALSO_WRITTEN = {"vec.dropout_mask": ("mask",)}  # the kept-element bit mask is an output
READ_WHEN_FLAG = {"pe.matmul": ("dst", "acc"), "pe.matmul_sparse": ("dst", "acc")}  # acc=1 adds into dst

RACE, UNINITIALISED = "race", "uninitialised"
_MAX_IN_MESSAGE = 5  # races a RaceError's message lists
_GC_EVERY = 2048  # instructions between drops of access records no later instruction can race with


def memory_operands(spec: dict) -> list[tuple[str, str]]:
    """(operand name, 'r' | 'w' | 'rw?') of every memory operand of one ISA table entry; 'rw?' is a
    written operand that is also read when the opcode's flag (READ_WHEN_FLAG) is set."""
    m = spec["mnemonic"]
    flagged = READ_WHEN_FLAG.get(m, (None, None))[0]
    out = []
    for o in spec["operands"]:
        if o["kind"] not in MEMORY_KINDS:
            continue
        name = o["name"]
        written = name == WRITTEN or name in ALSO_WRITTEN.get(m, ())
        out.append((name, "rw?" if name == flagged else "w" if written else "r"))
    return out


MEMORY_OPERANDS: dict[str, list[tuple[str, str]]] = {i["mnemonic"]: memory_operands(i) for i in TABLE["instructions"]}


def _fixed(operands: list[tuple[str, str]]) -> list[tuple[str, bool]]:
    return [(n, False) for n, m in operands if m == "r"] + [(n, True) for n, m in operands if m == "w"]


# Per opcode, its accesses when they do not depend on operand values (no flag, no bias), else None.
_FIXED = {i["mnemonic"]: None if any(m == "rw?" for _, m in MEMORY_OPERANDS[i["mnemonic"]])
          or any(o["kind"] == "bias" for o in i["operands"]) else _fixed(MEMORY_OPERANDS[i["mnemonic"]])
          for i in TABLE["instructions"]}


def operand_accesses(ins: Instruction) -> list[tuple[str, bool]]:
    """(operand name, writes) of each memory access of one instruction, reads first (an instruction
    reads its operands before it writes); a bias given as an immediate is no access."""
    fixed = _FIXED[ins.mnemonic]
    if fixed is not None:
        return fixed
    ops, reads, writes = ins.ops, [], []
    for name, mode in MEMORY_OPERANDS[ins.mnemonic]:
        if not isinstance(ops[name], AP | DramAP):
            continue
        if mode == "rw?":
            if ops[READ_WHEN_FLAG[ins.mnemonic][1]]:
                reads.append((name, False))
            writes.append((name, True))
        else:
            (writes if mode == "w" else reads).append((name, mode == "w"))
    return reads + writes


class Footprint:
    """The units one access pattern touches: partitions p0..p1-1 of `space` and, within each, units
    lo..hi (bytes on chip; elements of a DRAM tensor, whose one dtype every access shares), exactly
    `units` (sorted, unique) or, when None, every unit of lo..hi. One object per distinct pattern, so
    identity keys the caches."""

    __slots__ = ("space", "p0", "p1", "lo", "hi", "units", "unit_bytes")

    def __init__(self, space: str, p0: int, p1: int, lo: int, hi: int, units: np.ndarray | None,
                 unit_bytes: int) -> None:
        self.space, self.p0, self.p1, self.lo, self.hi, self.units, self.unit_bytes = \
            space, p0, p1, lo, hi, units, unit_bytes

    def index(self) -> slice | np.ndarray:
        """The units within a partition, for indexing a bitmap."""
        return slice(self.lo, self.hi + 1) if self.units is None else self.units


def _of_elements(space: str, p0: int, p1: int, elements: np.ndarray, width: int, unit_bytes: int) -> Footprint:
    """The footprint of the given element indices, each element `width` units wide."""
    e = np.unique(elements)
    first, last = int(e[0]), int(e[-1])
    units = None if e.size == last - first + 1 else (e[:, None] * width + np.arange(width)).reshape(-1)
    return Footprint(space, p0, p1, first * width, last * width + width - 1, units, unit_bytes)


def _chip_footprint(ap: AP) -> Footprint:
    size = dtype_bytes(ap.dtype)  # the offset is aligned to it (accel.isa.check)
    return _of_elements(ap.space, ap.pstart, ap.pstart + ap.pcount, ap.offset // size + ap.element_offsets(), size, 1)


def _dram_footprint(d: DramAP, pcount: int, program: Program) -> Footprint:
    t = program.tensors[d.tensor]
    lo, hi, idx = dram_elements(d, pcount)
    if isinstance(idx, slice):
        return Footprint(t.name, 0, 1, lo, hi, None, dtype_bytes(t.dtype))
    return _of_elements(t.name, 0, 1, idx.reshape(-1), 1, dtype_bytes(t.dtype))


def _shared(a: Footprint, b: Footprint) -> tuple[int, int] | None:
    """(first, last) unit both touch in the partitions both touch, or None when they share none."""
    if a.p0 >= b.p1 or b.p0 >= a.p1 or a.lo > b.hi or b.lo > a.hi:
        return None
    if a.units is None and b.units is None:
        return max(a.lo, b.lo), min(a.hi, b.hi)
    if a.units is None or b.units is None:
        run, other = (a, b.units) if a.units is None else (b, a.units)
        common = other[(other >= run.lo) & (other <= run.hi)]
    else:
        common = np.intersect1d(a.units, b.units, assume_unique=True)
    return (int(common[0]), int(common[-1])) if common.size else None


def _conflicts(footprints: list[Footprint]) -> dict[int, list[tuple[Footprint, tuple[int, int], tuple[int, int]]]]:
    """For each footprint (by id): every footprint (itself too) it shares a unit with, the partitions
    both touch and the first..last unit they share. One sweep per space over the patterns sorted by
    their lowest unit, the exact test only where intervals meet."""
    out: dict[int, list] = {id(fp): [] for fp in footprints}
    by_space: dict[str, list[Footprint]] = {}
    for fp in footprints:
        by_space.setdefault(fp.space, []).append(fp)
    for group in by_space.values():
        group.sort(key=lambda fp: fp.lo)
        active: list[Footprint] = []
        for fp in group:
            active = [a for a in active if a.hi >= fp.lo]
            for a in active:
                common = _shared(a, fp)
                if common is not None:
                    parts = (max(a.p0, fp.p0), min(a.p1, fp.p1) - 1)
                    out[id(a)].append((fp, parts, common))
                    out[id(fp)].append((a, parts, common))
            out[id(fp)].append((fp, (fp.p0, fp.p1 - 1), (fp.lo, fp.hi)))
            active.append(fp)
    return out


@dataclass(frozen=True)
class Site:
    """One instruction's access in a report."""

    index: int  # into program.instructions
    engine: str
    mnemonic: str
    operand: str
    write: bool
    where: str  # file:line, or "instruction i" for a program without source lines
    text: str  # its source line (or its disassembly)

    def __str__(self) -> str:
        access = "write" if self.write else "read"
        return f"{self.engine} {self.mnemonic} {self.operand} ({access}) at {self.where}: {self.text}"


@dataclass(frozen=True)
class Race:
    """Two unordered accesses of the same bytes (kind "race"), or a read of bytes no earlier write
    produced (kind "uninitialised", second None). partitions and units are first..last inclusive;
    units are bytes within a partition on chip, elements of the tensor in DRAM."""

    kind: str
    space: str  # "sb", "psum", or a DRAM tensor's name
    partitions: tuple[int, int] | None  # None for DRAM
    bytes: tuple[int, int]  # first, last byte (DRAM: within the tensor)
    first: Site
    second: Site | None

    def __str__(self) -> str:
        where = (f"DRAM tensor {self.space}" if self.partitions is None
                 else f"{self.space} partitions {self.partitions[0]}..{self.partitions[1]}")
        place = f"{where} bytes {self.bytes[0]}..{self.bytes[1]}"
        if self.second is None:
            return f"uninitialised read of {place}: {self.first}; nothing writes these bytes before it"
        return (f"race on {place}: {self.first} and {self.second} are on different engines and no "
                f"semaphore orders them")


class RaceError(MachineError):
    """A program whose result depends on timing: its races (Race), the first few in the message."""

    def __init__(self, races: list[Race]) -> None:
        self.races = races
        counts = [(sum(r.kind == kind for r in races), name) for kind, name in
                  ((RACE, "race"), (UNINITIALISED, "uninitialised read"))]
        found = " and ".join(f"{k} {name}{'s' if k != 1 else ''}" for k, name in counts if k)
        lines = [f"{found} found (docs/race_checker.md):"]
        lines += [f"  {r}" for r in races[:_MAX_IN_MESSAGE]]
        if len(races) > _MAX_IN_MESSAGE:
            lines.append(f"  ... and {len(races) - _MAX_IN_MESSAGE} more")
        super().__init__("\n".join(lines))


class _Accesses:
    """Per instruction, its (operand, write, footprint) accesses, with one footprint per distinct
    pattern (looked up by the operand object's identity first: the assembler shares equal patterns)."""

    def __init__(self, program: Program) -> None:
        self.program = program
        self.by_id: dict[int | tuple[int, int], Footprint] = {}
        self.by_value: dict[AP | tuple[DramAP, int], Footprint] = {}

    def of(self, ins: Instruction) -> list[tuple[str, bool, Footprint]]:
        ops, out = ins.ops, []
        for name, write in operand_accesses(ins):
            v = ops[name]
            if isinstance(v, AP):
                key, value = id(v), v
            elif self.program.tensors[v.tensor].role in ("in", "inout"):
                continue  # only DMA touches DRAM (so no race there) and an input is initialised
            else:
                pcount = next(x.pcount for x in ops.values() if isinstance(x, AP))
                key, value = (id(v), pcount), (v, pcount)
            fp = self.by_id.get(key)
            if fp is None:
                fp = self.by_value.get(value)
                if fp is None:
                    fp = self.by_value[value] = (_chip_footprint(v) if isinstance(v, AP) else
                                                 _dram_footprint(v, pcount, self.program))
                self.by_id[key] = fp
            out.append((name, write, fp))
        return out


class _Initialised:
    """Which units some earlier write (or the input) produced: one bitmap per space, made at first use."""

    def __init__(self, program: Program, config: CoreConfig) -> None:
        self.shapes = {"sb": (config.sbuf_partitions, config.sbuf_partition_bytes),
                       "psum": (config.psum_partitions, config.psum_partition_bytes)}
        self.maps: dict[str, np.ndarray | None] = {}
        for t in program.tensors:
            self.shapes[t.name] = (1, t.size)
            if t.role in ("in", "inout"):
                self.maps[t.name] = None  # all initialised
        self.complete: set[int] = set()  # ids of footprints known to be wholly initialised
        self.marked: set[int] = set()  # ids of footprints already written once

    def _map(self, space: str) -> np.ndarray:
        m = self.maps.get(space)
        if m is None:
            m = self.maps[space] = np.zeros(self.shapes[space], dtype=bool)
        return m

    def missing(self, fp: Footprint) -> tuple[tuple[int, int], tuple[int, int]] | None:
        """(partitions, units) first..last of the units of fp no write has produced, or None."""
        if id(fp) in self.complete or (fp.space in self.maps and self.maps[fp.space] is None):
            return None
        block = self._map(fp.space)[fp.p0:fp.p1, fp.index()]
        if block.all():
            self.complete.add(id(fp))
            return None
        rows, cols = np.nonzero(~block)
        units = np.arange(fp.lo, fp.hi + 1) if fp.units is None else fp.units
        return (fp.p0 + int(rows.min()), fp.p0 + int(rows.max())), (int(units[cols.min()]), int(units[cols.max()]))

    def write(self, fp: Footprint) -> None:
        if id(fp) in self.marked or (fp.space in self.maps and self.maps[fp.space] is None):
            return
        self._map(fp.space)[fp.p0:fp.p1, fp.index()] = True
        self.marked.add(id(fp))


def _site(program: Program, i: int, engine: int, operand: str, write: bool) -> Site:
    ins = program.instructions[i]
    where = ins.where() or f"instruction {i}"
    return Site(i, ENGINES[engine], ins.mnemonic, operand, write, where, ins.source or instruction_text(ins, program))


def _race(kind: str, fp: Footprint, parts: tuple[int, int], units: tuple[int, int], first: Site,
          second: Site | None) -> Race:
    b = fp.unit_bytes
    return Race(kind, fp.space, parts if fp.space in ("sb", "psum") else None,
                (units[0] * b, units[1] * b + b - 1), first, second)


def check_races(timeline: Timeline, limit: int | None = 100) -> list[Race]:
    """Every race and uninitialised read of the scheduled program (at most `limit`, None: all), in the
    order the schedule runs the later access. ValueError when the timeline is not causal (an engine's
    instructions out of program order, or a sem.wait before a signal it took units from)."""
    # The check makes many small objects and no reference cycles; with the cyclic collector on, its
    # repeated scans of everything alive (a long program's instructions) took half the time.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _check(timeline, limit)
    finally:
        if enabled:
            gc.enable()


def _check(timeline: Timeline, limit: int | None) -> list[Race]:
    program = timeline.program
    n = len(timeline)
    instructions = program.instructions
    engine = timeline.engine.tolist()
    order = np.lexsort((np.arange(n), timeline.start)).tolist()  # a linear extension of happens-before
    sequence: list[list[int]] = [[] for _ in ENGINES]  # each engine's instructions in program order
    for i in range(n):
        sequence[engine[i]].append(i)
    remaining = [len(s) for s in sequence]
    accesses = _Accesses(program)
    plans = [accesses.of(instructions[i]) for i in range(n)]
    conflicts = _conflicts(list(accesses.by_value.values()))
    init = _Initialised(program, timeline.config)
    clocks = [[0] * len(ENGINES) for _ in ENGINES]  # per engine: its latest instruction's vector clock
    signal_clock: dict[int, list[int]] = {}
    # Per engine, per (footprint id, writes): [engine-local indices, (index, operand) per access] of
    # its accesses in program order; last_local[f]: engine f's latest access.
    records: list[dict[tuple[int, bool], tuple[list[int], list[tuple[int, str]]]]] = [{} for _ in ENGINES]
    last_local = [0] * len(ENGINES)
    races: list[Race] = []
    for step, i in enumerate(order):
        e = engine[i]
        clk = clocks[e]
        local = clk[e] + 1
        if sequence[e][local - 1] != i:
            raise ValueError(f"timeline is not causal: {ENGINES[e]} runs instruction {i} before "
                             f"instruction {sequence[e][local - 1]}")
        clk[e] = local
        remaining[e] -= 1
        mnemonic = instructions[i].mnemonic
        if mnemonic == "sem.wait":
            for s in timeline.released(i).tolist():
                sclk = signal_clock.get(s)
                if sclk is None:
                    raise ValueError(f"timeline is not causal: sem.wait {i} took units of sem.signal {s} "
                                     f"before it ran")
                for f, t in enumerate(sclk):
                    if t > clk[f]:
                        clk[f] = t
            continue
        if mnemonic == "sem.signal":
            signal_clock[i] = clk.copy()
            continue
        plan = plans[i]
        if not plan:
            continue
        others = [f for f in range(len(ENGINES)) if f != e and last_local[f] > clk[f]]
        for operand, write, fp in plan:
            for o, parts, common in conflicts[id(fp)] if others else ():
                for f in others:
                    seen, table = clk[f], records[f]
                    for owrite in (True, False) if write else (True,):
                        entry = table.get((id(o), owrite))
                        if entry is None or entry[0][-1] <= seen:
                            continue  # none, or every one ordered before i
                        for j, joperand in entry[1][bisect_right(entry[0], seen):]:  # concurrent with i
                            races.append(_race(RACE, fp, parts, common, _site(program, j, f, joperand, owrite),
                                               _site(program, i, e, operand, write)))
                            if limit is not None and len(races) >= limit:
                                return races
            if not write:
                gap = init.missing(fp)
                if gap is not None:
                    races.append(_race(UNINITIALISED, fp, *gap, _site(program, i, e, operand, write), None))
                    if limit is not None and len(races) >= limit:
                        return races
        table = records[e]
        for operand, write, fp in plan:
            if write:
                init.write(fp)
            entry = table.get((id(fp), write))
            if entry is None:
                entry = table[(id(fp), write)] = ([], [])
            entry[0].append(local)
            entry[1].append((i, operand))
        last_local[e] = local
        if step % _GC_EVERY == _GC_EVERY - 1:
            _forget(records, clocks, remaining)
    return races


def _forget(records: list[dict[tuple[int, bool], tuple[list[int], list[tuple[int, str]]]]],
            clocks: list[list[int]], remaining: list[int]) -> None:
    """Drop the access records of engine f that every engine with instructions left has already
    ordered after them: their later instructions cannot race with those (clocks only grow)."""
    for f, table in enumerate(records):
        seen = [clocks[g][f] for g in range(len(ENGINES)) if g != f and remaining[g]]
        horizon = min(seen) if seen else clocks[f][f]
        for key, (locals_, accesses_) in list(table.items()):
            k = bisect_right(locals_, horizon)
            if k == len(locals_):
                del table[key]
            elif k:
                del locals_[:k], accesses_[:k]
