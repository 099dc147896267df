"""Sparse multiplier: accel.kernels.sparse agrees with accel.model.sparse bit for bit and cycle for cycle.

Random sequences of sparse loads (patterns changing between loads) and matmuls with PSUM accumulate on
random small arrays, int8 extremes and bf16 specials (inf, NaN payloads, subnormals, -0) in weights and
moving data, random (also repeated) indices; plus the emulator's fast whole-tile function up to K = 512.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accel.kernels import sparse as kern
from accel.model import sparse as model

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PATTERNS = [(1, 2), (2, 4), (1, 4), (2, 8), (4, 8), (4, 16), (3, 5)]
BF16_SPECIAL = np.array([0x7F80, 0xFF80, 0x7FC0, 0x7F81, 0x0000, 0x8000, 0x0001, 0x8001, 0x7F7F, 0x3F80],
                        dtype=np.uint16)


def values(rng: np.random.Generator, shape: tuple[int, ...], bf16: bool, special: float) -> np.ndarray:
    if bf16:
        a = (rng.standard_normal(shape).astype(np.float32).view(np.uint32) >> 16).astype(np.uint16)
        pick = BF16_SPECIAL
    else:
        a = rng.integers(-128, 128, size=shape).astype(np.int8)
        pick = np.array([-128, 127, 0, -1], np.int8)
    mask = rng.random(shape) < special
    a[mask] = rng.choice(pick, size=int(mask.sum()))
    return a


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), rows=st.integers(1, 9), cols=st.integers(1, 6), bf16=st.booleans(),
       n_ops=st.integers(1, 6), special=st.sampled_from([0.0, 0.2]))
def test_cycle_accurate_kernel_matches_model(seed, rows, cols, bf16, n_ops, special) -> None:
    rng = np.random.default_rng(seed)
    width = 12
    ops: list = []
    weights = None
    for _ in range(n_ops):
        if weights is None or rng.random() < 0.4:
            fitting = [p for p in PATTERNS if p[0] <= rows]
            n, m = fitting[rng.integers(len(fitting))]
            k = n * int(rng.integers(1, rows // n + 1))
            c = int(rng.integers(1, cols + 1))
            weights = model.LoadSparse(values(rng, (k, c), bf16, special), rng.integers(0, m, (k, c)).astype(np.uint8),
                                       n, m)
            ops.append(weights)
        mv = int(rng.integers(1, 5))
        x = values(rng, (weights.values.shape[0] // weights.n * weights.m, mv), bf16, special)
        ops.append(model.MatmulSparse(x, int(rng.integers(0, width - mv + 1)), bool(rng.random() < 0.5)))
    psum = rng.integers(0, 2**32, (cols, width), dtype=np.uint64).astype(np.uint32)
    if not bf16:
        psum = psum.view(np.int32)
    want = model.run_ops(ops, rows, cols, psum)
    got = kern.run_ops(ops, rows, cols, psum)
    assert (got.psum == want.psum).all()
    assert got.spans == want.spans and got.cycles == want.cycles
    starts = [s for (s, _), op in zip(want.spans, ops, strict=True) if isinstance(op, model.MatmulSparse)]
    firsts = [rc[0] for rc, op in zip(got.row_cycles, ops, strict=True) if isinstance(op, model.MatmulSparse)]
    assert firsts == [s + rows + cols - 2 for s in starts]  # vector 0 lands at S + R + C - 2


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), pattern=st.sampled_from(PATTERNS), groups=st.integers(1, 128),
       cols=st.integers(1, 16), mv=st.integers(1, 8), bf16=st.booleans())
def test_fast_whole_tile_matches_model(seed, pattern, groups, cols, mv, bf16) -> None:
    rng = np.random.default_rng(seed)
    n, m = pattern
    groups = min(groups, 512 // m)
    v = values(rng, (groups * n, cols), bf16, 0.1)
    idx = rng.integers(0, m, (groups * n, cols)).astype(np.uint8)
    x = values(rng, (groups * m, mv), bf16, 0.1)
    assert (kern.matmul_sparse(v, idx, x, n, m) == model.matmul_sparse(v, idx, x, n, m)).all()
