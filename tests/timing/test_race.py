"""The race checker (accel.timing.race): its per-opcode access rules against what the model really
reads and writes, the happens-before rule on small programs, exactness per byte, uninitialised
reads, and its errors. Timelines come from functional runs in a chosen engine interleaving
(race_runs.py), each a valid execution of the program."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from race_runs import CASES, EXAMPLES, ROOT, inputs_for, priority, run_interleaved, timeline_of

from accel.config import CoreConfig
from accel.isa._table import TABLE
from accel.isa.asm import assemble, assemble_file
from accel.isa.operands import AP, DramAP
from accel.machine import Core, MachineError
from accel.timing import race
from accel.timing.race import RACE, UNINITIALISED, Race, RaceError, check_races
from accel.timing.schedule import schedule

MNEMONICS = [i["mnemonic"] for i in TABLE["instructions"]]


def races_of(text: str, order: str = "DMA,PE,ACT,VEC", **kw) -> list[Race]:
    """The races of `text` on the timeline of its run that steps the engines in priority `order`."""
    program = assemble(text, "t.s")
    _, trace, released = run_interleaved(program, inputs_for(program), priority(order))
    return check_races(timeline_of(program, trace, released), **kw)


HEAD = """.tensor x fp32[4, 8] in
.tensor y fp32[4, 8] out
"""


# ------------------------------------------------------------------ which operands are read and written

def test_every_opcode_has_an_access_rule():
    assert sorted(race.MEMORY_OPERANDS) == sorted(MNEMONICS)
    by = {i["mnemonic"]: {o["name"]: o["kind"] for o in i["operands"]} for i in TABLE["instructions"]}
    for m, names in race.ALSO_WRITTEN.items():
        assert all(by[m][n] in race.MEMORY_KINDS for n in names), m
    for m, (name, flag) in race.READ_WHEN_FLAG.items():
        assert by[m][name] in race.MEMORY_KINDS and by[m][flag] == "flag", m
    for m, operands in race.MEMORY_OPERANDS.items():
        assert [n for n, _ in operands] == [n for n, k in by[m].items() if k in race.MEMORY_KINDS]
    assert race.MEMORY_OPERANDS["sem.wait"] == race.MEMORY_OPERANDS["vec.rng_seed"] == []


class RecordingCore(Core):
    """The golden model, recording every memory pattern each instruction reads and writes."""

    def reset(self) -> None:
        super().reset()
        self.seen: dict[int, set] = {}

    def _note(self, value, write: bool) -> None:
        self.seen.setdefault(id(self.current), set()).add((value, write))

    def read(self, ap: AP) -> np.ndarray:
        self._note(ap, False)
        return super().read(ap)

    def write(self, ap: AP, values: np.ndarray) -> None:
        self._note(ap, True)
        super().write(ap, values)

    def dram_read(self, d: DramAP, ap: AP) -> np.ndarray:
        self._note(d, False)
        return super().dram_read(d, ap)

    def dram_write(self, d: DramAP, ap: AP, values: np.ndarray) -> None:
        self._note(d, True)
        super().dram_write(d, ap, values)


def test_access_rules_are_what_the_model_does():
    """Every opcode's directed case and the examples on the golden model: the patterns each
    instruction reads and writes are exactly those operand_accesses names."""
    covered, flagged = set(), set()
    for path in CASES + EXAMPLES:
        program = assemble_file(path)
        core = RecordingCore(backend="model")
        core.run(program, inputs_for(program, path))
        for ins in program.instructions:
            if ins.mnemonic == "halt":
                break
            want = {(ins.ops[name], write) for name, write in race.operand_accesses(ins)}
            assert core.seen.get(id(ins), set()) == want, f"{ins.where()}: {ins.source}"
            covered.add(ins.mnemonic)
            if ins.mnemonic in race.READ_WHEN_FLAG and ins.ops[race.READ_WHEN_FLAG[ins.mnemonic][1]]:
                flagged.add(ins.mnemonic)
    assert covered == set(MNEMONICS) - {"halt"}
    assert flagged == set(race.READ_WHEN_FLAG)  # acc=1 was exercised too


# ------------------------------------------------------------------ happens-before

ORDERED = HEAD + """
    dma.load sb[0:4, 0]:fp32[8], x
    sem.signal dma, s0
    sem.wait vec, s0
    vec.muls sb[0:4, 64]:fp32[8], sb[0:4, 0]:fp32[8], 2.0
    sem.signal vec, s1
    sem.wait dma, s1
    dma.store y, sb[0:4, 64]:fp32[8]
