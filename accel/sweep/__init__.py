"""Design-space sweeps (docs/sweep.md): models x CoreConfig points, each compiled and timed, with area
and energy beside cycles; on a local process pool or a Dask cluster, cached per point.

    from accel.sweep import load_spec, run_sweep, pareto_front
    spec = load_spec("sweep.toml")
    records = run_sweep(spec, cache="sweep.cache", workers=2)     # or scheduler="tcp://host:8786"
    front = pareto_front(records, "area_mm2", "cycles")
"""

from accel.sweep.pareto import heatmap_table, pareto_front, plot_heatmap, plot_pareto
from accel.sweep.runner import run_point, run_sweep
from accel.sweep.spec import Spec, SpecError, load_spec, parse_spec

__all__ = ["Spec", "SpecError", "heatmap_table", "load_spec", "pareto_front", "parse_spec", "plot_heatmap",
           "plot_pareto", "run_point", "run_sweep"]
