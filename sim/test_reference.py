"""cocotb bench: one combinational RTL module against its accel.tb.reference model, port by port.

The toplevel is any module with a port-level reference (ACCEL_REF_MODULE names it; the runner
builds that module as the toplevel): every input port the reference takes gets random words, with
the fp32 special values (zeros, infinities, NaNs, the smallest subnormal, 1.0) mixed in, and
decoder words from accel.isa.randprog.random_words; after each change the output ports are
compared with the model's through a Scoreboard. ACCEL_REF_VECTORS sets the count (default 300).
"""

from __future__ import annotations

import inspect
import os

import cocotb
import numpy as np
from cocotb.triggers import Timer

from accel.isa.randprog import random_words
from accel.tb import Scoreboard, reference
from accel.tb.modules import ONE_F32
from accel.tb.stream import read_port

SPECIALS = [0, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000, 0x7F800001, 0x00000001, 0x3F800000]


def _stimulus(rng: np.random.Generator, name: str, width: int, n: int) -> list[int]:
    if width == 512:
        return random_words(rng, n)
    if width == 1:
        return rng.integers(0, 2, n).tolist()
    words = [int(w) for w in rng.integers(0, 2**min(width, 63), n, dtype=np.uint64)]
    specials = [s & ((1 << width) - 1) for s in SPECIALS] + [0x7F80, 0xFF80, 0x7FC0, 0x3F80]
    pick = rng.random(n) < 0.3
    return [int(rng.choice(specials)) if p else w for p, w in zip(pick, words, strict=True)]


@cocotb.test()
async def outputs_match_the_reference(dut):
    module = os.environ["ACCEL_REF_MODULE"]
    n = int(os.environ.get("ACCEL_REF_VECTORS", "300"))
    model = reference(module)
    inputs = list(inspect.signature(model).parameters)
    rng = np.random.default_rng(7)
    stimulus = {p: _stimulus(rng, p, len(getattr(dut, p)), n) for p in inputs}
    if module == "dropout_threshold":  # specified for rates in [0, 1] only
        stimulus["p"] = [v % (ONE_F32 + 1) for v in stimulus["p"]]
    sb = Scoreboard(lambda i: model(**i), name=module)
    outputs = None
    for k in range(n):
        vector = {p: stimulus[p][k] for p in inputs}
        for p, v in vector.items():
            getattr(dut, p).value = v
        await Timer(1, unit="ns")
        expected = model(**vector)
        outputs = outputs or list(expected)
        sb.check(vector, {p: read_port(getattr(dut, p)) for p in outputs}, context=f"vector {k}")
    dut._log.info("%s: %d vectors, %d mismatches", module, sb.checked, sb.mismatches)
    sb.finish()
