"""Cycle-accurate simulation of the dense and sparse PE arrays, for architects (notebooks/01, 04).

The public home of the register-level simulators in accel.kernels (docs/pe_array.md, docs/sparse.md):
they step every PE register of an R x C array clock by clock and return PSUM, (start, end) of every
operation, total cycles, utilization and the cycle each output row reached PSUM; the dense one can
also record every register on every cycle. Their cycles equal the formula of
accel.model.pe_array.PETimeline and their results the golden model's, bit for bit
(tests/equivalence). Operations are the model's: LoadWeights/Matmul (dense), LoadSparse/MatmulSparse.

    from accel.tools import pe_sim
    sim = pe_sim.simulate([pe_sim.LoadWeights(w), pe_sim.Matmul(x)], 4, 4, psum, trace=True)
    sim.cycles, sim.spans, sim.row_cycles, sim.trace["psum"]
"""

from __future__ import annotations

import numpy as np

from accel.kernels import pe_array as _dense
from accel.kernels import sparse as _sparse
from accel.model.pe_array import LoadWeights, Matmul, PERun
from accel.model.sparse import LoadSparse, MatmulSparse

DenseSimulation = _dense.Simulation
SparseSimulation = _sparse.Simulation

__all__ = ["DenseSimulation", "LoadSparse", "LoadWeights", "Matmul", "MatmulSparse", "PERun", "SparseSimulation",
           "simulate", "simulate_sparse"]


def simulate(ops: list[LoadWeights | Matmul], rows: int, cols: int, psum: np.ndarray,
             trace: bool = False) -> DenseSimulation:
    """Run dense PE operations clock by clock on a rows x cols array, on a copy of `psum`
    ([cols, width] int32 for int8 weights, binary32 bits as uint32 for bf16 weights).

    With trace=True, `.trace` holds the registers at the end of every cycle: x, en, swap, w_active,
    w_shadow, psum as [cycles, rows, cols] and the de-skewed outputs `out` as [cycles, cols]."""
    return _dense.run_ops(ops, rows, cols, psum, trace=trace)


def simulate_sparse(ops: list[LoadSparse | MatmulSparse], rows: int, cols: int, psum: np.ndarray) -> SparseSimulation:
    """Run N:M sparse PE operations clock by clock on a rows x cols sparse array (a copy of `psum`)."""
    return _sparse.run_ops(ops, rows, cols, psum)
