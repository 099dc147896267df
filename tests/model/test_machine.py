"""accel.Core and CoreConfig: configuration and input checks, deadlocks, bounds, PE checks,
semaphore ordering, step/peek/halt, statistics, and a small-array configuration."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import accel
from accel import ConfigError, Core, CoreConfig, MachineError
from accel.isa._table import TABLE
from accel.isa.check import DEFAULT_DRAM_BYTES
from accel.model import all_semantics

STORAGE = {"fp32": np.uint32, "bf16": np.uint16, "int8": np.int8, "int32": np.int32}
SIZE = {"fp32": 4, "bf16": 2, "int8": 1, "int32": 4}


def source(*lines: str) -> str:
    return "\n".join(lines) + "\n"


def line_of(text: str, fragment: str) -> int:
    """1-based number of the first line containing fragment."""
    return next(k for k, line in enumerate(text.splitlines(), 1) if fragment in line)


def error_of(program, inputs=None, config=None, exc=MachineError) -> str:
    """The message of the error that running the program raises."""
    with pytest.raises(exc) as info:
        Core(config).run(program, inputs)
    return str(info.value)


def static_error_of(text: str, fragment: str, config=None, inputs=None) -> str:
    """The assembler's message for a program with a static error: Core.run assembles the text
    against its config, and the caret points at `fragment` (the operand at fault)."""
    with pytest.raises(accel.AsmError) as info:
        Core(config).run(text, inputs)
    err = info.value
    assert err.text == text.splitlines()[err.line - 1] and err.text[err.col - 1:].startswith(fragment), str(err)
    return err.msg


def runtime_error_of(text: str, inputs=None, config=None, monkeypatch=None) -> str:
    """The emulator's own run-time message for the same program, with the static checks switched
    off (assembled with check=False and loaded past accel.isa.check): they stay the definition."""
    import accel.machine

    monkeypatch.setattr(accel.machine, "check_program", lambda program, limits=None: None)
    return error_of(accel.assemble(text, check=False), inputs, config)


def user_array(bits: np.ndarray, dtype: str) -> np.ndarray:
    """Stored elements -> what Core.run takes (fp32 as float32 with the same bits, bf16 as raw uint16)."""
    return bits.view(np.float32) if dtype == "fp32" else bits


def stored(out: np.ndarray, dtype: str) -> np.ndarray:
    """An output array -> the stored elements, exactly (bf16 comes back widened to float32)."""
    if dtype == "fp32":
        return out.view(np.uint32)
    if dtype == "bf16":
        bits = out.view(np.uint32)
        assert not np.any(bits & 0xFFFF), "a bf16 output was not widened exactly"
        return (bits >> 16).astype(np.uint16)
    return out


def random_bits(rng: np.random.Generator, dtype: str, shape) -> np.ndarray:
    """Any stored elements of dtype (every bit pattern, NaN payloads included)."""
    info = np.iinfo(STORAGE[dtype])
    return rng.integers(info.min, info.max, shape, endpoint=True).astype(STORAGE[dtype])


# --------------------------------------------------------------------------------------------- CoreConfig

# The documented allowed range of every field.
RANGES = {
    "pe_rows": (1, 256), "pe_cols": (1, 256), "sbuf_partitions": (1, 256), "sbuf_partition_bytes": (4, 1 << 20),
    "psum_partitions": (1, 256), "psum_partition_bytes": (4, 1 << 20), "psum_banks": (1, 64),
    "semaphores": (1, 256), "dma_bytes_per_cycle": (1, 1 << 16), "dram_bytes": (1, 1 << 40),
    "dispatch_cycles": (1, 64), "queue_depth": (1, 4096), "sync_cycles": (1, 64), "dma_latency_cycles": (0, 1 << 16),
    "dma_queues": (1, 64), "act_setup_cycles": (0, 1024), "act_latency_cycles": (1, 1024),
    "act_element_cycles": (1, 64), "act_bias_cycles": (0, 1024), "act_lut_word_cycles": (1, 64),
    "vec_decode_cycles": (2, 64), "vec_setup_cycles": (4, 1024), "vec_register_cycles": (1, 1024),
    "vec_binary_cycles": (1, 64), "vec_unary_cycles": (1, 64), "vec_stream_cycles": (1, 64),
    "vec_result_cycles": (0, 64), "vec_mask_word_cycles": (0, 64), "vec_dropout_scale_cycles": (0, 1024),
    "vec_seed_cycles": (0, 1024), "vec_seed_lane_cycles": (0, 64), "vec_philox_block_cycles": (1, 1024),
}


def test_config_defaults_come_from_the_isa() -> None:
    cfg = CoreConfig()
    assert {f.name for f in dataclasses.fields(cfg)} == set(RANGES)
    for name in TABLE["units"]:
        assert getattr(cfg, name) == TABLE["units"][name]
    assert cfg.dram_bytes == DEFAULT_DRAM_BYTES == 1 << 32
    assert cfg.psum_bank_bytes == 2048


@pytest.mark.parametrize("field", sorted(RANGES))
@pytest.mark.parametrize("where", ["below", "above", "float", "bool"])
def test_config_field_out_of_range(field: str, where: str) -> None:
    """Each bad value raises ConfigError naming the field and its allowed range."""
    lo, hi = RANGES[field]
    bad = {"below": lo - 1, "above": hi + 1, "float": float(lo + 3), "bool": True}[where]
    with pytest.raises(ConfigError) as info:
        CoreConfig(**{field: bad})
    assert f"CoreConfig.{field}" in str(info.value) and f"{lo}..{hi}" in str(info.value)


@pytest.mark.parametrize("fields, named, words", [
    ({"sbuf_partition_bytes": 4098}, "sbuf_partition_bytes", "multiple of 4"),
    ({"psum_partition_bytes": 1022}, "psum_partition_bytes", "multiple of 4"),
    ({"psum_banks": 3}, "psum_banks", "divide"),
    ({"psum_partition_bytes": 16, "psum_banks": 8}, "psum_banks", "multiple of 4"),
    ({"pe_rows": 64, "sbuf_partitions": 32}, "pe_rows", "sbuf_partitions (32)"),
    ({"pe_cols": 16, "psum_partitions": 8}, "pe_cols", "psum_partitions (8)"),
])
def test_config_inconsistent_fields(fields: dict, named: str, words: str) -> None:
    with pytest.raises(ConfigError) as info:
        CoreConfig(**fields)
    assert f"CoreConfig.{named}" in str(info.value) and words in str(info.value)


def test_config_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        CoreConfig().pe_rows = 4  # type: ignore[misc]


def test_config_from_toml(tmp_path) -> None:
    top = tmp_path / "top.toml"
    top.write_text("pe_rows = 16\npe_cols = 8\n")
    assert CoreConfig.from_toml(top) == CoreConfig(pe_rows=16, pe_cols=8)
    table = tmp_path / "core.toml"
    table.write_text("[core]\nsbuf_partitions = 64\npe_rows = 64\n")
    assert CoreConfig.from_toml(table) == CoreConfig(sbuf_partitions=64, pe_rows=64)
    assert CoreConfig.from_dict({"semaphores": 4}).semaphores == 4


@pytest.mark.parametrize("text, words", [
    ("pe_rowz = 4\n", ["unknown CoreConfig field 'pe_rowz'", "pe_rows"]),
    ("[core]\npsum_banks = 0\n", ["CoreConfig.psum_banks", "1..64"]),
    ("pe_rows = \n", ["bad.toml"]),
])
def test_config_from_bad_toml(tmp_path, text: str, words: list[str]) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        CoreConfig.from_toml(path)
    for w in words:
        assert w in str(info.value)


def test_config_errors_are_config_errors() -> None:
    """CoreConfig(pe_row=64) was a bare TypeError; accel.run(src, inputs, {"pe_rows": 64}) an AttributeError."""
    with pytest.raises(ConfigError) as info:
        CoreConfig(pe_row=64)
    assert str(info.value).startswith("unknown CoreConfig field 'pe_row' (did you mean pe_rows")
    assert "known: pe_rows, pe_cols" in str(info.value)
    n = len(RANGES)
    with pytest.raises(ConfigError, match=f"at most {n} fields"):
        CoreConfig(*range(1, n + 2))
    with pytest.raises(ConfigError, match="given twice"):
        CoreConfig(64, pe_rows=64)
    with pytest.raises(ConfigError, match="dict of field names, not int"):
        CoreConfig.from_dict(5)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="CoreConfig or a dict of its fields, not str"):
        Core("small")  # type: ignore[arg-type]
    result = accel.run("halt\n", None, {"pe_rows": 64})
    assert result.stats.instructions["SEQ"] == 1
    assert Core({"semaphores": 4}).config == CoreConfig(semaphores=4)
    with pytest.raises(ConfigError, match="unknown CoreConfig field 'pe_row'"):
        accel.run("halt\n", None, {"pe_row": 64})


def test_api_inputs_of_the_wrong_kind() -> None:
    with pytest.raises(MachineError, match="inputs must be a dict of tensor name -> array, not list"):
        Core().run(IO, [1, 2])  # type: ignore[arg-type]
    with pytest.raises(MachineError, match="input x: not an array"):
        Core().run(IO, io_inputs(x=[[1.0, 2.0, 3.0], [1.0]]))
    with pytest.raises(MachineError, match="Core.load takes a Program, assembly text or a binary, not int"):
        Core().load(5)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------- inputs and outputs

IO = source(
    ".tensor x fp32[2, 3] in",
    ".tensor q int8[2, 3] in",
    ".tensor h bf16[2, 4] in",
    ".tensor n int32[2, 2] inout",
    ".tensor yx fp32[2, 3] out",
    ".tensor yq int8[2, 3] out",
    ".tensor yh bf16[2, 4] out",
    "dma.load sb[0:2, 0]:fp32[3], x",
    "dma.load sb[0:2, 16]:int8[3], q",
    "dma.load sb[0:2, 32]:bf16[4], h",
    "dma.store yx, sb[0:2, 0]:fp32[3]",
    "dma.store yq, sb[0:2, 16]:int8[3]",
    "dma.store yh, sb[0:2, 32]:bf16[4]",
    "halt",
)


def io_inputs(**changes) -> dict:
    base = {"x": np.arange(6, dtype=np.float32).reshape(2, 3), "q": np.full((2, 3), -128, np.int8),
            "h": np.zeros((2, 4), np.float32), "n": np.array([[1, -2], [2**31 - 1, -(2**31)]], np.int32)}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


@pytest.mark.parametrize("changes, words", [
    ({"x": None}, ["input x", "fp32[2, 3]", "not given"]),
    ({"n": None}, ["input n", "inout", "not given"]),
    ({"x": np.zeros((3, 2), np.float32)}, ["input x", "(3, 2)", "(2, 3)"]),
    ({"q": np.array([[0, 1, 200]] * 2, np.int16)}, ["input q", "0..200", "-128..127"]),
    ({"q": np.full((2, 3), 255, np.uint8)}, ["input q", "-128..127"]),
    ({"n": np.array([[0, 0], [0, 2**31]], np.int64)}, ["input n", "2147483648", "int32"]),
    ({"q": np.zeros((2, 3), np.float32)}, ["input q", "integer array", "float32"]),
    ({"h": np.array([["a"] * 4] * 2)}, ["input h", "numeric"]),
    ({"bogus": np.zeros(1)}, ["bogus", "not tensors of the program"]),
    ({"yx": np.zeros((2, 3), np.float32)}, ["input yx", "declared out"]),
])
def test_bad_inputs_name_the_tensor(changes: dict, words: list[str]) -> None:
    message = error_of(IO, io_inputs(**changes))
    for w in words:
        assert w in message


def test_outputs_keep_bits_and_dtypes() -> None:
    """fp32 NaN payloads and -0 pass DMA unchanged; ints stay ints; inout tensors are outputs."""
    x = np.array([[0x7FC12345, 0x80000000, 0x00000001], [0xFF800001, 0x7F800000, 0x3F800000]], np.uint32)
    q = np.array([[-128, 127, 0], [-1, 1, 5]], np.int8)
    user_n = io_inputs()["n"]
    out = Core().run(IO, io_inputs(x=x.view(np.float32), q=q, n=user_n)).outputs
    assert sorted(out) == ["n", "yh", "yq", "yx"]
    assert out["yx"].dtype == np.float32 and np.array_equal(out["yx"].view(np.uint32), x)
    assert out["yq"].dtype == np.int8 and np.array_equal(out["yq"], q)
    assert out["n"].dtype == np.int32 and np.array_equal(out["n"], user_n)


def test_bf16_inputs_from_float32_round_to_nearest_even() -> None:
    """Ties go to the even neighbour, carries reach the exponent and infinity; results widen exactly."""
    given_bits = np.array([[0x3F808000, 0x3F818000, 0x3F808001, 0x7F7F8000],
                           [0xBF7FFFFF, 0x00008000, 0x00018000, 0x7FC12345]], np.uint32)
    want = np.array([[0x3F80, 0x3F82, 0x3F81, 0x7F80], [0xBF80, 0x0000, 0x0002, 0x7FC0]], np.uint16)
    out = Core().run(IO, io_inputs(h=given_bits.view(np.float32))).outputs["yh"]
    assert np.array_equal(stored(out, "bf16"), want)


def test_bf16_inputs_as_raw_bits_pass_unchanged() -> None:
    """uint16 input is raw bf16; DMA keeps NaN payloads, and the output widens them exactly."""
    raw = np.array([[0x7FC1, 0xFF81, 0x8000, 0x0001], [0x7F80, 0x3F80, 0xC2FF, 0x7F81]], np.uint16)
    out = Core().run(IO, io_inputs(h=raw)).outputs["yh"]
    assert np.array_equal(stored(out, "bf16"), raw)


# --------------------------------------------------------------------------------------------- deadlocks

def test_deadlock_names_the_waiting_instruction() -> None:
    text = source(
        ".tensor x fp32[1, 4] in",
        "dma.load sb[0, 0]:fp32[4], x",
        "sem.signal dma, s3",
        "sem.wait vec, s3, count=2",
        "vec.adds sb[0, 16]:fp32[4], sb[0, 0]:fp32[4], 1.0",
    )
    message = error_of(text, {"x": np.zeros((1, 4), np.float32)})
    assert "deadlock" in message
    assert "VEC: sem.wait vec, s3, count=2 at <asm>:4 (s3 = 1, needs 2); 2 instruction(s) left" in message
    assert "DMA" not in message  # it finished


def test_deadlock_circular_wait_between_two_engines() -> None:
    text = source(
        "sem.wait pe, s0",
        "sem.signal pe, s1",
        "sem.wait act, s1",
        "sem.signal act, s0",
        "nop vec",
    )
    message = error_of(text)
    assert "PE: sem.wait pe, s0 at <asm>:1 (s0 = 0, needs 1)" in message
    assert "ACT: sem.wait act, s1 at <asm>:3 (s1 = 0, needs 1)" in message
    assert "VEC" not in message


def test_deadlock_in_a_binary_still_names_the_instruction() -> None:
    data = accel.assemble(source("nop pe", "sem.wait dma, s5, count=3")).to_bytes()
    message = error_of(data)
    assert "DMA: sem.wait" in message and "s5 = 0, needs 3" in message


# --------------------------------------------------------------------------------------------- bounds

@pytest.mark.parametrize("instruction, operand, words", [
    ("vec.adds sb[120:136, 0]:fp32[4], sb[0:16, 0]:fp32[4], 1.0", "sb[120", ["partitions 120..135", "sb's 0..127"]),
    ("vec.copy sb[0:1, 196600]:fp32[4], sb[0:1, 0]:fp32[4]", "sb[0:1, 1966", ["bytes 196600..196615", "0..196607"]),
    ("vec.copy sb[0:1, 0]:fp32[4], sb[0:1, 4]:fp32[4@-1]", "sb[0:1, 4]", ["bytes -8..7", "0..196607"]),
    ("vec.copy sb[0:2, 0]:int8[2, 4@2], sb[0:2, 196600]:int8[2@4, 4@2]", "sb[0:2, 1966", ["bytes 196600..196610"]),
    ("vec.copy psum[0:129, 0]:fp32[1], sb[0:129, 0]:fp32[1]", "psum", ["partitions 0..128"]),
    ("vec.copy psum[0:4, 16380]:fp32[2], sb[0:4, 0]:fp32[2]", "psum", ["bytes 16380..16387", "psum's partition bytes"]),
    ("act.identity sb[0:4, 0]:fp32[4], psum[126:130, 0]:fp32[4]", "psum", ["partitions 126..129", "psum's 0..127"]),
])
def test_on_chip_bounds_errors_name_instruction_line_and_range(instruction: str, operand: str, words: list[str],
                                                              monkeypatch) -> None:
    """The assembler reports the pattern at its column; the emulator's run-time check (the
    definition) says the same, naming the instruction and its line."""
    text = source("nop vec", instruction)
    static = static_error_of(text, operand)
    message = runtime_error_of(text, monkeypatch=monkeypatch)
    assert message.startswith(f"{instruction.split()[0]} (<asm>:2: {instruction})")
    for w in words:
        assert w in message and w in static


# --------------------------------------------------------------------------------------------- streaming order

def _run_vec(*lines: str) -> Core:
    """Run VEC instructions on an SBUF whose partition 0 starts with fp32 0.0, 1.0, ..., 7.0."""
    core = Core(CoreConfig())
    core.load(source(*lines))
    core.sbuf[0, :32] = np.arange(8, dtype=np.float32).view(np.uint8)
    core.run()
    return core


@pytest.mark.parametrize("instruction", [
    "vec.adds sb[0:1, 0]:fp32[8], sb[0:1, 0]:fp32[8], 1.0",  # element for element, in place
    "vec.copy sb[0:1, 0]:fp32[7], sb[0:1, 4]:fp32[7]",  # each byte is read before it is written
    "vec.cast sb[0:1, 0]:bf16[8], sb[0:1, 0]:fp32[8]",  # narrowing in place: writes trail the reads
])
def test_vec_overlap_the_streaming_engine_agrees_with(instruction: str) -> None:
    """dst may overlap a source wherever the streaming engine (rtl/vec_engine.v) reads every shared
    byte no later than it writes it: the model's read-everything-first result is then the hardware's."""
    core = _run_vec(instruction)
    if "cast" in instruction:
        assert np.array_equal(core.peek("sb", 0, 0, "bf16", 8), np.arange(8))
    else:  # x + 1 in place, or the copy shifting every element down one place
        assert np.array_equal(core.peek("sb", 0, 0, "fp32", 7), np.arange(7) + 1)


@pytest.mark.parametrize("instruction, words", [
    ("vec.copy sb[0:1, 4]:fp32[7], sb[0:1, 0]:fp32[7]", "writes byte 4 at element 0 before src reads it at element 1"),
    ("vec.add sb[0:1, 0]:fp32[4], sb[0:1, 0]:fp32[4], sb[0:1, 12]:fp32[4@-1]", "before b reads it at element 3"),
    ("vec.copy sb[1:3, 4]:fp32[4], sb[0:2, 0]:fp32[4]", "before src reads it"),  # partition 1 is shared
    ("vec.dropout_mask sb[0:1, 0]:fp32[8], sb[0:1, 0]:fp32[8], sb[0:1, 28]:int32[1], 0.5", "mask overlaps dst"),
    ("vec.dropout_apply sb[0:1, 64]:fp32[8], sb[0:1, 0]:fp32[8], sb[0:1, 0]:int32[1], 0.5", "mask overlaps src"),
])
def test_vec_overlap_the_streaming_engine_would_break_is_an_error(instruction: str, words: str) -> None:
    message = error_of(source("nop vec", instruction))
    assert message.startswith(f"{instruction.split()[0]} (<asm>:2: {instruction})") and words in message


@pytest.mark.parametrize("backend", ["model", "fast"])
def test_act_overlap_out_of_stream_order_is_an_error(backend: str) -> None:
    """rtl/act_engine.v streams src into dst as the vector engine does (writes behind reads): in place
    element for element runs, a dst that writes a byte before src reads it is an error on both backends."""
    ok = Core(CoreConfig(), backend=backend)
    ok.load(source("act.identity sb[0:1, 0]:fp32[8], sb[0:1, 0]:fp32[8], scale=2.0"))
    ok.sbuf[0, :32] = np.arange(8, dtype=np.float32).view(np.uint8)
    ok.run()
    assert np.array_equal(ok.peek("sb", 0, 0, "fp32", 8), 2 * np.arange(8))
    bad = "act.relu sb[0:1, 4]:fp32[7], sb[0:1, 0]:fp32[7]"
    core = Core(CoreConfig(), backend=backend)
    core.load(source("nop act", bad))
    with pytest.raises(MachineError) as e:
        core.run()
    assert str(e.value).startswith(f"act.relu (<asm>:2: {bad})")
    assert "writes byte 4 at element 0 before src reads it at element 1; the ACT engine streams" in str(e.value)


def test_dram_bounds_are_checked_by_assembler_and_machine() -> None:
    text = source(".tensor x fp32[2, 3] in", "nop dma", "dma.load sb[0:2, 0]:fp32[3], x")
    with pytest.raises(accel.AsmError, match="reaches elements"):
        accel.assemble(text.replace("x\n", "x(1)[2@3, 3@1]\n"))
    program = accel.assemble(text)
    load = program.instructions[1]
    load.ops["src"] = dataclasses.replace(load.ops["src"], offset=1)  # as a hand-made binary might
    inputs = {"x": np.zeros((2, 3), np.float32)}
    message = error_of(program, inputs)  # Core.load checks a Program statically
    assert message.startswith("dma.load (<asm>:3: dma.load")
    assert "reaches elements 1..6 of tensor x, which has 6 (0..5)" in message
    binary = error_of(program.to_bytes(), inputs, exc=accel.DecodeError)  # so does the binary loader
    assert binary == "instruction 1 (dma.load): pattern reaches elements 1..6 of tensor x, which has 6 (0..5)"
    load.ops["src"] = dataclasses.replace(load.ops["src"], offset=0, pstride=-3)
    assert "elements -3..2 of tensor x" in error_of(program, inputs)


# --------------------------------------------------------------------------------------------- PE checks

PE_SETUP = (
    ".tensor w int8[4, 3] in",
    ".tensor x int8[4, 6] in",
    "dma.load sb[0:4, 0]:int8[3], w",
    "dma.load sb[0:4, 16]:int8[6], x",
    "sem.signal dma, s0",
    "sem.wait pe, s0",
)
PE_INPUTS = {"w": np.ones((4, 3), np.int8), "x": np.ones((4, 6), np.int8)}


@pytest.mark.parametrize("lines, words, static", [
    (["pe.matmul psum[0:3, 0]:int32[6], sb[0:4, 16]:int8[6]"], ["no weights loaded"], False),
    (["pe.load_weights sb[0:4, 0]:int8[3]", "pe.matmul psum[0:3, 0]:fp32[3], sb[0:4, 16]:bf16[3]"],
     ["moving data is bf16 but the loaded weights are int8"], False),
    (["pe.load_weights sb[0:4, 0]:int8[3]", "pe.matmul psum[0:3, 0]:fp32[6], sb[0:4, 16]:int8[6]"],
     ["int8 matmul writes int32", "dst is fp32"], True),
    (["pe.load_weights sb[0:4, 0]:int8[3]", "pe.matmul psum[0:3, 0]:int32[6], sb[0:5, 16]:int8[6]"],
     ["5 partitions", "K = 4"], False),
    (["pe.load_weights sb[0:4, 0]:int8[3]", "pe.matmul psum[0:4, 0]:int32[6], sb[0:4, 16]:int8[6]"],
     ["dst spans 4 partitions", "N = 3"], False),
    (["pe.load_weights sb[0:4, 0]:int8[3]", "pe.matmul psum[0:3, 0]:int32[8], sb[0:4, 16]:int8[6]"],
     ["8 elements per partition", "M = 6"], True),
    (["pe.load_weights sb[0:4, 0]:int8[3]", "pe.matmul psum[0:3, 2040]:int32[6], sb[0:4, 16]:int8[6]"],
     ["crosses PSUM banks 0 and 1", "2048 bytes"], True),
    (["pe.load_weights sb[0:4, 0]:int8[3]", "pe.matmul psum[0:3, 14000]:int32[2@-1, 3@200], sb[0:4, 16]:int8[6]"],
     ["crosses PSUM banks 6 and 7"], True),
])
def test_pe_matmul_rejects_mismatches(lines: list[str], words: list[str], static: bool, monkeypatch) -> None:
    """What depends on the loaded weights is checked at run time; what the instruction alone
    decides (dst type, M, the PSUM bank) is an assembly error at dst, with the same words."""
    text = source(*PE_SETUP, *lines)
    if static:
        assert all(w in static_error_of(text, "psum", inputs=PE_INPUTS) for w in words)
        message = runtime_error_of(text, PE_INPUTS, monkeypatch=monkeypatch)
    else:
        message = error_of(text, PE_INPUTS)
    assert message.startswith(f"pe.matmul (<asm>:{len(PE_SETUP) + len(lines)}: ")
    for w in words:
        assert w in message


def test_pe_matmul_fills_a_bank_to_its_last_byte() -> None:
    text = source(*PE_SETUP, "pe.load_weights sb[0:4, 0]:int8[3]", "pe.matmul psum[0:3, 4072]:int32[6], "
                  "sb[0:4, 16]:int8[6]", "pe.matmul psum[0:3, 4096]:int32[6], sb[0:4, 16]:int8[6]")
    core = Core()
    core.run(text, PE_INPUTS)
    assert np.array_equal(core.peek("psum", slice(0, 3), 4072, "int32", 12), np.full((3, 12), 4))


# --------------------------------------------------------------------------------------------- semaphores order engines

PIPELINE = {  # per engine, in queue order; {pad} marks where random nops go
    "DMA": ["dma.load sb[0:4, 0]:fp32[8], a", "{pad}", "sem.signal dma, s0", "{pad}", "sem.wait dma, s2",
            "dma.store y, sb[0:4, 128]:fp32[8]"],
    "VEC": ["{pad}", "sem.wait vec, s0", "vec.muls sb[0:4, 64]:fp32[8], sb[0:4, 0]:fp32[8], 2.0", "{pad}",
            "sem.signal vec, s1"],
    "ACT": ["{pad}", "sem.wait act, s1", "act.identity sb[0:4, 128]:fp32[8], sb[0:4, 64]:fp32[8], bias=1.0",
            "{pad}", "sem.signal act, s2"],
    "PE": ["{pad}"],
}
PIPE_A = np.arange(32, dtype=np.float32).reshape(4, 8) - 7.5


def pipeline_text(order: list[str], pads: list[int], sync: bool = True) -> str:
    """Interleave the engines' streams in `order` (engine names), nops padded from `pads`."""
    streams = {e: list(v) for e, v in PIPELINE.items()}
    pads = iter(pads)
    lines = [".tensor a fp32[4, 8] in", ".tensor y fp32[4, 8] out"]
    for eng in order:
        item = streams[eng].pop(0)
        if item == "{pad}":
            lines += [f"nop {eng.lower()}"] * next(pads, 0)
        elif sync or not item.startswith("sem."):
            lines.append(item)
    return source(*lines, "halt")


