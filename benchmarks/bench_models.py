"""The compiler on whole networks: ResNet-50, VGG-19, AlexNet, SqueezeNet and Inception-v1 at
224 x 224 batch 1 (accel.compiler.zoo: the onnx wheel's networks with seeded random weights) and a
BERT-base transformer encoder layer (seq 128, d_model 768, 12 heads, FFN 3072) on the default
CoreConfig, and ResNet-50's conv/fc layers next to SCALE-Sim 3.0's cycle counts.

    python benchmarks/bench_models.py                               # every model, then SCALE-Sim
    python benchmarks/bench_models.py --models resnet50,transformer --no-scalesim --json out.json

Each model is compiled and run in a fresh process, so its peak RSS (VmHWM) is that of one
compile + emulate-and-time alone (imports included, ONNX Runtime not loaded); its outputs go
back to this process, which compares them with ONNX Runtime (fp32, one thread). Per model: compile
and run wall seconds with their CPU seconds (process time: on a shared machine, what one core
spent), peak RSS, total core cycles, PE utilization over the run (MACs / (R x C x cycles)),
host-step seconds, nodes on core/host/framework, total cycles over the sum of the layers' roofline
floors (report.layers: max(MACs / (R x C), DRAM bytes / bandwidth)), and the max abs / max rel /
cosine error against ONNX Runtime.

SCALE-Sim: the conv topology of ResNet-50's 53 convolutions and its fc layer (as a 1 x 1 conv),
IFMAP sizes including the padding, on SCALE-Sim's 128 x 128 weight-stationary array with CALC
bandwidth (benchmarks/bench_scalesim.py's configuration and venv; skipped with a message when the
venv cannot be created), with its wall time and peak RSS.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import bench_scalesim
import numpy as np
import onnx

from accel.compiler import reference, zoo

MODELS = ("resnet50", "vgg19", "alexnet", "squeezenet", "inception_v1", "transformer")
HERE = Path(__file__).resolve().parent


def build(name: str, size: int = 224) -> onnx.ModelProto:
    """The benchmark's model: an ImageNet network at `size` x `size`, or the BERT-base encoder layer."""
    return zoo.transformer_layer() if name == "transformer" else zoo.imagenet(name, size, seed=0)


def geometry(node: Any, graph: Any) -> dict[str, int] | None:
    """A Conv or Gemm as SCALE-Sim's conv layer: padded IFMAP height and width, filter height and
    width, channels, filters, stride (a Gemm is a 1 x 1 conv over a 1 x 1 image); None for what its
    topology cannot say (grouped convs, unequal strides, auto_pad)."""
    if node.op == "Gemm":
        k = graph.values[node.inputs[0]].shape[-1]
        n = graph.values[node.outputs[0]].shape[-1]
        return {"ifmap_h": 1, "ifmap_w": 1, "filter_h": 1, "filter_w": 1, "channels": k, "filters": n, "stride": 1}
    _, c, h, w = graph.values[node.inputs[0]].shape
    f, _, kh, kw = graph.values[node.inputs[1]].shape
    pads = node.attr("pads", [0, 0, 0, 0])
    strides = node.attr("strides", [1, 1])
    explicit = node.attr("auto_pad", "NOTSET") in ("NOTSET", "VALID")
    if strides[0] != strides[1] or node.attr("group", 1) != 1 or not explicit:
        return None
    return {"ifmap_h": h + pads[0] + pads[2], "ifmap_w": w + pads[1] + pads[3], "filter_h": kh, "filter_w": kw,
            "channels": c, "filters": f, "stride": strides[0]}


