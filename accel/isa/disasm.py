"""The disassembler: binary -> assembly text that reassembles to the identical binary."""

from __future__ import annotations

from typing import Any

from accel.isa.encoding import Program, instruction_text


def disassemble_program(program: Program, addresses: bool = False) -> str:
    """A Program as assembly text; with addresses, each line ends with its index."""
    lines = [str(t) for t in program.tensors]
    if lines:
        lines.append("")
    for k, ins in enumerate(program.instructions):
        text = instruction_text(ins, program)
        lines.append(f"{text:<90} ; {k:5d}" if addresses else text)
    return "\n".join(lines) + "\n"


def disassemble(data: bytes, addresses: bool = False, config: Any = None, *, check: bool = True) -> str:
    """Binary program -> assembly text; with addresses, each line ends with its index.

    The binary is loaded with Program.from_bytes(data, config, check=check): by default it must
    pass the static checks, so the text always reassembles to the same bytes."""
    return disassemble_program(Program.from_bytes(data, config, check=check), addresses)
