"""Random instructions round-trip through encode/decode, cover the ISA, and random words
split into valid and invalid exactly as the Python decoder does."""

from __future__ import annotations

import numpy as np
import pytest

from accel.isa.encoding import BY_OPCODE, DecodeError, decode, encode
from accel.isa.operands import AP, SPACES, DramAP
from accel.isa.randprog import (
    F32_SPECIALS,
    INSTRUCTIONS,
    bias_is_ap,
    opcode_of,
    random_instruction,
    random_program,
    random_words,
    reserved_mask,
)
from accel.tb import decoder_ref

N = 5000


@pytest.fixture(scope="module")
def program() -> list:
    return random_program(np.random.default_rng(1), N)


def test_round_trip(program: list) -> None:
    for ins in program:
        assert decode(encode(ins)) == ins, ins


def test_every_opcode_and_operand_form_is_generated(program: list) -> None:
    assert {i.mnemonic for i in program} == {i["mnemonic"] for i in INSTRUCTIONS}
    aps = [v for i in program for v in i.ops.values() if isinstance(v, AP)]
    drams = [v for i in program for v in i.ops.values() if isinstance(v, DramAP)]
    assert {a.space for a in aps} == set(SPACES)
    assert {len(a.dims) for a in aps} == {1, 2, 3} == {len(d.dims) for d in drams}
    assert any(s < 0 for a in aps for _, s in a.dims)
    assert any(s < 0 for d in drams for _, s in d.dims) and any(d.pstride < 0 for d in drams)
    biases = [i.ops["bias"] for i in program if i.spec["has_bias"]]
    assert any(isinstance(b, AP) for b in biases) and any(isinstance(b, int) for b in biases)
    f32 = {v for i in program for o in i.spec["operands"] if o["kind"] == "f32"
           for v in [i.ops[o["name"]]]}
    assert {0x7F800000, 0xFF800000, 0x7FC00000, 0x00000001} <= f32  # inf, -inf, NaN, subnormal
    assert len(f32 - set(F32_SPECIALS)) > 100


def test_operand_constraints_are_respected(program: list) -> None:
    for ins in program:
        for o in ins.spec["operands"]:
            v = ins.ops[o["name"]]
            if o["kind"] == "ap":
                assert v.space in o.get("spaces", SPACES), (ins.mnemonic, v)
                assert v.dtype in o.get("dtypes", [v.dtype]), (ins.mnemonic, v)
            if o["kind"] == "bias" and isinstance(v, AP):
                assert v.dtype == "fp32" and v.free_size == 1


def test_defaults_and_other_values_both_appear(program: list) -> None:
    for mn in ("sem.signal", "act.relu", "pe.matmul"):
        spec = next(i for i in INSTRUCTIONS if i["mnemonic"] == mn)
        o = next(o for o in spec["operands"] if "default" in o)
        values = [i.ops[o["name"]] for i in program if i.mnemonic == mn]
        assert len(set(map(repr, values))) > 1, mn


def test_mnemonic_argument() -> None:
    rng = np.random.default_rng(2)
    assert {random_instruction(rng, mnemonic="halt").mnemonic for _ in range(3)} == {"halt"}


def test_random_words_agree_with_decode() -> None:
    """A word the RTL must call valid (known opcode, reserved bits zero) is one `decode`
    accepts unless a field value is undefined; an invalid one is always rejected."""
    words = random_words(np.random.default_rng(3), 4000)
    kinds = {"decodes": 0, "valid fields only": 0, "unknown opcode": 0, "reserved set": 0}
    for w in words:
        valid = decoder_ref.expected(w)["valid"]
        op = opcode_of(w)
        try:
            decode(w)
            kinds["decodes"] += 1
            assert valid, hex(w)
        except DecodeError as e:
            if valid:
                kinds["valid fields only"] += 1
                assert "reserved" not in str(e) and "unknown opcode" not in str(e)
            elif op not in BY_OPCODE:
                kinds["unknown opcode"] += 1
            else:
                kinds["reserved set"] += 1
                assert w & reserved_mask(BY_OPCODE[op], bias_is_ap(w))
    assert min(kinds.values()) > 200, kinds


def test_decoder_reference_pack_round_trip() -> None:
    for w in random_words(np.random.default_rng(4), 300):
        out = decoder_ref.expected(w)
        assert decoder_ref.unpack(decoder_ref.pack(out)) == out
        assert decoder_ref.pack(out) < 1 << decoder_ref.VECTOR_BITS
