"""The assembler's fast paths (plain integers without the Python parser, plain access and DRAM
patterns by one regular expression, one parse per distinct pattern text and per distinct
instruction line, operand lists without nesting split by one regular expression, a whole
instruction line of the usual form read by its mnemonic's one regular expression, repeated lines
not checked again, cached operand encodings) give the same programs, bytes and error messages as
the general paths, on valid and broken text alike."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

import accel
from accel.isa import asm, encoding
from accel.isa.asm import AsmError, Tok
from accel.isa.operands import Tensor

CASES = Path(__file__).resolve().parents[1] / "programs" / "cases"
CONSTS = {"N": 16, "OFF": 64, "Z": 0, "NEG": -3, "match": 2}


def outcome(fn, *args):
    """fn's result, or its error's message and position."""
    try:
        return ("ok", fn(*args))
    except asm._Err as e:
        return ("err", e.msg, e.pos)


@pytest.fixture
def general(monkeypatch: pytest.MonkeyPatch):
    """Switch the fast paths off (the general paths then answer everything)."""
    def off():
        monkeypatch.setattr(asm, "_simple_int", lambda text, consts: None)
        monkeypatch.setattr(asm, "_plain_ap", lambda text, consts: None)
        monkeypatch.setattr(asm, "_plain_dram", lambda text, consts, tensors: None)
        monkeypatch.setattr(asm, "_FLAT_RE", re.compile(r"(?!)"))  # matches nothing: every split is the loop
        monkeypatch.setattr(asm, "_PARSED_LIMIT", 0)  # no line is remembered
        monkeypatch.setattr(asm, "_line_plan", lambda word: None)  # every instruction line: Assembler.instruction
    return off


NUMBERS = ["0", "7", "16", "-1", "-0", "0x10", "0X1f", "-0x8", "007", "00", "1_0", "N", "OFF", "NEG", "match",
           "True", "None", "undefined", "", " 4", "4 ", "1+1", "(2)", "0b11", "0o7", "٣", "N*2", "--1", "2**3", "8//2"]


def test_integers(general) -> None:
    fast = [outcome(asm.eval_int, Tok(t, 3), CONSTS) for t in NUMBERS]
    general()
    assert fast == [outcome(asm.eval_int, Tok(t, 3), CONSTS) for t in NUMBERS]


def random_pattern(rng: random.Random) -> str:
    """Access-pattern text: half of it well formed, the rest with a rule or the syntax broken somewhere."""
    good = rng.random() < 0.5
    num = (lambda: rng.choice(["1", "2", "3", "4", "16", "0x10", "N", "Z", "8"])) if good else \
        (lambda: rng.choice(NUMBERS[:16] + ["128", "4096", "196608", "3", "2", "1"]))  # noqa: E731
    offset = rng.choice(["0", "64", "OFF", "0x40", "Z", "128"]) if good else num()
    space = rng.choice(["sb", "psum"]) if good else rng.choice(["sb", "psum", "dram", "SB"])
    pranges = ["0:8", "N", "2:N", "0 : 4", "Z:1", "1"] if good else [f"{num()}:{num()}", num(), f"{num()}:", ""]
    dims = ", ".join(rng.choice([num(), f"{num()}@{rng.choice(['0', '1', '-1', 'NEG', '4'])}", f"{num()} @ {num()}"]
                                if good else [num(), f"{num()}@{num()}", "", f"{num()}@"])
                     for _ in range(rng.choice([1, 1, 2, 3] if good else [1, 2, 3, 4])))
    dtype = rng.choice(["fp32", "bf16", "int8", "int32"] if good else ["fp32", "bf16", "fp16", " fp32 "])
    text = f"{space}[{rng.choice(pranges)}, {offset}]:{dtype}[{dims}]"
    if not good and rng.random() < 0.3:
        k = rng.randrange(len(text))
        text = text[:k] + rng.choice(["", "]", "[", "(", ",", " ", "x"]) + text[k + 1:]
    return text.strip()


def test_access_patterns(general) -> None:
    rng = random.Random(7)
    texts = [random_pattern(rng) for _ in range(3000)]
    fast = [outcome(asm.parse_ap, Tok(t, 5), CONSTS) for t in texts]
    assert sum(o[0] == "ok" for o in fast) > 1000  # the sample holds enough valid patterns
    general()
    assert fast == [outcome(asm.parse_ap, Tok(t, 5), CONSTS) for t in texts]


TENSORS = {"x": (0, Tensor("x", "fp32", (16, 64), "in")), "y": (1, Tensor("y", "bf16", (4, 4, 8), "out"))}


def random_dram(rng: random.Random) -> str:
    """DRAM-pattern text: half of it well formed (raw and slice forms), the rest broken somewhere."""
    if rng.random() < 0.5:
        num = lambda: rng.choice(["1", "2", "4", "8", "16", "0x4", "N", "match"])  # noqa: E731
        off = rng.choice(["", "", "(16)", "(OFF)", "( 4 )", "(0)"])
        dims = ", ".join(rng.choice([num(), f"{num()}@{num()}", f"{num()} @ {rng.choice(['0', '1', '8'])}"])
                         for _ in range(rng.choice([1, 2, 3, 4])))
        if rng.random() < 0.2:
            off, dims = "", rng.choice(["0:4, 8:16", "1, :", "2:4, 0:64:2"])
        return f"{rng.choice(['x', 'y'])}{off}[{dims}]" if rng.random() < 0.95 else rng.choice(["x", "y"])
    num = lambda: rng.choice(NUMBERS[:16] + ["4", "8", "64", "1024"])  # noqa: E731
    name = rng.choice(["x", "y", "x", "z", "X", "x "])
    off = rng.choice(["", "", f"({num()})", "(OFF)", "( 16 )", "()", "(1+1)"])
    dims = ", ".join(rng.choice([num(), f"{num()}@{num()}", f"{num()} @ {num()}", "", f"{num()}:{num()}", ":"])
                     for _ in range(rng.choice([1, 2, 3, 4, 5])))
    text = f"{name}{off}[{dims}]"
    if rng.random() < 0.3:
        k = rng.randrange(len(text))
        text = text[:k] + rng.choice(["", "]", "[", "(", ")", ",", " ", "@"]) + text[k + 1:]
    return text.strip()


def test_dram_patterns(general) -> None:
    rng = random.Random(5)
    texts = [random_dram(rng) for _ in range(3000)]
    fast = [outcome(asm.parse_dram, Tok(t, 5), CONSTS, TENSORS) for t in texts]
    assert sum(o[0] == "ok" for o in fast) > 1000
    general()
    assert fast == [outcome(asm.parse_dram, Tok(t, 5), CONSTS, TENSORS) for t in texts]


def test_repeated_lines_are_checked_where_they_are(general) -> None:
    """A line whose parse is remembered still passes the program-order checks at its own place: a user
    function before and after its table is loaded, a fault before halt and the same text after it."""
    text = """.tensor x fp32[4, 8] in
