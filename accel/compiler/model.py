"""compile(): an ONNX model to a runnable plan of accel programs and host steps, with a per-layer
report; CompiledModel.run(inputs) runs it on the emulator with timing (docs/compiler.md)."""

from __future__ import annotations

import itertools
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnx

from accel.compiler import plan as planning
from accel.compiler import reorder, resident
from accel.compiler.fuse import fuse_gelu
from accel.compiler.graph import CompileError, Graph, evaluate_node, import_onnx, load_model, pin_inputs
from accel.compiler.segment import Segment
from accel.config import CoreConfig, as_config
from accel.isa.asm import AsmError, assemble
from accel.isa.encoding import Program
from accel.machine import Core
from accel.timing.report import summary
from accel.timing.timeline import ENGINES, Timeline


@dataclass
class Step:
    """One step of the plan: a core segment (an accel program) or one node on the host/framework."""

    kind: str  # "core", "host", "framework"
    nodes: list[str]
    segment: Segment | None = None
    program: Program | None = None
    listing: str = ""
    node_of: list[str] = field(default_factory=list)  # per instruction, the ONNX node it lowers
    placement: planning.Placement | None = None
    reorder: dict[str, int] = field(default_factory=dict)  # core: cycles before and after reorder.py


@dataclass
class ModelRun:
    """Outputs of a run, each core segment's timeline, and the host steps' wall time; with
    `run(keep_values=True)` every graph value it computed (for per-layer comparisons)."""

    outputs: dict[str, np.ndarray]
    timelines: list[Timeline]
    host_seconds: float
    steps: list[dict[str, Any]]
    values: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def total_cycles(self) -> int:
        """Core cycles of the whole model: its segments one after another."""
        return sum(t.total for t in self.timelines)


