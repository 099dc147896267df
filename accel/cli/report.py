"""One layout of a run's statistics for every command that prints them (`run`, `demo`)."""

from __future__ import annotations

from typing import Any


def stats_dict(stats: Any) -> dict[str, Any]:
    """The statistics of a run as JSON: `accel run --json` and `accel demo --json` both print this
    under "stats" (instructions per engine, MACs, bytes moved, elements per engine, steps, PE cycles
    and utilization)."""
    return stats.to_dict()


def format_stats(stats: Any) -> str:
    """The same statistics for a person, one line per kind."""
    ins = stats.instructions
    lines = [
        "instructions  " + "  ".join(f"{k}={v}" for k, v in ins.items()) + f"  total={sum(ins.values())}",
        f"MACs          {stats.macs:,}",
        f"bytes moved   DRAM->SBUF {stats.bytes_dram_to_sbuf:,}  SBUF->DRAM {stats.bytes_sbuf_to_dram:,}",
        f"PE array      {stats.pe_cycles:,} cycles, utilization {stats.utilization:.1%}",
    ]
    return "\n".join(lines)


def format_timing(summary: dict[str, Any]) -> str:
    """A timed run's summary for a person (accel.timing.report.summary; the JSON is the dict itself):
    total cycles and the bound, each engine's busy share, DMA bandwidth, PE utilization."""
    total = summary["total_cycles"]
    busy = "  ".join(f"{k} {e['busy'] / total if total else 0:.1%}" for k, e in summary["engines"].items())
    d = summary["dma"]
    return "\n".join([
        f"cycles        {total:,}  ({summary['bound_detail']})",
        f"engines busy  {busy}",
        f"DMA           {d['bytes']:,} bytes, {d['bytes_per_cycle']:.2f} bytes/cycle "
        f"(peak {d['peak_bytes_per_cycle']})",
        f"PE timed      utilization {summary['pe']['utilization']:.1%} of {total:,} cycles",
    ])


def cost_dict(timelines: list[Any], config: Any) -> dict[str, Any]:
    """The core's area and the run's energy (docs/area_energy.md): what `accel run --json` prints
    under "area" and "energy"."""
    from accel.cost import area, energy

    e = energy(timelines, config)
    return {"area": area(config), "energy": {"uj": e["uj"], "components_uj": e["components_uj"],
                                             "actions": e["actions"]}}
