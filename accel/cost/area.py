"""Area of a core from its CoreConfig: our RTL's Yosys cell counts (accel/cost/cells.py, measured by
benchmarks/gates_area.py) priced per cell type at 45 nm, times how many of each block the config
has, plus the blocks that scale with a field (the DMA engine by beat width and queues, the engine
queues by depth, rtl/core.v's own logic by partitions, semaphores, PSUM banks and DMA beat, the PE and
ACT engines beyond their arrays and lanes by columns and lanes: a polynomial through the sizes
measured), plus the SRAM bits of SBUF, PSUM, the function tables and the instruction memory
(docs/area_energy.md).

Why per cell type: Yosys' generic cells differ tenfold in size (an inverter against a flip-flop
with enable), so a bare cell count would overweight the flip-flop-light arithmetic.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import numpy as np

from accel.config import CoreConfig
from accel.cost.cells import BLOCKS, SCALED

# Nangate 45 nm Open Cell Library (FreePDK45), drive X1: area in um^2 of the cell each Yosys generic
# cell maps to (cell width x the 1.4 um row). ANDNOT/ORNOT have no cell of their own: AND2/OR2's area.
CELL_UM2 = {
    "$_NOT_": 0.532,  # INV_X1
    "$_BUF_": 0.798,  # BUF_X1
    "$_NAND_": 0.798, "$_NOR_": 0.798,  # NAND2_X1, NOR2_X1
    "$_AND_": 1.064, "$_OR_": 1.064, "$_ANDNOT_": 1.064, "$_ORNOT_": 1.064,  # AND2_X1, OR2_X1
    "$_XOR_": 1.596, "$_XNOR_": 1.596,  # XOR2_X1, XNOR2_X1
    "$_MUX_": 1.862,  # MUX2_X1
    "$_AOI3_": 1.064, "$_OAI3_": 1.064,  # AOI21_X1, OAI21_X1
    "$_AOI4_": 1.330, "$_OAI4_": 1.330,  # AOI22_X1, OAI22_X1
}
DFF_UM2 = 4.522  # DFF_X1
DFFR_UM2 = 5.320  # DFFR_X1: an asynchronous reset (or set)
DFFRS_UM2 = 6.384  # DFFRS_X1: both
# A flip-flop with an enable is DFF_X1 + MUX2_X1 (the library has no enable flip-flop); a synchronous
# reset adds an AND2_X1 in front of D.
ENABLE_UM2, SYNC_RESET_UM2 = CELL_UM2["$_MUX_"], CELL_UM2["$_AND_"]

# SRAM: a 45 nm 6T bit cell of 0.346 um^2 (Intel 45 nm, Mistry et al., IEDM 2007) in arrays whose
# bit cells fill half the macro (decoders, sense amplifiers, write drivers: the other half).
SRAM_BITCELL_UM2 = 0.346
SRAM_ARRAY_EFFICIENCY = 0.5
SRAM_UM2_PER_BIT = SRAM_BITCELL_UM2 / SRAM_ARRAY_EFFICIENCY

# The function unit's table memories per lane (rtl/act_func.v's parameters): the image RAM of
# 2**WORDS_LOG2 words and the exp ROM of 2**EXP_WORDS_LOG2 words, 32 bits each (ROM priced as SRAM).
ACT_TABLE_BITS = ((1 << 14) + (1 << 9)) * 32
VEC_WALKERS = 3  # rtl/vec_engine.v: u_w0, u_w1, u_w2
ENGINE_QUEUES = 4  # rtl/core.v: one instruction queue per engine (PE, ACT, VEC, DMA)
# rtl/core.v's instruction memory: PROG_DEPTH (4096) words of 512 bits (no CoreConfig field: the RTL's default)
IMEM_BITS = 4096 * 512

_FF = re.compile(r"\$_(S?)DFF(S?R?)(C?E?)_([PN01]+)_$")


def cell_um2(kind: str) -> float:
    """Area of one Yosys generic cell of type `kind` (ValueError for a type this table lacks)."""
    if kind in CELL_UM2:
        return CELL_UM2[kind]
    m = _FF.fullmatch(kind)
    if not m:
        raise ValueError(f"Yosys cell type {kind} has no area in accel.cost.area.CELL_UM2")
    sync, sr, enable, pol = m.groups()
    asynchronous = not sync and len(pol) - ("E" in enable) >= 3  # a reset value after the polarities
    base = DFFRS_UM2 if sr == "SR" else DFFR_UM2 if asynchronous else DFF_UM2
    return base + (SYNC_RESET_UM2 if sync else 0.0) + (ENABLE_UM2 if "E" in enable else 0.0)


def cells_um2(cells: dict[str, int]) -> float:
    """Area of Yosys cells by type ('total' ignored)."""
    return sum(n * cell_um2(k) for k, n in cells.items() if k != "total")


def block_um2(name: str) -> float:
    """Area of one instance of a measured block (accel.cost.cells.BLOCKS)."""
    return cells_um2(BLOCKS[name]["cells"])


@functools.cache
def _fit(name: str) -> np.poly1d:
    b = SCALED[name]
    xs = sorted(b["points"])[-(b["degree"] + 1):]
    return np.poly1d(np.polyfit(xs, [cells_um2(b["points"][x]) for x in xs], b["degree"]))


def scaled_um2(name: str, x: int) -> float:
    """Area of a SCALED block at parameter value `x`: the polynomial of its degree through its largest
    measured sizes (the smaller ones check it; docs/area_energy.md); beyond them, extrapolated."""
    return float(_fit(name)(x))


def _from_base(name: str, x: int) -> float:
    """What a SCALED core block adds at `x` over its smallest measured size (the size core_control has)."""
    return scaled_um2(name, x) - scaled_um2(name, min(SCALED[name]["points"]))


def dma_um2(config: CoreConfig) -> float:
    """The DMA engine: by beat width at 4 queues, plus what queues other than 4 add at a 4-byte beat,
    plus what beat bytes beyond the 4 rtl/core.v was measured with add to the core's SBUF port for the
    DMA (its read-data register and per-byte addresses: core_beat)."""
    um2 = scaled_um2("dma_beat", config.dma_bytes_per_cycle)
    um2 += scaled_um2("dma_queues", config.dma_queues) - scaled_um2("dma_queues", 4)
    return um2 + _from_base("core_beat", config.dma_bytes_per_cycle)


def control_um2(config: CoreConfig) -> float:
    """The core's four engine queues and its own logic (rtl/core.v without engines, queues, decoder and
    memories: sequencer, semaphores, tensor table, PSUM bank arbitration, memory ports): core_control by
    partitions (PE rows and columns measured equal to them), plus what semaphores and PSUM banks beyond
    the ones it was measured with add (its DMA beat: dma_um2); the decoder is a BLOCK."""
    own = scaled_um2("core_control", config.sbuf_partitions)
    own += _from_base("core_semaphores", config.semaphores) + _from_base("core_banks", config.psum_banks)
    return own + ENGINE_QUEUES * scaled_um2("engine_queue", config.queue_depth)


def pe_engine_um2(config: CoreConfig) -> float:
    """rtl/pe_engine.v beyond its array: SBUF walkers, cycle rules and the PSUM write / accumulate stage,
    by PE columns (measured with rows = columns)."""
    return scaled_um2("pe_engine", config.pe_cols)


def act_engine_um2(config: CoreConfig) -> float:
    """rtl/act_engine.v beyond its lanes and its image memory: decode, walkers, scoreboard, rotators, bias
    registers, the delay line of write addresses; by lanes (SBUF partitions)."""
    return scaled_um2("act_engine", config.sbuf_partitions)


def block_counts(config: CoreConfig) -> dict[str, int]:
    """How many instances of each measured block a core of `config` has: R x C PEs; the row skews'
    R(R-1)/2 register stages; the output's (C-1)(C-2)/2 de-skew stages and R + C - 2 tag stages
    (rtl/sparse_array.v); a vector and a function-unit lane per SBUF partition; the vector engine's
    walkers, scale divider and seeder; one decoder. Not psum_lane (rtl/psum_acc.v is not in rtl/core.v:
    the PSUM accumulate adders are rtl/pe_engine.v's, in pe_engine_um2)."""
    r, c, lanes = config.pe_rows, config.pe_cols, config.sbuf_partitions
    return {"pe": r * c, "skew_stage": r * (r - 1) // 2, "deskew_stage": max(c - 1, 0) * max(c - 2, 0) // 2,
            "output_lat_stage": r + c - 2, "vec_lane": lanes, "vec_ap_walk": VEC_WALKERS,
            "dropout_scale": 1, "splitmix64_seeder": 1, "act_lane": lanes, "decoder": 1}


# which component of the breakdown each block belongs to
_COMPONENT = {"pe": "pe_array", "skew_stage": "pe_array", "deskew_stage": "pe_array", "output_lat_stage": "pe_array",
              "vec_lane": "vec", "vec_ap_walk": "vec", "dropout_scale": "vec",
              "splitmix64_seeder": "vec", "act_lane": "act", "decoder": "control"}


def sram_bits(config: CoreConfig) -> dict[str, int]:
    """SRAM bits: SBUF, PSUM, the function tables of every ACT lane and the instruction memory."""
    return {"sbuf": config.sbuf_partitions * config.sbuf_partition_bytes * 8,
            "psum": config.psum_partitions * config.psum_partition_bytes * 8,
            "act_tables": config.sbuf_partitions * ACT_TABLE_BITS, "imem": IMEM_BITS}


def area(config: CoreConfig) -> dict[str, Any]:
    """The core's area in mm^2 at 45 nm: logic per component (pe_array, pe_engine: its walkers and PSUM
    accumulate, vec, act: lanes and engine, dma, control: queues, decoder, core.v's own logic), SRAM per
    memory (sbuf, psum, act_tables, imem), and the total."""
    mm2: dict[str, float] = dict.fromkeys(("pe_array", "pe_engine", "vec", "act", "dma", "control"), 0.0)
    for name, n in block_counts(config).items():
        mm2[_COMPONENT[name]] += n * block_um2(name) * 1e-6
    mm2["pe_engine"] += pe_engine_um2(config) * 1e-6
    mm2["act"] += act_engine_um2(config) * 1e-6
    mm2["dma"] += dma_um2(config) * 1e-6
    mm2["control"] += control_um2(config) * 1e-6
    bits = sram_bits(config)
    for name, b in bits.items():
        mm2[f"{name}_sram"] = b * SRAM_UM2_PER_BIT * 1e-6
    logic = sum(v for k, v in mm2.items() if not k.endswith("_sram"))
    sram = sum(v for k, v in mm2.items() if k.endswith("_sram"))
    return {"mm2": logic + sram, "logic_mm2": logic, "sram_mm2": sram, "components_mm2": mm2, "sram_bits": bits}
