"""Binary encoding of instructions and programs, driven by the generated table.

An instruction is one `word_bits`-wide little-endian word. `encode` and `decode` are exact
inverses on valid words; `decode` rejects unknown opcodes and non-zero reserved bits.
"""

from __future__ import annotations

import dataclasses
import functools
import struct
from dataclasses import dataclass, field
from typing import Any

from accel.isa._table import TABLE
from accel.isa.operands import (
    AP,
    DTYPE_BY_CODE,
    DTYPES,
    ENGINE_BY_CODE,
    ENGINES,
    MAX_DIMS,
    ROLES,
    SPACE_BY_CODE,
    SPACES,
    DramAP,
    Tensor,
    f32_text,
)

WORD_BITS: int = TABLE["word_bits"]
WORD_BYTES = WORD_BITS // 8
OPCODE = TABLE["opcode"]
SLOTS: dict[str, dict] = TABLE["slots"]
BY_MNEMONIC: dict[str, dict] = {i["mnemonic"]: i for i in TABLE["instructions"]}
BY_OPCODE: dict[int, dict] = {i["opcode"]: i for i in TABLE["instructions"]}
MAGIC = b"ACCL"
VERSION = 1


class DecodeError(ValueError):
    """A binary word or file is not a valid accel program."""


@dataclass(slots=True)
class Instruction:
    """One instruction: its table entry, operand values by name, and where it came from."""

    spec: dict
    ops: dict[str, Any]
    line: int | None = None  # 1-based source line, when assembled from text
    file: str | None = None
    source: str | None = field(default=None, repr=False)

    @property
    def mnemonic(self) -> str:
        return self.spec["mnemonic"]

    @property
    def engine(self) -> str:
        """The queue that executes it: PE, ACT, VEC, DMA, or SEQ for the sequencer."""
        eng = self.spec["engine"]
        return self.ops["engine"].upper() if eng == "ANY" else eng

    def __str__(self) -> str:
        return instruction_text(self)

    def where(self) -> str:
        """'file:line' when known, for error messages."""
        if self.line is None:
            return ""
        return f"{self.file or '<asm>'}:{self.line}"


# ----------------------------------------------------------------------------- text form (the disassembler's)


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


# ----------------------------------------------------------------------------- fields


def _put(word: int, lsb: int, width: int, value: int, signed: bool, name: str) -> int:
    lo, hi = (-(1 << (width - 1)), (1 << (width - 1)) - 1) if signed else (0, (1 << width) - 1)
    if not lo <= value <= hi:
        raise ValueError(f"{name} = {value} does not fit its {width}-bit field (range {lo}..{hi})")
    return word | ((value & ((1 << width) - 1)) << lsb)


def _get(word: int, lsb: int, width: int, signed: bool) -> int:
    v = (word >> lsb) & ((1 << width) - 1)
    if signed and v >> (width - 1):
        v -= 1 << width
    return v


def slot_fields(word: int, slot: str) -> dict[str, int]:
    """The raw field values of one slot, keyed by sub-field name ('' for plain slots)."""
    out = {}
    for f in SLOTS[slot]["fields"]:
        key = f["name"].split(".", 1)[1] if "." in f["name"] else ""
        out[key] = _get(word, f["lsb"], f["width"], f["signed"])
    return out


def _field(f: dict) -> tuple[str, int, int, int, int, int]:
    """(sub-field key, lsb, width, lowest, highest value, mask) of one field of a slot."""
    width = f["width"]
    lo, hi = (-(1 << (width - 1)), (1 << (width - 1)) - 1) if f["signed"] else (0, (1 << width) - 1)
    return f["name"].split(".", 1)[1] if "." in f["name"] else "", f["lsb"], width, lo, hi, (1 << width) - 1


_SLOT_FIELDS = {slot: tuple(_field(f) for f in s["fields"]) for slot, s in SLOTS.items()}


def _put_slot(word: int, slot: str, values: dict[str, int], what: str) -> int:
    """`word` with the slot's fields set to `values` (by sub-field key); _put's error if one does not fit."""
    for key, lsb, width, lo, hi, mask in _SLOT_FIELDS[slot]:
        v = values[key]
        if not lo <= v <= hi:
            raise ValueError(f"{f'{what}.{key}' if key else what} = {v} does not fit its {width}-bit field "
                             f"(range {lo}..{hi})")
        word |= (v & mask) << lsb
    return word


