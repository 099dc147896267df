"""Energy of a run: action counts from its timeline's instructions (MACs by dtype, SBUF and PSUM bytes
read and written by every access pattern, DRAM bytes, vector and function-unit element operations)
times per-action energies from Horowitz, "Computing's energy problem (and what we can do about it)",
ISSCC 2014, 45 nm at 0.9 V (docs/area_energy.md says how each figure is derived).

Dynamic energy of arithmetic and memory accesses only: no clock tree, pipeline registers, wires or
leakage, which that table does not give. No instruction's actions depend on data, so a schedule
without values (accel.timing.schedule) gives the same counts as a run.
"""

from __future__ import annotations

import math
from typing import Any

from accel.config import CoreConfig
from accel.isa.operands import AP, dtype_bytes
from accel.timing.race import operand_accesses
from accel.timing.timeline import Timeline

# Horowitz, ISSCC 2014, Fig. 1.1.9 (45 nm, 0.9 V), pJ per operation
INT8_MUL, INT32_ADD = 0.2, 0.1
FP16_MUL, FP32_ADD, FP32_MUL = 1.1, 0.9, 3.7
INT32_MUL = 3.1
# SRAM: pJ per 64-bit access of an 8 KB, 32 KB and 1 MB array; DRAM 1.3 to 2.6 nJ per 64 bits (the low end)
SRAM_64BIT = ((8 << 10, 10.0), (32 << 10, 20.0), (1 << 20, 100.0))
DRAM_PJ_PER_BIT = 1300.0 / 64

# Derived per-action energies (pJ)
MAC_PJ = {
    "int8": INT8_MUL + INT32_ADD,  # int8 x int8 product, int32 accumulate
    "bf16": FP16_MUL + FP32_ADD,  # bf16 product (the fp16 multiplier's figure: bf16's 8-bit significand is smaller)
    "fp32": FP32_MUL + FP32_ADD,
}
PHILOX_WORD_PJ = 10 * 2 * INT32_MUL / 4  # Philox4x32-10: ten rounds of two 32x32 multiplies per four words
XOROSHIRO_WORD_PJ = 4 * INT32_ADD  # xoroshiro128aox: shifts, rotates and XORs of 128 bits (~ four 32-bit adds)
ACT_AFFINE_PJ = FP32_MUL + FP32_ADD  # x * scale + bias
ACT_FMA_STEPS = 8  # act.func: the table polynomial (degree <= 7, docs/act.md) and the t step, each an fma
ACT_ROW_WORDS = 9  # act.func reads a 9-word table row per element (rtl/lut_mem.v)
ACT_TABLE_BYTES = (1 << 14) * 4  # a lane's image RAM (rtl/act_func.v)
_VEC_MUL = frozenset({"vec.mul", "vec.muls"})
_VEC_MOVE = frozenset({"vec.copy", "vec.cast", "vec.rng_get_offset", "vec.rng_save_state", "vec.rng_load_state"})
_COUNTS = ("sbuf_read_bytes", "sbuf_write_bytes", "psum_read_bytes", "psum_write_bytes", "dram_bytes", "vec_elements",
           "act_elements", "vec_op_pj", "act_op_pj")
_VEC_DROPOUT = frozenset({"vec.dropout", "vec.dropout_mask"})


def sram_pj_per_bit(nbytes: int) -> float:
    """Energy per bit of one access to an SRAM of `nbytes`: Horowitz's 64-bit figures, interpolated
    (and extrapolated) linearly in log(energy) over log(size)."""
    pts = SRAM_64BIT
    i = 0 if nbytes <= pts[1][0] else 1
    (s0, e0), (s1, e1) = pts[i], pts[i + 1]
    e = e0 * (nbytes / s0) ** (math.log(e1 / e0) / math.log(s1 / s0))
    return e / 64


def _elements(ap: AP) -> int:
    return ap.size


def vec_element_pj(ins: Any) -> float:
    """Energy of one element of a vector-engine instruction (beyond its SBUF/PSUM accesses)."""
    m = ins.mnemonic
    if m in _VEC_MUL:
        return FP32_MUL
    if m in _VEC_MOVE:
        return 0.0
    philox = not ins.ops.get("gen", 0)
    word = PHILOX_WORD_PJ if philox else XOROSHIRO_WORD_PJ
    if m == "vec.rng_fill":
        return word
    if m in _VEC_DROPOUT:
        return word + INT32_ADD + FP32_MUL  # the word, its compare with the threshold, the scale
    if m == "vec.dropout_apply":
        return FP32_MUL
    return FP32_ADD  # add, sub, min, max, reductions, their tensor-scalar forms


