"""accel.tb.verify_core.fold_case without a simulator: a case too wide for the core, folded onto its
partitions, computes what the case computes.

The act.identity and act.relu cases use 40 partitions; folded onto a 16-partition core (partition p to
p mod 16, one block of bytes further per multiple of 16) their ACT, DMA and VEC instructions touch the
same data in other places, so every output tensor equals the unfolded case's on the full-size model.
A fold that let two blocks overlap, or moved one operand of an instruction and not another, changes them.
"""

from __future__ import annotations

import numpy as np
import pytest

from accel import Core
from accel.config import CoreConfig
from accel.isa import resources
from accel.isa.asm import assemble
from accel.isa.operands import AP
from accel.tb import verify_core as vc


def _outputs(program, cfg: CoreConfig, inputs: dict) -> dict[str, np.ndarray]:
    core = Core(cfg)
    core.load(program, inputs)
    core.run()
    return {t.name: np.asarray(core.dram[t.name]).copy() for t in program.tensors if t.role != "in"}


@pytest.mark.parametrize("case", ["act.identity", "act.relu"])
def test_folded_case_computes_the_case(case: str) -> None:
    path = resources.CASES_DIR / f"{case}.s"
    cfg = vc.config(16)
    data = np.load(path.with_suffix(".npz"))
    inputs = {k[3:]: data[k] for k in data if k.startswith("in.")}
    assert isinstance(vc._assemble(path.read_text(), path.name, cfg), str)  # does not fit unfolded
    folded = vc.fold_case(path, cfg)
    assert not isinstance(folded, str), folded
    aps = [v for i in folded.instructions for v in i.ops.values() if isinstance(v, AP)]
    assert max(a.pstart + a.pcount for a in aps) <= 16
    want = _outputs(assemble(path.read_text(), path.name), CoreConfig(), inputs)
    got = _outputs(folded, cfg, inputs)
    assert want and got.keys() == want.keys()
    for name in want:
        assert np.array_equal(got[name].view(np.uint8), want[name].view(np.uint8)), name


def test_programs_play_folded_cases_only_when_asked() -> None:
    cfg = vc.config(16)
    plain = {c.name for c in vc.programs(cfg, 0, 1)[0]}
    folded = {c.name for c in vc.programs(cfg, 0, 1, fold_cases=True)[0]}
    assert not any(n.endswith(" folded") for n in plain)
    assert {"act.identity folded", "act.relu folded"} <= folded - plain
