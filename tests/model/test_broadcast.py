"""The stride-0 (broadcast) forms and the row-wise reduction layout that docs/emulator.md documents.

Each documented form runs from text and from its binary (assemble -> bytes -> disassemble ->
assemble gives the same bytes, which run the same), on both backends, against numpy."""

from __future__ import annotations

import numpy as np
import pytest

import accel

BACKENDS = ("model", "fast")
X = np.arange(32, dtype=np.float32).reshape(4, 8) - 11.5
COL = np.array([[10.0], [-20.0], [30.5], [-0.0]], np.float32)


def run(text: str, inputs: dict[str, np.ndarray], backend: str) -> dict[str, np.ndarray]:
    """Outputs of `text`, checked to be the same when run from its reassembled binary."""
    prog = accel.assemble(text, "broadcast.s")
    data = prog.to_bytes()
    assert accel.assemble(accel.disassemble(data)).to_bytes() == data
    out = accel.Core(backend=backend).run(prog, inputs).outputs
    again = accel.Core(backend=backend).run(data, inputs).outputs
    for k in out:
        assert np.array_equal(out[k].view(np.uint32), again[k].view(np.uint32)), k
    return out


@pytest.mark.parametrize("backend", BACKENDS)
def test_dram_partition_stride_0_loads_one_row_into_every_partition(backend: str) -> None:
    out = run("""
.tensor x fp32[1, 8] in
.tensor y fp32[4, 8] out
    dma.load sb[0:4, 0]:fp32[8], x(0)[4@0, 8@1]
    sem.signal dma, s0
    sem.wait dma, s0
    dma.store y, sb[0:4, 0]:fp32[8]
""", {"x": X[:1]}, backend)
    np.testing.assert_array_equal(out["y"], np.broadcast_to(X[:1], (4, 8)))


@pytest.mark.parametrize("backend", BACKENDS)
def test_dram_free_stride_0_repeats_an_element_along_a_partition(backend: str) -> None:
    out = run("""
.tensor b fp32[4, 1] in
.tensor y fp32[4, 8] out
    dma.load sb[0:4, 0]:fp32[8], b(0)[4@1, 8@0]
    sem.signal dma, s0
    sem.wait dma, s0
    dma.store y, sb[0:4, 0]:fp32[8]
""", {"b": COL}, backend)
    np.testing.assert_array_equal(out["y"].view(np.uint32), np.broadcast_to(COL, (4, 8)).view(np.uint32))


@pytest.mark.parametrize("backend", BACKENDS)
def test_on_chip_at_0_source_broadcasts_along_the_free_axis(backend: str) -> None:
    """A per-partition scalar (`[8@0]`) and a repeated row (`[2@0, 4@1]`) as VEC operands, an ACT source
    and PE moving data."""
    out = run("""
.tensor x fp32[4, 8] in
.tensor b fp32[4, 1] in
.tensor w bf16[4, 4] in
.tensor add_col fp32[4, 8] out
.tensor add_row fp32[4, 8] out
.tensor relu fp32[4, 8] out
.tensor mm fp32[4, 8] out
    dma.load sb[0:4, 0]:fp32[8], x
    dma.load sb[0:4, 64]:fp32[1], b
    dma.load sb[0:4, 96]:bf16[4], w
    sem.signal dma, s0, count=2
    sem.wait vec, s0
    vec.add sb[0:4, 128]:fp32[8], sb[0:4, 0]:fp32[8], sb[0:4, 64]:fp32[8@0]
    vec.add sb[0:4, 160]:fp32[8], sb[0:4, 0]:fp32[8], sb[0:4, 0]:fp32[2@0, 4@1]
    vec.cast sb[0:4, 192]:bf16[1], sb[0:4, 64]:fp32[1]
    sem.signal vec, s1, count=2
    sem.wait act, s1
    act.relu sb[0:4, 256]:fp32[8], sb[0:4, 64]:fp32[8@0]
    sem.wait pe, s0
    pe.load_weights sb[0:4, 96]:bf16[4]
    sem.wait pe, s1
    pe.matmul psum[0:4, 0]:fp32[8], sb[0:4, 192]:bf16[8@0]
    sem.signal pe, s2
    sem.wait act, s2
    act.identity sb[0:4, 288]:fp32[8], psum[0:4, 0]:fp32[8]
    sem.signal act, s3
    sem.wait dma, s3
    dma.store add_col, sb[0:4, 128]:fp32[8]
    dma.store add_row, sb[0:4, 160]:fp32[8]
    dma.store relu, sb[0:4, 256]:fp32[8]
    dma.store mm, sb[0:4, 288]:fp32[8]
""", {"x": X, "b": COL, "w": np.diag([1.0, 2.0, -1.0, 0.5]).astype(np.float32)}, backend)
    np.testing.assert_array_equal(out["add_col"], X + COL)
    np.testing.assert_array_equal(out["add_row"], X + np.tile(X[:, :4], 2))
    np.testing.assert_array_equal(out["relu"], np.broadcast_to(np.maximum(COL, 0), (4, 8)))
    # out[n, m] = sum_k w[k, n] x[k, m] with x[k, m] = b[k] for every m
    np.testing.assert_array_equal(out["mm"], np.broadcast_to(np.diag([1.0, 2.0, -1.0, 0.5]) @ COL, (4, 8)))


