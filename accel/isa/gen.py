"""Generate every derived file from isa/isa.toml: Python table, Verilog header, manual.

Run with `accel isa gen` (or `python -m accel.isa.gen`). Each output starts with a line
saying what it was generated from and by which command; tests/isa/test_generated.py
regenerates into a temporary folder and fails when a committed copy is stale.
"""

from __future__ import annotations

import pprint
import sys
from pathlib import Path
from typing import Any

from accel.isa import spec as specmod
from accel.isa.resources import NotACheckoutError, checkout

COMMAND = "accel isa gen"
OUTPUTS = {
    "python": Path("accel/isa/_table.py"),
    "verilog": Path("rtl/include/accel_isa.vh"),
    "manual": Path("isa/ISA.md"),
}
ENGINE_SEQ, ENGINE_ANY, ENGINE_BAD = 4, 5, 7


def python_table(t: dict[str, Any]) -> str:
    return (
        f"# GENERATED from isa/isa.toml by `{COMMAND}` -- do not edit.\n"
        '"""The ISA as plain data; see accel/isa/spec.py for its meaning."""\n\n'
        f"TABLE = {pprint.pformat(t, width=100, sort_dicts=True)}\n"
    )


def _engine_code(t: dict, eng: str) -> int:
    return {"SEQ": ENGINE_SEQ, "ANY": ENGINE_ANY}.get(eng, t["engines"].get(eng, ENGINE_BAD))


def _macro(name: str) -> str:
    return name.upper().replace(".", "_")


def verilog_header(t: dict[str, Any]) -> str:
    """Defines for every code and field position, and functions giving per-opcode facts.

    Include it inside a module body: the functions are Verilog-2005 module items.
    """
    wb = t["word_bits"]
    op = t["opcode"]
    slot_names = sorted(t["slots"])
    lines = [
        f"// GENERATED from isa/isa.toml by `{COMMAND}` -- do not edit.",
        "// accel ISA: codes, field positions and per-opcode decode facts.",
        "// `include inside a module body (it declares functions). The guard covers only the",
        "// defines: every module that includes it gets its own copy of the functions.",
        "`ifndef ACCEL_ISA_VH",
        "`define ACCEL_ISA_VH",
        f"`define ACCEL_WORD_BITS {wb}",
        f"`define ACCEL_OPCODE_LSB {op['lsb']}",
        f"`define ACCEL_OPCODE_W {op['width']}",
        f"`define ACCEL_ENG_SEQ 3'd{ENGINE_SEQ}",
        f"`define ACCEL_ENG_ANY 3'd{ENGINE_ANY}",
        f"`define ACCEL_ENG_BAD 3'd{ENGINE_BAD}",
    ]
    for name, code in sorted(t["engines"].items(), key=lambda kv: kv[1]):
        lines.append(f"`define ACCEL_ENG_{name} 3'd{code}")
    for name, d in sorted(t["dtypes"].items(), key=lambda kv: kv[1]["code"]):
        lines.append(f"`define ACCEL_DTYPE_{name.upper()} 3'd{d['code']}")
    for name, code in sorted(t["spaces"].items(), key=lambda kv: kv[1]):
        lines.append(f"`define ACCEL_SPACE_{name.upper()} 2'd{code}")
    lines.append("// slot fields: _LSB and _W (width)")
    for s in slot_names:
        for f in t["slots"][s]["fields"]:
            m = _macro(f["name"])
            lines.append(f"`define ACCEL_F_{m}_LSB {f['lsb']}")
            lines.append(f"`define ACCEL_F_{m}_W {f['width']}")
    lines.append("// slot-use bits returned by accel_slots(), one per slot:")
    for k, s in enumerate(slot_names):
        lines.append(f"`define ACCEL_SLOT_{s.upper()} {k}")
    lines.append(f"`define ACCEL_NSLOTS {len(slot_names)}")
    lines.append("// opcodes")
    for ins in t["instructions"]:
        lines.append(f"`define ACCEL_OP_{_macro(ins['mnemonic'])} {op['width']}'h{ins['opcode']:02x}")
    lines.append("`endif")

    def func(name: str, width: str, body: list[str], default: str) -> list[str]:
        return [
            f"function {width}{name};",
            f"    input [{op['width'] - 1}:0] op;",
            "    begin",
            "        case (op)",
            *[f"            {b}" for b in body],
            f"            default: {name} = {default};",
            "        endcase",
            "    end",
            "endfunction",
        ]

    ins_list = t["instructions"]
    lines += func("accel_known", "", [f"8'h{i['opcode']:02x}: accel_known = 1'b1;" for i in ins_list], "1'b0")
    lines += func(
        "accel_engine", "[2:0] ",
        [f"8'h{i['opcode']:02x}: accel_engine = 3'd{_engine_code(t, i['engine'])};" for i in ins_list],
        "`ACCEL_ENG_BAD",
    )
    ns = len(slot_names)

    def slot_mask(i: dict, with_bias_ap: bool) -> int:
        used = [s for s in i["slots"] if not (i["has_bias"] and s == ("imm1" if with_bias_ap else "ap2"))]
        return sum(1 << slot_names.index(s) for s in used)

    lines += func(
        "accel_slots", f"[{ns - 1}:0] ",
        [f"8'h{i['opcode']:02x}: accel_slots = {ns}'h{slot_mask(i, False):x};" for i in ins_list],
        f"{ns}'h0",
    )
    lines.append("// Bias operands: with flag = 1 the bias is an ap in slot ap2 and imm1 is unused.")
    lines += func(
        "accel_has_bias", "", [f"8'h{i['opcode']:02x}: accel_has_bias = 1'b1;" for i in ins_list if i["has_bias"]],
        "1'b0",
    )

    def reserved_mask(i: dict) -> int:
        m = 0
        for lsb, width in i["reserved"]:
            m |= ((1 << width) - 1) << lsb
        return m

    lines += func(
        "accel_reserved", f"[{wb - 1}:0] ",
        [f"8'h{i['opcode']:02x}: accel_reserved = {wb}'h{reserved_mask(i):x};" for i in ins_list],
        f"{{{wb}{{1'b0}}}}",
    )
    return "\n".join(lines) + "\n"


