"""random_pipeline stays race-free when the weights' copy is larger than an operand (partitions > 2 x
elements): its p bf16 per partition once overran the chain's last region into the next chain's first,
a race the 16-partition volume run of rtl/core.v found as wrong DRAM bytes (benchmarks/RESULTS.md).
With sparse steps the chains' weights differ (ratio, dense or not): a chain's load and its matmul stay
adjacent, else the model stops (another chain's weights) or the values depend on the order."""

from __future__ import annotations

import numpy as np
import pytest

from accel import Core
from accel.isa.asm import assemble
from accel.isa.randprog import random_pipeline
from accel.tb import verify_core as vc
from accel.timing import check_races


@pytest.mark.parametrize("partitions,elements", [(16, 4), (32, 8), (8, 4)])
@pytest.mark.parametrize("engines", [("vec",), ("pe", "act", "vec"), ("pe", "act", "vec", "sparse")])
def test_no_race_between_chains(partitions: int, elements: int, engines: tuple[str, ...]) -> None:
    cfg = vc.config(partitions)
    for seed in range(4):
        r = np.random.default_rng([seed, partitions])
        text = random_pipeline(r, chains=3, stages=4, partitions=partitions, elements=elements, engines=engines)
        prog = assemble(text, "pipeline.s", cfg)
        core = Core(cfg)
        core.load(prog, vc.random_inputs(r, prog))
        races = check_races(core.run().timeline, limit=1)
        assert not races, f"seed {seed}: {races[0]}"