PIPE_ORDER = [e for e, v in PIPELINE.items() for _ in v]


@settings(max_examples=40, deadline=None)
@given(order=st.permutations(PIPE_ORDER), pads=st.lists(st.integers(0, 6), min_size=7, max_size=7))
def test_a_waiting_consumer_sees_the_producers_data(order: list[str], pads: list[int]) -> None:
    """Whatever the text interleaving and however busy each queue is, the result is the same."""
    y = Core().run(pipeline_text(order, pads), {"a": PIPE_A}).outputs["y"]
    assert np.array_equal(y, PIPE_A * 2 + 1)


def test_without_semaphores_a_busy_producer_is_overtaken() -> None:
    """The control for the test above: engines are not ordered by anything but semaphores."""
    y = Core().run(pipeline_text(PIPE_ORDER, [5, 0, 0, 0, 0, 0, 0], sync=False), {"a": PIPE_A}).outputs["y"]
    assert not np.array_equal(y, PIPE_A * 2 + 1)


def test_pipeline_runs_from_its_binary() -> None:
    data = accel.assemble(pipeline_text(PIPE_ORDER, [1] * 7)).to_bytes()
    assert np.array_equal(accel.run(data, {"a": PIPE_A}).outputs["y"], PIPE_A * 2 + 1)


