"""Points per second of a ResNet-50 design-space sweep on a local pool and through a Dask LocalCluster,
and how each point's time splits between compile and simulation (docs/sweep.md).

    PYTHONPATH=. python benchmarks/bench_sweep.py [--points 200] [--size 32] [--workers 2] [--timed 4]

The sweep draws --points random configs for ResNet-50 at --size x --size, cost model only (the core
programs scheduled without values), no result cache: a square PE array of 32, 64 or 128, SBUF
partitions of 64, 128 or 192 KiB and 16, 64 or 256 DMA bytes per cycle (the fields the lowering reads:
27 lowerings), and timing constants the lowering does not read (DMA latency 32..256 cycles, 1..8 DMA
queues, engine queues of 4..64 entries). The same points run on `--workers` local processes, then on
a LocalCluster of as many worker processes; a worker lowers each distinct lowering once while it keeps
it (accel.sweep.runner._compiled), so compile splits into lowerings and reuses.
--timed N also runs N points with values (compile, then the emulator).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from accel.sweep import parse_spec, run_sweep

SPEC = """
[sweep]
cost_model_only = {cost}
samples = {points}
seed = 0
[[models]]
zoo = "resnet50"
size = {size}
[vary]
pe_rows = {{choice = [32, 64, 128]}}
pe_cols = "pe_rows"
sbuf_partition_bytes = {{choice = [65536, 131072, 196608]}}
dma_bytes_per_cycle = {{choice = [16, 64, 256]}}
dma_latency_cycles = {{random = [32, 256]}}
dma_queues = {{choice = [1, 2, 4, 8]}}
queue_depth = {{choice = [4, 16, 64]}}
"""


def report(name: str, records: list[dict], seconds: float) -> None:
    ok = [r for r in records if not r["error"]]
    comp = sum(r["compile_seconds"] for r in ok)
    sim = sum(r["run_seconds"] for r in ok)
    other = sum(r["seconds"] for r in ok) - comp - sim
    new = [r["compile_seconds"] for r in ok if not r["lowering_reused"]]
    kept = [r["compile_seconds"] for r in ok if r["lowering_reused"]]
    lowerings = len({(r["pe_rows"], r["sbuf_partition_bytes"], r["dma_bytes_per_cycle"]) for r in records})
    print(f"{name:<28} {len(records):>4} points  {len(records) - len(ok)} failed  {seconds:7.1f} s  "
          f"{len(records) / seconds:6.2f} points/s  per point: compile {comp / len(ok):.2f} s "
          f"({comp / (comp + sim + other):.0%}), simulation {sim / len(ok):.2f} s ({sim / (comp + sim + other):.0%}), "
          f"measure {other / len(ok):.2f} s; {lowerings} lowerings: {len(new)} points lowered "
          f"({statistics.mean(new) if new else 0:.2f} s each), {len(kept)} reused one "
          f"({statistics.mean(kept) if kept else 0:.2f} s each)", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--points", type=int, default=200)
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--timed", type=int, default=0, help="also run this many points with values")
    ap.add_argument("--no-dask", action="store_true")
    ap.add_argument("--no-local", action="store_true", help="the Dask pool alone (no comparison of records)")
    ap.add_argument("--json", help="write the records of each pool to this file")
    args = ap.parse_args()
    spec = parse_spec(SPEC.format(cost="true", points=args.points, size=args.size))
    local = None
    if not args.no_local:
        start = time.perf_counter()
        local = run_sweep(spec, cache=None, workers=args.workers, progress=False)
        report(f"local pool, {args.workers} workers", local, time.perf_counter() - start)
    if not args.no_dask:
        from distributed import LocalCluster

        with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster:
            start = time.perf_counter()
            dask = run_sweep(spec, cache=None, scheduler=cluster.scheduler_address, progress=False)
            report(f"Dask LocalCluster, {args.workers} workers", dask, time.perf_counter() - start)
        if local is not None:
            same = [{k: v for k, v in r.items() if "seconds" not in k and k != "lowering_reused"} for r in dask] == \
                [{k: v for k, v in r.items() if "seconds" not in k and k != "lowering_reused"} for r in local]
            print(f"Dask records equal the local pool's: {same}")
        local = local or dask
    if args.json:
        from pathlib import Path

        Path(args.json).write_text(json.dumps({"local": local if not args.no_local else None,
                                               "dask": None if args.no_dask else dask}))
    if args.timed:
        timed = parse_spec(SPEC.format(cost="false", points=args.timed, size=args.size))
        start = time.perf_counter()
        runs = run_sweep(timed, cache=None, workers=args.workers, progress=False)
        report("timed runs (values), local", runs, time.perf_counter() - start)
    bounds = statistics.multimode(r.get("bound") for r in local if not r["error"])
    print(f"most common bound: {bounds}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
