"""The core's speed in RTL: Verilator cycles per second of rtl/core.v, next to the timing model and the emulator.

    PYTHONPATH=$PWD python benchmarks/bench_core_rtl.py            # 8 and 16 partitions, one long program each

(PYTHONPATH: a script's `import accel` otherwise finds whatever `pip install -e` last pointed at.)

One long program per configuration (accel.tb.verify_core.config(partitions): a P x P PE array, built
with the sparse forms): --repeats copies of an accel.isa.randprog.random_pipeline body over every
engine (DMA loads and stores; steps on PE (dense matmuls and N:2N sparse ones), ACT and VEC; a
semaphore per hand-off; each chain starts and ends on DMA, so the copies reuse the SBUF/PSUM regions
and semaphores; the race checker confirms no two engines' accesses are unordered). In one run, per
configuration:

* Verilator: the program through accel.tb.verify_core.bench (sim/core_tb.v; every cycle and byte is
  checked against the model), simulated core cycles per wall second of the simulation alone (from
  reset release to the end, as sim/test_core.py times it); the Verilator build's seconds beside it,
  outside the rate (0 when the build was cached); with a cached build also cycles per CPU second of
  the whole simulator process (its start-up, loading and image dumps included: a lower bound, and
  the figure to read on a loaded machine, where wall seconds are shared);
* the timing model: `accel.timing.schedule(program, config)`, simulated cycles per CPU second;
* the functional emulator: `Core.run(program, inputs, timing=False)`, instructions per CPU second.
Ratios: timing model / Verilator cycles per second, emulator / Verilator instructions per second.
The bench's instruction memory is raised to --depth words for the long program.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np

from accel import Core
from accel.isa.asm import assemble
from accel.isa.randprog import random_pipeline
from accel.tb import verify_core as vc
from accel.timing import check_races
from accel.timing.schedule import schedule

ENGINES = (*vc.RANDOM_ENGINES, "sparse")  # the pipelines' step engines: PE dense and sparse, ACT, VEC


def long_program(r: np.random.Generator, partitions: int, repeats: int) -> str:
    """`repeats` copies of one random pipeline body over every engine (3 chains of 4 stages, 32
    elements; the body drawn until it has a step on each of PE dense, PE sparse, ACT and VEC)."""
    forms = ("pe.matmul ", "pe.matmul_sparse", "act.", "vec.")
    text = ""
    while not all(f in text for f in forms):
        text = random_pipeline(r, chains=3, stages=4, partitions=partitions, elements=32, engines=ENGINES)
    lines = text.splitlines()
    head = [ln for ln in lines if ln.startswith(".tensor")]
    body = [ln for ln in lines if not ln.startswith(".tensor") and ln.strip() != "halt"]
    return "\n".join(head + body * repeats + ["halt"]) + "\n"


def cpu(fn, repeat: int) -> float:
    best = np.inf
    for _ in range(repeat):
        t = time.process_time()
        fn()
        best = min(best, time.process_time() - t)
    return best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--partitions", type=int, nargs="+", default=[8, 16])
    ap.add_argument("--repeats", type=int, default=100, help="copies of the pipeline body")
    ap.add_argument("--depth", type=int, default=8192, help="the bench's instruction memory (words)")
    ap.add_argument("--repeat", type=int, default=3, help="best of, for the Python rates")
    args = ap.parse_args()
    vc.PROG_DEPTH = args.depth
    for p in args.partitions:
        cfg = vc.config(p)
        r = np.random.default_rng([7, p])
        prog = assemble(long_program(r, p, args.repeats), f"long{p}.s", cfg)
        why = vc.skip_reason(prog, cfg)
        if why:
            raise SystemExit(f"{p} partitions: the program does not run on the core: {why}")
        inputs = vc.random_inputs(r, prog)
        core = Core(cfg)
        core.load(prog, inputs)
        races = check_races(core.run().timeline, limit=1)
        if races:
            raise SystemExit(f"{p} partitions: the long program has a race: {races[0]}")
        n = sum(1 for i in prog.instructions if i.mnemonic != "halt")
        mix = vc.engine_mix(prog)

        t, c0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
        out = vc.bench("verilator", cfg, [vc.Case(f"long {p}", prog, inputs)])
        wall, c1 = time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN)
        child_cpu = c1.ru_utime + c1.ru_stime - c0.ru_utime - c0.ru_stime
        if not out["results"]:
            raise SystemExit(f"{p} partitions: the bench did not run: {out['error']}")
        res = out["results"][0]
        if res["mismatches"]:
            raise SystemExit(f"{p} partitions: the core differs from the model: {res['mismatches'][:3]}")
        cycles, rtl_s = res["cycles"], res["seconds"]

        schedule(prog, cfg)  # compile outside the timing
        t_sched = cpu(lambda pr=prog, c=cfg: schedule(pr, c), args.repeat)
        total = schedule(prog, cfg).total
        if total != cycles:
            raise SystemExit(f"{p} partitions: schedule total {total} != the core's {cycles} cycles")
        Core(cfg).run(prog, inputs, timing=False)  # compile the fast backend's kernels outside the timing
        t_emu = cpu(lambda pr=prog, c=cfg, i=inputs: Core(c).run(pr, i, timing=False), args.repeat)

        v_cps, m_cps = cycles / rtl_s, cycles / t_sched
        v_ips, e_ips = n / rtl_s, n / t_emu
        print(f"{p} partitions: {n:,} instructions ({', '.join(f'{v:,} {k}' for k, v in sorted(mix.items()))}), "
              f"{cycles:,} core cycles, images and every start/end cycle equal to the model's")
        print(f"  Verilator rtl/core.v  {v_cps:>12,.0f} cycles/s  ({v_ips:,.0f} instr/s; simulation {rtl_s:.2f} s, "
              f"build {out['build_seconds']:.1f} s, bench wall {wall:.1f} s)")
        if not out["build_seconds"]:  # the simulator process's CPU: start-up, load and dumps included
            print(f"  Verilator per CPU s   {cycles / child_cpu:>12,.0f} cycles/s at least (simulator process "
                  f"{child_cpu:.2f} CPU s in all)")
        print(f"  timing model          {m_cps:>12,.0f} cycles/s  ({n / t_sched:,.0f} instr/s)   "
              f"= {m_cps / v_cps:.1f}x Verilator")
        print(f"  functional emulator   {e_ips:>12,.0f} instr/s                "
              f"= {e_ips / v_ips:.1f}x Verilator's instr/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
