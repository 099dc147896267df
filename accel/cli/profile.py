"""`accel profile PROG`: where a program's cycles go, as a table (like the Neuron profiler's summary);
and the options `accel run` and `accel profile` share (--trace, --plot, --no-race-check).

The numbers are accel.timing.report.summary's; this module adds the two rankings a person reads
first: the instructions (by source line) that spent the most cycles on their engines, and the
waits (by waiting instruction) that held engines longest, with what released them.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np


class TimingOutputError(ValueError):
    """A --trace or --plot file name the run cannot write."""


def add_timing_outputs(p: argparse.ArgumentParser) -> None:
    """--trace and --plot, for run and profile."""
    p.add_argument("--trace", metavar="OUT.pftrace|OUT.json",
                   help="write the timeline for ui.perfetto.dev: Perfetto protobuf or Chrome trace-event JSON")
    p.add_argument("--plot", metavar="OUT.png", help="save a Gantt chart of the timeline (.png, .svg, .pdf)")


def add_race_check(p: argparse.ArgumentParser) -> None:
    """--no-race-check, for run and profile."""
    p.add_argument("--no-race-check", dest="race_check", action="store_false",
                   help="skip the race checker (docs/race_checker.md), which by default makes a program whose "
                        "result depends on timing an error and warns of reads of bytes nothing wrote")


def check_timing_outputs(args: argparse.Namespace) -> None:
    """The --trace and --plot names, checked before anything runs."""
    from matplotlib.figure import Figure

    from accel.timing.trace import FORMATS

    plots = sorted(Figure().canvas.get_supported_filetypes())
    for flag, name, allowed in (("--trace", args.trace, FORMATS), ("--plot", args.plot, tuple(f".{x}" for x in plots))):
        if name is None:
            continue
        p = Path(name)
        if p.suffix.lower() not in allowed:
            raise TimingOutputError(f"{flag} {name}: the file name must end in {', '.join(allowed)}")
        if p.is_dir():
            raise TimingOutputError(f"{flag} {name}: is a directory")
        if not p.parent.is_dir():
            raise TimingOutputError(f"{flag} {name}: folder {p.parent} does not exist")


def write_timing_outputs(args: argparse.Namespace, timeline: Any, summary: dict[str, Any]) -> dict[str, str]:
    """Write --trace and --plot (the Gantt chart with the critical path outlined); what was written."""
    from accel.timing.gantt import plot_gantt
    from accel.timing.trace import write_trace

    out = {}
    if args.trace:
        write_trace(timeline, args.trace)
        out["trace"] = args.trace
    if args.plot:
        plot_gantt(timeline, args.plot, critical_path=summary["critical_path"],
                   title=f"{timeline.program.source_name or 'program'}: {summary['total_cycles']:,} cycles, "
                         f"{summary['bound']}")
        out["plot"] = args.plot
    return out


def _place(tl: Any, i: int) -> tuple[str, str]:
    """(file:line or '#i', source text) of instruction i: the key instructions are grouped by."""
    from accel.timing.tracks import text

    ins = tl.program.instructions[i]
    return ins.where() or f"#{i}", text(tl, i)


def top_instructions(tl: Any, top: int) -> list[dict[str, Any]]:
    """The source lines whose instructions were longest in flight (end - start, summed), longest first."""
    from accel.timing.timeline import ENGINES

    cycles: dict[tuple, int] = defaultdict(int)
    count: dict[tuple, int] = defaultdict(int)
    engine: dict[tuple, str] = {}
    span = (tl.end - tl.start).tolist()
    for i in range(len(tl)):
        key = _place(tl, i)
        cycles[key] += span[i]
        count[key] += 1
        engine[key] = ENGINES[tl.engine[i]]
    ranked = sorted(cycles, key=lambda k: -cycles[k])[:top]
    return [{"where": k[0], "source": k[1], "engine": engine[k], "count": count[k], "cycles": cycles[k],
             "share": cycles[k] / tl.total if tl.total else 0.0} for k in ranked]


def top_waits(tl: Any, top: int) -> list[dict[str, Any]]:
    """The instructions (by source line) whose engines stood longest at a queue head held by a
    semaphore or a resource (head .. start), with what they waited for and what released them."""
    from accel.timing.timeline import DMA_QUEUE, ENGINES, HELD, PSUM_BANK, SEMAPHORE
    from accel.timing.tracks import label

    held = np.flatnonzero(np.isin(tl.reason, HELD) & (tl.head < tl.start))
    cycles: dict[tuple, int] = defaultdict(int)
    count: dict[tuple, int] = defaultdict(int)
    by: dict[tuple, dict[str, None]] = defaultdict(dict)
    engine: dict[tuple, str] = {}
    for i in held.tolist():
        ins = tl.program.instructions[i]
        r = int(tl.reason[i])
        what = (f"semaphore s{ins.ops['sem']}" if r == SEMAPHORE else "PSUM bank" if r == PSUM_BANK
                else "DMA queue" if r == DMA_QUEUE else "ACT interlock")
        key = (*_place(tl, i), what)
        cycles[key] += int(tl.start[i] - tl.head[i])
        count[key] += 1
        engine[key] = ENGINES[tl.engine[i]]
        releasers = tl.released(i).tolist() if r == SEMAPHORE else []
        for j in releasers or [int(tl.blocker[i])]:
            if j >= 0:
                by[key][label(tl, j)] = None
    ranked = sorted(cycles, key=lambda k: -cycles[k])[:top]
    return [{"where": k[0], "source": k[1], "engine": engine[k], "waited_for": k[2], "count": count[k],
             "cycles": cycles[k], "released_by": list(by[k])} for k in ranked]


def profile(tl: Any, summary: dict[str, Any], top: int) -> dict[str, Any]:
    """What `accel profile --json` prints: the summary and the two rankings."""
    return {"timing": summary, "top_instructions": top_instructions(tl, top), "top_waits": top_waits(tl, top)}


def _pct(part: float, whole: float) -> str:
    return f"{part / whole:6.1%}" if whole else "     -"


def _cut(s: str, width: int) -> str:
    return s if len(s) <= width else s[:width - 3] + "..."


def _cut_left(s: str, width: int) -> str:
    """A file:line kept by its end (the file name and the line), cut at the front."""
    return s if len(s) <= width else "..." + s[len(s) - width + 3:]


def format_profile(data: dict[str, Any], program: str) -> str:
    """The profile as tables for a person."""
    s = data["timing"]
    total = s["total_cycles"]
    lines = [f"{program}: {total:,} cycles", f"bound: {s['bound_detail']}", ""]
    lines.append(f"{'engine':<7}{'instr':>7}{'busy':>12}{'':>7}{'sem wait':>12}{'':>7}{'resource wait':>14}{'':>7}"
                 f"{'idle':>12}{'':>7}")
    for name, e in s["engines"].items():
        lines.append(f"{name:<7}{e['instructions']:>7,}" + "".join(
            f"{e[k]:>{w},} {_pct(e[k], total)}" for k, w in (("busy", 12), ("semaphore_wait", 12),
                                                               ("resource_wait", 14), ("idle", 12))))
    d, pe = s["dma"], s["pe"]
    lines += ["", f"DMA    {d['bytes']:,} bytes, {d['bytes_per_cycle']:.2f} bytes/cycle of {d['peak_bytes_per_cycle']} "
                  f"peak ({_pct(d['bytes_per_cycle'], d['peak_bytes_per_cycle']).strip()}), DRAM port busy "
                  f"{d['port_busy_cycles']:,} cycles, at least {d['lower_bound_cycles']:,} cycles at peak",
              f"PE     {pe['macs']:,} MACs, utilization {pe['utilization']:.1%}",
              "critical path  " + f"{len(s['critical_path'])} instructions: " + ", ".join(
                  f"{k} {v:,}" for k, v in s["critical_path_cycles"].items() if v) + " cycles"]
    lines += ["", "top instructions by time (cycles in flight on their engine)",
              f"  {'cycles':>10} {'share':>6} {'count':>6}  {'engine':<6} {'where':<26} instruction"]
    for t in data["top_instructions"]:
        lines.append(f"  {t['cycles']:>10,} {t['share']:>6.1%} {t['count']:>6,}  {t['engine']:<6} "
                     f"{_cut_left(t['where'], 26):<26} {_cut(t['source'], 60)}")
    lines += ["", "top waits (cycles an engine stood at this instruction, held)"]
    if not data["top_waits"]:
        lines.append("  none")
    else:
        lines.append(f"  {'cycles':>10} {'count':>6}  {'engine':<6} {'waited for':<14} {'where':<26} released by")
    for w in data["top_waits"]:
        released = ", ".join(w["released_by"][:3]) + (" ..." if len(w["released_by"]) > 3 else "")
        lines.append(f"  {w['cycles']:>10,} {w['count']:>6,}  {w['engine']:<6} {w['waited_for']:<14} "
                     f"{_cut_left(w['where'], 26):<26} {released}")
    return "\n".join(lines)
