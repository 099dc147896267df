"""Mutation test of the race checker: delete each sem.wait, and separately each sem.signal, of the
example programs and of every multi-engine directed case. A mutant's result can depend on timing
when the functional emulator, stepping the engines in different orders (strict priorities with
each engine first, and seeded random choices), gives different outputs or fails in some orders only;
every such mutant must be caught: the schedule reports a deadlock, or check_races a race. The
unmutated programs report no race in any of those orders or on their schedule."""

from __future__ import annotations

from pathlib import Path

import pytest
from race_runs import CASES, EXAMPLES, inputs_for, priority, run_interleaved, seeded, timeline_of

from accel.config import CoreConfig
from accel.isa.asm import assemble
from accel.machine import MachineError
from accel.timing.race import RACE, UNINITIALISED, check_races
from accel.timing.schedule import schedule

# Each engine first, the others after it in two opposite orders, and two seeded random choices. (All
# 24 strict priorities plus four seeds classified every mutant the same way when this was written.)
ENGINES = ("PE", "ACT", "VEC", "DMA")
PICKERS = [priority(",".join((first, *rest))) for first in ENGINES
           for rest in ([e for e in ENGINES if e != first], [e for e in reversed(ENGINES) if e != first])]
PICKERS += [seeded(s) for s in range(2)]
# The one directed case that reads bytes nothing wrote: dma.load stores partitions 0..1 of
# sb[0:8, 208], which no load fills (they hold the reset value, zero, which the case expects).
KNOWN_UNINITIALISED = {"dma.load.s": [("DMA", "dma.store", "sb", (0, 1), (208, 303))]}


def _programs() -> list[Path]:
    """The examples and every directed case whose instructions run on more than one engine."""
    out = []
    for path in EXAMPLES + CASES:
        program = assemble(path.read_text(), path.name)
        engines = set()
        for ins in program.instructions:
            if ins.mnemonic == "halt":
                break
            engines.add(ins.engine)
        if len(engines) > 1:
            out.append(path)
    return out


def _outcome(program, inputs, pick) -> tuple:
    """A run's outputs as bits, or the kind of error it ended with."""
    try:
        outputs, _, _ = run_interleaved(program, inputs, pick)
    except MachineError as e:
        return ("error", str(e).split(":")[0])
    return tuple((k, v.dtype.str, v.tobytes()) for k, v in sorted(outputs.items()))


def _caught(program) -> str | None:
    """How the timing model flags a program: "deadlock", "race", "uninitialised" or None."""
    try:
        timeline = schedule(program, CoreConfig())
    except MachineError as e:
        assert str(e).startswith("deadlock"), e
        return "deadlock"
    races = check_races(timeline, limit=None)
    if any(r.kind == RACE for r in races):
        return "race"
    return "uninitialised" if races else None


@pytest.mark.parametrize("path", _programs(), ids=lambda p: p.name)
def test_unmutated_programs_report_no_race(path):
    program = assemble(path.read_text(), path.name)
    inputs = inputs_for(program, path)
    found = check_races(schedule(program, CoreConfig()), limit=None)
    for pick in PICKERS[:: len(PICKERS) // 4]:
        _, trace, released = run_interleaved(program, inputs, pick)
        assert check_races(timeline_of(program, trace, released), limit=None) == found
    got = [(r.first.engine, r.first.mnemonic, r.space, r.partitions, r.bytes) for r in found]
    assert all(r.kind == UNINITIALISED for r in found)
    assert got == KNOWN_UNINITIALISED.get(path.name, [])


def test_every_timing_dependent_mutant_is_caught(capsys):
    total = differ = fail = caught = flagged = 0
    missed, benign, how = [], [], {"deadlock": 0, "race": 0, "uninitialised": 0}
    for path in _programs():
        lines = path.read_text().splitlines(keepends=True)
        original = assemble("".join(lines), path.name)
        inputs = inputs_for(original, path)
        for k, line in enumerate(lines):
            words = line.split(";")[0].split()
            if not words or words[0] not in ("sem.wait", "sem.signal"):
                continue
            total += 1
            mutant = assemble("".join(lines[:k] + lines[k + 1:]), path.name)
            outcomes = {_outcome(mutant, inputs, pick) for pick in PICKERS}
            verdict = _caught(mutant)
            if verdict:
                flagged += 1
                how[verdict] += 1
            if len(outcomes) > 1 or all(o[0] == "error" for o in outcomes):
                differ += len(outcomes) > 1
                fail += len(outcomes) == 1
                caught += verdict is not None
                if not verdict:
                    missed.append(f"{path.name}:{k + 1}: {line.strip()}")
            elif not verdict:
                benign.append(f"{path.name}:{k + 1}")
    with capsys.disabled():
        print(f"\nrace-checker mutants: {total} (each sem.wait and sem.signal deleted); {differ} give different "
              f"outputs in different engine orders and {fail} fail in every order; {caught} of those {differ + fail} "
              f"caught; {flagged} flagged in all ({how['deadlock']} deadlocks, {how['race']} races, "
              f"{how['uninitialised']} uninitialised reads only); {len(benign)} neither: {', '.join(benign)}")
    assert not missed, missed
    assert total > 100 and differ > total // 4 and fail > total // 4
