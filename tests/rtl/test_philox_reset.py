"""A reset leaves the VEC engine's Philox prefetch as accel.timing.vec assumes: every cache, core and
control empty, whatever the engine held before (docs/vec.md "Cycles", "Reset").

rtl/vec_lane.v resets its index and cache flags and rtl/vec_engine.v the opcode of its instruction
register; before that (issue 15) a Philox instruction right after a reset found the lanes' caches in
the state the previous program (or, on Icarus, X) left them in, or their cores prefetching under the
previous program's last instruction through the reset, and took 9 clocks less than the model (184
against 193 for the vec.rng_set_stride case's rng_fill at 8 lanes). The programs here start with no
instruction whose set-up clock would clear the flags first.
"""

from __future__ import annotations

import numpy as np
import pytest

from accel.isa.asm import assemble
from accel.isa.operands import AP
from accel.tb import verify_core as vc
from accel.tb import verify_vec as vv
from accel.timing.vec import VecTimingState

LANES = 8


def _fill(f: int) -> object:
    return vv.make("vec.rng_fill", dst=AP("sb", 0, LANES, 0, "int32", ((f, 1),)), base=0, gen=0)


@pytest.mark.rtl
def test_vec_engine_philox_after_reset(sim):
    """Each program on the engine's bench (reset between programs) takes the model's clocks for every
    instruction: the first one of the simulation, and one after a program that left every lane's cache
    holding the block it needs and its core the next one (row stride 4, two elements, then a seeding
    long enough for the prefetch to land)."""
    seed = vv.make("vec.rng_seed", lo=0x4D, hi=0)
    offset = vv.make("vec.rng_set_offset", lo=9, hi=0)
    progs = {"seed, offset, fill": [seed, offset, _fill(64)],
             "prefetched": [vv.make("vec.rng_set_stride", stride=4), _fill(2), seed],
             "fill after prefetched": [_fill(64)],
             "seed, offset, fill again": [seed, offset, _fill(64)]}
    sbuf, psum = vv.initial_image(np.random.default_rng(3), vv.config(LANES))
    programs = [{"name": k, "instrs": v, "sbuf": sbuf, "psum": psum} for k, v in progs.items()]
    results, _ = vv.bench(sim, LANES, programs, timing=True)
    got, want = {}, {}
    for p, res in zip(programs, results, strict=True):
        assert res["done"] and res["mismatches"] == 0, res.get("first", res)
        state = VecTimingState(vv.config(LANES))
        got[p["name"]] = res["clocks"]
        want[p["name"]] = [state.issue(i) for i in p["instrs"]]
    assert got == want
    assert got["fill after prefetched"] == [193]  # idle cores: 11 F / 4 + 17 (docs/vec.md)


PHILOX = """
.tensor x fp32[{p}, 40] in
.tensor y fp32[{p}, 40] out
.tensor r int32[{p}, 64] out
    dma.load sb[0:{p}, 0]:fp32[40], x
    vec.rng_seed 0x4d
    vec.rng_set_offset 9
    vec.rng_fill sb[0:{p}, 1024]:int32[64]
    sem.signal dma, s1
    sem.wait vec, s1
    vec.dropout sb[0:{p}, 512]:fp32[40], sb[0:{p}, 0]:fp32[40], 0.25, base=3
    vec.rng_set_stride 4
    vec.rng_fill sb[0:{p}, 2048]:int32[2]
    sem.signal vec, s0
    sem.wait dma, s0
    dma.store y, sb[0:{p}, 512]:fp32[40]
    dma.store r, sb[0:{p}, 1024]:int32[64]
    halt
"""


@pytest.mark.rtl
@pytest.mark.parametrize("partitions", [4, 8])
def test_core_philox_after_reset(sim, partitions):
    """The same Philox program three times on rtl/core.v (reset between): the first of the simulation
    and two after a program whose last VEC instruction is a Philox rng_fill the lanes go on prefetching
    for; every cycle and byte equals the model's, and the runs are alike."""
    cfg = vc.config(partitions)
    prog = assemble(PHILOX.format(p=partitions), "philox.s", cfg)
    assert vc.skip_reason(prog, cfg) == ""
    inputs = vc.random_inputs(np.random.default_rng(4), prog)
    cases = [vc.Case(f"philox {k}", prog, inputs) for k in range(3)]
    out = vc.bench(sim, cfg, cases)
    assert len(out["results"]) == 3, out["error"]
    bad = {r["name"]: r["mismatches"][:3] for r in out["results"] if r["mismatches"]}
    assert not bad, bad
    assert len({r["cycles"] for r in out["results"]}) == 1
