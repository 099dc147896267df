"""Tuning by simulation (issue 14 part 5; ../shared/PATENTS.md: US11797876B1, tuning with fallback;
docs/compiler.md, "Tuning").

The lowerings choose by heuristics: a conv is row-spread when the cost model's counts say it is
faster (pe.spread_plan), a layer runs on the sparse array when its estimate beats dense
(accel.compiler.sparse). `compile_tuned` compiles with those defaults, then for every layer that
has an alternative

* conv with a row-spreading plan: spread or plain;
* a layer the sparse planner put on the sparse array: sparse or dense;
* a Gemm/MatMul: its two layouts around pe.ROWS_LAYOUT_MIN, the rows of Y on partitions (A^T
  stationary by PE transposes, B streamed) or its columns (B stationary, A^T by a transposing DMA)

lowers each alternative alone into a fresh segment and times it with the timing model
(accel.timing.schedule: the per-engine cost model and the event simulation, on that one layer,
reordered across engines as the compile does), and
picks the fastest. When any choice differs from the default, the whole model is compiled again with
them (`Options.tuned`) and both whole programs are timed (the full timed run that confirms); the
tuned model is kept only when it is faster, else the default one (the fallback). Each layer's
choice is cached in the instruction database (accel.compiler.cache, table `tuning`), keyed by the
layer's operator, attributes, shapes, fused activation, the alternatives, the CoreConfig and the
compiler version, so a warm run simulates nothing. The time spent simulating is bounded
(`seconds`; layers past the budget keep their default) and shown with a tqdm progress bar.

Not yet among the alternatives: tile sizes (the lowerings fix them: one PSUM bank per chunk). A
layer whose operand or output residency keeps in SBUF keeps the rows layout whatever is chosen.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import onnx

from accel.compiler import pe, reorder
from accel.compiler import plan as planning
from accel.compiler.graph import CompileError
from accel.compiler.model import CompiledModel, compile_model
from accel.compiler.segment import Segment
from accel.config import CoreConfig, as_config
from accel.isa.asm import assemble
from accel.timing import schedule

DEFAULT_SECONDS = 120.0


def alternatives(p: planning.Placement, graph, config: CoreConfig) -> tuple[str, ...]:
    """The lowerings a compiled node can take, its default first; () when it has no choice."""
    if p.where != "core":
        return ()
    if p.sparse and p.sparse.get("pattern"):
        return ("sparse", "dense")
    if p.node.op == "Conv" and p.notes.get("spread"):
        return ("spread", "plain")
    if p.node.op in ("Gemm", "MatMul") and min(config.pe_rows, config.pe_cols) >= 16:
        rows = pe.rows_layout(graph.values[p.node.inputs[0]].shape[-2], config)
        return ("rows", "cols") if rows else ("cols", "rows")
    return ()


def _variant(p: planning.Placement, choice: str) -> planning.Placement:
    """A copy of the placement lowering as `choice` (its weights and decisions shared, notes fresh)."""
    if choice == "plain":
        return dataclasses.replace(p, row_spread=False, notes={})
    if choice == "dense":
        return dataclasses.replace(p, sparse=None, notes={})
    if choice in ("rows", "cols"):
        return dataclasses.replace(p, layout=choice, notes={})
    return dataclasses.replace(p, notes={})


def layer_cycles(p: planning.Placement, graph, config: CoreConfig, choice: str, reordered: bool = True) -> int:
    """The timing model's cycles of the node lowered as `choice`, alone in a fresh segment (reordered
    across engines, as the compile does with Options.reorder, when `reordered`)."""
    seg = Segment(config, graph, 0)
    planning.lower(_variant(p, choice), seg)
    program = assemble(seg.program_text(), "tune.s", config=config)
    if reordered:
        return reorder.improve(seg, program)[2]
    return int(schedule(program, config).total)


def key(p: planning.Placement, graph, config: CoreConfig, alts: tuple[str, ...], reordered: bool = True) -> str:
    """The tuning database key of a layer: what its cycles depend on (not its weight values)."""
    from accel.compiler.cache import version

    node = p.node
    ident = {"version": version(), "config": dataclasses.asdict(config), "op": node.op,
             "attrs": sorted((k, repr(v)) for k, v in node.attrs.items()),
             "inputs": [list(graph.values[i].shape) if i in graph.values else None for i in node.inputs],
             "outputs": [list(graph.values[o].shape) if o in graph.values else None for o in node.outputs],
             "act": p.act, "fused": len(p.fused), "alternatives": list(alts), "reorder": reordered,
             "sparse": (p.sparse or {}).get("pattern"), "passes": (p.sparse or {}).get("max_passes")}
    return hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()


def _total(cm: CompiledModel) -> int:
    return sum(int(schedule(s.program, cm.config).total) for s in cm.steps if s.kind == "core")


def compile_tuned(model: str | Path | bytes | onnx.ModelProto, config: CoreConfig | Mapping[str, Any] | None = None,
                  *, strict: bool = False, input_shapes: Mapping[str, tuple[int, ...]] | None = None,
                  cache: Any = None, options: planning.Options | None = None, seconds: float = DEFAULT_SECONDS,
                  progress: bool = True) -> tuple[CompiledModel, dict[str, Any]]:
    """compile_model with each layer's lowering chosen by simulated cycles (module docstring); the
    compiled model kept (tuned, or the default when tuning found nothing faster) and the report:
    per tuned layer its cycles per alternative and choice, totals default and tuned, which was kept,
    the seconds spent simulating and how many choices came from the database."""
    from tqdm import tqdm

    if seconds <= 0:
        raise CompileError(f"tuning budget {seconds} s: expected a positive number of seconds")
    config = as_config(config)
    options = dataclasses.replace(options or planning.Options(), tuned=())
    if isinstance(cache, str | Path):
        from accel.compiler.cache import InstructionCache

        cache = InstructionCache(cache)
    base = compile_model(model, config, strict=strict, input_shapes=input_shapes, cache=cache, options=options)
    todo = [(p, alts) for p in base.placements if (alts := alternatives(p, base.graph, config))]
    start = time.perf_counter()
    rows, choices, cached, skipped = [], {}, 0, 0
    for p, alts in tqdm(todo, desc="tuning", unit="layer", disable=not progress or not todo):
        k = key(p, base.graph, config, alts, options.reorder)
        hit = cache.tuned(k) if cache is not None else None
        if hit is not None:
            cached += 1
            row = {"node": p.node.name, "op": p.node.op, "default": alts[0], **hit, "cached": True}
        elif time.perf_counter() - start > seconds:
            skipped += 1
            continue
        else:
            cyc = {a: layer_cycles(p, base.graph, config, a, options.reorder) for a in alts}
            best = min(alts, key=lambda a: (cyc[a], alts.index(a)))
            row = {"node": p.node.name, "op": p.node.op, "default": alts[0], "cycles": cyc, "choice": best,
                   "cached": False}
            if cache is not None:
                cache.store_tuned(k, {"cycles": cyc, "choice": best})
        rows.append(row)
        if row["choice"] != alts[0]:
            choices[p.node.name] = row["choice"]
    sim_seconds = time.perf_counter() - start
    report: dict[str, Any] = {"layers": rows, "changed": dict(choices), "simulated_seconds": round(sim_seconds, 3),
                              "cached": cached, "over_budget": skipped, "budget_seconds": seconds}
    default_total = _total(base)
    report["default_cycles"] = default_total
    if not choices:
        report.update(tuned_cycles=default_total, kept="default (every layer's default was fastest)")
        return base, report
    tuned = compile_model(model, config, strict=strict, input_shapes=input_shapes, cache=cache,
                          options=dataclasses.replace(options, tuned=tuple(sorted(choices.items()))))
    tuned_total = _total(tuned)
    report["tuned_cycles"] = tuned_total
    if tuned_total < default_total:
        report["kept"] = "tuned"
        return tuned, report
    report["kept"] = "default (the tuned model was not faster in the full timed run)"
    return base, report


