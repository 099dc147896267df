"""The core: DRAM, SBUF, PSUM, semaphores and one in-order queue per engine.

Functional mode: the sequencer dispatches the instruction stream (up to `halt`) into the
queues of PE, ACT, VEC and DMA; the engines then take turns, each executing the instruction
at the head of its queue unless it waits on a semaphore. Engines share no ordering except
through semaphores, as on the hardware. A state in which every unfinished engine waits is a
deadlock and is reported with the waiting instructions.
"""

from __future__ import annotations

import dataclasses
import functools
import mmap
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np

from accel.config import ConfigError, CoreConfig, as_config
from accel.errors import MachineError
from accel.isa.asm import assemble
from accel.isa.check import CheckError, check_program
from accel.isa.encoding import Instruction, Program
from accel.isa.operands import AP, NP_STORAGE, DramAP, Tensor, dram_elements, dtype_bytes
from accel.model import all_primitives, all_semantics, fp
from accel.model.pe_array import PETimeline
from accel.model.rng import RNGState
from accel.timing.report import summary
from accel.timing.schedule import schedule
from accel.timing.timeline import Timeline

ENGINES = ("PE", "ACT", "VEC", "DMA")
BACKENDS = ("fast", "model")
_CACHE_LIMIT = 1 << 16  # access-pattern facts a core keeps


def _located(program: Program, e: CheckError) -> str:
    """A static-check message with its place: the source line if known, else the instruction's index."""
    if e.index is None:
        return f"tensor table: {e.msg}"
    ins = program.instructions[e.index]
    if ins.line:
        return f"{ins.mnemonic} ({ins.where()}: {ins.source}): {e.msg}"
    return f"instruction {e.index} ({ins.mnemonic}): {e.msg}"


@dataclass
class Stats:
    """What a run did: instructions per engine, MACs, bytes moved, elements per engine, and the
    PE array's cycles and utilization (useful MACs / (rows * cols * pe_cycles), docs/pe_array.md)."""

    instructions: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ENGINES + ("SEQ",), 0))
    macs: int = 0
    bytes_dram_to_sbuf: int = 0
    bytes_sbuf_to_dram: int = 0
    elements: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ENGINES, 0))
    steps: int = 0
    pe_cycles: int = 0
    utilization: float = 0.0

    def count_elements(self, engine: str, n: int) -> None:
        self.elements[engine] += n

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class RunResult:
    """Named outputs (bf16 tensors widened exactly to float32), statistics and the timeline of a run
    (`timing`: its summary, accel.timing.report.summary; docs/timing.md)."""

    outputs: dict[str, np.ndarray]
    stats: Stats
    finished: bool = True  # False when max_steps stopped the run early
    timeline: Timeline | None = None  # None when run with timing=False

    @functools.cached_property
    def timing(self) -> dict[str, Any] | None:
        return summary(self.timeline) if self.timeline is not None else None


@dataclass(frozen=True, slots=True)
class _Access:
    """What the machine needs of one on-chip access pattern on one core, worked out once per pattern."""

    problem: str | None  # why the pattern does not fit this core's memory (bounds, alignment), or None
    view: tuple[str, str]  # (space, dtype): the typed memory view it indexes
    rows: slice  # its partitions
    cols: slice | np.ndarray  # its elements in a partition, in pattern order: a slice when one ascending run
    first: int  # lowest and highest element index in a partition
    last: int
    size: int  # bytes per element
    elements: int  # elements per partition (free size)
    space: str
    run: bool  # cols is a slice
    lo_byte: int  # lowest and highest byte touched in a partition
    hi_byte: int
    pstart: int  # its first partition and partition count
    pcount: int

    def shares_bytes(self, other: _Access) -> bool:
        """Whether the two patterns' partitions and byte ranges (within a partition) intersect."""
        return (self.space == other.space and self.rows.start < other.rows.stop and other.rows.start < self.rows.stop
                and self.lo_byte <= other.hi_byte and other.lo_byte <= self.hi_byte)


