"""How a cocotb test module talks to the Python that launched it: a JSON plan in one environment
variable, a JSON report (one entry per part, merged as parts finish) in a file named by another.

    plan = plan_from_env("ACCEL_RNG_PLAN", SMOKE)       # SMOKE: the plan of a bare `make`-style run
    report_part("ACCEL_RNG_REPORT", "philox", {...})   # no-op when the variable is unset

and, on the launching side, `run_planned` runs the bench with both variables set and reads the report.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path


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


def run_planned(sim: str, toplevel: str, sources: Sequence[str | os.PathLike], test_module: str, plan: dict,
                plan_var: str, report_var: str, **bench_args: object) -> tuple[dict, float, str | None]:
    """Run a bench (accel.tb.runner.run_bench) with `plan` in `plan_var` and a fresh report file named
    in `report_var`: (report, seconds, error text or None). A bench that fails after writing its report
    returns the failure as the error; one that fails before raises BenchFailure."""
    from accel.tb.runner import BenchFailure, run_bench

    with tempfile.TemporaryDirectory(prefix="accel-report-") as tmp:
        report_path = Path(tmp) / "report.json"
        env: dict[str, object] = {plan_var: json.dumps(plan), report_var: str(report_path)}
        t0 = time.perf_counter()
        error = None
        try:
            run_bench(sim, toplevel, sources, test_module, extra_env=env, **bench_args)
        except BenchFailure as e:
            if not report_path.is_file():
                raise
            error = str(e)
        return json.loads(report_path.read_text()), time.perf_counter() - t0, error
