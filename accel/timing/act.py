"""ACT engine cycle costs: rtl/act_engine.v around rtl/act_func.v (docs/act.md "Cycles"), clock for clock.

Every lane has its own function unit, a pipeline of act_latency_cycles stages taking one element per
act_element_cycles and never stalling, so an instruction occupies the engine for its set-up and its
elements and its last result lands act_latency_cycles after the last element entered. act.lut.load
writes its image words one per act_lut_word_cycles into the engine's image memory shared by the lanes
(rtl/act_image_mem.v) and has no pipeline behind it. When an instruction may start (the interlocks: a read of bytes
in flight, act.lut.load and a function switch after every earlier ACT instruction) is
accel.timing.schedule's.
"""

from __future__ import annotations

from accel.config import CoreConfig
from accel.isa.encoding import Instruction
from accel.isa.operands import AP

_PIPELINE = frozenset({"act.identity", "act.relu", "act.func"})


def act_cycles(ins: Instruction, config: CoreConfig) -> tuple[int, int]:
    """(occupancy, latency) of an ACT instruction: clocks from its start until the next ACT instruction
    can start, and until its last result is written."""
    c = config
    if ins.mnemonic == "act.lut.load":
        src = ins.ops["src"]
        busy = c.act_setup_cycles + c.act_lut_word_cycles * src.pcount * src.free_size
        return busy, busy
    if ins.mnemonic not in _PIPELINE:
        raise ValueError(f"{ins.mnemonic}: not an ACT instruction")
    bias = c.act_bias_cycles if isinstance(ins.ops["bias"], AP) else 0
    busy = c.act_setup_cycles + bias + c.act_element_cycles * ins.ops["src"].free_size
    return busy, busy + c.act_latency_cycles
