"""`accel lut build` and `accel lut report`: build tables, report their measured accuracy."""

from __future__ import annotations

import argparse
import importlib
import json
from pathlib import Path

import numpy as np


class LutCliError(Exception):
    """A user error of `accel lut`: printed as one line."""


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The `lut` subcommands."""
    sub = p.add_subparsers(dest="lut_command", required=True, metavar="ACTION")
    b = sub.add_parser("build", help="build a table: the built-in ROM images, or a user function's image")
    b.add_argument("--builtins", action="store_true", help="regenerate rtl/mem/lut_<name>.hex for every built-in")
    b.add_argument("--expr", help="user function as a NumPy expression in x, e.g. 'np.sin(x) * np.exp(-x)'")
    b.add_argument("--func", metavar="MODULE:NAME", help="user function: a float64 NumPy callable to import")
    b.add_argument("--lo", type=float, help="lower end of the input range")
    b.add_argument("--hi", type=float, help="upper end of the input range")
    b.add_argument("--degree", type=int, help="polynomial degree (default: smallest that meets the target)")
    b.add_argument("--segments", type=int, help="segments per binade, a power of two (default: chosen)")
    b.add_argument("--name", default="user", help="name recorded in the report")
    b.add_argument("-o", "--output", help="image file (.hex) for a user function; directory for --builtins")
    r = sub.add_parser("report", help="max error in ulps and absolute terms of each built-in function")
    r.add_argument("--fn", dest="functions", action="append", metavar="NAME",
                   help="function name (repeatable; default: all built-ins)")
    r.add_argument("--samples", type=int, default=100_000, help="random fp32 inputs per function (default 1e5)")
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--plot", metavar="PNG", help="save error plots (fp32 ulps over every bf16 input)")
    r.add_argument("--json", action="store_true", help="machine-readable report")


def _user_callable(args: argparse.Namespace):
    if bool(args.expr) == bool(args.func):
        raise LutCliError("give exactly one of --builtins, --expr or --func")
    if args.lo is None or args.hi is None:
        raise LutCliError("a user function needs --lo and --hi")
    if args.expr:
        try:
            code = compile(args.expr, "<expr>", "eval")
        except SyntaxError as e:
            raise LutCliError(f"--expr is not a Python expression: {e.msg}") from None
        return lambda x: eval(code, {"np": np, "x": x})  # noqa: S307 - the user's own expression
    mod, _, attr = args.func.partition(":")
    try:
        return getattr(importlib.import_module(mod), attr)
    except (ImportError, AttributeError, ValueError) as e:
        raise LutCliError(f"cannot import {args.func}: {e}") from None


def build(args: argparse.Namespace) -> int:
    from accel.tools import lut_accuracy, lut_build

    if args.builtins:
        out = Path(args.output) if args.output else None
        paths = lut_build.write_builtins(out) if out else lut_build.write_builtins()
        print(f"wrote {len(paths)} table images to {paths[0].parent}")
        return 0
    fn = _user_callable(args)
    try:
        with np.errstate(all="ignore"):
            f = lut_build.user_function(fn, args.lo, args.hi, args.degree, args.segments, name=args.name)
    except (ValueError, TypeError, NameError, SyntaxError) as e:
        raise LutCliError(str(e)) from None
    x = np.random.default_rng(0).uniform(args.lo, args.hi, 100_000).astype(np.float32).view(np.uint32)
    floor = lut_build.user_floor(fn, args.lo, args.hi)
    with np.errstate(all="ignore"):
        e = lut_accuracy.errors(args.name, x, f, fn, lut_accuracy.Domain(args.lo, args.hi, 0.0, floor))
    out = Path(args.output or f"{args.name}.hex")
    lut_build.write_image(out, f)
    t = f.tables[0]
    print(f"{out}: {f.image().size} words, degree {t.degree}, {1 << t.mbits} segments per binade, "
          f"binades 2^{t.emin - 127}..2^{t.emax - 126}; max error on 1e5 random inputs: "
          f"{e.ulp32[e.in_domain].max(initial=0):.3f} ulp where |f| >= {floor:.3g}, {e.abs32.max():.3g} absolute")
    print(f"load it with: act.lut.load sb[0:1, OFF]:int32[{f.image().size}], fn=16")
    return 0


def report_data(names: list[str], samples: int, seed: int) -> dict[str, dict]:
    """Per function: domain, table size and the measured maxima (bf16 exhaustive, fp32 random)."""
    from accel.model import lut
    from accel.tools import lut_accuracy as acc

    out = {}
    with np.errstate(all="ignore"):
        for name in names:
            d = acc.DOMAINS[name]
            b16 = acc.summary(acc.errors(name, acc.bf16_inputs()))
            r32 = acc.summary(acc.errors(name, acc.random_inputs(name, samples, seed)))
            out[name] = {
                "domain": [d.lo if np.isfinite(d.lo) else None, d.hi if np.isfinite(d.hi) else None],
                "abs_bound_outside": d.abs_bound,
                "table_words": int(lut.builtin(name).image().size),
                "bf16_exhaustive": b16,
                "fp32_random": r32,
            }
    return out


def _plot(names: list[str], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from accel.tools import lut_accuracy as acc

    cols = 4
    rows = (len(names) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 2.8 * rows), squeeze=False)
    with np.errstate(all="ignore"):
        for ax, name in zip(axes.flat, names, strict=False):
            e = acc.errors(name, acc.bf16_inputs())
            ok = e.in_domain & np.isfinite(e.ulp32) & (np.abs(e.x) < 1e4)
            ax.plot(e.x[ok], e.ulp32[ok], ".", ms=1)
            ax.set_title(f"{name}: max {e.ulp32[ok].max():.2f} ulp")
            ax.set_xscale("symlog", linthresh=1e-3)
    for ax in list(axes.flat)[len(names):]:
        ax.set_visible(False)
    fig.supxlabel("x (every bf16 input in the domain)")
    fig.supylabel("fp32 error (ulp)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def report(args: argparse.Namespace) -> int:
    from accel.model import lut

    names = args.functions or list(lut.BUILTINS)
    unknown = [n for n in names if n not in lut.BUILTINS]
    if unknown:
        raise LutCliError(f"unknown function {unknown[0]!r} (have {', '.join(lut.BUILTINS)})")
    if args.samples < 1:
        raise LutCliError("--samples must be positive")
    data = report_data(names, args.samples, args.seed)
    if args.plot:
        _plot(names, args.plot)
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    print(f"{'function':11s} {'domain':>22s} {'words':>6s} {'bf16 ulp':>9s} {'fp32 ulp':>9s} {'abs |f|<=1':>10s} "
          f"{'abs outside':>11s}")
    for name, d in data.items():
        lo, hi = (f"{v:g}" if v is not None else inf for v, inf in zip(d["domain"], ("-inf", "inf"), strict=True))
        dom = f"[{lo}, {hi}]"
        b16, r32 = d["bf16_exhaustive"], d["fp32_random"]
        print(f"{name:11s} {dom:>22s} {d['table_words']:6d} {b16['bf16_ulp']:9.3f} "
              f"{max(b16['fp32_ulp'], r32['fp32_ulp']):9.3f} {max(b16['abs_small'], r32['abs_small']):10.3g} "
              f"{max(b16['abs_outside_domain'], r32['abs_outside_domain']):11.3g}")
    print(f"bf16: all 65,536 inputs; fp32: those plus {args.samples} random inputs per function")
    return 0


def main(args: argparse.Namespace) -> int:
    """Entry point of `accel lut`; user errors raise LutCliError (one line)."""
    try:
        return build(args) if args.lut_command == "build" else report(args)
    except OSError as e:
        raise LutCliError(str(e)) from None
