"""accel: an ML accelerator core's ISA, assembler, golden model, emulator, kernels and RTL.

    import accel
    prog = accel.assemble(open("isa/examples/mlp.s").read())
    result = accel.Core(accel.CoreConfig()).run(prog, {"x": x, "w1": w1, ...})
    result.outputs["y"], result.stats
    result.timing["total_cycles"], result.timing["bound"]     # every engine on one clock (docs/timing.md)
"""

from accel.isa.asm import AsmError, assemble, assemble_file
from accel.isa.disasm import disassemble
from accel.isa.encoding import DecodeError, Instruction, Program
from accel.machine import ConfigError, Core, CoreConfig, MachineError, RunResult, Stats, run
from accel.timing import Timeline

__all__ = [
    "AsmError", "ConfigError", "Core", "CoreConfig", "DecodeError", "Instruction", "MachineError",
    "Program", "RunResult", "Stats", "Timeline", "assemble", "assemble_file", "disassemble", "run",
]
__version__ = "0.1.0"
