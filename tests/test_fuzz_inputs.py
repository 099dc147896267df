"""A seeded, bounded fuzzer of what users feed accel from outside: binaries, source text, .npy
input files and config files, mutated byte by byte (issue 11, sections 4 and 4b).

Every case must end in success or in one of the project's own errors (AsmError, DecodeError,
ConfigError, MachineError; the CLI's exit 1 with a readable message and no traceback), never in a
foreign exception. Every binary the loader accepts disassembles to text that reassembles to the
identical bytes, and so does every program the assembler accepts. Most cases go through the Python
API (fast); a few hundred run the `accel` command in-process.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import numpy as np
import pytest

import accel
from accel.cli import CliError, main, read_npy
from accel.isa.asm import assemble
from accel.isa.disasm import disassemble_program
from accel.isa.encoding import DecodeError, Program
from accel.isa.resources import EXAMPLES_DIR
from accel.machine import ConfigError, Core, CoreConfig, MachineError

CASES_DIR = Path(__file__).parent / "programs" / "cases"
SOURCES = sorted(EXAMPLES_DIR.glob("*.s")) + sorted(CASES_DIR.glob("*.s"))
# The fuzzed programs run on a core whose DRAM is small, so a mutated tensor size cannot make the
# emulator allocate much (the loader must refuse it before anything is allocated).
FUZZ_CONFIG = CoreConfig(dram_bytes=1 << 22)
SPECIAL_U32 = (0, 1, 2, 0x7F, 0x80, 0xFF, 0x100, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF)
ASM_LOCATION = re.compile(r"^[^\n]*:\d+:\d+: error: ")


def binaries() -> list[bytes]:
    """The examples' and the per-opcode cases' programs, assembled."""
    return [accel.assemble_file(str(p)).to_bytes() for p in SOURCES]


def mutate(rng: np.random.Generator, data: bytes, header: int = 0) -> bytes:
    """One to three byte-level mutations: bit flips, random or special bytes and words, truncation,
    insertion, deletion, duplication and swaps of 64-byte instruction words (after `header` bytes)."""
    b = bytearray(data)
    for _ in range(int(rng.integers(1, 4))):
        kind = int(rng.integers(9))
        pos = int(rng.integers(len(b))) if b else 0
        if kind == 0 and b:
            b[pos] ^= 1 << int(rng.integers(8))
        elif kind == 1 and b:
            b[pos] = int(rng.integers(256))
        elif kind == 2 and len(b) >= 4:
            pos = min(pos - pos % 4, len(b) - 4)
            b[pos:pos + 4] = int(rng.choice(SPECIAL_U32)).to_bytes(4, "little")
        elif kind == 3:
            del b[int(rng.integers(len(b) + 1)):]
        elif kind == 4:
            b[pos:pos] = bytes(rng.integers(0, 256, int(rng.integers(1, 9)), dtype=np.uint8))
        elif kind == 5 and b:
            del b[pos:pos + int(rng.integers(1, 5))]
        elif kind == 6 and len(b) > header + 64:  # an instruction word's field: random bits in place
            word = header + 64 * int(rng.integers((len(b) - header) // 64))
            off = word + int(rng.integers(64))
            b[off] = (b[off] & ~(15 << 4)) | int(rng.integers(16)) << 4
        elif kind == 7 and len(b) > header + 128:  # swap two words
            n = (len(b) - header) // 64
            i, j = (header + 64 * int(k) for k in rng.choice(n, 2, replace=False))
            b[i:i + 64], b[j:j + 64] = b[j:j + 64], b[i:i + 64]
        elif kind == 8 and b:  # duplicate a chunk
            n = int(rng.integers(1, 65))
            b[pos:pos] = b[pos:pos + n]
    return bytes(b)


def load_binary(data: bytes) -> Program | None:
    """The loader's verdict: a Program whose disassembly reassembles to `data`, or None (DecodeError)."""
    try:
        prog = Program.from_bytes(data, FUZZ_CONFIG)
    except DecodeError as e:
        assert "\n" not in str(e) and str(e), repr(e)
        return None
    text = disassemble_program(prog)
    assert assemble(text, "<disasm>", FUZZ_CONFIG).to_bytes() == data, text
    return prog