@dataclass
class CompiledModel:
    graph: Graph
    config: CoreConfig
    steps: list[Step]
    placements: list[planning.Placement]
    compile_seconds: float
    cache_stats: dict[str, Any] | None = None  # the instruction database's hits and misses (cache.py)
    options: planning.Options = field(default_factory=planning.Options)  # the optimizations it was compiled with

    @property
    def listing(self) -> str:
        """The assembly of every core segment (each reassembles to its program)."""
        return "\n".join(s.listing for s in self.steps if s.kind == "core")

    def placement_report(self) -> list[dict[str, Any]]:
        return [{"node": p.node.name, "op": p.node.op, "where": p.where, "why": p.why, "fused": p.fused,
                 "activation": p.act, **({"lowering": p.notes} if p.notes else {}),
                 **({"sparse": p.sparse} if p.sparse else {})} for p in self.placements]

    def run(self, inputs: Mapping[str, Any], *, timing: bool = True, keep_values: bool = False) -> ModelRun:
        """Run the plan: core segments on the emulator (fast backend), host steps in NumPy."""
        g = self.graph
        values: dict[str, np.ndarray] = {}
        for name in g.inputs:
            if name not in inputs:
                raise CompileError(f"input {name} ({list(g.values[name].shape)}) was not given")
            a = np.asarray(inputs[name], dtype=np.float32)
            if a.shape != g.values[name].shape:
                raise CompileError(f"input {name}: shape {a.shape} given, the model's is {g.values[name].shape}")
            values[name] = a
        extra = set(inputs) - set(g.inputs)
        if extra:
            raise CompileError(f"inputs {sorted(extra)} are not inputs of the model (it has {g.inputs})")
        timelines, reports, host = [], [], 0.0

        def get(name: str) -> np.ndarray:
            if name in values:
                return values[name]
            c = g.const(name)
            if c is None:
                raise CompileError(f"value {name} is needed before it is computed")
            return c

        from accel.compiler.host import HOST_OPS

        for step in self.steps:
            if step.kind == "core":
                seg = step.segment
                feeds = {t: get(v).reshape(-1) for t, v in seg.feeds.items()}
                feeds.update(seg.consts)
                result = Core(self.config).run(step.program, feeds, timing=timing)
                for t, names in seg.results.items():
                    for v in names:
                        values[v] = result.outputs[t].reshape(g.values[v].shape)
                for v, src in seg.aliases.items():
                    values[v] = get(src).reshape(g.values[v].shape)
                if result.timeline is not None:
                    timelines.append(result.timeline)
                    reports.append({"kind": "core", "nodes": step.nodes, "cycles": result.timeline.total})
            else:
                node = step.placement.node
                start = time.perf_counter()
                args = [get(i) if i else None for i in node.inputs]
                if step.kind == "host":
                    outs = HOST_OPS[node.op](node.attrs, args)
                else:
                    outs = evaluate_node(node, args, g.opset)
                seconds = time.perf_counter() - start
                host += seconds
                for name, out in zip([o for o in node.outputs if o], outs, strict=False):
                    values[name] = np.asarray(out)
                reports.append({"kind": step.kind, "nodes": step.nodes, "seconds": seconds})
        return ModelRun({o: values[o] if o in values else get(o) for o in g.outputs}, timelines, host, reports,
                        values if keep_values else {})

    def layer_report(self, run: ModelRun) -> list[dict[str, Any]]:
        """Per ONNX node on the core: first start and last end of its instructions (`span`), its
        `cycles` (the cycles of the run it accounts for: walking the instructions in start order,
        each is given the cycles it extends the busy time by, so nodes whose instructions overlap,
        as reordering interleaves them, are not counted twice and the rows add up to the run's busy
        cycles), busy cycles per engine and DRAM bytes; host nodes with their wall time."""
        rows: list[dict[str, Any]] = []
        core_steps = [s for s in self.steps if s.kind == "core"]
        for step, tl in zip(core_steps, run.timelines, strict=True):
            names = np.array(step.node_of[:len(tl)], dtype=object)
            order = np.argsort(tl.start, kind="stable")
            reach = np.maximum.accumulate(tl.end[order])
            before = np.concatenate([[0], reach[:-1]])
            share = np.zeros(len(tl), dtype=np.int64)
            share[order] = np.maximum(0, tl.end[order] - np.maximum(tl.start[order], before))
            for node in dict.fromkeys(step.node_of):
                mine = names == node
                if not mine.any():
                    continue
                row = {"node": node, "where": "core", "start": int(tl.start[mine].min()),
                       "end": int(tl.end[mine].max()), "dram_bytes": int(tl.dram_bytes[mine].sum())}
                row["span"] = row["end"] - row["start"]
                row["cycles"] = int(share[mine].sum())
                for code, eng in enumerate(ENGINES):
                    sel = mine & (tl.engine == code)
                    row[f"{eng.lower()}_busy"] = int((tl.end[sel] - tl.start[sel]).sum())
                rows.append(row)
        for rep in run.steps:
            if rep["kind"] != "core":
                rows.append({"node": rep["nodes"][0], "where": rep["kind"], "seconds": rep["seconds"]})
        return rows