def test_semaphore_beyond_the_configured_count(monkeypatch) -> None:
    text = source("nop vec", "sem.signal vec, s4")
    assert static_error_of(text, "s4", CoreConfig(semaphores=4)) == "semaphore s4 does not exist (s0..s3)"
    message = runtime_error_of(text, config=CoreConfig(semaphores=4), monkeypatch=monkeypatch)
    assert message.startswith("sem.signal (<asm>:2") and "s4 does not exist (s0..s3)" in message


# --------------------------------------------------------------------------------------------- step, peek, halt

def test_step_runs_one_instruction_at_a_time() -> None:
    text = pipeline_text(PIPE_ORDER, [0] * 7)
    core = Core()
    core.load(text, {"a": PIPE_A})
    program_lines = {line for line in text.splitlines() if not line.startswith((".", "halt"))}
    executed = []
    while (ins := core.step()) is not None:
        executed.append(ins)
        assert ins.source in program_lines and ins.engine in ("PE", "ACT", "VEC", "DMA")
    assert len(executed) == len(program_lines) == core.stats.steps
    assert sum(core.stats.instructions[e] for e in ("PE", "ACT", "VEC", "DMA")) == len(executed)
    assert executed[0].source == "dma.load sb[0:4, 0]:fp32[8], a"  # every other head waits
    assert [i.source for i in executed if i.engine == "VEC"] == [x for x in PIPELINE["VEC"] if x != "{pad}"]
    assert core.step() is None
    assert np.array_equal(core.outputs()["y"], PIPE_A * 2 + 1)


