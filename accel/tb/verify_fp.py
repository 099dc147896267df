"""`accel verify fp`: the rtl/fp blocks against accel.model.fp, bit for bit, on both simulators.

The stimulus, the expected results and the coverage bins all come from here; sim/test_fp.py
(the cocotb bench) writes them to `$readmemh` files that sim/fp_top.v walks through one vector
per clock, counting mismatches in Verilog, so that volume runs at simulator speed.

Every run applies, per operation, the directed set (every special class crossed with every
other: signed zeros, subnormals, normals, infinities, quiet and signalling NaNs, ties), the
exhaustive set where one is defined (all 65536 bf16 patterns for bf16_to_fp32; every bf16
pattern with the dropped half at, just below and above the tie for fp32_to_bf16; only with
``exhaustive``) and ``n`` random vectors that mix uniform bit patterns with operands whose
exponents put results near cancellation, underflow and overflow.

    accel verify fp --sim verilator --op fma --vectors 100000 --seed 3
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from accel.model import fp

REPO = Path(__file__).resolve().parents[2]
SOURCES = sorted(str(p) for p in (REPO / "rtl" / "fp").glob("*.v")) + [str(REPO / "sim" / "fp_top.v")]
TOPLEVEL = "fp_top"
TEST_MODULE = "test_fp"
# Memory depth of fp_top per simulator (vectors beyond it run in several loads).
DEPTH_LOG2 = {"icarus": 16, "verilator": 20}
# Random vectors per operation when --vectors is not given.
DEFAULT_RANDOM = {"icarus": 2_000, "verilator": 1_000_000}
BF16_MUL_VOLUME = 1 << 20  # bf16_mul's random count on Verilator by default


@dataclass(frozen=True)
class Op:
    """One operation of sim/fp_top.v: its `op` code, operand kind and model function."""

    code: int
    kind: str  # "f32", "f32x2", "f32x3", "bf16", "bf16x2", "i32"
    model: Callable[..., np.ndarray]


def _cmp(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    lt, le, eq = fp.lt(a, b), fp.le(a, b), fp.eq(a, b)
    return (lt.astype(np.uint32) << 2) | (le.astype(np.uint32) << 1) | eq.astype(np.uint32)


OPS: dict[str, Op] = {
    "add": Op(0, "f32x2", fp.add),
    "sub": Op(1, "f32x2", fp.sub),
    "mul": Op(2, "f32x2", fp.mul),
    "fma": Op(3, "f32x3", fp.fma),
    "min": Op(4, "f32x2", fp.minimum),
    "max": Op(5, "f32x2", fp.maximum),
    "cmp": Op(6, "f32x2", _cmp),
    "fp32_to_bf16": Op(7, "f32", fp.fp32_to_bf16),
    "bf16_to_fp32": Op(8, "bf16", fp.bf16_to_fp32),
    "bf16_mul": Op(9, "bf16x2", fp.bf16_mul),
    "int32_to_fp32": Op(10, "i32", lambda a: fp.int32_to_fp32(a.view(np.int32))),
    "fp32_to_int32": Op(11, "f32", fp.fp32_to_int32),
    "fp32_to_int8": Op(12, "f32", fp.fp32_to_int8),
}
ARITY = {"f32": 1, "f32x2": 2, "f32x3": 3, "bf16": 1, "bf16x2": 2, "i32": 1}

# ---------------------------------------------------------------------------------------------
# Operand classes (coverage bins are their crosses)
# ---------------------------------------------------------------------------------------------

FP_CLASSES = ("+0", "-0", "+sub", "-sub", "+norm", "-norm", "+inf", "-inf", "qnan", "snan")
INT_CLASSES = ("0", "+exact", "-exact", "+inexact", "-inexact")


def classify(kind: str, x: np.ndarray) -> np.ndarray:
    """Class index of each operand (into FP_CLASSES, or INT_CLASSES for int32 operands)."""
    x = np.asarray(x, dtype=np.uint32).astype(np.int64)
    if kind == "i32":
        i = np.where(x >= 1 << 31, x - (1 << 32), x)
        exact = np.abs(i) <= 1 << 24
        return np.select([i == 0, exact & (i > 0), exact, i > 0], [0, 1, 2, 3], 4)
    if kind.startswith("bf16"):
        x = x << 16
    sign = x >> 31
    exp = (x >> 23) & 0xFF
    frac = x & 0x7FFFFF
    quiet = (frac >> 22) & 1
    return np.select(
        [(exp == 255) & (frac == 0), exp == 255, (exp == 0) & (frac == 0), exp == 0],
        [6 + sign, np.where(quiet == 1, 8, 9), sign, 2 + sign],
        4 + sign,
    )
