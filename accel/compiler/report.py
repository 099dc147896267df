"""Per-layer report of a compiled model's run: cycles, engines, DRAM bytes, MACs, the roofline lower
bound max(MACs / (R x C), DRAM bytes / bandwidth) and the bound; and one timeline of the whole model
(its core segments one after another) for traces and charts."""

from __future__ import annotations

from typing import Any

import numpy as np

from accel.compiler.graph import Graph, Node
from accel.compiler.model import CompiledModel, ModelRun
from accel.isa.encoding import Program
from accel.timing.timeline import Timeline


def node_macs(node: Node, graph: Graph) -> int:
    """Multiply-accumulates of a Conv, Gemm or MatMul node (0 for others)."""
    if node.op == "Conv":
        w = graph.values[node.inputs[1]].shape
        y = graph.values[node.outputs[0]].shape
        return int(np.prod(y, dtype=np.int64) * np.prod(w[1:], dtype=np.int64))
    if node.op in ("Gemm", "MatMul"):
        a = graph.values[node.inputs[0]].shape
        y = graph.values[node.outputs[0]].shape
        k = a[0] if node.op == "Gemm" and node.attr("transA", 0) else a[-1]
        return int(np.prod(y, dtype=np.int64) * k)
    return 0


def layers(model: CompiledModel, run: ModelRun) -> list[dict[str, Any]]:
    """One row per ONNX node (fused nodes with the node they joined): where it ran, its cycles on the
    core (first start to last end of its instructions) or seconds on the host, and its roofline."""
    c = model.config
    by_name = {p.node.name: p for p in model.placements}
    rows = []
    for row in model.layer_report(run):
        name = row["node"].split(" (+")[0]
        p = by_name.get(name)
        row["op"] = p.node.op if p else ""
        if p is not None and row["where"] == "core":
            macs = node_macs(p.node, model.graph)
            compute = -(-macs // (c.pe_rows * c.pe_cols))
            dma = -(-row["dram_bytes"] // c.dma_bytes_per_cycle)
            floor = max(compute, dma)
            row.update(macs=macs, roofline_cycles=floor,
                       roofline_ratio=row["cycles"] / floor if floor else None,
                       bound="compute" if compute >= dma else "DMA",
                       pe_utilization=macs / (c.pe_rows * c.pe_cols * row["cycles"]) if row["cycles"] else 0.0)
        rows.append(row)
    return rows


def merged_timeline(model: CompiledModel, run: ModelRun) -> Timeline | None:
    """The core segments' timelines as one, each after the one before (cycles offset), over one
    program of all their instructions: what `accel run model.onnx --trace` writes."""
    if not run.timelines:
        return None
    steps = [s for s in model.steps if s.kind == "core"]
    offset, shift = 0, 0
    parts: dict[str, list[np.ndarray]] = {}
    instructions, tensors = [], []
    for step, tl in zip(steps, run.timelines, strict=True):
        n = len(tl)
        instructions += step.program.instructions[:n]
        tensors += step.program.tensors
        for f in ("engine", "dispatch", "ready", "head", "start", "end", "reason", "blocker", "dma_queue",
                  "data_start", "dram_bytes", "psum_banks", "released_by"):
            a = getattr(tl, f).copy()
            if f in ("dispatch", "ready", "head", "start", "end", "data_start"):
                a += offset
            elif f in ("blocker", "released_by"):
                a = np.where(a >= 0, a + shift, a)
            parts.setdefault(f, []).append(a)
        before = sum(len(x) for x in parts["released_by"][:-1])
        parts.setdefault("released_ptr", []).append(tl.released_ptr[:-1] + before)
        offset += tl.total
        shift += n
    ptr = np.concatenate(parts.pop("released_ptr") + [np.array([sum(len(x) for x in parts["released_by"])])])
    merged = {f: np.concatenate(v) for f, v in parts.items()}
    return Timeline(program=Program(tensors, instructions), config=model.config, released_ptr=ptr, total=offset,
                    macs=sum(t.macs for t in run.timelines), **merged)


def nodes_timeline(model: CompiledModel, run: ModelRun, nodes: list[str]) -> Timeline:
    """The part of a run's timeline that lowers the given ONNX nodes (a block of a network), cycles
    counted from its first start; waits on instructions outside the part show as blocker -1."""
    steps = [s for s in model.steps if s.kind == "core"]
    want = set(nodes)
    for step, tl in zip(steps, run.timelines, strict=True):
        of = [name.split(" (+")[0] for name in step.node_of[:len(tl)]]
        idx = np.array([i for i, name in enumerate(of) if name in want], dtype=np.int64)
        if idx.size:
            break
    else:
        raise ValueError(f"no core instructions lower {sorted(want)}")
    new = np.full(len(tl), -1, dtype=np.int64)
    new[idx] = np.arange(idx.size)
    fields = {f: getattr(tl, f)[idx] for f in ("engine", "dispatch", "ready", "head", "start", "end", "reason",
                                                "dma_queue", "data_start", "dram_bytes", "psum_banks")}
    t0 = int(fields["start"].min())
    for f in ("dispatch", "ready", "head", "start", "end", "data_start"):
        fields[f] = np.maximum(fields[f] - t0, 0)
    blocker = tl.blocker[idx]
    fields["blocker"] = np.where(blocker >= 0, new[np.maximum(blocker, 0)], -1)
    released = [new[tl.released(i)] for i in idx]
    released = [r[r >= 0] for r in released]
    ptr = np.zeros(idx.size + 1, dtype=np.int64)
    np.cumsum([r.size for r in released], out=ptr[1:])
    by = np.concatenate(released) if released else np.zeros(0, dtype=np.int64)
    return Timeline(program=Program(step.program.tensors, [step.program.instructions[i] for i in idx]),
                    config=model.config, released_ptr=ptr, released_by=by.astype(np.int64),
                    total=int(fields["end"].max()), macs=0, **fields)