def _access(ap: AP, nparts: int, nbytes: int) -> _Access:
    """The facts of `ap` on a memory of nparts x nbytes, with plain integers (no arrays unless the
    pattern is not one ascending run of elements)."""
    size = dtype_bytes(ap.dtype)
    base = ap.offset // size
    first = last = base
    run, expect, elements = True, 1, 1
    for n, s in reversed(ap.dims):
        if s < 0:
            first += (n - 1) * s
        else:
            last += (n - 1) * s
        if n > 1:
            run = run and s == expect
            expect *= n
        elements *= n
    problem = None
    if ap.pstart + ap.pcount > nparts:
        problem = (f"{ap}: partitions {ap.pstart}..{ap.pstart + ap.pcount - 1} outside {ap.space}'s "
                   f"0..{nparts - 1}")
    elif ap.offset % size:
        problem = f"{ap}: byte offset {ap.offset} is not aligned to {ap.dtype} ({size} bytes)"
    elif first < 0 or (last + 1) * size > nbytes:
        problem = (f"{ap}: bytes {first * size}..{(last + 1) * size - 1} outside {ap.space}'s "
                   f"partition bytes 0..{nbytes - 1}")
    cols = slice(first, last + 1) if run else base + ap.element_offsets()
    return _Access(problem, (ap.space, ap.dtype), slice(ap.pstart, ap.pstart + ap.pcount), cols, first, last,
                   size, elements, ap.space, run, first * size, (last + 1) * size - 1, ap.pstart, ap.pcount)


def _stream_bytes(ap: AP) -> tuple[np.ndarray, np.ndarray]:
    """(byte offset within a partition, free-axis step) of every byte an access pattern touches."""
    size = dtype_bytes(ap.dtype)
    start = ap.offset + ap.element_offsets() * size
    return (start[:, None] + np.arange(size)).reshape(-1), np.repeat(np.arange(ap.free_size), size)


def _late_byte(dst: AP, src: AP) -> tuple[int, int, int] | None:
    """(byte, element writing it first, element reading it last) of the first byte that dst writes
    before src has read it for the last time, streaming element by element; None if there is none."""
    written, step = _stream_bytes(dst)
    read, rstep = _stream_bytes(src)
    lo = min(written.min(), read.min())
    first_write = np.full(max(written.max(), read.max()) - lo + 1, np.iinfo(np.int64).max)
    last_read = np.full(first_write.size, -1)
    np.minimum.at(first_write, written - lo, step)
    np.maximum.at(last_read, read - lo, rstep)
    late = np.flatnonzero(last_read > first_write)
    if not late.size:
        return None
    b = int(late[0])
    return b + int(lo), int(first_write[b]), int(last_read[b])


_DramFacts = tuple[str, slice | np.ndarray, tuple[int, int]]  # tensor name, element index, [pcount, free] shape


def _zeroed(rows: int, cols: int) -> np.ndarray:
    """A zero uint8 memory [rows, cols] of fresh pages from the OS, which are zero until written: a
    reset costs microseconds, not the memset of np.zeros on reused heap memory (about 1 ms for SBUF)."""
    return np.frombuffer(mmap.mmap(-1, rows * cols), dtype=np.uint8).reshape(rows, cols)


def _to_storage(t: Tensor, a: Any) -> np.ndarray:
    """A user array -> stored elements of the tensor's dtype; errors name the tensor."""
    try:
        a = np.asarray(a)
    except (ValueError, TypeError) as e:  # a ragged list and the like
        raise MachineError(f"input {t.name}: not an array ({e})") from None
    if a.shape != t.shape:
        raise MachineError(f"input {t.name}: shape {a.shape} given, the program declares {t.shape}")
    if t.dtype in ("int8", "int32"):
        if a.dtype.kind not in "iu":
            raise MachineError(f"input {t.name}: {t.dtype} tensor needs an integer array, got {a.dtype}")
        info = np.iinfo(NP_STORAGE[t.dtype])
        if a.size and (a.min() < info.min or a.max() > info.max):
            raise MachineError(f"input {t.name}: values {a.min()}..{a.max()} outside {t.dtype} "
                               f"range {info.min}..{info.max}")
        return a.astype(NP_STORAGE[t.dtype]).reshape(-1)
    if t.dtype == "bf16" and a.dtype == np.uint16:  # raw bf16 bit patterns
        return a.reshape(-1).copy()
    if a.dtype.kind not in "fiu":
        raise MachineError(f"input {t.name}: {t.dtype} tensor needs a numeric array, got {a.dtype}")
    if t.dtype == "fp32":
        with np.errstate(over="ignore"):  # beyond binary32's range: infinity, as a cast gives
            return fp.f32_bits(a.astype(np.float32)).reshape(-1)
    return fp.fp32_to_bf16(_round_to_odd_f32(a.astype(np.float64)).reshape(-1))


