"""The VEC and ACT cost functions on hand-worked values (docs/vec.md and docs/act.md, "Cycles").

The clock-for-clock check against rtl/vec_engine.v is tests/rtl/test_vec_timing.py; here every form's
formula with the default CoreConfig, the Philox history cases worked through rtl/vec_lane.v by hand,
and changed config fields moving the costs as the formulas say.
"""

from __future__ import annotations

import dataclasses

import pytest

import accel
from accel.config import CoreConfig
from accel.timing.act import act_cycles
from accel.timing.vec import VecTimingState, fixed_cycles, vec_cycles

CFG = CoreConfig()  # 128 lanes
F8 = "sb[0:4, 0]:fp32[8]"
S8 = "sb[0:4, 64]:fp32[8]"


def one(text: str):
    return accel.assemble(text, "t.s").instructions[0]


@pytest.mark.parametrize("text, cycles", [
    ("vec.add sb[0:4, 0]:fp32[2, 3], sb[0:4, 64]:bf16[6], sb[0:4, 128]:int8[6]", 4 + 3 * 6),
    (f"vec.min {F8}, {S8}, sb[2:6, 128]:fp32[8]", 4 + 3 * 8),
    (f"vec.adds {F8}, {S8}, 0.5", 4 + 2 * 8),
    (f"vec.copy {F8}, {S8}", 20),
    ("vec.cast sb[1:3, 0]:int32[8], sb[1:3, 64]:bf16[8]", 20),
    ("vec.reduce_sum sb[0:4, 0]:fp32[2], sb[0:4, 64]:fp32[2, 4]", 4 + 2 * 8 + 2),
    ("vec.reduce_max sb[0:4, 0]:fp32[1], sb[0:4, 64]:fp32[64]", 4 + 2 * 64 + 1),  # docs/vec.md: 2.08 a element
    ("vec.reduce_max sb[0:4, 0]:fp32[8], sb[0:4, 64]:fp32[8, 8]", 4 + 2 * 64 + 8),  # 2.19
    ("vec.rng_set_offset 5", 3),
    ("vec.rng_set_stride 7", 3),
    ("vec.rng_seed 1, hi=2", 3 + 4 + 2 * 128),
    ("vec.rng_get_offset sb[0:1, 0]:int32[2]", 6),
    ("vec.rng_save_state sb[0:128, 0]:int32[4]", 8),
    ("vec.rng_load_state sb[0:128, 0]:int32[4]", 12),
    (f"vec.rng_fill {F8.replace('fp32', 'int32')}, gen=1", 4 + 8),
    ("vec.rng_fill sb[0:4, 0]:fp32[64], gen=1", 68),  # docs/vec.md: 1.06 a element
    (f"vec.dropout {F8}, {S8}, 0.5, gen=1", 4 + 17 + 2 * 8),
    ("vec.dropout_mask sb[0:4, 0]:fp32[33], sb[0:4, 256]:fp32[33], sb[0:4, 512]:int32[2], 0.5, gen=1",
     4 + 17 + 2 * 33 + 2),
    ("vec.dropout_apply sb[0:4, 0]:fp32[33], sb[0:4, 256]:fp32[33], sb[0:4, 512]:int32[2], 0.1", 89),
])
def test_fixed_forms(text: str, cycles: int) -> None:
    ins = one(text)
    assert fixed_cycles(ins, CFG) == cycles
    assert vec_cycles(ins, CFG) == cycles  # from reset: the same, it has no history


def test_seeding_scales_with_the_lanes() -> None:
    ins = one("vec.rng_seed 1")
    assert vec_cycles(ins, CoreConfig(sbuf_partitions=8, pe_rows=8)) == 2 * 8 + 7  # measured on 8 lanes


FILL = "vec.rng_fill sb[0:4, 256]:int32[8]"
DROP = f"vec.dropout {F8}, {S8}, 0.5"