def test_step_reports_a_deadlock_only_when_nothing_can_run() -> None:
    core = Core()
    core.load(source("nop dma", "nop dma", "sem.wait vec, s1"))
    assert core.step().mnemonic == "nop"  # VEC is blocked, DMA runs
    assert core.step().mnemonic == "nop"
    with pytest.raises(MachineError, match="deadlock"):
        core.step()


def test_run_with_max_steps_then_resume() -> None:
    core = Core()
    partial = core.run(pipeline_text(PIPE_ORDER, [0] * 7), {"a": PIPE_A}, max_steps=3)
    assert not partial.finished and core.stats.steps == 3
    rest = core.run()
    assert rest.finished and np.array_equal(rest.outputs["y"], PIPE_A * 2 + 1)


def test_run_without_a_program() -> None:
    with pytest.raises(MachineError, match="no program loaded"):
        Core().run()


def test_peek_reads_sbuf_and_psum_as_numbers() -> None:
    h = np.array([[0x7FC1, 0x8000, 0x3F80, 0x0001], [0xC000, 0x7F80, 0xFF81, 0x4000]], np.uint16)
    q = np.array([[-128, 127, 3], [0, -1, 9]], np.int8)
    core = Core()
    core.run(IO + "vec.copy psum[2:4, 8]:fp32[3], sb[0:2, 0]:fp32[3]\n", io_inputs(h=h, q=q))  # after halt
    assert np.array_equal(core.peek("sb", slice(0, 2), 0, "fp32", 3), io_inputs()["x"])
    assert np.array_equal(stored(core.peek("sb", slice(0, 2), 32, "bf16", 4), "bf16"), h)
    row = core.peek("sb", 1, 16, "int8", 3)
    assert row.dtype == np.int8 and np.array_equal(row, q[1])
    assert not core.peek("psum", slice(2, 4), 8, "fp32", 3).any()  # the copy came after halt
    for args, words in [(("dram", 0, 0, "fp32", 1), "space"), (("sb", 128, 0, "fp32", 1), "partition 128"),
                        (("sb", 0, 0, "fp16", 1), "dtype"), (("psum", 0, 16384, "fp32", 1), "bytes")]:
        with pytest.raises(MachineError, match=words):
            core.peek(*args)


