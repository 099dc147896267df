"""Assembler and disassembler: round trips, error diagnostics, and no tracebacks on bad text."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import accel
from accel.isa.encoding import BY_MNEMONIC, Instruction, Program, decode, encode
from accel.isa.operands import AP, DramAP, Tensor, dtype_bytes
from accel.isa.randprog import random_ap, random_program
from accel.isa.spec import REPO_ROOT

EXAMPLES = sorted((REPO_ROOT / "isa" / "examples").glob("*.s"))


def roundtrip(prog: Program, check: bool = True) -> None:
    """bin -> disasm -> asm gives the identical binary (check=False: at the encoding level, for
    random instructions that need not pass the static checks)."""
    data = prog.to_bytes()
    text = accel.disassemble(data, check=check)
    again = accel.assemble(text, "<disasm>", check=check)
    assert again.to_bytes() == data, text


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_roundtrip(path: Path):
    roundtrip(accel.assemble_file(str(path)))


def test_table_examples_roundtrip():
    head = ".tensor x bf16[128, 64] in\n.tensor y fp32[10, 32] out\n"
    prog = accel.assemble(head + "\n".join(i["example"] for i in BY_MNEMONIC.values()))
    assert [i.mnemonic for i in prog.instructions] == list(BY_MNEMONIC)
    roundtrip(prog)


def _consistent_dma(rng: np.random.Generator, ins: Instruction, tensors: list[Tensor]) -> Instruction:
    """Rewrite a random DMA so the assembler's static checks hold: same dtype, same element
    count, inside its own tensor."""
    ap: AP = ins.ops["dst" if ins.mnemonic == "dma.load" else "src"]
    strides = rng.integers(-3, 4, size=len(ap.dims) + 1)
    dims = tuple((n, int(s)) for (n, _), s in zip(ap.dims, strides[1:], strict=True))
    pstride = int(strides[0])
    lo = hi = 0
    for n, s in ((ap.pcount, pstride),) + dims:
        lo, hi = lo + min(0, (n - 1) * s), hi + max(0, (n - 1) * s)
    tensors.append(Tensor(f"t{len(tensors)}", ap.dtype, (hi - lo + 1,), "inout"))
    d = DramAP(len(tensors) - 1, -lo, pstride, dims)
    ops = dict(ins.ops, **{"src" if ins.mnemonic == "dma.load" else "dst": d})
    return Instruction(ins.spec, ops)


def _aligned_ap(ap: AP) -> AP:
    """The assembler requires element-aligned byte offsets; the random generator does not."""
    return dataclasses.replace(ap, offset=ap.offset - ap.offset % dtype_bytes(ap.dtype))


def _aligned(ins: Instruction) -> Instruction:
    return Instruction(ins.spec, {k: _aligned_ap(v) if isinstance(v, AP) else v for k, v in ins.ops.items()})


@pytest.mark.parametrize("seed", range(5))
def test_random_programs_roundtrip(seed: int):
    rng = np.random.default_rng(seed)
    tensors: list[Tensor] = []
    instrs = [_aligned(i) for i in random_program(rng, 400)]
    instrs = [_consistent_dma(rng, i, tensors) if i.mnemonic.startswith("dma.") else i for i in instrs]
    prog = Program(tensors, instrs)
    for i in instrs:
        assert decode(encode(i)).ops == i.ops
    roundtrip(prog, check=False)


def test_source_lines_are_recorded():
    prog = accel.assemble("; hi\n\nnop pe\n  halt  ; end\n", "p.s")
    assert [(i.line, i.source, i.where()) for i in prog.instructions] == [
        (3, "nop pe", "p.s:3"), (4, "halt", "p.s:4")]


def test_constants_expressions_and_slices():
    prog = accel.assemble(
        ".const A = (1 << 4) + 0x10 - 0b1\n.const B = A * 2 % 7\n.tensor w int8[8, 6, 4] in\n"
        "dma.load sb[2:6, A*4]:int8[3, 2], w[1:5, 1:4, 2:4]\n"
    )
    ins = prog.instructions[0]
    dst, src = ins.ops["dst"], ins.ops["src"]
    assert (dst.pstart, dst.pcount, dst.offset, dst.dims) == (2, 4, 124, ((3, 2), (2, 1)))
    assert (src.offset, src.pstride, src.dims) == (1 * 24 + 4 + 2, 24, ((3, 4), (2, 1)))


def test_f32_immediates():
    prog = accel.assemble(
        "\n".join(f"vec.adds sb[0, 0]:fp32[1], sb[0, 0]:fp32[1], {v}"
                  for v in ["1.5", "-0.0", "inf", "-inf", "nan", "bits(0x7fc00001)", "3", "1e-45"]))
    bits = [i.ops["scalar"] for i in prog.instructions]
    assert bits == [0x3FC00000, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000, 0x7FC00001, 0x40400000, 1]
    roundtrip(prog)


HEAD = ".tensor x bf16[128, 64] in\n.const K = 4\n"
ERRORS = [
    # (line, expected column, message fragment)
    ("foo 1, 2", 1, "unknown mnemonic 'foo'"),
    ("vec.ad sb[0:4, 0]:fp32[4], sb[0:4, 0]:fp32[4], sb[0:4, 0]:fp32[4]", 1, "did you mean vec.add"),
    ("vec.add sb[0:4, 2]:fp32[4], sb[0:4, 0]:fp32[4], sb[0:4, 0]:fp32[4]", 17, "not aligned to fp32"),
    ("vec.add sb[0:4, K+Q]:fp32[4], sb[0:4, 0]:fp32[4], sb[0:4, 0]:fp32[4]", 19, "unknown constant 'Q'"),
    ("vec.add sb[0:4, 0]:fp9[4], sb[0:4, 0]:fp32[4], sb[0:4, 0]:fp32[4]", 20, "unknown element type 'fp9'"),
    ("vec.add sb[4:2, 0]:fp32[4], sb[0:4, 0]:fp32[4], sb[0:4, 0]:fp32[4]", 12, "empty partition range"),
    ("vec.add sb[0:4, 0]:fp32[0], sb[0:4, 0]:fp32[4], sb[0:4, 0]:fp32[4]", 25, "dim count 0"),
    ("vec.add sb[0:4, 0]:fp32[1,2,3,4], sb[0:4, 0]:fp32[4], sb[0:4, 0]:fp32[4]", 31, "at most 3"),
    ("vec.add sb[0:4, 0]:fp32[4]", 27, "missing operand 'a'"),
    ("vec.add sb[0:4, 0]:fp32[4], sb[0:4, 0]:fp32[4], sb[0:4, 0]:fp32[4], 1", 69, "takes 3 operand(s)"),
    ("vec.adds sb[0:4, 0]:fp32[4], sb[0:4, 0]:fp32[4], 1e39", 50, "overflows binary32"),
    ("vec.adds sb[0:4, 0]:fp32[4], sb[0:4, 0]:fp32[4], one", 50, "expected a float"),
    ("pe.matmul sb[0:4, 0]:fp32[4], sb[0:4, 0]:bf16[4]", 11, "must be in psum"),
    ("pe.matmul psum[0:4, 0]:fp32[4], sb[0:4, 0]:fp32[4]", 33, "must hold bf16 or int8"),
    ("pe.matmul psum[0:4, 0]:fp32[4], sb[0:4, 0]:bf16[4], acc=2", 57, "expected 0 or 1"),
    ("pe.matmul psum[0:4, 0]:fp32[4], sb[0:4, 0]:bf16[4], bogus=1", 53, "has no operand 'bogus'"),
    ("sem.wait pe, s0, count=1, count=2", 27, "given twice"),
    ("sem.wait pe, t0", 14, "expected a semaphore"),
    ("sem.wait gpu, s0", 10, "expected an engine"),
    ("sem.wait pe, s0, count=-1", 24, "expected a non-negative integer"),
    ("sem.wait count=1, pe, s0", 19, "positional operand after"),
    ("sem.wait pe, s999", 14, "does not fit its 8-bit field"),
    ("dma.load sb[0:128, 0]:fp32[64], x", 33, "holds bf16 but the SBUF side is fp32"),
    ("dma.load sb[0:64, 0]:bf16[64], x", 32, "spans 128 partitions, SBUF side 64"),
    ("dma.load sb[0:128, 0]:bf16[64], x[0:128, 0:65]", 42, "out of axis 1's range"),
    ("dma.load sb[0:128, 0]:bf16[64], x(100)[128, 64]", 33, "reaches elements 100..8291"),
    ("dma.load sb[0:128, 0]:bf16[64], y", 33, "unknown tensor 'y'"),
    ("dma.load sb[0:128, 0]:bf16[64], x[0:128, 0:64", 46, "unclosed bracket"),
    ("act.relu sb[0:4, 0]:fp32[4], sb[0:4, 0]:fp32[4], bias=sb[0:4, 0]:fp32[2]", 55, "one fp32 per partition"),
    ("vec.add sb[0:4, 0]:fp32[4], (sb[0:4, 0]:fp32[4], sb[0:4, 0]:fp32[4]", 68, "unclosed bracket"),
    (".tensor x fp32[4] in", 9, "already declared"),
    (".tensor z fp32[4] out2", 19, "expected the tensor's role"),
    (".const K = 1", 8, "already defined"),
    (".weird 1", 1, "unknown directive"),
    ("vec.add sb[0:4, 1/0]:fp32[4], sb[0:4, 0]:fp32[4], sb[0:4, 0]:fp32[4]", 17, "division by zero"),
]


@pytest.mark.parametrize(("line", "col", "fragment"), ERRORS, ids=[e[2] for e in ERRORS])
def test_error_names_file_line_column(line: str, col: int, fragment: str):
    with pytest.raises(accel.AsmError) as e:
        accel.assemble(HEAD + line, "prog.s")
    err = e.value
    assert fragment in err.msg
    assert (err.file, err.line, err.col) == ("prog.s", 3, col), str(err)
    text = str(err).splitlines()
    assert text[0].startswith(f"prog.s:3:{col}: error: ")
    assert text[1].strip() == line.strip()
    assert text[2].index("^") == text[1].index(line[0]) + col - 1


TOKENS = ["vec.add", "dma.load", "pe.matmul", "act.relu", "sem.wait", "nop", "halt", ".const", ".tensor",
          "sb", "psum", "x", "[", "]", "(", ")", ":", ",", "=", "@", "0:4", "0x10", "-1", "fp32", "bf16",
          "int8", "bias", "acc", "1e99", "nan", "bits(", "s3", "pe", ";", "#", " ", "\t", "K", "*", "<<", "\n"]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.sampled_from(TOKENS), st.text(max_size=4)), max_size=30))
def test_malformed_text_only_raises_asm_error(parts: list[str]):
    text = ".tensor x bf16[128, 64] in\n" + " ".join(parts)
    try:
        accel.assemble(text, "fuzz.s")
    except accel.AsmError as e:
        assert re.match(r"fuzz\.s:\d+:\d+: error: ", str(e))


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_any_f32_bits_roundtrip_through_text(bits: int):
    prog = accel.assemble(f"vec.muls sb[0, 0]:fp32[1], sb[0, 0]:fp32[1], bits({bits:#x})")
    assert prog.instructions[0].ops["scalar"] == bits
    roundtrip(prog)


def test_random_ap_text_roundtrip():
    rng = np.random.default_rng(7)
    for _ in range(500):
        ap = _aligned_ap(random_ap(rng))
        prog = accel.assemble(f"vec.copy {ap}, {ap}", check=False)
        assert prog.instructions[0].ops["dst"] == ap


# --------------------------------------------------------------------------------------------- static checks (issue 11)

STATIC = [
    # (line, the operand the caret points at, message fragment); against the default CoreConfig
    ("vec.add sb[0:4, 0]:fp32[128], sb[0:4, 512]:fp32[128], sb[0:4, 1024]:fp32[127]", "sb[0:4, 1024]",
     "operands differ in shape: dst [4 partitions x 128], a [4 partitions x 128], b [4 partitions x 127]"),
    ("vec.muls sb[0:4, 0]:fp32[8], sb[0:5, 64]:fp32[8], 2.0", "sb[0:5", "operands differ in shape"),
    ("vec.reduce_sum sb[0:4, 0]:fp32[2], sb[0:4, 64]:fp32[4, 8]", "sb[0:4, 0]",
     "dst holds [4 x 2] but reducing src [4 x 32] over its last dim (8) gives [4 x 4]"),
    ("vec.copy sb[0:4, 0]:fp32[8], sb[0:4, 64]:int32[8]", "sb[0:4, 0]", "use vec.cast"),
    ("vec.copy sb[0:4, 196604]:fp32[2], sb[0:4, 0]:fp32[2]", "sb[0:4, 196604]",
     "bytes 196604..196611 outside sb's partition bytes 0..196607"),
    ("vec.copy psum[120:130, 0]:fp32[2], sb[0:10, 0]:fp32[2]", "psum", "partitions 120..129 outside psum's 0..127"),
    ("sem.signal vec, s99", "s99", "semaphore s99 does not exist (s0..s31)"),
    ("act.func sb[0:4, 0]:fp32[8], sb[0:4, 64]:fp32[8], fn=13", "13",
     "function id 13 is not loaded (built-ins 0..12, user slots 16..31 after act.lut.load)"),
    ("act.func sb[0:4, 0]:fp32[8], sb[0:4, 64]:fp32[8], fn=20", "20", "function id 20 is not loaded"),
    ("act.func sb[0:4, 0]:fp32[8], sb[0:4, 64]:fp32[8], fn=expo", "expo", "unknown function 'expo'; did you mean exp?"),
    ("act.relu sb[0:4, 0]:fp32[8], sb[0:4, 64]:fp32[8], bias=sb[0:2, 256]:fp32[1]", "sb[0:2, 256]",
     "bias has 2 partitions, src 4"),
    ("pe.matmul psum[0:4, 0]:int32[8], sb[0:4, 0]:bf16[8]", "psum", "a bf16 matmul writes fp32 to PSUM, dst is int32"),
    ("pe.load_weights sb[0:4, 0]:bf16[130]", "sb", "weights [4 x 130] do not fit the 128 x 128 PE array"),
    ("vec.rng_save_state sb[0:4, 0]:int32[3]", "sb", "a lane state needs 4"),
    ("vec.dropout_mask sb[0:4, 0]:fp32[40], sb[0:4, 256]:fp32[40], sb[0:4, 512]:int32[1], 0.5", "sb[0:4, 512]",
     "need [4 x 2]"),
    ("dma.load sb[0:128, 0]:bf16[64], x(64)[128@64, 64]", "x(64)", "reaches elements 64..8255 of tensor x"),
    (".tensor big fp32[65536, 65536] in", "65536, 65536",
     "brings the program's DRAM tensors to 17,179,885,568 bytes; the configured DRAM holds 4,294,967,296"),
]


@pytest.mark.parametrize(("line", "operand", "fragment"), STATIC, ids=[s[2][:40] for s in STATIC])
def test_static_errors_name_file_line_column(line: str, operand: str, fragment: str):
    """What the emulator found only at run time (without a column) the assembler reports at the operand."""
    with pytest.raises(accel.AsmError) as e:
        accel.assemble(HEAD + line, "prog.s")
    err = e.value
    assert fragment in err.msg and (err.file, err.line) == ("prog.s", 3), str(err)
    assert err.text[err.col - 1:].startswith(operand), str(err)
    assert not err.msg.startswith(line.split()[0] + ":"), "no repeated mnemonic prefix"


def test_static_checks_follow_the_config():
    """assemble(text, file, config=...) checks against the core the program will run on."""
    text = "nop vec\nsem.signal vec, s5\nvec.copy sb[60:64, 0]:fp32[2], sb[0:4, 0]:fp32[2]\n"
    accel.assemble(text)
    with pytest.raises(accel.AsmError, match=r"s5 does not exist \(s0..s3\)"):
        accel.assemble(text, config=accel.CoreConfig(semaphores=4))
    with pytest.raises(accel.AsmError, match="partitions 60..63 outside sb's 0..31"):
        accel.assemble(text, config=accel.CoreConfig(sbuf_partitions=32, pe_rows=32))


def test_a_loaded_user_slot_and_builtin_names_assemble():
    """fn=16 after an act.lut.load of slot 16 in program order is fine; built-ins go by name too, and
    the name gives the same bytes as the number."""
    body = ("act.lut.load sb[0:1, 1024]:int32[16], fn=16\n"
            "act.func sb[0:4, 0]:fp32[8], sb[0:4, 64]:fp32[8], fn=16\n"
            "act.func sb[0:4, 0]:fp32[8], sb[0:4, 64]:fp32[8], fn=gelu_tanh\n")
    prog = accel.assemble(body)
    assert [i.ops["fn"] for i in prog.instructions] == [16, 16, 5]
    assert accel.assemble(body.replace("fn=gelu_tanh", "fn=5")).to_bytes() == prog.to_bytes()
    with pytest.raises(accel.AsmError, match="function id 16 is not loaded"):  # slot 17 was loaded, not 16
        accel.assemble(body.replace("fn=16\n", "fn=17\n", 1))


def test_instructions_after_halt_are_not_checked_as_executed():
    """Nothing after halt is dispatched: only well-formedness applies there (as the emulator's
    run-time checks never see it)."""
    prog = accel.assemble("halt\nsem.wait pe, s99\nvec.copy sb[200, 0]:fp32[1], sb[0, 0]:fp32[1]\n")
    roundtrip(prog)
    with pytest.raises(accel.AsmError, match="not aligned"):
        accel.assemble("halt\nvec.copy sb[0, 2]:fp32[1], sb[0, 0]:fp32[1]\n")


def test_source_bytes_and_encoding_errors():
    """accel.assemble(b"halt") works; a byte that is not UTF-8 is located (line, column)."""
    assert [i.mnemonic for i in accel.assemble(b"nop pe\nhalt\n").instructions] == ["nop", "halt"]
    with pytest.raises(accel.AsmError) as e:
        accel.assemble(b"nop pe\n; caf\xe9\nhalt\n", "l.s")
    assert str(e.value) == "l.s:2:6: error: byte 0xe9 is not UTF-8 text (source files are UTF-8)"
    with pytest.raises(TypeError, match="source text"):
        accel.assemble(42)  # type: ignore[arg-type]
