"""The RNG and dropout model (accel.model.rng): known answers, statistics, properties, errors."""

from __future__ import annotations

import importlib.util
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import accel
from accel.isa.asm import AsmError
from accel.machine import MachineError
from accel.model import PRIMITIVES, fp, rng

M64 = (1 << 64) - 1

# Random123 kat_vectors, philox4x32 10: counter, key -> output
KAT = [
    ([0, 0, 0, 0], (0, 0), [0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8]),
    ([0xFFFFFFFF] * 4, (0xFFFFFFFF, 0xFFFFFFFF), [0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD]),
    ([0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344], (0xA4093822, 0x299F31D0),
     [0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1]),
]


@pytest.mark.parametrize("ctr, key, want", KAT)
def test_philox_known_answers(ctr, key, want):
    assert rng.philox4x32(np.array(ctr, np.uint32), key).tolist() == want


def test_splitmix64_known_answers():
    """SplitMix64 from 0 (Vigna's splitmix64.c): the seeding rule's first outputs."""
    assert rng.splitmix64(0, 3) == [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F]


def _xoro_ref(s0: int, s1: int, n: int) -> list[int]:
    """xoroshiro128aox with Python integers (Hanlon and Felix 2023; Graphcore's published C)."""
    def rotl(x, k):
        return ((x << k) | (x >> (64 - k))) & M64
    out = []
    for _ in range(n):
        sx, sa = s0 ^ s1, s0 & s1
        out.append(sx ^ (rotl(sa, 1) | rotl(sa, 2)))
        s0, s1 = rotl(s0, 55) ^ sx ^ ((sx << 14) & M64), rotl(sx, 36)
    return out


def test_xoroshiro_matches_reference():
    states = rng.lane_states(0xABCDEF, 4)
    want = [_xoro_ref(int(a), int(b), 50) for a, b in states]
    assert rng.xoroshiro_outputs(states.copy(), 50).tolist() == want


def test_philox_words_are_block_words():
    """Element i takes word i & 3 of block i >> 2 (counter (i>>2, offset))."""
    seed, offset = 0x0123456789ABCDEF, (5 << 32) | 9
    idx = np.arange(4096, dtype=np.uint64) + np.uint64(2**40)
    blocks = rng.philox4x32(rng.philox_counters(np.arange(1024, dtype=np.uint64) + np.uint64(2**38), offset),
                            (seed & 0xFFFFFFFF, seed >> 32))
    assert np.array_equal(rng.philox_words(seed, offset, idx), blocks.reshape(-1))


# --------------------------------------------------------------------------------------------- dropout numbers


@settings(max_examples=300, deadline=None)
@given(st.floats(0.0, 1.0, width=32))
def test_threshold_is_rounded_p_times_2_32(p):
    n, d = float(np.float32(p)).as_integer_ratio()
    q, r = divmod(n << 32, d)
    want = q + (2 * r > d or (2 * r == d and q % 2))
    assert rng.threshold(int(fp.f32_bits(np.float32(p)))) == want


@settings(max_examples=300, deadline=None)
@given(st.floats(0.0, 1.0, width=32, exclude_max=True))
def test_scale_is_nearest_binary32(p):
    bits = rng.scale(int(fp.f32_bits(np.float32(p))))
    s = fp.f32_value(np.uint32(bits))
    q = 1 / (1 - Fraction(float(p)))
    err = abs(Fraction(float(s)) - q)
    for nb in (np.nextafter(s, np.float32(0)), np.nextafter(s, np.float32(np.inf))):
        assert err <= abs(Fraction(float(nb)) - q)


def test_p_zero_and_one_are_exact():
    x = fp.f32_bits(np.array([1.5, -0.0, 3e-45, np.inf, -7.25], np.float32))
    words = np.array([0, 1, 2**31, 2**32 - 1, 17], np.uint32)
    y0, k0 = rng.dropout_f32(x, words, int(fp.f32_bits(np.float32(0.0))))
    assert k0.all() and np.array_equal(y0, x)
    y1, k1 = rng.dropout_f32(x, words, int(fp.f32_bits(np.float32(1.0))))
    assert not k1.any() and not y1.any()


# --------------------------------------------------------------------------------------------- statistics

N_STAT = 10**7