def random_inputs(rng: np.random.Generator, prog: Program) -> dict[str, np.ndarray]:
    out = {}
    for t in prog.tensors:
        if t.role in ("in", "inout"):
            if t.dtype in ("int8", "int32"):
                out[t.name] = rng.integers(-128, 128, t.shape).astype(np.int8 if t.dtype == "int8" else np.int32)
            else:
                out[t.name] = rng.standard_normal(t.shape).astype(np.float32)
    return out


def run_program(rng: np.random.Generator, prog: Program) -> None:
    """Runs to the end or raises MachineError; nothing else."""
    try:
        Core(FUZZ_CONFIG).run(prog, random_inputs(rng, prog))
    except MachineError as e:
        assert str(e)


def test_mutated_binaries_load_or_are_refused() -> None:
    """3,000 mutants of the examples' and cases' binaries: DecodeError or a program that round-trips
    to the same bytes; one in eight accepted ones also runs (to the end, or a MachineError)."""
    rng = np.random.default_rng(11)
    bases = binaries()
    accepted = 0
    for k in range(3000):
        base = bases[k % len(bases)]
        header = len(base) - 64 * (len(Program.from_bytes(base).instructions))
        prog = load_binary(mutate(rng, base, header))
        if prog is not None:
            accepted += 1
            if accepted % 8 == 0:
                run_program(rng, prog)
    assert 100 < accepted < 2900  # both verdicts are exercised


def test_mutated_sources_assemble_or_are_refused() -> None:
    """1,500 byte-level mutants of the sources: AsmError (located, one caret line at most) or a
    program whose binary round-trips through the disassembler."""
    rng = np.random.default_rng(12)
    texts = [p.read_bytes() for p in SOURCES]
    accepted = 0
    for k in range(1500):
        data = mutate(rng, texts[k % len(texts)])
        try:
            prog = assemble(data, "fuzz.s", FUZZ_CONFIG)
        except accel.AsmError as e:
            assert ASM_LOCATION.match(str(e)) and len(str(e).splitlines()) <= 3, str(e)
            continue
        accepted += 1
        assert load_binary(prog.to_bytes()) is not None
    assert accepted > 50


def _npy_bases() -> list[np.ndarray]:
    return [np.arange(32, dtype=np.float32).reshape(4, 8), np.arange(32, dtype=np.int8).reshape(4, 8),
            np.zeros((4, 8), np.float64), np.ones((4, 8), np.uint16)]


NPY_PROGRAM = """\
.tensor x fp32[4, 8] in
.tensor y fp32[4, 8] out
dma.load sb[0:4, 0]:fp32[8], x
sem.signal dma, s0
sem.wait vec, s0
vec.muls sb[0:4, 64]:fp32[8], sb[0:4, 0]:fp32[8], 2.0
sem.signal vec, s1
sem.wait dma, s1
dma.store y, sb[0:4, 64]:fp32[8]
"""


def test_mutated_npy_inputs_are_read_or_refused(tmp_path) -> None:
    """1,500 mutants of .npy files (plus an .npz, text and an empty file): the CLI's reader gives an
    array or a one-line CliError; an array the program cannot take is a MachineError naming x."""
    rng = np.random.default_rng(13)
    bases = []
    for k, a in enumerate(_npy_bases()):
        np.save(tmp_path / f"b{k}.npy", a)
        bases.append((tmp_path / f"b{k}.npy").read_bytes())
    buf = io.BytesIO()
    np.savez(buf, x=_npy_bases()[0])
    bases += [buf.getvalue(), b"0.5 1.5\n", b""]
    prog = accel.assemble(NPY_PROGRAM)
    path = tmp_path / "x.npy"
    read = 0
    for k in range(1500):
        path.write_bytes(mutate(rng, bases[k % len(bases)]) if k % 7 else bases[k % len(bases)])
        try:
            x = read_npy(str(path), "--in x=")
        except CliError as e:
            assert "\n" not in str(e) and str(path) in str(e), str(e)
            continue
        read += 1
        try:
            Core().run(prog, {"x": x})
        except MachineError as e:
            assert str(e).startswith("input x")
    assert read > 100


CONFIGS = [
    b"[core]\npe_rows = 64\nsbuf_partitions = 64\npsum_banks = 4\n",
    b"pe_rows = 16\npe_cols = 8\nsemaphores = 4\ndram_bytes = 65536\n",
    b"# a comment\n[core]\nsbuf_partition_bytes = 4096  # bytes\n",
]


