"""`accel compile MODEL.onnx` and `accel run MODEL.onnx`: the compiler from the command line.

compile writes the listing (real assembly: each segment reassembles to its program, every line
commented with its ONNX node), the programs' binaries (-o: one file for a single segment, else
NAME.segK.bin beside it) and the per-node placement and layer report; run compiles, runs on the
emulator with timing, and reports per layer where the time went.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import numpy as np


def is_model(path: str) -> bool:
    return path.lower().endswith(".onnx")


def add_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--strict", action="store_true", help="an operator the core cannot run is an error, not a host step")
    p.add_argument("--input-shape", action="append", default=[], metavar="NAME=D0,D1,...",
                   help="shape of an input with dynamic dimensions")
    p.add_argument("--no-row-spread", dest="row_spread", action="store_false",
                   help="lower convolutions without spreading filter elements over the PE rows")
    p.add_argument("--no-reorder", dest="reorder", action="store_false",
                   help="keep each segment's instructions in the order the lowerings emit them")
    p.add_argument("--no-residency", dest="residency", action="store_false",
                   help="store every layer's output to DRAM and load it back (no tensor kept in SBUF)")
    p.add_argument("--sparsity", metavar="N:M[,N:M...]",
                   help="run Conv/Gemm/MatMul weights on the sparse array with these N:M patterns (default: dense)")
    p.add_argument("--target", type=float, metavar="FRACTION",
                   help="with --sparsity: prune weights to this fraction of zeros (mixed-ratio planner)")
    p.add_argument("--tune", action="store_true",
                   help="choose each layer's lowering by simulated cycles (accel.compiler.tune), cached")
    p.add_argument("--tune-seconds", type=float, default=None, metavar="S",
                   help="with --tune: the most seconds spent simulating layers (default 120)")
    add_cache_options(p)


def sparsity_options(args: argparse.Namespace) -> dict[str, Any]:
    """Options' sparsity fields from --sparsity/--target; CliError (one line) for bad text."""
    from accel.cli import CliError
    from accel.compiler.sparse import FORM, parse_patterns

    text, target = getattr(args, "sparsity", None), getattr(args, "target", None)
    if text is None:
        if target is not None:
            raise CliError("--target: needs --sparsity N:M[,N:M...] (the patterns to prune to)")
        return {}
    try:
        patterns = parse_patterns(text)
    except ValueError:
        raise CliError(f"--sparsity {text!r}: expected {FORM}") from None
    if target is not None and not 0 <= target <= 1:
        raise CliError(f"--target {target}: expected a fraction of zero weights in 0..1")
    return {"sparsity": patterns, "sparsity_target": target}


def add_cache_options(p: argparse.ArgumentParser, switch: bool = True) -> None:
    p.add_argument("--cache-dir", help="folder of the instruction database (default: $ACCEL_CACHE_DIR, "
                                       "else the user's cache folder, ~/.cache/accel)")
    if switch:
        p.add_argument("--no-cache", action="store_true", help="lower every node afresh, without the database")


