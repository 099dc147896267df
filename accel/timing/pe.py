"""The PE array's cost: the shapes its instructions stream, for the PETimeline rules.

The schedule applies accel.model.pe_array.PETimeline's rules (docs/pe_array.md, "Cycles"): a load of
K x N weights writes one row per cycle on the load bus, [L, L + K), after the most recent swap; a
matmul streams M vectors on the stream port, [S, S + M), after its weights are loaded, and its last
result is in PSUM R + C - 2 cycles later; the sparse forms stream like the dense ones with the
compressed weights' rows.
"""

from __future__ import annotations

import numpy as np

from accel.isa.encoding import Instruction


def shape(ins: Instruction) -> tuple[bool, int, int, int, int, int]:
    """(is a load, K rows, N columns, M moving vectors, K and N the matmul needs) of one PE
    instruction on its own: a load gives its K x N (M = 0, needs -1); a dense matmul its M and the
    K x N weights it must find loaded; a sparse matmul its M and needs -1 (any shape). ValueError for
    an instruction the cost model does not know."""
    ops = ins.ops
    m = ins.mnemonic
    if m in ("pe.load_weights", "pe.load_sparse"):
        src = ops["src"] if m == "pe.load_weights" else ops["values"]
        return True, src.pcount, src.free_size, 0, -1, -1
    if m == "pe.matmul":
        return False, 0, 0, ops["src"].free_size, ops["src"].pcount, ops["dst"].pcount
    if m == "pe.matmul_sparse":
        return False, 0, 0, ops["dst"].free_size, -1, -1
    raise ValueError(f"{m} is not a PE instruction the cost model knows")


def weights(is_load: np.ndarray, k: np.ndarray, n: np.ndarray, need_k: np.ndarray,
            need_n: np.ndarray) -> tuple[np.ndarray, np.ndarray, int, str]:
    """The PE queue in program order (arrays over its instructions, from `shape`): the K x N of the
    weights each one streams (a load: its own), and the position of the first matmul that finds no
    weights or weights of another shape with the reason (-1, "" when none), which the functional run
    reports the same way."""
    pos = np.where(is_load, np.arange(is_load.size), -1)
    np.maximum.accumulate(pos, out=pos)
    last = np.maximum(pos, 0)
    kk, nn = k[last], n[last]
    missing = pos < 0
    wrong = ~is_load & ~missing & (need_k >= 0) & ((need_k != kk) | (need_n != nn))
    bad = np.flatnonzero(missing | wrong)
    if not bad.size:
        return kk, nn, -1, ""
    j = int(bad[0])
    if missing[j]:
        return kk, nn, j, "no weights loaded (a pe.load_weights or pe.load_sparse must come first)"
    return kk, nn, j, f"matmul uses {need_k[j]} x {need_n[j]} weights but {kk[j]} x {nn[j]} were loaded"
