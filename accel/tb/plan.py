"""How a cocotb test module talks to the Python that launched it: a JSON plan in one environment
variable, a JSON report (one entry per part, merged as parts finish) in a file named by another.

    plan = plan_from_env("ACCEL_RNG_PLAN", SMOKE)       # SMOKE: the plan of a bare `make`-style run
    report_part("ACCEL_RNG_REPORT", "philox", {...})   # no-op when the variable is unset
"""

from __future__ import annotations

import json
import os
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