def size_arg(text: str) -> int:
    """argparse type of --max-size: bytes of 500M, 5G, ..."""
    from accel.compiler.cache import parse_size

    try:
        return parse_size(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def open_cache(args: argparse.Namespace, required: bool = False):
    """The instruction database the options name (None under --no-cache); CliError when it cannot open."""
    from accel.cli import CliError
    from accel.compiler.cache import InstructionCache

    if getattr(args, "no_cache", False) and not required:
        return None
    try:
        return InstructionCache(args.cache_dir)
    except ValueError as e:
        raise CliError(str(e)) from None
    except (OSError, sqlite3.Error) as e:
        where = args.cache_dir or "(default folder)"
        raise CliError(f"--cache-dir {where}: cannot open the instruction database: {e}") from None


def _shapes(items: list[str]) -> dict[str, tuple[int, ...]]:
    from accel.cli import CliError

    out = {}
    for item in items:
        name, sep, dims = item.partition("=")
        try:
            shape = tuple(int(d) for d in dims.split(","))
        except ValueError:
            shape = ()
        if not sep or not name or not shape or min(shape) < 1:
            raise CliError(f"--input-shape {item!r}: expected NAME=D0,D1,... with positive integers")
        out[name] = shape
    return out


def compiled(args: argparse.Namespace, config: Any):
    """The model compiled for `config`; CliError (one line) for a model the compiler rejects."""
    from accel.cli import CliError
    from accel.compiler import CompileError, compile_model
    from accel.compiler.plan import Options

    shapes = _shapes(args.input_shape)
    options = Options(row_spread=args.row_spread, reorder=args.reorder, residency=getattr(args, "residency", True),
                      **sparsity_options(args))
    seconds = getattr(args, "tune_seconds", None)
    if seconds is not None and not getattr(args, "tune", False):
        raise CliError("--tune-seconds: needs --tune")
    if seconds is not None and not seconds > 0:
        raise CliError(f"--tune-seconds {seconds}: expected a positive number of seconds")
    try:
        if getattr(args, "tune", False):
            from accel.compiler.tune import DEFAULT_SECONDS, compile_tuned

            model, args.tune_report = compile_tuned(
                args.program, config, strict=args.strict, input_shapes=shapes, cache=open_cache(args),
                options=options, seconds=seconds or DEFAULT_SECONDS, progress=not getattr(args, "json", False))
            return model
        return compile_model(args.program, config, strict=args.strict, input_shapes=shapes, cache=open_cache(args),
                             options=options)
    except CompileError as e:
        raise CliError(f"{args.program}: {e}") from None


def layer_table(rows: list[dict[str, Any]]) -> str:
    lines = [f"{'node':<34} {'op':<18} {'where':<9} {'cycles':>9} {'roofline':>9} {'x floor':>7} {'PE util':>7}  bound"]
    for r in rows:
        if r["where"] == "core":
            ratio = f"{r['roofline_ratio']:.1f}" if r.get("roofline_ratio") else "-"
            util = f"{r.get('pe_utilization', 0.0):.1%}" if r.get("macs") else "-"
            lines.append(f"{r['node'][:34]:<34} {r['op'][:18]:<18} {'core':<9} {r['cycles']:>9,} "
                         f"{r.get('roofline_cycles', 0):>9,} {ratio:>7} {util:>7}  {r.get('bound', '')}")
        else:
            lines.append(f"{r['node'][:34]:<34} {r['op'][:18]:<18} {r['where']:<9} {r['seconds'] * 1e3:>7.2f}ms")
    return "\n".join(lines)


def lowering_text(notes: dict[str, Any] | None) -> str:
    """A conv's lowering notes: PE rows per matmul and matmuls, with row spreading beside without."""
    if not notes:
        return ""
    text = f"; {notes['rows']} PE rows, {notes['matmuls']:,} matmuls, {notes['dma_bytes']:,} DRAM bytes loaded"
    if notes["spread"]:
        plain = notes["plain"]
        text += (f" (row spreading {notes['spread']}; without: {plain['rows']} rows, {plain['matmuls']:,} matmuls, "
                 f"{plain['dma_bytes']:,} bytes)")
    if notes.get("weights", "resident") != "resident":
        text += f", weights {notes['weights']}"
    return text


def sparse_text(decision: dict[str, Any] | None) -> str:
    """A layer's N:M decision (sparse.prepare) for --report: the pattern or why it stays dense."""
    if not decision:
        return ""
    how = (f"pruned to {decision['sparsity']:.0%} zeros, weight error {decision['weight_error']:.3g}"
           f"{'' if decision.get('reached', True) else '; the target is not reachable with these patterns'}"
           if decision.get("pruned") else "lossless")
    if decision["pattern"]:
        return (f"; sparse {decision['pattern']} ({how}; estimated PE cycles {decision['estimate']:,}, "
                f"dense {decision['dense_estimate']:,})")
    return f"; dense ({decision['why']})"


def sparse_table(r: dict[str, Any]) -> str:
    """`accel run --sparsity`: per layer pattern, cycles sparse and dense, output error; the speed-up."""
    lines = [f"{'layer':<34} {'pattern':<8} {'cycles':>9} {'dense':>9} {'out err':>8} {'w err':>7}"]
    for row in r["layers"]:
        err = f"{row['output_error']:.2e}" if row["output_error"] is not None else "-"
        lines.append(f"{row['node'][:34]:<34} {row['pattern'] or 'dense':<8} {row['cycles'] or 0:>9,} "
                     f"{row['dense_cycles'] or 0:>9,} {err:>8} {row['weight_error']:>7.3f}")
    lines.append(f"sparse {r['total_cycles']:,} core cycles, dense {r['dense_cycles']:,}: {r['speedup']:.2f}x")
    return "\n".join(lines)


def tune_text(r: dict[str, Any]) -> str:
    """`--tune`'s report: per tuned layer the cycles of each alternative and the choice, the totals."""
    lines = []
    for row in r["layers"]:
        cyc = ", ".join(f"{a} {c:,}" for a, c in row["cycles"].items())
        lines.append(f"  tune {row['node']} ({row['op']}): {cyc} -> {row['choice']}"
                     f"{' (database)' if row['cached'] else ''}")
    gain = r["default_cycles"] / r["tuned_cycles"] if r["tuned_cycles"] else 1.0
    lines.append(f"tuning: {len(r['layers'])} layers with a choice, {len(r['changed'])} changed "
                 f"({r['cached']} from the database, {r['over_budget']} past the {r['budget_seconds']:g} s budget, "
                 f"{r['simulated_seconds']:.1f} s simulating); whole model {r['default_cycles']:,} cycles by the "
                 f"heuristics, {r['tuned_cycles']:,} tuned ({gain:.3f}x); kept {r['kept']}")
    return "\n".join(lines)


def cmd_compile(args: argparse.Namespace) -> int:
    from accel.cli import CliError, _config

    config = _config(args)
    model = compiled(args, config)
    written = {}
    core = [s for s in model.steps if s.kind == "core"]
    if args.output:
        out = Path(args.output)
        if not out.parent.is_dir():
            raise CliError(f"-o {args.output}: folder {out.parent} does not exist")
        for k, step in enumerate(core):
            path = out if len(core) == 1 else out.with_name(f"{out.stem}.seg{k}{out.suffix or '.bin'}")
            path.write_bytes(step.program.to_bytes())
            written[f"segment {k}"] = str(path)
    if args.listing:
        Path(args.listing).write_text(model.listing)
        written["listing"] = args.listing
    placements = model.placement_report()
    counts = {w: sum(p["where"] == w for p in placements) for w in ("core", "host", "framework")}
    if args.json:
        print(json.dumps({"model": args.program, "compile_seconds": model.compile_seconds, "cache": model.cache_stats,
                          "segments": len(core), "instructions": sum(len(s.program.instructions) for s in core),
                          "placement": placements, "written": written,
                          **({"tuning": args.tune_report} if getattr(args, "tune_report", None) else {})}, indent=2))
        return 0
    print(f"{args.program}: {len(placements)} nodes ({counts['core']} core, {counts['host']} host, "
          f"{counts['framework']} framework), {len(core)} core segment(s), "
          f"{sum(len(s.program.instructions) for s in core):,} instructions, compiled in {model.compile_seconds:.2f} s")
    st = model.cache_stats
    if st is not None:
        how = ("the whole model found" if st["model"] == "hit" else
               f"segments {st['segment_hits']} of {st['segment_hits'] + st['segment_misses']} found")
        print(f"instruction database: {st['hits']} of {st['hits'] + st['misses']} nodes found "
              f"({st['hit_rate']:.0%}), {how}{'; ' + st['disabled'] if st['disabled'] else ''}")
    if args.report:
        for p in placements:
            fused = f" (+{', '.join(p['fused'])})" if p["fused"] else ""
            print(f"  {p['node']}{fused}: {p['op']} -> {p['where']}: {p['why']}{lowering_text(p.get('lowering'))}"
                  f"{sparse_text(p.get('sparse'))}")
        for k, step in enumerate(core):
            if step.reorder:
                r = step.reorder
                print(f"  segment {k}: {r['before']:,} cycles in emission order, " + (
                    f"{r['after']:,} reordered" if r["after"] < r["before"] else "no faster order found (kept)"))
    if getattr(args, "tune_report", None):
        print(tune_text(args.tune_report))
    for what, path in written.items():
        print(f"{what:<14}{path}")
    return 0


def run_model(args: argparse.Namespace, config: Any) -> int:
    """`accel run MODEL.onnx`: compile, run with timing, report per layer."""
    from accel.cli import CliError, _pairs, read_npy
    from accel.cli.report import cost_dict
    from accel.compiler import CompileError
    from accel.compiler.report import layers, merged_timeline
    from accel.timing.race import check_races

    model = compiled(args, config)
    g = model.graph
    if args.timing_only:
        raise CliError("--timing-only: a model's host steps need values; run it with --random-inputs")
    inputs: dict[str, np.ndarray] = {}
    rng = np.random.default_rng(args.seed)
    given = _pairs(args.inputs, "--in")
    if args.seed < 0:
        raise CliError(f"--seed {args.seed}: a seed is a non-negative integer")
    for name in g.inputs:
        if name in given:
            inputs[name] = read_npy(given.pop(name), f"--in {name}=")
        elif args.random_inputs:
            inputs[name] = rng.standard_normal(g.values[name].shape).astype(np.float32)
        else:
            raise CliError(f"input {name} {list(g.values[name].shape)} not given "
                           f"(--in {name}=x.npy or --random-inputs)")
    if given:
        raise CliError(f"--in {', '.join(given)}: not inputs of the model (it has {', '.join(g.inputs)})")
    sparse_vs_dense = None
    try:
        run = model.run(inputs, keep_values=bool(model.options.sparsity))
        if model.options.sparsity:  # the dense compile beside it: speed-up and per-layer output errors
            from dataclasses import replace

            from accel.compiler import compile_model
            from accel.compiler.sparse import compare

            plain = replace(model.options, sparsity=(), sparsity_target=None)
            shapes = _shapes(args.input_shape)
            dense = compile_model(args.program, config, strict=args.strict, input_shapes=shapes, options=plain)
            dense_run = dense.run(inputs, keep_values=not plain.residency)
            reference = None
            if plain.residency:  # residency keeps some outputs off DRAM; without it the same bits are all there
                reference = compile_model(args.program, config, strict=args.strict, input_shapes=shapes,
                                          options=replace(plain, residency=False)).run(inputs, keep_values=True)
            sparse_vs_dense = compare(model, run, dense, dense_run, reference)
            run.values.clear()
    except CompileError as e:
        raise CliError(str(e)) from None
    if getattr(args, "race_check", True):
        for k, tl in enumerate(run.timelines):
            races = check_races(tl, limit=1)
            if races:
                raise CliError(f"segment {k}: {races[0]} (a compiler bug: please report it)")
    rows = layers(model, run)
    written = {}
    tl = merged_timeline(model, run)
    if tl is not None and (args.trace or args.plot):
        if args.trace:
            from accel.timing.trace import write_trace

            write_trace(tl, args.trace)
            written["trace"] = args.trace
        if args.plot:
            from accel.timing.gantt import plot_gantt

            plot_gantt(tl, args.plot, title=f"{Path(args.program).name}: {tl.total:,} cycles")
            written["plot"] = args.plot
    for name, file in _pairs(args.outputs, "--out").items():
        if name not in run.outputs:
            raise CliError(f"--out {name}: not an output of the model (outputs: {', '.join(run.outputs)})")
        with open(file, "wb") as f:
            np.save(f, run.outputs[name])
        written[f"output {name}"] = file
    c = model.config
    macs = sum(r.get("macs", 0) for r in rows)
    floor = sum(r.get("roofline_cycles", 0) for r in rows)
    report = {"model": args.program, "total_cycles": run.total_cycles, "host_seconds": run.host_seconds,
              "compile_seconds": model.compile_seconds, "macs": macs,
              "pe_utilization": macs / (c.pe_rows * c.pe_cols * run.total_cycles) if run.total_cycles else 0.0,
              "roofline_cycles": floor, "roofline_ratio": run.total_cycles / floor if floor else None,
              **cost_dict(run.timelines, c), "layers": rows, "placement": model.placement_report(),
              "outputs": {k: {"shape": list(v.shape), "dtype": str(v.dtype)} for k, v in run.outputs.items()},
              **({"sparsity": sparse_vs_dense} if sparse_vs_dense else {}),
              **({"tuning": args.tune_report} if getattr(args, "tune_report", None) else {}), **written}
    if args.json:
        print(json.dumps(report, indent=2, default=float))
        return 0
    print(layer_table(rows))
    print(f"total {run.total_cycles:,} core cycles (roofline {floor:,}, {report['roofline_ratio'] or 0:.2f}x), "
          f"PE utilization {report['pe_utilization']:.1%}, host {run.host_seconds * 1e3:.1f} ms, "
          f"compiled in {model.compile_seconds:.2f} s")
    if sparse_vs_dense:
        print(sparse_table(sparse_vs_dense))
    if getattr(args, "tune_report", None):
        print(tune_text(args.tune_report))
    for what, file in written.items():
        print(f"{what:<14}{file}")
    return 0


def cmd_cache(args: argparse.Namespace) -> int:
    """`accel cache list|stats|prune|clear`: the instruction database."""
    db = open_cache(args, required=True)
    if args.action == "prune":
        out = db.prune(db.limit if args.max_size is None else args.max_size)
        text = (f"{db.path}: {out['entries']} entries and {out['blobs']} blobs deleted, {out['bytes_before']:,} -> "
                f"{out['bytes_after']:,} bytes")
    elif args.action == "clear":
        n = db.clear()
        out: Any = {"cleared": n, "path": str(db.path)}
        text = f"{db.path}: {n} entries deleted"
    elif args.action == "stats":
        out = db.summary()
        kinds = ", ".join(f"{k} {v['entries']}" for k, v in out["kinds"].items())
        text = (f"{out['path']}: {out['entries']} entries ({kinds}; {out['current_version']} of this version "
                f"{out['version']}), {out['hits']} hits recorded, {out['bytes']:,} bytes on disk "
                f"({out['database_bytes']:,} database, {out['blob_bytes']:,} in {out['blobs']} blobs; "
                f"limit {out['limit']:,})")
    else:
        out = db.entries()
        rows = [f"{'kind':<8} {'op':<20} {'version':<16} {'hits':>6} {'bytes':>11}  stored"]
        rows += [f"{e['kind']:<8} {e['op'][:20]:<20} {e['version']:<16} {e['hits']:>6} "
                 f"{e['bytes'] + e.get('blob_bytes', 0):>11,}  "
                 f"{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(e['created']))}" for e in out]
        text = "\n".join(rows)
    db.close()
    print(json.dumps(out, indent=2) if args.json else text)
    return 0