@pytest.mark.parametrize("backend", BACKENDS)
def test_at_0_weights_repeat_one_column(backend: str) -> None:
    """pe.load_weights of `[4@0]`: every column of W is the partition's one element."""
    x = np.array([[1.0, 2.0], [0.5, -1.0], [4.0, 0.0]], np.float32)
    col = np.array([[2.0], [-1.0], [0.25]], np.float32)
    out = run("""
.tensor w bf16[3, 1] in
.tensor x bf16[3, 2] in
.tensor y fp32[4, 2] out
    dma.load sb[0:3, 0]:bf16[1], w
    dma.load sb[0:3, 32]:bf16[2], x
    sem.signal dma, s0
    sem.wait pe, s0
    pe.load_weights sb[0:3, 0]:bf16[4@0]
    pe.matmul psum[0:4, 0]:fp32[2], sb[0:3, 32]:bf16[2]
    sem.signal pe, s1
    sem.wait act, s1
    act.identity sb[0:4, 64]:fp32[2], psum[0:4, 0]:fp32[2]
    sem.signal act, s2
    sem.wait dma, s2
    dma.store y, sb[0:4, 64]:fp32[2]
""", {"w": col, "x": x}, backend)
    np.testing.assert_array_equal(out["y"], np.broadcast_to(col.T @ x, (4, 2)))


def test_at_0_source_may_not_be_overwritten_by_its_own_instruction() -> None:
    """In place with a broadcast operand: element 0 is written before the later steps read it."""
    with pytest.raises(accel.MachineError, match="dst writes byte 0 at element 0 before b reads it at element 7"):
        accel.run("""
.tensor x fp32[4, 8] in
    dma.load sb[0:4, 0]:fp32[8], x
    sem.signal dma, s0
    sem.wait vec, s0
    vec.add sb[0:4, 0]:fp32[8], sb[0:4, 0]:fp32[8], sb[0:4, 0]:fp32[8@0]
""", {"x": X})


def test_on_chip_patterns_cannot_broadcast_across_partitions() -> None:
    """On-chip patterns have no partition stride: a one-partition source does not fit four partitions."""
    with pytest.raises((accel.AsmError, accel.MachineError), match="operands differ in shape"):
        accel.run("vec.copy sb[0:4, 64]:fp32[8], sb[0:1, 0]:fp32[8]")


@pytest.mark.parametrize("backend", BACKENDS)
def test_row_wise_reduction_with_x_transposed_stationary(backend: str) -> None:
    """y = x @ w with x^T as the stationary operand lands row m of y in PSUM partition m, so
    vec.reduce_max reduces each row of y along the free axis (the softmax layout)."""
    rng = np.random.default_rng(3)
    m, k, n = 16, 32, 24
    x = rng.integers(-8, 8, (m, k)).astype(np.float32) / 4
    w = rng.integers(-8, 8, (k, n)).astype(np.float32) / 8
    out = run(f"""
.tensor x bf16[{m}, {k}] in
.tensor w bf16[{k}, {n}] in
.tensor y fp32[{m}, {n}] out
.tensor rowmax fp32[{m}, 1] out
    dma.load sb[0:{k}, 0]:bf16[{m}], x(0)[{k}@1, {m}@{k}]
    dma.load sb[0:{k}, 64]:bf16[{n}], w
    sem.signal dma, s0
    sem.wait pe, s0
    pe.load_weights sb[0:{k}, 0]:bf16[{m}]
    pe.matmul psum[0:{m}, 0]:fp32[{n}], sb[0:{k}, 64]:bf16[{n}]
    sem.signal pe, s1
    sem.wait vec, s1
    vec.copy sb[0:{m}, 128]:fp32[{n}], psum[0:{m}, 0]:fp32[{n}]
    vec.reduce_max sb[0:{m}, 256]:fp32[1], psum[0:{m}, 0]:fp32[1, {n}]
    sem.signal vec, s2
    sem.wait dma, s2
    dma.store y, sb[0:{m}, 128]:fp32[{n}]
    dma.store rowmax, sb[0:{m}, 256]:fp32[1]
""", {"x": x, "w": w}, backend)
    y = x.astype(np.float64) @ w.astype(np.float64)  # exact: every product and sum is a short binary fraction
    np.testing.assert_array_equal(out["y"], y)
    np.testing.assert_array_equal(out["rowmax"][:, 0], y.max(axis=1))
