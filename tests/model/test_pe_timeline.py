"""The PE array's documented cycle model (docs/pe_array.md, "Cycles") and the Core's PE statistics."""

from __future__ import annotations

import numpy as np
import pytest

from accel.isa.spec import REPO_ROOT
from accel.machine import Core, CoreConfig
from accel.model.pe_array import PETimeline

R, C = 8, 6
LAT = R + C - 2


def test_first_load_then_matmul():
    t = PETimeline(R, C)
    assert t.load(5, 4) == (0, 5)
    assert t.matmul(5, 4, 10) == (5, 5 + 10 + LAT)
    assert t.row_written(5, 0) == 5 + LAT and t.row_written(5, 9) == 5 + 9 + LAT
    assert t.cycles == 5 + 10 + LAT
    assert t.utilization == 5 * 4 * 10 / (R * C * t.cycles)


def test_reused_weights_stream_back_to_back_paying_fill_and_drain_once():
    t = PETimeline(R, C)
    t.load(3, 2)
    s1, _ = t.matmul(3, 2, 7)
    s2, e2 = t.matmul(3, 2, 4)
    assert s2 == s1 + 7
    assert t.cycles == e2 == 3 + 7 + 4 + LAT


@pytest.mark.parametrize(("m1", "n1", "k2"), [(10, 4, 6), (10, 4, 5), (3, 4, 6), (1, 1, 1), (9, 6, 3)])
def test_next_load_is_hidden_exactly_when_m_covers_n_plus_k_next(m1, n1, k2):
    t = PETimeline(R, C)
    t.load(R, n1)
    s1, _ = t.matmul(R, n1, m1)
    l2, l2_end = t.load(k2, 3)
    assert l2 == s1 + n1  # the shadow row may change once every PE of the row has swapped
    s2, _ = t.matmul(k2, 3, 5)
    assert s2 == s1 + max(m1, n1 + k2)
    assert (s2 == s1 + m1) == (m1 >= n1 + k2)  # hidden: the stream never waits


def test_load_waits_for_the_load_bus_and_two_loads_overwrite_the_shadow():
    t = PETimeline(R, C)
    assert t.load(4, 2) == (0, 4)
    assert t.load(3, 5) == (4, 7)  # weights of the first load are never used
    assert t.matmul(3, 5, 2) == (7, 7 + 2 + LAT)
    with pytest.raises(ValueError, match="3 x 5 weights"):
        t.matmul(4, 2, 1)


def test_a_load_does_not_wait_for_matmuls_that_reuse_the_active_weights():
    t = PETimeline(R, C)
    t.load(2, 2)
    s1, _ = t.matmul(2, 2, 20)
    s2, _ = t.matmul(2, 2, 20)  # reuses the weights; waits for the stream port until s1 + 20
    l3, _ = t.load(2, 2)  # only writes the shadow registers: starts once matmul 1 has swapped
    s4, _ = t.matmul(2, 2, 1)
    assert s2 == s1 + 20 and l3 == s1 + 2 and s4 == s2 + 20


def test_trailing_load_counts_and_errors():
    t = PETimeline(R, C)
    t.load(2, 2)
    _, e = t.matmul(2, 2, 1)
    l2, l2_end = t.load(R, C)
    assert t.cycles == max(e, l2_end)
    assert PETimeline(1, 1).utilization == 0.0
    with pytest.raises(ValueError, match="outside the 8 x 6 array"):
        t.load(R + 1, 1)
    with pytest.raises(ValueError, match="outside"):
        t.matmul(R, C, 0)
    with pytest.raises(ValueError, match="holds no weights"):
        PETimeline(2, 2).matmul(1, 1, 1)
    with pytest.raises(ValueError, match="1 x 1"):
        PETimeline(0, 3)


def test_one_by_one_array():
    t = PETimeline(1, 1)
    t.load(1, 1)
    assert t.matmul(1, 1, 3) == (1, 4)  # latency R + C - 2 = 0: each vector is written as it enters
    assert t.row_written(1, 2) == 3
    assert t.utilization == 3 / 4


def test_core_reports_pe_cycles_and_utilization_of_the_mlp():
    """mlp.s: load w1 [128 x 64], matmul M=32, load w2 [64 x 10], matmul M=32 on 128 x 128."""
    src = (REPO_ROOT / "isa" / "examples" / "mlp.s").read_text()
    core = Core()
    assert core.pe_shape == (128, 128)
    rng = np.random.default_rng(0)
    shapes = {"x": (32, 128), "w1": (128, 64), "b1": (64, 1), "w2": (64, 10), "b2": (10, 1)}
    stats = core.run(src, {k: rng.standard_normal(s) for k, s in shapes.items()}).stats
    lat = 128 + 128 - 2
    # load 1: [0, 128); matmul 1 at 128; load 2 at 128 + 64 (swap done), [192, 256); matmul 2 at 256
    assert stats.pe_cycles == 256 + 32 + lat
    assert stats.utilization == pytest.approx(stats.macs / (128 * 128 * stats.pe_cycles))
    assert stats.to_dict()["pe_cycles"] == stats.pe_cycles


def test_core_uses_the_configured_array_size():
    core = Core(CoreConfig(pe_rows=64, pe_cols=32, psum_partitions=128))
    assert core.pe_shape == (64, 32)
    assert (core.pe_timeline.rows, core.pe_timeline.cols) == (64, 32)