"""


@pytest.mark.parametrize("order", ["DMA,PE,ACT,VEC", "VEC,ACT,PE,DMA"])
def test_semaphores_order_the_engines(order):
    assert races_of(ORDERED, order) == []


def test_a_missing_wait_is_a_race_naming_both_instructions():
    text = ORDERED.replace("    sem.wait vec, s0\n", "")
    for order in ("DMA,PE,ACT,VEC", "VEC,ACT,PE,DMA"):  # whichever ran first
        found = [r for r in races_of(text, order) if r.kind == RACE]
        assert len(found) == 1
        r = found[0]
        assert (r.space, r.partitions, r.bytes) == ("sb", (0, 3), (0, 31))
        sites = sorted([r.first, r.second], key=lambda s: s.engine)
        assert [(s.engine, s.mnemonic, s.operand, s.write) for s in sites] == [
            ("DMA", "dma.load", "dst", True), ("VEC", "vec.muls", "a", False)]
        assert [s.where for s in sites] == ["t.s:4", "t.s:6"]
        assert sites[1].text == "vec.muls sb[0:4, 64]:fp32[8], sb[0:4, 0]:fp32[8], 2.0"
        assert "race on sb partitions 0..3 bytes 0..31: " in str(r) and "dma.load sb[0:4, 0]:fp32[8], x" in str(r)


def test_a_signal_covers_only_what_its_engine_did_before_it():
    text = HEAD + """
    dma.load sb[0:4, 0]:fp32[8], x
    sem.signal dma, s0
    dma.load sb[0:4, 32]:fp32[8], x
    sem.wait vec, s0
    vec.muls sb[0:4, 64]:fp32[8], sb[0:4, 0]:fp32[8], 2.0
    vec.muls sb[0:4, 96]:fp32[8], sb[0:4, 32]:fp32[8], 2.0
"""
    found = races_of(text, "DMA,PE,ACT,VEC")
    assert [(r.kind, r.bytes, r.first.where, r.second.where) for r in found] == [(RACE, (32, 63), "t.s:6", "t.s:9")]


def test_a_wait_holds_only_what_its_engine_does_after_it():
    text = HEAD + """
    dma.load sb[0:4, 0]:fp32[8], x
    sem.signal dma, s0
    vec.muls sb[0:4, 64]:fp32[8], sb[0:4, 0]:fp32[8], 2.0
    sem.wait vec, s0
"""
    found = races_of(text, "DMA,PE,ACT,VEC")
    assert [(r.kind, r.first.operand, r.second.operand) for r in found] == [(RACE, "dst", "a")]


def test_order_is_transitive_through_other_engines_and_covers_write_after_read():
    text = HEAD + """
    dma.load sb[0:4, 0]:fp32[8], x
    sem.signal dma, s0
    sem.wait act, s0
    act.identity sb[0:4, 128]:fp32[8], sb[0:4, 0]:fp32[8]
    sem.signal act, s1
    sem.wait vec, s1
    vec.muls sb[0:4, 64]:fp32[8], sb[0:4, 0]:fp32[8], 2.0
    sem.signal vec, s2
    sem.wait dma, s2
    dma.load sb[0:4, 0]:fp32[8], x
"""
    for order in ("DMA,PE,ACT,VEC", "VEC,ACT,PE,DMA"):
        assert races_of(text, order) == []
    unordered = text.replace("    sem.wait dma, s2\n", "")  # the second load may overwrite what ACT and VEC read
    for order in ("DMA,PE,ACT,VEC", "VEC,ACT,PE,DMA"):  # the load first, or the reads first
        found = races_of(unordered, order)
        assert {r.kind for r in found} == {RACE}
        assert sorted(sorted([r.first.where, r.second.where]) for r in found) == [["t.s:10", "t.s:12"],
                                                                                  ["t.s:12", "t.s:7"]]


def test_the_schedules_semaphore_matching_decides():
    """Two engines signal s0; VEC's first wait is ordered after the one whose unit it took."""
    text = HEAD + """
    nop act
    sem.signal act, s0
    dma.load sb[0:4, 0]:fp32[8], x
    sem.signal dma, s0
    sem.wait vec, s0
    vec.muls sb[0:4, 64]:fp32[8], sb[0:4, 0]:fp32[8], 2.0
    sem.wait vec, s0
"""
    assert races_of(text, "DMA,VEC,ACT,PE") == []  # the wait took DMA's unit
    found = races_of(text, "ACT,VEC,DMA,PE")  # it took ACT's: VEC read before the load
    assert [(r.kind, r.first.operand) for r in found] == [(UNINITIALISED, "a"), (RACE, "a")]
    assert str(RaceError(found)).startswith("1 race and 1 uninitialised read found (docs/race_checker.md):\n  ")


