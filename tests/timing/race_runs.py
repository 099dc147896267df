"""Test helpers for the race checker: the programs and their inputs; a run of a program's engines in
a chosen interleaving on the functional emulator (the oracle of "can the result depend on timing");
and a Timeline of such a run (each instruction's start is its place in the run, each wait released
by the signals whose units it took, oldest first), to test the checker apart from the scheduler."""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from accel.isa.encoding import Program
from accel.machine import Core, MachineError
from accel.timing.timeline import ENGINES, Timeline

ROOT = Path(__file__).resolve().parents[2]
CASES = sorted((ROOT / "tests/programs/cases").glob("*.s"))  # one directed program per opcode
EXAMPLES = sorted((ROOT / "isa/examples").glob("*.s"))
Picker = Callable[[list[str]], Sequence[str]]  # engines with work left -> the order to try them in


def inputs_for(program: Program, path: Path | None = None) -> dict[str, np.ndarray]:
    """A directed case's own inputs (its .npz), else seeded random values of each in/inout tensor."""
    npz = path.with_suffix(".npz") if path else None
    if npz and npz.exists():
        with np.load(npz) as z:
            return {k[3:]: z[k] for k in z.files if k.startswith("in.")}
    rng = np.random.default_rng(0)
    out = {}
    for t in program.tensors:
        if t.role in ("in", "inout"):
            ints = t.dtype in ("int8", "int32")
            out[t.name] = rng.integers(-100, 100, t.shape).astype(np.int32) if ints else \
                rng.standard_normal(t.shape).astype(np.float32)
    return out


def priority(order: str) -> Picker:
    """Always step the first engine of `order` (e.g. "DMA,VEC,ACT,PE") that can issue."""
    rank = order.split(",")
    return lambda ready: sorted(ready, key=rank.index)


def seeded(seed: int) -> Picker:
    """Step a randomly chosen engine that can issue (numpy's default generator, seeded)."""
    rng = np.random.default_rng(seed)
    return lambda ready: [ready[k] for k in rng.permutation(len(ready))]


def run_interleaved(program: Program, inputs: dict, pick: Picker, config=None) -> tuple[dict, list[int], dict]:
    """(outputs, executed instruction indices in order, wait index -> releasing signal indices) of one
    functional run whose next step is the first engine in pick's order that can issue.
    MachineError on a deadlock or a faulting instruction, as Core.run."""
    core = Core(config)
    core.load(program, inputs)
    index = {id(ins): k for k, ins in enumerate(program.instructions)}
    units: dict[int, deque[list[int]]] = {}  # semaphore -> [signal index, units left], oldest first
    released: dict[int, list[int]] = {}
    trace: list[int] = []
    while True:
        ready = [e for e in ENGINES if core.queues[e]]
        if not ready:
            return core.outputs(), trace, released
        for e in pick(ready):
            ins = core.queues[e][0]
            core.current = ins  # as Core.step does, so errors name the instruction
            try:
                issued = core.semantics[ins.mnemonic](core, ins) is not False
            finally:
                core.current = None
            if not issued:
                continue
            core.queues[e].popleft()
            k = index[id(ins)]
            trace.append(k)
            if ins.mnemonic == "sem.signal":
                units.setdefault(ins.ops["sem"], deque()).append([k, ins.ops["count"]])
            elif ins.mnemonic == "sem.wait":
                need, fifo, got = ins.ops["count"], units.get(ins.ops["sem"], deque()), []
                while need:
                    take = min(need, fifo[0][1])
                    got.append(fifo[0][0])
                    fifo[0][1] -= take
                    need -= take
                    if not fifo[0][1]:
                        fifo.popleft()
                released[k] = got
            break
        else:
            raise MachineError(core._deadlock_text())


def timeline_of(program: Program, trace: list[int], released: dict[int, list[int]], config=None) -> Timeline:
    """A Timeline of a functional run: instruction trace[t] starts at cycle t and ends at t + 1 (fields
    the checker does not read are zeros)."""
    n = next((k for k, ins in enumerate(program.instructions) if ins.mnemonic == "halt"), len(program.instructions))
    start = np.zeros(n, dtype=np.int64)
    start[trace] = np.arange(len(trace))
    codes = {e: k for k, e in enumerate(ENGINES)}
    ptr, by = np.zeros(n + 1, dtype=np.int64), []
    for k in range(n):
        by += released.get(k, [])
        ptr[k + 1] = len(by)
    given = {"program": program, "config": Core(config).config, "start": start, "end": start + 1,
             "engine": np.array([codes[program.instructions[k].engine] for k in range(n)], dtype=np.int64),
             "released_ptr": ptr, "released_by": np.array(by, dtype=np.int64), "total": len(trace)}
    rest = {f.name: np.zeros(n, dtype=np.int64) for f in dataclasses.fields(Timeline)
            if f.name not in given and f.default is dataclasses.MISSING}
    return Timeline(**given, **rest)
