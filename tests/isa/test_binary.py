"""The binary loader accepts exactly what the assembler can produce (issue 11, section 4b): a
corrupt tensor table or operand is a one-line DecodeError naming the tensor or the instruction by
index and mnemonic, before anything is allocated; an accepted binary's disassembly reassembles to
the same bytes."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import accel
from accel.isa.encoding import WORD_BYTES, DecodeError, Program, encode
from accel.isa.operands import Tensor
from accel.isa.resources import EXAMPLES_DIR

MLP = EXAMPLES_DIR / "mlp.s"
ACT = """\
.tensor x fp32[4, 8] in
.tensor y fp32[4, 8] out
dma.load sb[0:4, 0]:fp32[8], x
act.func sb[0:4, 64]:fp32[8], sb[0:4, 0]:fp32[8], fn=exp
vec.add sb[0:4, 128]:fp32[8], sb[0:4, 0]:fp32[8], sb[0:4, 64]:fp32[8]
dma.store y, sb[0:4, 128]:fp32[8]
"""


def changed(text: str, index: int, **ops) -> bytes:
    """The binary of `text` with instruction `index`'s operands replaced (as a corrupt file might)."""
    prog = accel.assemble(text)
    ins = prog.instructions[index]
    ins.ops.update(ops)
    return prog.to_bytes()


def decode_error(data: bytes, config=None) -> str:
    with pytest.raises(DecodeError) as info:
        Program.from_bytes(data, config)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_a_huge_tensor_is_refused_before_allocation() -> None:
    """A dimension of 0x7fffffff was `MemoryError: Unable to allocate 2.00 TiB`."""
    prog = accel.assemble_file(str(MLP))
    prog.tensors[0] = dataclasses.replace(prog.tensors[0], shape=(0x7FFFFFFF, 128))
    data = prog.to_bytes()
    message = decode_error(data)
    assert message.startswith("tensor table: tensor x (bf16[2147483647, 128]) brings the program's DRAM tensors to")
    assert "the configured DRAM holds 4,294,967,296 (CoreConfig.dram_bytes)" in message
    with pytest.raises(DecodeError):
        accel.run(data, {})
    small = accel.CoreConfig(dram_bytes=1 << 14)
    assert "holds 16,384" in decode_error(accel.assemble_file(str(MLP)).to_bytes(), small)


def test_mutated_operands_name_the_instruction() -> None:
    """A mutated operand was numpy's `operands could not be broadcast together`."""
    short = accel.assemble("vec.copy sb[0:4, 0]:fp32[7], sb[0:4, 64]:fp32[7]").instructions[0].ops["src"]
    message = decode_error(changed(ACT, 2, b=short))
    assert message == ("instruction 2 (vec.add): operands differ in shape: dst [4 partitions x 8], "
                       "a [4 partitions x 8], b [4 partitions x 7]")


def test_unloaded_function_has_no_repeated_prefix() -> None:
    """Was `act.func: act.func: function id 13 is not loaded`."""
    message = decode_error(changed(ACT, 1, fn=13))
    assert message == ("instruction 1 (act.func): function id 13 is not loaded (built-ins 0..12, user slots "
                       "16..31 after act.lut.load)")
    with pytest.raises(accel.MachineError) as info:  # the emulator's own check, reached past the loader
        core = accel.Core()
        core.load(ACT, {"x": np.zeros((4, 8), np.float32)})
        core.queues["ACT"][0].ops["fn"] = 13
        core.run()
    assert str(info.value).startswith("act.func (<asm>:4: act.func") and "act.func: act.func" not in str(info.value)


def test_dram_pattern_outside_its_tensor() -> None:
    """Was accepted, and the disassembly did not reassemble (`pattern reaches elements 0..95 of tensor
    cmax, which has 3`)."""
    prog = accel.assemble(ACT)
    src = prog.instructions[0].ops["src"]
    prog.instructions[0].ops["src"] = dataclasses.replace(src, offset=30)
    assert decode_error(prog.to_bytes()) == ("instruction 0 (dma.load): pattern reaches elements 30..61 of tensor x, "
                                             "which has 32 (0..31)")
    prog.instructions[0].ops["src"] = dataclasses.replace(src, tensor=5)
    assert decode_error(prog.to_bytes()) == "instruction 0 (dma.load): tensor number 5 but the program declares 2"


