"""accel.timing.vec against rtl/vec_engine.v: every instruction's occupancy, clock for clock.

The bench (sim/test_vec_engine.py with timing on) records the clock at which the engine accepts each
instruction; the difference to the next acceptance is the instruction's occupancy, which must equal
VecTimingState.issue for the same program issued back to back (the bench feeds the next word at once).
Two 8-lane programs: random instructions over every VEC opcode (accel.tb.verify_vec's generator: every
element type, 1-3 dim patterns, partial partitions, pstart != 0, both generators) and a Philox program:
rng_fill / dropout / dropout_mask with Philox words at every index alignment (base, row-stride register,
partitions), 1 to 200 elements, back to back, with short instructions, register writes and dropped
words (nop, sem.signal) in between, and with idle clocks before a third of them (the bench holds the
word back), so the lanes' cores are caught in every prefetch state. Both programs' final images are
compared with the model's as well.
"""

from __future__ import annotations

import numpy as np
import pytest

from accel.isa.encoding import Instruction
from accel.isa.operands import AP
from accel.model import fp
from accel.tb import verify_vec as vv
from accel.timing.vec import VecTimingState

LANES = 8
FREE = (1, 2, 3, 4, 5, 6, 7, 9, 13, 31, 32, 33, 40, 64, 97, 200)


def _dims(r: np.random.Generator, f: int) -> tuple[tuple[int, int], ...]:
    """Row-major dims of f elements: 1 to 3 of them."""
    counts = [f]
    for _ in range(2):
        divs = [d for d in range(2, counts[0]) if counts[0] % d == 0]
        if divs and r.random() < 0.4:
            d = int(r.choice(divs))
            counts = [counts[0] // d, d, *counts[1:]]
    strides, run = [], 1
    for n in reversed(counts):
        strides.insert(0, run)
        run *= n
    return tuple(zip(counts, strides, strict=True))


def philox_program(r: np.random.Generator, n: int) -> list[Instruction]:
    """n instructions, mostly Philox rng_fill / dropout / dropout_mask, with spacers between them."""
    half = int(fp.f32_bits(np.float32(0.5)))
    out: list[Instruction] = []
    while len(out) < n:
        ps = int(r.integers(0, LANES))
        pc = int(r.integers(1, LANES - ps + 1))
        f = int(r.choice(FREE))
        dims = _dims(r, f)
        base = int(r.choice([0, 1, 2, 3, 5, int(r.integers(0, 2**32)), 2**32 - 1]))
        gen = int(r.random() < 0.15)
        kind = r.random()
        if kind < 0.3:
            dst = AP("sb", ps, pc, 0, str(r.choice(["int32", "fp32"])), dims)
            out.append(vv.make("vec.rng_fill", dst=dst, base=base, gen=gen))
        elif kind < 0.5:
            src = AP("sb", ps, pc, 2048, str(r.choice(vv.DTYPES)), dims)
            dst = AP("psum" if r.random() < 0.3 else "sb", ps, pc, 0, str(r.choice(vv.DTYPES)), dims)
            out.append(vv.make("vec.dropout", dst=dst, src=src, p=half, base=base, gen=gen))
        elif kind < 0.7:
            src = AP("sb", ps, pc, 2048, "fp32", dims)
            mask = AP("sb", ps, pc, 4096, "int32", ((-(-f // 32), 1),))
            dst = AP("sb", ps, pc, 0, "bf16", dims)
            out.append(vv.make("vec.dropout_mask", dst=dst, src=src, mask=mask, p=half, base=base, gen=gen))
        elif kind < 0.8:
            out.append(vv.make("vec.rng_set_stride", stride=int(r.choice([0, 0, 1, 2, 3, 6, 7, 2**32 - 1]))))
        elif kind < 0.85:
            out.append(vv.make("vec.rng_set_offset", lo=int(r.integers(0, 2**32)), hi=0))
        elif kind < 0.9:
            out.append(vv.make("nop", engine="vec") if r.random() < 0.5 else
                       vv.make("sem.signal", engine="vec", sem=0, count=1))
        else:
            one = ((1, 1),)
            out.append(vv.make("vec.copy", dst=AP("sb", ps, pc, 6000, "fp32", one),
                               src=AP("sb", ps, pc, 6100, "fp32", one)))
    return out


def _measure(sim: str) -> list[tuple[Instruction, int, int]]:
    """(instruction, RTL clocks, model clocks) for both programs, played one after the other with a
    reset between them (which leaves the lanes' Philox state as the model's clock 0: docs/vec.md
    "Reset")."""
    programs, _ = vv.plan_programs(LANES, 1, 120, seed=31, directed=False)
    r = np.random.default_rng(32)
    sbuf, psum = vv.initial_image(r, vv.config(LANES))
    programs.append({"name": "philox", "instrs": philox_program(r, 110), "sbuf": sbuf, "psum": psum})
    gaps = [0] + [int(r.choice([1, 2, 3, 4, 5, 6, 8, 11, 12, 17, 23, 40])) if r.random() < 0.35 else 0
                  for _ in programs[1]["instrs"][1:]]
    programs[1]["gaps"] = gaps  # idle clocks before each instruction of the Philox program
    results, _ = vv.bench(sim, LANES, programs, timing=True)
    rows = []
    for p, res in zip(programs, results, strict=True):
        assert res["done"] and res["mismatches"] == 0, res.get("first", res)
        state = VecTimingState(vv.config(LANES))
        g = p.get("gaps") or [0] * len(p["instrs"])
        assert len(res["clocks"]) == len(p["instrs"])
        for k, ins in enumerate(p["instrs"]):
            got = res["clocks"][k] - (g[k + 1] if k + 1 < len(g) else 0)  # less the next one's gap
            rows.append((ins, got, state.issue(ins, start=state.ready + g[k])))
    return rows


@pytest.mark.rtl
def test_vec_cycles_equal_the_rtl(sim):
    """Every instruction of both programs takes exactly the clocks the model says."""
    rows = _measure(sim)
    philox = [i for i, _, _ in rows if i.mnemonic in ("vec.rng_fill", "vec.dropout", "vec.dropout_mask")
              and not i.ops["gen"]]
    # what the programs cover
    assert {i.mnemonic for i, _, _ in rows} >= set(vv.VEC_OPS) | {"nop", "sem.signal"}
    assert {ap.dtype for i, _, _ in rows for ap in i.ops.values() if isinstance(ap, AP)} == set(vv.DTYPES)
    assert {len(ap.dims) for i, _, _ in rows for ap in i.ops.values() if isinstance(ap, AP)} == {1, 2, 3}
    assert any(i.ops["dst"].pstart for i in philox) and any(i.ops["dst"].pcount < LANES for i in philox)
    assert {i.ops["dst"].free_size for i in philox} >= {1, 2, 3, 33, 200}
    assert len({(i.ops["base"] & 3) for i in philox}) == 4
    stalls = [got for i, got, _ in rows if i in philox]
    assert len(set(stalls)) > 20  # the Philox clocks do vary with alignment and history
    bad = [(str(i), got, want) for i, got, want in rows if got != want]
    assert not bad, f"{len(bad)} of {len(rows)} differ (instruction, rtl, model): {bad[:10]}"
