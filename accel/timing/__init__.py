"""One clock for every engine: the cost model, the schedule, the race checker and the traces.

    from accel.timing import schedule, summary, check_races, plot_gantt, write_trace
    timeline = schedule(program, config)     # every instruction's start and end (docs/timing.md)
    summary(timeline)["bound"]              # total cycles, per-engine time, critical path, bound
    check_races(timeline)                   # unordered accesses (docs/race_checker.md)
    plot_gantt(timeline, "gantt.png"); write_trace(timeline, "run.pftrace")   # docs/profiling.md

No instruction's time depends on data, so the schedule needs only the program and the config.
"""

from typing import Any

from accel.timing.race import Race, RaceError, check_races
from accel.timing.report import summary
from accel.timing.schedule import schedule
from accel.timing.timeline import Timeline

__all__ = ["Race", "RaceError", "Timeline", "check_races", "plot_gantt", "schedule", "summary", "write_trace"]


def __getattr__(name: str) -> Any:
    """plot_gantt and write_trace load matplotlib / perfetto only when first used."""
    if name == "plot_gantt":
        from accel.timing.gantt import plot_gantt

        return plot_gantt
    if name == "write_trace":
        from accel.timing.trace import write_trace

        return write_trace
    raise AttributeError(f"module 'accel.timing' has no attribute {name!r}")