def child(folder: Path) -> dict[str, Any]:
    """Compile and run folder/model.onnx on folder/inputs.npz (this process does nothing else):
    the figures, the per-layer rows of the PE layers; the outputs are written to folder/outputs.npz."""
    from accel.compiler import compile_model, report

    model = onnx.load(str(folder / "model.onnx"))
    inputs = dict(np.load(folder / "inputs.npz"))
    compile_cpu = time.process_time()
    cm = compile_model(model)
    compile_cpu = time.process_time() - compile_cpu
    wall, cpu = time.perf_counter(), time.process_time()
    run = cm.run(inputs)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak = bench_scalesim.peak_rss_mb()
    np.savez(folder / "outputs.npz", **run.outputs)
    c = cm.config
    rows = report.layers(cm, run)
    core = [r for r in rows if r["where"] == "core"]
    floor = sum(r["roofline_cycles"] for r in core)
    macs = sum(t.macs for t in run.timelines)
    by_name = {p.node.name: p.node for p in cm.placements}
    pe_layers = []
    for r in core:
        node = by_name[r["node"].split(" (+")[0]]
        if node.op in ("Conv", "Gemm", "MatMul"):
            layer = {k: r[k] for k in ("node", "op", "cycles", "pe_busy", "macs", "roofline_cycles", "bound",
                                       "pe_utilization", "dram_bytes")}
            if node.op in ("Conv", "Gemm"):
                layer.update(geometry(node, cm.graph) or {})
            pe_layers.append(layer)
    return {"compile_s": cm.compile_seconds, "compile_cpu_s": compile_cpu, "run_s": wall, "run_cpu_s": cpu,
            "peak_mb": peak,
            "instructions": sum(len(s.program.instructions) for s in cm.steps if s.kind == "core"),
            "cycles": run.total_cycles, "macs": macs,
            "pe_utilization": macs / (c.pe_rows * c.pe_cols * run.total_cycles) if run.total_cycles else 0.0,
            "host_s": run.host_seconds, "nodes": dict(Counter(p.where for p in cm.placements)),
            "roofline_cycles": floor, "roofline_ratio": run.total_cycles / floor if floor else None,
            "pe_layers": pe_layers}


def bench(name: str) -> dict[str, Any]:
    """One model: built here, compiled and run in a child process, checked against ONNX Runtime here."""
    model = build(name)
    inputs = reference.random_inputs(model, seed=0)
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d)
        onnx.save(model, str(folder / "model.onnx"))
        np.savez(folder / "inputs.npz", **inputs)
        out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", d], capture_output=True,
                             text=True)
        if out.returncode:
            raise RuntimeError(f"{name}: the compile-and-run process failed:\n{out.stderr[-3000:]}")
        row = json.loads(out.stdout.strip().splitlines()[-1])
        got = dict(np.load(folder / "outputs.npz"))
    want = reference.run_onnxruntime(model, inputs)
    (err,) = reference.compare(got, want).values()
    return {"model": name, **row, **err}


def scalesim_topology(layers: list[dict[str, Any]]) -> str:
    lines = ["Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,"]
    for k, r in enumerate(layers):
        lines.append(f"L{k}_{r['node'].split(' (+')[0]}, {r['ifmap_h']}, {r['ifmap_w']}, {r['filter_h']}, "
                     f"{r['filter_w']}, {r['channels']}, {r['filters']}, {r['stride']},")
    return "\n".join(lines) + "\n"


def side_by_side(row: dict[str, Any]) -> dict[str, Any] | None:
    """SCALE-Sim's cycles for the model's Conv/Gemm layers (None if its venv cannot be made)."""
    python = bench_scalesim.ensure_scalesim()
    if python is None:
        return None
    layers = [r for r in row["pe_layers"] if "ifmap_h" in r]
    ss = bench_scalesim.run_topology(python, scalesim_topology(layers), gemm=False)
    if len(ss["cycles"]) != len(layers):
        raise RuntimeError(f"SCALE-Sim reported {len(ss['cycles'])} layers for {len(layers)}")
    return {"layers": [{**r, "scalesim_cycles": c} for r, c in zip(layers, ss["cycles"], strict=True)],
            "seconds": ss["seconds"], "peak_mb": ss["peak_mb"]}


def fmt(x: float | None, spec: str) -> str:
    return "-" if x is None else format(x, spec)


