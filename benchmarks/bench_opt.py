"""Row spreading and reordering across engines (issue 14, parts 1 and 2), measured side by side.

Every model is compiled four times on the default CoreConfig (plan.Options: both optimizations off,
row spreading alone, reordering alone, both) and each core segment's program is timed by the timing
model (accel.timing.schedule: exact without values, no instruction's time depends on data). Per
model: total core cycles of each variant and the gain of each optimization. Per Conv that row
spreading changes: PE rows per matmul, matmuls, PE busy cycles (the union of its PE instructions'
start..end), DMA busy cycles and DRAM bytes of its input loads and copies, and the layer's cycles
(first start to last end), without and with.

    PYTHONPATH=. python benchmarks/bench_opt.py                       # every model at 224
    PYTHONPATH=. python benchmarks/bench_opt.py --models resnet50 --size 112 --json out.json
    PYTHONPATH=. python benchmarks/bench_opt.py --models resnet50 --sparse   # + the sparse column (part 4)
    PYTHONPATH=. python benchmarks/bench_opt.py --table   # all off, each optimization alone, all on

Models: the ImageNet networks of accel.compiler.zoo (seeded random weights) and the BERT-base
encoder layer (zoo.transformer_layer), as benchmarks/bench_models.py builds them.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from accel.compiler import compile_model
from accel.compiler.model import ModelRun
from accel.compiler.plan import Options
from accel.compiler.report import layers
from accel.timing import schedule
from accel.timing.report import covered
from accel.timing.timeline import ENGINES

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_models import build  # noqa: E402

MODELS = ("resnet50", "vgg19", "alexnet", "squeezenet", "inception_v1", "transformer")
# residency off in every variant, as when these were first measured (bench_residency.py measures it)
VARIANTS = {"off": Options(row_spread=False, reorder=False, residency=False),
            "spread": Options(row_spread=True, reorder=False, residency=False),
            "reorder": Options(row_spread=False, reorder=True, residency=False),
            "both": Options(row_spread=True, reorder=True, residency=False)}


def timed(model: Any, options: Options) -> tuple[Any, ModelRun, float]:
    """The compiled model, a ModelRun of its segments' timelines (no values) and the compile seconds."""
    t0 = time.perf_counter()
    cm = compile_model(model, options=options)
    seconds = time.perf_counter() - t0
    tls = [schedule(s.program, cm.config) for s in cm.steps if s.kind == "core"]
    return cm, ModelRun({}, tls, 0.0, [{"kind": "core"} for _ in tls]), seconds


def conv_rows(cm: Any, run: ModelRun) -> dict[str, dict[str, Any]]:
    """Per Conv node: its lowering notes, cycles, PE and DMA busy cycles and DRAM bytes."""
    by_node = {p.node.name: p for p in cm.placements}
    out = {}
    steps = [s for s in cm.steps if s.kind == "core"]
    spans = {}
    for step, tl in zip(steps, run.timelines, strict=True):
        names = np.array([n.split(" (+")[0] for n in step.node_of[:len(tl)]], dtype=object)
        for name in set(names):
            p = by_node.get(name)
            if p is None or p.node.op != "Conv":
                continue
            mine = names == name
            pe_ = mine & (tl.engine == ENGINES.index("PE"))
            dma = mine & (tl.engine == ENGINES.index("DMA"))
            spans[name] = {"pe_busy": covered(tl.start[pe_], tl.end[pe_]),
                           "dma_busy": covered(tl.start[dma], tl.end[dma])}
    for row in layers(cm, run):
        name = row["node"].split(" (+")[0]
        if name in spans:
            notes = by_node[name].notes
            out[name] = {"cycles": row["cycles"], "dram_bytes": row["dram_bytes"], **spans[name],
                         "rows": notes["rows"], "matmuls": notes["matmuls"], "spread": notes["spread"]}
    return out


# the sparse column (issue 14 part 4): both optimizations on, Conv/Gemm/MatMul weights pruned to half
# zeros over 2:4 and 4:8 by the mixed-ratio planner (accel.compiler.sparse); compared with "both"
SPARSE = Options(row_spread=True, reorder=True, residency=False, sparsity=((2, 4), (4, 8)), sparsity_target=0.5)


