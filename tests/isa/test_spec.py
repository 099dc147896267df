"""The ISA loader rejects inconsistent data, and the committed generated files are fresh."""

from __future__ import annotations

import copy
import tomllib

import pytest

from accel.isa import gen, spec
from accel.isa._table import TABLE


@pytest.fixture(scope="module")
def raw() -> dict:
    with open(spec.ISA_TOML, "rb") as f:
        return tomllib.load(f)


def test_loads_and_matches_committed_table():
    assert spec.load() == TABLE


def test_generated_files_are_fresh(tmp_path):
    gen.generate(tmp_path)
    for rel in gen.OUTPUTS.values():
        fresh = (tmp_path / rel).read_text()
        committed = (spec.REPO_ROOT / rel).read_text()
        assert fresh == committed, f"{rel} is stale: run `accel isa gen`"
        assert fresh.splitlines()[0].find("GENERATED from isa/isa.toml by `accel isa gen`") >= 0


def _instr(raw: dict, mnemonic: str) -> dict:
    return next(i for i in raw["instruction"] if i["mnemonic"] == mnemonic)


def _break(raw: dict, how) -> str:
    r = copy.deepcopy(raw)
    how(r)
    with pytest.raises(spec.SpecError) as e:
        spec.normalize(r)
    return str(e.value)


def test_duplicate_opcode(raw):
    msg = _break(raw, lambda r: _instr(r, "vec.sub").update(opcode=_instr(r, "vec.add")["opcode"]))
    assert "already used by vec.add" in msg


def test_duplicate_mnemonic(raw):
    msg = _break(raw, lambda r: r["instruction"].append(dict(_instr(r, "nop"), opcode=0xFE)))
    assert "defined twice" in msg


def test_opcode_too_wide(raw):
    assert "does not fit 8 bits" in _break(raw, lambda r: _instr(r, "nop").update(opcode=0x100))


def test_overlapping_slots(raw):
    def overlap(r):
        r["slots"]["imm1"]["lsb"] = r["slots"]["imm0"]["lsb"] + 8
        _instr(r, "act.relu")["operands"][2]["slot"] = "imm0"
        _instr(r, "act.relu")["operands"][3]["slot"] = "imm1"

    assert "overlap" in _break(raw, overlap)


def test_slot_past_word(raw):
    assert "do not fit" in _break(raw, lambda r: r["slots"]["ap2"].update(lsb=400))


def test_slot_used_twice(raw):
    msg = _break(raw, lambda r: _instr(r, "vec.add")["operands"][2].update(slot="ap1"))
    assert "used twice" in msg


def test_operand_kind_and_slot_must_agree(raw):
    msg = _break(raw, lambda r: _instr(r, "vec.adds")["operands"][2].update(slot="ap2"))
    assert "cannot live in slot ap2" in msg


def test_any_engine_needs_engine_operand(raw):
    msg = _break(raw, lambda r: _instr(r, "nop").update(operands=[]))
    assert "engine ANY" in msg


def test_unknown_dtype_constraint(raw):
    msg = _break(raw, lambda r: _instr(r, "pe.load_weights")["operands"][0].update(dtypes=["fp8"]))
    assert "unknown dtypes ['fp8']" in msg


def test_manual_text_required(raw):
    assert "missing semantics" in _break(raw, lambda r: _instr(r, "halt").update(semantics=" "))


def test_dtype_codes_unique(raw):
    assert "already used" in _break(raw, lambda r: r["dtypes"]["bf16"].update(code=0))


def test_reserved_bits_cover_the_rest():
    for ins in TABLE["instructions"]:
        used = sum(w for _, w in ins["reserved"]) + TABLE["opcode"]["width"]
        used += sum(TABLE["slots"][s]["width"] for s in ins["slots"])
        assert used == TABLE["word_bits"], ins["mnemonic"]


def test_range_only_on_scalars(raw):
    msg = _break(raw, lambda r: _instr(r, "vec.add")["operands"][2].update(range=[0.0, 1.0]))
    assert "`range` needs kind uint or f32" in msg