def print_models(rows: list[dict[str, Any]]) -> None:
    print("\n| model | nodes core/host/fw | instructions | compile s (CPU s) | run s (CPU s) | peak RSS MB | cycles "
          "| PE util | host s | cycles / roofline | max abs | max rel | cosine |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        n = r["nodes"]
        print(f"| {r['model']} | {n.get('core', 0)}/{n.get('host', 0)}/{n.get('framework', 0)} | "
              f"{r['instructions']:,} | {r['compile_s']:.2f} ({r['compile_cpu_s']:.2f}) | "
              f"{r['run_s']:.2f} ({r['run_cpu_s']:.2f}) | "
              f"{r['peak_mb']:,.0f} | {r['cycles']:,} | {r['pe_utilization']:.1%} | {r['host_s']:.3f} | "
              f"{fmt(r['roofline_ratio'], '.2f')} | {r['max_abs']:.2e} | {r['max_rel']:.2e} | {r['cosine']:.6f} |")


def print_side_by_side(name: str, row: dict[str, Any], ss: dict[str, Any]) -> None:
    print(f"\n{name}: {len(ss['layers'])} conv/fc layers on our core (report.layers: span = first start to "
          "last end of the node's instructions, PE busy = its PE instructions' cycles) next to SCALE-Sim 3.0 "
          "(128 x 128 ws, CALC bandwidth: compute cycles only)\n")
    print("| layer | IFMAP (padded) | filter | C | K | stride | MACs | ours: span | ours: PE busy | roofline | bound "
          "| PE util | SCALE-Sim | SCALE-Sim / PE busy |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in ss["layers"]:
        print(f"| {r['node']} | {r['ifmap_h']}x{r['ifmap_w']} | {r['filter_h']}x{r['filter_w']} | {r['channels']} | "
              f"{r['filters']} | {r['stride']} | {r['macs']:,} | {r['cycles']:,} | {r['pe_busy']:,} | "
              f"{r['roofline_cycles']:,} | {r['bound']} | {r['pe_utilization']:.1%} | {r['scalesim_cycles']:,} | "
              f"{r['scalesim_cycles'] / r['pe_busy']:.2f} |")
    total = {k: sum(r[k] for r in ss["layers"]) for k in ("macs", "cycles", "pe_busy", "roofline_cycles")}
    ours, theirs = total["pe_busy"], sum(r["scalesim_cycles"] for r in ss["layers"])
    print(f"| total | | | | | | {total['macs']:,} | {total['cycles']:,} | {ours:,} | {total['roofline_cycles']:,} "
          f"| | | {theirs:,} | {theirs / ours:.2f} |")
    print(f"\nwall time and peak RSS: ours {row['compile_s']:.2f} s compile + {row['run_s']:.2f} s emulate and "
          f"time (values and cycles of the whole network), {row['peak_mb']:,.0f} MB; SCALE-Sim "
          f"{ss['seconds']:.1f} s, {ss['peak_mb']:,.0f} MB (cycles of these layers alone)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default=",".join(MODELS), help=f"comma-separated, from {', '.join(MODELS)}")
    ap.add_argument("--json", help="write every figure (per model, per layer, SCALE-Sim) to this file")
    ap.add_argument("--no-scalesim", action="store_true", help="skip the SCALE-Sim side by side for ResNet-50")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(Path(args.child))))
        return 0
    names = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = sorted(set(names) - set(MODELS))
    if unknown:
        ap.error(f"unknown models {unknown}: choose from {', '.join(MODELS)}")
    rows = []
    for name in names:
        start = time.perf_counter()
        rows.append(bench(name))
        print(f"{name}: done in {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
    print_models(rows)
    result: dict[str, Any] = {"models": rows}
    if "resnet50" in names and not args.no_scalesim:
        row = next(r for r in rows if r["model"] == "resnet50")
        ss = side_by_side(row)
        if ss is not None:
            print_side_by_side("resnet50", row, ss)
            result["scalesim"] = {"model": "resnet50", **ss}
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