def _syntax(ins: dict) -> str:
    parts = []
    for o in ins["operands"]:
        p = o["name"].upper()
        parts.append(f"[{o['name']}={p}]" if "default" in o else p)
    return f"{ins['mnemonic']} {', '.join(parts)}".rstrip()


def _encoding_rows(t: dict, ins: dict) -> list[str]:
    op = t["opcode"]
    rows = [f"| [{op['lsb'] + op['width'] - 1}:{op['lsb']}] | opcode | `{ins['opcode']:#04x}` |"]
    for o in ins["operands"]:
        slots = [o["slot"]] + (["ap2", "flag"] if o["kind"] == "bias" else [])
        for s in slots:
            for f in t["slots"][s]["fields"]:
                hi = f["lsb"] + f["width"] - 1
                signed = ", signed" if f["signed"] else ""
                rows.append(f"| [{hi}:{f['lsb']}] | {f['name']} | {o['name']}{signed} |")
    for lsb, width in ins["reserved"]:
        rows.append(f"| [{lsb + width - 1}:{lsb}] | reserved | must be 0 |")
    rows.sort(key=lambda r: int(r.split("[")[1].split(":")[1].split("]")[0]))
    return rows


def manual(t: dict[str, Any]) -> str:
    out = [
        f"<!-- GENERATED from isa/isa.toml by `{COMMAND}` -- do not edit. -->",
        "# accel ISA manual",
        "",
        f"Every instruction is one {t['word_bits']}-bit little-endian word; bits "
        f"[{t['opcode']['width'] - 1}:0] hold the opcode. Operand fields sit in fixed *slots*, "
        "so a decoder slices without looking at the opcode; bits an instruction does not use "
        "are reserved and must be zero. Each instruction runs on one engine's in-order queue "
        "(PE, ACT, VEC, DMA); `ANY` means the instruction names its engine; `SEQ` is the "
        "sequencer that dispatches the stream.",
        "",
        "## Assembly syntax",
        "",
        "```",
        "; comment (also #)",
        ".const NAME = EXPR                 integer constant, usable in any later expression",
        ".tensor NAME DTYPE[D0, D1, ...] ROLE   DRAM tensor; ROLE is in, out, inout or temp",
        "MNEMONIC OPERAND, OPERAND, key=VALUE",
        "```",
        "",
        "On-chip access pattern: `sb[P0:P1, OFF]:DTYPE[N0@S0, N1@S1, N2@S2]` (or `psum[...]`). "
        "Partitions P0 to P1-1 (`sb[P, OFF]` is one partition), byte offset OFF in each "
        "partition (aligned to the element size), then 1 to 3 dims, outermost first, each a "
        "count and an element stride; a stride left out is row-major (`[4, 16]` is `[4@16, 16@1]`).",
        "",
        "DRAM pattern: `NAME` is the whole tensor with axis 0 on partitions; `NAME[a:b, c:d]` is "
        "a NumPy-style slice (every axis, at least one `:`; axis 0 on partitions); "
        "`NAME(OFF)[P@PS, N0@S0, ...]` is the raw form: element offset, partition stride, free "
        "dims, strides in elements. The disassembler prints the raw form.",
        "",
        "Integer expressions use + - * / % << >> & | ( ) on literals (decimal, 0x, 0b) and "
        "constants. Errors name file:line:column and show the line with a caret.",
        "",
        "## Element types",
        "",
        "| dtype | code | bytes |",
        "|---|---|---|",
    ]
    for name, d in sorted(t["dtypes"].items(), key=lambda kv: kv[1]["code"]):
        out.append(f"| {name} | {d['code']} | {d['bytes']} |")
    out += ["", "## Access-pattern fields", "", "| composite | field | bits | signed |", "|---|---|---|---|"]
    for comp, subs in t["composites"].items():
        for s in subs:
            out.append(f"| {comp} | {s['name']} | {s['width']} | {'yes' if s.get('signed') else ''} |")
    out += ["", "An unused dim has count 0 and stride 0; used dims come first.", "", "## Instructions", ""]
    out += ["| opcode | mnemonic | engine | summary |", "|---|---|---|---|"]
    for i in t["instructions"]:
        out.append(f"| `{i['opcode']:#04x}` | [`{i['mnemonic']}`](#{i['mnemonic'].replace('.', '')}) | "
                   f"{i['engine']} | {i['summary']} |")
    for i in t["instructions"]:
        out += ["", f"### {i['mnemonic']}", "", i["summary"], "", "```", _syntax(i), "```", ""]
        if i["operands"]:
            out += ["| operand | kind | constraints |", "|---|---|---|"]
            for o in i["operands"]:
                cons = []
                if "spaces" in o:
                    cons.append("space " + "/".join(o["spaces"]))
                if "dtypes" in o:
                    cons.append("dtype " + "/".join(o["dtypes"]))
                if "range" in o:
                    cons.append(f"range {o['range'][0]}..{o['range'][1]}")
                if "default" in o:
                    cons.append(f"default {o['default']}")
                out.append(f"| {o['name']} | {specmod.KIND_TEXT[o['kind']]} | {', '.join(cons)} |")
            out.append("")
        out += [f"**Semantics.** {i['semantics']}", "", f"**Engine:** {i['engine']}", "",
                "**Encoding:**", "", "| bits | field | meaning |", "|---|---|---|"]
        out += _encoding_rows(t, i)
        out += ["", "**Example:**", "", "```", i["example"], "```"]
    return "\n".join(out) + "\n"


def generate(root: Path | str) -> list[Path]:
    """Write every generated file under `root` (the repository root or a scratch folder)."""
    root = Path(root)
    t = specmod.load()
    texts = {"python": python_table(t), "verilog": verilog_header(t), "manual": manual(t)}
    written = []
    for key, rel in OUTPUTS.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(texts[key])
        written.append(path)
    return written


if __name__ == "__main__":
    try:
        root = checkout("python -m accel.isa.gen")
    except NotACheckoutError as e:
        sys.exit(f"gen: {e}")
    for p in generate(root):
        print(p)
