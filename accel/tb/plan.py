"""How a cocotb test module talks to the Python that launched it: a JSON plan in one environment
variable, a JSON report (one entry per part, merged as parts finish) in a file named by another.

    plan = plan_from_env("ACCEL_RNG_PLAN", SMOKE)       # SMOKE: the plan of a bare `make`-style run
    report_part("ACCEL_RNG_REPORT", "philox", {...})   # no-op when the variable is unset

and, on the launching side, `run_planned` runs the bench with both variables set and reads the report
(every `accel verify` unit launches its bench this way):

    run = run_planned("icarus", "rng_tb", sources("rng_tb"), "test_rng", plan, "ACCEL_RNG_PLAN",
                      "ACCEL_RNG_REPORT", parameters={...})
    run.report, run.seconds, run.error, run.build_seconds
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