# ------------------------------------------------------------------ exact per byte

def test_interleaved_strided_patterns_that_share_no_byte_do_not_race():
    text = HEAD + """
    dma.load sb[0:4, 0]:fp32[8], x
    sem.signal dma, s0
    sem.wait vec, s0
    dma.load sb[0:4, 256]:fp32[8@2], x(0)[4@8, 8@1]
    vec.muls sb[0:4, 260]:fp32[8@2], sb[0:4, 0]:fp32[8], 2.0
    vec.muls sb[4:8, 256]:fp32[8], sb[0:4, 0]:fp32[8], 2.0
    vec.adds sb[0:4, 64]:fp32[8], sb[0:4, 0]:fp32[8], 1.0
    dma.store y, sb[0:4, 0]:fp32[8]
"""
    for order in ("DMA,PE,ACT,VEC", "VEC,ACT,PE,DMA"):
        assert races_of(text, order) == []  # odd/even elements, other partitions, and two reads
    # bf16 elements at bytes 258 + 8k hold the upper halves of the even fp32 elements (256 + 8k..259 + 8k);
    # at 262 + 8k they lie in the odd ones, which the DMA does not write
    assert races_of(text.replace("vec.muls sb[0:4, 260]:fp32[8@2]", "vec.muls sb[0:4, 262]:bf16[8@4]")) == []
    found = races_of(text.replace("vec.muls sb[0:4, 260]:fp32[8@2]", "vec.muls sb[0:4, 258]:bf16[8@4]"))
    assert [(r.kind, r.partitions, r.bytes) for r in found] == [(RACE, (0, 3), (258, 315))]


def _brute(ap: AP) -> set[tuple[int, int]]:
    size = {"fp32": 4, "bf16": 2, "int8": 1, "int32": 4}[ap.dtype]
    cols = {int(ap.offset + e * size + b) for e in ap.element_offsets() for b in range(size)}
    return {(p, c) for p in range(ap.pstart, ap.pstart + ap.pcount) for c in cols}


def test_shared_bytes_are_exact_on_random_strided_patterns():
    rng = np.random.default_rng(7)
    sizes = {"fp32": 4, "bf16": 2, "int8": 1}
    hits = 0
    for _ in range(400):
        aps = []
        for _ in range(2):
            dtype = str(rng.choice(list(sizes)))
            dims = tuple((int(rng.integers(1, 5)), int(rng.integers(-6, 7))) for _ in range(int(rng.integers(1, 4))))
            low = sum((n - 1) * s for n, s in dims if s < 0)
            offset = (int(rng.integers(0, 24)) - low) * sizes[dtype]
            aps.append(AP("sb", int(rng.integers(0, 4)), int(rng.integers(1, 4)), offset, dtype, dims))
        common = _brute(aps[0]) & _brute(aps[1])
        got = race._shared(race._chip_footprint(aps[0]), race._chip_footprint(aps[1]))
        want = (min(c for _, c in common), max(c for _, c in common)) if common else None
        assert got == want, aps
        hits += bool(common)
    assert 50 < hits < 350  # both outcomes well represented


# ------------------------------------------------------------------ uninitialised reads