def compile_model(model: str | Path | bytes | onnx.ModelProto, config: CoreConfig | Mapping[str, Any] | None = None,
                  *, strict: bool = False, input_shapes: Mapping[str, tuple[int, ...]] | None = None,
                  cache: Any = None, options: planning.Options | None = None) -> CompiledModel:
    """Compile an ONNX model for a core: `accel.compile("resnet50.onnx").run({"data": x})`. `cache`: an
    accel.compiler.cache.InstructionCache (or its folder) to reuse instructions from; None: none.
    `options`: which optimizations run (plan.Options; all of them by default)."""
    start = time.perf_counter()
    options = options or planning.Options()
    if isinstance(cache, str | Path):
        from accel.compiler.cache import InstructionCache

        cache = InstructionCache(cache)
    config = as_config(config)
    if cache is not None:
        cache.begin()
        model = load_model(model)
        try:
            pin_inputs(model, input_shapes)
        except CompileError:
            pass  # import_onnx below says what is wrong, as without the database
        else:
            found = cache.compiled(model, config, options, strict, input_shapes)
            if found is not None:  # the whole compile, exactly as it was stored (cache.py)
                cache.flush()
                found.cache_stats, found.compile_seconds = cache.stats.as_dict(), time.perf_counter() - start
                return found
    lower = cache.lower if cache is not None else planning.lower
    graph = cache.imported() if cache is not None else None  # the model's import from the database (cache.py)
    if graph is None:
        graph = import_onnx(model, dict(input_shapes or {}))
        if cache is not None:
            cache.store_imported(graph)
    gelus = dict(fuse_gelu(graph))
    from accel.compiler.host import HOST_OPS

    placements = planning.place(graph, config, HOST_OPS, strict, options)
    for p in placements:
        if p.node.name in gelus:
            p.why += f" (erf-form GELU fused from {', '.join(gelus[p.node.name])})"
    users: dict[str, list[str]] = {}  # value -> the placed nodes that read it
    for p in placements:
        for v in p.node.inputs:
            users.setdefault(v, []).append(p.node.name)
    steps: list[Step] = []
    seg: Segment | None = None
    for k, p in enumerate(placements):
        if p.where == "core":
            if seg is None:
                seg = Segment(config, graph, len(steps))
                steps.append(Step("core", [], seg))
                if options.residency:
                    run = list(itertools.takewhile(lambda q: q.where == "core", placements[k:]))
                    seg.keep = resident.layouts([(q.node, q.row_spread) for q in run], graph, config, users)
            lower(p, seg)
            steps[-1].nodes.append(p.node.name)
        else:
            seg = None
            steps.append(Step(p.where, [p.node.name], placement=p))
    for step in steps:
        if step.kind == "core":
            _finish(step, config, options, cache)
    cm = CompiledModel(graph, config, steps, placements, 0.0, None, options)
    if cache is not None:
        cache.store_compiled(cm)
        cache.flush()
        cm.cache_stats = cache.stats.as_dict()
    cm.compile_seconds = time.perf_counter() - start
    return cm


def _finish(step: Step, config: CoreConfig, options: planning.Options, cache: Any = None) -> None:
    """Assemble a segment's program, reordered across engines when the timing model says that is
    faster (reorder.py); every instruction remembers its node. With the database: the program (and
    the reordered builder) of an equal listing is taken from it instead (cache.segment_identifier)."""
    seg = step.segment
    step.listing = seg.program_text()
    ident = found = None
    if cache is not None:
        from accel.compiler.cache import segment_identifier

        ident = segment_identifier(seg, step.listing, options.reorder)
        found = cache.finished(seg, ident)
    if found is not None:
        step.program = found["program"]
        if found["builder"] is not None:
            seg.builder = found["builder"]
        if options.reorder:
            step.reorder = {"before": found["before"], "after": found["after"]}
    else:
        try:
            step.program = assemble(step.listing, f"segment{seg.index}.s", config=config)
        except AsmError as e:  # pragma: no cover - a lowering bug, not a user error
            raise CompileError(f"segment {seg.index} ({', '.join(step.nodes)}) does not assemble: {e}") from None
        builder = seg.builder
        if options.reorder:
            step.program, before, after = reorder.improve(seg, step.program)
            step.reorder = {"before": before, "after": after}
        if cache is not None:
            cache.store_finished(seg, ident, {"program": step.program, "before": step.reorder.get("before"),
                                              "after": step.reorder.get("after"),
                                              "builder": None if seg.builder is builder else seg.builder})
    step.listing = seg.program_text()
    step.node_of = list(seg.builder.line_nodes)


def compile_summary(model: CompiledModel, run: ModelRun) -> dict[str, Any]:
    """Totals of a run: core cycles, host seconds, and each segment's timing summary."""
    return {"total_cycles": run.total_cycles, "host_seconds": run.host_seconds,
            "segments": [summary(t) for t in run.timelines]}