.tensor t int32[1, 64] in
dma.load sb[0:4, 0]:fp32[8], x
dma.load sb[0:1, 64]:int32[64], t
act.lut.load sb[0:1, 64]:int32[64], fn=16
act.func sb[0:4, 0]:fp32[8], sb[0:4, 0]:fp32[8], fn=16
act.func sb[0:4, 0]:fp32[8], sb[0:4, 0]:fp32[8], fn=17
vec.add sb[0:4, 0]:fp32[8], sb[0:4, 0]:fp32[8], sb[0:4, 32]:fp32[8]
vec.add sb[0:4, 0]:fp32[8], sb[0:4, 0]:fp32[8], sb[0:4, 32]:fp32[8]
vec.adds sb[200, 0]:fp32[8], sb[0:4, 0]:fp32[8], 1.0
halt
vec.adds sb[200, 0]:fp32[8], sb[0:4, 0]:fp32[8], 1.0
act.func sb[0:4, 0]:fp32[8], sb[0:4, 0]:fp32[8], fn=17
"""
    lines = text.splitlines()
    variants = [text, "\n".join(lines[:5] + [lines[6]] + lines[5:6] + lines[7:]) + "\n",
                "\n".join(lines[:9] + lines[10:]) + "\n", "\n".join(lines[:6] + lines[7:]) + "\n"]
    variants += ["\n".join(lines[:2] + lines[5:6] + lines[2:]) + "\n"]  # fn=16 before its load
    fast = [_assembled(t) for t in variants]
    assert len({f if isinstance(f, str) else "ok" for f in fast}) >= 3  # different errors and a success
    general()
    encoding._cached_bits.cache_clear()
    assert fast == [_assembled(t) for t in variants]


def _split_by_characters(text: str, pos: int, sep: str = ",") -> list[Tok]:
    """split_top as it was written before (a loop over every character): the reference."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth < 0:
                raise asm._Err(f"unbalanced {ch!r}", pos + i)
        elif ch == sep and depth == 0:
            parts.append((start, i))
            start = i + 1
    if depth:
        raise asm._Err("unclosed bracket", pos + len(text))
    parts.append((start, len(text)))
    out = []
    for a, b in parts:
        piece = text[a:b]
        out.append(Tok(piece.strip(), pos + a + len(piece) - len(piece.lstrip())))
    return out