def test_philox_history_worked_by_hand() -> None:
    """4 lanes, 8 elements a lane, indices 4-aligned (base 0, row stride = free size 8).

    From reset: the decode clock (1) starts a block for the old index (the cache is empty), done at 12;
    the instruction's block 0 starts then, valid at 23 = the first element; block 1 (started at 23) at
    34; last element 37, retire 38: 39 clocks. Back to back, the prefetched block 2 (started at 34)
    runs until 45 = 6 clocks after the next accept at 39, block 0 then at 17, 1 at 28, last 31: 33.
    After a copy the cores are idle again: 39. Accepted 100 clocks after the first, the cores have
    their next block ready, the decode starts nothing, block 0 starts right after set-up (3): 30."""
    st = VecTimingState(CoreConfig(sbuf_partitions=4, pe_rows=4, pe_cols=4, psum_partitions=4))
    fill, copy = one(FILL), one(f"vec.copy {F8}, {S8}")
    assert [st.issue(fill), st.issue(fill), st.issue(copy), st.issue(fill)] == [39, 33, 20, 39]
    st = VecTimingState(st.config)
    assert st.issue(fill) == 39
    assert st.issue(fill, start=100) == 30
    # dropout: from reset, block 0 at 23 > the first EX (21), then 2 clocks an element but block 1 only
    # at 34: elements at 23, 25, 27, 29, 34, 36, 38, 40, retire 41: 42. After a fill its stale prefetch
    # block ends 6 clocks after the accept, block 0 at 17 and block 1 at 28 never stall the elements
    # (21 + 2k): 37, what the same dropout takes with xoroshiro words.
    st = VecTimingState(CoreConfig(sbuf_partitions=4, pe_rows=4, pe_cols=4, psum_partitions=4))
    assert st.issue(one(DROP)) == 42
    st.issue(fill)
    assert st.issue(one(DROP)) == 37 == fixed_cycles(one(DROP + ", gen=1"), CFG)


@pytest.mark.parametrize("f", [4, 64, 400, 20000])
def test_philox_fill_is_11_clocks_a_block(f: int) -> None:
    """Aligned, from reset, on 128 lanes: element 4j at 23 + 11j, so 11 F / 4 + 17 clocks (the long
    ones exercise the replay's jump over repeated periods); docs/vec.md measured 193 for 64."""
    ins = one(f"vec.rng_fill sb[0:128, 0]:int32[{f}]")
    assert vec_cycles(ins, CFG) == 11 * f // 4 + 17


def test_philox_alignment_matters() -> None:
    """Lanes whose index is not 4-aligned wait for their own blocks: slower than the aligned fill."""
    aligned = vec_cycles(one("vec.rng_fill sb[0:128, 0]:int32[64]"), CFG)
    assert vec_cycles(one("vec.rng_fill sb[0:128, 0]:int32[64], base=1"), CFG) > aligned
    st = VecTimingState(CFG)
    st.issue(one("vec.rng_set_stride 3"))  # lane p's index starts at 3p: every phase at once
    assert st.stride == 3
    assert st.issue(one("vec.rng_fill sb[0:128, 0]:int32[64]")) > aligned


def test_config_fields_move_the_costs() -> None:
    cfg = dataclasses.replace(CFG, vec_setup_cycles=6, vec_binary_cycles=1, vec_mask_word_cycles=3,
                              vec_dropout_scale_cycles=0, vec_philox_block_cycles=5, vec_decode_cycles=3)
    assert fixed_cycles(one(f"vec.add {F8}, {S8}, {S8}"), cfg) == 6 + 8
    mask = one("vec.dropout_mask sb[0:4, 0]:fp32[33], sb[0:4, 256]:fp32[33], sb[0:4, 512]:int32[2], 0.5, gen=1")
    assert fixed_cycles(mask, cfg) == 6 + 2 * 33 + 2 * 3
    # Philox-bound no longer: a block per 5 clocks, one element a clock
    st = VecTimingState(cfg)
    assert st.issue(one("nop vec")) == 3
    assert st.issue(one("vec.rng_fill sb[0:128, 0]:int32[400]")) < 2 * 400


def test_bad_calls() -> None:
    with pytest.raises(ValueError, match="not a VEC instruction"):
        vec_cycles(one("nop vec"), CFG)
    with pytest.raises(ValueError, match="another CoreConfig"):
        vec_cycles(one(FILL), CFG, VecTimingState(CoreConfig(sbuf_partitions=4, pe_rows=4)))
    st = VecTimingState(CFG)
    st.issue(one(FILL))
    with pytest.raises(ValueError, match="before the engine is ready"):
        st.issue(one(FILL), start=st.ready - 1)
    with pytest.raises(ValueError, match="depend on the lanes"):
        fixed_cycles(one(FILL), CFG)


