"""Area and energy (accel.cost) on hand-worked cases: cell prices, block counts and SRAM bits of a
small core; the action counts and energy of a five-instruction program worked out by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from accel.config import CoreConfig
from accel.cost import actions, area, energy
from accel.cost.area import block_counts, block_um2, cell_um2, cells_um2, control_um2, dma_um2, scaled_um2
from accel.cost.cells import BLOCKS, SCALED
from accel.cost.energy import sram_pj_per_bit
from accel.isa.asm import assemble
from accel.timing import schedule

SMALL = CoreConfig(pe_rows=2, pe_cols=3, sbuf_partitions=4, sbuf_partition_bytes=1024, psum_partitions=4,
                   psum_partition_bytes=256, psum_banks=1)


@pytest.mark.parametrize("kind, um2", [
    ("$_NOT_", 0.532), ("$_XOR_", 1.596), ("$_MUX_", 1.862), ("$_DFF_P_", 4.522),
    ("$_DFFE_PP_", 4.522 + 1.862),  # enable: a MUX2 in front of D
    ("$_SDFF_PP0_", 4.522 + 1.064),  # synchronous reset: an AND2
    ("$_SDFFE_PP0P_", 4.522 + 1.064 + 1.862), ("$_SDFFCE_PN1P_", 4.522 + 1.064 + 1.862),
    ("$_DFF_PP0_", 5.320),  # asynchronous reset: DFFR_X1
    ("$_DFFE_PN0P_", 5.320 + 1.862), ("$_DFFSR_PPP_", 6.384)])
def test_cell_prices(kind: str, um2: float) -> None:
    assert cell_um2(kind) == pytest.approx(um2)


def test_unknown_cell_type_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"\$_DLATCH_P_ has no area"):
        cell_um2("$_DLATCH_P_")


def test_skew_stage_by_hand() -> None:
    """rtl/array_skew.v, one stage: 16 data flip-flops and 2 with a synchronous reset (en, swap)."""
    assert BLOCKS["skew_stage"]["cells"] == {"$_DFF_P_": 16, "$_SDFF_PP0_": 2, "total": 18}
    assert block_um2("skew_stage") == pytest.approx(16 * 4.522 + 2 * (4.522 + 1.064))


def test_block_counts_of_a_small_core() -> None:
    assert block_counts(SMALL) == {"pe": 6, "skew_stage": 1, "deskew_stage": 1, "output_lat_stage": 3,
                                   "psum_lane": 3, "vec_lane": 4, "vec_ap_walk": 3, "dropout_scale": 1,
                                   "splitmix64_seeder": 1, "act_lane": 4, "decoder": 1}


def test_area_of_a_small_core() -> None:
    a = area(SMALL)
    assert a["sram_bits"] == {"sbuf": 4 * 1024 * 8, "psum": 4 * 256 * 8, "act_tables": 4 * (16384 + 512) * 32,
                              "imem": 4096 * 512}
    bits = sum(a["sram_bits"].values())
    assert a["sram_mm2"] == pytest.approx(bits * 0.346 / 0.5 * 1e-6)
    logic = (sum(n * block_um2(b) for b, n in block_counts(SMALL).items()) + dma_um2(SMALL) + control_um2(SMALL)) * 1e-6
    assert a["logic_mm2"] == pytest.approx(logic)
    assert a["mm2"] == pytest.approx(logic + a["sram_mm2"])
    assert sum(a["components_mm2"].values()) == pytest.approx(a["mm2"])


def test_area_grows_by_the_blocks_a_field_adds() -> None:
    """One more PE column: 2 PEs, one PSUM lane, and the de-skew stages of 4 columns instead of 3 (3 - 1)."""
    wider = CoreConfig(**{**SMALL.__dict__, "pe_cols": 4})
    grown = (area(wider)["mm2"] - area(SMALL)["mm2"]) * 1e6
    assert grown == pytest.approx(2 * block_um2("pe") + block_um2("psum_lane") + 2 * block_um2("deskew_stage")
                                  + block_um2("output_lat_stage"))
    more_sbuf = CoreConfig(**{**SMALL.__dict__, "sbuf_partition_bytes": 2048})
    assert (area(more_sbuf)["mm2"] - area(SMALL)["mm2"]) * 1e6 == pytest.approx(4 * 1024 * 8 * 0.692)


@pytest.mark.parametrize("name", sorted(SCALED))
def test_scaled_blocks_meet_their_measurements(name: str) -> None:
    """Each fitted block passes through the sizes it is fitted to and is within 3% of any smaller one
    measured (the queues' linear fit, the DMA's in its queues)."""
    b = SCALED[name]
    fitted = sorted(b["points"])[-(b["degree"] + 1):]
    for x, cells in b["points"].items():
        tol = 1e-9 if x in fitted else 0.03
        assert scaled_um2(name, x) == pytest.approx(cells_um2(cells), rel=tol), (name, x)


def test_dma_beat_queues_and_semaphores_add_area() -> None:
    """The DMA grows with its beat, the engine queues with their depth, by the fitted blocks'
    differences, every other block unchanged; DMA queues and semaphores add what their fitted blocks
    add, nothing while cells.py does not have them (docs/area_energy.md, "Not counted")."""
    def grown(**field: int) -> float:
        return (area(CoreConfig(**{**SMALL.__dict__, **field}))["mm2"] - area(SMALL)["mm2"]) * 1e6

    def fitted(name: str, x: int, x0: int) -> float:
        return scaled_um2(name, x) - scaled_um2(name, x0) if name in SCALED else 0.0

    assert grown(dma_bytes_per_cycle=128) == pytest.approx(fitted("dma_beat", 128, 64))
    assert grown(queue_depth=32) == pytest.approx(4 * fitted("engine_queue", 32, 16))
    assert min(grown(dma_bytes_per_cycle=128), grown(queue_depth=32)) > 0
    assert grown(dma_queues=8) == pytest.approx(fitted("dma_queues", 8, 4), abs=1e-6)
    assert grown(semaphores=64) == pytest.approx(fitted("core_control", 64, 32), abs=1e-6)


def test_sram_energy_interpolation() -> None:
    """Horowitz's 64-bit accesses: 8 KB 10 pJ, 32 KB 20 pJ, 1 MB 100 pJ; log-log in between."""
    assert sram_pj_per_bit(8 << 10) == pytest.approx(10 / 64)
    assert sram_pj_per_bit(32 << 10) == pytest.approx(20 / 64)
    assert sram_pj_per_bit(1 << 20) == pytest.approx(100 / 64)
    assert sram_pj_per_bit(16 << 10) == pytest.approx(10 * 2 ** 0.5 / 64)