def test_reads_of_bytes_nothing_wrote():
    text = """.tensor x fp32[4, 8] in
.tensor t fp32[4, 8] temp
.tensor y fp32[4, 8] out
    dma.load sb[0:4, 0]:fp32[8], x
    dma.store t, sb[0:4, 0]:fp32[8]
    dma.load sb[0:4, 32]:fp32[8], t
    dma.load sb[0:4, 64]:fp32[8], y(0)[4@8, 8@1]
    sem.signal dma, s0
    sem.wait vec, s0
    vec.copy sb[2:6, 96]:fp32[8], sb[0:4, 32]:fp32[8]
    vec.adds sb[0:4, 128]:fp32[4@2], sb[3:7, 92]:fp32[4@2], 1.0
    sem.signal vec, s1
    sem.wait pe, s1
    pe.load_weights sb[0:4, 0]:bf16[4]
    pe.matmul psum[0:4, 0]:fp32[4], sb[0:4, 0]:bf16[4], acc=1
"""
    found = races_of(text)
    assert all(r.kind == UNINITIALISED and r.second is None for r in found)
    got = [(r.first.where, r.first.operand, r.space, r.partitions, r.bytes) for r in found]
    assert got == [("t.s:7", "src", "y", None, (0, 127)),  # an out tensor before anything stored it
                   ("t.s:11", "a", "sb", (4, 6), (92, 119)),  # 92..95 of partitions 4, 5; all of 6
                   ("t.s:15", "dst", "psum", (0, 3), (0, 15))]  # acc=1 adds into a PSUM nothing wrote
    assert "uninitialised read of DRAM tensor y bytes 0..127: DMA dma.load src (read) at t.s:7" in str(found[0])


# ------------------------------------------------------------------ errors and limits

def test_race_error_lists_the_first_few():
    lines = [HEAD] + [f"    dma.load sb[0:4, {32 * k}]:fp32[8], x\n    vec.muls sb[0:4, 1024]:fp32[8], "
                      f"sb[0:4, {32 * k}]:fp32[8], 2.0\n" for k in range(8)]
    text = "".join(lines)
    every = races_of(text, "DMA,PE,ACT,VEC", limit=None)
    assert len(every) == 8 and len(races_of(text, "DMA,PE,ACT,VEC", limit=3)) == 3
    err = RaceError(every)
    assert isinstance(err, MachineError) and err.races == every
    msg = str(err).splitlines()
    assert msg[0] == "8 races found (docs/race_checker.md):" and len(msg) == 7 and msg[-1] == "  ... and 3 more"


def test_a_timeline_out_of_causal_order_is_refused():
    program = assemble(ORDERED, "t.s")
    _, trace, released = run_interleaved(program, inputs_for(program), priority("DMA,PE,ACT,VEC"))
    tl = timeline_of(program, trace, released)
    early = tl.start.copy()
    early[3] = -1  # vec.muls before its wait
    tl.start = early
    with pytest.raises(ValueError, match="VEC runs instruction 3 before instruction 2"):
        check_races(tl)
    tl.start = np.array([0, 2, 1, 3, 4, 5, 6])  # the wait before the signal it took units from
    with pytest.raises(ValueError, match="sem.wait 2 took units of sem.signal 1 before it ran"):
        check_races(tl)


def _bench():
    spec = importlib.util.spec_from_file_location("bench_emulator", ROOT / "benchmarks/bench_emulator.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.filterwarnings("ignore:invalid value encountered in cast")  # NaN inputs to bf16 (accel.machine)
def test_the_benchmark_programs_are_race_free():
    bench = _bench()
    rng = np.random.default_rng(0)
    for text, inputs in ((bench.vec_add_program(200), bench.vec_add_inputs(rng)),
                         (bench.mixed_program(12), bench.mixed_inputs(rng, 12))):
        program = assemble(text, "bench.s")
        for order in ("DMA,PE,ACT,VEC", "VEC,ACT,PE,DMA"):
            _, trace, released = run_interleaved(program, inputs, priority(order))
            assert check_races(timeline_of(program, trace, released)) == []


def test_the_cyclic_collector_is_restored():
    import gc

    program = assemble(ORDERED, "t.s")
    tl = schedule(program, CoreConfig())
    assert gc.isenabled() and check_races(tl) == [] and gc.isenabled()
    gc.disable()
    try:
        check_races(tl)
        assert not gc.isenabled()  # left as it was
    finally:
        gc.enable()
    tl.start = tl.start[::-1].copy()
    with pytest.raises(ValueError):
        check_races(tl)
    assert gc.isenabled()


def test_on_the_schedule():
    """The lead's schedule as the timeline: a missing wait is a race, its program without it none."""
    assert check_races(schedule(assemble(ORDERED, "t.s"), CoreConfig())) == []
    found = check_races(schedule(assemble(ORDERED.replace("    sem.wait vec, s0\n", ""), "t.s"), CoreConfig()))
    pairs = [sorted([r.first.mnemonic, r.second.mnemonic]) for r in found if r.kind == RACE]
    assert pairs == [["dma.load", "vec.muls"]]