@pytest.mark.parametrize("text, cycles", [
    ("act.identity sb[0:64, 0]:bf16[32], psum[0:64, 0]:fp32[32]", (4 + 32, 4 + 32 + 22)),
    ("act.func sb[0:64, 0]:bf16[4, 8], psum[0:64, 0]:fp32[32], fn=2, scale=0.5", (36, 58)),
    ("act.relu sb[0:1, 0]:fp32[1], psum[0:1, 0]:fp32[1], bias=sb[0:1, 512]:fp32[1]", (4 + 1 + 1, 6 + 22)),
    ("act.lut.load sb[0:2, 1024]:int32[94], fn=16", (4 + 188, 4 + 188)),
])
def test_act(text: str, cycles: tuple[int, int]) -> None:
    assert act_cycles(one(text), CFG) == cycles


def test_act_fields() -> None:
    cfg = dataclasses.replace(CFG, act_setup_cycles=0, act_element_cycles=2, act_latency_cycles=5,
                              act_bias_cycles=3, act_lut_word_cycles=4)
    assert act_cycles(one("act.relu sb[0:1, 0]:fp32[7], psum[0:1, 0]:fp32[7], bias=sb[0:1, 512]:fp32[1]"),
                      cfg) == (3 + 14, 3 + 14 + 5)
    assert act_cycles(one("act.lut.load sb[0:1, 1024]:int32[20], fn=17"), cfg) == (80, 80)
    with pytest.raises(ValueError, match="not an ACT instruction"):
        act_cycles(one(FILL), cfg)


def one_by_one(config: CoreConfig, ins: list, starts) -> list[int]:
    """VecTimingState.issue for each instruction, accepted at the later of its start and ready."""
    state = VecTimingState(config)
    return [state.issue(i, max(int(s), state.ready)) for i, s in zip(ins, starts, strict=True)]


def test_replay_equals_issuing_one_by_one() -> None:
    """accel.timing.vec.replay (its memo of stretches between quiet accepts, and its copy of the
    stretches a previous pass already made) gives what VecTimingState.issue gives one instruction at
    a time, on random Philox/fixed mixes drawn from a few lines (so stretches repeat) with random gaps,
    in a chain of passes each made from the one before."""
    import numpy as np

    from accel.timing.vec import replay, timing_facts

    config = CoreConfig(sbuf_partitions=8, pe_rows=8)
    rng = np.random.default_rng(7)
    copied = remembered = 0
    for _ in range(30):
        pool = []
        for _ in range(6):
            p0 = int(rng.integers(0, 8))
            p = f"{p0}:{int(rng.integers(p0 + 1, 9))}"
            n = int(rng.integers(1, 40))
            pool.append(str(rng.choice([
                f"vec.rng_fill sb[{p}, 0]:int32[{n}], base={int(rng.integers(0, 9))}",
                f"vec.dropout sb[{p}, 512]:fp32[{n}], sb[{p}, 1024]:fp32[{n}], p=0.5, base={int(rng.integers(0, 9))}",
                f"vec.add sb[0:8, 2048]:fp32[{n}], sb[0:8, 1024]:fp32[{n}], sb[0:8, 1024]:fp32[{n}]",
                f"vec.rng_set_stride {int(rng.integers(0, 70))}",
                f"vec.copy sb[0:8, 3000]:fp32[{n}], sb[0:8, 1024]:fp32[{n}]"])))
        pool += [FILL, DROP, FILL]  # back to back or apart, these two differ (above)
        lines = [pool[int(j)] for j in rng.integers(0, len(pool), int(rng.integers(5, 60)))]
        ins = accel.assemble("\n".join(lines) + "\n", "r.s", config=config).instructions
        index = np.arange(len(ins))
        fixed = np.array([-1 if i.mnemonic in ("vec.rng_fill", "vec.dropout") else fixed_cycles(i, config)
                          for i in ins])
        numbers: dict = {}
        facts = np.array([numbers.setdefault(timing_facts(i, int(f)), len(numbers))
                          for i, f in zip(ins, fixed, strict=True)])
        previous = replay(config, ins, index, fixed, facts)
        assert list(previous.cycles) == one_by_one(config, ins, np.zeros(len(ins), int))
        remembered += len(set(lines)) < len(lines)
        for _ in range(4):
            gaps = np.where(rng.random(len(ins)) < 0.2, rng.integers(1, 40, len(ins)), 0)
            starts = np.cumsum(np.r_[0, previous.cycles[:-1]] + gaps)
            want = one_by_one(config, ins, starts)
            fast = replay(config, ins, index, fixed, facts, starts, previous)
            full = replay(config, ins, index, fixed, facts, starts)
            assert list(fast.cycles) == list(full.cycles) == want and np.array_equal(fast.quiet, full.quiet)
            copied += int(not gaps[1:][~previous.quiet[1:]].any())
            previous = fast
    assert copied >= 3 and remembered > 10
