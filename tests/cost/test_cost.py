"""Area and energy (accel.cost) on hand-worked cases: cell prices, block counts and SRAM bits of a
small core; the action counts and energy of a five-instruction program worked out by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from accel.config import CoreConfig
from accel.cost import actions, area, energy
from accel.cost.area import (
    act_engine_um2,
    block_counts,
    block_um2,
    cell_um2,
    cells_um2,
    control_um2,
    dma_um2,
    pe_engine_um2,
    scaled_um2,
)
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
                                   "vec_lane": 4, "vec_ap_walk": 3, "dropout_scale": 1,
                                   "splitmix64_seeder": 1, "act_lane": 4, "decoder": 1}


def test_area_of_a_small_core() -> None:
    a = area(SMALL)
    assert a["sram_bits"] == {"sbuf": 4 * 1024 * 8, "psum": 4 * 256 * 8, "act_tables": 4 * (16384 + 512) * 32,
                              "imem": 4096 * 512}
    bits = sum(a["sram_bits"].values())
    assert a["sram_mm2"] == pytest.approx(bits * 0.346 / 0.5 * 1e-6)
    logic = (sum(n * block_um2(b) for b, n in block_counts(SMALL).items()) + dma_um2(SMALL) + control_um2(SMALL)
             + pe_engine_um2(SMALL) + act_engine_um2(SMALL)) * 1e-6
    assert a["logic_mm2"] == pytest.approx(logic)
    assert a["mm2"] == pytest.approx(logic + a["sram_mm2"])
    assert sum(a["components_mm2"].values()) == pytest.approx(a["mm2"])


def test_area_grows_by_the_blocks_a_field_adds() -> None:
    """One more PE column: 2 PEs, the de-skew stages of 4 columns instead of 3 (3 - 1), a tag stage, and
    the PE engine's column (its walker element and PSUM accumulate: pe_engine's fit, not psum_lane)."""
    wider = CoreConfig(**{**SMALL.__dict__, "pe_cols": 4})
    grown = (area(wider)["mm2"] - area(SMALL)["mm2"]) * 1e6
    column = scaled_um2("pe_engine", 4) - scaled_um2("pe_engine", 3)
    assert column > cells_um2(BLOCKS["psum_lane"]["cells"]) / 2  # at least an fp32 and an int32 adder
    assert grown == pytest.approx(2 * block_um2("pe") + 2 * block_um2("deskew_stage") + block_um2("output_lat_stage")
                                  + column)
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


def test_dma_beat_queues_semaphores_and_banks_add_area() -> None:
    """The DMA grows with its beat (the engine and the core's SBUF port for it), the engine queues with
    their depth, the DMA with its queues, rtl/core.v's own logic with semaphores and PSUM banks, each by
    its fitted blocks' differences, every other block unchanged."""
    def grown(**field: int) -> float:
        return (area(CoreConfig(**{**SMALL.__dict__, **field}))["mm2"] - area(SMALL)["mm2"]) * 1e6

    def fitted(name: str, x: int, x0: int) -> float:
        return scaled_um2(name, x) - scaled_um2(name, x0)

    assert grown(dma_bytes_per_cycle=128) == pytest.approx(fitted("dma_beat", 128, 64) + fitted("core_beat", 128, 64))
    assert grown(queue_depth=32) == pytest.approx(4 * fitted("engine_queue", 32, 16))
    assert grown(dma_queues=8) == pytest.approx(fitted("dma_queues", 8, 4))
    assert grown(semaphores=64) == pytest.approx(fitted("core_semaphores", 64, 32))
    assert grown(psum_banks=2) == pytest.approx(fitted("core_banks", 2, 1))
    assert min(grown(dma_bytes_per_cycle=128), grown(queue_depth=32), grown(dma_queues=8), grown(semaphores=64),
               grown(psum_banks=2), fitted("core_beat", 128, 64)) > 0


def flip_flops(cells: dict[str, int]) -> int:
    return sum(n for k, n in cells.items() if "DFF" in k)


def test_core_logic_measurements_by_hand() -> None:
    """What rtl/core.v's own logic must hold, read off the RTL: at 4 partitions its tensor table (256 x 32
    bits, written through the load port) and the ACT FIFO (16 entries of a 12-bit index and a bank bit)
    are flip-flops, the memories are not (SBUF and PSUM at 16 bytes a partition would be 2 x 512 more,
    the instruction memory 16 x 512 x ... more); 8 more semaphores are 8 more 32-bit counters with a
    synchronous reset."""
    base = SCALED["core_control"]["points"][4]
    assert 256 * 32 + 16 * 13 <= flip_flops(base) < 256 * 32 + 16 * 13 + 4096
    s8, s16 = (SCALED["core_semaphores"]["points"][x] for x in (8, 16))
    assert s16.get("$_SDFF_PP0_", 0) - s8.get("$_SDFF_PP0_", 0) == 8 * 32
    assert flip_flops(s16) - flip_flops(s8) == 8 * 32


def test_default_core_counts_core_logic_and_engines() -> None:
    """The default core's breakdown has rtl/core.v's own logic (in control, beside the queues and the
    decoder), the PE engine beyond its array and the ACT engine beyond its lanes, each > 0."""
    cfg = CoreConfig()
    a = area(cfg)["components_mm2"]
    queues = 4 * scaled_um2("engine_queue", cfg.queue_depth)
    own = control_um2(cfg) - queues
    assert own > 0 and own == pytest.approx(scaled_um2("core_control", 128) + fitted_from("core_semaphores", 32)
                                            + fitted_from("core_banks", 8))
    assert a["control"] * 1e6 == pytest.approx(queues + own + block_um2("decoder"))
    assert a["pe_engine"] * 1e6 == pytest.approx(pe_engine_um2(cfg)) and pe_engine_um2(cfg) > 0
    assert a["act"] * 1e6 == pytest.approx(128 * block_um2("act_lane") + act_engine_um2(cfg))
    assert act_engine_um2(cfg) > 0


def fitted_from(name: str, x: int) -> float:
    """A core block's area at x over its first measured size."""
    return scaled_um2(name, x) - scaled_um2(name, min(SCALED[name]["points"]))


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
