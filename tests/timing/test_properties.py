"""Properties of the schedule on random race-free multi-engine programs (accel.isa.randprog.random_pipeline)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from accel import Core, CoreConfig, assemble
from accel.isa.randprog import random_pipeline
from accel.timing import check_races, schedule, summary
from accel.timing.timeline import PSUM_BANK

CONFIG = CoreConfig(pe_rows=4, pe_cols=4, sbuf_partitions=4, psum_partitions=4)
SEEDS = range(12)


def program(seed: int) -> tuple[str, dict[str, np.ndarray]]:
    text = random_pipeline(np.random.default_rng(seed), chains=3, stages=4)
    rng = np.random.default_rng(seed + 1000)
    tensors = assemble(text, config=CONFIG).tensors
    return text, {t.name: rng.standard_normal(t.shape).astype(np.float32) for t in tensors if t.role == "in"}


def in_schedule_order(prog, inputs: dict, timeline) -> dict[str, np.ndarray]:
    """Outputs of executing the instructions one by one in the order the schedule starts them."""
    core = Core(CONFIG)
    core.load(prog, inputs)
    for i in np.lexsort((timeline.engine, timeline.start)):
        ins = prog.instructions[i]
        core.current = ins
        assert core.semantics[ins.mnemonic](core, ins) is not False, f"{ins.source} could not issue at its start"
    return core.outputs()


@pytest.mark.parametrize("seed", SEEDS)
def test_schedule_properties(seed: int) -> None:
    text, inputs = program(seed)
    prog = assemble(text, config=CONFIG)
    result = Core(CONFIG).run(prog, inputs)
    tl, timing = result.timeline, result.timing
    assert not check_races(tl)
    engines = timing["engines"]
    for name, t in engines.items():
        assert t["busy"] <= tl.total, name
        assert t["busy"] + t["semaphore_wait"] + t["resource_wait"] + t["idle"] == tl.total, name
    # some engine is busy or waiting in every cycle but the first (nothing has been dispatched yet)
    assert tl.total <= 1 + sum(t["busy"] + t["semaphore_wait"] + t["resource_wait"] for t in engines.values())
    # the values: the functional emulator's order and the schedule's order give the same bits
    timed = in_schedule_order(prog, inputs, tl)
    for name, value in result.outputs.items():
        assert np.array_equal(value.view(np.uint32), timed[name].view(np.uint32)), name
    # the critical path ends at the total and each step starts no earlier than the one before
    path = timing["critical_path"]
    assert tl.end[path[-1]] == tl.total and (np.diff(tl.start[path]) >= 0).all()


def test_removing_a_semaphore_is_never_slower_unless_it_races() -> None:
    """Delete each hand-off (its sem.signal and sem.wait): the run is no slower, or the checker
    reports the race the deletion made, or (docs/timing.md, "Removing a semaphore") an engine now
    reaches a PSUM bank first that another engine's later instruction then waits for."""
    mutants = caught = slower = 0
    for seed in range(4):
        text, _ = program(seed)
        tl0 = schedule(assemble(text, config=CONFIG), CONFIG)
        for s in sorted(set(re.findall(r"sem\.signal \w+, (s\d+)", text))):
            lines = [ln for ln in text.splitlines() if not re.fullmatch(rf"sem\.(signal|wait) \w+, {s}", ln)]
            tl = schedule(assemble("\n".join(lines) + "\n", config=CONFIG), CONFIG)
            mutants += 1
            races = check_races(tl)
            caught += bool(races)
            if not races and tl.total > tl0.total:
                slower += 1
                more_bank_waits = (tl.reason == PSUM_BANK).sum() > (tl0.reason == PSUM_BANK).sum()
                assert more_bank_waits, f"seed {seed}: without {s} the run takes {tl.total} > {tl0.total}"
    # most hand-offs order real data; a few are also implied by another chain's signal on the same engine
    assert mutants > 20 and caught > mutants // 2 and slower <= mutants // 4, (mutants, caught, slower)


def test_timing_only_equals_the_run() -> None:
    text, inputs = program(0)
    prog = assemble(text, config=CONFIG)
    a = Core(CONFIG).run(prog, inputs).timeline
    b = schedule(prog, CONFIG)
    assert np.array_equal(a.start, b.start) and np.array_equal(a.end, b.end)
    assert summary(a)["total_cycles"] == summary(b)["total_cycles"]
