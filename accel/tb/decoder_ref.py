"""What rtl/decoder.v must output for a word, computed with the Python decoder's rules.

Field outputs come from `accel.isa.encoding.slot_fields`; `valid` is the rule `decode` applies
before it interprets fields (known opcode, reserved bits zero, the unused bias form zero);
`engine` and `slots` follow the codes of the generated Verilog header. `pack` concatenates all
outputs into one integer in the order of `OUTPUTS` (first = most significant), which is how
sim/decoder_tb.v compares a whole decode in one go.

    out = expected(word)          # {"valid": 1, "opcode": 0x30, ..., "ap0_s0": 0xFFFF, ...}
    assert unpack(pack(out)) == out
"""

from __future__ import annotations

from accel.isa.encoding import BY_OPCODE, OPCODE, SLOTS, slot_fields
from accel.isa.gen import ENGINE_BAD, ENGINE_SEQ
from accel.isa.operands import ENGINES
from accel.isa.randprog import bias_is_ap, opcode_of, reserved_mask


def _port_order(slot: str) -> tuple:
    """Plain slots by position, then composite slots by name: rtl/decoder.v's port order."""
    composite = len(SLOTS[slot]["fields"]) > 1
    return composite, 0 if composite else SLOTS[slot]["lsb"], slot


# slot-use bit of each slot: slots sorted by name, as the header's ACCEL_SLOT_* defines
SLOT_BIT = {s: k for k, s in enumerate(sorted(SLOTS))}
# (port, slot, sub-field key for slot_fields, width) of every field output
FIELDS: list[tuple[str, str, str, int]] = [
    (f["name"].replace(".", "_"), s, f["name"].partition(".")[2], f["width"])
    for s in sorted(SLOTS, key=_port_order) for f in SLOTS[s]["fields"]
]
ENGINE_BITS = 3
OUTPUTS: list[tuple[str, int]] = [
    ("valid", 1), ("opcode", OPCODE["width"]), ("engine", ENGINE_BITS), ("slots", len(SLOTS)),
    *((port, width) for port, _, _, width in FIELDS),
]
VECTOR_BITS = sum(w for _, w in OUTPUTS)


def expected(word: int) -> dict[str, int]:
    """Every decoder output for `word`, as unsigned integers of the port's width."""
    op = opcode_of(word)
    spec = BY_OPCODE.get(op)
    flag_ap = bias_is_ap(word)
    valid = spec is not None and not word & reserved_mask(spec, flag_ap)
    out = {"valid": int(valid), "opcode": op, "engine": ENGINE_BAD, "slots": 0}
    if valid:
        eng = spec["engine"]
        out["engine"] = (slot_fields(word, "eng")[""] if eng == "ANY"
                         else ENGINE_SEQ if eng == "SEQ" else ENGINES[eng])
        unused = ("imm1" if flag_ap else "ap2") if spec["has_bias"] else None
        out["slots"] = sum(1 << SLOT_BIT[s] for s in spec["slots"] if s != unused)
    fields = {s: slot_fields(word, s) for s in SLOTS}
    for port, slot, key, width in FIELDS:
        out[port] = fields[slot][key] & ((1 << width) - 1)
    return out


def pack(outputs: dict[str, int]) -> int:
    """All outputs as one integer, `OUTPUTS[0]` in the most significant bits."""
    v = 0
    for name, width in OUTPUTS:
        v = (v << width) | outputs[name]
    return v


def unpack(vector: int) -> dict[str, int]:
    """The inverse of `pack`."""
    out = {}
    for name, width in reversed(OUTPUTS):
        out[name] = vector & ((1 << width) - 1)
        vector >>= width
    return dict(reversed(out.items()))

