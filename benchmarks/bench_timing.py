"""Timing simulation speed: simulated instructions per second, timing-only and beside the values.

    PYTHONPATH=$PWD python benchmarks/bench_timing.py   # 100,000 vec.add and a 115,000-instruction mixed program

(PYTHONPATH: a script's `import accel` otherwise finds whatever `pip install -e` last pointed at.)

* timing-only: `accel.timing.schedule(program, config)`; in brackets its lowering (every
  instruction's cost, with the VEC Philox replay when the program has Philox forms) and the rest
  (the Numba event simulation and any replay after it); target >= 1e6 instructions/s;
* with values: `Core.run(program, inputs)` (the functional run, then the schedule) against
  `Core.run(..., timing=False)`, the functional run alone; target within 1.5x.
Programs from bench_emulator.py (the shape of compiled code: many small instructions). Best of
--repeat, CPU time of this process.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from bench_emulator import mixed_inputs, mixed_program, vec_add_inputs, vec_add_program  # noqa: E402

from accel import Core, CoreConfig, assemble  # noqa: E402
from accel.timing.schedule import lower, schedule  # noqa: E402


def cpu(fn, repeat: int) -> float:
    best = np.inf
    for _ in range(repeat):
        t = time.process_time()
        fn()
        best = min(best, time.process_time() - t)
    return best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=100_000, help="vec.add instructions")
    ap.add_argument("--tiles", type=int, default=5000, help="tiles of the mixed program (23 instructions each)")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    config = CoreConfig()
    for name, text, inputs in (("vec.add", vec_add_program(args.n), vec_add_inputs(rng)),
                               ("mixed", mixed_program(args.tiles), mixed_inputs(rng, args.tiles))):
        prog = assemble(text, config=config)
        schedule(prog, config)  # compile outside the timing
        n = sum(1 for _ in prog.instructions) - 1
        t_sched = cpu(lambda p=prog: schedule(p, config), args.repeat)
        t_lower = cpu(lambda p=prog: lower(p, config), args.repeat)
        Core(config).run(prog, inputs, timing=False)  # compile the fast backend's kernels outside the timing
        t_values = cpu(lambda p=prog, i=inputs: Core(config).run(p, i, timing=False), args.repeat)
        t_both = cpu(lambda p=prog, i=inputs: Core(config).run(p, i), args.repeat)
        print(f"{name}: {n:,} instructions")
        print(f"  timing only       {n / t_sched:>12,.0f} instr/s  (lowering {n / t_lower:,.0f}/s, "
              f"the rest {n / max(t_sched - t_lower, 1e-9):,.0f}/s)")
        print(f"  values only       {n / t_values:>12,.0f} instr/s")
        print(f"  values + timing   {n / t_both:>12,.0f} instr/s  ({t_both / t_values:.2f}x the values alone)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
