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
--timed N also runs N points with values (compile, then the emulator). The script compares every
record of the two pools, all fields but the host's (accel.sweep.runner.HOST_FIELDS), prints how many are
equal, the failures by error, and the load average while each pool ran.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import statistics
import threading
import time

from accel.sweep import parse_spec, run_sweep
from accel.sweep.runner import HOST_FIELDS, comparable

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


class LoadAverage:
    """The 1-minute load average, sampled every `every` seconds while a pool runs (the machine is shared,
    so the rates only mean something beside it)."""

    def __init__(self, every: float = 10.0) -> None:
        self.every, self.samples = every, [os.getloadavg()[0]]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.samples.append(os.getloadavg()[0])

    def __enter__(self) -> LoadAverage:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append(os.getloadavg()[0])

    def __str__(self) -> str:
        lo, hi, mean = min(self.samples), max(self.samples), statistics.mean(self.samples)
        return f"load average {lo:.1f}..{hi:.1f} (mean {mean:.1f})"


def report(name: str, records: list[dict], seconds: float, load: LoadAverage) -> None:
    """Points/s, the compile / simulation / measure split, the kept lowerings reused (the sweep's own
    compile cache; the instruction database does not enter, docs/sweep.md) and the failures by class."""
    ok = [r for r in records if not r["error"]]
    comp = sum(r["compile_seconds"] for r in ok)
    sim = sum(r["run_seconds"] for r in ok)
    other = sum(r["seconds"] for r in ok) - comp - sim
    new = [r["compile_seconds"] for r in ok if not r["lowering_reused"]]
    kept = [r["compile_seconds"] for r in ok if r["lowering_reused"]]
    lowerings = len({(r["pe_rows"], r["sbuf_partition_bytes"], r["dma_bytes_per_cycle"]) for r in records})
    failed = collections.Counter(r["error"].split(":")[0] for r in records if r["error"])
    print(f"{name:<28} {len(records):>4} points  {len(records) - len(ok)} failed "
          f"({', '.join(f'{n} {c}' for c, n in failed.items()) or 'none'})  {seconds:7.1f} s  "
          f"{len(records) / seconds:6.3f} points/s  {load}\n    per point: compile {comp / len(ok):.2f} s "
          f"({comp / (comp + sim + other):.0%}), simulation {sim / len(ok):.2f} s ({sim / (comp + sim + other):.0%}), "
          f"measure {other / len(ok):.2f} s; {lowerings} lowerings: {len(new)} points lowered "
          f"({statistics.mean(new) if new else 0:.2f} s each), {len(kept)} reused a kept one "
          f"({statistics.mean(kept) if kept else 0:.2f} s each)", flush=True)
    errors = collections.Counter(r["error"] for r in records if r["error"])
    for e, n in errors.most_common():
        print(f"    {n:>3} x {e}")


def compare(local: list[dict], dask: list[dict]) -> None:
    """Every record of the two pools, all fields but the host's (accel.sweep.runner.HOST_FIELDS)."""
    a, b = [comparable(r) for r in local], [comparable(r) for r in dask]
    equal = sum(x == y for x, y in zip(a, b, strict=True))
    print(f"Dask records equal the local pool's: {equal} of {len(a)} (fields compared: "
          f"{len(set().union(*a))}, all but {', '.join(HOST_FIELDS)})")
    for x, y in [(x, y) for x, y in zip(a, b, strict=True) if x != y][:5]:
        print(f"    differ at {x.get('key')}: " + ", ".join(f"{k}: {x.get(k)!r} vs {y.get(k)!r}"
                                                        for k in sorted(set(x) | set(y)) if x.get(k) != y.get(k)))


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
        with LoadAverage() as load:
            start = time.perf_counter()
            local = run_sweep(spec, cache=None, workers=args.workers, progress=False)
            seconds = time.perf_counter() - start
        report(f"local pool, {args.workers} workers", local, seconds, load)
    if not args.no_dask:
        from distributed import LocalCluster

        with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster:
            with LoadAverage() as load:
                start = time.perf_counter()
                dask = run_sweep(spec, cache=None, scheduler=cluster.scheduler_address, progress=False)
                seconds = time.perf_counter() - start
        report(f"Dask LocalCluster, {args.workers} workers", dask, seconds, load)
        if local is not None:
            compare(local, dask)
        local = local or dask
    if args.json:
        from pathlib import Path

        Path(args.json).write_text(json.dumps({"local": local if not args.no_local else None,
                                               "dask": None if args.no_dask else dask}))
    if args.timed:
        timed = parse_spec(SPEC.format(cost="false", points=args.timed, size=args.size))
        with LoadAverage() as load:
            start = time.perf_counter()
            runs = run_sweep(timed, cache=None, workers=args.workers, progress=False)
            seconds = time.perf_counter() - start
        report("timed runs (values), local", runs, seconds, load)
    bounds = statistics.multimode(r.get("bound") for r in local if not r["error"])
    print(f"most common bound: {bounds}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
