"""`accel sweep SPEC.toml`: a design-space sweep (docs/sweep.md) from the command line: the results
as a table (or --json), a CSV (-o), the Pareto plots (--plot) and heat maps (--heatmap)."""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path
from typing import Any

METRICS = ("cycles", "pe_utilization", "area_mm2", "energy_uj", "dram_bytes")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("spec", metavar="SPEC.toml", help="the sweep: models, [core] fields, [vary] fields (docs/sweep.md)")
    p.add_argument("-o", "--output", metavar="results.csv", help="write every point's record as CSV")
    p.add_argument("--plot", metavar="pareto.png", help="Pareto front of cycles vs area and vs energy")
    p.add_argument("--heatmap", action="append", default=[], metavar="METRIC:X:Y=out.png",
                   help="heat map of METRIC over varied fields X and Y (repeatable)")
    p.add_argument("--workers", type=int, help="local worker processes (default: the CPU count)")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="run the points on this Dask scheduler")
    p.add_argument("--cache", metavar="DIR", help="per-point result cache (default: SPEC.cache beside the spec)")
    p.add_argument("--no-cache", action="store_true", help="run every point again and keep no results")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    p.add_argument("--json", action="store_true", help="machine-readable records on stdout")


def _heatmaps(items: list[str], vary: list[str]) -> list[tuple[str, str, str, str]]:
    from accel.cli import CliError

    out = []
    for item in items:
        spec, sep, file = item.partition("=")
        parts = spec.split(":")
        if not sep or not file or len(parts) != 3:
            raise CliError(f"--heatmap {item!r}: expected METRIC:X:Y=out.png")
        metric, x, y = parts
        if metric not in METRICS and not metric.startswith(("area_", "energy_")):
            raise CliError(f"--heatmap {item!r}: metric {metric!r}; choose one of {', '.join(METRICS)} "
                           "(or an area_*/energy_* component)")
        for axis in (x, y):
            if axis not in vary:
                raise CliError(f"--heatmap {item!r}: {axis!r} is not a varied field (the spec varies "
                               f"{', '.join(vary) or 'nothing'})")
        out.append((metric, x, y, file))
    return out


def _check_folder(flag: str, file: str | None) -> None:
    from accel.cli import CliError

    if file and not Path(file).resolve().parent.is_dir():
        raise CliError(f"{flag} {file}: folder {Path(file).parent} does not exist")


def write_csv(records: list[dict[str, Any]], path: str) -> None:
    """Every record as a CSV row, the union of the records' columns (failed points leave figures empty)."""
    cols = list(dict.fromkeys(k for r in records for k in r))
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols)
        w.writeheader()
        w.writerows(records)


def table(records: list[dict[str, Any]], vary: list[str]) -> str:
    """The records for a person: model, parameters, cycles, bound, utilization, area, energy."""
    head = ["model", *vary, "cycles", "bound", "PE util", "mm2", "uJ", "DRAM MB"]
    rows = []
    for r in records:
        if r.get("error"):
            rows.append([r["model"], *(str(r.get(k, "")) for k in vary), f"error: {r['error']}"])
            continue
        rows.append([r["model"], *(str(r[k]) for k in vary), f"{r['cycles']:,}", r["bound"],
                     f"{r['pe_utilization']:.1%}", f"{r['area_mm2']:.1f}", f"{r['energy_uj']:.2f}",
                     f"{r['dram_bytes'] / 1e6:.2f}"])
    full = [x for x in [head, *rows] if len(x) == len(head)]
    widths = [min(max(len(x[i]) for x in full), 40) for i in range(len(head))]
    lines = ["  ".join(c if i == len(x) - 1 else c[:widths[i]].ljust(widths[i]) for i, c in enumerate(x)).rstrip()
             for x in [head, *rows]]
    return "\n".join(lines)


def cmd_sweep(args: argparse.Namespace) -> int:
    from accel.cli import CliError
    from accel.sweep import SpecError, load_spec, plot_heatmap, plot_pareto, run_sweep

    try:
        spec = load_spec(args.spec)
    except SpecError as e:
        raise CliError(str(e)) from None
    if args.workers is not None and args.workers < 1:
        raise CliError(f"--workers {args.workers}: at least 1")
    if args.scheduler and args.workers:
        raise CliError("--workers sizes the local pool; with --scheduler the cluster's workers run the points")
    heatmaps = _heatmaps(args.heatmap, spec.vary)
    for flag, file in (("-o", args.output), ("--plot", args.plot), *(("--heatmap", h[3]) for h in heatmaps)):
        _check_folder(flag, file)
    cache = None if args.no_cache else args.cache or str(Path(args.spec).with_suffix(".cache"))
    try:
        records = run_sweep(spec, cache=cache, workers=args.workers, scheduler=args.scheduler,
                            progress=not args.no_progress)
    except (OSError, TimeoutError, RuntimeError) as e:  # no scheduler there, or Dask not installed
        where = f"scheduler {args.scheduler}: " if args.scheduler else ""
        raise CliError(f"{where}{e}") from None
    except ValueError as e:  # a zoo model's arguments
        raise CliError(f"{args.spec}: {e}") from None
    written = {}
    if args.output:
        write_csv(records, args.output)
        written["csv"] = args.output
    ok = [r for r in records if not r.get("error")]
    if args.plot and ok:
        plot_pareto(records, args.plot, title=f"{Path(args.spec).name}: cycles against area and energy")
        written["plot"] = args.plot
    for metric, x, y, file in heatmaps:
        if ok:
            plot_heatmap(records, metric, x, y, file)
            written[f"heatmap {metric}"] = file
    failed = len(records) - len(ok)
    if args.json:
        print(json.dumps({"spec": args.spec, "points": len(records), "failed": failed, "cache": cache,
                          "records": records, **written}, indent=2))
        return 0
    print(table(records, spec.vary))
    print(f"{len(records)} points ({failed} failed){f', cache {cache}' if cache else ''}")
    for what, file in written.items():
        print(f"{what + ':':<16}{file}")
    return 0