def sparse_rows(cm: Any, run: ModelRun) -> dict[str, dict[str, Any]]:
    """Per Conv/Gemm/MatMul node: its N:M decision (pattern or why dense) and its cycles."""
    cycles = {row["node"].split(" (+")[0]: row["cycles"] for row in layers(cm, run) if row["where"] == "core"}
    return {p.node.name: {"op": p.node.op, "pattern": p.sparse["pattern"], "why": p.sparse.get("why"),
                          "weight_error": p.sparse.get("weight_error", 0.0), "cycles": cycles.get(p.node.name)}
            for p in cm.placements if p.sparse}


def bench(name: str, size: int, sparse: bool = False) -> dict[str, Any]:
    model = build(name, size)
    result: dict[str, Any] = {"model": name, "size": size, "cycles": {}, "compile_seconds": {}, "convs": {}}
    for label, options in VARIANTS.items():
        cm, run, seconds = timed(model, options)
        result["cycles"][label] = run.total_cycles
        result["compile_seconds"][label] = round(seconds, 2)
        if label in ("off", "spread"):
            result["convs"][label] = conv_rows(cm, run)
        if label == "reorder":
            result["reorder_segments"] = [s.reorder for s in cm.steps if s.kind == "core"]
        if label == "both" and sparse:
            both_cycles = {row["node"].split(" (+")[0]: row["cycles"] for row in layers(cm, run)
                           if row["where"] == "core"}
        del cm, run
        gc.collect()
    if sparse:
        cm, run, seconds = timed(model, SPARSE)
        result["cycles"]["sparse"] = run.total_cycles
        result["compile_seconds"]["sparse"] = round(seconds, 2)
        result["sparse_layers"] = sparse_rows(cm, run)
        for node, row in result["sparse_layers"].items():
            row["dense_cycles"] = both_cycles.get(node)
        del cm, run
        gc.collect()
    off, spread = result["convs"]["off"], result["convs"]["spread"]
    result["spread_layers"] = [{"node": k, "off": off[k], "on": v} for k, v in spread.items() if v["spread"]]
    return result


# issue 14's table: every optimization off, each one alone, all on (tuning over the rest)
OFF = Options(row_spread=False, reorder=False, residency=False)
PRUNE = {"sparsity": ((2, 4), (4, 8)), "sparsity_target": 0.5}
ALONE = {"off": OFF, "row_spread": replace(OFF, row_spread=True), "reorder": replace(OFF, reorder=True),
         "residency": replace(OFF, residency=True), "sparse": replace(OFF, **PRUNE), "tune": OFF,
         "all": Options(row_spread=True, reorder=True, residency=True, **PRUNE)}
TUNED = ("tune", "all")


def table_row(name: str, size: int, tune_seconds: float, variants: tuple[str, ...] = tuple(ALONE)) -> dict[str, Any]:
    """Total core cycles and compile seconds of the ALONE variants `variants` of one model."""
    from accel.compiler.tune import compile_tuned

    model = build(name, size)
    row: dict[str, Any] = {"model": name, "size": size, "cycles": {}, "compile_seconds": {}}
    for label in variants:
        options = ALONE[label]
        t0 = time.perf_counter()
        if label in TUNED:
            cm, _ = compile_tuned(model, options=options, seconds=tune_seconds, progress=False)
        else:
            cm = compile_model(model, options=options)
        row["compile_seconds"][label] = round(time.perf_counter() - t0, 2)
        row["cycles"][label] = int(sum(schedule(s.program, cm.config).total for s in cm.steps if s.kind == "core"))
        print(f"  {name} {label}: {row['cycles'][label]:,} cycles, {row['compile_seconds'][label]} s", flush=True)
        del cm
        gc.collect()
    return row