@pytest.fixture(scope="module")
def philox_stream() -> np.ndarray:
    blocks = rng.philox4x32(rng.philox_counters(np.arange(N_STAT // 4, dtype=np.uint64), 3), (0x5EED, 0x1))
    return blocks.reshape(-1)


@pytest.mark.parametrize("p", [0.01, 0.1, 0.5, 0.9])
def test_kept_fraction_within_4_sigma(philox_stream, p):
    """Over 10**7 Philox words the kept fraction is 1-p within 4 standard deviations."""
    t = rng.threshold(int(fp.f32_bits(np.float32(p))))
    keep_p = 1 - t / 2**32
    kept = int(np.count_nonzero(philox_stream >= t))
    sigma = np.sqrt(N_STAT * keep_p * (1 - keep_p))
    assert abs(kept - N_STAT * keep_p) < 4 * sigma


def test_xoroshiro_kept_fraction_within_4_sigma():
    from accel.kernels import rng as krng

    words = krng.xoroshiro_words(rng.lane_states(77, 128), N_STAT // 128)
    for p in (0.1, 0.5):
        t = rng.threshold(int(fp.f32_bits(np.float32(p))))
        keep_p = 1 - t / 2**32
        kept = int(np.count_nonzero(words >= t))
        assert abs(kept - N_STAT * keep_p) < 4 * np.sqrt(N_STAT * keep_p * (1 - keep_p))


def test_survivors_scaled_exactly(philox_stream):
    """A kept element equals float32(x * scale) computed exactly in float64 (one rounding)."""
    r = np.random.default_rng(1)
    x = (r.standard_normal(10**5) * 2.0 ** r.integers(-30, 30, 10**5)).astype(np.float32)
    for p in (0.1, 0.3, 0.5, 0.999):
        pb = int(fp.f32_bits(np.float32(p)))
        y, keep = rng.dropout_f32(fp.f32_bits(x), philox_stream[:x.size], pb)
        s = np.float64(fp.f32_value(np.uint32(rng.scale(pb))))
        assert np.array_equal(fp.f32_value(y[keep]), (x[keep].astype(np.float64) * s).astype(np.float32))
        assert not y[~keep].any()


# --------------------------------------------------------------------------------------------- programs

HDR = ".tensor x fp32[{R}, {C}] in\n.tensor y fp32[{R}, {C}] out\n.tensor m int32[{R}, {W}] out\n"


def _program(R: int, C: int, tiles: list[tuple[int, int, int, int]], p: float, stride: bool) -> str:
    """Dropout of x [R, C] tile by tile (rows r0:r1, cols c0:c1) with masks; x in partitions 0..R at 0,
    y at byte 4096, bit-packed masks at 8192 (mask words of each tile at word c0 // 32: c0 multiple of 32)."""
    W = -(-C // 32)
    lines = [HDR.format(R=R, C=C, W=W), f"    dma.load sb[0:{R}, 0]:fp32[{C}], x", "    sem.signal dma, s0",
             "    sem.wait vec, s0", "    vec.rng_seed 0xC0DE, hi=7", "    vec.rng_set_offset 12"]
    if stride:
        lines.append(f"    vec.rng_set_stride {C}")
    for r0, r1, c0, c1 in tiles:
        n = c1 - c0
        lines.append(f"    vec.dropout_mask sb[{r0}:{r1}, {4096 + 4 * c0}]:fp32[{n}], "
                     f"sb[{r0}:{r1}, {4 * c0}]:fp32[{n}], sb[{r0}:{r1}, {8192 + c0 // 8}]:int32[{-(-n // 32)}], "
                     f"{p}, base={r0 * C + c0}")
    lines += ["    sem.signal vec, s1", "    sem.wait dma, s1", f"    dma.store y, sb[0:{R}, 4096]:fp32[{C}]",
              f"    dma.store m, sb[0:{R}, 8192]:int32[{W}]"]
    return "\n".join(lines) + "\n"


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 12), st.integers(1, 4), st.data())
def test_mask_of_tensor_is_concatenation_of_tile_masks(R, cw, data):
    """Any tiling (row cuts, column cuts at multiples of 32) gives the masks and values of the whole."""
    C = 32 * cw - data.draw(st.integers(0, 31))
    rows = sorted(set(data.draw(st.lists(st.integers(1, R - 1), max_size=3)) if R > 1 else []))
    cols = sorted(set(data.draw(st.lists(st.sampled_from(range(32, C, 32)), max_size=3)) if C > 32 else []))
    rb, cb = [0, *rows, R], [0, *cols, C]
    tiles = [(rb[i], rb[i + 1], cb[j], cb[j + 1]) for i in range(len(rb) - 1) for j in range(len(cb) - 1)]
    x = np.random.default_rng(R * 100 + C).standard_normal((R, C)).astype(np.float32)
    whole = accel.run(_program(R, C, [(0, R, 0, C)], 0.3, stride=False), {"x": x}).outputs
    tiled = accel.run(_program(R, C, tiles, 0.3, stride=True), {"x": x}).outputs
    assert np.array_equal(whole["m"], tiled["m"])
    assert np.array_equal(whole["y"].view(np.uint32), tiled["y"].view(np.uint32))


@settings(max_examples=20, deadline=None)
@given(st.integers(0, M64), st.integers(0, 40), st.integers(1, 40), st.integers(0, 120), st.integers(1, 8))
def test_restored_state_reproduces_lane_stream(seed, before, n, p0, pc):
    pc = min(pc, 128 - p0)
    text = f"""
.tensor a int32[{pc}, {n}] out
.tensor b int32[{pc}, {n}] out
    vec.rng_seed {seed & 0xFFFFFFFF}, hi={seed >> 32}
    {f"vec.rng_fill sb[{p0}:{p0 + pc}, 0]:int32[{before}], gen=1" if before else "nop vec"}
    vec.rng_save_state sb[{p0}:{p0 + pc}, 1024]:int32[4]
    vec.rng_fill sb[{p0}:{p0 + pc}, 2048]:int32[{n}], gen=1
    vec.rng_fill sb[{p0}:{p0 + pc}, 4096]:int32[{n}], gen=1
    vec.rng_load_state sb[{p0}:{p0 + pc}, 1024]:int32[4]
    vec.rng_fill sb[{p0}:{p0 + pc}, 4096]:int32[{n}], gen=1
    sem.signal vec, s0
    sem.wait dma, s0
    dma.store a, sb[{p0}:{p0 + pc}, 2048]:int32[{n}]
    dma.store b, sb[{p0}:{p0 + pc}, 4096]:int32[{n}]
"""
    out = accel.run(text).outputs
    assert np.array_equal(out["a"], out["b"])


# --------------------------------------------------------------------------------------------- errors


@pytest.mark.parametrize("p", ["1.5", "-0.1", "nan", "inf", "bits(0x3F800001)"])
def test_p_outside_0_1_is_an_assembly_error_naming_p(p):
    with pytest.raises(AsmError, match=r"p = .*allowed 0\.0\.\.1\.0"):
        accel.assemble(f"vec.dropout sb[0:1, 0]:fp32[4], sb[0:1, 64]:fp32[4], {p}")


@pytest.mark.parametrize("line, msg, exc", [  # shapes are static (assembly errors), data is not
    ("vec.rng_get_offset sb[0:2, 0]:int32[2]", "needs \\[1 x 2\\]", AsmError),
    ("vec.rng_save_state sb[0:4, 0]:int32[3]", "needs 4", AsmError),
    ("vec.rng_load_state sb[0:4, 0]:int32[4]", "lane 0: an all-zero", MachineError),
    ("vec.dropout_mask sb[0:4, 0]:fp32[40], sb[0:4, 256]:fp32[40], sb[0:4, 512]:int32[1], 0.5", "need \\[4 x 2\\]",
     AsmError),
    ("vec.dropout sb[0:4, 0]:fp32[40], sb[0:5, 256]:fp32[40], 0.5", "differ in shape", AsmError),
    ("vec.rng_fill psum[0:128, 0]:int32[4], gen=1", None, None),
])
def test_machine_errors_name_the_problem(line, msg, exc):
    text = f"{line}\n"
    if msg is None:
        accel.run(text)  # 128 lanes: fine
        return
    with pytest.raises(exc, match=msg):
        accel.run(text)


def test_lanes_follow_the_config():
    with pytest.raises(AsmError, match="no RNG lane"):  # the assembler checks against the core's config
        core = accel.Core(accel.CoreConfig(sbuf_partitions=64, pe_rows=64))
        core.run("vec.rng_fill psum[60:68, 0]:int32[4], gen=1\n")


# --------------------------------------------------------------------------------------------- the cases bite

_spec = importlib.util.spec_from_file_location("rng_cases", Path(__file__).parents[1] / "programs" / "test_cases.py")
_cases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_cases)


def _floor_threshold(p_bits: int) -> int:
    return int(Fraction(float(fp.f32_value(np.uint32(p_bits)))) * (1 << 32))


_WORDS, _STEP, _PACK = rng.philox_words, rng.xoroshiro_step, rng.pack_mask


def _swapped_words(seed: int, offset: int, index: np.ndarray) -> np.ndarray:
    return _WORDS(seed, offset, np.asarray(index, np.uint64) ^ np.uint64(1))


def _plus_xoro(state: np.ndarray) -> np.ndarray:
    out = state[..., 0] + state[..., 1]
    _STEP(state)
    return out


MUTANTS = {
    "vec.dropout": lambda mp: mp.setattr(rng, "threshold", _floor_threshold),
    "vec.rng_fill": lambda mp: mp.setitem(PRIMITIVES, "philox_words", _swapped_words),
    "vec.rng_seed": lambda mp: mp.setattr(rng, "xoroshiro_step", _plus_xoro),
    "vec.dropout_mask": lambda mp: mp.setattr(rng, "pack_mask", lambda keep: _PACK(keep[:, ::-1])),
}


@pytest.mark.parametrize("mnemonic", sorted(MUTANTS))
def test_rng_case_catches_a_wrong_model(mnemonic, monkeypatch):
    """A plausible bug in the model makes that instruction's directed case fail."""
    MUTANTS[mnemonic](monkeypatch)
    assert _cases.mismatches(mnemonic)