def test_mutated_config_files_load_or_are_refused(tmp_path) -> None:
    """1,500 mutants of config files: a CoreConfig or a one-line ConfigError naming the file."""
    rng = np.random.default_rng(14)
    path = tmp_path / "cfg.toml"
    loaded = 0
    for k in range(1500):
        path.write_bytes(mutate(rng, CONFIGS[k % len(CONFIGS)]))
        try:
            CoreConfig.from_toml(path)
        except ConfigError as e:
            assert str(e).startswith(str(path)) and "\n" not in str(e).strip(), str(e)
            continue
        loaded += 1
    assert loaded > 50


@pytest.mark.parametrize("text, words", [
    (b"[bogus]\npe_rows = 4\n", "unknown section [bogus]"),
    (b"pe_rows = 4\n[core]\npe_cols = 4\n", "key 'pe_rows' beside the [core] table"),
    (b"[core]\npe_rows = 4\n[other]\nx = 1\n", "section [other] beside the [core] table"),
    (b"core = 5\n", "core = 5: expected a [core] table"),
    (b'core = "small"\n', "core = 'small': expected a [core] table"),
    (b"pe_rows = 4 # caf\xe9\n", "cfg.toml:1: byte 0xe9 is not UTF-8"),
    (b"[core]\npe_row = 4\n", "unknown CoreConfig field 'pe_row' (did you mean pe_rows"),
    (b"pe_rows = '4'\n", "CoreConfig.pe_rows = '4'"),
])
def test_config_file_errors(tmp_path, text: bytes, words: str) -> None:
    """Each was silently ignored or a traceback before."""
    path = tmp_path / "cfg.toml"
    path.write_bytes(text)
    with pytest.raises(ConfigError) as info:
        CoreConfig.from_toml(path)
    assert words in str(info.value) and str(info.value).startswith(str(path))


def _cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def _assert_clean_failure(code: int, err: str) -> None:
    """Exit 1 with one readable line (an assembly error: its located line and caret), no traceback."""
    assert code == 1 and "Traceback" not in err, err
    lines = err.strip().splitlines()
    if ASM_LOCATION.match(lines[0]):
        assert len(lines) <= 3, err
    else:
        assert len(lines) == 1 and lines[0].startswith("accel: error: "), err


def test_cli_on_mutated_files(tmp_path) -> None:
    """400 runs of the `accel` command in-process on mutated binaries, sources, inputs and configs,
    half of them with --json (whose stdout must then be one JSON object)."""
    import json

    rng = np.random.default_rng(15)
    bases = binaries()
    texts = [p.read_bytes() for p in SOURCES]
    cfg = tmp_path / "small.toml"
    cfg.write_text("[core]\ndram_bytes = 4194304\n")
    np.save(tmp_path / "x0.npy", _npy_bases()[0])
    npy = (tmp_path / "x0.npy").read_bytes()
    (tmp_path / "p.s").write_text(NPY_PROGRAM)
    codes = {0: 0, 1: 0}
    for k in range(400):
        f = tmp_path / f"f{k % 4}"
        surface = k % 4
        if surface == 0:
            f.write_bytes(mutate(rng, bases[k % len(bases)]))
            argv = ["run", str(f), "--random-inputs", "--config", str(cfg)] if k % 8 else ["disasm", str(f)]
        elif surface == 1:
            f.write_bytes(mutate(rng, texts[k % len(texts)]))
            argv = ["asm", str(f), "-o", str(tmp_path / "out.bin"), "--config", str(cfg)]
        elif surface == 2:
            f.write_bytes(mutate(rng, npy))
            argv = ["run", str(tmp_path / "p.s"), "--in", f"x={f}", "--out", f"y={tmp_path / 'y'}"]
        else:
            f.write_bytes(mutate(rng, CONFIGS[k % len(CONFIGS)]))
            argv = ["run", str(tmp_path / "p.s"), "--random-inputs", "--config", str(f)]
        as_json = k % 2 == 1 and argv[0] == "run"
        code, out, err = _cli(argv + (["--json"] if as_json else []))
        codes[code] += 1
        if code:
            _assert_clean_failure(code, err)
        if as_json:
            report = json.loads(out)
            assert ("error" in report) == (code != 0), out
    assert codes[0] > 20 and codes[1] > 20, codes