def table(rows: list[dict[str, Any]], columns: tuple[str, ...] | None = None, first: str = "model",
          extras: tuple[str, ...] = ()) -> str:
    """The markdown table of `rows` (each a model's "cycles" per column): the first column's cycles,
    then every other column's with its gain over the first (no gains when the columns are ALONE's
    without "off"); a cell a row lacks is "-"; then the `extras` columns, each row's
    r["extra"][name] as text. Shared with bench_tune.py (heuristics against tuned)."""
    gains = columns is not None or any("off" in r["cycles"] for r in rows)
    columns = columns or tuple(k for k in ALONE if any(k in r["cycles"] for r in rows))
    head = (first, *columns, *extras)
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    for r in rows:
        c, base = r["cycles"], r["cycles"].get(columns[0])
        cells = []
        for k in columns:
            gain = f" ({base / c[k]:.2f}x)" if gains and k != columns[0] and k in c and base is not None else ""
            cells.append(f"{c[k]:,}{gain}" if k in c else "-")
        cells += [str(r.get("extra", {}).get(k, "-")) for k in extras]
        lines.append(f"| {r['model']} ({r['size']}) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def report(r: dict[str, Any]) -> str:
    c = r["cycles"]
    lines = [f"{r['model']} at {r['size']}: cycles off {c['off']:,}, row spreading {c['spread']:,} "
             f"({c['off'] / c['spread']:.2f}x), reordering {c['reorder']:,} ({c['off'] / c['reorder']:.2f}x), "
             f"both {c['both']:,} ({c['off'] / c['both']:.2f}x); compile s {r['compile_seconds']}"]
    if "sparse" in c:
        rows = r["sparse_layers"].values()
        pats = {}
        for row in rows:
            pats[row["pattern"] or "dense"] = pats.get(row["pattern"] or "dense", 0) + 1
        lines.append(f"  sparse (2:4,4:8 to 50% zeros, both on) {c['sparse']:,} ({c['both'] / c['sparse']:.2f}x "
                     f"over both, {c['off'] / c['sparse']:.2f}x over off); layers per pattern {pats}")
        for node, row in r["sparse_layers"].items():
            lines.append(f"    {node:<10} {row['op']:<6} {row['pattern'] or 'dense':<6} "
                         f"cycles {row['dense_cycles'] or 0:>9,} -> {row['cycles'] or 0:>9,} "
                         f"weight error {row['weight_error']:.3f}"
                         f"{'' if row['pattern'] else '  (' + row['why'] + ')'}")
    for row in r["spread_layers"]:
        a, b = row["off"], row["on"]
        lines.append(f"  {row['node']:<10} {b['spread']}: rows {a['rows']} -> {b['rows']}, matmuls {a['matmuls']:,} -> "
                     f"{b['matmuls']:,}, PE busy {a['pe_busy']:,} -> {b['pe_busy']:,} "
                     f"({a['pe_busy'] / max(b['pe_busy'], 1):.1f}x), DMA busy {a['dma_busy']:,} -> {b['dma_busy']:,}, "
                     f"DRAM bytes {a['dram_bytes']:,} -> {b['dram_bytes']:,}, "
                     f"cycles {a['cycles']:,} -> {b['cycles']:,}")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--json")
    ap.add_argument("--sparse", action="store_true", help="also the sparse column (accel.compiler.sparse)")
    ap.add_argument("--table", action="store_true",
                    help="instead: issue 14's table (all off, each optimization alone, all on; residency, "
                         "2:4/4:8 pruning to 50%% and tuning included)")
    ap.add_argument("--tune-seconds", type=float, default=120.0, help="tuning budget per model (--table)")
    ap.add_argument("--variants", default=",".join(ALONE),
                    help="the --table columns to run (so one row's columns can be re-run alone), of " + ",".join(ALONE))
    args = ap.parse_args()
    if args.table:
        variants = tuple(args.variants.split(","))
        if bad := [v for v in variants if v not in ALONE]:
            ap.error(f"--variants: unknown {','.join(bad)} (expected some of {','.join(ALONE)})")
        rows = []
        for name in args.models.split(","):
            rows.append(table_row(name, args.size, args.tune_seconds, variants))
            print(rows[-1], flush=True)
        print(table(rows))
        if args.json:
            Path(args.json).write_text(json.dumps(rows, indent=2))
        return
    results = []
    for name in args.models.split(","):
        r = bench(name, args.size, args.sparse)
        print(report(r), flush=True)
        results.append(r)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