_DIM_KEYS = tuple((f"n{i}", f"s{i}") for i in range(MAX_DIMS))


def _dims_fields(dims: tuple[tuple[int, int], ...]) -> dict[str, int]:
    if not 1 <= len(dims) <= MAX_DIMS:
        raise ValueError(f"{len(dims)} dims: an access pattern has 1 to {MAX_DIMS}")
    out = {}
    for i, (nk, sk) in enumerate(_DIM_KEYS):
        out[nk], out[sk] = dims[i] if i < len(dims) else (0, 0)
    return out


def _dims_of(fields: dict[str, int]) -> tuple[tuple[int, int], ...]:
    dims = []
    for i in range(MAX_DIMS):
        n, s = fields[f"n{i}"], fields[f"s{i}"]
        if n == 0:
            if s != 0:
                raise DecodeError(f"unused dim {i} has stride {s}, must be 0")
            break
        dims.append((n, s))
    for j in range(len(dims) + 1, MAX_DIMS):
        if fields[f"n{j}"]:
            raise DecodeError(f"dim {j} is used after an unused dim")
        if fields[f"s{j}"]:
            raise DecodeError(f"unused dim {j} has stride {fields[f's{j}']}, must be 0")
    if not dims:
        raise DecodeError("access pattern has no dims (n0 = 0)")
    return tuple(dims)


def ap_fields(ap: AP) -> dict[str, int]:
    for n, _ in ap.dims:
        if n < 1:
            raise ValueError(f"dim count {n}: must be at least 1")
    return {
        "space": SPACES[ap.space], "pstart": ap.pstart, "pcount": ap.pcount,
        "offset": ap.offset, "dtype": DTYPES[ap.dtype]["code"], **_dims_fields(ap.dims),
    }


def ap_of(fields: dict[str, int]) -> AP:
    if fields["space"] not in SPACE_BY_CODE:
        raise DecodeError(f"memory space code {fields['space']} is not defined")
    if fields["dtype"] not in DTYPE_BY_CODE:
        raise DecodeError(f"dtype code {fields['dtype']} is not defined")
    if fields["pcount"] == 0:
        raise DecodeError("partition count 0")
    return AP(SPACE_BY_CODE[fields["space"]], fields["pstart"], fields["pcount"], fields["offset"],
              DTYPE_BY_CODE[fields["dtype"]], _dims_of(fields))


def dram_fields(d: DramAP) -> dict[str, int]:
    return {"tensor": d.tensor, "offset": d.offset, "pstride": d.pstride, **_dims_fields(d.dims)}


def dram_of(fields: dict[str, int]) -> DramAP:
    return DramAP(fields["tensor"], fields["offset"], fields["pstride"], _dims_of(fields))


# ----------------------------------------------------------------------------- words


def _operand_bits(kind: str, slot: str, v: Any, what: str) -> int:
    """The bits one operand value sets in a word (operands' fields never overlap, so a word is the
    OR of them); ValueError names `what` when a value does not fit its field."""
    if kind == "engine":
        return _put_slot(0, slot, {"": ENGINES[v.upper()]}, what)
    if kind in ("sem", "uint", "flag", "f32"):
        return _put_slot(0, slot, {"": int(v)}, what)
    if kind == "ap":
        return _put_slot(0, slot, ap_fields(v), what)
    if kind == "dram":
        return _put_slot(0, slot, dram_fields(v), what)
    if kind == "bias":
        if isinstance(v, AP):
            return _put_slot(0, "ap2", ap_fields(v), what) | _put_slot(0, "flag", {"": 1}, what)
        return _put_slot(0, slot, {"": int(v)}, what)
    raise AssertionError(kind)  # pragma: no cover - the spec loader rejects unknown kinds


@functools.lru_cache(maxsize=1 << 16)
def _cached_bits(kind: str, slot: str, v: Any) -> int:
    """_operand_bits of a value that fits, once per (kind, slot, value): programs repeat operands."""
    return _operand_bits(kind, slot, v, "")