def test_halt_stops_dispatch() -> None:
    """Nothing after halt is queued: not the fault, not the deadlocking wait, not the overwrite."""
    text = source(
        ".tensor y int32[1, 2] out",
        "vec.adds sb[0, 0]:int32[2], sb[0, 0]:int32[2], 7.0",
        "sem.signal vec, s0",
        "sem.wait dma, s0",
        "dma.store y, sb[0, 0]:int32[2]",
        "halt",
        "vec.adds sb[0, 0]:int32[2], sb[0, 0]:int32[2], 1.0",
        "dma.store y, sb[200, 0]:int32[2]",
        "sem.wait pe, s9",
        "halt",
    )
    core = Core()
    core.load(text)
    assert {e: len(q) for e, q in core.queues.items()} == {"PE": 0, "ACT": 0, "VEC": 2, "DMA": 2}
    result = core.run()
    assert np.array_equal(result.outputs["y"], [[7, 7]])
    assert result.stats.instructions == {"PE": 0, "ACT": 0, "VEC": 2, "DMA": 2, "SEQ": 1}


def test_program_without_halt_ends_after_its_last_instruction() -> None:
    result = accel.run(source("nop pe", "nop act"))
    assert result.stats.instructions == {"PE": 1, "ACT": 1, "VEC": 0, "DMA": 0, "SEQ": 0}


