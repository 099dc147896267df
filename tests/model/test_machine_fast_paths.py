"""The machine's per-instruction fast paths (docs/emulator.md, "Speed") change no result and no
error: access-pattern facts worked out once per pattern, stream-order verdicts without byte maps
for the usual operand layouts, DRAM pattern facts per program, and a fast backend whose VEC and
ACT arithmetic never touches the bit-level model."""

from __future__ import annotations

import numpy as np
import pytest

import accel.machine as machine
from accel import CoreConfig
from accel.isa.asm import AsmError, assemble
from accel.isa.operands import AP, NP_STORAGE, Tensor, default_strides, dtype_bytes
from accel.machine import Core, MachineError
from accel.model import fp

EVERY_VEC_ACT = """
.tensor x fp32[8, 64] in
.tensor y fp32[8, 64] out
.tensor h bf16[8, 16] out
.tensor q int8[8, 16] out
dma.load sb[0:8, 0]:fp32[64], x
sem.signal dma, s0
sem.wait vec, s0
vec.add sb[0:8, 256]:fp32[16], sb[0:8, 0]:fp32[16], sb[0:8, 64]:fp32[16]
vec.sub sb[0:8, 256]:fp32[16], sb[0:8, 256]:fp32[16], sb[0:8, 128]:fp32[16]
vec.mul sb[0:8, 320]:fp32[16], sb[0:8, 0]:fp32[16], sb[0:8, 192]:fp32[16]
vec.max sb[0:8, 384]:fp32[16], sb[0:8, 256]:fp32[16], sb[0:8, 320]:fp32[16]
vec.min sb[0:8, 448]:fp32[16], sb[0:8, 256]:fp32[16], sb[0:8, 320]:fp32[16]
vec.adds sb[0:8, 0]:fp32[16], sb[0:8, 0]:fp32[16], 0.5
vec.subs sb[0:8, 64]:fp32[16], sb[0:8, 64]:fp32[16], -1.25
vec.muls sb[0:8, 128]:fp32[16], sb[0:8, 128]:fp32[16], 3.0
vec.maxs sb[0:8, 192]:fp32[16], sb[0:8, 192]:fp32[16], -0.0
vec.mins sb[0:8, 256]:fp32[16], sb[0:8, 256]:fp32[16], 0.0
vec.reduce_sum sb[0:8, 512]:fp32[4], sb[0:8, 0]:fp32[4, 4]
vec.reduce_max sb[0:8, 528]:fp32[4], sb[0:8, 64]:fp32[4, 4]
vec.cast sb[0:8, 600]:bf16[16], sb[0:8, 384]:fp32[16]
vec.cast sb[0:8, 640]:int8[16], sb[0:8, 448]:fp32[16]
vec.copy sb[0:8, 704]:fp32[16], sb[0:8, 512]:fp32[16]
sem.signal vec, s1
sem.wait act, s1
act.identity sb[0:8, 768]:fp32[16], sb[0:8, 0]:fp32[16], scale=0.75, bias=-2.0
act.relu sb[0:8, 832]:fp32[16], sb[0:8, 64]:fp32[16], scale=-1.5, bias=sb[0:8, 512]:fp32[1]
act.relu sb[0:8, 896]:bf16[16], sb[0:8, 600]:bf16[16]
sem.signal act, s2
sem.wait dma, s2
dma.store y, sb[0:8, 0]:fp32[64]
dma.store h, sb[0:8, 896]:bf16[16]
dma.store q, sb[0:8, 640]:int8[16]
halt
"""


def _inputs() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(3)
    x = rng.standard_normal((8, 64)).astype(np.float32)
    x.view(np.uint32)[0, :8] = [0x7FC12345, 0xFFA00001, 0x7F800000, 0xFF800000, 1, 0x80000001, 0, 0x80000000]
    x.view(np.uint32)[1, 16:24] = [0x80000000, 0, 0x7F7FFFFF, 0xFF7FFFFF, 0x00800000, 0x3F800000, 0x80000000, 0]
    return {"x": x}


def _bits(outputs: dict[str, np.ndarray]) -> dict[str, bytes]:
    return {k: v.tobytes() for k, v in outputs.items()}


def test_fast_backend_runs_vec_and_act_without_the_bit_level_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every VEC/ACT arithmetic opcode on the fast backend gives the model's bits, and calls none of
    accel.model.fp's arithmetic (which costs ~165 us per 128 elements)."""
    want = _bits(Core(backend="model").run(EVERY_VEC_ACT, _inputs()).outputs)

    def slow(*args, **kwargs):
        raise AssertionError("the fast backend called the bit-level model")

    for name in ("add", "sub", "mul", "maximum", "minimum", "relu", "fp32_to_bf16", "fp32_to_int8",
                 "fp32_to_int32", "bf16_to_fp32", "int32_to_fp32"):
        monkeypatch.setattr(fp, name, slow)
    assert _bits(Core().run(EVERY_VEC_ACT, _inputs()).outputs) == want


