"""The disassembler: binary -> assembly text that reassembles to the identical binary."""

from __future__ import annotations

from accel.isa.encoding import Instruction, Program
from accel.isa.operands import AP, DramAP, f32_text


def operand_text(ins: Instruction, name: str, program: Program | None = None) -> str:
    """One operand in assembly syntax."""
    o = next(o for o in ins.spec["operands"] if o["name"] == name)
    v = ins.ops[name]
    kind = o["kind"]
    if kind == "sem":
        return f"s{v}"
    if kind in ("f32", "bias") and not isinstance(v, AP):
        return f32_text(v)
    if kind == "dram":
        assert isinstance(v, DramAP)
        ap = next(x for x in ins.ops.values() if isinstance(x, AP))
        tname = program.tensors[v.tensor].name if program else v.name or f"tensor{v.tensor}"
        return v.text(tname, ap.pcount)
    return str(v)


def instruction_text(ins: Instruction, program: Program | None = None) -> str:
    """One instruction in canonical assembly syntax (what the disassembler prints)."""
    parts = []
    for o in ins.spec["operands"]:
        text = operand_text(ins, o["name"], program)
        parts.append(f"{o['name']}={text}" if "default" in o else text)
    return f"{ins.mnemonic} {', '.join(parts)}".rstrip()


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
