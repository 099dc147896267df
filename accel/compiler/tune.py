"""Tuning by simulation (issue 14 part 5; ../shared/PATENTS.md: US11797876B1, tuning with fallback;
docs/compiler.md, "Tuning").

The lowerings choose by heuristics: a conv is row-spread when the cost model's counts say it is
faster (pe.spread_plan), a layer runs on the sparse array when its estimate beats dense
(accel.compiler.sparse). `compile_tuned` compiles with those defaults, then for every layer that
has an alternative

* conv with a row-spreading plan: spread or plain;
* a layer the sparse planner put on the sparse array: sparse or dense;
* a Gemm/MatMul: its two layouts around pe.ROWS_LAYOUT_MIN, the rows of Y on partitions (A^T
  stationary by PE transposes, B streamed) or its columns (B stationary, A^T by a transposing DMA);
* the tile of every dense Conv/Gemm/MatMul lowering above ("plain/256"): how many PSUM elements one
  matmul writes, a whole bank (the default) or half or a quarter of one (TILE_FRACTIONS), i.e. the
  output rows per chunk of a conv, the M rows (columns layout) or N columns (rows layout) of a matmul
  chunk; smaller chunks start the drain (ACT) and the store earlier and shorten a layer's tail, at
  the price of more weight loads. The arithmetic order of every output element is unchanged, so the
  values are bit-identical.

lowers each alternative alone into a fresh segment and times it with the timing model
(accel.timing.schedule: the per-engine cost model and the event simulation, on that one layer,
reordered across engines as the compile does), and
picks the fastest. When any choice differs from the default, the whole model is compiled again with
them (`Options.tuned`), and when some choices are tiles also with those choices without their tiles,
and the whole programs are timed (the full timed run that confirms); the fastest is kept, the default
one when no tuned one is faster (the fallback). Each layer's
choice is cached in the instruction database (accel.compiler.cache, table `tuning`), keyed by the
layer's operator, attributes, shapes, fused activation, the alternatives, the CoreConfig and the
compiler version, so a warm run simulates nothing. The time spent simulating is bounded
(`seconds`; layers past the budget keep their default) and shown with a tqdm progress bar.

Not among the alternatives: the activation fused into the drain or run separately (separate is one
more pass over the output on ACT or VEC, never fewer cycles in the cost model), the tiles of the
sparse lowerings. A layer whose operand or output residency keeps in SBUF keeps the rows layout
whatever is chosen.
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


# the tile alternatives: a matmul writes at most a 1/f part of its PSUM bank (f = 1 is the default)
TILE_FRACTIONS = (2, 4)


def tiles(p: planning.Placement, graph, config: CoreConfig, lowering: str) -> tuple[int, ...]:
    """The tiles (PSUM elements a matmul, TILE_FRACTIONS of a bank) that change how the dense
    `lowering` of a Conv/Gemm/MatMul chunks its output: conv rows per chunk (whole output rows), the
    M rows ("cols") or N columns ("rows") of a matmul chunk; () for a sparse lowering."""
    if lowering == "sparse" or p.node.op not in ("Conv", "Gemm", "MatMul"):
        return ()
    bank = config.psum_bank_bytes // 4
    out = graph.values[p.node.outputs[0]].shape
    if p.node.op == "Conv":
        oh, ow = out[-2], out[-1]
        seen = {max(1, min(oh, bank // ow))}
        found = []
        for f in TILE_FRACTIONS:
            rows = max(1, min(oh, bank // f // ow))
            if rows not in seen:
                seen.add(rows)
                found.append(bank // f)
        return tuple(found)
    size = out[-1] if lowering == "rows" else graph.values[p.node.inputs[0]].shape[-2]
    return tuple(bank // f for f in TILE_FRACTIONS if size > bank // f)


def alternatives(p: planning.Placement, graph, config: CoreConfig) -> tuple[str, ...]:
    """The lowerings a compiled node can take, its default first; () when it has no choice. Each
    lowering (sparse or dense, spread or plain, the two matmul layouts) also with every `tiles` as
    "lowering/tile"."""
    if p.where != "core" or p.node.op not in ("Conv", "Gemm", "MatMul"):
        return ()
    if p.sparse and p.sparse.get("pattern"):
        base: tuple[str, ...] = ("sparse", "dense")
    elif p.node.op == "Conv":
        base = ("spread", "plain") if p.notes.get("spread") else ("plain",)
    elif min(config.pe_rows, config.pe_cols) >= 16:
        rows = pe.rows_layout(graph.values[p.node.inputs[0]].shape[-2], config)
        base = ("rows", "cols") if rows else ("cols", "rows")
    else:
        base = ("cols",)
    alts = base + tuple(f"{b}/{t}" for b in base for t in tiles(p, graph, config, b))
    return alts if len(alts) > 1 else ()


def _variant(p: planning.Placement, choice: str) -> planning.Placement:
    """A copy of the placement lowering as `choice` (its weights and decisions shared, notes fresh)."""
    name, tile = planning.choice_parts(choice)
    if name == "plain":
        return dataclasses.replace(p, row_spread=False, tile=tile, notes={})
    if name == "dense":
        return dataclasses.replace(p, sparse=None, tile=tile, notes={})
    if name in ("rows", "cols"):
        return dataclasses.replace(p, layout=name, tile=tile, notes={})
    return dataclasses.replace(p, tile=tile, notes={})


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
    compiled model kept (tuned, tuned without its tiles, or the default when neither is faster) and
    the report: per tuned layer its cycles per alternative and choice, totals default and tuned
    (the faster candidate), each candidate's cycles, which was kept and the choices it applies, the
    seconds spent simulating and how many choices came from the database."""
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
    rows, choices, defaults, cached, skipped = [], {}, {}, 0, 0
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
            choices[p.node.name], defaults[p.node.name] = row["choice"], alts[0]
    sim_seconds = time.perf_counter() - start
    report: dict[str, Any] = {"layers": rows, "changed": dict(choices), "simulated_seconds": round(sim_seconds, 3),
                              "cached": cached, "over_budget": skipped, "budget_seconds": seconds}
    default_total = _total(base)
    report["default_cycles"] = default_total
    if not choices:
        report.update(tuned_cycles=default_total, applied={}, candidates=[],
                      kept="default (every layer's default was fastest)")
        return base, report
    # the timed whole runs that confirm: every choice, and (when some are tiles) the choices without
    # their tiles, since a tile that wins alone can lose where the layer overlaps its neighbours
    sets = [dict(choices)]
    untiled = {n: c.split("/")[0] for n, c in choices.items() if c.split("/")[0] != defaults[n]}
    if untiled != choices and untiled:
        sets.append(untiled)
    best, best_total, best_set = base, default_total, None
    del base  # held only as `best` (one compiled model fewer in memory once a tuned one wins)
    report["candidates"] = []
    for chosen in sets:
        tuned = compile_model(model, config, strict=strict, input_shapes=input_shapes, cache=cache,
                              options=dataclasses.replace(options, tuned=tuple(sorted(chosen.items()))))
        total = _total(tuned)
        report["candidates"].append({"tuned": chosen, "cycles": total})
        if total < best_total:
            best, best_total, best_set = tuned, total, chosen
        del tuned
    report["tuned_cycles"] = min(c["cycles"] for c in report["candidates"])
    report["applied"] = best_set or {}
    if best_set is None:
        report["kept"] = "default (the tuned model was not faster in the full timed run)"
    else:
        report["kept"] = "tuned" if best_set == choices else "tuned without the tiles"
    return best, report