@pytest.mark.parametrize("cut, words", [
    (16, "truncated tensor table: tensor 0 of 2 needs its name length at bytes 16..16, the file has 16 bytes"),
    (10, "truncated header: 10 bytes, an accel binary's header has 16"),
    (19, "truncated tensor table: tensor 0 of 2 needs its type, role and rank at bytes 18..20"),
])
def test_truncated_files(cut: int, words: str) -> None:
    """A 16-byte header-only binary showed Python struct internals."""
    message = decode_error(accel.assemble(ACT).to_bytes()[:cut])
    assert message.startswith(words) and "unpack" not in message


def _with_tensor(t: Tensor) -> bytes:
    return Program([t], [accel.assemble("halt").instructions[0]]).to_bytes()


@pytest.mark.parametrize("tensor, words", [
    (Tensor("9x", "fp32", (4,), "in"), "tensor 0: name '9x' is not an identifier"),
    (Tensor("sb", "fp32", (4,), "in"), "'sb' names an on-chip memory"),
    (Tensor("x", "fp32", (), "in"), "tensor x: rank 0, allowed 1..255"),
    (Tensor("x", "fp32", (4, 0), "in"), "tensor x: dimension 0, allowed 1..4294967295"),
])
def test_bad_tensor_tables(tensor: Tensor, words: str) -> None:
    assert words in decode_error(_with_tensor(tensor))


def test_bad_codes_and_names_in_the_tensor_table() -> None:
    data = bytearray(_with_tensor(Tensor("x", "fp32", (4,), "in")))
    name_at = 16
    for pos, value, words in [(name_at + 2, 7, "element type code 7"), (name_at + 3, 9, "role code 9"),
                              (name_at + 1, 0xE9, "name b'\\xe9' is not an ASCII identifier")]:
        bad = bytearray(data)
        bad[pos] = value
        assert words in decode_error(bytes(bad))
    twice = Program([Tensor("x", "fp32", (4,), "in")] * 2, []).to_bytes()
    assert "tensor 'x' is declared twice" in decode_error(twice)


def test_a_stride_in_any_unused_dim_is_refused() -> None:
    """Found by tests/test_fuzz_inputs.py: a stride in the second unused dim of a pattern was decoded
    and dropped, so the binary's disassembly reassembled to other bytes."""
    prog = accel.assemble(ACT)
    data = bytearray(prog.to_bytes())
    start = len(data) - WORD_BYTES * len(prog.instructions)
    from accel.isa.encoding import SLOTS

    field = next(f for f in SLOTS["dram"]["fields"] if f["name"] == "dram.s2")
    word = int.from_bytes(data[start:start + WORD_BYTES], "little") | (1 << field["lsb"])
    data[start:start + WORD_BYTES] = word.to_bytes(WORD_BYTES, "little")
    assert decode_error(bytes(data)) == "instruction 0: dma.load src: unused dim 2 has stride 1, must be 0"
    assert encode(prog.instructions[0]) != word


def test_the_same_binary_checked_against_another_config() -> None:
    """A binary that fits the default core may not fit a smaller one: the loader checks against the
    config it is given (Core.run passes its own)."""
    data = accel.assemble(ACT).to_bytes()
    Program.from_bytes(data)
    small = accel.CoreConfig(sbuf_partition_bytes=128)
    assert "outside sb's partition bytes 0..127" in decode_error(data, small)
    with pytest.raises(DecodeError, match="partition bytes 0..127"):
        accel.Core(small).run(data, {"x": np.zeros((4, 8), np.float32)})


def test_core_load_checks_a_program_object() -> None:
    """A Program built or changed in Python is checked when loaded; without source lines the error
    names the instruction's index."""
    prog = Program.from_bytes(changed(ACT, 2), None)
    prog.instructions[2].ops["dst"] = dataclasses.replace(prog.instructions[2].ops["dst"], pcount=3)
    with pytest.raises(accel.MachineError) as info:
        accel.Core().load(prog, {"x": np.zeros((4, 8), np.float32)})
    assert str(info.value).startswith("instruction 2 (vec.add): operands differ in shape: dst [3 partitions x 8]")


def test_accepted_binaries_round_trip() -> None:
    for path in sorted(EXAMPLES_DIR.glob("*.s")):
        data = accel.assemble_file(str(path)).to_bytes()
        assert accel.assemble(accel.disassemble(data)).to_bytes() == data
