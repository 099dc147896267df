"""Volume run of rtl/core.v on Verilator: many random programs on the larger configuration, and the
planted mutants on the same programs.

    PYTHONPATH=$PWD python benchmarks/bench_core_volume.py         # 16 partitions, 300 random programs

(PYTHONPATH: a script's `import accel` otherwise finds whatever `pip install -e` last pointed at.)

The programs are `accel verify core`'s (accel.tb.verify_core.programs: the directed ones, every case
that fits, --programs random DMA/VEC pipelines) on accel.tb.verify_core.config(--partitions) (other
fields default), so the first part is `accel verify core --sim verilator --partitions 16 --programs
300` with the counts spelled out: programs, instructions, cycles, passed / failed, wall time (the
model's side, the build and the simulation). Then each planted fault of issue 15 (rtl/core.v's FAULT
parameter: a semaphore's units one cycle early, a DMA partition stride off by one; and a queue one
entry deeper than the model's) is built and run on the same programs: how many programs catch it
(any mismatch) and with what kind of mismatch (cycle, DRAM, SBUF, PSUM, unfinished). The semaphore
mutant runs on Icarus: its early-release path (units of a signal ending this cycle counted by the
waits) is a combinational loop through the start logic, which Verilator refuses to build (UNOPTFLAT).
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

from accel.tb import verify_core as vc

# name: (what it is, simulator, rtl/core.v FAULT, the RTL's queue one entry deeper than the model's)
RUNS = {"clean": ("clean core", "verilator", 0, False),
        "sem_early": ("semaphore released one cycle early", "icarus", vc.FAULTS["sem_early"], False),
        "dma_stride": ("DMA stride off by one", "verilator", vc.FAULTS["dma_stride"], False),
        "queue_depth": ("queue depth off by one", "verilator", 0, True)}


def _kind(mismatch: str) -> str:
    head = mismatch.split(":", 1)[0]
    return head if head in ("cycle", "DRAM", "SB", "PSUM") else "other"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--partitions", type=int, default=16)
    ap.add_argument("--programs", type=int, default=300, help="random programs")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--runs", nargs="+", choices=RUNS, default=list(RUNS),
                    help="which of the clean core and the mutants to run (default all)")
    ap.add_argument("--only", nargs="*", default=None, help="only the programs of these names")
    args = ap.parse_args()
    cfg = vc.config(args.partitions)
    cases, skipped = vc.programs(cfg, args.programs, args.seed)
    if args.only is not None:
        cases = [c for c in cases if c.name in args.only]
    n_random = sum(c.name.startswith("random") for c in cases)
    instrs = sum(len(c.program.instructions) for c in cases)
    print(f"{args.partitions} partitions, seed {args.seed}: {len(cases)} programs ({n_random} random, "
          f"{len(cases) - n_random} directed and cases), {instrs:,} instructions; {len(skipped)} skipped")
    for run in args.runs:
        name, sim, fault, deeper = RUNS[run]
        depth = cfg.queue_depth + 1 if deeper else None
        t = time.perf_counter()
        out = vc.bench(sim, cfg, cases, fault=fault, queue_depth=depth)
        wall = time.perf_counter() - t
        results = out["results"]
        bad = [r for r in results if r["mismatches"]]
        kinds = Counter(_kind(m) for r in bad for m in r["mismatches"])
        sim_s = sum(r["seconds"] for r in results)
        cycles = sum(r["cycles"] for r in results)
        print(f"{name} ({sim}): {len(results)} of {len(cases)} programs ran, "
              f"{len(results) - len(bad)} equal to the model, {len(bad)} differ ({sum(kinds.values())} mismatches: "
              f"{', '.join(f'{k} {v}' for k, v in sorted(kinds.items())) or 'none'}); {cycles:,} core cycles; "
              f"wall {wall:.1f} s (build {out['build_seconds']:.1f} s, simulation {sim_s:.1f} s)")
        if out["error"]:
            print(f"  bench error: {out['error']}")
        if not (fault or depth):
            for r in bad:
                print(f"  {r['name']}: {r['mismatches'][0]}")
        if fault or depth:
            random_caught = sum(r["name"].startswith("random") for r in bad)
            print(f"  caught by {len(bad)} programs ({random_caught} of the {n_random} random ones); first: "
                  f"{bad[0]['name']}: {bad[0]['mismatches'][0]}" if bad else "  NOT CAUGHT")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