def test_split_top_is_the_character_loop() -> None:
    rng = random.Random(3)
    for _ in range(3000):
        text = "".join(rng.choice("ab ,,[]()@{}:;") for _ in range(rng.randrange(0, 30)))
        sep = rng.choice([",", ",", ":", "@"])
        assert outcome(asm.split_top, text, 2, sep) == outcome(_split_by_characters, text, 2, sep)


def test_strip_comment() -> None:
    for line in ["a ; b # c", "a # b ; c", "no comment", "#", ";", "", "x;", "sb[0:1, 0]:fp32[4] # 4"]:
        cut = min([i for i in (line.find(";"), line.find("#")) if i >= 0], default=len(line))
        assert asm._strip_comment(line) == line[:cut]


def case_texts() -> list[tuple[str, str]]:
    return [(p.name, p.read_text()) for p in sorted(CASES.glob("*.s"))]


def _broken(text: str, rng: random.Random) -> str:
    lines = text.splitlines()
    k = rng.randrange(len(lines))
    line = lines[k]
    if line:
        j = rng.randrange(len(line))
        line = line[:j] + rng.choice(["", "9", "]", "@", ",", "-", ":fp32"]) + line[j + 1:]
    lines[k] = line
    return "\n".join(lines) + "\n"


def _assembled(text: str):
    try:
        return accel.assemble(text, "case.s").to_bytes()
    except AsmError as e:
        return str(e)


def test_programs_and_errors_are_the_general_paths(general) -> None:
    """Every per-opcode case, and 400 one-character corruptions of them, assemble to the same bytes or
    the same diagnostic with the fast paths on and off."""
    rng = random.Random(11)
    texts = [t for _, t in case_texts()]
    texts += [_broken(rng.choice(texts), rng) for _ in range(400)]
    fast = [_assembled(t) for t in texts]
    assert any(isinstance(f, str) for f in fast) and any(isinstance(f, bytes) for f in fast)
    general()
    encoding._cached_bits.cache_clear()
    assert fast == [_assembled(t) for t in texts]


