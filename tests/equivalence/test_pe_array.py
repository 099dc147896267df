"""PE array: accel.kernels.pe_array agrees with accel.model.pe_array bit for bit and cycle for cycle.

The cycle-accurate simulation runs random op sequences on random small arrays (1 x 1 up), with
int8 extremes and bf16 specials (inf, NaN payloads, subnormals, -0, largest finite), PSUM
accumulate chains, K < R and N < C; its results, (start, end) spans and the cycle of every output
row must equal the whole-tile model and the documented formula. The fast whole-tile functions the
emulator uses are checked the same way, up to K = 256.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accel.isa.spec import REPO_ROOT
from accel.kernels import pe_array as kern
from accel.machine import Core
from accel.model import pe_array as model
from accel.model.pe_array import LoadWeights, Matmul, PETimeline

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BF16_SPECIAL = np.array([0x7F80, 0xFF80, 0x7FC0, 0xFFC0, 0x7F81, 0xFFFF, 0x0000, 0x8000, 0x0001, 0x8001,
                         0x007F, 0x0080, 0x7F7F, 0xFF7F, 0x3F80, 0xBF80], dtype=np.uint16)
INT8_SPECIAL = np.array([-128, 127, -1, 0, 1], dtype=np.int8)


def values(rng: np.random.Generator, shape: tuple[int, ...], bf16: bool, special: float) -> np.ndarray:
    """Random int8 values or bf16 bit patterns, a fraction `special` of them extremes."""
    if bf16:
        a = (rng.standard_normal(shape).astype(np.float32).view(np.uint32) >> 16).astype(np.uint16)
        pick = BF16_SPECIAL
    else:
        a = rng.integers(-128, 128, size=shape).astype(np.int8)
        pick = INT8_SPECIAL
    mask = rng.random(shape) < special
    a[mask] = rng.choice(pick, size=int(mask.sum()))
    return a


@st.composite
def programs(draw):
    """(rows, cols, ops, psum): loads with their matmuls, shapes from 1 up to the array size."""
    rows = draw(st.sampled_from([1, 1, 2, 3, 4, 5, 8]))
    cols = draw(st.sampled_from([1, 1, 2, 3, 4, 6, 8]))
    bf16 = draw(st.booleans())
    special = draw(st.sampled_from([0.0, 0.05, 0.3, 1.0]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    width = 12
    ops = []
    for _ in range(draw(st.integers(1, 3))):
        k, n = draw(st.integers(1, rows)), draw(st.integers(1, cols))
        ops.append(LoadWeights(values(rng, (k, n), bf16, special)))
        for _ in range(draw(st.integers(0 if ops[:-1] else 1, 3))):
            m = draw(st.integers(1, width))
            dst = draw(st.integers(0, width - m))
            ops.append(Matmul(values(rng, (k, m), bf16, special), dst, draw(st.booleans())))
    if bf16:
        psum = (values(rng, (cols, width), True, special).astype(np.uint32) << 16)
    else:
        psum = rng.integers(-(2**31), 2**31, size=(cols, width), dtype=np.int64).astype(np.int32)
    return rows, cols, ops, psum


@SETTINGS
@given(programs())
def test_cycle_accurate_kernel_equals_model_and_formula(program):
    rows, cols, ops, psum = program
    ref = model.run_ops(ops, rows, cols, psum)
    sim = kern.run_ops(ops, rows, cols, psum)
    assert sim.psum.dtype == ref.psum.dtype
    np.testing.assert_array_equal(sim.psum, ref.psum)
    assert sim.spans == ref.spans
    assert sim.cycles == ref.cycles
    assert sim.utilization == ref.utilization
    timeline = PETimeline(rows, cols)
    for op, (start, _), written in zip(ops, ref.spans, sim.row_cycles, strict=True):
        m = op.x.shape[1] if isinstance(op, Matmul) else 0
        assert list(written) == [timeline.row_written(start, i) for i in range(m)]


@settings(max_examples=60, deadline=None)
@given(k=st.integers(1, 256), n=st.integers(1, 40), m=st.integers(1, 40), bf16=st.booleans(),
       special=st.sampled_from([0.0, 0.1, 1.0]), seed=st.integers(0, 2**32 - 1))
def test_whole_tile_kernels_equal_model(k, n, m, bf16, special, seed):
    rng = np.random.default_rng(seed)
    w, x = values(rng, (k, n), bf16, special), values(rng, (k, m), bf16, special)
    name, dtype = ("matmul_bf16", "fp32") if bf16 else ("matmul_int8", "int32")
    out = getattr(kern, name)(w, x)
    ref = getattr(model, name)(w, x)
    assert out.dtype == ref.dtype
    np.testing.assert_array_equal(out, ref)
    old = model.matmul_bf16(w, x) if bf16 else rng.integers(-(2**31), 2**31, size=(n, m)).astype(np.int32)
    np.testing.assert_array_equal(kern.accumulate(old, out, dtype), model.accumulate(old, ref, dtype))


def test_int8_extremes_at_the_largest_array():
    """K = 256 rows of (-128) * (-128): the largest sum, 2**22, is exact through float32."""
    w = np.full((256, 3), -128, dtype=np.int8)
    x = np.full((256, 2), -128, dtype=np.int8)
    assert (kern.matmul_int8(w, x) == 256 * 2**14).all()
    long_k = np.full((1100, 2), -128, dtype=np.int8)  # 1100 * 2**14 > 2**24: past the float32 proof
    np.testing.assert_array_equal(kern.matmul_int8(long_k, long_k), model.matmul_int8(long_k, long_k))
    old = np.full((3, 2), 2**31 - 1, dtype=np.int32)
    np.testing.assert_array_equal(kern.accumulate(old, kern.matmul_int8(w, x), "int32"),
                                  model.accumulate(old, model.matmul_int8(w, x), "int32"))


def test_bf16_native_arithmetic_corner_cases():
    """Where an FMA or flush-to-zero would differ: products that overflow or underflow."""
    big, tiny = 0x7F00, 0x0100  # 2**127 and 2**-125
    w = np.array([[big], [0xFF00], [tiny], [tiny]], dtype=np.uint16)
    x = np.array([[big, 0x4000, tiny, 0x3F80], [0x3F80, big, tiny, 0x8000], [tiny, 0x3F80, 0x3F00, tiny],
                  [0x3F00, 0xBF80, tiny, 0x7FC1]], dtype=np.uint16)
    np.testing.assert_array_equal(kern.matmul_bf16(w, x), model.matmul_bf16(w, x))
    ops = [LoadWeights(w), Matmul(x)]
    psum = np.zeros((1, 4), dtype=np.uint32)
    np.testing.assert_array_equal(kern.run_ops(ops, 4, 1, psum).psum, model.run_ops(ops, 4, 1, psum).psum)


def test_register_trace_follows_the_timing_rules():
    """PE(k, n) multiplies x[k, m] at cycle S + m + k + n and swaps at S + k + n; rows >= K bypass."""
    rows, cols, k, n, m = 4, 3, 3, 2, 5
    rng = np.random.default_rng(7)
    w1, w2 = values(rng, (k, n), False, 0.1), values(rng, (k, n), False, 0.1)
    x = values(rng, (k, m), False, 0.1)
    ops = [LoadWeights(w1), Matmul(x), LoadWeights(w2), Matmul(x, acc=True)]
    sim = kern.run_ops(ops, rows, cols, np.zeros((cols, m), dtype=np.int32), trace=True)
    tr = sim.trace
    assert tr["psum"].shape == (sim.cycles, rows, cols) and tr["out"].shape == (sim.cycles, cols)
    (load_start, _), (s1, _), (l2, _), (s2, _) = sim.spans
    assert load_start == 0 and s1 == k and l2 == s1 + n
    for start, w in ((s1, w1), (s2, w2)):
        for kk in range(rows):
            for nn in range(cols):
                swap = start + kk + nn
                assert tr["swap"][swap, kk, nn] == 1 and tr["swap"][swap - 1, kk, nn] == 0
                if kk < k and nn < n:
                    assert tr["w_active"][swap, kk, nn] == w[kk, nn]
                for mm in range(m):
                    t = start + mm + kk + nn
                    assert tr["en"][t, kk, nn] == (kk < k)
                    if kk < k:
                        assert tr["x"][t, kk, nn] == x[kk, mm]
                        if nn < n:  # the partial sum over rows 0..kk
                            want = model.matmul_int8(w[:kk + 1, nn:nn + 1], x[:kk + 1, mm:mm + 1])[0, 0]
                            assert tr["psum"][t, kk, nn] == want
                    else:  # bypassed: passes the partial sum of row kk - 1 on unchanged
                        assert tr["psum"][t, kk, nn] == tr["psum"][t - 1, kk - 1, nn]
                    if kk == rows - 1:
                        assert tr["out"][start + mm + rows + cols - 2, nn] == tr["psum"][t, kk, nn]
    for row in range(k):  # shadow row written at load start + row, zeros beyond column N
        assert (tr["w_shadow"][l2 + row, row, :n] == w2[row]).all() and (tr["w_shadow"][l2 + row, row, n:] == 0).all()


def test_a_load_overtakes_a_waiting_matmul_that_reuses_the_active_weights():
    rng = np.random.default_rng(3)
    w1, w2 = values(rng, (2, 2), False, 0.0), values(rng, (2, 2), False, 0.0)
    x = values(rng, (2, 20), False, 0.0)
    ops = [LoadWeights(w1), Matmul(x), Matmul(x, acc=True), LoadWeights(w2), Matmul(x[:, :1], acc=True)]
    psum = np.zeros((3, 20), dtype=np.int32)
    sim, ref = kern.run_ops(ops, 3, 3, psum), model.run_ops(ops, 3, 3, psum)
    (_, _), (s1, _), (s2, _), (l3, _), (s4, _) = sim.spans
    assert s2 == s1 + 20 and l3 == s1 + 2 and s4 == s2 + 20
    assert sim.spans == ref.spans
    np.testing.assert_array_equal(sim.psum, ref.psum)


def test_kernel_rejects_malformed_ops():
    psum = np.zeros((2, 4), dtype=np.int32)
    w = np.ones((2, 2), dtype=np.int8)
    with pytest.raises(ValueError, match="before any weights"):
        kern.run_ops([Matmul(np.ones((2, 2), dtype=np.int8))], 2, 2, psum)
    with pytest.raises(ValueError, match="do not fit"):
        kern.run_ops([LoadWeights(np.ones((3, 2), dtype=np.int8))], 2, 2, psum)
    with pytest.raises(ValueError, match="does not fit"):
        kern.run_ops([LoadWeights(w), Matmul(np.ones((2, 5), dtype=np.int8))], 2, 2, psum)
    with pytest.raises(ValueError, match="2-D int8"):
        kern.run_ops([LoadWeights(w), Matmul(np.ones((2, 2), dtype=np.uint16))], 2, 2, psum)
    assert kern.run_ops([], 2, 2, psum).cycles == 0


def test_emulator_fast_and_model_paths_agree():
    src = (REPO_ROOT / "isa" / "examples" / "mlp.s").read_text()
    rng = np.random.default_rng(1)
    shapes = {"x": (32, 128), "w1": (128, 64), "b1": (64, 1), "w2": (64, 10), "b2": (10, 1)}
    inputs = {k: rng.standard_normal(s) * 3 for k, s in shapes.items()}
    fast = Core(backend="fast").run(src, inputs)
    slow = Core(backend="model").run(src, inputs)
    np.testing.assert_array_equal(fast.outputs["y"].view(np.uint32), slow.outputs["y"].view(np.uint32))
    assert fast.stats == slow.stats
