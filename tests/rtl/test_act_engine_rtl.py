"""rtl/act_engine.v plays ACT programs against accel.machine.Core and accel.timing.schedule through
sim/act_engine_tb.v (accel.tb.verify_act_engine), one bench run per simulator at 8 lanes: the
tests/programs/cases/act.*.s folded onto the lanes (on Icarus, about 100 clocks/s at 8 lanes, all but
act.relu, whose only difference from act.identity, the relu mode, the random program covers) and one
random program (12 instructions on Icarus, 80 on Verilator); one expected byte of the act.identity case
is corrupted and must be the one mismatch. Every program's final SBUF/PSUM image is compared byte for
byte and every instruction's start and end cycle exactly."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest

from accel.isa.encoding import Program
from accel.model import lut
from accel.tb import verify_act_engine as va
from accel.tb.runner import RTL_DIR
from accel.timing.schedule import schedule
from accel.timing.timeline import INTERLOCK

LENGTH = {"icarus": 12, "verilator": 80}


@pytest.mark.rtl
def test_act_engine_matches_model_and_schedule(sim):
    lanes = 8
    programs, skipped = va.plan_programs(lanes, 1, LENGTH[sim], seed=21)
    assert not skipped and len(programs) == 5
    if sim == "icarus":
        programs = [p for p in programs if p["name"] != "act.relu"]
    planted = [p["name"] for p in programs].index("act.identity")
    byte = 5 * (va.SB_BYTES + va.PS_BYTES) + 8192 + 3  # partition 5, dst of the case's first instruction
    results, _ = va.bench(sim, lanes, programs, flip=(planted, byte))
    assert len(results) == len(programs)
    for k, r in enumerate(results):
        assert r["done"] and r["timing_mismatches"] == 0, r.get("first_timing", r)
        if k != planted:
            assert r["mismatches"] == 0 and r["python_mismatches"] == 0, r.get("first", r)
    r = results[planted]  # exactly the corrupted byte, written by the case's first instruction
    assert r["mismatches"] == 1 and r["python_mismatches"] == 1 and r["first_byte"] == byte, r
    assert r["first"]["engine_writer"].startswith("#0 act.identity")

    # what the programs cover: every opcode, bias patterns, function switches and RAW interlocks
    cfg = va.config(lanes)
    instrs = [i for p in programs for i in p["instrs"]]
    assert {i.mnemonic for i in instrs} == set(va.ACT_OPS)
    assert any(i.ops.get("bias") is not None and not isinstance(i.ops["bias"], int) for i in instrs)
    rand = next(p for p in programs if p["name"] == "random 0")
    t = schedule(Program([], rand["instrs"]), cfg)
    assert (t.reason == INTERLOCK).sum() >= 3

    # the cycle check is sensitive: with a pipeline one clock shorter the model misses every stream's end
    # (its starts move no later, its latencies are one less)
    res = next(r for r in results if r["name"] == "random 0")
    short = dataclasses.replace(cfg, act_latency_cycles=cfg.act_latency_cycles - 1)
    _, end = va.model_times(short, rand["instrs"])
    streams = [k for k, i in enumerate(rand["instrs"]) if i.mnemonic != "act.lut.load"]
    assert streams and all(res["end"][k] != end[k] for k in streams)


def test_image_memory_word_counts():
    """rtl/act_image_mem.v reads each built-in image with its exact length (WORDSk)."""
    text = (RTL_DIR / "act_image_mem.v").read_text()
    names = dict(re.findall(r'localparam HEX(\d+) = \{MEM_DIR, "lut_(\w+)\.hex"\};', text))
    words = dict(re.findall(r"localparam WORDS(\d+) = (\d+);", text))
    assert [names[str(k)] for k in range(len(lut.BUILTINS))] == list(lut.BUILTINS)
    assert {names[k]: int(w) for k, w in words.items()} == {n: int(lut.builtin(n).image().size) for n in lut.BUILTINS}
    assert np.all([int(w) <= lut.MAX_WORDS for w in words.values()])


def test_bad_lane_count_is_one_line(sim, capsys):
    from accel.cli import main

    assert main(["verify", "act_engine", "--sim", sim, "--lanes", "200"]) != 0
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.strip() == "accel: error: --lanes 200: the engine has 1 to 128 lanes " \
        "(one per partition)"