_ENCODE_PLANS: dict[int, tuple[dict, int, tuple[tuple[str, str, str], ...]]] = {}


def _encode_plan(spec: dict) -> tuple[int, tuple[tuple[str, str, str], ...]]:
    """(opcode bits, (name, kind, slot) of each operand) of a table entry, worked out once per entry."""
    hit = _ENCODE_PLANS.get(id(spec))
    if hit is None or hit[0] is not spec:
        hit = _ENCODE_PLANS[id(spec)] = (spec, _put(0, OPCODE["lsb"], OPCODE["width"], spec["opcode"], False, "opcode"),
                                         tuple((o["name"], o["kind"], o["slot"]) for o in spec["operands"]))
    return hit[1], hit[2]


def encode(ins: Instruction) -> int:
    """The instruction as an unsigned integer of WORD_BITS bits."""
    word, operands = _encode_plan(ins.spec)
    ops = ins.ops
    for name, kind, slot in operands:
        v = ops[name]
        try:
            word |= _cached_bits(kind, slot, v)
        except (ValueError, TypeError, KeyError, AttributeError):  # the uncached path raises it, naming the operand
            word |= _operand_bits(kind, slot, v, f"{ins.spec['mnemonic']} {name}")
    return word


def decode(word: int, index: int | None = None) -> Instruction:
    """Decode one word; raise DecodeError naming the instruction index and the problem."""
    at = f"instruction {index}: " if index is not None else ""
    op = _get(word, OPCODE["lsb"], OPCODE["width"], False)
    spec = BY_OPCODE.get(op)
    if spec is None:
        raise DecodeError(f"{at}unknown opcode {op:#04x}")
    bias_is_ap = spec["has_bias"] and slot_fields(word, "flag")[""] == 1
    reserved = list(spec["reserved"])
    if spec["has_bias"]:  # the unused form of the bias occupies no bits
        reserved.append(
            [SLOTS["imm1"]["lsb"], SLOTS["imm1"]["width"]] if bias_is_ap
            else [SLOTS["ap2"]["lsb"], SLOTS["ap2"]["width"]]
        )
    for lsb, width in reserved:
        if _get(word, lsb, width, False):
            raise DecodeError(f"{at}{spec['mnemonic']}: reserved bits [{lsb + width - 1}:{lsb}] are not zero")
    ops: dict[str, Any] = {}
    try:
        for o in spec["operands"]:
            f = slot_fields(word, o["slot"])
            kind = o["kind"]
            if kind == "engine":
                ops[o["name"]] = ENGINE_BY_CODE[f[""]].lower()
            elif kind in ("sem", "uint", "flag", "f32"):
                ops[o["name"]] = f[""]
            elif kind == "ap":
                ops[o["name"]] = ap_of(f)
            elif kind == "dram":
                ops[o["name"]] = dram_of(f)
            elif kind == "bias":
                ops[o["name"]] = ap_of(slot_fields(word, "ap2")) if bias_is_ap else f[""]
    except DecodeError as e:
        raise DecodeError(f"{at}{spec['mnemonic']} {o['name']}: {e}") from None
    return Instruction(spec, ops)


# ----------------------------------------------------------------------------- programs


