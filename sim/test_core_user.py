"""cocotb bench: rtl/core.v itself as the toplevel (no sim/core_tb.v), driven only by accel.tb.core_bench
(its DRAM model, program loader, trace recorder, debug-port read-out and the comparison with accel.Core).

The plan comes from ACCEL_CORE_USER_PLAN (JSON written by tests/rtl/test_core_bench.py): the program's text,
the partitions of accel.tb.verify_core.config, a seed for its random inputs, and `plant` = [tensor, byte]:
a DRAM byte flipped in a copy of the core's final image, compared again (the comparison must name it).
The report (ACCEL_CORE_USER_REPORT): done, cycles, err, beats read and written, mismatches, planted.
"""

from __future__ import annotations

import cocotb
import numpy as np

from accel.isa.asm import assemble
from accel.tb import core_bench as cb
from accel.tb import verify_core as vc
from accel.tb.clock import start_clock
from accel.tb.plan import plan_from_env, report_part

PLAN_ENV, REPORT_ENV = "ACCEL_CORE_USER_PLAN", "ACCEL_CORE_USER_REPORT"


@cocotb.test()
async def core_user_bench(dut):
    """The plan's program on rtl/core.v, equal to accel.Core byte for byte and cycle for cycle."""
    plan = plan_from_env(PLAN_ENV, {})
    assert plan, f"{PLAN_ENV} is not set: run this bench through tests/rtl/test_core_bench.py"
    cfg = vc.config(plan["partitions"])
    program = assemble(plan["program"], "user.s", cfg)
    case = vc.Case("user", program, vc.random_inputs(np.random.default_rng(plan["seed"]), program))
    dut.rst.value = 1
    start_clock(dut.clk)
    out = await cb.check_case(dut, cfg, case)
    tensor, byte = plan["plant"]
    planted = {**out["got"], "dram": out["got"]["dram"].copy()}
    t = next(k for k, x in enumerate(program.tensors) if x.name == tensor)
    planted["dram"][cb.dram_layout(program)[0][t] + byte] ^= 0x5A
    report_part(REPORT_ENV, "user", {"done": out["done"], "cycles": out["cycles"], "err": out["err"],
                                     "mismatches": out["mismatches"],
                                     "planted": cb.compare_images(case, planted, out["expected"]),
                                     "model_cycles": int(out["expected"]["total"]), "reads": out["reads"],
                                     "writes": out["writes"]})
    assert not out["mismatches"], out["mismatches"]
