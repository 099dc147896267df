"""Timeline outputs' speed and size: write_trace (.pftrace, .json) and plot_gantt on a long program.

    python benchmarks/bench_trace.py                 # bench_emulator's mixed program, 8,000 tiles
    python benchmarks/bench_trace.py --tiles 800 --repeat 3

The program is bench_emulator's mixed pipeline (DMA, PE, ACT, VEC, a semaphore per hand-off), so the
trace has every kind of track, slice, wait, flow and counter. Reports, best of --repeat by CPU time
of this process: the schedule, each writer, and the files' bytes per instruction.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from bench_emulator import mixed_program

from accel.config import CoreConfig
from accel.isa.asm import assemble
from accel.timing.gantt import plot_gantt
from accel.timing.report import summary
from accel.timing.schedule import schedule
from accel.timing.trace import write_trace


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.process_time()
        fn()
        times.append(time.process_time() - t)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tiles", type=int, default=8000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    program = assemble(mixed_program(args.tiles), "mixed.s")
    config = CoreConfig()
    schedule(program, config)  # compile (or load) the Numba event simulation
    t_sched = best(lambda: schedule(program, config), args.repeat)
    tl = schedule(program, config)
    path = summary(tl)["critical_path"]
    n = len(tl)
    print(f"mixed program, {args.tiles} tiles: {n:,} instructions, {tl.total:,} cycles")
    print(f"{'step':<24}{'seconds':>10}{'instr/s':>14}{'bytes/instr':>13}")
    print(f"{'schedule':<24}{t_sched:>10.3f}{n / t_sched:>14,.0f}{'':>13}")
    with tempfile.TemporaryDirectory() as d:
        for name, fn in (("write_trace .pftrace", lambda f: write_trace(tl, f)),
                         ("write_trace .json", lambda f: write_trace(tl, f)),
                         ("plot_gantt .png", lambda f: plot_gantt(tl, f, critical_path=path))):
            f = Path(d) / ("out" + name.split()[-1])
            t = best(lambda f=f, fn=fn: fn(f), args.repeat)
            print(f"{name:<24}{t:>10.3f}{n / t:>14,.0f}{f.stat().st_size / n:>13.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
