"""Tuning by simulation (issue 14 part 5, accel.compiler.tune) against the default heuristics.

Per model: compile_tuned into a fresh instruction database (cold: every layer with a choice is
simulated), then again into the same one (warm: the choices come from the database); the whole
model's cycles by the timing model with the heuristics' lowerings and with the tuned ones, which
was kept, the layers whose choice changed, and the seconds of each compile and of simulation.

    PYTHONPATH=. python benchmarks/bench_tune.py                       # the zoo at 224 + transformer
    PYTHONPATH=. python benchmarks/bench_tune.py --models resnet50 --sparse --json out.json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from accel.compiler.cache import InstructionCache
from accel.compiler.plan import Options
from accel.compiler.tune import compile_tuned

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_models import build  # noqa: E402
from bench_opt import table  # noqa: E402

MODELS = ("resnet50", "vgg19", "alexnet", "squeezenet", "inception_v1", "transformer")


def bench(name: str, size: int, options: Options) -> dict[str, Any]:
    model = build(name, size)
    out: dict[str, Any] = {"model": name, "size": size}
    with tempfile.TemporaryDirectory() as folder:
        for label in ("cold", "warm"):
            t0 = time.perf_counter()
            _, rep = compile_tuned(model, options=options, cache=InstructionCache(folder), progress=False)
            out[label] = {**rep, "seconds": round(time.perf_counter() - t0, 2)}
    return out


def report(r: dict[str, Any]) -> str:
    c, w = r["cold"], r["warm"]
    gain = c["default_cycles"] / c["tuned_cycles"]
    lines = [f"{r['model']} at {r['size']}: heuristics {c['default_cycles']:,} cycles, tuned {c['tuned_cycles']:,} "
             f"({gain:.3f}x), kept {c['kept']}; {len(c['layers'])} layers with a choice, {len(c['changed'])} changed; "
             f"cold {c['seconds']} s ({c['simulated_seconds']} s simulating), warm {w['seconds']} s "
             f"({w['cached']} of {len(w['layers'])} choices from the database)"]
    for cand in c["candidates"]:
        lines.append(f"  whole model with {len(cand['tuned'])} choices: {cand['cycles']:,} cycles")
    for row in c["layers"]:
        if row["choice"] != row["default"]:
            cyc = ", ".join(f"{a} {n:,}" for a, n in row["cycles"].items())
            lines.append(f"  {row['node']:<10} {row['op']:<7} {cyc} -> {row['choice']}")
    return "\n".join(lines)


def table_rows(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """bench_opt.table's rows: heuristics and tuned cycles, what changed, the compile seconds."""
    out = []
    for r in results:
        c, w = r["cold"], r["warm"]
        tiles = sum("/" in v for v in c["applied"].values())
        out.append({"model": r["model"], "size": r["size"],
                    "cycles": {"heuristics": c["default_cycles"], "tuned": c["tuned_cycles"]},
                    "extra": {"kept": c["kept"],
                              "layers with a choice / changed / applied (tiles)":
                                  f"{len(c['layers'])} / {len(c['changed'])} / {len(c['applied'])} ({tiles})",
                              "cold / warm compile s (simulating)":
                                  f"{c['seconds']} / {w['seconds']} ({c['simulated_seconds']})"}})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--sparse", action="store_true", help="with --sparsity 2:4,4:8 --target 0.5 (sparse or dense)")
    ap.add_argument("--json")
    args = ap.parse_args()
    options = Options(sparsity=((2, 4), (4, 8)), sparsity_target=0.5) if args.sparse else Options()
    results = []
    for name in args.models.split(","):
        r = bench(name, args.size, options)
        print(report(r), flush=True)
        results.append(r)
    print(table(table_rows(results), ("heuristics", "tuned"), extras=tuple(table_rows(results)[0]["extra"])))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
