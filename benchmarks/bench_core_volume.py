"""Volume run of rtl/core.v on Verilator: many random programs on the larger configuration, and the
planted mutants on the same programs.

    PYTHONPATH=$PWD python benchmarks/bench_core_volume.py         # 16 partitions, 300 random programs

(PYTHONPATH: a script's `import accel` otherwise finds whatever `pip install -e` last pointed at.)

The programs are `accel verify core`'s (accel.tb.verify_core.programs: the directed ones, every case
that fits and, folded onto the partitions, those that do not (verify_core.fold_case: the act.identity and
act.relu cases' 40 partitions fit 16 so), --programs random pipelines) on
accel.tb.verify_core.config(--partitions) (a P x P PE array,
the core built with the sparse PE forms; other fields default), the random pipelines' steps on every
engine: PE dense and sparse (N:2N), ACT and VEC between DMA loads and stores (--engines). So the first
part is `accel verify core --sim verilator --partitions 16 --programs 300` with sparse steps added and
the counts spelled out: programs, instructions (by engine), cycles, passed / failed, wall time (the
model's side, the build and the simulation). Then each planted fault (rtl/core.v's FAULT parameter: a
semaphore's units one cycle early, a DMA partition stride off by one, a PE PSUM write a cycle late, a
PE matmul ignoring VEC's PSUM bank, a VEC instruction ignoring ACT's; and a queue one entry deeper than
the model's) is built and run on the same programs: how many programs catch it (any mismatch) and with
what kind of mismatch (cycle, DRAM, SBUF, PSUM, unfinished). The mutants run on Verilator (a build of
about 80 s each at 16 partitions, with only the toplevel public: docs/RTL.md "Verilator speed") on
every program, except the semaphore mutant: its early-release path (units of a signal ending this cycle
counted by the waits) is a combinational loop through the start logic, which Verilator refuses to
build (UNOPTFLAT), so it runs on Icarus, some 100x slower, on the directed programs and the first
--icarus-random random ones (--sim icarus: every mutant so).
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
        "queue_depth": ("queue depth off by one", "verilator", 0, True),
        "psum_late": ("PE PSUM write one cycle late", "verilator", vc.FAULTS["psum_late"], False),
        "no_bank_wait": ("PE matmul ignores VEC's PSUM bank", "verilator", vc.FAULTS["no_bank_wait"], False),
        "vec_ignores_act_bank": ("VEC ignores ACT's PSUM bank", "verilator", vc.FAULTS["vec_ignores_act_bank"], False)}


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
    ap.add_argument("--engines", nargs="+", default=[*vc.RANDOM_ENGINES, "sparse"],
                    help="the random pipelines' step engines (random_pipeline's engines)")
    ap.add_argument("--sim", choices=("icarus", "verilator"), default=None,
                    help="run the mutants on this simulator (default: each its own, see RUNS)")
    ap.add_argument("--icarus-random", type=int, default=20,
                    help="random programs an Icarus run plays beside the directed ones (the first)")
    ap.add_argument("--depth", type=int, default=8192,
                    help="the bench's instruction memory (words): bench_core_rtl.py's, so the two share a build")
    args = ap.parse_args()
    vc.PROG_DEPTH = args.depth
    cfg = vc.config(args.partitions)
    cases, skipped = vc.programs(cfg, args.programs, args.seed, engines=tuple(args.engines), fold_cases=True)
    if args.only is not None:
        cases = [c for c in cases if c.name in args.only]
    n_random = sum(c.name.startswith("random") for c in cases)
    instrs = sum(len(c.program.instructions) for c in cases)
    mix = sum((Counter(vc.engine_mix(c.program)) for c in cases), Counter())
    print(f"{args.partitions} partitions, seed {args.seed}: {len(cases)} programs ({n_random} random, "
          f"{len(cases) - n_random} directed and cases), {instrs:,} instructions "
          f"({', '.join(f'{v:,} {k}' for k, v in sorted(mix.items()))}); {len(skipped)} skipped")
    for name, why in skipped:
        print(f"  skipped {name}: {why}")
    icarus_cases = [c for c in cases if c.name in vc.DIRECTED] + [c for c in cases if c.name.startswith("random")][
        :args.icarus_random]
    for run in args.runs:
        name, sim, fault, deeper = RUNS[run]
        sim = args.sim if args.sim and run != "clean" else sim
        depth = cfg.queue_depth + 1 if deeper else None
        played = cases if sim == "verilator" else icarus_cases
        n_random = sum(c.name.startswith("random") for c in played)
        t = time.perf_counter()
        out = vc.bench(sim, cfg, played, fault=fault, queue_depth=depth)
        wall = time.perf_counter() - t
        results = out["results"]
        bad = [r for r in results if r["mismatches"]]
        kinds = Counter(_kind(m) for r in bad for m in r["mismatches"])
        sim_s = sum(r["seconds"] for r in results)
        cycles = sum(r["cycles"] for r in results)
        print(f"{name} ({sim}): {len(results)} of {len(played)} programs ran, "
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