def act_element_pj(ins: Any) -> float:
    """Energy of one element of an ACT instruction: the affine step, and for act.func the polynomial
    and its table row read."""
    if ins.mnemonic != "act.func":
        return ACT_AFFINE_PJ
    row = ACT_ROW_WORDS * 32 * sram_pj_per_bit(ACT_TABLE_BYTES)
    return ACT_AFFINE_PJ + ACT_FMA_STEPS * (FP32_MUL + FP32_ADD) + row


def actions(tl: Timeline) -> dict[str, Any]:
    """Action counts of a timeline's instructions: MACs by moving dtype, SBUF and PSUM bytes read and
    written, DRAM bytes, and elements per engine with their operation energy (pJ) already summed."""
    macs = dict.fromkeys(MAC_PJ, 0)
    mem = {"sb": [0, 0], "psum": [0, 0]}  # [read, written] bytes
    vec_n = act_n = 0
    vec_pj = act_pj = 0.0
    k = n = 0  # the PE array's loaded weights
    for ins in tl.program.instructions[:len(tl)]:
        m, ops = ins.mnemonic, ins.ops
        for name, writes in operand_accesses(ins):
            ap = ops[name]
            if isinstance(ap, AP):
                mem[ap.space][writes] += ap.size * dtype_bytes(ap.dtype)
        if m in ("pe.load_weights", "pe.load_sparse"):
            src = ops["src"] if m == "pe.load_weights" else ops["values"]
            k, n = src.pcount, src.free_size
        elif m in ("pe.matmul", "pe.matmul_sparse"):
            src = ops["src"]
            moving = src.free_size if m == "pe.matmul" else ops["dst"].free_size
            macs[src.dtype if src.dtype in macs else "fp32"] += k * n * moving
        elif m.startswith("vec.") and "dst" in ops and isinstance(ops["dst"], AP):
            e = _elements(ops["src"] if m.startswith("vec.reduce") else ops["dst"])
            vec_n += e
            vec_pj += e * vec_element_pj(ins)
        elif m in ("act.identity", "act.relu", "act.func"):
            e = _elements(ops["src"])
            act_n += e
            act_pj += e * act_element_pj(ins)
    return {"macs": macs, "sbuf_read_bytes": mem["sb"][0], "sbuf_write_bytes": mem["sb"][1],
            "psum_read_bytes": mem["psum"][0], "psum_write_bytes": mem["psum"][1],
            "dram_bytes": int(tl.dram_bytes.sum()), "vec_elements": vec_n, "act_elements": act_n,
            "vec_op_pj": vec_pj, "act_op_pj": act_pj}


def energy_of(counts: dict[str, Any], config: CoreConfig) -> dict[str, Any]:
    """Energy in uJ per component (pe, vec, act, sbuf, psum, dram) and the total, from action counts
    (`actions`, or several runs' counts added with `add_actions`)."""
    sb = sram_pj_per_bit(config.sbuf_partition_bytes)
    ps = sram_pj_per_bit(config.psum_partition_bytes)
    pj = {"pe": sum(counts["macs"][d] * MAC_PJ[d] for d in MAC_PJ),
          "vec": counts["vec_op_pj"], "act": counts["act_op_pj"],
          "sbuf": (counts["sbuf_read_bytes"] + counts["sbuf_write_bytes"]) * 8 * sb,
          "psum": (counts["psum_read_bytes"] + counts["psum_write_bytes"]) * 8 * ps,
          "dram": counts["dram_bytes"] * 8 * DRAM_PJ_PER_BIT}
    return {"uj": sum(pj.values()) * 1e-6, "components_uj": {k: v * 1e-6 for k, v in pj.items()}, "actions": counts}


def add_actions(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """The action counts of several timelines (a model's segments) together."""
    out: dict[str, Any] = {"macs": dict.fromkeys(MAC_PJ, 0), **dict.fromkeys(_COUNTS, 0)}
    for p in parts:
        for key, v in p.items():
            if key == "macs":
                for d, x in v.items():
                    out["macs"][d] += x
            else:
                out[key] += v
    return out


def energy(timelines: Timeline | list[Timeline], config: CoreConfig | None = None) -> dict[str, Any]:
    """Energy of one timeline or of a model's segments (docs/area_energy.md); `config` defaults to
    the timelines' own."""
    tls = timelines if isinstance(timelines, list) else [timelines]
    config = config or (tls[0].config if tls else CoreConfig())
    return energy_of(add_actions([actions(t) for t in tls]), config)