def test_usual_overlaps_build_no_byte_maps(monkeypatch: pytest.MonkeyPatch) -> None:
    """Disjoint operands and element-for-element (or shifting-down) in place need no byte maps."""
    def maps(*args):
        raise AssertionError("built byte maps")

    monkeypatch.setattr(machine, "_stream_bytes", maps)
    Core().run(EVERY_VEC_ACT, _inputs())
    Core().run("nop vec\nvec.copy sb[0:1, 0]:fp32[7], sb[0:1, 4]:fp32[7]\n")


def test_a_stream_order_verdict_is_worked_out_once_per_pair(monkeypatch: pytest.MonkeyPatch) -> None:
    """An overlap that needs the byte-by-byte verdict computes it once, and reports it every time."""
    calls = []
    late = machine._late_byte
    monkeypatch.setattr(machine, "_late_byte", lambda d, s: calls.append(1) or late(d, s))
    good = "vec.cast sb[0:1, 0]:bf16[8], sb[0:1, 0]:fp32[8]"  # narrowing in place: a verdict, no error
    core = Core()
    for _ in range(3):
        core.run(f"nop vec\n{good}\n{good}\n")
    assert len(calls) == 1
    bad = "vec.copy sb[0:1, 4]:fp32[7], sb[0:1, 0]:fp32[7]"
    for _ in range(2):
        with pytest.raises(MachineError, match="writes byte 4 at element 0 before src reads it at element 1"):
            core.run(f"nop vec\n{bad}\n")
    assert len(calls) == 2


@pytest.mark.parametrize("seed", range(4))
def test_reads_and_writes_follow_the_element_offsets(seed: int) -> None:
    """Random strided, repeated (@0), reversed and contiguous patterns read and write exactly the
    elements offset // size + element_offsets() (the fast path uses a slice for one ascending run)."""
    rng = np.random.default_rng(seed)
    core = Core(CoreConfig(sbuf_partitions=8, sbuf_partition_bytes=4096, pe_rows=8, pe_cols=8,
                           psum_partitions=8))
    core.sbuf[:] = rng.integers(0, 256, core.sbuf.shape, dtype=np.uint8)
    for _ in range(200):
        dtype = str(rng.choice(list(NP_STORAGE)))
        size = dtype_bytes(dtype)
        strides = [0, 1, 2, 4, 5, -1, -3]
        dims = tuple((int(rng.integers(1, 5)), int(rng.choice(strides))) for _ in range(rng.integers(1, 4)))
        if rng.random() < 0.3:  # one ascending run
            counts = [n for n, _ in dims]
            dims = tuple(zip(counts, default_strides(tuple(counts)), strict=True))
        ap = AP("sb", int(rng.integers(0, 4)), int(rng.integers(1, 5)), size * int(rng.integers(40, 60)), dtype, dims)
        rows = core.sbuf[ap.pstart:ap.pstart + ap.pcount].view(NP_STORAGE[dtype])
        idx = ap.offset // size + ap.element_offsets()
        assert np.array_equal(core.read(ap), rows[:, idx])
        new = rng.integers(-100, 100, (ap.pcount, idx.size)).astype(NP_STORAGE[dtype])
        expect = rows.copy()
        expect[:, idx] = new
        core.write(ap, new)
        assert np.array_equal(rows, expect)


def test_facts_follow_a_changed_config() -> None:
    """Pattern facts belong to one configuration: after core.config changes, the bounds are the new ones."""
    text = "nop vec\nvec.copy sb[0:1, 4096]:fp32[4], sb[0:1, 0]:fp32[4]\n"
    core = Core()
    core.run(text)
    core.config = CoreConfig(sbuf_partition_bytes=4096)
    with pytest.raises((MachineError, AsmError), match="bytes 4096..4111 outside sb's partition bytes 0..4095"):
        core.run(text)


def test_dram_facts_belong_to_one_program() -> None:
    """The same DRAM pattern in another program is checked against that program's tensor."""
    text = ".tensor t fp32[2, 8] in\ndma.load sb[0:2, 0]:fp32[8], t(0)[2@8, 8@1]\n"
    core = Core()
    core.run(text, {"t": np.zeros((2, 8), np.float32)})
    smaller = assemble(text)
    smaller.tensors[0] = Tensor("t", "fp32", (1, 8), "in")
    with pytest.raises(MachineError, match="reaches elements 0..15 of"):
        core.run(smaller, {"t": np.zeros((1, 8), np.float32)})
