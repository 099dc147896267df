"""`accel verify UNIT`: run one unit's RTL against the model on Icarus and/or Verilator.

Each unit is a module with `add_arguments(parser)` (its own options) and `run(args) -> dict`
(keys unit, sim, vectors, mismatches, vectors_per_s, seconds). `main` owns the common options
(--sim, --vectors, --seed, --json), calls `run` once per simulator with `args.sim` set to it,
and prints one line per simulator, or JSON.

Exit status: 0 when every requested simulator ran without a mismatch, 1 on a mismatch or a
bench that failed to run, 2 when a simulator or the unit is unavailable (nothing failed).

    accel verify decoder --sim both --vectors 100000 --seed 3
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

from accel.tb.runner import SIMULATORS, BenchFailure, simulator_available

# Every accel/tb/verify_<unit>.py is a unit: adding a unit's module is all it takes to register it.
UNITS = {p.stem.removeprefix("verify_"): f"accel.tb.{p.stem}"
         for p in sorted(Path(__file__).parent.glob("verify_*.py"))}
COMMON = {"--sim", "--vectors", "--seed", "--json", "-h", "--help"}


def unit_available(unit: str) -> bool:
    return importlib.util.find_spec(UNITS[unit]) is not None


class _UnitOptions:
    """What a unit's add_arguments sees: the parser, minus options main already defines."""

    def __init__(self, parser: argparse.ArgumentParser):
        self._parser = parser

    def add_argument(self, *flags: str, **kwargs: Any) -> argparse.Action | None:
        if COMMON & set(flags):
            return None
        return self._parser.add_argument(*flags, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._parser, name)


def _parser() -> argparse.ArgumentParser:
    units = ", ".join(f"{u}{'' if unit_available(u) else ' (unavailable)'}" for u in UNITS)
    p = argparse.ArgumentParser(prog="accel verify", description=__doc__.split("\n\n")[0],
                                epilog=f"units: {units}")
    p.add_argument("unit", nargs="?", help="unit to verify")
    p.add_argument("--sim", choices=[*SIMULATORS, "both"], default="both",
                   help="simulator (default: both)")
    p.add_argument("--vectors", type=int, default=None,
                   help="random vectors (default: the unit's volume for the simulator)")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument("--json", action="store_true", help="print a JSON list instead of lines")
    return p


def summary_line(r: dict) -> str:
    """'decoder  verilator  vectors=100000  mismatches=0  vectors/s=70000  seconds=25.1'"""
    seconds = r.get("seconds", r.get("wall_s", 0.0))
    return (f"{r['unit']:<8} {r['sim']:<9}  vectors={r['vectors']}  mismatches={r['mismatches']}"
            f"  vectors/s={r['vectors_per_s']:.0f}  seconds={seconds:.1f}")


def main(argv: list[str] | None = None) -> int:
    """Entry point of `accel verify`; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    first, _ = parser.parse_known_args([a for a in argv if a not in ("-h", "--help")])
    if first.unit is None:
        parser.print_help()
        return 0 if {"-h", "--help"} & set(argv) else 2
    if first.unit not in UNITS:
        print(f"accel verify: unknown unit {first.unit!r}; {parser.epilog}", file=sys.stderr)
        return 2
    if not unit_available(first.unit):
        print(f"{first.unit:<8} unavailable: module {UNITS[first.unit]} is not installed")
        return 2
    unit = importlib.import_module(UNITS[first.unit])
    parser.description = (unit.__doc__ or "").split("\n\n")[0]
    unit.add_arguments(_UnitOptions(parser))
    args = parser.parse_args(argv)

    results, failed, unavailable = [], False, False
    for sim in SIMULATORS if args.sim == "both" else (args.sim,):
        ok, why = simulator_available(sim)
        if not ok:
            print(f"{args.unit:<8} {sim:<9}  unavailable: {why}")
            unavailable = True
            continue
        args.sim = sim
        try:
            r = unit.run(args)
        except BenchFailure as e:
            print(f"{args.unit:<8} {sim:<9}  error: {e}", file=sys.stderr)
            failed = True
            continue
        results.append(r)
        failed = failed or bool(r["mismatches"] or r.get("error"))
        if not args.json:
            print(summary_line(r))
            if r.get("error"):
                print(r["error"], file=sys.stderr)
    if args.json:
        print(json.dumps(results, indent=1))
    return 1 if failed else 2 if unavailable else 0
