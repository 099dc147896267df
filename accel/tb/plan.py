"""How a cocotb test module talks to the Python that launched it: a JSON plan in one environment
variable, a JSON report (one entry per part, merged as parts finish) in a file named by another.

    plan = plan_from_env("ACCEL_RNG_PLAN", SMOKE)       # SMOKE: the plan of a bare `make`-style run
    report_part("ACCEL_RNG_REPORT", "philox", {...})   # no-op when the variable is unset

and, on the launching side, `run_planned` runs the bench with both variables set and reads the report
(every `accel verify` unit launches its bench this way):

    run = run_planned("icarus", "rng_tb", sources("rng_tb"), "test_rng", plan, "ACCEL_RNG_PLAN",
                      "ACCEL_RNG_REPORT", parameters={...})
    run.report, run.seconds, run.error, run.build_seconds

Benches that play a list of programs (rtl/vec_engine.v, act_engine.v, core.v) share the bench side:
`play_plan` is their one cocotb test, `load_program` and `run_until` play one program, `engine_result`
reads an engine bench's counters.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def plan_from_env(var: str, default: dict) -> dict:
    """The JSON plan in environment variable `var`, or `default` when it is unset."""
    return json.loads(os.environ.get(var, "null")) or default


def report_part(var: str, part: str, entry: dict) -> None:
    """Merge `entry` as `part` into the JSON report file named by environment variable `var`."""
    path = os.environ.get(var)
    if not path:
        return
    p = Path(path)
    data = json.loads(p.read_text()) if p.is_file() else {}
    data[part] = entry
    p.write_text(json.dumps(data, indent=1))


@dataclass
class PlannedRun:
    """What `run_planned` gives back: the bench's report, the wall seconds of the whole run, the
    failure text of a bench that failed after writing its report (None when it passed), and the
    seconds its build took (0 when the cached build was used)."""

    report: Any  # the JSON the bench wrote: a dict, or a list for benches that report in order
    seconds: float
    error: str | None
    build_seconds: float = 0.0


def write_report(var: str, report: Any) -> None:
    """Write the whole JSON `report` to the file named by environment variable `var` (no-op when unset)."""
    path = os.environ.get(var)
    if path:
        Path(path).write_text(json.dumps(report, indent=1))


def run_planned(sim: str, toplevel: str, sources: Sequence[str | os.PathLike], test_module: str, plan: dict,
                plan_var: str, report_var: str, extra_env: Mapping[str, object] | None = None,
                **bench_args: Any) -> PlannedRun:
    """Run a bench (accel.tb.runner.run_bench, which gets `bench_args`) with `plan` as JSON in `plan_var`
    and a fresh report file named in `report_var` (besides `extra_env`). A bench that fails after writing
    its report returns the failure as the error; one that fails before (it did not build, or crashed)
    raises BenchFailure."""
    from accel.tb.runner import BenchFailure, run_bench

    with tempfile.TemporaryDirectory(prefix="accel-report-") as tmp:
        report_path = Path(tmp) / "report.json"
        env = {**(extra_env or {}), plan_var: json.dumps(plan), report_var: str(report_path)}
        t0 = time.perf_counter()
        error, build_seconds = None, 0.0
        try:
            build_seconds = run_bench(sim, toplevel, list(sources), test_module, extra_env=env,
                                      **bench_args).build_seconds
        except BenchFailure as e:
            if not report_path.is_file():
                raise
            error = str(e)
        return PlannedRun(json.loads(report_path.read_text()), time.perf_counter() - t0, error, build_seconds)


# ---- the bench side of a plan of programs (sim/test_vec_engine.py, test_act_engine.py, test_core.py)

def value(sig: Any) -> int:
    """A cocotb signal's value as an unsigned integer (a LogicArray, or a Logic for one bit)."""
    v = sig.value
    return int(v.to_unsigned()) if hasattr(v, "to_unsigned") else int(v)


async def load_program(dut: Any, entry: dict, files: Sequence[str]) -> None:
    """Copy a plan entry's files from its folder ("dir") into the working folder, then hold `rst` while
    the bench's `load` pulse reads them (`nprog` = the entry's word count), and release `rst` on a
    falling edge: the next rising edge is the program's clock 0."""
    import shutil

    from cocotb.triggers import FallingEdge

    here, src = Path.cwd(), Path(entry["dir"])
    for name in files:
        shutil.copyfile(src / name, here / name)
    await FallingEdge(dut.clk)
    dut.rst.value = 1
    dut.nprog.value = entry["nprog"]
    dut.load.value = 1
    await FallingEdge(dut.clk)
    dut.load.value = 0
    await FallingEdge(dut.clk)
    dut.rst.value = 0


async def run_until(dut: Any, done: Any, max_cycles: int, step: int) -> float:
    """Clock until `done` is high or `max_cycles` have passed, looking every `step` clocks (Python
    wakes rarely); the wall seconds it took."""
    from cocotb.triggers import ClockCycles

    t0 = time.perf_counter()
    waited = 0
    while not value(done) and waited < max_cycles:
        await ClockCycles(dut.clk, step)
        waited += step
    return time.perf_counter() - t0


async def play_plan(dut: Any, plan_var: str, report_var: str, play: Any, ok: Any, runner: str,
                    idle: Mapping[str, int] | None = None) -> None:
    """The bench's one cocotb test: reset held and the clock started (signals in `idle` set too), then
    `await play(dut, entry)` for every program of the plan in `plan_var`, the list of results written
    to `report_var` after each; fails naming the programs whose result `ok` rejects."""
    from accel.tb.clock import start_clock

    plan = plan_from_env(plan_var, {})
    assert plan, f"{plan_var} is not set: run this bench through {runner}"
    for name, v in {"rst": 1, "load": 0, "nprog": 0, **(idle or {})}.items():
        getattr(dut, name).value = v
    start_clock(dut.clk)
    results = []
    for entry in plan["programs"]:
        results.append(await play(dut, entry))
        write_report(report_var, results)
    bad = [r["name"] for r in results if not ok(r)]
    assert not bad, f"programs that did not finish or differ: {bad}"


def engine_result(dut: Any, entry: dict, seconds: float, final: str) -> dict:
    """A program's result on an engine bench that checks its final image itself (sim/vec_engine_tb.v,
    sim/act_engine_tb.v): done, cycles, retired, mismatches (with the first one's byte, got, want and
    instruction); the final image file goes back to the entry's folder."""
    import shutil

    out = {"name": entry["name"], "done": bool(value(dut.done)), "cycles": value(dut.cycles),
           "retired": value(dut.retired), "mismatches": value(dut.mismatches), "seconds": seconds}
    if out["done"]:
        shutil.copyfile(Path.cwd() / final, Path(entry["dir"]) / final)
    if out["done"] and out["mismatches"]:
        out.update(first_byte=value(dut.first_bad_byte), first_got=value(dut.first_got),
                   first_want=value(dut.first_want), first_pc=value(dut.first_pc))
    return out
