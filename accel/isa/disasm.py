"""The disassembler: binary -> assembly text that reassembles to the identical binary."""

from __future__ import annotations

from accel.isa.encoding import Program, instruction_text


def disassemble_program(program: Program, addresses: bool = False) -> str:
    lines = [str(t) for t in program.tensors]
    if lines:
        lines.append("")
    for k, ins in enumerate(program.instructions):
        text = instruction_text(ins, program)
        lines.append(f"{text:<90} ; {k:5d}" if addresses else text)
    return "\n".join(lines) + "\n"


def disassemble(data: bytes, addresses: bool = False) -> str:
    """Binary program -> assembly text; with addresses, each line ends with its index."""
    return disassemble_program(Program.from_bytes(data), addresses)
