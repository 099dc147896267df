"""Race checker speed: check_races beside the functional run it guards, on bench_emulator's programs.

    PYTHONPATH=$PWD python benchmarks/bench_race.py      # the programs at bench_emulator's default sizes
    PYTHONPATH=$PWD python benchmarks/bench_race.py --n 2000 --tiles 100 --unsynced 2000

(PYTHONPATH: a script's `import accel` otherwise finds whatever `pip install -e` last pointed at.)

For each program: the functional run (Core().run(..., timing=False), fast backend, after a warm-up
run), the schedule
(accel.timing.schedule) and check_races on it, best of --repeat by CPU time of this process (steadier
on a shared machine). The target (issue 12) is run + schedule + race check within 3x of the run alone.
`unsynced` is the checker's hard case: VEC and ACT each working through their own SBUF slots with no
semaphore between them, so every access is concurrent with everything the other engine did.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
from bench_emulator import mixed_inputs, mixed_program, vec_add_inputs, vec_add_program  # noqa: E402

from accel.config import CoreConfig  # noqa: E402
from accel.isa.asm import assemble  # noqa: E402
from accel.machine import Core  # noqa: E402
from accel.timing.race import check_races  # noqa: E402
from accel.timing.schedule import schedule  # noqa: E402


def unsynced_program(n: int) -> str:
    """n `vec.adds` and n `act.identity` of 8 x 16 fp32 on disjoint rotating slots, no semaphore between."""
    lines = [".tensor x fp32[8, 2048] in", "dma.load sb[0:8, 0]:fp32[2048], x", "sem.signal dma, s0",
             "sem.signal dma, s1", "sem.wait vec, s0", "sem.wait act, s1"]
    for i in range(n):
        lines.append(f"vec.adds sb[0:8, {8192 + 64 * (i % 32)}]:fp32[16], sb[0:8, {64 * (i % 64)}]:fp32[16], 1.0")
        lines.append(f"act.identity sb[0:8, {12288 + 64 * (i % 32)}]:fp32[16], sb[0:8, {64 * (i % 64)}]:fp32[16]")
    return "\n".join(lines + ["halt"]) + "\n"


def cpu_best(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """(best CPU seconds of this process, last result) of `repeat` calls."""
    best, result = np.inf, None
    for _ in range(repeat):
        start = time.process_time()
        result = fn()
        best = min(best, time.process_time() - start)
    return best, result


def measure(name: str, text: str, inputs: dict[str, np.ndarray], repeat: int) -> None:
    program = assemble(text, f"{name}.s")
    config = CoreConfig()
    Core().run(program, inputs)  # compile the fast backend's and the schedule's kernels outside the timing
    run_s, result = cpu_best(lambda: Core().run(program, inputs, timing=False), repeat)
    sched_s, timeline = cpu_best(lambda: schedule(program, config), repeat)
    race_s, races = cpu_best(lambda: check_races(timeline, limit=None), repeat)
    n = result.stats.steps
    print(f"\n{name}: {n:,} instructions, {len(races)} races")
    print(f"  functional run     {run_s:8.3f} s CPU  {n / run_s:>10,.0f} instructions/s")
    print(f"  schedule           {sched_s:8.3f} s CPU  {n / sched_s:>10,.0f} instructions/s")
    print(f"  check_races        {race_s:8.3f} s CPU  {n / race_s:>10,.0f} instructions/s")
    print(f"  (run + race check) / run             {(run_s + race_s) / run_s:5.2f}x")
    print(f"  (run + schedule + race check) / run  {(run_s + sched_s + race_s) / run_s:5.2f}x   (target <= 3x)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=20000, help="vec.add instructions (default 20000)")
    ap.add_argument("--tiles", type=int, default=1000, help="tiles of the mixed program (23 instructions each)")
    ap.add_argument("--unsynced", type=int, default=5000, help="vec.adds/act.identity pairs without semaphores")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    measure("vec.add", vec_add_program(args.n), vec_add_inputs(rng), args.repeat)
    measure("mixed", mixed_program(args.tiles), mixed_inputs(rng, args.tiles), args.repeat)
    measure("unsynced", unsynced_program(args.unsynced), {"x": rng.standard_normal((8, 2048)).astype(np.float32)},
            args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