PROGRAM = """
.tensor x bf16[4, 8] in
.tensor w bf16[4, 4] in
.tensor y fp32[4, 8] out
dma.load sb[0:4, 0]:bf16[8], x
dma.load sb[0:4, 64]:bf16[4], w
sem.signal dma, s0
sem.wait pe, s0
pe.load_weights sb[0:4, 64]:bf16[4]
pe.matmul psum[0:4, 0]:fp32[8], sb[0:4, 0]:bf16[8]
sem.signal pe, s1
sem.wait act, s1
act.identity sb[0:4, 128]:fp32[8], psum[0:4, 0]:fp32[8]
sem.signal act, s2
sem.wait dma, s2
dma.store y, sb[0:4, 128]:fp32[8]
halt
"""
TINY = CoreConfig(pe_rows=4, pe_cols=4, sbuf_partitions=4, sbuf_partition_bytes=32768, psum_partitions=4,
                  psum_partition_bytes=8192)


def test_actions_and_energy_by_hand() -> None:
    """x (64 B) and w (32 B) in; the weights read (32 B); the matmul reads 64 B of SBUF, writes 4 x 8
    fp32 (128 B) of PSUM, 4 x 4 x 8 = 128 bf16 MACs; ACT reads the 128 B and writes 128 B; the store
    reads them and writes 128 B of DRAM."""
    tl = schedule(assemble(PROGRAM, "hand.s", TINY), TINY)
    a = actions(tl)
    assert a["macs"] == {"int8": 0, "bf16": 128, "fp32": 0} and tl.macs == 128
    assert (a["sbuf_read_bytes"], a["sbuf_write_bytes"]) == (32 + 64 + 128, 64 + 32 + 128)
    assert (a["psum_read_bytes"], a["psum_write_bytes"]) == (128, 128)
    assert a["dram_bytes"] == 64 + 32 + 128
    assert (a["act_elements"], a["vec_elements"]) == (32, 0)
    e = energy(tl)["components_uj"]
    pj = {"pe": 128 * (1.1 + 0.9), "vec": 0.0, "act": 32 * (3.7 + 0.9), "sbuf": 448 * 8 * 20 / 64,
          "psum": 256 * 8 * 10 / 64, "dram": 224 * 8 * 1300 / 64}
    assert e == pytest.approx({k: v * 1e-6 for k, v in pj.items()})
    assert energy(tl)["uj"] == pytest.approx(sum(pj.values()) * 1e-6)
    # the energy of two runs is their sum; the config's SRAM sizes set the per-bit energy
    assert energy([tl, tl])["uj"] == pytest.approx(2 * energy(tl)["uj"])
    bigger = CoreConfig(**{**TINY.__dict__, "sbuf_partition_bytes": 1 << 20})
    assert energy(tl, bigger)["components_uj"]["sbuf"] == pytest.approx(448 * 8 * 100 / 64 * 1e-6)


def test_macs_match_the_schedule_on_every_directed_case() -> None:
    """The energy's MAC count (K x N x M from the operands, dense and sparse) is the schedule's own."""
    from accel.isa.asm import assemble_file
    from accel.isa.resources import CHECKOUT

    cases = sorted((Path(__file__).resolve().parents[1] / "programs" / "cases").glob("*.s"))
    if not CHECKOUT or not cases:
        pytest.skip("needs the checkout's directed cases")
    with_macs = 0
    for case in cases:
        tl = schedule(assemble_file(str(case)), CoreConfig())
        assert sum(actions(tl)["macs"].values()) == tl.macs, case.name
        with_macs += tl.macs > 0
    assert with_macs >= 4  # pe.load_weights, pe.load_sparse, pe.matmul, pe.matmul_sparse
