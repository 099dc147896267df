"""cocotb bench for rtl/decoder.v, through the bulk wrapper sim/decoder_tb.v.

Every output of every decoded word (valid, opcode, engine, slots and each slot field) is
compared with accel.tb.decoder_ref, which uses the Python decoder's rules. Words go to the RTL
through $readmemh files, one per clock, with no Python in the loop; Python only prepares a
batch and reads the mismatch count and the first mismatch at its end.

Run by tests/rtl/test_decoder_rtl.py and `accel verify decoder` (accel.tb.verify_decoder.bench). The
plan is JSON in ACCEL_DECODER_PLAN: {"vectors": random words in test_random_words, "seed": seed of the
random words and programs} (default 2000 and 1); each test adds {vectors, mismatches, load_seconds,
sweep_seconds} under its name to the JSON report named by ACCEL_DECODER_REPORT, when set.
"""

from __future__ import annotations

import time
from pathlib import Path

import cocotb
import numpy as np
from cocotb.triggers import FallingEdge, RisingEdge

from accel.isa._table import TABLE
from accel.isa.asm import AsmError, assemble, assemble_file
from accel.isa.encoding import BY_OPCODE, WORD_BITS, encode
from accel.isa.randprog import random_program, random_words
from accel.tb import decoder_ref, verify_decoder
from accel.tb.clock import pulse, start_clock
from accel.tb.memfile import write_memh
from accel.tb.plan import plan_from_env, report_part
from accel.tb.runner import REPO_ROOT
from accel.tb.scoreboard import Scoreboard

TOPLEVEL = "decoder_tb"
WORDS_FILE, EXPECT_FILE = "decoder_words.hex", "decoder_expect.hex"  # names in decoder_tb.v
PLAN = plan_from_env(verify_decoder.PLAN_ENV, {"vectors": 2000, "seed": 1})
SEED = int(PLAN["seed"])


async def sweep(dut, words: list[int], sb: Scoreboard, label: str) -> tuple[float, float]:
    """Decode `words` in the RTL in batches as large as the wrapper's memories and count the
    results into `sb`. Returns the wall seconds spent loading the memory files and sweeping
    them in the simulator. Needs a running clock."""
    depth = 1 << (len(dut.n_vectors) - 1)
    load = run = 0.0
    for base in range(0, len(words), depth):
        batch = words[base:base + depth]
        write_memh(WORDS_FILE, batch, WORD_BITS)
        write_memh(EXPECT_FILE, [decoder_ref.pack(decoder_ref.expected(w)) for w in batch],
                   decoder_ref.VECTOR_BITS)
        dut.n_vectors.value = len(batch)
        t0 = time.perf_counter()
        await pulse(dut.clk, dut.start)  # the wrapper loads both files at this edge
        t1 = time.perf_counter()
        await RisingEdge(dut.done)
        await FallingEdge(dut.clk)  # the counts settle in the same edge as done: read them mid-cycle
        load, run = load + t1 - t0, run + time.perf_counter() - t1
        checked, bad = dut.checked.value.to_unsigned(), dut.mismatches.value.to_unsigned()
        assert checked == len(batch), f"decoder_tb checked {checked} of {len(batch)} words"
        if not bad:
            sb.add_bulk(checked)
            continue
        sb.add_bulk(checked - bad, bad - 1)  # the first mismatch is re-checked for the report
        first = dut.first_bad.value.to_unsigned()
        got = decoder_ref.unpack(dut.first_got.value.to_unsigned())
        sb.check(batch[first], got, context=f"{label} word {base + first}")
    if not sb.mismatches:  # keep the files of a failing run for a post-mortem
        for f in (WORDS_FILE, EXPECT_FILE):
            Path(f).unlink(missing_ok=True)
    return load, run


def _report(dut, test: str, sb: Scoreboard, seconds: tuple[float, float]) -> None:
    """Log the speed; add {vectors, mismatches, load_seconds, sweep_seconds} to the report."""
    load, run = seconds
    dut._log.info("%d words: load %.3f s, sweep %.3f s (%.0f words/s)", sb.checked, load, run,
                  sb.checked / max(run, 1e-9))
    report_part(verify_decoder.REPORT_ENV, test, {"vectors": sb.checked, "mismatches": sb.mismatches,
                                                  "load_seconds": load, "sweep_seconds": run})


def _program_words() -> tuple[list[int], list[str]]:
    """Words of isa/examples/*.s, of each table example that assembles on its own, and of
    a random program; with a note on what was left out."""
    words, notes = [], []
    for path in sorted((REPO_ROOT / "isa" / "examples").glob("*.s")):
        words += assemble_file(str(path)).words()
    for ins in TABLE["instructions"]:
        try:
            words += assemble(ins["example"]).words()
        except AsmError as e:  # e.g. a DMA example names a tensor it does not declare
            notes.append(f"table example of {ins['mnemonic']} skipped: {e}")
    words += [encode(i) for i in random_program(np.random.default_rng(SEED), 500)]
    return words, notes


@cocotb.test()
async def test_programs(dut) -> None:
    """Example programs, table examples and a random program: all valid, every opcode."""
    words, notes = _program_words()
    for note in notes:
        dut._log.info(note)
    outs = [decoder_ref.expected(w) for w in words]
    assert all(o["valid"] for o in outs), "an assembled word is not valid"
    opcodes = {o["opcode"] for o in outs}
    assert opcodes == set(BY_OPCODE), f"opcodes never decoded: {set(BY_OPCODE) - opcodes}"
    sb = Scoreboard(decoder_ref.expected, name="decoder programs")
    start_clock(dut.clk)
    seconds = await sweep(dut, words, sb, "program")
    _report(dut, "test_programs", sb, seconds)
    sb.finish()


@cocotb.test()
async def test_random_words(dut) -> None:
    """Random valid words, random field bits, reserved bits set, unknown opcodes, noise."""
    n = int(PLAN["vectors"])
    words = random_words(np.random.default_rng(SEED + 1), n)
    sb = Scoreboard(decoder_ref.expected, name="decoder random words")
    start_clock(dut.clk)
    seconds = await sweep(dut, words, sb, "random")
    _report(dut, "test_random_words", sb, seconds)
    sb.finish()