# --------------------------------------------------------------------------------------------- statistics

def test_statistics_of_a_hand_counted_program() -> None:
    text = source(
        ".tensor x bf16[4, 8] in",
        ".tensor w bf16[4, 3] in",
        ".tensor y fp32[3, 8] out",
        "dma.load sb[0:4, 0]:bf16[8], x",  # 64 bytes in
        "dma.load sb[0:4, 64]:bf16[3], w",  # 24 bytes in
        "sem.signal dma, s0",
        "sem.wait pe, s0",
        "pe.load_weights sb[0:4, 64]:bf16[3]",
        "pe.matmul psum[0:3, 0]:fp32[8], sb[0:4, 0]:bf16[8]",  # 4 * 3 * 8 = 96 MACs
        "pe.matmul psum[0:3, 0]:fp32[2@4, 4@1], sb[0:4, 0]:bf16[8], acc=1",  # 96 more
        "sem.signal pe, s1",
        "sem.wait vec, s1",
        "vec.copy sb[0:3, 128]:fp32[8], psum[0:3, 0]:fp32[8]",
        "sem.signal vec, s2",
        "sem.wait dma, s2",
        "dma.store y, sb[0:3, 128]:fp32[8]",  # 96 bytes out
        "halt",
    )
    x = np.arange(32, dtype=np.float32).reshape(4, 8) - 10
    w = np.array([[1, -2, 0.5], [3, 0, -1], [2, 2, 2], [-4, 1, 0.25]], np.float32)
    result = accel.run(text, {"x": x, "w": w})
    assert np.array_equal(result.outputs["y"], 2 * (w.T @ x))  # small integers and halves: exact
    s = result.stats
    assert s.instructions == {"PE": 5, "ACT": 0, "VEC": 3, "DMA": 5, "SEQ": 1}
    assert (s.macs, s.bytes_dram_to_sbuf, s.bytes_sbuf_to_dram, s.steps) == (192, 88, 96, 13)
    assert s.to_dict()["macs"] == 192