def test_equal_patterns_are_one_object() -> None:
    """Equal operand patterns share one object (the emulator's per-pattern lookups then hit at once)."""
    prog = accel.assemble("nop vec\nvec.add sb[0:8, 0]:fp32[16], sb[0:8, 0]:fp32[16], sb[0:8, 64]:fp32[16]\n"
                          "vec.muls sb[0:8, 0]:fp32[16], sb[0:8,0]:fp32[16], 2.0\n")
    a, b = prog.instructions[1].ops, prog.instructions[2].ops
    assert a["dst"] is a["a"] is b["dst"] is b["a"]


def test_encode_uses_the_operand_bits() -> None:
    """The cached encoding of each operand is the uncached one; a value that does not fit still
    names its instruction and operand."""
    for _, text in case_texts():
        for ins in accel.assemble(text).instructions:
            word = encoding._put(0, encoding.OPCODE["lsb"], encoding.OPCODE["width"], ins.spec["opcode"], False, "")
            for o in ins.spec["operands"]:
                word |= encoding._operand_bits(o["kind"], o["slot"], ins.ops[o["name"]], "")
            assert encoding.encode(ins) == word
    ins = accel.assemble("nop vec\nsem.signal vec, s0, 3\n").instructions[1]
    ins.ops["count"] = 1 << 40
    with pytest.raises(ValueError, match="sem.signal count = 1099511627776 does not fit"):
        encoding.encode(ins)


LINE_HEADER = """.const N = 4
.const OFF = 64
.tensor x fp32[16, 64] in
.tensor y bf16[4, 32] out
.tensor t int32[1, 64] in
"""
SCALARS = {
    "engine": ["pe", "act", "vec", "dma", "PE", "Vec", "seq", "x", "0"],
    "sem": ["s0", "s3", "S1", "s31", "s32", "s99", "x1", "s-1", "s٣"],
    "uint": ["0", "1", "2", "3", "15", "16", "17", "31", "32", "N", "-1", "0x10", "1+1", "bogus", "2.0", "True"],
    "f32": ["0.5", "-0.25", "1.5", "1e3", "0.0", "-0.0", "1", "inf", "-inf", "nan", "NaN", "bits(0x3f800000)",
            "1e39", "3.4028235e38", "3.4028236e38", "N", "x", "2", "+1.0", "1.", "1_0.5", "0x10"],
}
SCALARS["flag"] = SCALARS["uint"]


def random_ap(rng: random.Random, o: dict, shape: tuple[str, str], bias: bool = False) -> str:
    """An on-chip pattern for operand `o`: mostly of the line's shape (partitions, dims) and one of its
    allowed spaces and types, some not, some broken."""
    if rng.random() < 0.1:
        return random_pattern(rng)
    space = rng.choice(o.get("spaces", ["sb", "psum"]) if rng.random() < 0.95 else ["sb", "psum"])
    dtype = "fp32" if bias else rng.choice(o.get("dtypes", ["fp32", "bf16", "int8", "int32"])
                                         if rng.random() < 0.95 else ["fp32", "bf16", "int8", "int32"])
    prange, dims = shape if rng.random() < 0.8 else random_shape(rng)
    if bias and rng.random() < 0.8:
        dims = "1"
    off = rng.choice(["0", "64", "256", "2048", "OFF", "0x40", "1 + 1"] if rng.random() < 0.9 else ["N", "6", "Z"])
    text = f"{space}[{prange}, {off}]:{dtype}[{dims}]"
    return text.replace(" ", "") if rng.random() < 0.1 else text


def random_shape(rng: random.Random) -> tuple[str, str]:
    return (rng.choice(["0:4", "0:4", "0:1", "2:6", "N", "0:N", "0:16", "120:130", "0 : 4"]),
            rng.choice(["8", "8", "4", "16", "2", "4@4, 2", "2, 4", "2@0, 4@1", "N", "64", "1", "16@1", "8@-1"]))


