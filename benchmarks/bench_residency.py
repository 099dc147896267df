"""Residency (issue 13, "Memory and sync"): tensors kept in SBUF between the layers of a segment,
measured side by side with every layer's output round-tripping through DRAM.

Each model is compiled twice on the default CoreConfig (plan.Options(residency=False) and the
default, residency on; row spreading and reordering on in both), each core segment's program is
timed by the timing model (accel.timing.schedule), and, unless --no-values, both are run on the same
random input to check the outputs are bit-identical and the race checker finds nothing. Per model:
tensors kept, total core cycles, DRAM bytes, the roofline (sum over layers of max(MACs / (R x C),
DRAM bytes / bandwidth)) and the cycles over it, layers DMA-bound, and the whole model's bound
max(MACs / (R x C), DRAM bytes / bandwidth).

    PYTHONPATH=. python benchmarks/bench_residency.py                      # ResNet-50 at 224 and BERT-base
    PYTHONPATH=. python benchmarks/bench_residency.py --models resnet50 --no-values --json out.json
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from accel.compiler.plan import Options
from accel.compiler.report import layers
from accel.timing import check_races

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_models import build  # noqa: E402
from bench_opt import timed  # noqa: E402

VARIANTS = {"spilled": Options(residency=False), "resident": Options(residency=True)}


def figures(cm: Any, run: Any) -> dict[str, Any]:
    c = cm.config
    rows = [r for r in layers(cm, run) if r["where"] == "core"]
    macs = sum(r["macs"] for r in rows)
    dram = sum(r["dram_bytes"] for r in rows)
    floor = sum(r["roofline_cycles"] for r in rows)
    compute, dma = -(-macs // (c.pe_rows * c.pe_cols)), -(-dram // c.dma_bytes_per_cycle)
    return {"kept": sum(len(s.segment.keep) for s in cm.steps if s.kind == "core"),
            "cycles": run.total_cycles, "dram_bytes": dram, "roofline_cycles": floor,
            "roofline_ratio": run.total_cycles / floor, "dma_bound_layers": sum(r["bound"] == "DMA" for r in rows),
            "layers": len(rows), "model_compute_cycles": compute, "model_dma_cycles": dma,
            "model_bound": "compute" if compute >= dma else "DMA"}


def bench(name: str, values: bool) -> dict[str, Any]:
    model = build(name)
    out: dict[str, Any] = {"model": name}
    outputs = {}
    feeds = None
    for label, opts in VARIANTS.items():
        cm, run, seconds = timed(model, opts)
        out[label] = {**figures(cm, run), "compile_s": round(seconds, 2)}
        if values:
            if feeds is None:
                rng = np.random.default_rng(0)
                feeds = {n: rng.standard_normal(cm.graph.values[n].shape).astype(np.float32) for n in cm.graph.inputs}
            t0 = time.perf_counter()
            full = cm.run(feeds)
            out[label]["run_s"] = round(time.perf_counter() - t0, 2)
            out[label]["races"] = sum(len(check_races(t)) for t in full.timelines)
            outputs[label] = full.outputs
        del cm, run
        gc.collect()
    if values:
        a, b = outputs["spilled"], outputs["resident"]
        out["bit_identical"] = all(np.array_equal(a[k].view(np.uint32), b[k].view(np.uint32)) for k in a)
    return out


def report(r: dict[str, Any]) -> str:
    s, k = r["spilled"], r["resident"]
    lines = [f"## {r['model']}" + (f" (outputs bit-identical: {r['bit_identical']}, races: spilled "
                                    f"{s['races']}, resident {k['races']})" if "bit_identical" in r else ""),
             "| variant | kept | cycles | DRAM bytes | roofline | cycles / roofline | DMA-bound layers | "
             "model MACs/(RxC) | model DRAM/bw | model bound |", "|---|---|---|---|---|---|---|---|---|---|"]
    for label in VARIANTS:
        v = r[label]
        lines.append(f"| {label} | {v['kept']} | {v['cycles']:,} | {v['dram_bytes']:,} | {v['roofline_cycles']:,} | "
                     f"{v['roofline_ratio']:.2f} | {v['dma_bound_layers']} of {v['layers']} | "
                     f"{v['model_compute_cycles']:,} | {v['model_dma_cycles']:,} | {v['model_bound']} |")
    lines.append(f"resident / spilled: cycles {k['cycles'] / s['cycles']:.3f}, DRAM bytes "
                 f"{k['dram_bytes'] / s['dram_bytes']:.3f}")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default="resnet50,transformer", help="comma-separated, as bench_models.py names them")
    ap.add_argument("--no-values", dest="values", action="store_false",
                    help="time only (no run with values, no bit comparison, no race check)")
    ap.add_argument("--json", help="write the figures to this file")
    args = ap.parse_args()
    results = []
    for name in args.models.split(","):
        r = bench(name, args.values)
        print(report(r), flush=True)
        results.append(r)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