def test_every_opcode_has_a_semantic_function() -> None:
    semantics = all_semantics()
    table = {i["mnemonic"] for i in TABLE["instructions"]}
    assert table - {"halt"} <= set(semantics), "halt is the sequencer's; every other opcode needs a function"
    assert set(semantics) <= table, "a semantic function for an opcode the table does not define"
    assert all(callable(f) for f in semantics.values())


# --------------------------------------------------------------------------------------------- a small core

SMALL = CoreConfig(pe_rows=4, pe_cols=4, sbuf_partitions=8, sbuf_partition_bytes=256, psum_partitions=8,
                   psum_partition_bytes=128, psum_banks=2, semaphores=4)


def small_program(k: int = 4, n: int = 4, extra: str = "") -> str:
    return source(
        f".tensor w int8[{k}, {n}] in",
        f".tensor x int8[{k}, 6] in",
        f".tensor y int32[{n}, 6] out",
        f"dma.load sb[0:{k}, 0]:int8[{n}], w",
        f"dma.load sb[0:{k}, 8]:int8[6], x",
        "sem.signal dma, s3",
        "sem.wait pe, s3",
        f"pe.load_weights sb[0:{k}, 0]:int8[{n}]",
        f"pe.matmul psum[0:{n}, 40]:int32[6], sb[0:{k}, 8]:int8[6]",
        "sem.signal pe, s0",
        "sem.wait vec, s0",
        f"vec.copy sb[0:{n}, 232]:int32[6], psum[0:{n}, 40]:int32[6]",
        extra,
        "sem.signal vec, s1",
        "sem.wait dma, s1",
        f"dma.store y, sb[0:{n}, 232]:int32[6]",
        "halt",
    )


def test_small_core_runs_a_program_that_fits() -> None:
    rng = np.random.default_rng(7)
    w, x = rng.integers(-128, 128, (4, 4), dtype=np.int8), rng.integers(-128, 128, (4, 6), dtype=np.int8)
    y = accel.run(small_program(), {"w": w, "x": x}, config=SMALL).outputs["y"]
    assert np.array_equal(y, w.astype(np.int64).T @ x.astype(np.int64))


@pytest.mark.parametrize("k, n, extra, words", [
    (8, 4, "", ["pe.load_weights", "[8 x 4] do not fit the 4 x 4 PE array"]),
    (4, 5, "", ["[4 x 5] do not fit"]),
    (4, 4, "vec.copy sb[4:12, 0]:int8[1], sb[0:8, 0]:int8[1]", ["partitions 4..11", "sb's 0..7"]),
    (4, 4, "vec.copy sb[0:1, 0]:int32[1], sb[0:1, 256]:int32[1]", ["bytes 256..259", "0..255"]),
    (4, 4, "vec.copy psum[0:1, 124]:int32[2], sb[0:1, 0]:int32[2]", ["bytes 124..131", "0..127"]),
])
def test_small_core_rejects_what_does_not_fit(k: int, n: int, extra: str, words: list[str], monkeypatch) -> None:
    """Checked against the config the program runs with: statically (Core.run assembles against
    it; so does assemble(text, config=...)) and at run time."""
    inputs = {"w": np.zeros((k, n), np.int8), "x": np.zeros((k, 6), np.int8)}
    text = small_program(k, n, extra)
    with pytest.raises(accel.AsmError) as info:
        accel.assemble(text, config=SMALL)
    accel.assemble(text)  # fits the default core
    message = runtime_error_of(text, inputs, SMALL, monkeypatch)
    for w in words:
        assert w in message and w in str(info.value)
    assert error_of(text, inputs, SMALL, exc=accel.AsmError) == str(info.value)