def _round_to_odd_f32(a: np.ndarray) -> np.ndarray:
    """binary32 bits of float64 `a` rounded to odd (truncate, then set the last bit if inexact).

    binary32 keeps 16 more significand bits than bf16, so rounding this to bf16 to nearest
    even equals rounding `a` itself: no double-rounding error (Boldo and Melquiond).
    """
    with np.errstate(over="ignore"):
        nearest = a.astype(np.float32)
    away = np.abs(nearest.astype(np.float64)) > np.abs(a)
    truncated = np.where(away, np.nextafter(nearest, np.float32(0)), nearest)
    bits = fp.f32_bits(truncated)
    inexact = (truncated.astype(np.float64) != a) & ~np.isnan(a)
    return bits | inexact.astype(np.uint32)


def _from_storage(t: Tensor, a: np.ndarray) -> np.ndarray:
    """Stored elements -> a user array of the tensor's shape (fp32/bf16 as float32)."""
    if t.dtype == "fp32":
        out = fp.f32_value(a)
    elif t.dtype == "bf16":
        out = fp.f32_value(a.astype(np.uint32) << 16)  # exact: NaN payloads kept, as DMA keeps them
    else:
        out = a.copy()
    return out.reshape(t.shape)


class Core:
    """One accelerator core. `run(program, inputs)` is the usual entry point.

    backend="fast" (the default) runs the model's primitives (matmuls, RNG words, dropout, function
    evaluation, ...) with accel.kernels, bit-identical and faster; backend="model" runs the plain
    NumPy definitions of accel.model.
    """

    def __init__(self, config: CoreConfig | Mapping[str, Any] | None = None, *, backend: str = "fast") -> None:
        if backend not in BACKENDS:
            raise ConfigError(f"Core backend {backend!r}: allowed {', '.join(map(repr, BACKENDS))}")
        self.config = as_config(config)
        self.backend = backend
        self.semantics = dict(all_semantics())
        prims = dict(all_primitives())
        if backend == "fast":
            from accel.kernels import primitives

            prims.update(primitives())
            self.semantics.update(_fused_semantics(self.semantics))
        self.prims = SimpleNamespace(**prims)
        self.program: Program | None = None
        self.reset()

    # ------------------------------------------------------------------ state
    @property
    def pe_shape(self) -> tuple[int, int]:
        """(rows, columns) of the PE array, from CoreConfig pe_rows and pe_cols."""
        return self.config.pe_rows, self.config.pe_cols

    def reset(self) -> None:
        """Clear memories, semaphores, weights, queues and statistics."""
        c = self.config
        self.sbuf = _zeroed(c.sbuf_partitions, c.sbuf_partition_bytes)
        self.psum = _zeroed(c.psum_partitions, c.psum_partition_bytes)
        self.sems = np.zeros(c.semaphores, dtype=np.int64)
        self.dram: dict[str, np.ndarray] = {}
        self.weights: tuple[str, np.ndarray] | None = None
        self.pe_timeline = PETimeline(*self.pe_shape)
        self.lut_slots: dict[int, Any] = {}  # ACT unit's user tables (accel.model.lut.Function) by fn id
        self.sparse_weights: Any = None  # accel.model.sparse.LoadSparse after pe.load_sparse
        self.rng = RNGState(c.sbuf_partitions)  # seed, offset, stride, per-lane xoroshiro states
        self.queues: dict[str, deque[Instruction]] = {e: deque() for e in ENGINES}
        self._queue_list = [self.queues[e] for e in ENGINES]
        self.stats = Stats()
        self.current: Instruction | None = None
        self._turn = 0
        # Typed views of the memories, and facts of access patterns worked out once per pattern
        # (they depend only on the pattern and this core's sizes; DRAM facts also on the program).
        self._views = {(space, dt): mem.view(NP_STORAGE[dt]) for space, mem in (("sb", self.sbuf), ("psum", self.psum))
                       for dt in NP_STORAGE}
        if getattr(self, "_facts_config", None) != c:
            self._access_cache: dict[AP, _Access] = {}
            self._order_cache: dict[tuple[AP, AP], tuple[int, int, int] | None] = {}
            self._facts_config = c
        self._recent: dict[int, tuple[AP, _Access]] = {}
        self._dram_cache: dict[tuple[int, int], tuple[DramAP, AP, _DramFacts | str]] = {}  # by identity

    def load(self, program: Program | str | bytes, inputs: dict[str, Any] | None = None) -> None:
        """Reset, place the program's tensors in DRAM (inputs given by name) and queue it."""
        if isinstance(program, str):
            program = assemble(program, config=self.config)
        elif isinstance(program, bytes | bytearray):
            program = Program.from_bytes(bytes(program), self.config)
        elif isinstance(program, Program):
            try:
                check_program(program, self.config)
            except CheckError as e:
                raise MachineError(_located(program, e)) from None
        else:
            raise MachineError(f"Core.load takes a Program, assembly text or a binary, not {type(program).__name__}")
        if inputs is not None and not isinstance(inputs, Mapping):
            raise MachineError(f"inputs must be a dict of tensor name -> array, not {type(inputs).__name__}")
        self.reset()
        self.program = program
        inputs = dict(inputs or {})
        for t in program.tensors:
            if t.name in inputs:
                if t.role in ("out", "temp"):
                    raise MachineError(f"input {t.name}: tensor is declared {t.role}, not in/inout")
                self.dram[t.name] = _to_storage(t, inputs.pop(t.name))
            elif t.role in ("in", "inout"):
                raise MachineError(f"input {t.name} ({t.dtype}{list(t.shape)}, role {t.role}) was not given")
            else:
                self.dram[t.name] = np.zeros(t.size, dtype=NP_STORAGE[t.dtype])
        if inputs:
            raise MachineError(f"inputs {sorted(inputs)} are not tensors of the program "
                               f"(it declares {[t.name for t in program.tensors]})")
        queues, semantics = self.queues, self.semantics
        for ins in program.instructions:
            spec = ins.spec
            mnemonic, engine = spec["mnemonic"], spec["engine"]
            if mnemonic == "halt":
                self.stats.instructions["SEQ"] += 1
                break
            if mnemonic not in semantics:  # pragma: no cover - tests check every opcode has semantics
                raise MachineError(f"{mnemonic} has no semantic function")
            queues[ins.ops["engine"].upper() if engine == "ANY" else engine].append(ins)

    def outputs(self) -> dict[str, np.ndarray]:
        """Every out/inout tensor, by name."""
        assert self.program is not None
        return {t.name: _from_storage(t, self.dram[t.name]) for t in self.program.tensors if t.role in ("out", "inout")}

    # ------------------------------------------------------------------ execution
    def step(self) -> Instruction | None:
        """Execute one instruction of the next engine that can issue; None when all are done.

        Raises MachineError on a deadlock or a faulting instruction.
        """
        queues, semantics, n, turn = self._queue_list, self.semantics, len(ENGINES), self._turn
        for k in range(turn, turn + n):
            q = queues[k % n]
            if q:
                ins = q[0]
                self.current = ins
                try:
                    issued = semantics[ins.spec["mnemonic"]](self, ins) is not False
                finally:
                    self.current = None
                if issued:
                    self._turn = (k + 1) % n
                    stats = self.stats
                    stats.instructions[ENGINES[k % n]] += 1
                    stats.steps += 1
                    return q.popleft()
        if any(queues):
            raise MachineError(self._deadlock_text())
        return None

    def run(self, program: Program | str | bytes | None = None, inputs: dict[str, Any] | None = None,
            max_steps: int | None = None, *, timing: bool = True) -> RunResult:
        """Load (if given) and run to completion; returns outputs, statistics and (unless
        timing=False) the timeline: every instruction's cycles on one clock (docs/timing.md)."""
        if program is not None:
            self.load(program, inputs)
        elif self.program is None:
            raise MachineError("no program loaded")
        steps = 0
        while (max_steps is None or steps < max_steps) and self.step() is not None:
            steps += 1
        timeline = schedule(self.program, self.config) if timing else None  # after: functional errors first
        return RunResult(self.outputs(), self.stats, finished=not any(self.queues.values()), timeline=timeline)

    def _deadlock_text(self) -> str:
        lines = ["deadlock: every unfinished engine waits on a semaphore nothing will signal"]
        for eng, q in self.queues.items():
            if q:
                ins = q[0]
                s = ins.ops.get("sem")
                known = s is not None and s < len(self.sems)
                have = f" (s{s} = {self.sems[s]}, needs {ins.ops['count']})" if known else ""
                where = f" at {ins.where()}" if ins.line else ""
                lines.append(f"  {eng}: {ins.source or ins.mnemonic}{where}{have}; {len(q)} instruction(s) left")
        return "\n".join(lines)

    # ------------------------------------------------------------------ memory access (used by accel.model)
    def error(self, msg: str) -> MachineError:
        """A MachineError naming the current instruction and its source line."""
        ins = self.current
        if ins is None:
            return MachineError(msg)
        where = f" ({ins.where()}: {ins.source})" if ins.line else ""
        return MachineError(f"{ins.mnemonic}{where}: {msg}")

    def semaphore(self, s: int) -> int:
        if not 0 <= s < len(self.sems):
            raise self.error(f"semaphore s{s} does not exist (s0..s{len(self.sems) - 1})")
        return self.sems.item(s)

    def _memory(self, space: str) -> np.ndarray:
        return self.sbuf if space == "sb" else self.psum

    def _facts(self, ap: AP) -> _Access:
        """The access facts of `ap` on this core, worked out at its first use (bounded cache)."""
        recent = self._recent.get(id(ap))  # the same pattern object, asked again by the same instruction
        if recent is not None and recent[0] is ap:
            return recent[1]
        facts = self._access_cache.get(ap)  # an equal pattern, seen before
        if facts is None:
            if len(self._access_cache) >= _CACHE_LIMIT:
                self._access_cache.clear()
            facts = self._access_cache[ap] = _access(ap, *self._memory(ap.space).shape)
        if len(self._recent) >= _CACHE_LIMIT:
            self._recent.clear()
        self._recent[id(ap)] = (ap, facts)  # holds ap, so its id is not reused while it is here
        return facts

    def _locate(self, ap: AP) -> _Access:
        """The access facts of `ap`, bounds- and alignment-checked."""
        recent = self._recent.get(id(ap))
        facts = recent[1] if recent is not None and recent[0] is ap else self._facts(ap)
        if facts.problem:
            raise self.error(facts.problem)
        return facts

    def read(self, ap: AP) -> np.ndarray:
        """Elements [pcount, free] of an on-chip access pattern (a copy)."""
        a = self._locate(ap)
        out = self._views[a.view][a.rows, a.cols]
        return out.copy() if a.run else out

    def write(self, ap: AP, values: np.ndarray) -> None:
        """Store [pcount, free] elements; with repeated indices the last element wins."""
        a = self._locate(ap)
        values = np.asarray(values)
        if values.shape != (ap.pcount, a.elements):
            raise self.error(f"{ap}: writing {values.shape} values into [{ap.pcount} x {a.elements}]")
        self._views[a.view][a.rows, a.cols] = values

    def check_stream_order(self, dst: AP, sources: dict[str, AP], disjoint: dict[str, AP] | None = None,
                           engine: str = "vector") -> None:
        """The vector engine streams (docs/emulator.md): at free-axis step f it reads element f of
        every source, then writes element f of dst, in every partition at once (the ACT engine too,
        its writes 23 clocks behind its reads: the same rule is safe for it, `engine` names it). So dst may share
        bytes with a source only where each shared byte is read no later than the step that first
        writes it (element for element in place is fine); `disjoint` operands (a dropout mask) may
        share no byte with dst or the sources. Otherwise the hardware's result would differ from
        reading every source first, as the model does, so the instruction is an error.

        Cheap for the usual cases (no shared bytes; one ascending run of elements read at or above
        where it is written); otherwise the byte-by-byte verdict is worked out once per pair."""
        locate = self._locate
        d = locate(dst)  # bounds and alignment errors first
        facts = [locate(ap) for ap in sources.values()]
        others = [locate(ap) for ap in disjoint.values()] if disjoint else ()
        for (name, src), s in zip(sources.items(), facts, strict=True):
            if not d.shares_bytes(s):
                continue
            if d.run and s.run and d.size == s.size and d.first <= s.first:
                continue  # element e is read at step e - s.first, no later than written at e - d.first
            key = (dst, src)
            if key not in self._order_cache:
                self._order_cache[key] = _late_byte(dst, src)
            late = self._order_cache[key]
            if late:
                b, w, r = late
                raise self.error(f"dst writes byte {b} at element {w} before {name} reads it at element {r}; "
                                 f"the {engine} engine streams element by element, so dst must not overlap {name} "
                                 f"except element for element")
        for (name, other), o in zip((disjoint or {}).items(), others, strict=True):
            for (oname, ap), x in zip((("dst", dst), *sources.items()), (d, *facts), strict=True):
                if o.shares_bytes(x) and np.intersect1d(_stream_bytes(other)[0], _stream_bytes(ap)[0]).size:
                    raise self.error(f"{name} overlaps {oname}; they must be disjoint")

    def check_psum_bank(self, ap: AP) -> None:
        """A PE result must stay inside one PSUM bank."""
        a = self._facts(ap)
        bank = self.config.psum_bank_bytes
        first, last = a.first * a.size // bank, ((a.last + 1) * a.size - 1) // bank
        if first != last:
            raise self.error(f"{ap}: crosses PSUM banks {first} and {last} (bank = {bank} bytes per partition)")

    def _dram_index(self, d: DramAP, ap: AP) -> tuple[str, slice | np.ndarray, tuple[int, int]]:
        """(tensor name, element index, [pcount, free] shape) of a DRAM pattern, checked once per pattern."""
        key = (id(d), id(ap))
        hit = self._dram_cache.get(key)
        if hit is None or hit[0] is not d or hit[1] is not ap:
            hit = self._dram_cache[key] = (d, ap, self._dram_check(d, ap))  # holds both: their ids stay theirs
        facts = hit[2]
        if isinstance(facts, str):
            raise self.error(facts)
        return facts

    def _dram_check(self, d: DramAP, ap: AP) -> tuple[str, slice | np.ndarray, tuple[int, int]] | str:
        """_dram_index's answer, or the problem's text."""
        assert self.program is not None
        if d.tensor >= len(self.program.tensors):
            return f"tensor number {d.tensor} is not declared"
        t = self.program.tensors[d.tensor]
        if t.dtype != ap.dtype:
            return f"tensor {t.name} holds {t.dtype} but the SBUF side is {ap.dtype}"
        if d.free_size != ap.free_size:
            return f"DRAM side has {d.free_size} elements per partition, SBUF side {ap.free_size}"
        lo, hi, idx = dram_elements(d, ap.pcount)
        if lo < 0 or hi >= t.size:
            return f"DRAM pattern reaches elements {lo}..{hi} of {t.name}, which has 0..{t.size - 1}"
        return t.name, idx, (ap.pcount, d.free_size)

    def dram_read(self, d: DramAP, ap: AP) -> np.ndarray:
        """Elements of a DRAM pattern shaped like the on-chip side `ap` (same dtype and size)."""
        name, idx, shape = self._dram_index(d, ap)
        return self.dram[name][idx].reshape(shape)

    def dram_write(self, d: DramAP, ap: AP, values: np.ndarray) -> None:
        name, idx, shape = self._dram_index(d, ap)
        if type(idx) is slice:
            self.dram[name][idx] = np.asarray(values).reshape(-1)
        else:
            self.dram[name][idx] = values

    # ------------------------------------------------------------------ inspection
    def peek(self, space: str, partitions: slice | int, offset: int, dtype: str, count: int) -> np.ndarray:
        """Values in SBUF ('sb') or PSUM ('psum') for a person: fp32/bf16 as float32, ints as ints.

        An int partition gives a 1-D array of `count` elements; a slice gives [partitions, count].
        """
        if space not in ("sb", "psum"):
            raise MachineError(f"peek: space {space!r}, expected 'sb' or 'psum'")
        if dtype not in NP_STORAGE:
            raise MachineError(f"peek: dtype {dtype!r}, expected one of {', '.join(NP_STORAGE)}")
        nparts = self._memory(space).shape[0]
        if isinstance(partitions, slice):
            p = range(nparts)[partitions]
            if len(p) == 0 or p.step != 1:
                raise MachineError(f"peek: partitions {partitions} select no contiguous range of 0..{nparts - 1}")
        elif not 0 <= partitions < nparts:
            raise MachineError(f"peek: partition {partitions} outside {space}'s 0..{nparts - 1}")
        else:
            p = range(partitions, partitions + 1)
        raw = self.read(AP(space, p.start, len(p), offset, dtype, ((count, 1),)))
        if dtype == "fp32":
            raw = fp.f32_value(raw)
        elif dtype == "bf16":
            raw = fp.f32_value(raw.astype(np.uint32) << 16)  # exact, like the outputs
        return raw if isinstance(partitions, slice) else raw[0]