def random_operand(rng: random.Random, mn: str, o: dict, shape: tuple[str, str]) -> str:
    kind = o["kind"]
    if kind == "ap":
        return random_ap(rng, o, shape)
    if kind == "bias":
        return random_ap(rng, o, shape, bias=True) if rng.random() < 0.5 else rng.choice(SCALARS["f32"])
    if kind == "dram":
        return rng.choice(["x(0)[4@64, 8@1]", "x(64)[4@64, 8@1]", "x[0:4, 0:8]", "x", "y(0)[4@32, 8@1]",
                           "y[0:4, 0:8]", "t(0)[1@64, 64@1]", "x(0)[4@64, 8]", "x(N)[4@16, 4@1]", "z(0)[4@1, 8@1]",
                           "x(1000)[4@64, 8@1]", "x(0)[8@64, 8@1]", "t", random_dram(rng)])
    if mn == "act.func" and o["name"] == "fn" and rng.random() < 0.3:
        return rng.choice(["exp", "gelu", "cos", "bogus", "N", "Exp"])
    return rng.choice(SCALARS[kind])


def random_line(rng: random.Random) -> str:
    """An instruction line of a random mnemonic: positional and key=value operands, optional ones left
    out, and now and then the rules of the operand list broken (order, repeats, a missing operand)."""
    mn = rng.choice(["dma.load", "dma.store"] if rng.random() < 0.2 else sorted(encoding.BY_MNEMONIC))
    shape = random_shape(rng) if rng.random() < 0.3 else ("0:4", rng.choice(["8", "4@4, 2", "16@1"]))
    parts, keyed = [], False
    for o in encoding.BY_MNEMONIC[mn]["operands"]:
        if "default" in o and rng.random() < 0.4:
            continue
        keyed = keyed or rng.random() < (0.6 if "default" in o else 0.2)
        positional = not keyed or rng.random() < 0.03
        text = random_operand(rng, mn, o, shape)
        parts.append(text if positional else f"{o['name']}{rng.choice(['=', ' = ', '= '])}{text}")
    if parts and rng.random() < 0.1:
        rng.choice([rng.shuffle, lambda p: p.pop(rng.randrange(len(p))), lambda p: p.append(rng.choice(p))])(parts)
    word = mn.upper() if rng.random() < 0.05 else mn
    return word + (" " + rng.choice([", ", ",", " , "]).join(parts) if parts else "") + rng.choice(["", " ", "  "])


def _program_of(text: str, check: bool = True):
    """The assembled program's bytes and every instruction's line, source and operands, or the diagnostic."""
    try:
        prog = accel.assemble(text, "line.s", check=check)
    except AsmError as e:
        return str(e)
    return prog.to_bytes(), [(i.line, i.source, repr(i.ops)) for i in prog.instructions]


def test_instruction_lines_are_the_general_path(general, monkeypatch: pytest.MonkeyPatch) -> None:
    """2,000 random instruction lines (each alone, and 500 also three times) before a halt assemble to the
    same program, or the same diagnostic, with the fast paths on and off, with the static checks and
    without; many of both kinds occur, and the line fast path takes most valid lines."""
    rng = random.Random(13)
    lines = [random_line(rng) for _ in range(2000)]
    texts = [LINE_HEADER + f"{line}\nhalt\n" for line in lines]
    texts += [LINE_HEADER + f"{line}\n  {line}\n{line}\nhalt\n" for line in lines[:500]]
    taken = []
    fast_instruction = asm.Assembler.fast_instruction
    monkeypatch.setattr(asm.Assembler, "fast_instruction",
                        lambda self, *a: taken.append(fast_instruction(self, *a)) or taken[-1])
    fast = [_program_of(t, check) for check in (True, False) for t in texts]
    valid = sum(isinstance(f, tuple) for f in fast[:len(texts)])
    assert 400 < valid < len(texts) - 400 and sum(taken) > 2 * valid  # the halts, and most valid lines
    general()
    encoding._cached_bits.cache_clear()
    assert fast == [_program_of(t, check) for check in (True, False) for t in texts]
