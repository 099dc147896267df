"""accel verify vec's random program generator (accel/tb/verify_vec.py), without a simulator.

One generator per VEC opcode, checked against the ISA's opcode list (a new opcode without its own
generator is an error, not a silent fall-through to another opcode's); and every generated program
runs on accel.Core, the same on the fast and the model backend.
"""

from __future__ import annotations

import numpy as np
import pytest

import accel
from accel.isa._table import TABLE
from accel.isa.encoding import Program
from accel.tb import verify_vec as vv

ISA_VEC = [i["mnemonic"] for i in TABLE["instructions"] if i["engine"] == "VEC"]


def test_one_generator_per_isa_vec_opcode() -> None:
    assert vv.VEC_OPS == ISA_VEC
    assert set(vv.BRANCHES) == set(ISA_VEC)
    vv.check_branches(ISA_VEC)


def test_opcode_without_generator_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """An opcode the ISA gains (here a pretend vec.new_op) stops the generator with its name."""
    monkeypatch.setattr(vv, "VEC_OPS", [*ISA_VEC, "vec.new_op"])
    with pytest.raises(ValueError, match=r"no random-program generator for VEC opcode\(s\) vec\.new_op"):
        vv.plan_programs(8, 1, 10, seed=0, directed=False)


def test_generator_for_unknown_opcode_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vv, "VEC_OPS", [m for m in ISA_VEC if m != "vec.cast"])
    with pytest.raises(ValueError, match=r"generators for vec\.cast, which the ISA does not list"):
        vv.plan_programs(8, 1, 10, seed=0, directed=False)


@pytest.mark.parametrize("seed", range(0, 48, 3))
@pytest.mark.parametrize("lanes", [8, 16])
def test_random_programs_run_on_core(seed: int, lanes: int) -> None:
    """Every program is one the model accepts (seed 4 once put a dropout mask on top of its source),
    covers many opcodes, and ends in the same SBUF/PSUM image on both backends."""
    programs, _ = vv.plan_programs(lanes, 1, 150, seed=seed, directed=False)
    p = programs[0]
    assert len({i.mnemonic for i in p["instrs"]}) >= 20
    images = []
    for backend in ("model", "fast"):
        core = accel.Core(vv.config(lanes), backend=backend)
        core.load(Program([], p["instrs"]))
        core.sbuf[:], core.psum[:] = p["sbuf"], p["psum"]
        core.run()
        images.append(vv.image_words(core.sbuf, core.psum))
    assert np.array_equal(images[0], images[1])


def test_masks_never_overlap_their_operands() -> None:
    """The seeds that made the generator overlap a dropout mask with src or dst now give valid programs."""
    for seed in (4, 25, 26, 31, 35, 40):
        vv.plan_programs(8, 1, 300, seed=seed, directed=False)
