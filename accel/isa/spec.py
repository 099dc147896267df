"""Load and validate the ISA data in isa/isa.toml into one normalized table.

The normalized table is plain data (dicts, lists, ints, strings); it is what the generator
writes into accel/isa/_table.py, so the rest of the package never reads TOML at run time.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from accel.isa.resources import DATA_ROOT, ISA_TOML

REPO_ROOT = DATA_ROOT  # the folder holding isa/, rtl/, sim/: the checkout, or a wheel's packaged copy

OPERAND_KINDS = {"engine", "sem", "uint", "f32", "flag", "ap", "dram", "bias"}
# Which slot kinds each operand kind may be placed in.
KIND_SLOTS = {
    "engine": {"uint"},
    "sem": {"uint"},
    "uint": {"bits", "uint"},
    "f32": {"bits"},
    "flag": {"uint"},
    "ap": {"ap"},
    "dram": {"dram"},
    "bias": {"bits"},
}
ENGINE_CLASSES = {"ANY", "SEQ"}


class SpecError(ValueError):
    """The ISA data is inconsistent; the message names the entry and the rule broken."""


def load(path: Path | str = ISA_TOML) -> dict[str, Any]:
    """Read, validate and normalize the ISA file."""
    with open(path, "rb") as f:
        raw = tomllib.load(f)
    return normalize(raw)


def _fields_of_slot(name: str, slot: dict, composites: dict) -> list[dict]:
    """Absolute (name, lsb, width, signed) fields that a slot covers."""
    kind = slot["kind"]
    if kind in composites:
        out, lsb = [], slot["lsb"]
        for sub in composites[kind]:
            out.append(
                {"name": f"{name}.{sub['name']}", "lsb": lsb, "width": sub["width"],
                 "signed": bool(sub.get("signed", False))}
            )
            lsb += sub["width"]
        return out
    return [{"name": name, "lsb": slot["lsb"], "width": slot["width"], "signed": False}]


def normalize(raw: dict[str, Any]) -> dict[str, Any]:
    """Validate the raw TOML tree and compute every instruction's field map."""
    word_bits = raw["word"]["bits"]
    if word_bits % 32:
        raise SpecError(f"word.bits = {word_bits}: must be a multiple of 32")
    opcode = {"lsb": raw["word"]["opcode_lsb"], "width": raw["word"]["opcode_width"]}
    composites = raw["composite"]
    engines = dict(raw["engines"])
    dtypes = {k: dict(v) for k, v in raw["dtypes"].items()}
    spaces = dict(raw["spaces"])
    _unique_codes("engines", engines, 2)
    _unique_codes("dtypes", {k: v["code"] for k, v in dtypes.items()}, composite_width(composites, "ap", "dtype"))
    _unique_codes("spaces", spaces, composite_width(composites, "ap", "space"))

    slots: dict[str, dict] = {}
    for name, s in raw["slots"].items():
        s = dict(s)
        if s["kind"] in composites:
            s["width"] = sum(sub["width"] for sub in composites[s["kind"]])
        elif s["kind"] not in ("uint", "bits"):
            raise SpecError(f"slot {name}: unknown kind {s['kind']!r}")
        if s["lsb"] < opcode["lsb"] + opcode["width"] or s["lsb"] + s["width"] > word_bits:
            raise SpecError(
                f"slot {name}: bits [{s['lsb'] + s['width'] - 1}:{s['lsb']}] do not fit between "
                f"the opcode and bit {word_bits - 1}"
            )
        s["fields"] = _fields_of_slot(name, s, composites)
        slots[name] = s

    instrs: list[dict] = []
    seen_op: dict[int, str] = {}
    seen_mn: set[str] = set()
    for ins in raw["instruction"]:
        mn = ins["mnemonic"]
        where = f"instruction {mn}"
        if mn in seen_mn:
            raise SpecError(f"{where}: mnemonic defined twice")
        seen_mn.add(mn)
        op = ins["opcode"]
        if not 0 <= op < (1 << opcode["width"]):
            raise SpecError(f"{where}: opcode {op:#x} does not fit {opcode['width']} bits")
        if op in seen_op:
            raise SpecError(f"{where}: opcode {op:#04x} already used by {seen_op[op]}")
        seen_op[op] = mn
        eng = ins["engine"]
        if eng not in engines and eng not in ENGINE_CLASSES:
            raise SpecError(f"{where}: engine {eng!r} is not one of {sorted(engines) + sorted(ENGINE_CLASSES)}")
        for key in ("summary", "semantics", "example"):
            if not ins.get(key, "").strip():
                raise SpecError(f"{where}: missing {key}")
        operands, used_slots = [], []
        has_bias = False
        for o in ins["operands"]:
            o = dict(o)
            kind = o["kind"]
            if kind not in OPERAND_KINDS:
                raise SpecError(f"{where}: operand {o['name']}: unknown kind {kind!r}")
            slot = slots.get(o["slot"])
            if slot is None:
                raise SpecError(f"{where}: operand {o['name']}: unknown slot {o['slot']!r}")
            if slot["kind"] not in KIND_SLOTS[kind]:
                raise SpecError(
                    f"{where}: operand {o['name']} of kind {kind} cannot live in slot "
                    f"{o['slot']} of kind {slot['kind']}"
                )
            if "range" in o and (kind not in ("uint", "f32") or len(o["range"]) != 2):
                raise SpecError(f"{where}: operand {o['name']}: `range` needs kind uint or f32 and [lo, hi]")
            for key in ("spaces", "dtypes"):
                bad = set(o.get(key, [])) - set(spaces if key == "spaces" else dtypes)
                if bad:
                    raise SpecError(f"{where}: operand {o['name']}: unknown {key} {sorted(bad)}")
            used_slots.append(o["slot"])
            if kind == "bias":  # a bias is an immediate in its slot, or an ap in ap2 (flag = 1)
                has_bias = True
                used_slots += ["ap2", "flag"]
            operands.append(o)
        if (eng == "ANY") != any(o["kind"] == "engine" for o in operands):
            raise SpecError(f"{where}: engine ANY needs exactly an `engine` operand, and only ANY may have one")
        if len(set(used_slots)) != len(used_slots):
            raise SpecError(f"{where}: a slot is used twice: {used_slots}")
        fields = [dict(name="opcode", lsb=opcode["lsb"], width=opcode["width"], signed=False)]
        for sname in used_slots:
            fields += slots[sname]["fields"]
        _check_no_overlap(where, fields, word_bits)
        instrs.append(
            {
                "mnemonic": mn,
                "opcode": op,
                "engine": eng,
                "operands": operands,
                "slots": used_slots,
                "has_bias": has_bias,
                "summary": ins["summary"].strip(),
                "semantics": " ".join(ins["semantics"].split()),
                "example": ins["example"].strip(),
                "reserved": _reserved_ranges(fields, word_bits),
            }
        )
    return {
        "word_bits": word_bits,
        "opcode": opcode,
        "engines": engines,
        "dtypes": dtypes,
        "spaces": spaces,
        "units": dict(raw["units"]),
        "composites": {k: [dict(s) for s in v] for k, v in composites.items()},
        "slots": slots,
        "instructions": sorted(instrs, key=lambda i: i["opcode"]),
    }


