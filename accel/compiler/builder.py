"""Program builder: DRAM tensors, SBUF/PSUM allocation, and the semaphores the data need.

Lowerings emit instructions with the on-chip regions they read and write; the builder inserts a
`sem.signal F, s` / `sem.wait E, s` pair exactly when an instruction on engine E touches bytes that
engine F wrote (or read, for a write) and nothing orders the two yet. Order is tracked with vector
clocks over the four engines, so transitive order (F -> G -> E) needs no new pair. One semaphore
per ordered engine pair: its signals and waits are each in program order, so the k-th wait takes the
k-th signal's unit. Every emitted line carries a comment naming the ONNX node it lowers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from accel.compiler.graph import CompileError
from accel.config import CoreConfig

ENGINES = ("pe", "act", "vec", "dma")


@dataclass(frozen=True)
class Region:
    """Bytes lo..hi (inclusive) of partitions p0..p1-1 of 'sb' or 'psum'."""

    space: str
    p0: int
    p1: int
    lo: int
    hi: int

    def meets(self, o: Region) -> bool:
        return (self.space == o.space and self.p0 < o.p1 and o.p0 < self.p1 and self.lo <= o.hi
                and o.lo <= self.hi)

    def covers(self, o: Region) -> bool:
        return (self.space == o.space and self.p0 <= o.p0 and o.p1 <= self.p1 and self.lo <= o.lo
                and o.hi <= self.hi)


class Allocator:
    """First-fit allocation of byte ranges within every partition of one memory (all partitions at
    once: a tensor tile spans partitions 0..P-1 of the same offsets)."""

    def __init__(self, space: str, size: int, align: int = 64, delay: int = 2) -> None:
        self.space, self.size, self.align = space, size, align
        self.free_list: list[tuple[int, int]] = [(0, size)]  # (start, end) sorted
        self.peak = 0
        # a freed range is reused only after `delay` more frees, so consecutive tiles land in different
        # buffers and a load can overlap the compute on the tile before (double buffering)
        self.delay = delay
        self.pending: list[tuple[int, int]] = []

    def alloc(self, nbytes: int, what: str, align: int | None = None) -> int:
        a = align or self.align
        need = -(-nbytes // a) * a
        for k, (s, e) in enumerate(self.free_list):
            start = -(-s // a) * a
            if start + need <= e:
                rest = [(s, start)] if start > s else []
                if start + need < e:
                    rest.append((start + need, e))
                self.free_list[k:k + 1] = rest
                self.peak = max(self.peak, start + need)
                return start
        if self.pending:  # out of room: take back what waits for reuse
            for span in self.pending:
                self._release(*span)
            self.pending = []
            return self.alloc(nbytes, what, align)
        used = self.size - sum(e - s for s, e in self.free_list)
        hole = max((e - -(-s // a) * a for s, e in self.free_list), default=0)  # what one range could take
        raise CompileError(f"{what}: {need} bytes per partition do not fit {self.space} ({used} of {self.size} "
                           f"bytes in use, the largest free range {max(hole, 0)} bytes)")

    def aligned(self, nbytes: int) -> int:
        """The bytes per partition an allocation of `nbytes` takes (at the default alignment)."""
        return -(-nbytes // self.align) * self.align

    def room(self) -> int:
        """Bytes per partition free now, those waiting for reuse included (alloc takes them back)."""
        return sum(e - s for s, e in self.free_list) + sum(n for _, n in self.pending)

    def free(self, start: int, nbytes: int) -> None:
        self.pending.append((start, nbytes))
        while len(self.pending) > self.delay:
            self._release(*self.pending.pop(0))

    def _release(self, start: int, nbytes: int) -> None:
        need = self.aligned(nbytes)
        spans = sorted(self.free_list + [(start, start + need)])
        merged: list[tuple[int, int]] = []
        for s, e in spans:
            if merged and s <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], e))
            else:
                merged.append((s, e))
        self.free_list = merged


@dataclass
class Builder:
    """One accel program under construction."""

    config: CoreConfig
    lines: list[str] = field(default_factory=list)
    tensors: list[str] = field(default_factory=list)
    tensor_names: set[str] = field(default_factory=set)
    counts: list[int] = field(default_factory=lambda: [0, 0, 0, 0])
    clocks: list[list[int]] = field(default_factory=lambda: [[0] * 4 for _ in range(4)])
    accesses: dict[tuple[Region, int, bool], int] = field(default_factory=dict)  # -> engine's instruction count
    semaphores_used: int = 0
    node: str = ""
    line_nodes: list[str] = field(default_factory=list)  # per instruction emitted, the node it lowers

    def __post_init__(self) -> None:
        c = self.config
        if c.semaphores < 16:
            raise CompileError(f"CoreConfig.semaphores = {c.semaphores}: the compiler needs 16 (one per engine pair)")
        self.sbuf = Allocator("sb", c.sbuf_partition_bytes)
        self.psum = Allocator("psum", c.psum_partition_bytes, align=4)

    # ------------------------------------------------------------------ declarations
    def tensor(self, name: str, dtype: str, shape: tuple[int, ...], role: str) -> str:
        """Declare a DRAM tensor (once per name)."""
        if name not in self.tensor_names:
            self.tensor_names.add(name)
            self.tensors.append(f".tensor {name} {dtype}[{', '.join(map(str, shape))}] {role}")
        return name

    # ------------------------------------------------------------------ instructions
    def emit(self, engine: str, text: str, reads: tuple[Region, ...] = (), writes: tuple[Region, ...] = ()) -> None:
        """Append one instruction for `engine`, after the semaphore pairs its regions need. Give whole
        buffers as regions where you can: accesses are kept per (region, engine, read/write), so a
        buffer touched many times costs one record."""
        e = ENGINES.index(engine)
        needs = [0, 0, 0, 0]  # per engine, the instruction count this one must come after
        for (r0, f, write), index in self.accesses.items():
            if f == e or index <= self.clocks[e][f] or index <= needs[f]:
                continue
            if any(r0.meets(w) for w in writes) or (write and any(r0.meets(r) for r in reads)):
                needs[f] = index
        for f in range(4):
            if needs[f] > self.clocks[e][f]:
                self._sync(f, e)
        e_index = self._append(e, text)
        acc = self.accesses
        for w in writes:  # a write supersedes the accesses it covers (they are ordered before it now)
            for key in [k for k in acc if w.covers(k[0])]:
                del acc[key]
        for r in reads:
            acc[(r, e, False)] = e_index
        for w in writes:
            acc[(w, e, True)] = e_index
        if len(acc) > 1024:
            self._prune()

    def _append(self, e: int, text: str) -> int:
        self.counts[e] += 1
        self.clocks[e][e] = self.counts[e]
        self.line_nodes.append(self.node)
        self.lines.append(f"    {text:<72} ; {self.node}" if self.node else f"    {text}")
        return self.counts[e]

    def _sync(self, f: int, e: int) -> None:
        """sem.signal on f then sem.wait on e: e's next instruction comes after all of f's so far."""
        s = f * 4 + e
        self.semaphores_used = max(self.semaphores_used, s + 1)
        self._append(f, f"sem.signal {ENGINES[f]}, s{s}")
        known = list(self.clocks[f])
        self._append(e, f"sem.wait {ENGINES[e]}, s{s}")
        self.clocks[e] = [max(a, b) for a, b in zip(self.clocks[e], known, strict=True)]

    def _prune(self) -> None:
        """Drop accesses every other engine is already ordered after."""
        self.accesses = {k: i for k, i in self.accesses.items()
                         if any(self.clocks[g][k[1]] < i for g in range(4) if g != k[1])}

    def barrier(self, engine: str) -> None:
        """Order `engine` after everything every other engine has emitted (used before a program ends)."""
        e = ENGINES.index(engine)
        for f in range(4):
            if f != e and self.counts[f] > self.clocks[e][f]:
                self._sync(f, e)

    def comment(self, text: str) -> None:
        self.lines.append(f"; {text}")

    def text(self, title: str) -> str:
        return "\n".join([f"; {title}", *self.tensors, *self.lines, "    halt"]) + "\n"


def region(space: str, p0: int, pcount: int, offset: int, nbytes: int) -> Region:
    """The region of `nbytes` bytes from `offset` in partitions p0..p0+pcount-1."""
    return Region(space, p0, p0 + pcount, offset, offset + nbytes - 1)
