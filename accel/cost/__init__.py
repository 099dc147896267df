"""Area and energy of a core (docs/area_energy.md): the area from our RTL's measured Yosys cells and
SRAM bits for a CoreConfig; the energy of a run from its instructions' actions at 45 nm.

    from accel.cost import area, energy
    area(config)["mm2"]                  # logic and SRAM, per component
    energy(result.timeline)["uj"]        # MACs, SBUF/PSUM/DRAM accesses, VEC and ACT operations
"""

from accel.cost.area import area
from accel.cost.energy import actions, energy

__all__ = ["actions", "area", "energy"]