# ---------------------------------------------------------------------------- the fast backend's fused VEC forms


def _streams_in_order(d: _Access, s: _Access) -> bool:
    """check_stream_order's quick accept of a run source `s` for a run dst `d` (no error possible)."""
    return not d.shares_bytes(s) or (d.size == s.size and d.first <= s.first)


def _plain(d: _Access, *sources: _Access) -> bool:
    """Whether an elementwise instruction of these operands can neither fault nor need a byte map:
    every pattern fits its memory and is one ascending run, the shapes agree, the stream order is fine."""
    if d.problem is not None or not d.run:
        return False
    for s in sources:
        if (s.problem is not None or not s.run or s.pcount != d.pcount or s.elements != d.elements
                or not _streams_in_order(d, s)):
            return False
    return True


@functools.lru_cache(maxsize=1 << 12)
def _f32(bits: int) -> np.float32:
    """The binary32 value whose bits are `bits` (a scalar operand)."""
    return np.uint32(bits).view(np.float32)


def _fused_semantics(model: Mapping[str, Any]) -> dict[str, Any]:
    """The fast backend's forms of VEC's elementwise opcodes (binary, tensor-scalar, cast, copy, dropout
    with Philox words), of act.identity / act.relu and of a sem.wait that must wait (no call chain for
    the retries of a blocked queue); for the arithmetic, one Numba call reads the operands from memory,
    computes and stores (accel.kernels.vec *_in_memory, accel.kernels.act.affine_in_memory,
    accel.kernels.rng.dropout_in_memory),
    with no intermediate arrays. A form takes that path only when `_plain` holds; anything else,
    including every instruction that faults, runs the model's semantic function, so results, stats
    and errors are the model's (tests/model/test_machine_fast_paths.py)."""
    from accel.kernels import act as kact
    from accel.kernels import rng as krng
    from accel.kernels import vec as kvec
    from accel.model import rng

    general_cast, general_copy = model["vec.cast"], model["vec.copy"]

    def binary(mnemonic: str, code: int) -> Any:
        general = model[mnemonic]

        def run(core: Core, ins: Instruction) -> bool | None:
            ops, facts = ins.ops, core._facts
            dst = ops["dst"]
            d, x, y = facts(dst), facts(ops["a"]), facts(ops["b"])
            if not _plain(d, x, y):
                return general(core, ins)
            v = core._views
            kvec.binary_in_memory(code, v[d.view], d.pstart, d.first, v[x.view], x.pstart, x.first,
                                  v[y.view], y.pstart, y.first, d.pcount, d.elements)
            core.stats.elements["VEC"] += dst.size
            return None

        return run

    def scalar(mnemonic: str, code: int) -> Any:
        general = model[mnemonic]

        def run(core: Core, ins: Instruction) -> bool | None:
            ops, facts = ins.ops, core._facts
            dst = ops["dst"]
            d, x = facts(dst), facts(ops["a"])
            if not _plain(d, x):
                return general(core, ins)
            v = core._views
            kvec.scalar_in_memory(code, v[d.view], d.pstart, d.first, v[x.view], x.pstart, x.first,
                                  _f32(ops["scalar"]), d.pcount, d.elements)
            core.stats.elements["VEC"] += dst.size
            return None

        return run

    def cast(core: Core, ins: Instruction) -> bool | None:
        ops, facts = ins.ops, core._facts
        dst = ops["dst"]
        d, x = facts(dst), facts(ops["src"])
        if not _plain(d, x):
            return general_cast(core, ins)
        v = core._views
        kvec.convert_in_memory(v[d.view], d.pstart, d.first, v[x.view], x.pstart, x.first, d.pcount, d.elements)
        core.stats.elements["VEC"] += dst.size
        return None

    def copy(core: Core, ins: Instruction) -> bool | None:
        ops, facts = ins.ops, core._facts
        dst = ops["dst"]
        d, x = facts(dst), facts(ops["src"])
        if d.view[1] != x.view[1] or not _plain(d, x):
            return general_copy(core, ins)
        v = core._views
        v[d.view][d.rows, d.cols] = v[x.view][x.rows, x.cols]  # numpy copies through a buffer where they overlap
        core.stats.elements["VEC"] += dst.size
        return None

    def act(mnemonic: str, relu: bool) -> Any:
        general = model[mnemonic]

        def run(core: Core, ins: Instruction) -> bool | None:
            ops, facts = ins.ops, core._facts
            dst, bias = ops["dst"], ops["bias"]
            d, x = facts(dst), facts(ops["src"])
            v = core._views
            if type(bias) is AP:  # one fp32 per partition
                b = facts(bias)
                if b.problem is not None or b.view[1] != "fp32" or b.elements != 1 or b.pcount != x.pcount:
                    return general(core, ins)
                bias_mem, pb, cb, value = v[b.view], b.pstart, b.first, _f32(0)
            else:
                bias_mem, pb, cb, value = v["sb", "fp32"], -1, 0, _f32(bias)
            if not _plain(d, x):  # faults, byte maps and overlaps out of stream order: the model's path
                return general(core, ins)
            kact.affine_in_memory(v[d.view], d.pstart, d.first, v[x.view], x.pstart, x.first, _f32(ops["scale"]),
                                  bias_mem, pb, cb, value, relu, d.pcount, d.elements)
            core.stats.elements["ACT"] += dst.size
            return None

        return run

    general_dropout = model["vec.dropout"]

    def dropout(core: Core, ins: Instruction) -> bool | None:
        ops, facts = ins.ops, core._facts
        dst = ops["dst"]
        d, x = facts(dst), facts(ops["src"])
        if ops["gen"] != rng.PHILOX or not _plain(d, x):
            return general_dropout(core, ins)
        v, state, p = core._views, core.rng, ops["p"]
        seed, offset = state.seed, state.offset
        krng.dropout_in_memory(v[d.view], d.pstart, d.first, v[x.view], x.pstart, x.first, d.pcount, d.elements,
                               np.uint64(ops["base"]), np.uint64(state.stride or x.elements),
                               np.uint64(seed & 0xFFFFFFFF), np.uint64(seed >> 32), np.uint64(offset & 0xFFFFFFFF),
                               np.uint64((offset >> 32) & 0xFFFFFFFF), np.int64(rng.threshold(p)), _f32(rng.scale(p)))
        core.stats.elements["VEC"] += dst.size
        return None

    general_wait = model["sem.wait"]

    def wait(core: Core, ins: Instruction) -> bool | None:
        ops, sems = ins.ops, core.sems
        s = ops["sem"]
        if 0 <= s < sems.size and sems.item(s) < ops["count"]:
            return False  # cannot issue yet, as sem.wait says (the common answer of a retried wait)
        return general_wait(core, ins)

    out = {"vec.cast": cast, "vec.copy": copy, "sem.wait": wait, "act.identity": act("act.identity", False),
           "act.relu": act("act.relu", True), "vec.dropout": dropout}
    for op, code in kvec.OPS.items():
        out[f"vec.{op}"] = binary(f"vec.{op}", code)
        out[f"vec.{op}s"] = scalar(f"vec.{op}s", code)
    return out


def run(program: Program | str | bytes, inputs: dict[str, Any] | None = None,
        config: CoreConfig | Mapping[str, Any] | None = None) -> RunResult:
    """Run a program on a fresh core: `accel.run(prog, {"x": x})`; config is a CoreConfig or a dict
    of its fields."""
    return Core(config).run(program, inputs)
