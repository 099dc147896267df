"""The PE array's cost: the shapes its instructions stream, for the PETimeline rules.

The schedule applies accel.model.pe_array.PETimeline's rules (docs/pe_array.md, "Cycles"): a load of
K x N weights writes one row per cycle on the load bus, [L, L + K), after the most recent swap; a
matmul streams M vectors on the stream port, [S, S + M), after its weights are loaded, and its last
result is in PSUM R + C - 2 cycles later; the sparse forms stream like the dense ones with the
compressed weights' rows.
"""

from __future__ import annotations

from accel.config import CoreConfig
from accel.isa.encoding import Instruction


class WeightShapes:
    """The weights' shape as the PE queue goes, to time each PE instruction in program order."""

    def __init__(self) -> None:
        self.loaded: tuple[int, int] | None = None  # (K, N) of the most recent load

    def step(self, ins: Instruction, config: CoreConfig) -> tuple[int, int, int, bool]:
        """(K rows, N columns, M moving vectors, is a load) of a PE instruction; ValueError when a matmul
        does not match the loaded weights (the functional run reports the same)."""
        ops = ins.ops
        m = ins.mnemonic
        if m in ("pe.load_weights", "pe.load_sparse"):
            src = ops["src"] if m == "pe.load_weights" else ops["values"]
            self.loaded = (src.pcount, src.free_size)
            return src.pcount, src.free_size, 0, True
        if self.loaded is None:
            raise ValueError("no weights loaded (a pe.load_weights or pe.load_sparse must come first)")
        k, n = self.loaded
        if m == "pe.matmul":
            src, dst = ops["src"], ops["dst"]
            if (src.pcount, dst.pcount) != (k, n):
                raise ValueError(f"matmul uses {src.pcount} x {dst.pcount} weights but {k} x {n} were loaded")
            return k, n, src.free_size, False
        if m == "pe.matmul_sparse":
            return k, n, ops["dst"].free_size, False
        raise ValueError(f"{m} is not a PE instruction the cost model knows")