def test_small_core_psum_banks_are_64_bytes() -> None:
    text = small_program().replace("psum[0:4, 40]:int32[6]", "psum[0:4, 56]:int32[6]")
    message = static_error_of(text, "psum", SMALL, {"w": np.zeros((4, 4), np.int8), "x": np.zeros((4, 6), np.int8)})
    assert "crosses PSUM banks 0 and 1 (bank = 64 bytes per partition)" in message


# --------------------------------------------------------------------------------------------- strided DMA vs numpy

@st.composite
def dma_case(draw):
    """A dtype, a partition count, 1-3 free dims, DRAM strides (any sign, zero too), and on-chip strides
    that visit a contiguous block in a permuted (sign-flipped) order."""
    dtype = draw(st.sampled_from(sorted(STORAGE)))
    pcount = draw(st.integers(1, 4))
    counts = draw(st.lists(st.integers(1, 4), min_size=1, max_size=3))
    strides = [draw(st.integers(-7, 7)) for _ in counts]
    pstride = draw(st.integers(-20, 20))
    flips = [draw(st.booleans()) for _ in counts]
    p0 = draw(st.integers(0, 6))
    base = draw(st.integers(0, 5))
    extra = draw(st.integers(0, 4))
    store = [draw(st.integers(-9, 9)) for _ in range(len(counts) + 1)]
    return dtype, pcount, counts, strides, pstride, flips, p0, base, extra, store


def dram_pattern(name: str, dims: list[tuple[int, int]]) -> tuple[str, np.ndarray, int]:
    """Raw DRAM pattern (partition dim first) over a 1-D tensor: its text, its [P, F] element indices
    by numpy broadcasting, and the tensor size it needs."""
    offset = -sum(min(0, (n - 1) * s) for n, s in dims)
    idx = np.array(offset)
    for n, s in dims:
        idx = idx[..., None] + np.arange(n) * s
    text = f"{name}({offset})[{', '.join(f'{n}@{s}' for n, s in dims)}]"
    return text, idx.reshape(dims[0][0], -1), int(idx.max()) + 1


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(case=dma_case(), seed=st.integers(0, 2**32 - 1))
def test_strided_dma_matches_numpy_indexing(case, seed: int) -> None:
    """Load through a random DRAM pattern into a permuted on-chip block, store it back three ways."""
    dtype, pcount, counts, strides, pstride, flips, p0, base, extra, store = case
    f = math.prod(counts)
    src_text, src_idx, src_size = dram_pattern("x", [(pcount, pstride), *zip(counts, strides, strict=True)])
    dst_dims = [(pcount, store[0]), *zip(counts, store[1:], strict=True)]
    dst_text, dst_idx, dst_size = dram_pattern("z", dst_dims)
    assume(len(np.unique(dst_idx)) == dst_idx.size)  # a scatter with repeats has no single answer
    # on-chip: row-major strides over the block, some negated (the block is then visited backwards)
    row_major = [math.prod(counts[j + 1:]) for j in range(len(counts))]
    onchip = [(n, -r if flip else r) for n, r, flip in zip(counts, row_major, flips, strict=True)]
    start = base + sum((n - 1) * r for n, r, flip in zip(counts, row_major, flips, strict=True) if flip)
    size = SIZE[dtype]
    ap = f"sb[{p0}:{p0 + pcount}, {start * size}]:{dtype}[{', '.join(f'{n}@{s}' for n, s in onchip)}]"
    block = f"sb[{p0}:{p0 + pcount}, {base * size}]:{dtype}[{f}]"
    text = source(
        f".tensor x {dtype}[{src_size + extra}] in",
        f".tensor z {dtype}[{dst_size + extra}] inout",
        f".tensor y {dtype}[{pcount}, {f}] out",
        f".tensor b {dtype}[{pcount}, {f}] out",
        f"dma.load {ap}, {src_text}",
        f"dma.store y, {ap}",
        f"dma.store b, {block}",
        f"dma.store {dst_text}, {ap}",
        "halt",
    )
    rng = np.random.default_rng(seed)
    x = random_bits(rng, dtype, src_size + extra)
    z = random_bits(rng, dtype, dst_size + extra)
    result = Core().run(text, {"x": user_array(x, dtype), "z": user_array(z, dtype)})
    out = result.outputs
    gathered = x[src_idx]
    assert np.array_equal(stored(out["y"], dtype), gathered)
    position = np.array(start)
    for n, s in onchip:
        position = position[..., None] + np.arange(n) * s
    want_block = np.empty_like(gathered)
    want_block[:, position.reshape(-1) - base] = gathered
    assert np.array_equal(stored(out["b"], dtype), want_block)
    z[dst_idx] = gathered
    assert np.array_equal(stored(out["z"], dtype), z)
    assert result.stats.bytes_dram_to_sbuf * 3 == result.stats.bytes_sbuf_to_dram == 3 * pcount * f * size