def composite_width(composites: dict, comp: str, sub: str) -> int:
    for s in composites[comp]:
        if s["name"] == sub:
            return s["width"]
    raise SpecError(f"composite {comp} has no field {sub}")


def _unique_codes(what: str, codes: dict[str, int], width: int) -> None:
    seen: dict[int, str] = {}
    for name, code in codes.items():
        if not 0 <= code < (1 << width):
            raise SpecError(f"{what}.{name} = {code}: does not fit {width} bits")
        if code in seen:
            raise SpecError(f"{what}.{name} = {code}: code already used by {seen[code]}")
        seen[code] = name


def _check_no_overlap(where: str, fields: list[dict], word_bits: int) -> None:
    owner: dict[int, str] = {}
    for f in fields:
        for b in range(f["lsb"], f["lsb"] + f["width"]):
            if b >= word_bits:
                raise SpecError(f"{where}: field {f['name']} runs past bit {word_bits - 1}")
            if b in owner:
                raise SpecError(f"{where}: fields {owner[b]} and {f['name']} overlap at bit {b}")
            owner[b] = f["name"]


def _reserved_ranges(fields: list[dict], word_bits: int) -> list[list[int]]:
    """[lsb, width] runs of bits no field covers; they must be zero in a valid word."""
    used = [False] * word_bits
    for f in fields:
        for b in range(f["lsb"], f["lsb"] + f["width"]):
            used[b] = True
    runs, b = [], 0
    while b < word_bits:
        if used[b]:
            b += 1
            continue
        start = b
        while b < word_bits and not used[b]:
            b += 1
        runs.append([start, b - start])
    return runs


# What each operand kind accepts, for the manual and the assembler's messages.
KIND_TEXT = {
    "engine": "engine name: pe, act, vec, dma",
    "sem": "semaphore sN, N below CoreConfig.semaphores (default 32)",
    "uint": "unsigned integer expression",
    "f32": "binary32 immediate: a float literal, inf, -inf, nan, or bits(0x...)",
    "flag": "0 or 1",
    "ap": "on-chip access pattern `space[P0:P1, OFF]:DTYPE[N0@S0, ...]`",
    "dram": "DRAM pattern `NAME`, `NAME[a:b, ...]` or `NAME(OFF)[P@PS, N@S, ...]`",
    "bias": "binary32 immediate, or an fp32 access pattern with one element per partition",
}