@dataclass
class Program:
    """An assembled program: DRAM tensor declarations and the instruction stream."""

    tensors: list[Tensor]
    instructions: list[Instruction]
    source_name: str | None = None

    def tensor(self, name: str) -> Tensor:
        for t in self.tensors:
            if t.name == name:
                return t
        raise KeyError(f"program declares no tensor {name!r}; it has {[t.name for t in self.tensors]}")

    def words(self) -> list[int]:
        return [encode(i) for i in self.instructions]

    def to_bytes(self) -> bytes:
        """The binary file: header, tensor table, then one little-endian word per instruction."""
        out = bytearray(MAGIC + struct.pack("<HHII", VERSION, WORD_BITS, len(self.tensors), len(self.instructions)))
        for t in self.tensors:
            name = t.name.encode()
            out += struct.pack("<B", len(name)) + name
            out += struct.pack("<BBB", DTYPES[t.dtype]["code"], ROLES.index(t.role), len(t.shape))
            out += struct.pack(f"<{len(t.shape)}I", *t.shape)
        for w in self.words():
            out += w.to_bytes(WORD_BYTES, "little")
        return bytes(out)

    @classmethod
    def from_bytes(cls, data: bytes, config: Any = None, *, check: bool = True) -> Program:
        """Parse a binary file; DecodeError names what is wrong and where.

        With `check` (the default) the program must also pass the assembler's static checks
        (accel.isa.check) against `config` (a CoreConfig; None: the default sizes): the loader
        accepts exactly what the assembler can produce, so its disassembly reassembles to the
        same bytes. check=False decodes anything the encoding holds.
        """
        from accel.isa.check import Checker, CheckError

        data = bytes(data)
        if data[:4] != MAGIC:
            raise DecodeError(f"not an accel binary: starts with {data[:4]!r}, expected {MAGIC!r}")
        if len(data) < HEADER_BYTES:
            raise DecodeError(f"truncated header: {len(data)} bytes, an accel binary's header has {HEADER_BYTES}")
        version, word_bits, nt, ni = struct.unpack_from("<HHII", data, 4)
        if version != VERSION or word_bits != WORD_BITS:
            raise DecodeError(f"binary version {version} / word {word_bits} bits; "
                              f"this accel reads version {VERSION} / {WORD_BITS} bits")
        checker = Checker(config) if check else None
        tensors, pos = [], HEADER_BYTES
        for k in range(nt):
            t, pos = _read_tensor(data, pos, k, nt)
            if checker is not None:
                try:
                    checker.tensor(t)
                except CheckError as e:
                    raise DecodeError(f"tensor table: {e.msg}") from None
            tensors.append(t)
        if len(data) - pos != ni * WORD_BYTES:
            raise DecodeError(f"header says {ni} instructions ({ni * WORD_BYTES} bytes) but "
                              f"{len(data) - pos} bytes follow the tensor table")
        instrs = []
        for k in range(ni):
            word = int.from_bytes(data[pos + k * WORD_BYTES:pos + (k + 1) * WORD_BYTES], "little")
            ins = decode(word, k)
            for key, v in ins.ops.items():
                if isinstance(v, DramAP):
                    if v.tensor >= len(tensors):
                        raise DecodeError(f"instruction {k} ({ins.mnemonic}): tensor number {v.tensor} but the "
                                          f"program declares {len(tensors)}")
                    ins.ops[key] = dataclasses.replace(v, name=tensors[v.tensor].name)
            if checker is not None:
                try:
                    checker.instruction(ins, k)
                except CheckError as e:
                    raise DecodeError(f"instruction {k} ({ins.mnemonic}): {e.msg}") from None
            instrs.append(ins)
        return cls(tensors, instrs)


HEADER_BYTES = 16  # magic, version, word bits, tensor count, instruction count


def _read_tensor(data: bytes, pos: int, k: int, nt: int) -> tuple[Tensor, int]:
    """Tensor `k` of `nt` of the table at byte `pos`, and the byte after it."""

    def take(n: int, what: str) -> bytes:
        if pos + n > len(data):
            raise DecodeError(f"truncated tensor table: tensor {k} of {nt} needs its {what} at bytes "
                              f"{pos}..{pos + n - 1}, the file has {len(data)} bytes")
        return data[pos:pos + n]

    n = take(1, "name length")[0]
    pos += 1
    raw = take(n, "name")
    pos += n
    try:
        name = raw.decode("ascii")
    except UnicodeDecodeError:
        raise DecodeError(f"tensor table: tensor {k}'s name {raw!r} is not an ASCII identifier") from None
    code, role, rank = take(3, "type, role and rank")
    pos += 3
    shape = struct.unpack_from(f"<{rank}I", take(4 * rank, "shape"))
    pos += 4 * rank
    if code not in DTYPE_BY_CODE:
        raise DecodeError(f"tensor table: tensor {name!r} has element type code {code}, which is not defined")
    if role >= len(ROLES):
        raise DecodeError(f"tensor table: tensor {name!r} has role code {role}, which is not defined")
    return Tensor(name, DTYPE_BY_CODE[code], tuple(shape), ROLES[role]), pos
